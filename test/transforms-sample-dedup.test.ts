// --sampleRatio and --dedup on real captures, through the same decode context and pipeline the
// CLI builds (src/cli/open.ts decodeContext -> keepPacket), with exact expected counts.
import { decodeContext, openTransforms } from './wiring.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { newEvent, type DnsEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { runPipeline } from '../src/cli/pipeline.js';
import { Stats } from '../src/stats.js';
import { DedupWindow, dedupMessages, PacketWindow, packetDeduper, packetKey } from '../src/transforms/dedup.js';
import { rng } from './synthetic.js';
import { Sampler, sampleMessages } from '../src/transforms/sample.js';
import { PCAP_DIR } from './data.js';
import { describeWithPeers } from './peers.js';

const PELLETS = join(PCAP_DIR, 'dnsjit__pellets.pcap'); // 91 packets, all DNS (raw IPv6)
const EDNS = join(PCAP_DIR, 'tcpdump__edns-opts.pcap'); // 42 packets, all DNS (Ethernet, IPv4)
const IODINE = join(PCAP_DIR, 'elastic-examples__dns-tunnel-iodine.pcap'); // 438 packets, 434 DNS, 24.5 s
const DNS = join(PCAP_DIR, 'dnscap__dns.pcap'); // 133 packets, 82 DNS, 85.5 s
const VLAN = join(PCAP_DIR, 'dnscap__vlan11.pcap'); // the same packets in 802.1Q VLAN 11

const tmp = mkdtempSync(join(tmpdir(), 'dnslens-sample-dedup-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Decodes a capture with the CLI's decode context and transforms for these flags. */
async function run(file: string, flags: string[]): Promise<{ events: DnsEvent[]; stats: Stats }> {
  const cfg = loadConfig(['--pcapFile', file, '--stdoutOutputType', '1', '--matchTimeout', '0', ...flags], {});
  const stats = new Stats();
  const events: DnsEvent[] = [];
  await runPipeline({
    sources: [{ kind: 'frames', frames: readCapture(file, stats), ctx: decodeContext(cfg, stats, 'pcap', file) }],
    transforms: openTransforms(cfg, stats),
    outputs: [{ name: 'sink', write: (evs) => void events.push(...evs), close: async () => {} }],
  });
  return { events, stats };
}

// A little-endian microsecond pcap: 24-byte file header, then 16-byte record headers.
interface Rec {
  sec: number;
  usec: number;
  data: Buffer;
}
function readPcap(file: string): { header: Buffer; recs: Rec[] } {
  const b = readFileSync(file);
  expect(b.readUInt32LE(0)).toBe(0xa1b2c3d4);
  const recs: Rec[] = [];
  for (let o = 24; o + 16 <= b.length; ) {
    const len = b.readUInt32LE(o + 8);
    recs.push({ sec: b.readUInt32LE(o), usec: b.readUInt32LE(o + 4), data: Buffer.from(b.subarray(o + 16, o + 16 + len)) });
    o += 16 + len;
  }
  return { header: b.subarray(0, 24), recs };
}
function writePcap(name: string, header: Buffer, recs: Rec[]): string {
  const parts = [header];
  for (const r of recs) {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(r.sec, 0);
    h.writeUInt32LE(r.usec, 4);
    h.writeUInt32LE(r.data.length, 8);
    h.writeUInt32LE(r.data.length, 12);
    parts.push(h, r.data);
  }
  const path = join(tmp, name);
  writeFileSync(path, Buffer.concat(parts));
  return path;
}
const shifted = (recs: Rec[], secs: number) => recs.map((r) => ({ ...r, sec: r.sec + secs }));

describe('--sampleRatio', () => {
  it('keeps the first a of every run of b', () => {
    const s = new Sampler(2, 7);
    const kept = Array.from({ length: 14 }, () => s.keep());
    expect(kept).toEqual([true, true, false, false, false, false, false, true, true, false, false, false, false, false]);
  });

  // kept(n, a, b) = floor(n / b) * a + min(n mod b, a)
  const cases: [string, number, string, number][] = [
    [PELLETS, 91, '1:2', 46],
    [PELLETS, 91, '1:10', 10],
    [PELLETS, 91, '2:7', 26],
    [EDNS, 42, '1:2', 21],
    [EDNS, 42, '1:10', 5],
    [EDNS, 42, '2:7', 12],
  ];
  for (const [file, packets, ratio, expected] of cases) {
    it(`keeps exactly ${expected} of ${packets} DNS packets at ${ratio} (${file.split('/').pop()})`, async () => {
      const { events, stats } = await run(file, ['--sampleRatio', ratio]);
      expect(events).toHaveLength(expected);
      expect(stats.packets).toBe(packets);
      expect(stats.dnsMessages).toBe(expected);
      expect(stats.droppedBy.get('sample:ratio')).toBe(packets - expected);
      expect(stats.skippedPackets).toBe(packets - expected);
      expect(stats.balanced()).toBe(true);
    });
  }

  it('keeps the same packets on every run', async () => {
    const a = await run(PELLETS, ['--sampleRatio', '2:7']);
    const b = await run(PELLETS, ['--sampleRatio', '2:7']);
    expect(a.events.map((e) => e.timeNsec)).toEqual(b.events.map((e) => e.timeNsec));
  });

  it('shows what it left out in the CLI summary, which still adds up', () => {
    const main = join(import.meta.dirname, '../dist/src/cli/main.js');
    const r = spawnSync(process.execPath, [main, '--pcapFile', PELLETS, '--stdoutOutputType', '1', '--sampleRatio', '1:10'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
    expect(r.stderr).toMatch(/packets read\s+91 /);
    expect(r.stderr).toMatch(/DNS messages\s+10\n/);
    expect(r.stderr).toMatch(/skipped\s+81 /);
    expect(r.stderr).toMatch(/sample:ratio\s+81\n/);
  });

  it('installs no hook at 1:1 and without --dedup', () => {
    const cfg = loadConfig(['--pcapFile', PELLETS, '--stdoutOutputType', '1'], {});
    expect(decodeContext(cfg, new Stats(), 'pcap', PELLETS).keepPacket).toBeUndefined();
  });

  it('samples dnstap and log messages per message, and leaves packet events alone', () => {
    const stats = new Stats();
    const t = sampleMessages({ a: 1, b: 3 }, stats);
    const evs = Array.from({ length: 12 }, (_, i) => Object.assign(newEvent(), { id: i, inputKind: i < 9 ? 'dnstap' : 'pcap' }) as DnsEvent);
    expect(t.apply(evs).map((e) => e.id)).toEqual([0, 3, 6, 9, 10, 11]);
    expect(stats.droppedBy.get('sample:ratio')).toBe(6);
  });
});

describe('--dedup', () => {
  const iodine = readPcap(IODINE);

  it('halves a capture concatenated with itself', async () => {
    const twice = writePcap('iodine-twice.pcap', iodine.header, [...iodine.recs, ...iodine.recs]);
    const once = await run(IODINE, []);
    const { events, stats } = await run(twice, ['--dedup']);
    expect(once.events).toHaveLength(434);
    expect(events).toHaveLength(434);
    expect(stats.packets).toBe(876);
    expect(stats.droppedBy.get('dedup:duplicate')).toBe(434); // the 4 other frames have no IP layer: counted not DNS
    expect(stats.notDns).toBe(8);
    expect(stats.balanced()).toBe(true);
    // The first copy is what is kept.
    expect(events.map((e) => `${e.timeSec}.${e.timeNsec} ${e.id}`)).toEqual(once.events.map((e) => `${e.timeSec}.${e.timeNsec} ${e.id}`));
  });

  it('counts a packet seen on a plain and a VLAN-tagged link once', async () => {
    const both = writePcap('dns-and-vlan.pcap', readPcap(DNS).header, [...readPcap(DNS).recs, ...readPcap(VLAN).recs]);
    const plain = await run(both, []);
    expect(plain.events).toHaveLength(164);
    // The capture spans 85 s: the window must cover it, since the second copy starts over in time.
    const { events, stats } = await run(both, ['--dedup', '--dedupCleanupInterval', '2m']);
    expect(events).toHaveLength(82);
    expect(stats.droppedBy.get('dedup:duplicate')).toBe(123); // 82 DNS + 41 ICMP (the 10 ARP frames have no IP)
    expect(stats.balanced()).toBe(true);
  });

  it('keeps repeats from outside the window (capture time)', async () => {
    const later = writePcap('iodine-later.pcap', iodine.header, [...iodine.recs, ...shifted(iodine.recs, 90)]);
    expect((await run(later, ['--dedup'])).events).toHaveLength(868);
    const sooner = writePcap('iodine-sooner.pcap', iodine.header, [...iodine.recs, ...shifted(iodine.recs, 30)]);
    expect((await run(sooner, ['--dedup'])).events).toHaveLength(434);
    expect((await run(sooner, ['--dedup', '--dedupCleanupInterval', '10s'])).events).toHaveLength(868);
  });

  it('ignores TTL, header checksum and UDP checksum, but not the DNS payload', async () => {
    const { header, recs } = readPcap(EDNS);
    const ttl = recs.map((r) => {
      const d = Buffer.from(r.data);
      d[14 + 8] -= 3; // TTL
      d[14 + 10] ^= 0x5a; // header checksum
      d[14 + 20 + 6] ^= 0xff; // UDP checksum
      return { ...r, data: d };
    });
    const f1 = writePcap('edns-ttl.pcap', header, [...recs, ...ttl]);
    expect((await run(f1, ['--dedup'])).events).toHaveLength(42);
    const changed = recs.map((r) => {
      const d = Buffer.from(r.data);
      d[14 + 20 + 8] ^= 0x01; // the DNS id
      return { ...r, data: d };
    });
    const f2 = writePcap('edns-changed.pcap', header, [...recs, ...changed]);
    expect((await run(f2, ['--dedup'])).events).toHaveLength(84);
  });

  it('gives no key to a header it cannot read (the decoder counts it malformed)', () => {
    expect(packetKey(new Uint8Array([0x45, 0, 0, 20]), 0, 4)).toBe(-1);
    expect(packetKey(new Uint8Array(40).fill(0x60, 0, 1), 0, 30)).toBe(-1);
    expect(packetKey(new Uint8Array([0x75]), 0, 1)).toBe(-1);
  });

  it('bounds its memory: the window sweeps old keys, the size cap evicts and counts', () => {
    const w = new DedupWindow<number>(1000, 100);
    for (let i = 0; i < 100; i++) expect(w.seen(i, i)).toBe(false);
    expect(w.seen(5, 200)).toBe(true);
    expect(w.size).toBe(100);
    for (let i = 0; i < 100; i++) w.seen(1000 + i, 1500 + i); // sweeps keys older than 500..599
    expect(w.size).toBeLessThanOrEqual(100);
    expect(w.seen(5, 1600)).toBe(false); // swept: seen again as new
    const full = new DedupWindow<number>(60_000, 10);
    for (let i = 0; i < 25; i++) full.seen(i, 0);
    expect(full.size).toBe(10);
    expect(full.evicted).toBe(15);
    expect(full.seen(24, 1)).toBe(true);
    expect(full.seen(0, 1)).toBe(false); // evicted early: a repeat passes, and was counted above
  });

  it('keeps the packet table (open addressing, ring order) in step with a plain Map model', () => {
    const rand = rng(7);
    // Few distinct keys, colliding slots (small table), time moving forwards with some jumps back.
    const win = new PacketWindow(50, 64);
    const model = new DedupWindow<string>(50, 64);
    let now = 0;
    for (let n = 0; n < 20_000; n++) {
      now += rand() < 0.02 ? -30 : Math.floor(rand() * 3);
      const a = Math.floor(rand() * 200);
      const b = a % 7; // many keys share b; slots collide
      expect(win.seen(a, b, now)).toBe(model.seen(`${a}/${b}`, now));
      expect(win.size).toBe(model.size);
    }
    expect(win.evicted).toBe(model.evicted);
    expect(win.evicted).toBeGreaterThan(0);
  });

  it('counts keys evicted from a full table in stats', async () => {
    const stats = new Stats();
    const keep = packetDeduper(60_000, stats, 50);
    const frames = readPcap(EDNS).recs;
    let kept = 0;
    for (const r of [...frames, ...frames]) {
      if (keep(r.data, 14, r.data.length, { tsSec: r.sec, tsNsec: r.usec * 1000, linkType: 1, data: r.data, origLen: r.data.length })) kept++;
    }
    expect(kept).toBe(42); // 42 keys fit under 50: every repeat is found
    const small = new Stats();
    const keep2 = packetDeduper(60_000, small, 10);
    let kept2 = 0;
    for (const r of [...frames, ...frames]) {
      if (keep2(r.data, 14, r.data.length, { tsSec: r.sec, tsNsec: r.usec * 1000, linkType: 1, data: r.data, origLen: r.data.length })) kept2++;
    }
    expect(kept2).toBe(84); // the table holds 10 of 42: every repeat comes after its key was evicted
    expect(small.counters('dedup').get('evicted')).toBe(74);
  });

  it('deduplicates dnstap and log messages on their identity within the window', () => {
    const stats = new Stats();
    const t = dedupMessages(1000, stats);
    const ev = (id: number, ms: number, kind: 'dnstap' | 'pcap' = 'dnstap') =>
      Object.assign(newEvent(), { id, qname: 'example.com', srcIp: '192.0.2.1', dstIp: '192.0.2.53', timeSec: 100 + Math.floor(ms / 1000), timeNsec: (ms % 1000) * 1e6, inputKind: kind }) as DnsEvent;
    const out = t.apply([ev(1, 0), ev(1, 500), ev(2, 600), ev(1, 1500), ev(1, 1600, 'pcap'), ev(1, 1700, 'pcap')]);
    expect(out.map((e) => `${e.id}@${e.timeSec}.${e.timeNsec / 1e6}`)).toEqual(['1@100.0', '2@100.600', '1@101.500', '1@101.600', '1@101.700']);
    expect(stats.droppedBy.get('dedup:duplicate')).toBe(1);
  });
});

describeWithPeers('--dedup on a capture joined by mergecap -a', ['mergecap'], () => {
  it('halves it', async () => {
    const merged = join(tmp, 'iodine-mergecap.pcap');
    const r = spawnSync('mergecap', ['-a', '-F', 'pcap', '-w', merged, IODINE, IODINE], { timeout: 30_000 });
    expect(r.status).toBe(0);
    const { events, stats } = await run(merged, ['--dedup']);
    expect(stats.packets).toBe(876);
    expect(events).toHaveLength(434);
    expect(stats.droppedBy.get('dedup:duplicate')).toBe(434);
  });
});
