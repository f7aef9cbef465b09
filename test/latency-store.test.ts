// Matching on real captures from ../shared/data/pcap, checked frame by frame against tshark's own
// request/response tracking (dns.time, dns.response_in), then stored end to end in the embedded
// ClickHouse: the latency rollups, clickhouse/examples/latency.sql and `dnslens report` give the
// same answered and unanswered counts.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { createClickHouseOutput } from '../src/outputs/clickhouse/output.js';
import type { Output } from '../src/component.js';
import { runPipeline } from '../src/cli/pipeline.js';
import { Stats } from '../src/stats.js';
import { openStore, type Store } from '../src/store/connection.js';
import { schemaRoot } from '../src/store/migrate.js';
import { summaryReport as report } from '../src/reports/summary.js';
import { Matcher } from '../src/transforms/match.js';
import { PCAP_DIR } from './data.js';
import { describeWithPeers } from './peers.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';

const execFileP = promisify(execFile);
// UDP request/response pairs, retransmissions and unanswered queries (tshark -2: 1481 answered, 9 not)
const CAPTURES = ['pktvisor__dns_udp_tcp_random.pcap', 'elastic-examples__dns-tunnel-iodine.pcap'];

interface Frame {
  key: string;
  qr: boolean;
  dnsTime: number | null;
  answered: boolean; // a query tshark saw a response to
  retransmission: boolean;
}

const nsKey = (sec: string) => {
  const [s, f = ''] = sec.split('.');
  return `${s}.${f.padEnd(9, '0').slice(0, 9)}`;
};

async function tsharkUdp(file: string): Promise<Frame[]> {
  const fields = ['frame.time_epoch', 'udp.srcport', 'dns.id', 'dns.flags.response', 'dns.time', 'dns.response_in', 'dns.retransmission'];
  const args = ['-r', file, '-n', '-2', '-Y', 'dns && udp && !icmp', '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])];
  const { stdout } = await execFileP('tshark', args, { timeout: 120_000, maxBuffer: 256 << 20 });
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [t, sport, id, resp, dt, rin, retr] = l.split('\t');
      const qr = resp === '1' || resp === 'True';
      return { key: `${nsKey(t)} ${sport} ${Number(id)} ${qr}`, qr, dnsTime: dt ? Number(dt) : null, answered: !!rin, retransmission: !!retr };
    });
}

const eventKey = (e: DnsEvent) => `${e.timeSec}.${String(e.timeNsec).padStart(9, '0')} ${e.srcPort} ${e.id} ${e.qr}`;

describeWithPeers('matching on shared captures, against tshark, stored and reported', ['tshark'], () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-latency-test-'));
  let store: Store;
  const events = new Map<string, DnsEvent[]>();
  const stats = new Map<string, Stats>();

  beforeAll(async () => {
    store = await openStore({ dataDir: join(root, 'data') });
    await prepareSchema(store);
    for (const name of CAPTURES) {
      const file = join(PCAP_DIR, name);
      const s = new Stats();
      const seen: DnsEvent[] = [];
      const collect: Output = { name: 'collect', write: (evs) => void seen.push(...evs), close: async () => {} };
      const ch = await createClickHouseOutput(store, { stats: s, batchSize: 1000, delayMs: 1000 });
      await runPipeline({
        sources: [{ kind: 'frames', frames: readCapture(file, s), ctx: { stats: s, ports: new Set([53]), server: name, inputKind: 'pcap', inputName: file } }],
        transforms: [new Matcher({ timeoutMs: 5000, stats: s })],
        outputs: [ch, collect],
      });
      await ch.close();
      events.set(name, seen);
      stats.set(name, s);
    }
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  for (const name of CAPTURES) {
    it(`${name}: every UDP response time equals tshark's dns.time (±1 ms), unanswered where tshark saw no response`, async () => {
      const frames = await tsharkUdp(join(PCAP_DIR, name));
      const ours = new Map<string, DnsEvent[]>();
      for (const e of events.get(name)!) if (e.transport === 'udp') ours.set(eventKey(e), [...(ours.get(eventKey(e)) ?? []), e]);
      let responses = 0;
      let unanswered = 0;
      for (const f of frames) {
        const [e] = ours.get(f.key) ?? [];
        expect(e, f.key).toBeDefined();
        if (f.qr && f.dnsTime !== null) {
          responses++;
          expect(e.responseTimeUs, f.key).not.toBeNull();
          expect(Math.abs(e.responseTimeUs! - f.dnsTime * 1e6), f.key).toBeLessThanOrEqual(1000);
        } else if (f.qr) {
          expect(e.responseTimeUs, `${f.key}: tshark saw no query`).toBeNull();
        } else if (!f.answered && !f.retransmission) {
          unanswered++;
          expect(e.unanswered, f.key).toBe(true);
        } else if (f.answered) {
          expect(e.unanswered, f.key).toBe(false);
          expect(e.responseTimeUs, f.key).not.toBeNull();
        }
      }
      expect(responses).toBeGreaterThan(100);
      const s = stats.get(name)!;
      // TCP messages (if the decoder reassembles them) pair too: the counters cover both transports
      const udpUnanswered = events.get(name)!.filter((e) => e.transport === 'udp' && e.unanswered).length;
      expect(udpUnanswered).toBe(unanswered);
      expect(s.counters('match').get('answered')).toBe(events.get(name)!.filter((e) => e.qr && e.responseTimeUs !== null).length);
      expect(s.counters('match').get('unanswered')).toBe(events.get(name)!.filter((e) => e.unanswered).length);
    }, 120_000);
  }

  it('the latency rollups, examples/latency.sql and the report count the same answered and unanswered queries', async () => {
    const all = [...events.values()].flat();
    const answered = all.filter((e) => e.qr && e.responseTimeUs !== null).length;
    const unanswered = all.filter((e) => e.unanswered).length;
    expect(unanswered).toBeGreaterThan(0);

    for (const t of ['dns_latency_minute', 'dns_latency_day', 'dns_latency_clients_hour']) {
      const [r] = await store.query<{ a: string; u: string; n: string }>(`SELECT sum(Answered) AS a, sum(Unanswered) AS u, sum(arraySum(mapValues(LatencyBuckets))) AS n FROM ${t}`);
      expect([Number(r.a), Number(r.u), Number(r.n)], t).toEqual([answered, unanswered, answered]);
    }
    // the example reads the last day; the two captures are years apart, so read it all here
    const example = readFileSync(join(schemaRoot(), 'examples', 'latency.sql'), 'utf8').replace(/^\s*WHERE Time >= .*$/m, '');
    const rows = await store.query<{ answered: string; unanswered: string; p50_p95_p99_ms: number[] }>(example);
    expect(rows.reduce((n, r) => n + Number(r.answered), 0)).toBe(answered);
    expect(rows.reduce((n, r) => n + Number(r.unanswered), 0)).toBe(unanswered);
    for (const r of rows) if (Number(r.answered) > 0) expect(r.p50_p95_p99_ms[0]).toBeLessThanOrEqual(r.p50_p95_p99_ms[2]);

    const text = await report(store);
    const section = text.slice(text.indexOf('Latency (queries paired'));
    expect(section).toMatch(new RegExp(`^answered\\s+${answered.toLocaleString('en-US')}$`, 'm'));
    expect(section).toMatch(new RegExp(`^unanswered\\s+${unanswered} \\(${((100 * unanswered) / (answered + unanswered)).toFixed(1)}%\\)$`, 'm'));
    // p50 <= p95 <= p99, each between the smallest and largest response time
    const ms = (label: string) => {
      const m = section.match(new RegExp(`^${label}\\s+([\\d.]+) (µs|ms|s)$`, 'm'));
      expect(m, label).not.toBeNull();
      return Number(m![1]) * { µs: 1e-3, ms: 1, s: 1000 }[m![2] as 'µs' | 'ms' | 's'];
    };
    const times = all.filter((e) => e.qr && e.responseTimeUs !== null).map((e) => e.responseTimeUs! / 1000);
    const [p50, p95, p99] = [ms('p50'), ms('p95'), ms('p99')];
    expect(p50).toBeLessThanOrEqual(p95);
    expect(p95).toBeLessThanOrEqual(p99);
    expect(p50).toBeGreaterThanOrEqual(Math.min(...times) * 0.99);
    expect(p99).toBeLessThanOrEqual(Math.max(...times) * 1.01);
    expect(section).toContain('Latency by server');
  }, 120_000);
});
