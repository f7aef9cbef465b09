// `dnslens sql`: ad hoc SQL on any store kind, printed as an aligned table or in a ClickHouse format.
import type { Store } from '../store/connection.js';
import { trimStatement } from '../store/connection.js';
import { formatTable } from './table.js';

export type SqlFormat = 'table' | 'csv' | 'json' | 'tsv';

const NUMERIC = /^(Nullable\()?(LowCardinality\()?(U?Int\d+|Float\d+|Decimal)/;

// TabSeparated escapes: keep \n, \t and friends visible, undo only \\ and \'.
function unescapeTsv(s: string): string {
  return s.replace(/\\([\\'])/g, '$1');
}

const OWN_FORMAT = /\bFORMAT\s+\w+\s*;?\s*$/i;

const FORMATS: Record<Exclude<SqlFormat, 'table'>, string> = {
  csv: 'CSVWithNames',
  tsv: 'TSVWithNames',
  json: 'JSONEachRow',
};

/** A ClickHouse failure as an Error whose message is ClickHouse's own. */
export function clickhouseError(err: unknown): Error {
  const e = err as { message?: string; code?: string; type?: string };
  const msg = (e?.message ?? String(err)).trim();
  if (e?.type && e.code) return new Error(`ClickHouse error ${e.code} (${e.type}): ${msg}`);
  return new Error(msg);
}

/**
 * Run ad hoc SQL and return its output: an aligned table by default, else CSV, JSON lines
 * or TSV with a header. SQL that names its own FORMAT gets exactly that output.
 */
export async function runSql(store: Store, sql: string, format: SqlFormat = 'table'): Promise<string> {
  const statement = trimStatement(sql);
  if (statement.trim() === '') throw new Error('no SQL given');
  try {
    if (OWN_FORMAT.test(statement)) return await store.queryText(statement, 'TabSeparated');
    if (format !== 'table') {
      const f = FORMATS[format];
      if (!f) throw new Error(`unknown format ${String(format)} (table, csv, json, tsv)`);
      return await store.queryText(statement, f);
    }
    const text = await store.queryText(statement, 'TabSeparatedWithNamesAndTypes');
    if (text === '') return '';
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const names = lines[0].split('\t').map(unescapeTsv);
    const types = (lines[1] ?? '').split('\t');
    const rows = lines.slice(2).map((l) => l.split('\t').map(unescapeTsv));
    return formatTable(
      names.map((title, i) => ({ title, right: NUMERIC.test(types[i] ?? '') })),
      rows,
    );
  } catch (err) {
    throw clickhouseError(err);
  }
}
