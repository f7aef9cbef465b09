// --maskSize4 / --maskSize6: keep only the leading bits of IP addresses, on every event from every
// input, as the last step before the outputs. Addresses arrive as text (what the decoder, dnstap
// and log readers produce) and leave as text in the decoder's format (RFC 5952 for IPv6).
import { ipv6Text } from '../addr.js';

const CACHE_MAX = 65_536; // distinct addresses remembered; the same clients and servers recur

export class AddressMasker {
  private readonly cache = new Map<string, string>();

  constructor(
    readonly bits4: number,
    readonly bits6: number,
  ) {}

  get active(): boolean {
    return this.bits4 < 32 || this.bits6 < 128;
  }

  /** The masked address; text that is not an address (or "") comes back unchanged. */
  mask(text: string): string {
    if (text === '') return text;
    let out = this.cache.get(text);
    if (out === undefined) {
      // An IPv4-mapped address (dnstap from dual-stack sockets) is an IPv4 client: the IPv4 mask applies too.
      const v6 = text.indexOf(':') >= 0;
      const bits6 = v6 && isMapped(text) ? Math.min(this.bits6, 96 + this.bits4) : this.bits6;
      out = v6 ? maskIpv6Text(text, bits6) : maskIpv4Text(text, this.bits4);
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(text, out);
    }
    return out;
  }

  /** An EDNS client subnet "addr/len": the address masked, the length cut to the mask. */
  maskSubnet(text: string): string {
    const slash = text.lastIndexOf('/');
    if (slash < 0) return this.mask(text);
    const addr = text.slice(0, slash);
    const len = Number(text.slice(slash + 1));
    const bits = addr.indexOf(':') >= 0 ? this.bits6 : this.bits4;
    const keep = Number.isInteger(len) ? Math.min(len, bits) : bits;
    return `${addr.indexOf(':') >= 0 ? maskIpv6Text(addr, keep) : maskIpv4Text(addr, keep)}/${keep}`;
  }
}

/** ::ffff:0:0/96, however it is written. */
function isMapped(text: string): boolean {
  const b = ipv6Bytes(text);
  if (b === null) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** "192.0.2.77" with 24 bits -> "192.0.2.0"; not a dotted quad -> unchanged. */
export function maskIpv4Text(text: string, bits: number): string {
  const parts = text.split('.');
  if (parts.length !== 4) return text;
  let out = '';
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return text;
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    const octet = Number(p) & ((0xff << (8 - keep)) & 0xff);
    out += (i ? '.' : '') + octet;
  }
  return out;
}

/** "2001:db8:1:2::5" with 48 bits -> "2001:db8:1::"; not an IPv6 address -> unchanged. */
export function maskIpv6Text(text: string, bits: number): string {
  const bytes = ipv6Bytes(text);
  if (bytes === null) return text;
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return ipv6Text(bytes, 0);
}

/** IPv6 text (with "::", a trailing dotted quad, or a %zone) -> 16 bytes, or null. */
export function ipv6Bytes(text: string): Uint8Array | null {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const halves = s.split('::');
  if (halves.length > 2) return null;
  // A dotted quad may only end the address.
  const groups = (part: string, last: boolean): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i];
      if (last && i === items.length - 1 && g.indexOf('.') >= 0) {
        const q = g.split('.');
        if (q.length !== 4 || q.some((o) => !/^\d{1,3}$/.test(o) || Number(o) > 255)) return null;
        out.push((Number(q[0]) << 8) | Number(q[1]), (Number(q[2]) << 8) | Number(q[3]));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        out.push(parseInt(g, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groups(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groups(halves[1], true) : [];
  if (head === null || tail === null) return null;
  const total = head.length + tail.length;
  if (halves.length === 2 ? total > 7 : total !== 8) return null;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = words[i] >> 8;
    bytes[2 * i + 1] = words[i] & 0xff;
  }
  return bytes;
}
