// The reports' SQL lives in clickhouse/reports/, one file per report, in named sections
// ("-- name: totals" heads each one), so the CLI and the dashboard build (grafana/build.mjs)
// read the same text. Values reach ClickHouse as bound parameters ({since:DateTime64(9)});
// {{name}} marks an expression from names.sql, filled in here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reader } from '../component.js';
import { schemaRoot } from '../store/migrate.js';

const cache = new Map<string, ReadonlyMap<string, string>>();

/** The named sections of clickhouse/reports/<file>.sql (comments and blank edges dropped). */
export function reportSql(file: string, root = schemaRoot()): ReadonlyMap<string, string> {
  const path = join(root, 'reports', `${file}.sql`);
  let sections = cache.get(path);
  if (sections) return sections;
  const out = new Map<string, string>();
  let name: string | null = null;
  let lines: string[] = [];
  const close = () => {
    if (name !== null) out.set(name, lines.join('\n').trim().replace(/;$/, ''));
  };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const head = /^--\s*name:\s*([\w-]+)\s*$/.exec(line);
    if (head) {
      close();
      if (out.has(head[1])) throw new Error(`${path}: section ${head[1]} twice`);
      name = head[1];
      lines = [];
    } else if (!/^\s*--/.test(line)) lines.push(line);
  }
  close();
  sections = out;
  cache.set(path, sections);
  return sections;
}

/** One section; throws naming the file when it is missing. */
export function section(file: string, name: string, root?: string): string {
  const sql = reportSql(file, root).get(name);
  if (sql === undefined) throw new Error(`clickhouse/reports/${file}.sql has no section ${name}`);
  return sql;
}

/** The shared expressions of names.sql (qtype, rcode, category, provider, client, server, ...). */
export function names(root?: string): Record<string, string> {
  return Object.fromEntries(reportSql('names', root));
}

/** SQL with each {{name}} replaced by its expression, itself filled the same way (a few levels
 *  deep); an unknown name is an error, not left in. */
export function fill(sql: string, expressions: Readonly<Record<string, string>>, depth = 0): string {
  if (depth > 4) throw new Error(`expressions nested too deep (a cycle?) in: ${sql.slice(0, 80)}`);
  return sql.replace(/\{\{(\w+)\}\}/g, (_, n: string) => {
    const e = expressions[n];
    if (e === undefined) throw new Error(`no expression {{${n}}}`);
    return fill(e, expressions, depth + 1);
  });
}

// A store whose schema lacks a dictionary still gets its reports: numbers (RFC 3597 style) instead
// of names, and no category.
const FALLBACK: Record<string, [string, string]> = {
  qtype: ['dns_type', "concat('TYPE', toString(Type))"],
  rcode: ['dns_response', "concat('RCODE', toString(ResponseCode))"],
  category: ['domain_categories', "''"],
  provider: ['domain_categories', "''"],
  cache_priority: ['domain_categories', 'toUInt8(5)'],
};

/** names() for this store: the dictionaries it lacks replaced by their fallbacks. */
export async function storeNames(store: Reader): Promise<Record<string, string>> {
  const rows = await store.query<{ name: string }>(
    "SELECT name FROM system.dictionaries WHERE database = currentDatabase() AND name IN ('dns_type', 'dns_response', 'domain_categories')",
  );
  const has = new Set(rows.map((r) => r.name));
  const out = names();
  for (const [name, [dictionary, fallback]] of Object.entries(FALLBACK)) if (!has.has(dictionary)) out[name] = fallback;
  return out;
}
