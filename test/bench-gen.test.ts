// The benchmark's capture generator, checked with tshark: every message parses, the summary's
// counts are tshark's counts, the traffic has the intended shape, and the bytes are deterministic.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateCapture, type Summary } from '../bench/gen.js';
import { describeWithPeers } from './peers.js';

const PACKETS = 20_000;
const SEED = 7;

function tshark(args: string[]): string {
  return execFileSync('tshark', ['-n', ...args], { encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

interface Row {
  protocols: string;
  time: number;
  src: string;
  response: boolean;
  rcode: number;
  truncated: boolean;
  qname: string;
  qtype: number;
  dnsTime: number | null;
  matched: boolean;
}

const FIELDS = [
  'frame.protocols',
  'frame.time_epoch',
  'ip.src',
  'ipv6.src',
  'dns.flags.response',
  'dns.flags.rcode',
  'dns.flags.truncated',
  'dns.qry.name',
  'dns.qry.type',
  'dns.time',
  'dns.response_to',
];

function readRows(path: string): Row[] {
  const out = tshark(['-r', path, '-T', 'fields', '-E', 'separator=\t', ...FIELDS.flatMap((f) => ['-e', f])]);
  const rows: Row[] = [];
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [protocols, time, ip4, ip6, response, rcode, truncated, qname, qtype, dnsTime, responseTo] = line.split('\t');
    rows.push({
      protocols,
      time: Number(time),
      src: ip4 || ip6,
      response: response === '1' || response === 'True',
      rcode: Number(rcode || 0),
      truncated: truncated === '1' || truncated === 'True',
      qname,
      qtype: Number(qtype || 0),
      dnsTime: dnsTime ? Number(dnsTime) : null,
      matched: responseTo !== '',
    });
  }
  return rows;
}

describeWithPeers('bench capture generator', ['tshark'], () => {
  let dir: string;
  let path: string;
  let summary: Summary;
  let rows: Row[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-gen-'));
    path = join(dir, 'a.pcap');
    summary = await generateCapture(path, { packets: PACKETS, seed: SEED });
    rows = readRows(path);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes exactly the requested number of frames, in time order', () => {
    expect(summary.packets).toBe(PACKETS);
    expect(rows.length).toBe(PACKETS);
    for (let i = 1; i < rows.length; i++) expect(rows[i].time).toBeGreaterThanOrEqual(rows[i - 1].time);
    const span = rows[rows.length - 1].time - rows[0].time;
    // ~30 minutes per million frames
    expect(span).toBeGreaterThan((PACKETS / 1e6) * 1800 * 0.8);
    expect(span).toBeLessThan((PACKETS / 1e6) * 1800 * 1.25);
  });

  it('every frame dissects cleanly: no malformed packet, no expert warning or error', () => {
    const bad = tshark(['-r', path, '-Y', '_ws.malformed || _ws.expert.severity >= warning']);
    expect(bad).toBe('');
  });

  it("has the summary's counts, as tshark counts them", () => {
    const dns = rows.filter((r) => r.protocols.endsWith(':dns'));
    const queries = dns.filter((r) => !r.response);
    const responses = dns.filter((r) => r.response);
    expect(queries.length).toBe(summary.queries);
    expect(responses.length).toBe(summary.responses);
    expect(responses.filter((r) => r.rcode === 3).length).toBe(summary.nxdomain);
    expect(responses.filter((r) => r.rcode === 2).length).toBe(summary.servfail);
    expect(responses.filter((r) => r.truncated).length).toBe(summary.truncated);
    expect(rows.filter((r) => r.protocols.includes(':tcp')).length).toBe(summary.tcp);
    expect(dns.filter((r) => r.protocols.includes(':tcp')).length).toBe(summary.tcpMessages);
    expect(rows.filter((r) => r.protocols.includes(':ipv6')).length).toBe(summary.ipv6);
    expect(rows.filter((r) => !r.protocols.includes(':ip')).length).toBe(summary.other);
    expect(new Set(dns.map((r) => r.qname)).size).toBe(summary.distinctNames);
    expect(new Set(queries.map((r) => r.src)).size).toBe(summary.distinctClients);
    // every frame is DNS, TCP control, or the odd-slot filler
    const tcpControl = rows.filter((r) => r.protocols.endsWith(':tcp')).length;
    expect(dns.length + tcpControl + summary.other).toBe(PACKETS);
  });

  it('pairs every query with one response 0.2-80 ms later', () => {
    const responses = rows.filter((r) => r.protocols.endsWith(':dns') && r.response);
    expect(responses.length).toBe(summary.queries);
    for (const r of responses) {
      expect(r.matched).toBe(true);
      expect(r.dnsTime).not.toBeNull();
      expect(r.dnsTime as number).toBeGreaterThanOrEqual(0.0002 - 1e-9);
      expect(r.dnsTime as number).toBeLessThanOrEqual(0.08 + 1e-9);
    }
    // long tail: most answers come from cache within 2 ms, some take over 20 ms
    const fast = responses.filter((r) => (r.dnsTime as number) < 0.002).length / responses.length;
    const slow = responses.filter((r) => (r.dnsTime as number) > 0.02).length / responses.length;
    expect(fast).toBeGreaterThan(0.4);
    expect(slow).toBeGreaterThan(0.05);
  });

  it('has the shape of resolver traffic', () => {
    const queries = rows.filter((r) => r.protocols.endsWith(':dns') && !r.response);
    const share = (n: number): number => n / summary.queries;
    const byType = new Map<number, number>();
    for (const q of queries) byType.set(q.qtype, (byType.get(q.qtype) ?? 0) + 1);
    const a = share(byType.get(1) ?? 0);
    const aaaa = share(byType.get(28) ?? 0);
    const https = share(byType.get(65) ?? 0);
    expect(a).toBeGreaterThan(0.4);
    expect(aaaa).toBeGreaterThan(0.2);
    expect(https).toBeGreaterThan(0.1);
    expect(a + aaaa + https).toBeGreaterThan(0.9);
    for (const t of [12, 15, 16, 33]) expect(byType.get(t) ?? 0).toBeGreaterThan(0); // PTR MX TXT SRV
    expect(share(summary.nxdomain)).toBeGreaterThan(0.07);
    expect(share(summary.nxdomain)).toBeLessThan(0.13);
    expect(summary.ipv6 / summary.packets).toBeGreaterThan(0.07);
    expect(summary.ipv6 / summary.packets).toBeLessThan(0.14);
    expect(summary.tcp / summary.packets).toBeGreaterThan(0.015);
    expect(summary.tcp / summary.packets).toBeLessThan(0.05);
    expect(summary.distinctClients).toBeGreaterThan(1000);
    expect(summary.distinctClients).toBeLessThanOrEqual(2000);
    // Zipf: the most popular name takes a few percent of the queries, and many names appear once
    const perName = new Map<string, number>();
    for (const q of queries) perName.set(q.qname, (perName.get(q.qname) ?? 0) + 1);
    const counts = [...perName.values()].sort((x, y) => y - x);
    expect(counts[0] / queries.length).toBeGreaterThan(0.02);
    expect(counts.filter((c) => c <= 3).length).toBeGreaterThan(counts.length / 2);
    // real-looking names: multi-label public suffixes and CDN patterns
    const names = [...perName.keys()];
    expect(names.some((n) => n.endsWith('.co.uk'))).toBe(true);
    expect(names.some((n) => n.endsWith('.com.au'))).toBe(true);
    expect(names.some((n) => /^e\d+\.[a-z0-9]+\.akamaiedge\.net$/.test(n))).toBe(true);
    expect(names.some((n) => /^rr\d---sn-[a-z0-9-]+\.googlevideo\.com$/.test(n))).toBe(true);
    // EDNS on most queries, DO on some (checked by tshark, not the summary)
    const edns = Number(tshark(['-r', path, '-Y', 'dns.flags.response == 0 && dns.resp.type == 41']).split('\n').length - 1);
    const dnssecOk = Number(tshark(['-r', path, '-Y', 'dns.flags.response == 0 && dns.rr.udp_payload_size && dns.resp.z.do == 1']).split('\n').length - 1);
    expect(edns / summary.queries).toBeGreaterThan(0.75);
    expect(dnssecOk / summary.queries).toBeGreaterThan(0.15);
    expect(dnssecOk).toBeLessThan(edns);
  });

  it('is deterministic: the same seed gives the same bytes, another seed other bytes', async () => {
    const again = join(dir, 'b.pcap');
    const other = join(dir, 'c.pcap');
    const s2 = await generateCapture(again, { packets: PACKETS, seed: SEED });
    expect(sha256(again)).toBe(sha256(path));
    expect(s2).toEqual(summary);
    await generateCapture(other, { packets: PACKETS, seed: SEED + 1 });
    expect(sha256(other)).not.toBe(sha256(path));
  });

  it('fills an odd last slot with a non-DNS frame, so every query keeps its answer', async () => {
    const odd = join(dir, 'odd.pcap');
    const s = await generateCapture(odd, { packets: 999, seed: SEED });
    expect(s.packets).toBe(999);
    expect(s.queries).toBe(s.responses);
    const lines = readRows(odd);
    expect(lines.length).toBe(999);
    expect(lines.filter((r) => r.protocols.includes('arp')).length).toBe(s.other);
    expect(s.other).toBe(1);
  });

  it('refuses a packet count out of bounds', async () => {
    await expect(generateCapture(join(dir, 'x.pcap'), { packets: 0, seed: 1 })).rejects.toThrow(/packets must be/);
  });
});
