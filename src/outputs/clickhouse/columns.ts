// DNS_LOG's columns and types as the writer sends them (DNS_LOG_SCHEMA: the one list the Native
// encoder, native.ts, follows; clickhouse/migrations/0001_dns_log.sql), and the apex and address
// helpers it uses.

import { getDomain } from 'tldts';

/** DNS_LOG columns the encoder writes, with their ClickHouse types, in row order.
 *  FullQuery (kept for dnsmonster's SQL) is left to its DEFAULT ''; SrcIP, DstIP, SrcPort, DstPort,
 *  ClientIP, ServerIP and Client are ALIAS columns computed from the client/server columns, and Apex
 *  one computed from Question and ApexLength. */
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
  ['ApexLength', 'UInt16'], // Apex is an ALIAS: the last ApexLength bytes of Question
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
  ['Unanswered', 'UInt8'],
  ['ClientId', 'String'],
  ['MessageType', 'LowCardinality(String)'],
  ['Resolution', 'LowCardinality(String)'],
  ['Upstream', 'LowCardinality(String)'],
  ['EventHash', 'String'],
  ['RawLine', 'String'],
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
  // The rollups store the apex as a length of Question's end (0006_domain_rollups.sql): keep it a suffix.
  if (!qname.endsWith(apex)) apex = qname;
  // Names follow a Zipf law: a bounded cache that starts over when full keeps the hot ones.
  if (apexCache.size >= APEX_CACHE_MAX) apexCache.clear();
  apexCache.set(qname, apex);
  return apex;
}

const apexLengthCache = new Map<string, number>();

/** UTF-8 length of apexOf(qname): DNS_LOG stores the apex as this many bytes at Question's end. */
export function apexLengthOf(qname: string): number {
  let n = apexLengthCache.get(qname);
  if (n !== undefined) return n;
  n = Buffer.byteLength(apexOf(qname));
  if (apexLengthCache.size >= APEX_CACHE_MAX) apexLengthCache.clear();
  apexLengthCache.set(qname, n);
  return n;
}

// ---- addresses ----


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
