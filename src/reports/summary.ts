// The end-of-run report (also `dnslens report`): messages, time span, top domains and apex
// domains, rcodes, qtypes and latency, as text for a terminal, from any store kind.
import type { Reader } from '../component.js';
import { clickhouseError } from './sql.js';
import { fill, section, storeNames } from './sql-files.js';
import { count, formatPairs, formatTable, micros, num, share } from './table.js';
import { localTime, storeZone, timeBound } from './time.js';

export interface ReportOptions {
  since?: Date | string; // PacketTime lower bound (inclusive): absolute, or relative ('24h', '7d')
  until?: Date | string; // PacketTime upper bound (exclusive)
  top?: number; // rows in each top list, default 10
  timezone?: string; // IANA zone of the times shown (--timezone), default UTC
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

/** The short report: messages, time span, top domains and apex domains, rcodes, qtypes, latency. */
export async function summaryReport(store: Reader, opts: ReportOptions = {}): Promise<string> {
  const top = Math.max(1, Math.floor(opts.top ?? 10));
  const tz = opts.timezone ?? (await storeZone(store));
  const params = { since: timeBound(opts.since, 'since', tz), until: timeBound(opts.until, 'until', tz), top };
  const ranged = opts.since !== undefined || opts.until !== undefined;
  try {
    const expressions = await storeNames(store);
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
