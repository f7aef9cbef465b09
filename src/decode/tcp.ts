// DNS over TCP: per connection and direction, the byte stream is rebuilt from segments and cut
// into 2-byte length-prefixed DNS messages (RFC 1035 §4.2.2, RFC 7766). Each message is decoded
// when the segment that completes it arrives, and takes that segment's capture time.
//
// Bounded: half-streams held (least recently used evicted first), out-of-order segments per
// direction (count and distance ahead of the expected byte), bytes held overall. A message
// needs at most 65,537 bytes in order, so a direction holds at most that plus its window.
// Everything discarded is counted with stats.dropped('tcp', reason).
import type { DnsEvent } from '../event.js';
import type { Stats } from '../stats.js';
import { decodeCounted } from './dns.js';
import { ipv4Text, ipv6TextCached } from '../addr.js';
import type { Transport4 } from './ip.js';
import { messageEvent, type DecodeContext } from './packet.js';

export interface TcpOptions {
  idleMs: number; // a direction silent this long (capture time) is closed
  maxStreams: number; // directions held at once
  maxPendingSegments: number; // out-of-order segments held per direction
  windowBytes: number; // how far past the expected byte a segment may start and still be held
  maxBytes: number; // bytes held over all directions
}

export const TCP_DEFAULTS: TcpOptions = { idleMs: 60_000, maxStreams: 65_536, maxPendingSegments: 64, windowBytes: 256 << 10, maxBytes: 64 << 20 };

const FIN = 1;
const SYN = 2;
const RST = 4;
const EMPTY = new Uint8Array(0);

interface Segment {
  seq: number;
  data: Uint8Array;
}

/** One direction of a connection. */
interface Half {
  key: string;
  version: number;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  known: boolean; // next is the sequence number of the next byte, at or inside a message we follow
  next: number;
  buf: Uint8Array; // in-order bytes not yet cut into messages: buf[start, end)
  start: number;
  end: number;
  pending: Segment[]; // out-of-order segments, by sequence number
  pendingBytes: number;
  fin: number; // sequence number of the FIN, -1 before it
  lastMs: number;
  held: number; // bytes this direction holds, as counted in the total
}

export class TcpReassembler {
  private readonly streams = new Map<string, Half>(); // least recently used first
  private total = 0;
  private readonly opts: TcpOptions;

  constructor(
    private readonly stats: Stats,
    opts: Partial<TcpOptions> = {},
  ) {
    this.opts = { ...TCP_DEFAULTS, ...opts };
  }

  /** Directions held. */
  get pending(): number {
    return this.streams.size;
  }

  /** Bytes held over all directions. */
  get heldBytes(): number {
    return this.total;
  }

  /** A TCP segment on a DNS port (decodeIp filled t); DNS messages it completes go onto out. */
  segment(data: Uint8Array, t: Transport4, tsSec: number, tsNsec: number, nowMs: number, ctx: DecodeContext, out: DnsEvent[]): void {
    this.stats.tcpSegments++;
    const h = t.tcpHeader;
    const seq = ((data[h + 4] << 24) | (data[h + 5] << 16) | (data[h + 6] << 8) | data[h + 7]) >>> 0;
    const flags = data[h + 13];
    const addrLen = t.version === 4 ? 4 : 16;
    const key = keyOf(data, t.srcOff, t.srcPort, t.dstOff, t.dstPort, addrLen);
    if (flags & RST) {
      // A reset ends the connection both ways.
      const s = this.streams.get(key);
      if (s) this.close(s, 'rst');
      const r = this.streams.get(keyOf(data, t.dstOff, t.dstPort, t.srcOff, t.srcPort, addrLen));
      if (r) this.close(r, 'rst');
      return;
    }
    const len = t.payloadEnd - t.payloadStart;
    let s = this.streams.get(key);
    let dataSeq = seq;
    if (flags & SYN) {
      dataSeq = (seq + 1) >>> 0;
      // A retransmitted SYN keeps the stream; one far off is a new connection on the same ports.
      if (s && !(s.known && Math.abs((dataSeq - s.next) | 0) <= this.opts.windowBytes)) {
        this.close(s, 'reused');
        s = undefined;
      }
      if (!s) s = this.open(key, data, t);
      else this.touch(s);
      if (!s.known) {
        s.known = true;
        s.next = dataSeq;
      }
    } else if (!s) {
      if (len === 0) return; // an ACK or FIN of a connection with nothing held
      s = this.open(key, data, t);
    } else {
      this.touch(s);
    }
    s.lastMs = nowMs;
    if (len > 0) this.data(s, data, t.payloadStart, t.payloadEnd, dataSeq, tsSec, tsNsec, ctx, out);
    if (flags & FIN) s.fin = (dataSeq + len) >>> 0;
    if (s.fin >= 0 && s.known && s.next === s.fin && s.pending.length === 0) {
      this.close(s, 'fin');
      return;
    }
    this.account(s);
  }

  /** Closes directions silent for the idle time at capture time nowMs. */
  expire(nowMs: number): void {
    const limit = nowMs - this.opts.idleMs;
    for (const s of this.streams.values()) {
      if (s.lastMs > limit) break;
      this.close(s, 'idle');
    }
  }

  /** End of input: closes every direction, counting what was cut short. */
  finish(): void {
    for (const s of this.streams.values()) this.close(s, 'end');
  }

  // Keeps the map in least-recently-used order, for idle expiry and eviction.
  private touch(s: Half): void {
    this.streams.delete(s.key);
    this.streams.set(s.key, s);
  }

  private open(key: string, data: Uint8Array, t: Transport4): Half {
    if (this.streams.size >= this.opts.maxStreams) {
      const oldest = this.streams.values().next();
      if (!oldest.done) this.close(oldest.value, 'stream-limit');
    }
    const v4 = t.version === 4;
    const s: Half = {
      key,
      version: t.version,
      srcIp: v4 ? ipv4Text(data, t.srcOff) : ipv6TextCached(data, t.srcOff),
      dstIp: v4 ? ipv4Text(data, t.dstOff) : ipv6TextCached(data, t.dstOff),
      srcPort: t.srcPort,
      dstPort: t.dstPort,
      known: false,
      next: 0,
      buf: EMPTY,
      start: 0,
      end: 0,
      pending: [],
      pendingBytes: 0,
      fin: -1,
      lastMs: 0,
      held: 0,
    };
    this.streams.set(key, s);
    return s;
  }

  private data(s: Half, data: Uint8Array, from: number, to: number, seq: number, tsSec: number, tsNsec: number, ctx: DecodeContext, out: DnsEvent[]): void {
    if (!s.known) {
      // Seen mid-stream: wait for a segment that starts with a plausible length-prefixed message.
      if (!plausible(data, from, to)) {
        this.stats.dropped('tcp', 'unsynced');
        return;
      }
      s.known = true;
      s.next = seq;
    }
    const d = (seq - s.next) | 0;
    if (d > 0) {
      this.hold(s, seq, data, from, to, tsSec, tsNsec, ctx, out);
      return;
    }
    if (-d >= to - from) {
      this.stats.dropped('tcp', 'retransmit');
      return;
    }
    from -= d;
    s.next = (s.next + (to - from)) >>> 0;
    if (s.end === s.start) {
      // Nothing buffered (the usual case): cut whole messages straight from the segment.
      while (to - from >= 2) {
        const mlen = (data[from] << 8) | data[from + 1];
        if (to - from - 2 < mlen) break;
        this.emit(s, data, from + 2, from + 2 + mlen, tsSec, tsNsec, ctx, out);
        from += 2 + mlen;
      }
      if (from < to) this.append(s, data, from, to);
    } else {
      this.append(s, data, from, to);
      this.cut(s, tsSec, tsNsec, ctx, out);
    }
    // The gap may now be filled.
    while (s.pending.length > 0) {
      const p = s.pending[0];
      const e = (p.seq - s.next) | 0;
      if (e > 0) break;
      s.pending.shift();
      s.pendingBytes -= p.data.length;
      if (-e >= p.data.length) {
        this.stats.dropped('tcp', 'retransmit');
        continue;
      }
      this.append(s, p.data, -e, p.data.length);
      s.next = (s.next + p.data.length + e) >>> 0;
      this.cut(s, tsSec, tsNsec, ctx, out);
    }
  }

  // An out-of-order segment: held until the gap before it fills, within the window.
  private hold(s: Half, seq: number, data: Uint8Array, from: number, to: number, tsSec: number, tsNsec: number, ctx: DecodeContext, out: DnsEvent[]): void {
    const ahead = (seq - s.next) | 0;
    if (ahead > this.opts.windowBytes || s.pending.length >= this.opts.maxPendingSegments) {
      // The missing bytes are not coming (lost in capture): give up on them and start over.
      this.lose(s, 'gap');
      this.data(s, data, from, to, seq, tsSec, tsNsec, ctx, out);
      return;
    }
    let at = s.pending.length;
    while (at > 0 && ((s.pending[at - 1].seq - seq) | 0) > 0) at--;
    const prev = s.pending[at - 1];
    if (prev && prev.seq === seq && prev.data.length >= to - from) {
      this.stats.dropped('tcp', 'retransmit');
      return;
    }
    s.pending.splice(at, 0, { seq, data: data.slice(from, to) });
    s.pendingBytes += to - from;
  }

  private append(s: Half, data: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (s.end + n > s.buf.length) {
      const live = s.end - s.start;
      if (live + n <= s.buf.length) {
        s.buf.copyWithin(0, s.start, s.end);
      } else {
        const grown = new Uint8Array(Math.max(1024, 2 * s.buf.length, live + n));
        grown.set(s.buf.subarray(s.start, s.end));
        s.buf = grown;
      }
      s.start = 0;
      s.end = live;
    }
    s.buf.set(data.subarray(from, to), s.end);
    s.end += n;
  }

  // Every complete message in the buffer becomes an event (or a malformed count).
  private cut(s: Half, tsSec: number, tsNsec: number, ctx: DecodeContext, out: DnsEvent[]): void {
    const b = s.buf;
    let p = s.start;
    while (s.end - p >= 2) {
      const mlen = (b[p] << 8) | b[p + 1];
      if (s.end - p - 2 < mlen) break;
      this.emit(s, b, p + 2, p + 2 + mlen, tsSec, tsNsec, ctx, out);
      p += 2 + mlen;
    }
    if (p === s.end) {
      s.start = s.end = 0;
      if (s.buf.length > 4096) s.buf = EMPTY; // give back what a large message needed
    } else {
      s.start = p;
    }
  }

  private emit(s: Half, b: Uint8Array, from: number, to: number, tsSec: number, tsNsec: number, ctx: DecodeContext, out: DnsEvent[]): void {
    const { stats } = this;
    stats.tcpMessages++;
    const ev = messageEvent(ctx, tsSec, tsNsec, s.version, 'tcp');
    ev.srcIp = s.srcIp;
    ev.dstIp = s.dstIp;
    ev.srcPort = s.srcPort;
    ev.dstPort = s.dstPort;
    if (decodeCounted(ev, b, from, to, stats)) out.push(ev);
  }

  // Drops what the direction holds, counting a message cut short and segments never placed.
  private lose(s: Half, why: string): void {
    if (s.end > s.start) this.stats.dropped('tcp', `partial-message-at-${why}`);
    if (s.pending.length > 0) this.stats.dropped('tcp', `unplaced-segments-at-${why}`, s.pending.length);
    s.start = s.end = 0;
    s.buf = EMPTY;
    s.pending = [];
    s.pendingBytes = 0;
    s.known = false;
  }

  private close(s: Half, why: string): void {
    this.lose(s, why);
    this.total -= s.held;
    this.streams.delete(s.key);
  }

  private account(s: Half): void {
    const held = s.buf.length + s.pendingBytes;
    this.total += held - s.held;
    s.held = held;
    if (this.total <= this.opts.maxBytes) return;
    for (const o of this.streams.values()) {
      if (this.total <= this.opts.maxBytes) break;
      if (o !== s) this.close(o, 'memory-limit');
    }
  }
}

/** Does data[from, to) start with a length prefix and a DNS header that look right? */
export function plausible(data: Uint8Array, from: number, to: number): boolean {
  if (to - from < 14) return false;
  const len = (data[from] << 8) | data[from + 1];
  if (len < 12) return false;
  const h = from + 2;
  const opcode = (data[h + 2] >> 3) & 15;
  if (opcode === 3 || opcode > 6) return false;
  if ((data[h + 3] & 0x40) !== 0) return false; // the Z bit is always 0
  const qd = (data[h + 4] << 8) | data[h + 5];
  if (qd > 1) return false;
  // Each record takes at least 11 bytes, a question 5.
  const rr = ((data[h + 6] << 8) | data[h + 7]) + ((data[h + 8] << 8) | data[h + 9]) + ((data[h + 10] << 8) | data[h + 11]);
  return 12 + 5 * qd + 11 * rr <= len;
}

// Source port and address, then destination port and address, as 16-bit characters (one flat
// string, made in one call: this runs for every segment).
function keyOf(d: Uint8Array, s: number, srcPort: number, t: number, dstPort: number, addrLen: number): string {
  const w = (o: number) => (d[o] << 8) | d[o + 1];
  if (addrLen === 4) return String.fromCharCode(srcPort, w(s), w(s + 2), dstPort, w(t), w(t + 2));
  return String.fromCharCode(
    srcPort, w(s), w(s + 2), w(s + 4), w(s + 6), w(s + 8), w(s + 10), w(s + 12), w(s + 14),
    dstPort, w(t), w(t + 2), w(t + 4), w(t + 6), w(t + 8), w(t + 10), w(t + 12), w(t + 14),
  );
}
