// Named reports (`dnslens report <name>`). Each report module in this folder declares its queries,
// each with the tables that can answer it, cheapest first; this file picks the table for the
// window and filters, binds every value as a query parameter and returns the rows, with their
// column metadata, for the CLI (render.ts) or any other page to show.
//
// A rollup answers only when it gives the numbers DNS_LOG would: the window must start and end on
// its periods (hours and days in the zone the store's rollups follow), and every filter must be a
// column it keeps. Otherwise the query reads DNS_LOG.
import { isIP } from 'node:net';
import type { Reader } from '../component.js';
import { ConfigError } from '../options.js';
import { clickhouseError } from './sql.js';
import { fill, reportSql, section as sqlSection, storeNames } from './sql-files.js';
import { aligned, parseTime, storeZone, utcText, type Period } from './time.js';

/** How a column's values are shown: counts, shares (0..1), other numbers, microseconds, UTC times. */
export type Kind = 'text' | 'count' | 'share' | 'number' | 'micros' | 'time';

export interface Column {
  name: string;
  title: string;
  kind: Kind;
}

/** A column; its title is its name in words unless given. */
export const col = (name: string, kind: Kind = 'count', title = name.replace(/_/g, ' ')): Column => ({ name, title, kind });

/** A table one query can read. */
export interface Source {
  table: string; // DNS_LOG, a rollup, or a family of rollups: 'dns_traffic_{period}'
  sql: string; // the query's section in the report's SQL file
  // The column the window applies to. 'Week': a weekly rollup read per day (its section ARRAY JOINs
  // the days of a map as Day): the window applies to Day, and to Week so that only its weeks are read.
  time: 'PacketTime' | 'Time' | 'Day' | 'Week';
  periods?: Period[]; // a rollup's periods, coarsest first; none: DNS_LOG
  serverAddress?: boolean; // keeps the DNS server's address (so --server ADDRESS can filter it)
}

/** One query of a report; its SQL is in clickhouse/reports/<report name>.sql. */
export interface Query {
  name: string;
  title: string;
  columns: Column[];
  sources: Source[]; // cheapest first, DNS_LOG last
  logOnly?: string; // why no rollup answers it at all
}

export type Value = string | number | null;

/** One query's answer: its rows, and the table it read and why. */
export interface Section {
  name: string;
  title: string;
  columns: Column[];
  rows: Record<string, Value>[];
  table: string;
  why: string;
}

export interface ReportResult {
  report: string;
  timezone: string;
  since: string | null; // the window, ISO UTC; null: open
  until: string | null;
  sections: Section[];
}

/** What a report is given. */
export interface ReportArgs {
  since?: string; // absolute or relative (parseTime)
  until?: string;
  server?: string; // a capture's --serverName, or a DNS server address
  client?: string; // a client address, or a prefix such as 10.1.2.0/24
  limit?: number; // rows per list, default 10
  by?: string;
  lookback?: string;
  timezone?: string; // the report's zone; default the store's
  logOnly?: boolean; // read DNS_LOG even where a rollup answers (tests compare the two)
  now?: number; // for relative times
}

/** What a report module's run() works with. */
export interface Context {
  readonly by: string;
  readonly zone: string;
  readonly since: number | null;
  readonly until: number | null;
  readonly args: ReportArgs;
  /** Run one query; from: read from there instead of since (new-domains' look-back). */
  section(q: Query, from?: number): Promise<Section>;
}

export interface NamedReport {
  name: string;
  description: string; // one line for `dnslens report --help`
  by?: readonly string[]; // the --by values it takes, its default first
  defaultSince?: string; // when --since is not given
  run(ctx: Context): Promise<Section[]>;
  draw?(result: ReportResult): string; // the terminal's picture, instead of tables
}

/** DNS_LOG, read with section sql: it answers any window and filter. */
export const LOG = (sql: string): Source => ({ table: 'DNS_LOG', sql, time: 'PacketTime', serverAddress: true });

/** A rollup (or a family: 'dns_traffic_{period}') in the given periods, coarsest first. */
export function rollup(table: string, sql: string, periods: Period[], time: Source['time'] = 'Time', serverAddress = false): Source {
  return { table, sql, time, periods, serverAddress };
}

/** Where a query per client reads: per address only DNS_LOG answers; per prefix the client rollups too. */
export function perClient(by: string, rollupSql: string, logSql: string): Pick<Query, 'sources' | 'logOnly'> {
  return {
    sources: by === 'address' ? [LOG(logSql)] : [rollup('dns_clients_{period}', rollupSql, ['day', 'hour', 'minute']), LOG(logSql)],
    logOnly: 'client addresses are only in DNS_LOG (the rollups keep prefixes: --by prefix)',
  };
}

/** A report of one query, which may depend on --by and the other arguments. */
export function oneQuery(r: Omit<NamedReport, 'run'> & { query: (ctx: Context) => Query }): NamedReport {
  const { query, ...rest } = r;
  return { ...rest, run: async (ctx) => [await ctx.section(query(ctx))] };
}

/** The client rollups' prefix lengths, read from the view that cuts them (views.sql). */
async function clientPrefixes(store: Reader): Promise<{ v4: number; v6: number }> {
  const rows = await store.query<{ q: string }>(
    "SELECT as_select AS q FROM system.tables WHERE database = currentDatabase() AND name = 'dns_clients_minute_mv'",
  );
  const q = rows[0]?.q ?? '';
  return { v4: Number(/IPv4CIDRToRange\(\w+\.ClientIPv4, (\d+)\)/.exec(q)?.[1] ?? 24), v6: Number(/IPv6CIDRToRange\(\w+\.ClientIPv6, (\d+)\)/.exec(q)?.[1] ?? 48) };
}

// A client given as '10.1.2.0/24' or '2001:db8::/48'.
function isPrefix(v: string): boolean {
  const m = /^(.+)\/(\d{1,3})$/.exec(v);
  return m !== null && isIP(m[1]) !== 0 && Number(m[2]) <= (isIP(m[1]) === 4 ? 32 : 128);
}

// The filters, as SQL over bound parameters. Text that is no address is compared as text, so any
// value is only ever data.
function filters(a: ReportArgs): string[] {
  const out: string[] = [];
  if (a.server !== undefined) out.push(isIP(a.server) ? '{{server_ip}} = toIPv6({server:String})' : 'Server = {server:String}');
  if (a.client !== undefined) {
    out.push(isIP(a.client) ? 'ClientIP = toIPv6({client:String})' : isPrefix(a.client) ? 'isIPAddressInRange(Client, {client:String})' : 'Client = {client:String}');
  }
  return out;
}

function timeRange(col: Source['time'], from: number | null, until: number | null): string[] {
  if (col === 'Week') {
    const day = (p: string) => `toDate({${p}:DateTime64(6, 'UTC')}, {tz:String})`;
    const weeks = [...(from !== null ? [`Week >= toStartOfWeek(${day('from')}, 1)`] : []), ...(until !== null ? [`Week < ${day('until')}`] : [])];
    return [...weeks, ...timeRange('Day', from, until)];
  }
  const at = (p: string) => (col === 'Day' ? `toDate({${p}:DateTime64(6, 'UTC')}, {tz:String})` : `{${p}:DateTime64(6, 'UTC')}`);
  const out: string[] = [];
  if (from !== null) out.push(`${col} >= ${at('from')}`);
  if (until !== null) out.push(`${col} < ${at('until')}`);
  return out;
}

interface Choice {
  source: Source;
  period: Period | null; // null: DNS_LOG
  table: string;
  why: string;
}

/** The first of q's sources, cheapest first, that answers: refusal says why a rollup cannot. */
function choose(q: Query, refusal: (s: Source, p: Period) => string | null, zone: string): Choice {
  let refused: string | null = null; // the last rollup's reason
  for (const source of q.sources) {
    for (const period of source.periods ?? [null]) {
      const no = period && refusal(source, period);
      if (no) {
        refused = no;
        continue;
      }
      const why = period
        ? `the window is whole ${period}s in ${zone}` + (refused ? `; ${refused.replace(/^the window /, 'it ')}` : '')
        : (refused ?? q.logOnly ?? '');
      return { source, period, table: source.table.replace('{period}', period ?? ''), why };
    }
  }
  throw new Error(`${q.name}: no table answers (DNS_LOG must come last)`);
}

/** Run a named report on a store. */
export async function runReport(store: Reader, report: NamedReport, args: ReportArgs): Promise<ReportResult> {
  const by = args.by ?? report.by?.[0] ?? '';
  if (args.by !== undefined && !report.by?.includes(args.by)) {
    throw new ConfigError('by', report.by ? `--by: "${args.by}" is not one of ${report.by.join(', ')} for ${report.name}` : `--by: ${report.name} takes none`);
  }
  const recorded = await storeZone(store);
  const zone = args.timezone ?? recorded;
  const now = args.now ?? Date.now();
  const sinceText = args.since ?? report.defaultSince;
  const since = sinceText === undefined ? null : parseTime(sinceText, 'since', zone, now);
  const until = args.until === undefined ? null : parseTime(args.until, 'until', zone, now);
  const serverIsAddress = args.server !== undefined && isIP(args.server) !== 0;
  try {
    const expressions = await storeNames(store);
    const params: Record<string, unknown> = { tz: zone, limit: args.limit ?? 10, ...(await clientPrefixes(store)), server: args.server, client: args.client };
    if (since !== null) params.since = utcText(since);
    if (until !== null) params.until = utcText(until);

    const section = async (q: Query, from: number | null = since): Promise<Section> => {
      const bounds = [from, since, until].filter((b): b is number => b !== null);
      const { source, period, table, why } = choose(
        q,
        (s, p) => {
          if (args.logOnly) return 'asked to read DNS_LOG';
          if (args.client !== undefined) return '--client is only in DNS_LOG (the rollups keep no client addresses)';
          if (serverIsAddress && !s.serverAddress) return `--server ${args.server} is an address, and ${s.table.replace('{period}', '*')} keeps server names only`;
          if (p !== 'minute' && zone !== recorded) return `the rollups' hours and days are ${recorded}'s, this report's are ${zone}'s`;
          if (!bounds.every((b) => aligned(b, p, zone))) return `the window does not start and end on whole ${p}s in ${zone}`;
          return null;
        },
        zone,
      );
      const sql = fill(sqlSection(report.name, source.sql), {
        ...expressions,
        ...Object.fromEntries(reportSql(report.name)),
        where: [...timeRange(source.time, from, until), ...filters(args)].join(' AND ') || '1',
        table,
        domain_key: by === 'name' ? 'Question' : 'Apex',
        client_key: period ? '{{client_prefix}}' : by === 'address' ? 'Client' : '{{client_prefix_log}}',
      });
      const rows = await store.query<Record<string, unknown>>(sql, from === null ? params : { ...params, from: utcText(from) });
      const out = rows.map((r) => Object.fromEntries(q.columns.map((c) => [c.name, value(r[c.name], c.kind)])));
      return { name: q.name, title: q.title, columns: q.columns, rows: out, table, why };
    };

    const sections = await report.run({ by, zone, since, until, args, section });
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return { report: report.name, timezone: zone, since: iso(since), until: iso(until), sections };
  } catch (err) {
    throw err instanceof ConfigError ? err : clickhouseError(err);
  }
}

// ClickHouse's JSON has 64-bit integers as strings, and NaN and infinities as null.
function value(v: unknown, kind: Kind): Value {
  if (v === null || v === undefined) return null;
  if (kind === 'text') return String(v);
  if (kind === 'time') return String(v).replace(' ', 'T') + 'Z';
  return Number(v);
}
