// The query/response matcher on generated events: pairs, retransmissions, orphans, id reuse,
// timeouts in capture time, out-of-order arrival, the table cap, and a large seeded stream
// whose every pair and every unanswered query is known in advance.
import { describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { Stats } from '../src/stats.js';
import { Matcher } from '../src/transforms/match.js';
import { rng, traffic } from './synthetic.js';

const T0 = 1_700_000_000;

interface Q {
  at: number; // seconds after T0 (fractions allowed)
  id?: number;
  name?: string;
  client?: string;
  port?: number;
  transport?: 'udp' | 'tcp';
}

function query(q: Q): DnsEvent {
  const e = newEvent();
  const t = T0 + q.at;
  e.timeSec = Math.floor(t);
  e.timeNsec = Math.round((t - e.timeSec) * 1e6) * 1000;
  e.ipVersion = 4;
  e.srcIp = q.client ?? '192.0.2.10';
  e.srcPort = q.port ?? 40000;
  e.dstIp = '192.0.2.53';
  e.dstPort = 53;
  e.transport = q.transport ?? 'udp';
  e.id = q.id ?? 7;
  e.qname = q.name ?? 'example.com';
  e.qtype = 1;
  e.qclass = 1;
  e.qdCount = 1;
  return e;
}

function response(q: Q): DnsEvent {
  const e = query(q);
  [e.srcIp, e.dstIp] = [e.dstIp, e.srcIp];
  [e.srcPort, e.dstPort] = [e.dstPort, e.srcPort];
  e.qr = true;
  return e;
}

function setup(timeoutMs = 5000, maxPending?: number): { m: Matcher; stats: Stats } {
  const stats = new Stats();
  return { m: new Matcher({ timeoutMs, stats, maxPending }), stats };
}

const counts = (s: Stats) => { const c = s.counters('match'); return { matched: c.get('answered'), unanswered: c.get('unanswered'), orphans: c.get('orphans'), duplicates: c.get('duplicates'), evicted: c.get('evicted') }; };

describe('matcher', () => {
  it('pairs a response with its query: both carry the response time, the query goes out with it', () => {
    const { m, stats } = setup();
    const q = query({ at: 0.25 });
    const r = response({ at: 0.2625 });
    expect(m.apply([q])).toEqual([]); // held
    expect(m.pending).toBe(1);
    const out = m.apply([r]);
    expect(out).toEqual([q, r]);
    expect(q.responseTimeUs).toBe(12_500);
    expect(r.responseTimeUs).toBe(12_500);
    expect(q.unanswered).toBe(false);
    expect(m.pending).toBe(0);
    expect(m.flush()).toEqual([]);
    expect(counts(stats)).toEqual({ matched: 1, unanswered: 0, orphans: 0, duplicates: 0, evicted: 0 });
  });

  it("keeps a response's own latency (dnstap's query_time) and gives it to the query too", () => {
    const { m } = setup();
    const q = query({ at: 0.25 });
    const r = response({ at: 0.25 }); // BIND stamps both messages alike; its query_time says more
    r.responseTimeUs = 1234;
    m.apply([q]);
    expect(m.apply([r])).toEqual([q, r]);
    expect(q.responseTimeUs).toBe(1234);
    expect(r.responseTimeUs).toBe(1234);
  });

  it('gives a query up after the timeout in capture time, not before; its late response is an orphan', () => {
    const { m, stats } = setup(5000);
    const q = query({ at: 1 });
    expect(m.apply([q])).toEqual([]);
    // other traffic moves the clock: 4.999999 s later the query still waits
    const other = query({ at: 5.999999, id: 8 });
    expect(m.apply([other])).toEqual([]);
    expect(q.unanswered).toBe(false);
    // exactly 5 s later it is released, unanswered, with its own time
    const third = query({ at: 6, id: 9 });
    expect(m.apply([third])).toEqual([q]);
    expect(q.unanswered).toBe(true);
    expect(q.responseTimeUs).toBeNull();
    expect(q.timeSec).toBe(T0 + 1);
    const late = response({ at: 6.5 });
    expect(m.apply([late])).toEqual([late]);
    expect(late.responseTimeUs).toBeNull();
    expect(counts(stats)).toEqual({ matched: 0, unanswered: 1, orphans: 1, duplicates: 0, evicted: 0 });
    // the end of input releases the rest as unanswered
    expect(m.flush()).toEqual([other, third]);
    expect(other.unanswered && third.unanswered).toBe(true);
    expect(stats.counters('match').get('unanswered')).toBe(3);
  });

  it('counts a retransmitted query as a duplicate and times the response from the first one', () => {
    const { m, stats } = setup();
    const first = query({ at: 0 });
    const retry = query({ at: 1 });
    const r = response({ at: 1.002 });
    expect(m.apply([first, retry])).toEqual([retry]); // the duplicate passes at once, unmatched
    expect(retry.responseTimeUs).toBeNull();
    expect(m.apply([r])).toEqual([first, r]);
    expect(r.responseTimeUs).toBe(1_002_000);
    expect(retry.unanswered).toBe(false);
    expect(counts(stats)).toEqual({ matched: 1, unanswered: 0, orphans: 0, duplicates: 1, evicted: 0 });
  });

  it('counts a response nobody asked for as an orphan, and a repeated response as another', () => {
    const { m, stats } = setup();
    const stray = response({ at: 0, id: 99 });
    expect(m.apply([stray])).toEqual([stray]);
    const q = query({ at: 1 });
    const r1 = response({ at: 1.01 });
    const r2 = response({ at: 1.02 });
    expect(m.apply([q, r1, r2])).toEqual([q, r1, r2]);
    expect(r1.responseTimeUs).toBe(10_000);
    expect(r2.responseTimeUs).toBeNull();
    expect(counts(stats)).toEqual({ matched: 1, unanswered: 0, orphans: 2, duplicates: 0, evicted: 0 });
  });

  it('keys on the question, the transport, the client port and the id: reuse of an id pairs correctly', () => {
    const { m, stats } = setup();
    const a = query({ at: 0, id: 5, name: 'a.example' });
    const b = query({ at: 0.001, id: 5, name: 'b.example' }); // same id, other question: not a duplicate
    const t = query({ at: 0.002, id: 5, name: 'a.example', transport: 'tcp' });
    const p = query({ at: 0.003, id: 5, name: 'a.example', port: 40001 });
    expect(m.apply([a, b, t, p])).toEqual([]);
    const rb = response({ at: 0.01, id: 5, name: 'b.example' });
    const rt = response({ at: 0.02, id: 5, name: 'a.example', transport: 'tcp' });
    const ra = response({ at: 0.03, id: 5, name: 'a.example' });
    const rp = response({ at: 0.04, id: 5, name: 'a.example', port: 40001 });
    expect(m.apply([rb, rt, ra, rp])).toEqual([b, rb, t, rt, a, ra, p, rp]);
    expect([a, b, t, p].map((e) => e.responseTimeUs)).toEqual([30_000, 9_000, 18_000, 37_000]);
    // the same id and question again after the answer: a new exchange, not a duplicate
    const again = query({ at: 2, id: 5, name: 'a.example' });
    const ragain = response({ at: 2.0005, id: 5, name: 'a.example' });
    expect(m.apply([again, ragain])).toEqual([again, ragain]);
    expect(ragain.responseTimeUs).toBe(500);
    expect(counts(stats)).toEqual({ matched: 5, unanswered: 0, orphans: 0, duplicates: 0, evicted: 0 });
  });

  it('keeps apart queries that share a table slot (client ports 16384 apart, same id, other clients)', () => {
    const { m, stats } = setup();
    const qs = [
      query({ at: 0, port: 1100 }),
      query({ at: 0.001, port: 1100 + 16384 }),
      query({ at: 0.002, port: 1100 + 2 * 16384 }),
      query({ at: 0.003, port: 1100, client: '192.0.2.11' }),
    ];
    expect(m.apply(qs)).toEqual([]);
    // answered from the middle of the chain outwards, then a response matching none of them
    const rs = [
      response({ at: 0.01, port: 1100 + 16384 }),
      response({ at: 0.02, port: 1100, client: '192.0.2.11' }),
      response({ at: 0.03, port: 1100 }),
      response({ at: 0.04, port: 1100 + 3 * 16384 }),
      response({ at: 0.05, port: 1100 + 2 * 16384 }),
    ];
    expect(m.apply(rs)).toEqual([qs[1], rs[0], qs[3], rs[1], qs[0], rs[2], rs[3], qs[2], rs[4]]);
    expect(qs.map((q) => q.responseTimeUs)).toEqual([30_000, 9_000, 48_000, 17_000]);
    expect(m.pending).toBe(0);
    expect(counts(stats)).toEqual({ matched: 4, unanswered: 0, orphans: 1, duplicates: 0, evicted: 0 });
  });

  it('handles events out of time order: the clock never goes back, late queries still pair', () => {
    const { m, stats } = setup(1000);
    const q1 = query({ at: 10, id: 1 });
    const q0 = query({ at: 9.5, id: 2 }); // arrives after q1, stamped earlier (another tap, TCP)
    const r1 = response({ at: 10.2, id: 1 });
    const r0 = response({ at: 9.9, id: 2 }); // arrives last, stamped before r1
    expect(m.apply([q1, q0, r1, r0])).toEqual([q1, r1, q0, r0]);
    expect(q0.responseTimeUs).toBe(400_000);
    expect(q1.responseTimeUs).toBe(200_000);
    // a query stamped before the clock's timeout horizon goes out at the next clock step
    const old = query({ at: 8, id: 3 });
    expect(m.apply([old])).toEqual([]); // the clock did not move
    const tick = query({ at: 10.3, id: 4 });
    expect(m.apply([tick])).toEqual([old]);
    expect(old.unanswered).toBe(true);
    // a response stamped before its query (clock skew between taps) counts as 0 µs
    const q5 = query({ at: 10.3, id: 5 });
    const r5 = response({ at: 10.299, id: 5 });
    expect(m.apply([q5, r5])).toEqual([q5, r5]);
    expect(r5.responseTimeUs).toBe(0);
    expect(counts(stats)).toEqual({ matched: 3, unanswered: 1, orphans: 0, duplicates: 0, evicted: 0 });
  });

  it('bounds the table: beyond maxPending the oldest query goes out unmatched and is counted', () => {
    const { m, stats } = setup(5000, 3);
    const qs = [0, 1, 2, 3, 4].map((i) => query({ at: i * 0.001, id: i }));
    expect(m.apply(qs)).toEqual([qs[0], qs[1]]);
    expect(qs[0].unanswered).toBe(false); // not given up: released for lack of room
    expect(m.pending).toBe(3);
    const r0 = response({ at: 0.01, id: 0 });
    const r4 = response({ at: 0.01, id: 4 });
    expect(m.apply([r0, r4])).toEqual([r0, qs[4], r4]);
    expect(counts(stats)).toEqual({ matched: 1, unanswered: 0, orphans: 1, duplicates: 0, evicted: 2 });
    expect(m.flush()).toEqual([qs[2], qs[3]]);
  });

  it('passes log-line events through untouched (no id, no ports to match on)', () => {
    const { m, stats } = setup();
    const q = query({ at: 0 });
    q.inputKind = 'log';
    expect(m.apply([q])).toEqual([q]);
    expect(counts(stats)).toEqual({ matched: 0, unanswered: 0, orphans: 0, duplicates: 0, evicted: 0 });
  });

  it('refuses a timeout of 0 (the CLI does not create the transform then)', () => {
    expect(() => new Matcher({ timeoutMs: 0, stats: new Stats() })).toThrow(/turns matching off/);
  });

  it('on 40,000 seeded queries in random batches: every event once, every pair and unanswered query as generated', () => {
    const events = traffic({ seed: 41, queries: 40_000, names: 3000, clients: 300, startSec: T0, spanSec: 3600, servers: ['ns1'] });
    // what the generator made: responses carry the true response time; queries without one are unanswered
    const truth = new Map<DnsEvent, number | null>();
    const answered = new Set<string>();
    const key = (e: DnsEvent) => (e.qr ? `${e.dstIp} ${e.dstPort} ${e.id} ${e.transport} ${e.qname} ${e.qtype}` : `${e.srcIp} ${e.srcPort} ${e.id} ${e.transport} ${e.qname} ${e.qtype}`);
    for (const e of events) {
      if (e.qr) {
        truth.set(e, e.responseTimeUs);
        answered.add(key(e));
        e.responseTimeUs = null; // the matcher has to find it again
      }
      e.unanswered = false; // and to give the unanswered ones up itself
    }
    const queries = events.filter((e) => !e.qr);
    expect(new Set(queries.map(key)).size).toBe(queries.length); // no accidental key collisions
    for (const q of queries) truth.set(q, answered.has(key(q)) ? -1 : null);

    const { m, stats } = setup(5000);
    const r = rng(3);
    const out: DnsEvent[] = [];
    for (let i = 0; i < events.length; ) {
      const n = 1 + Math.floor(r() * 700);
      out.push(...m.apply(events.slice(i, i + n)));
      i += n;
      expect(m.pending).toBeLessThan(1000); // released as capture time moves, not held to the end
    }
    out.push(...m.flush());
    expect(out.length).toBe(events.length);
    expect(new Set(out).size).toBe(events.length);

    const responses = events.filter((e) => e.qr);
    expect(counts(stats)).toEqual({ matched: responses.length, unanswered: queries.length - responses.length, orphans: 0, duplicates: 0, evicted: 0 });
    for (const e of responses) expect(e.responseTimeUs).toBe(truth.get(e));
    const pairTime = new Map(responses.map((e) => [key(e), e.responseTimeUs]));
    for (const q of queries) {
      if (truth.get(q) === null) {
        expect(q.unanswered).toBe(true);
        expect(q.responseTimeUs).toBeNull();
      } else {
        expect(q.unanswered).toBe(false);
        expect(q.responseTimeUs).toBe(pairTime.get(key(q)));
      }
    }
    // output stays in time order per batch well enough for the rollups: nothing is held longer than the timeout
    let maxSeen = 0;
    for (const e of out) {
      const t = e.timeSec + e.timeNsec / 1e9;
      maxSeen = Math.max(maxSeen, t);
      expect(maxSeen - t).toBeLessThanOrEqual(5 + 1); // a query waits at most the timeout (plus one batch)
    }
  });
});
