// Trains the character model of the DGA signal (clickhouse/signals/dga.sql) and writes it as
// clickhouse/dictionaries/dga_ngrams.tsv, which the store loads into the dga_ngrams dictionary.
//
// The model is P(next character | the two before it) over labels written in a-z, 0-9 and '-',
// with ^ before a label and $ after it, add-one smoothed over those 38 outcomes. It is trained on
// benign text only:
//   - the English words of Debian's wamerican package (/usr/share/dict/american-english, from
//     SCOWL; permissive licence by Kevin Atkinson and others: /usr/share/doc/wamerican/copyright);
//   - every label of the Public Suffix List (Debian's publicsuffix package,
//     /usr/share/publicsuffix/public_suffix_list.dat; MPL-2.0);
//   - the first label of each apex in clickhouse/dictionaries/domain_categories.tsv.
// A row per seen trigram (abc: ln P(c | ab)), and per seen two-character context (ab: ln P(any
// unseen c | ab)); a context never seen scores ln(1/38) for its next character.
//
// Run after changing the sources: apt-get install -y wamerican publicsuffix, then
// node dist/src/signals/train-ngrams.js [words] [suffix list] > clickhouse/dictionaries/dga_ngrams.tsv
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { schemaRoot } from '../store/migrate.js';

export const WORDS = '/usr/share/dict/american-english';
export const SUFFIXES = '/usr/share/publicsuffix/public_suffix_list.dat';
const ALPHABET = 38; // a-z, 0-9, '-', and the end of a label

/** The training labels: lowercase words of letters only, suffix labels and category apexes in the alphabet. */
export function trainingLabels(words: string, suffixes: string, categories: string): string[] {
  const out: string[] = [];
  for (const w of words.split('\n')) if (/^[a-z]{2,}$/.test(w)) out.push(w); // drops names (capitals), possessives and accents
  for (const line of suffixes.split('\n')) {
    const rule = line.trim().replace(/^[!*.]+/, '');
    if (rule === '' || rule.startsWith('//')) continue;
    for (const label of rule.split('.')) if (/^[a-z0-9-]{2,}$/.test(label)) out.push(label);
  }
  for (const line of categories.split('\n').slice(1)) {
    const label = line.split('\t')[0].split('.')[0];
    if (/^[a-z0-9-]{2,}$/.test(label)) out.push(label);
  }
  return out;
}

/** The model's TSV (Gram, LogP), sorted by gram. */
export function trainModel(labels: readonly string[]): string {
  const tri = new Map<string, number>();
  const ctx = new Map<string, number>();
  for (const label of labels) {
    const s = `^^${label}$`;
    for (let i = 0; i + 2 < s.length; i++) {
      const c = s.slice(i, i + 2);
      ctx.set(c, (ctx.get(c) ?? 0) + 1);
      tri.set(c + s[i + 2], (tri.get(c + s[i + 2]) ?? 0) + 1);
    }
  }
  const rows: [string, number][] = [];
  for (const [c, n] of ctx) rows.push([c, Math.log(1 / (n + ALPHABET))]);
  for (const [g, n] of tri) rows.push([g, Math.log((n + 1) / (ctx.get(g.slice(0, 2))! + ALPHABET))]);
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return 'Gram\tLogP\n' + rows.map(([g, p]) => `${g}\t${p.toFixed(4)}\n`).join('');
}

/** The model from the installed word list and suffix list. */
export function trainFromFiles(words = WORDS, suffixes = SUFFIXES): string {
  const categories = readFileSync(join(schemaRoot(), 'dictionaries', 'domain_categories.tsv'), 'utf8');
  return trainModel(trainingLabels(readFileSync(words, 'utf8'), readFileSync(suffixes, 'utf8'), categories));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(trainFromFiles(process.argv[2], process.argv[3]));
}
