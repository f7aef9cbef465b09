// --dedup: drop a packet (or a dnstap/log message) seen before within --dedupCleanupInterval.
// Packets are keyed on their IP packet without the link layer and without what routers rewrite
// (TTL / hop limit, checksum, TOS), so one packet seen on two taps or two VLANs counts once.
// Time is capture time, so a file replays the same way every run.
import { randomBytes } from 'node:crypto';
import type { DnsEvent } from '../event.js';
import type { Frame } from '../frame.js';
import { defineTransform, type EventTransform } from '../component.js';
import { bool, dur } from '../options.js';
import type { Stats } from '../stats.js';

/** Largest number of keys remembered; beyond it the oldest is forgotten early (counted as dedup's "evicted"). */
/** Keys forgotten early because the table was full: a later repeat of those may pass. */
export const DEDUP_COUNTERS = { evicted: 'forgotten early, table full' } as const;

export const DEDUP_MAX_ENTRIES = 500_000;

/**
 * Keys first seen within the last `windowMs`. Memory is bounded twice: keys older than the
 * window are dropped from the front of a ring kept in arrival order (time order, for a capture),
 * and with `maxEntries` in the ring the oldest goes first. The ring, not Map iteration, finds the
 * oldest: iterating a Map from the front after many deletes walks their tombstones every time.
 */
export class DedupWindow<K> {
  private readonly firstSeen = new Map<K, number>();
  private readonly keys: K[];
  private readonly times: Float64Array;
  private head = 0;
  private count = 0;
  evicted = 0; // keys forgotten before their window ended because the table was full

  constructor(
    readonly windowMs: number,
    readonly maxEntries = DEDUP_MAX_ENTRIES,
  ) {
    this.keys = new Array<K>(maxEntries);
    this.times = new Float64Array(maxEntries);
  }

  get size(): number {
    return this.firstSeen.size;
  }

  /** True when key was seen within the window around nowMs; otherwise remembers it. */
  seen(key: K, nowMs: number): boolean {
    while (this.count > 0 && nowMs - this.times[this.head] > this.windowMs) this.dropOldest();
    const t = this.firstSeen.get(key);
    if (t !== undefined && Math.abs(nowMs - t) <= this.windowMs) return true;
    // New, or remembered but too far in the past (time went backwards in the file): (re)start its window.
    if (this.count === this.maxEntries && this.dropOldest()) this.evicted++;
    const tail = (this.head + this.count) % this.maxEntries;
    this.keys[tail] = key;
    this.times[tail] = nowMs;
    this.count++;
    this.firstSeen.set(key, nowMs);
    return false;
  }

  /** Drops the ring's oldest slot; true when it was still the key's current entry. */
  private dropOldest(): boolean {
    const k = this.keys[this.head];
    const current = this.firstSeen.get(k) === this.times[this.head];
    if (current) this.firstSeen.delete(k);
    this.keys[this.head] = undefined as K; // let the key go
    this.head = this.head + 1 === this.maxEntries ? 0 : this.head + 1;
    this.count--;
    return current;
  }
}

/**
 * A key of the IP packet at data[ip, end): two 32-bit hashes over the fields that stay the same
 * between taps, left in h1/h2 for PacketWindow and returned folded into 53 bits. Left out: TTL / hop limit, IPv4 header checksum and TOS / traffic class
 * (routers rewrite them) and the UDP or TCP checksum (a capture on the sending host sees it
 * before checksum offload fills it in). -1 when the header is too short to read (decodeIp then
 * counts the packet malformed).
 */
export function packetKey(data: Uint8Array, ip: number, end: number): number {
  if (ip >= end) return -1;
  const version = data[ip] >> 4;
  h1 = SEEDS[0];
  h2 = SEEDS[1];
  let stop: number;
  let payload: number; // after the IP header
  let proto: number; // UDP or TCP when payload starts with its header

  if (version === 4) {
    const ihl = (data[ip] & 0x0f) * 4;
    if (ihl < 20 || ip + ihl > end) return -1;
    // Trailing link padding is not part of the packet; a short capture keeps what it has.
    stop = Math.max(ip + 20, Math.min(end, ip + ((data[ip + 2] << 8) | data[ip + 3])));
    proto = data[ip + 9];
    payload = ip + ihl;
    if (((data[ip + 6] & 0x1f) | data[ip + 7]) !== 0) proto = -1; // a later fragment: no UDP/TCP header
    mix(data, ip + 4, ip + 8); // identification, flags, fragment offset
    mix(data, ip + 9, ip + 10); // protocol
    mix(data, ip + 12, ip + ihl); // addresses, options
  } else if (version === 6) {
    if (ip + 40 > end) return -1;
    stop = Math.min(end, ip + 40 + ((data[ip + 4] << 8) | data[ip + 5]));
    proto = data[ip + 6];
    payload = ip + 40; // extension headers are hashed whole (then proto is not UDP/TCP)
    mix(data, ip + 4, ip + 7); // payload length, next header
    mix(data, ip + 8, ip + 40); // addresses
  } else {
    return -1;
  }
  const sumAt = proto === 17 ? payload + 6 : proto === 6 ? payload + 16 : -1;
  if (sumAt < 0 || sumAt + 2 > stop) {
    mix(data, payload, stop);
  } else {
    mix(data, payload, sumAt);
    mix(data, sumAt + 2, stop);
  }
  h1 = fmix(h1);
  h2 = fmix(h2 ^ (stop - ip));
  return (h1 >>> 0) * 0x200000 + (h2 & 0x1fffff);
}

// Two 32-bit hashes, in module state (no object per packet), 4 bytes per step. Their seeds are
// random per process: a packet crafted offline to collide with another, and so be taken for its
// duplicate, would need the seeds.
const SEEDS = new Uint32Array(randomBytes(8).buffer);
let h1 = 0;
let h2 = 0;
function mix(data: Uint8Array, from: number, to: number): void {
  let a = h1;
  let b = h2;
  let i = from;
  for (; i + 4 <= to; i += 4) {
    const w = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    a = Math.imul(a ^ w, 0xcc9e2d51);
    a ^= a >>> 15;
    b = Math.imul(b + w, 0x85ebca6b);
    b ^= b >>> 13;
  }
  for (; i < to; i++) {
    a = Math.imul(a ^ data[i], 0xcc9e2d51);
    a ^= a >>> 15;
    b = Math.imul(b + data[i], 0x85ebca6b);
    b ^= b >>> 13;
  }
  h1 = a;
  h2 = b;
}

// The murmur3 finaliser: every input bit reaches every output bit.
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * DedupWindow for packet keys (the two 32-bit hashes of packetKey) in typed arrays: an
 * open-addressing table (linear probing, deletion by backward shift) and a ring in arrival
 * order. No Map and no garbage per packet.
 */
export class PacketWindow {
  private readonly mask: number;
  private readonly keyA: Uint32Array;
  private readonly keyB: Uint32Array;
  private readonly at: Float64Array; // when the key's window started
  private readonly used: Uint8Array;
  private readonly ringA: Uint32Array;
  private readonly ringB: Uint32Array;
  private readonly ringAt: Float64Array;
  private head = 0;
  private count = 0;
  size = 0; // keys in the table
  evicted = 0; // keys forgotten before their window ended because the table was full

  constructor(
    readonly windowMs: number,
    readonly maxEntries = DEDUP_MAX_ENTRIES,
  ) {
    let cap = 8;
    while (cap < maxEntries * 2) cap *= 2; // at most half full: short probes
    this.mask = cap - 1;
    this.keyA = new Uint32Array(cap);
    this.keyB = new Uint32Array(cap);
    this.at = new Float64Array(cap);
    this.used = new Uint8Array(cap);
    this.ringA = new Uint32Array(maxEntries);
    this.ringB = new Uint32Array(maxEntries);
    this.ringAt = new Float64Array(maxEntries);
  }

  /** True when (a, b) was seen within the window around nowMs; otherwise remembers it. */
  seen(a: number, b: number, nowMs: number): boolean {
    while (this.count > 0 && nowMs - this.ringAt[this.head] > this.windowMs) this.dropOldest();
    let i = this.find(a, b);
    if (i >= 0 && Math.abs(nowMs - this.at[i]) <= this.windowMs) return true;
    if (this.count === this.maxEntries) {
      if (this.dropOldest()) this.evicted++;
      if (i >= 0) i = this.find(a, b); // a removal may have shifted it
    }
    if (i >= 0) {
      this.at[i] = nowMs; // remembered, but too far in the past (time went backwards): restart its window
    } else {
      let h = slotOf(a, b) & this.mask;
      while (this.used[h]) h = (h + 1) & this.mask;
      this.used[h] = 1;
      this.keyA[h] = a;
      this.keyB[h] = b;
      this.at[h] = nowMs;
      this.size++;
    }
    const tail = (this.head + this.count) % this.maxEntries;
    this.ringA[tail] = a;
    this.ringB[tail] = b;
    this.ringAt[tail] = nowMs;
    this.count++;
    return false;
  }

  private find(a: number, b: number): number {
    for (let h = slotOf(a, b) & this.mask; this.used[h]; h = (h + 1) & this.mask) {
      if (this.keyA[h] === a && this.keyB[h] === b) return h;
    }
    return -1;
  }

  /** Drops the ring's oldest slot; true when it was still its key's window (the key is removed). */
  private dropOldest(): boolean {
    const i = this.find(this.ringA[this.head], this.ringB[this.head]);
    const current = i >= 0 && this.at[i] === this.ringAt[this.head];
    if (current) this.remove(i);
    this.head = this.head + 1 === this.maxEntries ? 0 : this.head + 1;
    this.count--;
    return current;
  }

  // Backward-shift deletion: later keys of the probe run move up, so lookups need no tombstones.
  private remove(i: number): void {
    this.used[i] = 0;
    this.size--;
    for (let j = (i + 1) & this.mask; this.used[j]; j = (j + 1) & this.mask) {
      const home = slotOf(this.keyA[j], this.keyB[j]) & this.mask;
      if (((j - home) & this.mask) >= ((j - i) & this.mask)) {
        this.keyA[i] = this.keyA[j];
        this.keyB[i] = this.keyB[j];
        this.at[i] = this.at[j];
        this.used[i] = 1;
        this.used[j] = 0;
        i = j;
      }
    }
  }
}

function slotOf(a: number, b: number): number {
  return (a ^ Math.imul(b, 0x9e3779b1)) >>> 0;
}

function frameMs(frame: Frame): number {
  return frame.tsSec * 1000 + frame.tsNsec / 1e6;
}

/** The keepPacket test for --dedup: false for a repeat, counted as dedup:duplicate and in skippedPackets. */
export function packetDeduper(windowMs: number, stats: Stats, maxEntries = DEDUP_MAX_ENTRIES) {
  const window = new PacketWindow(windowMs, maxEntries);
  return (data: Uint8Array, ip: number, end: number, frame: Frame): boolean => {
    if (packetKey(data, ip, end) < 0) return true;
    const evicted = window.evicted;
    const dup = window.seen(h1, h2, frameMs(frame));
    if (window.evicted !== evicted) stats.counters('dedup', DEDUP_COUNTERS).add('evicted');
    if (!dup) return true;
    stats.dropped('dedup', 'duplicate');
    stats.skippedPackets++;
    return false;
  };
}

/** A dnstap or log message's identity: who to whom, DNS id, direction and question. */
export function messageKey(ev: DnsEvent): string {
  return `${ev.srcIp}|${ev.srcPort}|${ev.dstIp}|${ev.dstPort}|${ev.transport}|${ev.id}|${ev.qr ? 1 : 0}|${ev.qtype}|${ev.qclass}|${ev.qname}`;
}

/** --dedup for dnstap and log events (packet inputs are deduplicated before decoding). */
export function dedupMessages(windowMs: number, stats: Stats, maxEntries = DEDUP_MAX_ENTRIES): EventTransform {
  const window = new DedupWindow<string>(windowMs, maxEntries);
  let evicted = 0;
  return {
    name: 'dedup',
    apply(events) {
      let kept: DnsEvent[] | null = null;
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        // dnstap: the same message reported twice; logs: the same line read twice (by its hash: log
        // events have no ids or ports, so a repeated query would look like a copy of the first)
        const key = ev.inputKind === 'dnstap' ? messageKey(ev) : ev.inputKind === 'log' ? ev.eventHash : null;
        if (key === null || !window.seen(key, ev.timeSec * 1000 + ev.timeNsec / 1e6)) {
          kept?.push(ev);
          continue;
        }
        stats.dropped('dedup', 'duplicate');
        kept ??= events.slice(0, i);
      }
      if (window.evicted !== evicted) {
        stats.counters('dedup', DEDUP_COUNTERS).add('evicted', window.evicted - evicted);
        evicted = window.evicted;
      }
      return kept ?? events;
    },
  };
}

export const dedup = defineTransform({
  kind: 'transform',
  name: 'dedup',
  section: 'capture',
  counters: DEDUP_COUNTERS,
  options: [
    dur('dedupCleanupInterval', 'capture', '60s', 'Dedup window: a packet seen again within this long (capture time) is a duplicate'),
    bool('dedup', 'capture', 'Drop (and count) repeated packets: same IP packet, whatever the link layer, TTL or checksum (dnstap: same message; logs: same line of the same file)'),
  ],
  open({ settings, stats }) {
    if (!settings.dedup) return null;
    return { packet: packetDeduper(settings.dedupCleanupInterval, stats), event: dedupMessages(settings.dedupCleanupInterval, stats) };
  },
});
