// `dnslens sql` and the end-of-run report: text for a terminal, from any store kind.
import type { Store } from './connection.js';
import { trimStatement } from './connection.js';

export type SqlFormat = 'table' | 'csv' | 'json' | 'tsv';

export interface ReportOptions {
  since?: Date | string; // PacketTime lower bound (inclusive)
  until?: Date | string; // PacketTime upper bound (exclusive)
  top?: number; // rows in each top list, default 10
}

// ---------------------------------------------------------------------------------------------
// Aligned text tables.

export interface Column {
  title: string;
  right?: boolean; // numbers
}

/** Columns padded to their widest cell, numbers right-aligned, a rule under the header. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => rows.reduce((w, r) => Math.max(w, width(r[i] ?? '')), width(c.title)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i] - width(cell)));
        return columns[i].right ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(columns.map((_, i) => r[i] ?? '')));
  return out.join('\n') + '\n';
}

/** Label/value lines, values in one column. */
export function formatPairs(pairs: readonly (readonly [string, string])[]): string {
  const w = pairs.reduce((m, [k]) => Math.max(m, width(k)), 0);
  return pairs.map(([k, v]) => `${k}${' '.repeat(w - width(k))}  ${v}`).join('\n') + '\n';
}

// Terminal width of a string: code points, so a UTF-8 name does not skew the columns.
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const NUMERIC = /^(Nullable\()?(LowCardinality\()?(U?Int\d+|Float\d+|Decimal)/;

// TabSeparated escapes: keep \n, \t and friends visible, undo only \\ and \'.
function unescapeTsv(s: string): string {
  return s.replace(/\\([\\'])/g, '$1');
}

// ---------------------------------------------------------------------------------------------
// dnslens sql

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

// ---------------------------------------------------------------------------------------------
// The end-of-run report.

function timeBound(v: Date | string, name: string): string {
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`${name}: not a time: ${String(v)}`);
  return `toDateTime64('${d.toISOString().replace('T', ' ').replace('Z', '')}', 9, 'UTC')`;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function share(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

function duration(sec: number): string {
  if (sec < 1) return `${Math.round(sec * 1000)} ms`;
  const d = Math.floor(sec / 86400);
  const h = Math.floor((sec % 86400) / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = Math.floor(sec % 60);
  const parts: string[] = [];
  if (d) parts.push(`${d}d`);
  if (h) parts.push(`${h}h`);
  if (m) parts.push(`${m}m`);
  if (s || parts.length === 0) parts.push(`${s}s`);
  return parts.join(' ');
}

// Names, not numbers, from the dictionaries (clickhouse/dictionaries); a store whose schema
// lacks one still gets its report, with numbers (RFC 3597 style) and no category.
async function lookups(store: Store): Promise<{ type: string; rcode: string; category: string }> {
  const rows = await store.query<{ name: string }>(
    "SELECT name FROM system.dictionaries WHERE database = currentDatabase() AND name IN ('dns_type', 'dns_response', 'domain_categories')",
  );
  const has = new Set(rows.map((r) => r.name));
  return {
    type: has.has('dns_type')
      ? "dictGetOrDefault('dns_type', 'Name', toUInt64(Type), concat('TYPE', toString(Type)))"
      : "concat('TYPE', toString(Type))",
    rcode: has.has('dns_response')
      ? "dictGetOrDefault('dns_response', 'Name', toUInt64(ResponseCode), concat('RCODE', toString(ResponseCode)))"
      : "concat('RCODE', toString(ResponseCode))",
    category: has.has('domain_categories') ? "dictGet('domain_categories', 'Category', Apex)" : "''",
  };
}

/** The short report: messages, time span, top domains and apex domains, rcodes, qtypes. */
export async function report(store: Store, opts: ReportOptions = {}): Promise<string> {
  const top = Math.max(1, Math.floor(opts.top ?? 10));
  const conds: string[] = [];
  if (opts.since !== undefined) conds.push(`PacketTime >= ${timeBound(opts.since, 'since')}`);
  if (opts.until !== undefined) conds.push(`PacketTime < ${timeBound(opts.until, 'until')}`);
  const where = conds.length ? `WHERE ${conds.join(' AND ')}` : '';

  try {
    const names = await lookups(store);
    const [totals] = await store.query<Record<string, string | number>>(
      `SELECT count() AS messages, countIf(QR = 0) AS queries, countIf(QR = 1) AS responses,
              uniqExact(Question) AS domains, uniqExact(ClientIP) AS clients,
              toString(min(PacketTime)) AS first, toString(max(PacketTime)) AS last,
              dateDiff('microsecond', min(PacketTime), max(PacketTime)) / 1e6 AS span
       FROM DNS_LOG ${where}`,
    );
    const messages = num(totals?.messages);
    if (messages === 0) return 'No DNS messages stored' + (where ? ' in that time range' : '') + '.\n';
    const queries = num(totals.queries);
    const responses = num(totals.responses);

    const domains = await store.query<Record<string, string | number>>(
      `SELECT Question AS domain, count() AS messages, countIf(QR = 0) AS queries, countIf(QR = 1) AS responses
       FROM DNS_LOG ${where} GROUP BY Question ORDER BY messages DESC, domain LIMIT ${top}`,
    );
    const apexes = await store.query<Record<string, string | number>>(
      `SELECT Apex AS apex, ${names.category} AS category, count() AS messages, uniqExact(Question) AS names
       FROM DNS_LOG ${where} GROUP BY Apex ORDER BY messages DESC, apex LIMIT ${top}`,
    );
    const rcodes = await store.query<Record<string, string | number>>(
      `SELECT ${names.rcode} AS rcode, count() AS responses
       FROM DNS_LOG ${where ? `${where} AND` : 'WHERE'} QR = 1 GROUP BY ResponseCode ORDER BY responses DESC, ResponseCode`,
    );
    const qtypes = await store.query<Record<string, string | number>>(
      `SELECT ${names.type} AS qtype, count() AS messages, countIf(QR = 0) AS queries
       FROM DNS_LOG ${where} GROUP BY Type ORDER BY messages DESC, Type LIMIT ${top}`,
    );

    const out: string[] = [];
    out.push(
      formatPairs([
        ['messages', count(messages)],
        ['queries', count(queries)],
        ['responses', count(responses)],
        ['distinct names', count(num(totals.domains))],
        ['clients', count(num(totals.clients))],
        ['first', `${totals.first} UTC`],
        ['last', `${totals.last} UTC`],
        ['span', duration(num(totals.span))],
      ]),
    );
    out.push(
      `Top ${top} domains\n` +
        formatTable(
          [{ title: 'domain' }, { title: 'messages', right: true }, { title: 'queries', right: true }, { title: 'responses', right: true }, { title: 'share', right: true }],
          domains.map((r) => [String(r.domain), count(num(r.messages)), count(num(r.queries)), count(num(r.responses)), share(num(r.messages), messages)]),
        ),
    );
    out.push(
      `Top ${top} apex domains\n` +
        formatTable(
          [{ title: 'apex' }, { title: 'category' }, { title: 'messages', right: true }, { title: 'names', right: true }, { title: 'share', right: true }],
          apexes.map((r) => [String(r.apex), String(r.category || '-'), count(num(r.messages)), count(num(r.names)), share(num(r.messages), messages)]),
        ),
    );
    out.push(
      'Response codes\n' +
        (rcodes.length
          ? formatTable(
              [{ title: 'rcode' }, { title: 'responses', right: true }, { title: 'share', right: true }],
              rcodes.map((r) => [String(r.rcode), count(num(r.responses)), share(num(r.responses), responses)]),
            )
          : '(no responses)\n'),
    );
    out.push(
      'Query types\n' +
        formatTable(
          [{ title: 'qtype' }, { title: 'messages', right: true }, { title: 'queries', right: true }, { title: 'share', right: true }],
          qtypes.map((r) => [String(r.qtype), count(num(r.messages)), count(num(r.queries)), share(num(r.messages), messages)]),
        ),
    );
    const latency = await latencySection(store, where, top);
    if (latency) out.push(latency);
    return out.join('\n');
  } catch (err) {
    throw clickhouseError(err);
  }
}

function micros(us: unknown): string {
  const v = num(us);
  if (!Number.isFinite(v)) return '-';
  return v < 1000 ? `${Math.round(v)} µs` : v < 1e6 ? `${(v / 1000).toFixed(1)} ms` : `${(v / 1e6).toFixed(2)} s`;
}

// Response times and unanswered queries (query/response matching); nothing when no pair was seen.
async function latencySection(store: Store, where: string, top: number): Promise<string> {
  const scope = `${where ? `${where} AND` : 'WHERE'} ((QR = 1 AND ResponseTimeUs IS NOT NULL) OR (QR = 0 AND Unanswered = 1))`;
  const select = `countIf(QR = 1) AS answered, countIf(QR = 0) AS unanswered,
                  quantilesIf(0.5, 0.95, 0.99)(ResponseTimeUs, QR = 1) AS q`;
  const [all] = await store.query<Record<string, unknown>>(`SELECT ${select} FROM DNS_LOG ${scope}`);
  const answered = num(all?.answered);
  const unanswered = num(all?.unanswered);
  if (answered + unanswered === 0) return '';
  const q = (r: Record<string, unknown>, i: number) => (num(r.answered) > 0 ? micros((r.q as unknown[])[i]) : '-');
  const servers = await store.query<Record<string, unknown>>(
    `SELECT if(ServerIPv6 = toIPv6('::'), IPv4NumToString(ServerIPv4), IPv6NumToString(ServerIPv6)) AS server, ${select}
     FROM DNS_LOG ${scope} GROUP BY server ORDER BY answered + unanswered DESC, server LIMIT ${top}`,
  );
  return (
    'Latency (queries paired with their responses)\n' +
    formatPairs([
      ['answered', count(answered)],
      ['unanswered', `${count(unanswered)} (${share(unanswered, answered + unanswered)})`],
      ['p50', q(all, 0)],
      ['p95', q(all, 1)],
      ['p99', q(all, 2)],
    ]) +
    '\nLatency by server\n' +
    formatTable(
      [{ title: 'server' }, { title: 'answered', right: true }, { title: 'unanswered', right: true }, { title: 'p50', right: true }, { title: 'p95', right: true }, { title: 'p99', right: true }],
      servers.map((r) => [String(r.server), count(num(r.answered)), share(num(r.unanswered), num(r.answered) + num(r.unanswered)), q(r, 0), q(r, 1), q(r, 2)]),
    )
  );
}
