// The hot-path DNS message decoder: one pass over the message, objects only for answers.

import { NO_ANSWERS, type DnsAnswer, type DnsEvent } from '../event.js';
import type { Stats } from '../stats.js';
import { beginMessage, nameError, nameText, readName, readQuestionName, skipName } from './names.js';
import { ipv4, ipv6, renderRdata } from './rdata.js';

const OPT = 41;
const ECS = 8; // EDNS Client Subnet option code (RFC 7871)
const scratch: DnsAnswer[] = []; // answers of the message being decoded, copied out at the end
const MAX_SCRATCH = 64; // longer scratch is emptied after use

/**
 * Fills the DNS fields of ev from the message buf[start, end): header, first question, section
 * counts, answers (rdata as text), EDNS (UDP size, DO, extended rcode, client subnet), size.
 * Returns null on success or a short malformed reason ('dns:short-header', 'dns:bad-label', ...).
 * On failure the fields read so far stay set; the event should be counted, not emitted. Never throws.
 */
export function decodeDnsInto(ev: DnsEvent, buf: Uint8Array, start: number, end: number): string | null {
  ev.size = end - start;
  ev.qname = '';
  ev.qtype = 0;
  ev.qclass = 0;
  // The decoder never pushes into ev.answers (it assigns a new array), so an empty one can stay.
  if (ev.answers.length !== 0) ev.answers = NO_ANSWERS;
  ev.ednsPresent = false;
  ev.ednsUdpSize = 0;
  ev.ednsDo = false;
  ev.ednsClientSubnet = '';
  if (start < 0 || end > buf.length || end - start < 12) {
    ev.qdCount = ev.anCount = ev.nsCount = ev.arCount = 0;
    return 'dns:short-header';
  }
  const b = buf;
  const flags = (b[start + 2] << 8) | b[start + 3];
  ev.id = (b[start] << 8) | b[start + 1];
  ev.qr = (flags & 0x8000) !== 0;
  ev.opcode = (flags >> 11) & 15;
  ev.aa = (flags & 0x0400) !== 0;
  ev.tc = (flags & 0x0200) !== 0;
  ev.rd = (flags & 0x0100) !== 0;
  ev.ra = (flags & 0x0080) !== 0;
  ev.ad = (flags & 0x0020) !== 0;
  ev.cd = (flags & 0x0010) !== 0;
  ev.rcode = flags & 15;
  const qd = (ev.qdCount = (b[start + 4] << 8) | b[start + 5]);
  const an = (ev.anCount = (b[start + 6] << 8) | b[start + 7]);
  const ns = (ev.nsCount = (b[start + 8] << 8) | b[start + 9]);
  const ar = (ev.arCount = (b[start + 10] << 8) | b[start + 11]);

  beginMessage(start, an + ns !== 0);
  let p = start + 12;

  for (let i = 0; i < qd; i++) {
    p = i === 0 ? readQuestionName(b, p, end) : skipName(b, p, end, end);
    if (p < 0) return nameError(p);
    if (p + 4 > end) return 'dns:truncated-question';
    if (i === 0) {
      ev.qname = nameText;
      ev.qtype = (b[p] << 8) | b[p + 1];
      ev.qclass = (b[p + 2] << 8) | b[p + 3];
    }
    p += 4;
  }

  if (an > 0) {
    // Answers go to a scratch array first and are copied out at their exact count: pushing
    // onto an empty array reserves room for 17, most of it garbage for a 1-3 answer response.
    const answers = scratch;
    let n = 0;
    let reason: string | null = null;
    for (let i = 0; i < an; i++) {
      p = readName(b, p, end, end);
      if (p < 0) {
        reason = nameError(p);
        break;
      }
      const name = nameText;
      if (p + 10 > end) {
        reason = 'dns:truncated-rr';
        break;
      }
      const rdStart = p + 10;
      const rdEnd = rdStart + ((b[p + 8] << 8) | b[p + 9]);
      if (rdEnd > end) {
        reason = 'dns:truncated-rr';
        break;
      }
      const type = (b[p] << 8) | b[p + 1];
      answers[n++] = {
        name,
        type,
        class: (b[p + 2] << 8) | b[p + 3],
        ttl: ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0,
        data: renderRdata(type, b, rdStart, rdEnd, end),
      };
      p = rdEnd;
    }
    // A literal for the usual 1-2 answers is cheaper than slice().
    ev.answers = n === 1 ? [answers[0]] : n === 2 ? [answers[0], answers[1]] : answers.slice(0, n);
    if (answers.length > MAX_SCRATCH) answers.length = 0; // do not pin a hostile message's answers
    if (reason !== null) return reason;
  }

  const rest = ns + ar;
  for (let i = 0; i < rest; i++) {
    p = skipName(b, p, end, end);
    if (p < 0) return nameError(p);
    if (p + 10 > end) return 'dns:truncated-rr';
    const rdStart = p + 10;
    const rdEnd = rdStart + ((b[p + 8] << 8) | b[p + 9]);
    if (rdEnd > end) return 'dns:truncated-rr';
    if (i >= ns && ((b[p] << 8) | b[p + 1]) === OPT && !ev.ednsPresent) {
      ev.ednsPresent = true;
      ev.ednsUdpSize = (b[p + 2] << 8) | b[p + 3];
      ev.rcode |= b[p + 4] << 4; // extended rcode: upper 8 bits of the 12
      ev.ednsDo = (b[p + 6] & 0x80) !== 0;
      ev.ednsClientSubnet = clientSubnet(b, rdStart, rdEnd);
    }
    p = rdEnd;
  }
  return null;
}

const ecsAddr = new Uint8Array(16);

/** The first Client Subnet option in OPT rdata [p, e) as "addr/source-prefix", or ''
 *  (absent, or not a well-formed IPv4/IPv6 subnet). Options that overrun the rdata are ignored. */
function clientSubnet(b: Uint8Array, p: number, e: number): string {
  while (p + 4 <= e) {
    const code = (b[p] << 8) | b[p + 1];
    const len = (b[p + 2] << 8) | b[p + 3];
    const s = p + 4;
    if (s + len > e) return '';
    if (code === ECS && len >= 4) {
      const family = (b[s] << 8) | b[s + 1];
      const prefix = b[s + 2];
      const addrLen = len - 4;
      const size = family === 1 ? 4 : family === 2 ? 16 : 0;
      if (size === 0 || addrLen > size || prefix > size * 8) return '';
      ecsAddr.fill(0);
      ecsAddr.set(b.subarray(s + 4, s + len));
      return (size === 4 ? ipv4(ecsAddr, 0) : ipv6(ecsAddr, 0)) + '/' + prefix;
    }
    p = s + len;
  }
  return '';
}

/** decodeDnsInto, counted: true (and dnsMessages + 1) when ev holds a message to emit, false (and
 *  counted as malformed under its reason) when not. Every input decodes its DNS through here. */
export function decodeCounted(ev: DnsEvent, buf: Uint8Array, start: number, end: number, stats: Stats): boolean {
  let reason: string | null;
  try {
    reason = decodeDnsInto(ev, buf, start, end);
  } catch {
    // The decoder checks its bounds; this only keeps a decoder bug from ending the capture.
    reason = 'dns:decoder-error';
  }
  if (reason !== null) {
    stats.malformedAs(reason);
    return false;
  }
  stats.dnsMessages++;
  return true;
}
