// `npm run docs`: rewrite the CLI reference section of README.md (or the file given as argument).

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cliReference, replaceReference } from './reference.js';

const file = process.argv[2] ?? 'README.md';
const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
const after = replaceReference(before, cliReference());
if (after === before) {
  console.log(`${file}: CLI reference already up to date`);
} else {
  writeFileSync(file, after);
  console.log(`${file}: CLI reference updated`);
}
