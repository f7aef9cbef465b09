// Events as rows of COPY's text format (tab between columns, \N for NULL, backslash escapes): what
// `COPY dns_queries_stage (...) FROM STDIN` reads. PostgreSQL text cannot hold NUL, so a NUL
// character becomes the four characters \000 (RFC 1035 style, as names escape other bytes);
// everything else, quotes, backslashes and any Unicode included, is stored exactly.
import { isIP } from 'node:net';
import type { DnsEvent } from '../../event.js';
import { rcodeName, typeName } from '../../dnsnames.js';
import { eventHash } from '../../hash.js';
import { formatJson } from '../format.js';
import type { SinkEncoder } from '../sink/writer.js';
import { apexOf } from '../clickhouse/columns.js';

/** The raw table's columns that a batch fills, in COPY order (full_query only with --psqlSaveFullQuery). */
export const COPY_COLUMNS = [
  'queried_at', 'server', 'qr', 'client_ip', 'client_port', 'server_ip', 'server_port', 'domain', 'apex_domain',
  'qtype', 'qtype_code', 'qclass', 'opcode', 'flags', 'response_rcode', 'rcode', 'cached', 'transport', 'ip_version',
  'message_id', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd', 'answer_count', 'authority_count', 'additional_count', 'size',
  'edns_udp_size', 'do_bit', 'ecs', 'response_time_us', 'unanswered', 'client_id', 'result', 'answer', 'upstream',
  'resolution', 'message_type', 'input_name', 'event_hash', 'raw_line',
] as const;
export const FULL_QUERY_COLUMN = 'full_query';

const NULL = '\\N';
const SPECIAL = /[\\\t\n\r\0]/;

/** A text value for COPY: backslash, tab, line breaks escaped; NUL as \000 (see above). */
export function copyText(s: string): string {
  if (!SPECIAL.test(s)) return s;
  let out = '';
  for (const c of s) {
    if (c === '\\') out += '\\\\';
    else if (c === '\t') out += '\\t';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\0') out += '\\\\000';
    else out += c;
  }
  return out;
}

const orNull = (s: string) => (s === '' ? NULL : copyText(s));
const bool = (b: boolean) => (b ? 't' : 'f');
const inet = (ip: string) => (ip !== '' && isIP(ip) !== 0 ? ip : NULL);

// Seconds as "2024-03-12 09:00:00" (UTC): events come in time order, so one second's text serves many.
let lastSec = -1;
let lastText = '';
function secondText(sec: number): string {
  if (sec !== lastSec) {
    lastSec = sec;
    lastText = new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ');
  }
  return lastText;
}

/** The event's time at microseconds, PostgreSQL's precision: "2024-03-12 09:00:00.005123+00". */
export function copyTime(ev: DnsEvent): string {
  return `${secondText(ev.timeSec)}.${String(Math.floor(ev.timeNsec / 1000)).padStart(6, '0')}+00`;
}

/** BIND's query-log flags: + or - (recursion desired), E (EDNS), T (TCP), D (DO), C (CD). */
export function bindFlags(ev: DnsEvent): string {
  return (ev.rd ? '+' : '-') + (ev.ednsPresent ? 'E' : '') + (ev.transport === 'tcp' ? 'T' : '') + (ev.ednsDo ? 'D' : '') + (ev.cd ? 'C' : '');
}

/** The event's stable identity: a log event's own hash, else one of the message's fields. */
export function identityOf(ev: DnsEvent): string {
  if (ev.eventHash !== '') return ev.eventHash;
  const key = `${ev.timeSec}.${ev.timeNsec}|${ev.server}|${ev.srcIp}|${ev.dstIp}|${ev.srcPort}|${ev.dstPort}|${ev.id}|${ev.qr ? 1 : 0}|${ev.qname}|${ev.qtype}|${ev.size}|${ev.transport}`;
  return eventHash([0x6470, 0x676c], 0, 0, key);
}

/** One event as one COPY line (with its line break). */
export function copyLine(ev: DnsEvent, fullQuery: boolean): string {
  const q = !ev.qr;
  const clientIp = q ? ev.srcIp : ev.dstIp;
  const serverIp = q ? ev.dstIp : ev.srcIp;
  const cached = ev.resolution === 'cached' || ev.resolution === 'stale';
  const result = ev.resolution !== '' ? ev.resolution : ev.qr ? rcodeName(ev.rcode) : '';
  const answer = ev.answers.length ? ev.answers.map((a) => a.data).join(', ') : '';
  const f = [
    copyTime(ev),
    copyText(ev.server),
    bool(ev.qr),
    inet(clientIp),
    clientIp === '' ? NULL : String(q ? ev.srcPort : ev.dstPort),
    inet(serverIp),
    serverIp === '' ? NULL : String(q ? ev.dstPort : ev.srcPort),
    copyText(ev.qname),
    copyText(apexOf(ev.qname)),
    copyText(typeName(ev.qtype)),
    String(ev.qtype),
    String(ev.qclass),
    String(ev.opcode),
    bindFlags(ev),
    ev.qr ? copyText(rcodeName(ev.rcode)) : NULL,
    ev.qr ? String(ev.rcode) : NULL,
    bool(cached),
    ev.transport,
    String(ev.ipVersion),
    String(ev.id),
    bool(ev.aa), bool(ev.tc), bool(ev.rd), bool(ev.ra), bool(ev.ad), bool(ev.cd),
    String(ev.anCount),
    String(ev.nsCount),
    String(ev.arCount),
    String(ev.size),
    String(ev.ednsUdpSize),
    bool(ev.ednsDo),
    orNull(ev.ednsClientSubnet),
    ev.responseTimeUs === null ? NULL : String(ev.responseTimeUs),
    bool(ev.unanswered),
    orNull(ev.clientId),
    orNull(result),
    orNull(answer),
    orNull(ev.upstream),
    orNull(ev.resolution),
    orNull(ev.messageType),
    orNull(ev.inputName),
    identityOf(ev),
    orNull(ev.rawLine),
  ];
  if (fullQuery) f.push(copyText(formatJson(ev)));
  return f.join('\t') + '\n';
}

/** The sink toolkit's encoder: events to COPY text, a batch at a time. */
export class CopyEncoder implements SinkEncoder {
  private parts: string[] = [];

  constructor(private readonly fullQuery = false) {}

  encode(events: readonly DnsEvent[]): void {
    for (const ev of events) {
      const line = copyLine(ev, this.fullQuery);
      this.parts.push(line);
      // Join now and then: a batch of many short strings costs more to hold than one long one.
      if (this.parts.length >= 4096) this.flushParts();
    }
  }

  private chunks: Uint8Array[] = [];

  private flushParts(): void {
    if (this.parts.length) this.chunks.push(Buffer.from(this.parts.join(''), 'utf8'));
    this.parts = [];
  }

  take(): Uint8Array[] {
    this.flushParts();
    const out = this.chunks;
    this.chunks = [];
    return out;
  }
}
