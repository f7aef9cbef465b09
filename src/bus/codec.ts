// A batch of events as one bus message, as dnslens sensors publish it and collectors read it back:
// JSON lines (the stdout JSON of docs/event.md, one event a line) or the compact binary encoding
// below, whose schema docs/nats.md states. A reader tells them apart by the first bytes: "DLB1"
// is binary, "{" JSON lines. Decoding gives back every field of every event (binary: strings as
// UTF-8, so a lone surrogate comes back as U+FFFD; JSON escapes it and keeps it).
//
// Binary, version 1: the magic "DLB1", then records to the end of the message, each a varint
// length and that many bytes, so a newer writer may add fields at a record's end and an older
// reader skips them. Integers are unsigned LEB128 varints (responseTimeUs zigzag: it may be
// negative). A string is a varint n: 0 repeats the same field of the message's previous record
// (server, input name, transport... rarely change), else n-1 bytes of UTF-8 follow.
import { createHash } from 'node:crypto';
import { ipv4Text } from '../addr.js';
import { newEvent, type DnsAnswer, type DnsEvent, type InputKind, type Resolution, type Transport } from '../event.js';

export const BINARY_MAGIC = Buffer.from('DLB1', 'latin1');

/** Where the binary encoder writes (the JSON output's ByteWriter has this shape). */
export interface ByteSink {
  buf: Buffer;
  pos: number;
  reserve(n: number): void;
}

/** The message's identity: its SHA-256, 32 hex digits. A sensor publishes it as the message id
 *  (the stream drops a repeat), a collector inserts the batch under it (the store drops a repeat). */
export function messageId(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 32);
}

// flags bits
const QR = 1;
const AA = 2;
const TC = 4;
const RD = 8;
const RA = 16;
const AD = 32;
const CD = 64;
const EDNS = 128;
const DO = 256;
const UNANSWERED = 512;
const RESPONSE_TIME = 1024;

// String slots: what "the same field of the previous record" refers to.
const S_SRC = 0;
const S_DST = 1;
const S_TRANSPORT = 2;
const S_QNAME = 3;
const S_ANSWER_NAME = 4;
const S_ANSWER_DATA = 5;
const S_ECS = 6;
const S_INPUT_KIND = 7;
const S_INPUT_NAME = 8;
const S_SERVER = 9;
const S_CLIENT_ID = 10;
const S_MESSAGE_TYPE = 11;
const S_RESOLUTION = 12;
const S_UPSTREAM = 13;
const S_EVENT_HASH = 14;
const S_RAW_LINE = 15;
const SLOTS = 16;

// An address: 4 and its 4 bytes for a dotted quad as the decoders write it, else 0 and a string.
const ADDR_TEXT = 0;
const ADDR_V4 = 4;

// ------------------------------------------------------------------ encoding

/** Writes one message's records: start() once per message, then record() per event. */
export class BinaryEncoder {
  private prev: (string | undefined)[] = new Array(SLOTS);
  private readonly body: ByteSink;

  constructor(scratch: ByteSink) {
    this.body = scratch; // each record is written here first, then copied behind its length
  }

  /** The magic; the previous-record strings start afresh. */
  start(w: ByteSink): void {
    w.reserve(4);
    BINARY_MAGIC.copy(w.buf, w.pos);
    w.pos += 4;
    this.prev = new Array(SLOTS);
  }

  record(w: ByteSink, ev: DnsEvent): void {
    const b = this.body;
    b.pos = 0;
    const flags =
      (ev.qr ? QR : 0) | (ev.aa ? AA : 0) | (ev.tc ? TC : 0) | (ev.rd ? RD : 0) | (ev.ra ? RA : 0) | (ev.ad ? AD : 0) | (ev.cd ? CD : 0) |
      (ev.ednsPresent ? EDNS : 0) | (ev.ednsDo ? DO : 0) | (ev.unanswered ? UNANSWERED : 0) | (ev.responseTimeUs !== null ? RESPONSE_TIME : 0);
    uvar(b, ev.timeSec);
    uvar(b, ev.timeNsec);
    uvar(b, flags);
    uvar(b, ev.ipVersion);
    this.addr(b, ev.srcIp, S_SRC);
    this.addr(b, ev.dstIp, S_DST);
    uvar(b, ev.srcPort);
    uvar(b, ev.dstPort);
    this.str(b, ev.transport, S_TRANSPORT);
    uvar(b, ev.id);
    uvar(b, ev.opcode);
    uvar(b, ev.rcode);
    this.str(b, ev.qname, S_QNAME);
    uvar(b, ev.qtype);
    uvar(b, ev.qclass);
    uvar(b, ev.qdCount);
    uvar(b, ev.anCount);
    uvar(b, ev.nsCount);
    uvar(b, ev.arCount);
    uvar(b, ev.answers.length);
    for (const a of ev.answers) {
      this.str(b, a.name, S_ANSWER_NAME);
      uvar(b, a.type);
      uvar(b, a.class);
      uvar(b, a.ttl);
      this.str(b, a.data, S_ANSWER_DATA);
    }
    uvar(b, ev.ednsUdpSize);
    this.str(b, ev.ednsClientSubnet, S_ECS);
    uvar(b, ev.size);
    this.str(b, ev.inputKind, S_INPUT_KIND);
    this.str(b, ev.inputName, S_INPUT_NAME);
    if (ev.responseTimeUs !== null) uvar(b, ev.responseTimeUs >= 0 ? ev.responseTimeUs * 2 : -ev.responseTimeUs * 2 - 1);
    this.str(b, ev.server, S_SERVER);
    this.str(b, ev.clientId, S_CLIENT_ID);
    this.str(b, ev.messageType, S_MESSAGE_TYPE);
    this.str(b, ev.resolution, S_RESOLUTION);
    this.str(b, ev.upstream, S_UPSTREAM);
    this.str(b, ev.eventHash, S_EVENT_HASH);
    this.str(b, ev.rawLine, S_RAW_LINE);
    uvar(w, b.pos);
    w.reserve(b.pos);
    b.buf.copy(w.buf, w.pos, 0, b.pos);
    w.pos += b.pos;
  }

  private str(w: ByteSink, s: string, slot: number): void {
    if (this.prev[slot] === s) {
      uvar(w, 0);
      return;
    }
    this.prev[slot] = s;
    const n = Buffer.byteLength(s, 'utf8');
    uvar(w, n + 1);
    w.reserve(n);
    w.pos += w.buf.write(s, w.pos, n, 'utf8');
  }

  private addr(w: ByteSink, s: string, slot: number): void {
    const v4 = dottedQuad(s);
    w.reserve(5);
    if (v4 < 0) {
      w.buf[w.pos++] = ADDR_TEXT;
      this.str(w, s, slot);
      return;
    }
    w.buf[w.pos++] = ADDR_V4;
    w.buf.writeUInt32BE(v4, w.pos);
    w.pos += 4;
  }
}

function uvar(w: ByteSink, v: number): void {
  w.reserve(10);
  const b = w.buf;
  let p = w.pos;
  if (v <= 0x7fffffff) {
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
  } else {
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
  }
  b[p++] = v;
  w.pos = p;
}

/** The address of a dotted quad as the decoders write it (no leading zeros), or -1. */
function dottedQuad(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || octet > 255) return -1;
      value = value * 256 + octet;
      dots++;
      octet = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return -1; // a leading zero: text that would not come back the same
      octet = octet * 10 + (c - 0x30);
      digits++;
    } else {
      return -1;
    }
  }
  return dots === 4 ? value : -1;
}

// ------------------------------------------------------------------ decoding

/** The events of a message, JSON lines or binary; throws when it is neither or is cut short. */
export function decodeMessage(data: Uint8Array): DnsEvent[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length >= 4 && buf.compare(BINARY_MAGIC, 0, 4, 0, 4) === 0) return decodeBinary(buf);
  if (buf.length > 0 && buf[0] === 0x7b) return decodeJsonLines(buf.toString('utf8'));
  throw new Error('not a dnslens batch: neither binary (DLB1) nor JSON lines');
}

class Reader {
  p = 4; // after the magic
  end: number;
  private prev: (string | undefined)[] = new Array(SLOTS);

  constructor(readonly b: Buffer) {
    this.end = b.length;
  }

  uvar(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      if (this.p >= this.end) throw new Error('a record is cut short');
      const c = this.b[this.p++];
      v += (c & 0x7f) * scale;
      if (c < 0x80) return v;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new Error('a varint is too long');
    }
  }

  str(slot: number): string {
    const n = this.uvar();
    if (n === 0) {
      const s = this.prev[slot];
      if (s === undefined) throw new Error('a record repeats a string no earlier record had');
      return s;
    }
    const to = this.p + n - 1;
    if (to > this.end) throw new Error('a string runs past its record');
    const s = this.b.toString('utf8', this.p, to);
    this.p = to;
    this.prev[slot] = s;
    return s;
  }

  addr(slot: number): string {
    if (this.p >= this.end) throw new Error('a record is cut short');
    const tag = this.b[this.p++];
    if (tag === ADDR_TEXT) return this.str(slot);
    if (tag !== ADDR_V4 || this.p + 4 > this.end) throw new Error(`bad address tag ${tag}`);
    const s = ipv4Text(this.b, this.p);
    this.p += 4;
    return s;
  }
}

function decodeBinary(buf: Buffer): DnsEvent[] {
  const r = new Reader(buf);
  const events: DnsEvent[] = [];
  while (r.p < buf.length) {
    r.end = buf.length;
    const len = r.uvar();
    const end = r.p + len;
    if (end > buf.length) throw new Error('a record runs past the message');
    r.end = end;
    events.push(readRecord(r));
    r.p = end; // fields a newer writer added are skipped
  }
  return events;
}

function readRecord(r: Reader): DnsEvent {
  const ev = newEvent(); // every field in place first: the reads below fill them in record order
  ev.timeSec = r.uvar();
  ev.timeNsec = r.uvar();
  const flags = r.uvar();
  ev.ipVersion = r.uvar();
  ev.srcIp = r.addr(S_SRC);
  ev.dstIp = r.addr(S_DST);
  ev.srcPort = r.uvar();
  ev.dstPort = r.uvar();
  ev.transport = r.str(S_TRANSPORT) as Transport;
  ev.id = r.uvar();
  ev.opcode = r.uvar();
  ev.rcode = r.uvar();
  ev.qname = r.str(S_QNAME);
  ev.qtype = r.uvar();
  ev.qclass = r.uvar();
  ev.qdCount = r.uvar();
  ev.anCount = r.uvar();
  ev.nsCount = r.uvar();
  ev.arCount = r.uvar();
  const answerCount = r.uvar();
  if (answerCount > 0) {
    const answers: DnsAnswer[] = [];
    for (let i = 0; i < answerCount; i++) {
      const name = r.str(S_ANSWER_NAME);
      const type = r.uvar();
      const cls = r.uvar();
      const ttl = r.uvar();
      answers.push({ name, type, class: cls, ttl, data: r.str(S_ANSWER_DATA) });
    }
    ev.answers = answers;
  }
  ev.ednsUdpSize = r.uvar();
  ev.ednsClientSubnet = r.str(S_ECS);
  ev.size = r.uvar();
  ev.inputKind = r.str(S_INPUT_KIND) as InputKind;
  ev.inputName = r.str(S_INPUT_NAME);
  if (flags & RESPONSE_TIME) {
    const z = r.uvar();
    ev.responseTimeUs = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  ev.server = r.str(S_SERVER);
  ev.clientId = r.str(S_CLIENT_ID);
  ev.messageType = r.str(S_MESSAGE_TYPE);
  ev.resolution = r.str(S_RESOLUTION) as Resolution;
  ev.upstream = r.str(S_UPSTREAM);
  ev.eventHash = r.str(S_EVENT_HASH);
  ev.rawLine = r.str(S_RAW_LINE);
  ev.qr = (flags & QR) !== 0;
  ev.aa = (flags & AA) !== 0;
  ev.tc = (flags & TC) !== 0;
  ev.rd = (flags & RD) !== 0;
  ev.ra = (flags & RA) !== 0;
  ev.ad = (flags & AD) !== 0;
  ev.cd = (flags & CD) !== 0;
  ev.ednsPresent = (flags & EDNS) !== 0;
  ev.ednsDo = (flags & DO) !== 0;
  ev.unanswered = (flags & UNANSWERED) !== 0;
  return ev;
}

// ------------------------------------------------------------------ JSON lines

const BLANK = newEvent();
const TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

function decodeJsonLines(text: string): DnsEvent[] {
  const events: DnsEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    events.push(eventFromJson(JSON.parse(line) as unknown));
  }
  return events;
}

/** An event from its JSON object (docs/event.md); a field left out keeps its blank value (a writer
 *  older than the field), a field of the wrong type is an error. */
export function eventFromJson(o: unknown): DnsEvent {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('a JSON line that is no object');
  const obj = o as Record<string, unknown>;
  const m = typeof obj.time === 'string' ? TIME.exec(obj.time) : null;
  if (!m) throw new Error(`"time": ${JSON.stringify(obj.time)} is not RFC 3339 UTC time`);
  const ev = newEvent() as unknown as Record<string, unknown>;
  ev.timeSec = Date.parse(m[1] + 'Z') / 1000;
  ev.timeNsec = Number((m[2] ?? '').padEnd(9, '0'));
  for (const key of Object.keys(BLANK)) {
    if (key === 'timeSec' || key === 'timeNsec' || !(key in obj)) continue;
    const v = obj[key];
    const ok = key === 'responseTimeUs' ? v === null || typeof v === 'number' : key === 'answers' ? isAnswers(v) : typeof v === typeof (BLANK as unknown as Record<string, unknown>)[key];
    if (!ok) throw new Error(`"${key}": ${JSON.stringify(v)} has the wrong type`);
    ev[key] = v;
  }
  return ev as unknown as DnsEvent;
}

function isAnswers(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (const a of v as Record<string, unknown>[]) {
    if (typeof a !== 'object' || a === null) return false;
    if (typeof a.name !== 'string' || typeof a.data !== 'string' || typeof a.type !== 'number' || typeof a.class !== 'number' || typeof a.ttl !== 'number') return false;
  }
  return true;
}
