// The end-of-run report (also `dnslens report`): messages, time span, top domains and apex
// domains, rcodes, qtypes and latency, as text for a terminal, from any store kind.
import type { Reader } from '../component.js';
import { clickhouseError } from './sql.js';
import { fill, names, section } from './sql-files.js';
import { formatPairs, formatTable } from './table.js';

export interface ReportOptions {
  since?: Date | string; // PacketTime lower bound (inclusive)
  until?: Date | string; // PacketTime upper bound (exclusive)
  top?: number; // rows in each top list, default 10
  timezone?: string; // IANA zone of the times shown (--timezone), default UTC
}

/** A stored UTC time ('2024-03-12 09:00:00.005000') as wall-clock time in zone tz, its fraction kept. */
export function localTime(utc: string, tz: string): string {
  const d = new Date(utc.replace(' ', 'T') + 'Z');
  if (Number.isNaN(d.getTime())) return utc;
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(d);
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? '';
  const fraction = /\.\d+$/.exec(utc)?.[0] ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')}${fraction}`;
}

/** Zone tz's offset from UTC at instant ms, in ms (Intl's wall-clock parts read back as UTC). */
function offsetMs(ms: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const p = (t: string) => Number(parts.find((x) => x.type === t)?.value);
  return Date.UTC(p('year'), p('month') - 1, p('day'), p('hour'), p('minute'), p('second')) - Math.floor(ms / 1000) * 1000;
}

// A bound of the range as a DateTime64(6, 'UTC') parameter; null leaves that end open. A time
// without a zone ('2024-03-12 09:00') is wall-clock time in tz, the zone the report prints.
function timeBound(v: Date | string | undefined, name: string, tz: string): string | null {
  if (v === undefined) return null;
  let d = v instanceof Date ? v : new Date(v);
  const wall = typeof v === 'string' ? /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?)?$/.exec(v.trim()) : null;
  if (wall) {
    const [, y, mo, da, h = '0', mi = '0', se = '0', frac = ''] = wall;
    const asUtc = Date.UTC(+y, +mo - 1, +da, +h, +mi, +se) + Math.round(Number(frac || 0) * 1000);
    const guess = asUtc - offsetMs(asUtc, tz);
    d = new Date(asUtc - offsetMs(guess, tz)); // the offset at the instant itself (DST)
  }
  if (Number.isNaN(d.getTime())) throw new Error(`${name}: not a time: ${String(v)}`);
  return d.toISOString().replace('T', ' ').replace('Z', '');
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

// Names, not numbers, from the dictionaries (names.sql); a store whose schema lacks one still
// gets its report, with numbers (RFC 3597 style) and no category.
const FALLBACK: Record<string, [string, string]> = {
  qtype: ['dns_type', "concat('TYPE', toString(Type))"],
  rcode: ['dns_response', "concat('RCODE', toString(ResponseCode))"],
  category: ['domain_categories', "''"],
};

async function lookups(store: Reader): Promise<Record<string, string>> {
  const rows = await store.query<{ name: string }>(
    "SELECT name FROM system.dictionaries WHERE database = currentDatabase() AND name IN ('dns_type', 'dns_response', 'domain_categories')",
  );
  const has = new Set(rows.map((r) => r.name));
  const out = names();
  for (const [name, [dictionary, fallback]] of Object.entries(FALLBACK)) if (!has.has(dictionary)) out[name] = fallback;
  return out;
}

/** The zone the store's rollups are in (recorded by the migration), else UTC. */
async function storeZone(store: Reader): Promise<string> {
  const rows = await store
    .query<{ zone: string }>("SELECT argMax(checksum, applied_at) AS zone FROM dnslens_migrations WHERE name = 'timezone'")
    .catch(() => []);
  return rows[0]?.zone || 'UTC';
}

/** The short report: messages, time span, top domains and apex domains, rcodes, qtypes, latency. */
export async function summaryReport(store: Reader, opts: ReportOptions = {}): Promise<string> {
  const top = Math.max(1, Math.floor(opts.top ?? 10));
  const tz = opts.timezone ?? (await storeZone(store));
  const params = { since: timeBound(opts.since, 'since', tz), until: timeBound(opts.until, 'until', tz), top };
  const ranged = opts.since !== undefined || opts.until !== undefined;
  try {
    const expressions = await lookups(store);
    const q = <T = Record<string, string | number>>(name: string) => store.query<T>(fill(section('summary', name), expressions), params);
    const [totals] = await q('totals');
    const messages = num(totals?.messages);
    if (messages === 0) return 'No DNS messages stored' + (ranged ? ' in that time range' : '') + '.\n';
    const queries = num(totals.queries);
    const responses = num(totals.responses);
    const domains = await q('domains');
    const apexes = await q('apexes');
    const rcodes = await q('rcodes');
    const qtypes = await q('qtypes');

    const out: string[] = [];
    out.push(
      formatPairs([
        ['messages', count(messages)],
        ['queries', count(queries)],
        ['responses', count(responses)],
        ['distinct names', count(num(totals.domains))],
        ['clients', count(num(totals.clients))],
        ['time zone', tz],
        ['first', localTime(String(totals.first), tz)],
        ['last', localTime(String(totals.last), tz)],
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
    const latency = await latencySection(q);
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
async function latencySection(q: <T>(name: string) => Promise<T[]>): Promise<string> {
  const [all] = await q<Record<string, unknown>>('latency');
  const answered = num(all?.answered);
  const unanswered = num(all?.unanswered);
  if (answered + unanswered === 0) return '';
  const p = (r: Record<string, unknown>, i: number) => (num(r.answered) > 0 ? micros((r.q as unknown[])[i]) : '-');
  const servers = await q<Record<string, unknown>>('latency_by_server');
  return (
    'Latency (queries paired with their responses)\n' +
    formatPairs([
      ['answered', count(answered)],
      ['unanswered', `${count(unanswered)} (${share(unanswered, answered + unanswered)})`],
      ['p50', p(all, 0)],
      ['p95', p(all, 1)],
      ['p99', p(all, 2)],
    ]) +
    '\nLatency by server\n' +
    formatTable(
      [{ title: 'server' }, { title: 'answered', right: true }, { title: 'unanswered', right: true }, { title: 'p50', right: true }, { title: 'p95', right: true }, { title: 'p99', right: true }],
      servers.map((r) => [String(r.server), count(num(r.answered)), share(num(r.unanswered), num(r.answered) + num(r.unanswered)), p(r, 0), p(r, 1), p(r, 2)]),
    )
  );
}
