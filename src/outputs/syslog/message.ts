// Syslog messages for DNS events: the RFC 5424 header (or RFC 3164's), a body (the event's JSON
// line, or RFC 5424 structured data with the main fields), and the framing of the transport:
// one message per datagram over UDP (cut to a size every receiver takes, and counted), octet
// counting over TCP and TLS (RFC 6587 section 3.4.1: "LEN SP MSG", LEN in bytes).
import type { DnsEvent } from '../../event.js';
import type { Counters } from '../../stats.js';
import { ascii, ByteWriter } from '../format/bytes.js';
import { encodeJson } from '../format/json.js';
import { rfc3339Prefix, utcParts } from '../format/text.js';
import type { SinkEncoder } from '../sink/writer.js';

export const FORMATS = ['rfc5424', 'rfc3164'] as const;
export const BODIES = ['json', 'sd'] as const;
export type SyslogFormat = (typeof FORMATS)[number];
export type SyslogBody = (typeof BODIES)[number];

/** RFC 5424 section 6.2.1 facility names, by code. */
export const FACILITIES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

const SEVERITY_INFO = 6;

/** The SD-ID of the structured data body: a private one under IANA's example enterprise number
 *  (RFC 5612), as dnslens has no number of its own. */
export const SD_ID = 'dns@32473';

export interface MessageOptions {
  format: SyslogFormat;
  body: SyslogBody;
  facility: number; // 0..23
  hostname: string; // already sanitised (see headerField)
  appName: string;
  procId: string;
}

/** A header field: printable US-ASCII without spaces (others become '_'), at most max bytes; '-' when empty. */
export function headerField(s: string, max: number): string {
  const clean = s.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return clean === '' ? '-' : clean;
}

// RFC 5424 section 6.3.3: '"', '\' and ']' are escaped in a PARAM-VALUE.
const SD_UNSAFE = /["\\\]]/g;
function sdValue(s: string): string {
  return s.replace(SD_UNSAFE, '\\$&');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** Writes one event's message, unframed. */
export class MessageWriter {
  private readonly pri: Uint8Array;
  private readonly after5424: Uint8Array[]; // " HOST APP PROCID " then "query "/"response "
  private readonly tag3164: Uint8Array;

  constructor(private readonly opts: MessageOptions) {
    const pri = opts.facility * 8 + SEVERITY_INFO;
    this.pri = ascii(opts.format === 'rfc5424' ? `<${pri}>1 ` : `<${pri}>`);
    const head = `${headerField(opts.hostname, 255)} ${headerField(opts.appName, 48)} ${headerField(opts.procId, 128)} `;
    this.after5424 = [ascii(`Z ${head}query `), ascii(`Z ${head}response `)];
    // RFC 3164: the TAG is at most 32 alphanumeric characters, then "[pid]: ".
    const tag = opts.appName.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32) || 'dnslens';
    this.tag3164 = ascii(` ${headerField(opts.hostname, 255)} ${tag}[${headerField(opts.procId, 16)}]: `);
  }

  write(w: ByteWriter, ev: DnsEvent): void {
    w.bytes(this.pri);
    if (this.opts.format === 'rfc5424') {
      // TIMESTAMP: the capture time, RFC 3339 UTC with microseconds (RFC 5424 allows 6 digits).
      w.bytes(rfc3339Prefix(ev.timeSec));
      const us = Math.min(Math.max(Math.floor(ev.timeNsec / 1000), 0), 999_999);
      w.text(String(us).padStart(6, '0'));
      w.bytes(this.after5424[ev.qr ? 1 : 0]); // MSGID: query or response
      if (this.opts.body === 'json') {
        w.byte(0x2d); // no STRUCTURED-DATA
        w.byte(0x20);
        encodeJson(w, ev);
      } else {
        w.text(structuredData(ev));
        w.text(` ${ev.qr ? 'response' : 'query'} ${ev.qname} type ${ev.qtype} rcode ${ev.rcode}`);
      }
    } else {
      // RFC 3164 TIMESTAMP "Mmm dd hh:mm:ss": no year and no zone; dnslens writes UTC.
      const [, mon, day, h, m, s] = utcParts(ev);
      w.text(`${MONTHS[mon - 1]} ${day < 10 ? ' ' : ''}${day} ${pad2(h)}:${pad2(m)}:${pad2(s)}`);
      w.bytes(this.tag3164);
      encodeJson(w, ev);
    }
  }
}

const MAX_SD_ANSWERS = 20;

/** The event's main fields as one SD-ELEMENT; each answer is a repeated "answer" parameter ("TYPE data"). */
export function structuredData(ev: DnsEvent): string {
  let s =
    `[${SD_ID} server="${sdValue(ev.server)}" srcIp="${sdValue(ev.srcIp)}" srcPort="${ev.srcPort}" dstIp="${sdValue(ev.dstIp)}" dstPort="${ev.dstPort}"` +
    ` transport="${sdValue(ev.transport)}" id="${ev.id}" qr="${ev.qr ? 1 : 0}" opcode="${ev.opcode}" rcode="${ev.rcode}"` +
    ` qname="${sdValue(ev.qname)}" qtype="${ev.qtype}" qclass="${ev.qclass}"` +
    ` aa="${ev.aa ? 1 : 0}" tc="${ev.tc ? 1 : 0}" rd="${ev.rd ? 1 : 0}" ra="${ev.ra ? 1 : 0}" ad="${ev.ad ? 1 : 0}" cd="${ev.cd ? 1 : 0}"` +
    ` anCount="${ev.anCount}" size="${ev.size}"`;
  if (ev.responseTimeUs !== null) s += ` responseTimeUs="${ev.responseTimeUs}"`;
  if (ev.unanswered) s += ' unanswered="1"';
  if (ev.clientId !== '') s += ` clientId="${sdValue(ev.clientId)}"`;
  const n = Math.min(ev.answers.length, MAX_SD_ANSWERS);
  for (let i = 0; i < n; i++) s += ` answer="${ev.answers[i].type} ${sdValue(ev.answers[i].data)}"`;
  return s + ']';
}

/** Cut to at most max bytes, at a UTF-8 character boundary. */
export function cutUtf8(b: Uint8Array, max: number): Uint8Array {
  if (b.length <= max) return b;
  let end = max;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--; // b[end] continues a character: cut before it
  return b.subarray(0, end);
}

/**
 * The sink encoder. Datagram mode: take() gives one chunk per message, each at most maxDatagram
 * bytes (longer ones are cut and counted as `truncated`). Stream mode: one chunk per batch, each
 * message framed as "LEN SP MSG".
 */
export class SyslogEncoder implements SinkEncoder {
  private readonly batch = new ByteWriter(1 << 16);
  private readonly scratch = new ByteWriter(4096);
  private ends: number[] = [];

  constructor(
    private readonly msg: MessageWriter,
    private readonly mode: { datagram: true; maxDatagram: number; counters?: Counters } | { datagram: false },
  ) {}

  encode(events: readonly DnsEvent[]): void {
    const w = this.batch;
    const s = this.scratch;
    for (let i = 0; i < events.length; i++) {
      s.pos = 0;
      this.msg.write(s, events[i]);
      let body: Uint8Array = s.buf.subarray(0, s.pos);
      if (this.mode.datagram) {
        if (body.length > this.mode.maxDatagram) {
          body = cutUtf8(body, this.mode.maxDatagram);
          this.mode.counters?.add('truncated');
        }
        w.bytes(body);
        this.ends.push(w.pos);
      } else {
        w.text(String(body.length));
        w.byte(0x20);
        w.bytes(body);
      }
    }
  }

  take(): Uint8Array[] {
    const w = this.batch;
    const all = Buffer.from(w.buf.subarray(0, w.pos)); // a copy: the writer's buffer is reused
    w.pos = 0;
    if (!this.mode.datagram) return all.length > 0 ? [all] : [];
    const out: Uint8Array[] = [];
    let start = 0;
    for (const end of this.ends) {
      out.push(all.subarray(start, end));
      start = end;
    }
    this.ends = [];
    return out;
  }
}
