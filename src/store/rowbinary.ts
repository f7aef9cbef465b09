// DnsEvent -> ClickHouse RowBinary rows for DNS_LOG (clickhouse/migrations/0001_dns_log.sql).
// This runs once per stored message, so it writes bytes by hand into one growing buffer.

import { getDomain } from 'tldts';
import type { DnsEvent } from '../event.js';

/** DNS_LOG columns the encoder writes, with their ClickHouse types, in row order.
 *  FullQuery (kept for dnsmonster's SQL) is left to its DEFAULT ''; SrcIP, DstIP, SrcPort, DstPort,
 *  ClientIP, ServerIP and Client are ALIAS columns computed from the client/server columns. */
export const DNS_LOG_SCHEMA: ReadonlyArray<readonly [string, string]> = [
  ['PacketTime', 'DateTime64(6)'],
  ['IndexTime', 'DateTime'],
  ['Server', 'LowCardinality(String)'],
  ['IPVersion', 'UInt8'],
  ['ClientIPv4', 'IPv4'],
  ['ClientIPv6', 'IPv6'],
  ['ServerIPv4', 'IPv4'],
  ['ServerIPv6', 'IPv6'],
  ['ClientPort', 'UInt16'],
  ['ServerPort', 'UInt16'],
  ['Protocol', 'LowCardinality(String)'],
  ['QR', 'UInt8'],
  ['OpCode', 'UInt8'],
  ['Class', 'UInt16'],
  ['Type', 'UInt16'],
  ['Edns0Present', 'UInt8'],
  ['DoBit', 'UInt8'],
  ['ResponseCode', 'UInt16'],
  ['Question', 'String'],
  ['Size', 'UInt16'],
  ['Apex', 'String'],
  ['ID', 'UInt16'],
  ['AA', 'Bool'],
  ['TC', 'Bool'],
  ['RD', 'Bool'],
  ['RA', 'Bool'],
  ['AD', 'Bool'],
  ['CD', 'Bool'],
  ['QdCount', 'UInt16'],
  ['AnCount', 'UInt16'],
  ['NsCount', 'UInt16'],
  ['ArCount', 'UInt16'],
  ['AnswerName', 'Array(String)'],
  ['AnswerType', 'Array(UInt16)'],
  ['AnswerClass', 'Array(UInt16)'],
  ['AnswerTTL', 'Array(UInt32)'],
  ['AnswerData', 'Array(String)'],
  ['EdnsUdpSize', 'UInt16'],
  ['EdnsClientSubnet', 'String'],
  ['ResponseTimeUs', 'Nullable(UInt32)'],
  ['InputKind', 'LowCardinality(String)'],
  ['InputName', 'LowCardinality(String)'],
];

export const DNS_LOG_COLUMNS: readonly string[] = DNS_LOG_SCHEMA.map(([name]) => name);

/** The structure argument for file()/format()/input(): "PacketTime DateTime64(6), ...".
 *  It has no quote characters, so it can go inside a SQL string literal as it is.
 *  RowBinary carries times as integers, so the table's UTC time zone needs no mention here. */
export const DNS_LOG_STRUCTURE: string = DNS_LOG_SCHEMA.map(([n, t]) => `${n} ${t}`).join(', ');

// ---- registrable domain (apex) ----

const APEX_CACHE_MAX = 200_000;
const apexCache = new Map<string, string>();

/** Registrable domain from the public suffix list (ICANN section): www.bbc.co.uk -> bbc.co.uk.
 *  A name with no registrable part (a bare suffix, "localhost", the root) is its own apex. */
export function apexOf(qname: string): string {
  let apex = apexCache.get(qname);
  if (apex !== undefined) return apex;
  apex = getDomain(qname, { extractHostname: false, validateHostname: false }) ?? qname;
  // Names follow a Zipf law: a bounded cache that starts over when full keeps the hot ones.
  if (apexCache.size >= APEX_CACHE_MAX) apexCache.clear();
  apexCache.set(qname, apex);
  return apex;
}

// ---- addresses ----

const ZERO16 = new Uint8Array(16);
// Parsing IPv6 text allocates; the same client and server addresses recur, so keep the results.
const V6_CACHE_MAX = 50_000;
const v6Cache = new Map<string, Uint8Array | null>();

/** IPv4 dotted quad -> unsigned 32-bit number, or -1 when the text is not one. */
export function parseIpv4(s: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46; // a virtual final '.'
    if (c === 46) {
      if (digits === 0 || n > 255 || part > 3) return -1;
      value = value * 256 + n;
      part++;
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      n = n * 10 + (c - 48);
      digits++;
    } else {
      return -1;
    }
  }
  return part === 4 ? value : -1;
}

/** IPv6 text (with :: and an optional trailing dotted quad or %zone) -> 16 bytes, or null. */
export function parseIpv6(text: string): Uint8Array | null {
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const head = dbl >= 0 ? s.slice(0, dbl) : s;
  const tail = dbl >= 0 ? s.slice(dbl + 2) : '';
  const hp = head === '' ? [] : head.split(':');
  const tp = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const take = (parts: string[], last: boolean): boolean => {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p.indexOf('.') >= 0) {
        const v4 = last && i === parts.length - 1 ? parseIpv4(p) : -1;
        if (v4 < 0) return false;
        words.push(Math.floor(v4 / 65536), v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return false;
        words.push(parseInt(p, 16));
      }
    }
    return true;
  };
  if (!take(hp, dbl < 0)) return null; // a dotted quad can only end the address
  const headWords = words.length;
  if (!take(tp, true)) return null;
  const tailWords = words.length - headWords;
  if (dbl < 0 ? words.length !== 8 : words.length > 7) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < headWords; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  for (let i = 0; i < tailWords; i++) {
    const w = words[headWords + i];
    const at = 8 - tailWords + i;
    out[2 * at] = w >> 8;
    out[2 * at + 1] = w & 0xff;
  }
  return out;
}

function ipv6Cached(text: string): Uint8Array | null {
  let bytes = v6Cache.get(text);
  if (bytes === undefined) {
    bytes = parseIpv6(text);
    if (v6Cache.size >= V6_CACHE_MAX) v6Cache.clear();
    v6Cache.set(text, bytes);
  }
  return bytes;
}

// ---- the row writer ----

const TWO32 = 4294967296;

class Writer {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    const b = this.buf;
    b[this.pos++] = v;
    b[this.pos++] = v >>> 8;
  }
  u32(v: number): void {
    const b = this.buf;
    b[this.pos++] = v;
    b[this.pos++] = v >>> 8;
    b[this.pos++] = v >>> 16;
    b[this.pos++] = v >>> 24;
  }
  /** Int64 little-endian from a double that holds an exact integer (|v| < 2^53). */
  i64(v: number): void {
    const hi = Math.floor(v / TWO32);
    this.u32(v - hi * TWO32);
    this.u32(hi | 0);
  }
  varint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  str(s: string): void {
    const len = s.length;
    if (len < 128) {
      // Short ASCII, the usual case: copy char codes, no native call. Bail out on anything else.
      this.ensure(len + 1);
      const b = this.buf;
      const start = this.pos;
      b[start] = len;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[start + 1 + i] = c;
      }
      if (i === len) {
        this.pos = start + 1 + len;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(n + 5);
    this.varint(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  /** One side of the exchange: its IPv4 column then its IPv6 column; the other family's is zero. */
  addr(text: string): void {
    this.ensure(20);
    const v4 = text.indexOf(':') < 0 ? parseIpv4(text) : -1;
    if (v4 >= 0) {
      this.u32(v4);
      this.buf.set(ZERO16, this.pos);
    } else {
      this.u32(0);
      this.buf.set((text.length > 0 && ipv6Cached(text)) || ZERO16, this.pos);
    }
    this.pos += 16;
  }
}

/** RowBinary for DNS_LOG_COLUMNS, one row per event. indexTimeSec (now, normally) fills IndexTime,
 *  rounded down to the hour: retention only needs that, and a constant column costs no space. */
export function encodeRows(events: readonly DnsEvent[], indexTimeSec: number): Uint8Array {
  const w = new Writer(Math.max(4096, events.length * 200));
  const indexTime = Math.max(0, Math.min(0xffffffff, Math.floor(indexTimeSec / 3600) * 3600));
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    w.ensure(16);
    w.i64(e.timeSec * 1_000_000 + Math.floor(e.timeNsec / 1000));
    w.u32(indexTime);
    w.str(e.server);
    w.ensure(1);
    w.u8(e.ipVersion);
    // A query goes client -> server, a response server -> client.
    w.addr(e.qr ? e.dstIp : e.srcIp);
    w.addr(e.qr ? e.srcIp : e.dstIp);
    w.ensure(4);
    w.u16(e.qr ? e.dstPort : e.srcPort);
    w.u16(e.qr ? e.srcPort : e.dstPort);
    w.str(e.transport);
    w.ensure(16);
    w.u8(e.qr ? 1 : 0);
    w.u8(e.opcode);
    w.u16(e.qclass);
    w.u16(e.qtype);
    w.u8(e.ednsPresent ? 1 : 0);
    w.u8(e.ednsDo ? 1 : 0);
    w.u16(e.rcode);
    w.str(e.qname);
    w.ensure(2);
    w.u16(e.size);
    w.str(apexOf(e.qname));
    w.ensure(24);
    w.u16(e.id);
    w.u8(e.aa ? 1 : 0);
    w.u8(e.tc ? 1 : 0);
    w.u8(e.rd ? 1 : 0);
    w.u8(e.ra ? 1 : 0);
    w.u8(e.ad ? 1 : 0);
    w.u8(e.cd ? 1 : 0);
    w.u16(e.qdCount);
    w.u16(e.anCount);
    w.u16(e.nsCount);
    w.u16(e.arCount);
    const ans = e.answers;
    const n = ans.length;
    w.ensure(5);
    w.varint(n);
    for (let k = 0; k < n; k++) w.str(ans[k].name);
    w.ensure(15 + n * 8);
    w.varint(n);
    for (let k = 0; k < n; k++) w.u16(ans[k].type);
    w.varint(n);
    for (let k = 0; k < n; k++) w.u16(ans[k].class);
    w.varint(n);
    for (let k = 0; k < n; k++) w.u32(ans[k].ttl);
    w.ensure(5);
    w.varint(n);
    for (let k = 0; k < n; k++) w.str(ans[k].data);
    w.ensure(2);
    w.u16(e.ednsUdpSize);
    w.str(e.ednsClientSubnet);
    w.ensure(5);
    if (e.responseTimeUs === null) {
      w.u8(1);
    } else {
      w.u8(0);
      w.u32(Math.max(0, Math.min(0xffffffff, Math.round(e.responseTimeUs))));
    }
    w.str(e.inputKind);
    w.str(e.inputName);
  }
  return w.buf.subarray(0, w.pos);
}
