// IPv4 and IPv6 fragment reassembly, in capture time so a file replays the same way every run.
//
// Datagrams are keyed as the RFCs say: IPv4 by source, destination, identification and protocol
// (RFC 791), IPv6 by source, destination and identification (RFC 8200). Overlap policy: bytes
// received twice must agree. A fragment wholly covered by agreeing data is a duplicate and is
// dropped alone; any disagreement (or two different ends) discards the whole datagram, as RFC 5722
// requires for IPv6 and applied to IPv4 too, since a passive observer cannot know which copy the
// receiver kept. Every fragment that enters is counted (stats.ipFragments) and every one that does
// not end in a datagram is counted with stats.dropped('defrag', reason, fragments).
import type { Stats } from '../stats.js';
import { PROTO_TCP, PROTO_UDP, type Transport4 } from './ip.js';

export interface DefragOptions {
  timeoutMs: number; // a datagram not complete this long after its first fragment (capture time) expires
  maxFragments: number; // per datagram
  maxBytes: number; // fragment bytes held over all datagrams; the oldest datagrams go first
  maxDatagrams: number; // datagrams held at once
}

export const DEFRAG_DEFAULTS: DefragOptions = { timeoutMs: 30_000, maxFragments: 64, maxBytes: 16 << 20, maxDatagrams: 8192 };

const MAX_DATAGRAM = 65535;

interface Piece {
  start: number; // offset in the fragmentable part
  end: number;
  data: Uint8Array; // a copy: frame buffers are reused by the reader
}

interface Datagram {
  firstMs: number; // capture time of the first fragment seen
  pieces: Piece[]; // sorted by start
  head: Uint8Array | null; // from the offset-0 fragment: IPv4 header, or the fixed IPv6 header
  next: number; // IPv6: the fragment header's next header (from the offset-0 fragment)
  total: number; // length of the fragmentable part once the last fragment is seen, else -1
  bytes: number;
}

// Protocols worth holding: UDP and TCP carry DNS; IPv6 extension headers may precede them.
const V6_HOLD = new Set([PROTO_UDP, PROTO_TCP, 0, 43, 60, 51]);

export class Defragmenter {
  private readonly held = new Map<string, Datagram>(); // insertion order = age
  private bytes = 0;
  private readonly opts: DefragOptions;

  constructor(
    private readonly stats: Stats,
    opts: Partial<DefragOptions> = {},
  ) {
    this.opts = { ...DEFRAG_DEFAULTS, ...opts };
  }

  /** Datagrams waiting for fragments. */
  get pending(): number {
    return this.held.size;
  }

  /** Fragment bytes held over all datagrams. */
  get heldBytes(): number {
    return this.bytes;
  }

  /**
   * Takes the fragment decodeIp found (t.protocol PROTO_FRAGMENT) and counts it: ipFragments,
   * or notDns (not UDP/TCP), or malformed. Returns the whole IP packet when this fragment
   * completes it (a fresh buffer, fragment fields cleared), else null.
   */
  add(data: Uint8Array, t: Transport4, nowMs: number): Uint8Array | null {
    const { stats } = this;
    const v6 = t.version === 6;
    const h = t.tcpHeader; // IPv4: the IP header; IPv6: the fragment header
    let off: number;
    let more: boolean;
    let proto: number;
    if (v6) {
      const w = (data[h + 2] << 8) | data[h + 3];
      off = w & 0xfff8;
      more = (w & 1) !== 0;
      proto = data[h];
      if (!V6_HOLD.has(proto)) {
        stats.notDns++; // ICMPv6, ESP ... in pieces
        return null;
      }
    } else {
      const w = (data[h + 6] << 8) | data[h + 7];
      off = (w & 0x1fff) * 8;
      more = (w & 0x2000) !== 0;
      proto = data[h + 9];
      if (proto !== PROTO_UDP && proto !== PROTO_TCP) {
        stats.notDns++;
        return null;
      }
    }
    const len = t.payloadEnd - t.payloadStart;
    // Every fragment but the last carries a multiple of 8 bytes (RFC 791, RFC 8200).
    if (more && (len === 0 || len % 8 !== 0)) {
      stats.malformedAs('ip:bad-fragment');
      return null;
    }
    stats.ipFragments++;
    const key = v6 ? keyOf(data, t.srcOff, 32, h + 4, 4, -1) : keyOf(data, t.srcOff, 8, h + 4, 2, proto);
    const headLen = v6 ? 40 : (data[h] & 15) * 4;
    const start = off;
    const end = off + len;
    let d = this.held.get(key);
    // IPv4 total length counts its header; IPv6 payload length does not count the fixed 40 bytes.
    if (end + (v6 ? 0 : headLen) > MAX_DATAGRAM) {
      if (d) this.discard(key, d, 'too-big');
      stats.dropped('defrag', 'too-big');
      return null;
    }
    if (d === undefined) {
      if (this.held.size >= this.opts.maxDatagrams) this.evictOldest('datagram-limit');
      d = { firstMs: nowMs, pieces: [], head: null, next: 0, total: -1, bytes: 0 };
      this.held.set(key, d);
    }
    if (d.pieces.length >= this.opts.maxFragments) {
      this.discard(key, d, 'too-many-fragments');
      stats.dropped('defrag', 'too-many-fragments');
      return null;
    }
    // The last fragment fixes the length; a second, different end is a conflict.
    if (!more) {
      if ((d.total >= 0 && d.total !== end) || d.pieces.some((p) => p.end > end)) return this.conflict(key, d);
      d.total = end;
    } else if (d.total >= 0 && end > d.total) {
      return this.conflict(key, d);
    }
    // Overlaps must agree byte for byte; a fragment adding nothing is a duplicate.
    let at = 0;
    let covered = start; // how far [start, end) is covered by pieces so far, walking in order
    for (const p of d.pieces) {
      if (p.start < start || (p.start === start && p.end < end)) at++;
      const lo = Math.max(start, p.start);
      const hi = Math.min(end, p.end);
      if (lo >= hi) continue;
      for (let i = lo; i < hi; i++) if (p.data[i - p.start] !== data[t.payloadStart + i - start]) return this.conflict(key, d);
      if (p.start <= covered) covered = Math.max(covered, p.end);
    }
    if (covered >= end && len > 0) {
      stats.dropped('defrag', 'duplicate');
      return null;
    }
    if (off === 0 && d.head === null) {
      const ip = v6 ? t.srcOff - 8 : h;
      d.head = data.slice(ip, ip + headLen);
      d.next = proto;
    }
    d.pieces.splice(at, 0, { start, end, data: data.slice(t.payloadStart, t.payloadEnd) });
    d.bytes += len;
    this.bytes += len;
    if (this.bytes > this.opts.maxBytes) {
      // Make room by dropping the oldest datagrams, possibly this one.
      for (const [k, old] of this.held) {
        if (this.bytes <= this.opts.maxBytes) break;
        this.discard(k, old, 'memory-limit');
      }
      if (!this.held.has(key)) return null;
    }
    return this.complete(key, d, v6);
  }

  /** Drops datagrams whose first fragment is older than the timeout at capture time nowMs. */
  expire(nowMs: number): void {
    // Insertion order is age order while capture time runs forward; after a step back in time a
    // few datagrams may wait for the next sweep, still within the memory bounds.
    const limit = nowMs - this.opts.timeoutMs;
    for (const [k, d] of this.held) {
      if (d.firstMs > limit) break;
      this.discard(k, d, 'expired');
    }
  }

  /** End of input: whatever is still held is counted as incomplete. */
  finish(): void {
    for (const [k, d] of this.held) this.discard(k, d, 'incomplete-at-end');
  }

  private complete(key: string, d: Datagram, v6: boolean): Uint8Array | null {
    if (d.total < 0 || d.head === null) return null;
    let reach = 0;
    for (const p of d.pieces) {
      if (p.start > reach) return null;
      if (p.end > reach) reach = p.end;
    }
    if (reach < d.total) return null;
    const head = d.head;
    if (!v6 && head.length + d.total > MAX_DATAGRAM) {
      // The first fragment's header is longer than the others promised room for.
      this.discard(key, d, 'too-big');
      return null;
    }
    const out = new Uint8Array(head.length + d.total);
    out.set(head, 0);
    for (const p of d.pieces) out.set(p.data, head.length + p.start);
    if (v6) {
      out[4] = d.total >> 8;
      out[5] = d.total & 255;
      out[6] = d.next; // the fixed header now leads straight to what followed the fragment header
    } else {
      out[2] = out.length >> 8;
      out[3] = out.length & 255;
      out[6] = 0;
      out[7] = 0;
    }
    this.release(key, d);
    return out;
  }

  private conflict(key: string, d: Datagram): null {
    this.discard(key, d, 'overlap-conflict');
    this.stats.dropped('defrag', 'overlap-conflict'); // the fragment at hand
    return null;
  }

  private evictOldest(reason: string): void {
    const first = this.held.entries().next();
    if (!first.done) this.discard(first.value[0], first.value[1], reason);
  }

  private discard(key: string, d: Datagram, reason: string): void {
    if (d.pieces.length > 0) this.stats.dropped('defrag', reason, d.pieces.length);
    this.release(key, d);
  }

  private release(key: string, d: Datagram): void {
    this.bytes -= d.bytes;
    this.held.delete(key);
  }
}

// The key as a string of byte values: addresses (adjacent in both headers), identification, protocol.
function keyOf(data: Uint8Array, addrs: number, addrLen: number, id: number, idLen: number, proto: number): string {
  let s = proto < 0 ? '6' : String.fromCharCode(proto);
  for (let i = 0; i < addrLen; i++) s += String.fromCharCode(data[addrs + i]);
  for (let i = 0; i < idLen; i++) s += String.fromCharCode(data[id + i]);
  return s;
}
