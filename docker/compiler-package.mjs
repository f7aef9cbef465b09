// Prints the npm spec (name@version) of the TypeScript compiler's native package for this
// platform, as recorded in package-lock.json. TypeScript 7 ships its compiler as per-platform
// optional packages, so an install without optional packages (which keeps the ~550 MB embedded
// ClickHouse engine out of the image build) has to add this one back.
import { readFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync(process.argv[2] ?? 'package-lock.json', 'utf8'));
const name = `@typescript/typescript-${process.platform}-${process.arch}`;
const entry = lock.packages?.[`node_modules/${name}`];
if (!entry?.version) {
  process.stderr.write(`compiler-package: package-lock.json has no ${name}: this platform has no TypeScript compiler build\n`);
  process.exit(1);
}
process.stdout.write(`${name}@${entry.version}\n`);
