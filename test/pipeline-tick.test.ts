// Live inputs: the matcher's clock moves with wall time when no traffic comes, and one packet
// filter (dedup) serves every interface of a run.
import { describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { runPipeline } from '../src/cli/pipeline.js';
import { Matcher } from '../src/transforms/match.js';
import { Stats } from '../src/stats.js';
import { loadConfig } from '../src/cli/config.js';
import { openStages, sourcesOf } from '../src/cli/open.js';
import type { Output } from '../src/component.js';

function queryNow(id: number): DnsEvent {
  const ev = newEvent();
  const ms = Date.now();
  ev.timeSec = Math.floor(ms / 1000);
  ev.timeNsec = (ms % 1000) * 1e6;
  ev.srcIp = '192.0.2.1';
  ev.dstIp = '192.0.2.53';
  ev.srcPort = 40000 + id;
  ev.dstPort = 53;
  ev.id = id;
  ev.qname = 'example.org';
  ev.qtype = 1;
  ev.qclass = 1;
  return ev;
}

/** One batch, then silence until end() is called. */
function idleSource(first: DnsEvent[]) {
  let release!: () => void;
  const ended = new Promise<void>((r) => (release = r));
  async function* events(): AsyncGenerator<DnsEvent[]> {
    yield first;
    await ended;
  }
  return { events: events(), end: release };
}

describe('pipeline ticks for live inputs', () => {
  it('sends an unanswered query out while the input is idle', async () => {
    const stats = new Stats();
    const got: DnsEvent[] = [];
    let seenWhileOpen = -1;
    const src = idleSource([queryNow(1)]);
    const out: Output = {
      name: 'rec',
      write(evs) {
        got.push(...evs);
      },
      close: async () => undefined,
    };
    const run = runPipeline({
      sources: [{ kind: 'events', events: src.events }],
      transforms: [new Matcher({ timeoutMs: 50, stats })],
      outputs: [out],
      tickMs: 20,
    });
    // Bounded wait: the query must come out by ticks alone, before the input ends.
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    seenWhileOpen = got.length;
    src.end();
    await run;
    expect(seenWhileOpen).toBe(1);
    expect(got[0].unanswered).toBe(true);
    expect(stats.counters('match').get('unanswered')).toBe(1);
  });

  it('moves the clock by elapsed wall time, not to it: old traffic replayed live still pairs', async () => {
    const stats = new Stats();
    const got: DnsEvent[] = [];
    const old = queryNow(3);
    old.timeSec -= 86400 * 365; // a producer replaying last year's traffic, or a clock far off
    const answer = { ...old, qr: true, srcIp: old.dstIp, dstIp: old.srcIp, srcPort: old.dstPort, dstPort: old.srcPort, timeNsec: old.timeNsec + 1000 };
    let release!: () => void;
    const gap = new Promise<void>((r) => (release = r));
    async function* events(): AsyncGenerator<DnsEvent[]> {
      yield [old];
      await gap; // idle for a while, with ticks, before the answer comes
      yield [answer];
    }
    const out: Output = { name: 'rec', write: (evs) => void got.push(...evs), close: async () => undefined };
    const run = runPipeline({ sources: [{ kind: 'events', events: events() }], transforms: [new Matcher({ timeoutMs: 5000, stats })], outputs: [out], tickMs: 10 });
    await new Promise((r) => setTimeout(r, 150));
    expect(got).toHaveLength(0); // 0.15 s of wall time is not 5 s of capture time
    release();
    await run;
    expect(got.map((e) => [e.qr, e.unanswered, e.responseTimeUs])).toEqual([
      [false, false, 1],
      [true, false, 1],
    ]);
  });

  it('does not tick a file replay: held queries go out at the end only', async () => {
    const stats = new Stats();
    const got: DnsEvent[] = [];
    const src = idleSource([queryNow(2)]);
    const out: Output = { name: 'rec', write: (evs) => void got.push(...evs), close: async () => undefined };
    const run = runPipeline({ sources: [{ kind: 'events', events: src.events }], transforms: [new Matcher({ timeoutMs: 50, stats })], outputs: [out] });
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toHaveLength(0);
    src.end();
    await run;
    expect(got).toHaveLength(1); // flushed as unanswered at the end of input
    expect(got[0].unanswered).toBe(true);
  });
});

describe('packet filter of a run', () => {
  it('is one dedup table for every interface', () => {
    const cfg = loadConfig(['--devName', 'lo', '--dedup', '--stdoutOutputType', '1'], {});
    const stats = new Stats();
    // as a run builds its sources: one opening of the transforms, every interface's feed
    const feed = (iface: string) => ({ kind: 'frames' as const, frames: (async function* () {})(), inputKind: 'live' as const, inputName: iface });
    const sources = sourcesOf([{ feeds: [feed('eth0'), feed('eth1')] }], cfg, stats, openStages(cfg, stats).packet);
    const [a, b] = sources.map((s) => (s.kind === 'frames' ? s.ctx : null));
    expect(a?.keepPacket).toBeTypeOf('function');
    expect(b?.keepPacket).toBe(a?.keepPacket);
    expect(openStages(cfg, new Stats()).packet).not.toBe(a?.keepPacket); // another run, another table
  });
});
