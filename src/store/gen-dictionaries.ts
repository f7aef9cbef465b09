// Writes the number -> name TSV files in clickhouse/dictionaries/ from src/dnsnames.ts, so the
// store and the text outputs name types, classes, opcodes and rcodes the same way.
// Run after changing dnsnames.ts: node dist/src/store/gen-dictionaries.js [directory]
// (domain_categories.tsv is edited by hand and not touched here.)

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLASSES, OPCODES, RCODES, RR_TYPES } from '../dnsnames.js';
import { schemaRoot } from './migrate.js';

function tsv(rows: ReadonlyArray<readonly [number, string]>): string {
  const sorted = [...rows].sort((a, b) => a[0] - b[0]);
  return 'Id\tName\n' + sorted.map(([n, name]) => `${n}\t${name}\n`).join('');
}

/** File name -> content for every generated dictionary file. */
export function generatedDictionaries(): Map<string, string> {
  return new Map([
    ['dns_type.tsv', tsv(RR_TYPES)],
    ['dns_class.tsv', tsv(CLASSES)],
    ['dns_opcode.tsv', tsv(OPCODES)],
    ['dns_response.tsv', tsv(RCODES)],
  ]);
}

export function writeDictionaries(dir: string): string[] {
  const written: string[] = [];
  for (const [name, content] of generatedDictionaries()) {
    writeFileSync(join(dir, name), content);
    written.push(name);
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? join(schemaRoot(), 'dictionaries');
  for (const name of writeDictionaries(dir)) process.stdout.write(`wrote ${join(dir, name)}\n`);
}
