// Query/response matching. A query is held until its response arrives (both then go out, each
// carrying the response time) or until --matchTimeout of capture time has passed (it goes out
// marked unanswered). Time is the largest capture time seen so far, so a pcap replays the same
// way every run and events a little out of order do not move the clock back.
//
// Key: transport, client address and port, server address and port, DNS id and question. A
// repeated query with the same key while the first waits is a duplicate (a retransmission): it
// passes at once, unmatched, and the response time counts from the first one, as tshark does.
import type { DnsEvent } from '../event.js';
import { defineTransform, type EventTransform } from '../component.js';
import { budget } from '../memory.js';
import { dur } from '../options.js';
import type { Counters, Stats } from '../stats.js';

export const DEFAULT_MAX_PENDING = 200_000;

// A waiting query holds its event: ~450 bytes of live heap (200,000 held: 87 MB), about twice
// that in a heap that is collected as it goes. The table may take a tenth of --memoryLimit.
const PENDING_BYTES = 1000;
const MIN_PENDING = 10_000;

/** Queries held at most under a memory limit in bytes (0 = none). */
export function maxPendingFor(memoryLimit: number): number {
  return Math.floor(budget(memoryLimit, 1 / 10, MIN_PENDING * PENDING_BYTES, DEFAULT_MAX_PENDING * PENDING_BYTES) / PENDING_BYTES);
}

/** The matcher's counters (in the summary under "match"); every event still goes out. */
export const MATCH_COUNTERS = {
  answered: 'answered queries', // responses paired with their query
  unanswered: 'unanswered queries', // released after --matchTimeout (or at end of input) without a response
  orphans: 'orphan responses', // whose query was not seen (or already given up)
  duplicates: 'duplicate queries', // repeated while the first still waited (retransmission)
  evicted: 'released, table full', // released unmatched: the table of waiting queries was full
} as const;

type Count = keyof typeof MATCH_COUNTERS;

export interface MatchOptions {
  timeoutMs: number; // > 0
  stats: Stats; // the counters go to stats.counters('match')
  maxPending?: number; // queries held at most; beyond it the oldest goes out unmatched
}

interface Pending {
  slot: number; // the table key: client port and DNS id
  ev: DnsEvent;
  atUs: number; // capture time of the query, µs since the epoch (exact in a double until 2255)
  done: boolean; // answered or released; its slot in the queue is skipped
  next: Pending | null; // other queries in the same slot
}

function timeUs(ev: DnsEvent): number {
  return ev.timeSec * 1e6 + Math.floor(ev.timeNsec / 1000);
}

// Client port and id in 30 bits, a small integer V8 hashes fast; the rest of the key is compared
// field by field on the few queries that share a slot (no key string is built per event).
function slotOf(clientPort: number, id: number): number {
  return ((clientPort & 0x3fff) << 16) | (id & 0xffff);
}

// q is a waiting query; e is a query (asResponse false) or a response to compare with it.
function sameExchange(q: DnsEvent, e: DnsEvent, asResponse: boolean): boolean {
  if (q.id !== e.id || q.qtype !== e.qtype || q.qclass !== e.qclass || q.transport !== e.transport || q.qname !== e.qname) return false;
  return asResponse
    ? q.srcPort === e.dstPort && q.dstPort === e.srcPort && q.srcIp === e.dstIp && q.dstIp === e.srcIp
    : q.srcPort === e.srcPort && q.dstPort === e.dstPort && q.srcIp === e.srcIp && q.dstIp === e.dstIp;
}

export class Matcher implements EventTransform {
  readonly name = 'match';
  private readonly timeoutUs: number;
  private readonly maxPending: number;
  private readonly counters: Counters;
  // Counted here per event, added to the shared counters once per batch (a Map update per event costs).
  private readonly n: Record<Count, number> = { answered: 0, unanswered: 0, orphans: 0, duplicates: 0, evicted: 0 };
  private readonly bySlot = new Map<number, Pending>(); // first query of each slot; the others chain on
  private size = 0;
  // Held queries in arrival order; answered ones stay as `done` until they reach the head.
  private queue: Pending[] = [];
  private head = 0;
  private clockUs = -Infinity;
  private clockAtBatchUs = 0; // the clock, and the wall time, when the last batch was done (for tick)
  private wallAtBatchMs = 0;

  constructor(opts: MatchOptions) {
    if (!(opts.timeoutMs > 0)) throw new Error('match: timeoutMs must be > 0 (0 turns matching off: do not create the transform)');
    this.timeoutUs = Math.round(opts.timeoutMs * 1000);
    this.maxPending = Math.max(1, opts.maxPending ?? DEFAULT_MAX_PENDING);
    this.counters = opts.stats.counters('match', MATCH_COUNTERS);
  }

  private settle(): void {
    for (const k of Object.keys(this.n) as Count[]) {
      if (this.n[k] !== 0) {
        this.counters.add(k, this.n[k]);
        this.n[k] = 0;
      }
    }
  }

  /** Queries held right now. */
  get pending(): number {
    return this.size;
  }

  apply(events: DnsEvent[]): DnsEvent[] {
    const out: DnsEvent[] = [];
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      // Log lines have no DNS id or ports to match on.
      if (ev.inputKind === 'log') {
        out.push(ev);
        continue;
      }
      const at = timeUs(ev);
      if (at > this.clockUs) {
        this.clockUs = at;
        this.expire(out);
      }
      if (ev.qr) this.response(ev, at, out);
      else this.query(ev, at, out);
    }
    this.clockAtBatchUs = this.clockUs;
    this.wallAtBatchMs = Date.now();
    this.settle();
    return out;
  }

  /** Live inputs, when no traffic comes: capture time moves on as wall time does since the last
   *  batch. (Not to wall time itself: a producer's clock may be off, or replay old traffic.) */
  tick(nowMs: number): DnsEvent[] {
    const out: DnsEvent[] = [];
    const at = this.clockAtBatchUs + (nowMs - this.wallAtBatchMs) * 1000;
    if (this.size > 0 && this.wallAtBatchMs > 0 && at > this.clockUs) {
      this.clockUs = at;
      this.expire(out);
    }
    this.settle();
    return out;
  }

  /** End of input: every query still waiting goes out unanswered. */
  flush(): DnsEvent[] {
    const out: DnsEvent[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const p = this.queue[i];
      if (!p.done) this.release(p, true, out);
    }
    this.queue = [];
    this.head = 0;
    this.settle();
    return out;
  }

  private query(ev: DnsEvent, at: number, out: DnsEvent[]): void {
    const slot = slotOf(ev.srcPort, ev.id);
    for (let p: Pending | null = this.bySlot.get(slot) ?? null; p !== null; p = p.next) {
      if (sameExchange(p.ev, ev, false)) {
        this.n.duplicates++;
        out.push(ev);
        return;
      }
    }
    if (this.size >= this.maxPending) this.evictOldest(out);
    const p: Pending = { slot, ev, atUs: at, done: false, next: this.bySlot.get(slot) ?? null };
    this.bySlot.set(slot, p);
    this.size++;
    this.queue.push(p);
    this.compact();
  }

  private response(ev: DnsEvent, at: number, out: DnsEvent[]): void {
    let p = this.bySlot.get(slotOf(ev.dstPort, ev.id)) ?? null;
    while (p !== null && !sameExchange(p.ev, ev, true)) p = p.next;
    if (p === null) {
      this.n.orphans++;
      out.push(ev);
      return;
    }
    // A response that knows its own latency (dnstap's query_time) keeps it; otherwise the gap
    // between the two; a response stamped before its query (clocks of two taps) counts as 0 µs.
    const rt = ev.responseTimeUs ?? Math.max(0, at - p.atUs);
    p.ev.responseTimeUs = rt;
    ev.responseTimeUs = rt;
    this.remove(p);
    this.n.answered++;
    out.push(p.ev, ev);
  }

  // Takes p out of its slot's chain; its queue entry stays, marked done.
  private remove(p: Pending): void {
    p.done = true;
    this.size--;
    const first = this.bySlot.get(p.slot);
    if (first === p) {
      if (p.next === null) this.bySlot.delete(p.slot);
      else this.bySlot.set(p.slot, p.next);
    } else {
      let q = first ?? null;
      while (q !== null && q.next !== p) q = q.next;
      if (q !== null) q.next = p.next;
    }
    p.next = null;
  }

  // Queries older than the timeout, from the head of the queue.
  private expire(out: DnsEvent[]): void {
    const limit = this.clockUs - this.timeoutUs;
    const q = this.queue;
    let h = this.head;
    while (h < q.length) {
      const p = q[h];
      if (!p.done) {
        if (p.atUs > limit) break;
        this.release(p, true, out);
      }
      h++;
    }
    this.head = h;
    this.compact();
  }

  private evictOldest(out: DnsEvent[]): void {
    const q = this.queue;
    while (this.head < q.length) {
      const p = q[this.head++];
      if (!p.done) {
        this.release(p, false, out);
        this.n.evicted++;
        break;
      }
    }
    this.compact();
  }

  private release(p: Pending, unanswered: boolean, out: DnsEvent[]): void {
    this.remove(p);
    if (unanswered) {
      p.ev.unanswered = true;
      this.n.unanswered++;
    }
    out.push(p.ev);
  }

  // Drop the skipped head of the queue once it is most of the array. Answered queries behind one
  // still waiting leave only when the clock passes that one: if capture time stands still (frozen
  // or stepped-back timestamps) they would pile up, so they are also swept out once they outnumber
  // the waiting ones.
  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    } else if (this.queue.length - this.head > 2 * this.size + 4096) {
      this.queue = this.queue.slice(this.head).filter((p) => !p.done);
      this.head = 0;
    }
  }
}

export const match = defineTransform({
  kind: 'transform',
  name: 'match',
  section: 'match',
  options: [
    dur('matchTimeout', 'match', '5s', 'Pair each response with its query; a query without a response after this long (capture time) is marked unanswered; 0 turns matching off'),
  ],
  // Masks must come after it (registry order): it keys on whole addresses.
  counters: MATCH_COUNTERS,
  open: ({ settings, stats, run }) =>
    settings.matchTimeout > 0 ? { event: new Matcher({ timeoutMs: settings.matchTimeout, stats, maxPending: maxPendingFor(run.memoryLimit) }) } : null,
});
