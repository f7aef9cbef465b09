// InfluxDB line protocol: one point per event, `measurement,tags fields timestamp`, in ns.
//
// Tags are what a dashboard groups by, so they are kept to values of bounded cardinality:
// direction (query|response), qtype and rcode (mnemonics), server (--serverName) and transport.
// The question name, the addresses and the numbers are fields (not indexed; a name per series
// would grow the index without bound). --influxOutputQnameTag makes qname a tag instead, for
// users who know their name count is small.
//
// InfluxDB keeps one point per series and timestamp: a second event with the same tags in the
// same nanosecond would overwrite the first. Captures have microsecond times (and logs seconds),
// so such events are moved apart by 1 ns each (see Collisions).
import { rcodeName, typeName } from '../../dnsnames.js';
import type { DnsEvent } from '../../event.js';
import type { Counters } from '../../stats.js';
import type { SinkEncoder } from '../sink/writer.js';

// Escapes from the line protocol reference: measurements escape commas and spaces; tag keys,
// tag values and field keys also equals signs; string field values escape double quotes and
// backslashes. In a name or tag InfluxDB takes a comma, space or equals sign after any backslash
// as escaped, and unescapes only those three, so every other backslash reads back as it is,
// except one at the very end (the separator after it would look escaped): see tagProblem.
export function escapeMeasurement(s: string): string {
  return s.replace(/[, ]/g, '\\$&');
}

export function escapeTag(s: string): string {
  return s.replace(/[,= ]/g, '\\$&');
}

export function escapeFieldString(s: string): string {
  return '"' + s.replace(/["\\]/g, '\\$&') + '"';
}

/** Why a tag value cannot go into line protocol as it is, or null when it can. */
export function tagProblem(s: string): string | null {
  if (/[\n\r]/.test(s)) return 'it holds a line break';
  if (s.endsWith('\\')) return 'it ends with a backslash';
  return null;
}

/** Why a measurement name cannot go into line protocol as it is, or null when it can. */
export function measurementProblem(s: string): string | null {
  if (s === '') return 'it is empty';
  if (s.startsWith('#')) return 'a line that starts with # is a comment';
  // InfluxDB 1.x unescapes a measurement twice (its series key is unescaped again when read).
  if (/\\([, ]|$)/.test(s)) return 'a backslash before a comma, a space or the end is not read back as written';
  return tagProblem(s);
}

export interface LineOptions {
  measurement: string; // checked with measurementProblem at start-up
  server: string; // --serverName (checked with tagProblem at open)
  qnameTag: boolean;
}

// Whether the event's qname goes in as a tag: asked for, and one that a tag carries exactly
// (not empty, no backslash line protocol would misread); otherwise it stays a field.
function qnameAsTag(ev: DnsEvent, o: LineOptions): boolean {
  return o.qnameTag && ev.qname !== '' && tagProblem(ev.qname) === null;
}

// The tag set of an event, keys in sorted order (what InfluxDB's docs advise for speed). Tag
// values must not be empty: an empty server name leaves its tag out.
function tags(ev: DnsEvent, o: LineOptions, qnameTag: boolean): string {
  let t = `,direction=${ev.qr ? 'response' : 'query'}`;
  if (qnameTag) t += `,qname=${escapeTag(ev.qname)}`;
  t += `,qtype=${typeName(ev.qtype)},rcode=${rcodeName(ev.rcode)}`;
  if (o.server !== '') t += `,server=${escapeTag(o.server)}`;
  return t + `,transport=${ev.transport}`;
}

// The field set. Client and resolver are the two ends as a DNS person names them: a query goes
// from the client to the resolver, a response the other way.
function fields(ev: DnsEvent, qnameTag: boolean): string {
  const client = ev.qr ? ev.dstIp : ev.srcIp;
  const resolver = ev.qr ? ev.srcIp : ev.dstIp;
  let f = qnameTag ? '' : `qname=${escapeFieldString(ev.qname)},`;
  f += `client=${escapeFieldString(client)},resolver=${escapeFieldString(resolver)}`;
  f += `,id=${ev.id}i,size=${ev.size}i,answers=${ev.anCount}i`;
  if (ev.responseTimeUs !== null) f += `,latency_us=${ev.responseTimeUs}i`;
  if (ev.unanswered) f += ',unanswered=true';
  if (ev.clientId !== '') f += `,client_id=${escapeFieldString(ev.clientId)}`;
  return f;
}

/**
 * The timestamps given to each series, so two events of one series never share a nanosecond.
 * Bounded: it remembers the last `limit` to 2 × `limit` stamps (two generations), enough for
 * events that come out of time order after query/response matching.
 */
export class Collisions {
  private recent = new Set<string>();
  private older = new Set<string>();
  moved = 0; // events given a later nanosecond

  constructor(private readonly limit = 50_000) {}

  /** The event's timestamp in ns as text, moved on by 1 ns while its series has that one. */
  stamp(series: string, sec: number, nsec: number): string {
    let ts = nsText(sec, nsec);
    if (this.has(series + ts)) {
      this.moved++;
      do {
        if (++nsec === 1e9) {
          nsec = 0;
          sec++;
        }
        ts = nsText(sec, nsec);
      } while (this.has(series + ts));
    }
    if (this.recent.size >= this.limit) {
      this.older = this.recent;
      this.recent = new Set();
    }
    this.recent.add(series + ts);
    return ts;
  }

  private has(key: string): boolean {
    return this.recent.has(key) || this.older.has(key);
  }
}

// Seconds and nanoseconds as one decimal number (beyond 2^53, so never through a float).
function nsText(sec: number, nsec: number): string {
  return sec === 0 ? String(nsec) : `${sec}${String(nsec).padStart(9, '0')}`;
}

/** One event's line, without the newline. */
export function eventLine(ev: DnsEvent, o: LineOptions, collisions: Collisions): string {
  const qnameTag = qnameAsTag(ev, o);
  const series = escapeMeasurement(o.measurement) + tags(ev, o, qnameTag);
  return `${series} ${fields(ev, qnameTag)} ${collisions.stamp(series, ev.timeSec, ev.timeNsec)}`;
}

/** The sink encoder: a batch is the events' lines, one per line. Counts the events it moved
 *  1 ns on as `moved`. */
export class LineEncoder implements SinkEncoder {
  private lines: string[] = [];
  private readonly collisions = new Collisions();

  constructor(
    private readonly opts: LineOptions,
    private readonly counters: Counters,
  ) {}

  encode(events: readonly DnsEvent[]): void {
    const before = this.collisions.moved;
    for (const ev of events) this.lines.push(eventLine(ev, this.opts, this.collisions));
    if (this.collisions.moved > before) this.counters.add('moved', this.collisions.moved - before);
  }

  take(): Uint8Array[] {
    const body = Buffer.from(this.lines.join('\n') + '\n', 'utf8');
    this.lines = [];
    return [body];
  }
}
