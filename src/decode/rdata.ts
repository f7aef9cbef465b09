// Answer rdata as presentation text, the way dig prints it (names without the trailing dot).
// A record whose rdata does not fit its type is still shown, in the RFC 3597 generic form
// "\# <len> <hex>" that also covers NULL and unknown types; nothing here throws.

import { ensureOut, out, outString, putDecimalEscape, readName, nameText, bytesString } from './names.js';
import { typeName } from '../dnsnames.js';

type Render = (buf: Uint8Array, p: number, e: number, end: number) => string | null;

/** rdata buf[p, e) of a record of the given type; end bounds compression pointers (message end). */
export function renderRdata(type: number, buf: Uint8Array, p: number, e: number, end: number): string {
  if (type === 1) return e - p === 4 ? ipv4(buf, p) : generic(buf, p, e);
  if (type === 28) return e - p === 16 ? ipv6(buf, p) : generic(buf, p, e);
  const r = type < 256 ? RENDER[type] : HIGH_RENDER.get(type);
  const s = r === undefined ? null : r(buf, p, e, end);
  return s ?? generic(buf, p, e);
}

// ---- small pieces -----------------------------------------------------------------------------

const DEC: string[] = [];
for (let i = 0; i < 256; i++) DEC.push(String(i));

function u16(b: Uint8Array, p: number): number {
  return (b[p] << 8) | b[p + 1];
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

export function ipv4(b: Uint8Array, p: number): string {
  return DEC[b[p]] + '.' + DEC[b[p + 1]] + '.' + DEC[b[p + 2]] + '.' + DEC[b[p + 3]];
}

const HEX_LOWER = new Uint8Array(16);
const HEX_UPPER = new Uint8Array(16);
for (let i = 0; i < 16; i++) {
  HEX_LOWER[i] = '0123456789abcdef'.charCodeAt(i);
  HEX_UPPER[i] = '0123456789ABCDEF'.charCodeAt(i);
}

/** IPv6 text per RFC 5952 (the longest run of 2+ zero groups as "::", first one on a tie),
 *  with the dotted IPv4 tail that inet_ntop uses for ::ffff:a.b.c.d and ::a.b.c.d. */
export function ipv6(b: Uint8Array, p: number): string {
  let bestAt = -1;
  let bestLen = 1;
  let runAt = -1;
  for (let i = 0; i < 8; i++) {
    const zero = b[p + 2 * i] === 0 && b[p + 2 * i + 1] === 0;
    if (zero) {
      if (runAt < 0) runAt = i;
      if (i - runAt + 1 > bestLen) {
        bestLen = i - runAt + 1;
        bestAt = runAt;
      }
    } else runAt = -1;
  }
  if (bestAt === 0 && (bestLen === 6 || (bestLen === 5 && b[p + 10] === 0xff && b[p + 11] === 0xff))) {
    return (bestLen === 6 ? '::' : '::ffff:') + ipv4(b, p + 12);
  }
  const ob = out;
  let o = 0;
  for (let i = 0; i < 8; i++) {
    if (i === bestAt) {
      ob[o++] = 0x3a;
      if (i === 0) ob[o++] = 0x3a;
      i += bestLen - 1;
      continue;
    }
    const w = (b[p + 2 * i] << 8) | b[p + 2 * i + 1];
    if (w >= 0x1000) ob[o++] = HEX_LOWER[w >> 12];
    if (w >= 0x100) ob[o++] = HEX_LOWER[(w >> 8) & 15];
    if (w >= 0x10) ob[o++] = HEX_LOWER[(w >> 4) & 15];
    ob[o++] = HEX_LOWER[w & 15];
    if (i < 7) ob[o++] = 0x3a;
  }
  return outString(o);
}

function hexUpper(b: Uint8Array, s: number, e: number): string {
  const ob = ensureOut(2 * (e - s));
  let o = 0;
  for (let i = s; i < e; i++) {
    ob[o++] = HEX_UPPER[b[i] >> 4];
    ob[o++] = HEX_UPPER[b[i] & 15];
  }
  return outString(o);
}

function base64(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('base64');
}

/** RFC 3597: "\# <len> <hex>", or "\# 0" when empty. */
export function generic(b: Uint8Array, s: number, e: number): string {
  if (e === s) return '\\# 0';
  const ob = ensureOut(2 * (e - s) + 12);
  let o = 0;
  ob[o++] = 0x5c;
  ob[o++] = 0x23;
  ob[o++] = 0x20;
  const len = String(e - s);
  for (let i = 0; i < len.length; i++) ob[o++] = len.charCodeAt(i);
  ob[o++] = 0x20;
  for (let i = s; i < e; i++) {
    ob[o++] = HEX_UPPER[b[i] >> 4];
    ob[o++] = HEX_UPPER[b[i] & 15];
  }
  return outString(o);
}

// Character-strings: one length byte then bytes. Shown quoted; '"' and '\' get a backslash,
// bytes outside printable ASCII become \DDD.
let strEnd = 0; // position after the last character-string read

/** Appends the quoted character-string at b[p] to out[o]; returns the new length or -1. */
function quoted(b: Uint8Array, p: number, e: number, o: number): number {
  if (p >= e) return -1;
  const n = b[p];
  const s = p + 1;
  if (s + n > e) return -1;
  ensureOut(o + 4 * n + 8); // room for the quotes and a separator after
  out[o++] = 0x22;
  o = escapeText(b, s, s + n, o, false);
  out[o++] = 0x22;
  strEnd = s + n;
  return o;
}

/** Text b[s, e) in double quotes, escaped. */
function quotedText(b: Uint8Array, s: number, e: number): string {
  ensureOut(4 * (e - s) + 2);
  out[0] = 0x22;
  const o = escapeText(b, s, e, 1, false);
  out[o] = 0x22;
  return outString(o + 1);
}

/** Appends escaped text b[s, e) to out[o]: '"' and '\' get a backslash, bytes outside printable
 *  ASCII become \DDD. A list item (SVCB value lists, unquoted) also escapes ',' and space. */
function escapeText(b: Uint8Array, s: number, e: number, o: number, listItem: boolean): number {
  const ob = ensureOut(o + 4 * (e - s) + 2);
  for (let i = s; i < e; i++) {
    const c = b[i];
    if (c < 0x20 || c > 0x7e || (listItem && c === 0x20)) o = putDecimalEscape(o, c);
    else {
      if (c === 0x22 || c === 0x5c || (listItem && c === 0x2c)) ob[o++] = 0x5c;
      ob[o++] = c;
    }
  }
  return o;
}

/** One or more character-strings filling [p, e), space-separated (TXT, SPF). */
function strings(b: Uint8Array, p: number, e: number): string | null {
  if (p >= e) return null;
  let o = 0;
  while (p < e) {
    if (o !== 0) out[o++] = 0x20;
    o = quoted(b, p, e, o);
    if (o < 0) return null;
    p = strEnd;
  }
  return outString(o);
}

/** The name at p inside rdata [p, e), or null; nameEnd gets the position after it. */
let nameEnd = 0;
function rname(b: Uint8Array, p: number, e: number, end: number): string | null {
  const next = readName(b, p, e, end);
  if (next < 0) return null;
  nameEnd = next;
  return nameText;
}

function nameOnly(b: Uint8Array, p: number, e: number, end: number): string | null {
  const n = rname(b, p, e, end);
  return n !== null && nameEnd === e ? n : null;
}

function twoNames(b: Uint8Array, p: number, e: number, end: number): string | null {
  const a = rname(b, p, e, end);
  if (a === null) return null;
  const c = rname(b, nameEnd, e, end);
  return c !== null && nameEnd === e ? a + ' ' + c : null;
}

function prefName(b: Uint8Array, p: number, e: number, end: number): string | null {
  if (e - p < 3) return null;
  const n = nameOnly(b, p + 2, e, end);
  return n === null ? null : u16(b, p) + ' ' + n;
}

function soa(b: Uint8Array, p: number, e: number, end: number): string | null {
  const m = rname(b, p, e, end);
  if (m === null) return null;
  const r = rname(b, nameEnd, e, end);
  if (r === null) return null;
  const q = nameEnd;
  if (e - q !== 20) return null;
  return `${m} ${r} ${u32(b, q)} ${u32(b, q + 4)} ${u32(b, q + 8)} ${u32(b, q + 12)} ${u32(b, q + 16)}`;
}

function hinfo(b: Uint8Array, p: number, e: number): string | null {
  let o = quoted(b, p, e, 0);
  if (o < 0) return null;
  out[o++] = 0x20;
  o = quoted(b, strEnd, e, o);
  return o < 0 || strEnd !== e ? null : outString(o);
}

function srv(b: Uint8Array, p: number, e: number, end: number): string | null {
  if (e - p < 7) return null;
  const n = nameOnly(b, p + 6, e, end);
  return n === null ? null : `${u16(b, p)} ${u16(b, p + 2)} ${u16(b, p + 4)} ${n}`;
}

function naptr(b: Uint8Array, p: number, e: number, end: number): string | null {
  if (e - p < 7) return null;
  const head = `${u16(b, p)} ${u16(b, p + 2)} `;
  let o = quoted(b, p + 4, e, 0);
  for (let i = 0; i < 2 && o >= 0; i++) {
    out[o++] = 0x20;
    o = quoted(b, strEnd, e, o);
  }
  if (o < 0) return null;
  const texts = outString(o);
  const n = nameOnly(b, strEnd, e, end);
  return n === null ? null : head + texts + ' ' + n;
}

// DS, CDS, DLV, TA: key tag, algorithm, digest type, digest.
function ds(b: Uint8Array, p: number, e: number): string | null {
  if (e - p < 5) return null;
  return `${u16(b, p)} ${b[p + 2]} ${b[p + 3]} ${hexUpper(b, p + 4, e)}`;
}

// DNSKEY, CDNSKEY, KEY: flags, protocol, algorithm, key.
function dnskey(b: Uint8Array, p: number, e: number): string | null {
  if (e - p < 5) return null;
  return `${u16(b, p)} ${b[p + 2]} ${b[p + 3]} ${base64(b, p + 4, e)}`;
}

function sshfp(b: Uint8Array, p: number, e: number): string | null {
  if (e - p < 3) return null;
  return `${b[p]} ${b[p + 1]} ${hexUpper(b, p + 2, e)}`;
}

// TLSA, SMIMEA: usage, selector, matching type, data.
function tlsa(b: Uint8Array, p: number, e: number): string | null {
  if (e - p < 4) return null;
  return `${b[p]} ${b[p + 1]} ${b[p + 2]} ${hexUpper(b, p + 3, e)}`;
}

/** RRSIG times: YYYYMMDDHHmmSS in UTC. */
function sigTime(t: number): string {
  const s = new Date(t * 1000).toISOString();
  return s.slice(0, 4) + s.slice(5, 7) + s.slice(8, 10) + s.slice(11, 13) + s.slice(14, 16) + s.slice(17, 19);
}

function rrsig(b: Uint8Array, p: number, e: number, end: number): string | null {
  if (e - p < 19) return null;
  const signer = rname(b, p + 18, e, end);
  if (signer === null || nameEnd >= e) return null;
  return (
    `${typeName(u16(b, p))} ${b[p + 2]} ${b[p + 3]} ${u32(b, p + 4)} ${sigTime(u32(b, p + 8))} ` +
    `${sigTime(u32(b, p + 12))} ${u16(b, p + 16)} ${signer} ${base64(b, nameEnd, e)}`
  );
}

/** NSEC-style type bitmap [p, e) as " A NS SOA ...", or null when malformed. */
function typeBitmap(b: Uint8Array, p: number, e: number): string | null {
  let s = '';
  let last = -1;
  while (p < e) {
    if (e - p < 2) return null;
    const win = b[p];
    const n = b[p + 1];
    if (n < 1 || n > 32 || p + 2 + n > e || win <= last) return null;
    last = win;
    for (let i = 0; i < n; i++) {
      const byte = b[p + 2 + i];
      if (byte === 0) continue;
      for (let bit = 0; bit < 8; bit++) {
        if (byte & (0x80 >> bit)) s += ' ' + typeName(win * 256 + i * 8 + bit);
      }
    }
    p += 2 + n;
  }
  return s;
}

function nsec(b: Uint8Array, p: number, e: number, end: number): string | null {
  const next = rname(b, p, e, end);
  if (next === null) return null;
  const types = typeBitmap(b, nameEnd, e);
  return types === null ? null : next + types;
}

const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';

function base32hex(b: Uint8Array, s: number, e: number): string {
  let r = '';
  let acc = 0;
  let bits = 0;
  for (let i = s; i < e; i++) {
    acc = ((acc << 8) | b[i]) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      r += B32HEX[(acc >> bits) & 31];
    }
  }
  if (bits > 0) r += B32HEX[(acc << (5 - bits)) & 31];
  return r;
}

/** NSEC3 / NSEC3PARAM head: "alg flags iterations salt"; sets strEnd after the salt. */
function nsec3Head(b: Uint8Array, p: number, e: number): string | null {
  if (e - p < 5) return null;
  const saltLen = b[p + 4];
  if (p + 5 + saltLen > e) return null;
  strEnd = p + 5 + saltLen;
  const salt = saltLen === 0 ? '-' : hexUpper(b, p + 5, strEnd);
  return `${b[p]} ${b[p + 1]} ${u16(b, p + 2)} ${salt}`;
}

function nsec3(b: Uint8Array, p: number, e: number): string | null {
  const head = nsec3Head(b, p, e);
  if (head === null || strEnd >= e) return null;
  const q = strEnd;
  const hashLen = b[q];
  if (hashLen === 0 || q + 1 + hashLen > e) return null;
  const types = typeBitmap(b, q + 1 + hashLen, e);
  return types === null ? null : `${head} ${base32hex(b, q + 1, q + 1 + hashLen)}${types}`;
}

function nsec3param(b: Uint8Array, p: number, e: number): string | null {
  const head = nsec3Head(b, p, e);
  return head !== null && strEnd === e ? head : null;
}

function caa(b: Uint8Array, p: number, e: number): string | null {
  if (e - p < 2) return null;
  const tagLen = b[p + 1];
  const t = p + 2;
  if (tagLen === 0 || t + tagLen > e) return null;
  for (let i = t; i < t + tagLen; i++) {
    const c = b[i];
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum) return null;
  }
  return `${b[p]} ${bytesString(b, t, t + tagLen)} ${quotedText(b, t + tagLen, e)}`;
}

function uri(b: Uint8Array, p: number, e: number): string | null {
  if (e - p < 5) return null;
  return `${u16(b, p)} ${u16(b, p + 2)} ${quotedText(b, p + 4, e)}`;
}

function eui(size: number): Render {
  return (b, p, e) => {
    if (e - p !== size) return null;
    const parts: string[] = [];
    for (let i = p; i < e; i++) parts.push((b[i] < 16 ? '0' : '') + b[i].toString(16));
    return parts.join('-');
  };
}

function base64Only(b: Uint8Array, p: number, e: number): string | null {
  return e > p ? base64(b, p, e) : null;
}

// ---- LOC (RFC 1876) ---------------------------------------------------------------------------

/** Size/precision byte (mantissa, power of ten, in cm) as meters like dig: "10000m", "0.50m". */
function locSize(x: number): string | null {
  const m = x >> 4;
  const exp = x & 15;
  if (m > 9 || exp > 9) return null;
  if (exp >= 2) return `${m * 10 ** (exp - 2)}m`;
  const cm = m * 10 ** exp;
  return `${(cm / 100) | 0}.${String(cm % 100).padStart(2, '0')}m`;
}

function locAngle(v: number, pos: string, neg: string): string {
  let x = v - 0x80000000; // thousandths of an arc second from the equator / meridian
  const hemi = x < 0 ? neg : pos;
  if (x < 0) x = -x;
  const deg = Math.floor(x / 3600000);
  x -= deg * 3600000;
  const min = Math.floor(x / 60000);
  x -= min * 60000;
  const sec = Math.floor(x / 1000);
  const ms = x - sec * 1000;
  return `${deg} ${min} ${sec}.${String(ms).padStart(3, '0')} ${hemi}`;
}

function loc(b: Uint8Array, p: number, e: number): string | null {
  if (e - p !== 16 || b[p] !== 0) return null;
  const size = locSize(b[p + 1]);
  const hp = locSize(b[p + 2]);
  const vp = locSize(b[p + 3]);
  if (size === null || hp === null || vp === null) return null;
  const lat = u32(b, p + 4);
  const lon = u32(b, p + 8);
  if (Math.abs(lat - 0x80000000) > 90 * 3600000 || Math.abs(lon - 0x80000000) > 180 * 3600000) return null;
  let alt = u32(b, p + 12) - 10000000; // cm above the WGS 84 reference spheroid, offset by 100 km
  const sign = alt < 0 ? '-' : '';
  if (alt < 0) alt = -alt;
  const altText = `${sign}${Math.floor(alt / 100)}.${String(alt % 100).padStart(2, '0')}m`;
  return `${locAngle(lat, 'N', 'S')} ${locAngle(lon, 'E', 'W')} ${altText} ${size} ${hp} ${vp}`;
}

// ---- SVCB / HTTPS (RFC 9460) ------------------------------------------------------------------

const SVC_KEYS = ['mandatory', 'alpn', 'no-default-alpn', 'port', 'ipv4hint', 'ech', 'ipv6hint', 'dohpath', 'ohttp'];

function svcKey(k: number): string {
  return SVC_KEYS[k] ?? `key${k}`;
}

/** One SvcParam value as text, or null when it does not fit its key. */
function svcValue(key: number, b: Uint8Array, s: number, e: number): string | null {
  const n = e - s;
  switch (key) {
    case 0: {
      if (n === 0 || n % 2 !== 0) return null;
      const keys: string[] = [];
      for (let i = s; i < e; i += 2) keys.push(svcKey(u16(b, i)));
      return keys.join(',');
    }
    case 1: {
      // alpn-ids: length-prefixed, shown comma-separated; a ',' or '\' inside an id gets a backslash
      if (n === 0) return null;
      let o = 0;
      let i = s;
      ensureOut(4 * n + 2);
      while (i < e) {
        const len = b[i];
        if (len === 0 || i + 1 + len > e) return null;
        if (o !== 0) out[o++] = 0x2c;
        o = escapeText(b, i + 1, i + 1 + len, o, true);
        i += 1 + len;
      }
      return outString(o);
    }
    case 2:
    case 8:
      return n === 0 ? '' : null;
    case 3:
      return n === 2 ? String(u16(b, s)) : null;
    case 4: {
      if (n === 0 || n % 4 !== 0) return null;
      const ips: string[] = [];
      for (let i = s; i < e; i += 4) ips.push(ipv4(b, i));
      return ips.join(',');
    }
    case 5:
      return n === 0 ? null : base64(b, s, e);
    case 6: {
      if (n === 0 || n % 16 !== 0) return null;
      const ips: string[] = [];
      for (let i = s; i < e; i += 16) ips.push(ipv6(b, i));
      return ips.join(',');
    }
    default: // dohpath and unknown keys: quoted text
      return n === 0 ? '' : quotedText(b, s, e);
  }
}

function svcb(b: Uint8Array, p: number, e: number, end: number): string | null {
  if (e - p < 3) return null;
  const prio = u16(b, p);
  const target = rname(b, p + 2, e, end);
  if (target === null) return null;
  let s = `${prio} ${target}`;
  let q = nameEnd;
  let lastKey = -1;
  while (q < e) {
    if (e - q < 4) return null;
    const key = u16(b, q);
    const len = u16(b, q + 2);
    const vs = q + 4;
    if (key <= lastKey || vs + len > e) return null; // keys must be strictly increasing
    lastKey = key;
    const v = svcValue(key, b, vs, vs + len);
    if (v === null) return null;
    s += v === '' ? ` ${svcKey(key)}` : ` ${svcKey(key)}=${v}`;
    q = vs + len;
  }
  return s;
}

// ---- table ------------------------------------------------------------------------------------

const BY_TYPE: Record<number, Render> = {
  2: nameOnly, // NS
  3: nameOnly, // MD
  4: nameOnly, // MF
  5: nameOnly, // CNAME
  6: soa,
  7: nameOnly, // MB
  8: nameOnly, // MG
  9: nameOnly, // MR
  12: nameOnly, // PTR
  13: hinfo,
  14: twoNames, // MINFO
  15: prefName, // MX
  16: strings, // TXT
  17: twoNames, // RP
  18: prefName, // AFSDB
  21: prefName, // RT
  24: rrsig, // SIG
  25: dnskey, // KEY
  29: loc,
  33: srv,
  35: naptr,
  36: prefName, // KX
  39: nameOnly, // DNAME
  43: ds,
  44: sshfp,
  46: rrsig,
  47: nsec,
  48: dnskey,
  49: base64Only, // DHCID
  50: nsec3,
  51: nsec3param,
  52: tlsa,
  53: tlsa, // SMIMEA
  59: ds, // CDS
  60: dnskey, // CDNSKEY
  61: base64Only, // OPENPGPKEY
  64: svcb,
  65: svcb, // HTTPS
  99: strings, // SPF
  108: eui(6),
  109: eui(8),
  256: uri,
  257: caa,
  32768: ds, // TA
  32769: ds, // DLV
};

// A dense array for the common range: an object keyed up to 32769 would be a slow dictionary.
const RENDER: (Render | undefined)[] = new Array<Render | undefined>(256).fill(undefined);
const HIGH_RENDER = new Map<number, Render>();
for (const [k, f] of Object.entries(BY_TYPE)) {
  const t = Number(k);
  if (t < 256) RENDER[t] = f;
  else HIGH_RENDER.set(t, f);
}
