// decodeFrame: link layers, IPv4/IPv6/UDP, counters. Real DNS packets from the shared captures are
// re-wrapped in other link layers and IP header variants; tshark must see the same DNS messages
// in each re-wrapped file as dnslens does, and dnslens must decode them as it decodes the originals.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { SocketAddress } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { decodeFrame, type DecodeContext } from '../src/decode/packet.js';
import { ipv4Text, ipv6Text } from '../src/addr.js';
import type { Frame } from '../src/frame.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { log } from '../src/log.js';
import { Stats } from '../src/stats.js';
import { describeWithPeers } from './peers.js';
import { PCAP_DIR } from './data.js';
import { rng as prng } from './synthetic.js';

const DATA = PCAP_DIR;
const tmp = mkdtempSync(join(tmpdir(), 'dnslens-packet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function context(stats = new Stats(), ports = [53]): DecodeContext {
  return { stats, ports: new Set(ports), server: 'test', inputKind: 'pcap', inputName: 'x' };
}

async function framesOf(path: string): Promise<Frame[]> {
  const out: Frame[] = [];
  for await (const b of readCapture(path, new Stats())) out.push(...b);
  return out;
}

function decodeAll(frames: Frame[], ctx = context()): { events: DnsEvent[]; stats: Stats } {
  const events: DnsEvent[] = [];
  for (const f of frames) decodeFrame(f, ctx, events);
  return { events, stats: ctx.stats };
}

/** Every unit counted exactly once: frames, datagrams rebuilt from fragments, messages cut from TCP (src/stats.ts). */
function expectBalanced(stats: Stats, frames: number, events: number): void {
  const buckets = stats.dnsMessages + stats.notDns + stats.malformed + stats.unsupportedTotal + stats.ipFragments + stats.tcpSegments + stats.skippedPackets;
  expect(buckets).toBe(frames + stats.ipDatagrams + stats.tcpMessages);
  expect(stats.dnsMessages).toBe(events);
}

function writePcap(path: string, linkType: number, frames: { data: Uint8Array; tsSec?: number; tsNsec?: number }[]): void {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b23c4d, 0); // nanosecond pcap
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(linkType, 20);
  parts.push(h);
  for (const f of frames) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(f.tsSec ?? 0, 0);
    r.writeUInt32LE(f.tsNsec ?? 0, 4);
    r.writeUInt32LE(f.data.length, 8);
    r.writeUInt32LE(f.data.length, 12);
    parts.push(r, Buffer.from(f.data));
  }
  writeFileSync(path, Buffer.concat(parts));
}

const cat = (...p: (Uint8Array | number[])[]): Uint8Array => Buffer.concat(p.map((x) => Buffer.from(x as Uint8Array)));
const be16 = (v: number): number[] => [v >> 8, v & 255];
const be32 = (v: number): number[] => [v >>> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255];
const le32 = (v: number): number[] => be32(v).reverse();
const MACS = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
const ethertypeOf = (v: number): number => (v === 4 ? 0x0800 : 0x86dd);

// Link-layer wrappers, each as tshark and libpcap define the header.
const wrap = {
  ether: (ip: Uint8Array, v: number, tags: number[] = []) => cat(MACS, ...tags.map((t, i) => [...be16(t), ...be16(100 + i)]), be16(ethertypeOf(v)), ip),
  sll: (ip: Uint8Array, v: number) => cat(be16(0), be16(1), be16(6), [2, 0, 0, 0, 0, 1, 0, 0], be16(ethertypeOf(v)), ip),
  sll2: (ip: Uint8Array, v: number) => cat(be16(ethertypeOf(v)), be16(0), be32(3), be16(1), [0, 6], [2, 0, 0, 0, 0, 1, 0, 0], ip),
  nullLe: (ip: Uint8Array, af: number) => cat(le32(af), ip),
  nullBe: (ip: Uint8Array, af: number) => cat(be32(af), ip),
  loop: (ip: Uint8Array, af: number) => cat(be32(af), ip),
};

interface Sample {
  v4: Frame[]; // DNS frames over Ethernet/IPv4 (dnscap__dns.pcap)
  v6: Frame[]; // DNS frames over Ethernet/IPv6 (zeek__naptr.pcap)
  ip4: Uint8Array[]; // their IP packets
  ip6: Uint8Array[];
  base4: DnsEvent[]; // their events as decoded from the original files
  base6: DnsEvent[];
}
const S = {} as Sample;

beforeAll(async () => {
  const all4 = await framesOf(join(DATA, 'dnscap__dns.pcap'));
  const all6 = await framesOf(join(DATA, 'zeek__naptr.pcap'));
  const isDns = (f: Frame) => decodeAll([f]).events.length === 1;
  S.v4 = all4.filter(isDns);
  S.v6 = all6.filter(isDns);
  S.ip4 = S.v4.map((f) => f.data.subarray(14));
  S.ip6 = S.v6.map((f) => f.data.subarray(14));
  S.base4 = decodeAll(S.v4).events;
  S.base6 = decodeAll(S.v6).events;
  expect(S.base4.length).toBe(82);
  expect(S.base6.length).toBe(2);
});

/** Decodes re-wrapped packets and expects the very events of the originals. */
function expectSameEvents(linkType: number, datas: Uint8Array[], originals: Frame[], base: DnsEvent[]): Stats {
  const frames = datas.map((data, i) => ({ ...originals[i], linkType, data }));
  const { events, stats } = decodeAll(frames);
  expect(events).toEqual(base);
  expectBalanced(stats, frames.length, events.length);
  return stats;
}

/** What tshark sees in a pcap of these frames: "id qname" per DNS message. */
function tsharkSees(name: string, linkType: number, datas: Uint8Array[]): string[] {
  const path = join(tmp, name);
  writePcap(path, linkType, datas.map((data) => ({ data })));
  const out = execFileSync('tshark', ['-r', path, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-Y', 'dns', '-T', 'fields', '-e', 'dns.id', '-e', 'dns.qry.name'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim() === '' ? [] : out.trim().split('\n').map((l) => l.toLowerCase());
}

const seen = (evs: DnsEvent[]) => evs.map((e) => `0x${e.id.toString(16).padStart(4, '0')}\t${e.qname}`);

describe('link layers', () => {
  it('Ethernet with 802.1Q, 802.1ad QinQ and stacked legacy tags', () => {
    for (const tags of [[0x8100], [0x88a8, 0x8100], [0x9100, 0x9100, 0x8100]]) {
      expectSameEvents(1, S.ip4.map((ip) => wrap.ether(ip, 4, tags)), S.v4, S.base4);
      expectSameEvents(1, S.ip6.map((ip) => wrap.ether(ip, 6, tags)), S.v6, S.base6);
    }
  });

  it('Linux cooked SLL and SLL2', () => {
    expectSameEvents(113, S.ip4.map((ip) => wrap.sll(ip, 4)), S.v4, S.base4);
    expectSameEvents(113, S.ip6.map((ip) => wrap.sll(ip, 6)), S.v6, S.base6);
    expectSameEvents(276, S.ip4.map((ip) => wrap.sll2(ip, 4)), S.v4, S.base4);
    expectSameEvents(276, S.ip6.map((ip) => wrap.sll2(ip, 6)), S.v6, S.base6);
  });

  it('raw IP (101, 12, 14), raw IPv4 (228), raw IPv6 (229)', () => {
    for (const lt of [101, 12, 14]) {
      expectSameEvents(lt, S.ip4, S.v4, S.base4);
      expectSameEvents(lt, S.ip6, S.v6, S.base6);
    }
    expectSameEvents(228, S.ip4, S.v4, S.base4);
    expectSameEvents(229, S.ip6, S.v6, S.base6);
  });

  it('BSD NULL in either byte order and LOOP, with every AF_INET6 value', () => {
    expectSameEvents(0, S.ip4.map((ip) => wrap.nullLe(ip, 2)), S.v4, S.base4);
    expectSameEvents(0, S.ip4.map((ip) => wrap.nullBe(ip, 2)), S.v4, S.base4);
    expectSameEvents(108, S.ip4.map((ip) => wrap.loop(ip, 2)), S.v4, S.base4);
    for (const af of [10, 24, 28, 30]) {
      expectSameEvents(0, S.ip6.map((ip) => wrap.nullLe(ip, af)), S.v6, S.base6);
      expectSameEvents(0, S.ip6.map((ip) => wrap.nullBe(ip, af)), S.v6, S.base6);
      expectSameEvents(108, S.ip6.map((ip) => wrap.loop(ip, af)), S.v6, S.base6);
    }
  });

  it('non-IP frames are not DNS: ARP, LLDP, 802.3 LLC, other address families', () => {
    const ctx = context();
    const out: DnsEvent[] = [];
    const frames: Frame[] = [
      { ...S.v4[0], data: cat(MACS, be16(0x0806), new Uint8Array(28)) }, // ARP
      { ...S.v4[0], data: cat(MACS, be16(0x8100), be16(5), be16(0x88cc), new Uint8Array(30)) }, // tagged LLDP
      { ...S.v4[0], data: cat(MACS, be16(38), [0x42, 0x42, 3], new Uint8Array(35)) }, // STP over LLC
      { ...S.v4[0], linkType: 0, data: wrap.nullLe(S.ip4[0], 7) },
      { ...S.v4[0], linkType: 108, data: wrap.loop(S.ip4[0], 17) },
      { ...S.v4[0], linkType: 113, data: cat(be16(0), be16(1), be16(6), new Uint8Array(8), be16(0x0806), new Uint8Array(28)) },
    ];
    for (const f of frames) decodeFrame(f, ctx, out);
    expect(out).toEqual([]);
    expect(ctx.stats.notDns).toBe(frames.length);
  });

  it('too-short link headers are malformed, not crashes', () => {
    const ctx = context();
    const out: DnsEvent[] = [];
    const cases: [number, number[]][] = [[1, [1, 2, 3]], [1, [...MACS, 0x81, 0x00, 0, 1]], [113, [0, 0, 0, 1]], [276, [8, 0]], [101, []], [0, [2, 0]], [108, [0]]];
    for (const [linkType, bytes] of cases) decodeFrame({ ...S.v4[0], linkType, data: new Uint8Array(bytes) }, ctx, out);
    decodeFrame({ ...S.v4[0], linkType: 101, data: new Uint8Array([0x55, 1, 2]) }, ctx, out);
    expect(out).toEqual([]);
    expect(Object.fromEntries(ctx.stats.malformedBy)).toEqual({ 'link:short': cases.length, 'link:not-ip': 1 });
  });

  it('an unsupported link type is warned about once and counted per frame by name', () => {
    const warn = vi.spyOn(log, 'warn');
    try {
      const ctx = context();
      const out: DnsEvent[] = [];
      for (let i = 0; i < 5; i++) decodeFrame({ ...S.v4[i], data: S.v4[i].data, linkType: 105 }, ctx, out);
      for (let i = 0; i < 3; i++) decodeFrame({ ...S.v4[i], data: S.v4[i].data, linkType: 40000 }, ctx, out);
      expect(out).toEqual([]);
      expect(Object.fromEntries(ctx.stats.unsupportedBy)).toEqual({ 'link:IEEE802_11': 5, 'link:40000': 3 });
      expect(warn).toHaveBeenCalledTimes(2);
      expect(String(warn.mock.calls[0][1])).toMatch(/IEEE802_11/);
    } finally {
      warn.mockRestore();
    }
  });
});

// IP header variants built from the real packets.
function withIpv4Options(ip: Uint8Array): Uint8Array {
  const ihl = (ip[0] & 15) * 4;
  const out = cat(ip.subarray(0, ihl), [1, 1, 1, 0], ip.subarray(ihl)); // NOP NOP NOP EOL
  out[0] = (ip[0] & 0xf0) | ((ihl + 4) / 4);
  const total = ((ip[2] << 8) | ip[3]) + 4;
  out[2] = total >> 8;
  out[3] = total & 255;
  out[10] = out[11] = 0;
  let sum = 0; // a correct header checksum, so tshark has nothing to complain about
  for (let i = 0; i < ihl + 4; i += 2) sum += (out[i] << 8) | out[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  out[10] = (~sum >> 8) & 255;
  out[11] = ~sum & 255;
  return out;
}

/** Inserts IPv6 extension headers (each [type, bytes without the next-header byte]) before the UDP header. */
function withIpv6Headers(ip: Uint8Array, headers: [number, number[]][]): Uint8Array {
  const upper = ip[6];
  const parts: number[][] = [];
  for (let i = 0; i < headers.length; i++) parts.push([i + 1 < headers.length ? headers[i + 1][0] : upper, ...headers[i][1]]);
  const ext = parts.flat();
  const out = cat(ip.subarray(0, 40), ext, ip.subarray(40));
  out[6] = headers[0][0];
  const plen = ((ip[4] << 8) | ip[5]) + ext.length;
  out[4] = plen >> 8;
  out[5] = plen & 255;
  return out;
}

const HOP: [number, number[]] = [0, [0, 1, 4, 0, 0, 0, 0]]; // PadN
const DST: [number, number[]] = [60, [0, 1, 4, 0, 0, 0, 0]];
// type 2 (Mobile IPv6, RFC 6275): one home address, segments left 1
const ROUTING: [number, number[]] = [43, [2, 2, 1, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]];
const ATOMIC_FRAG: [number, number[]] = [44, [0, 0, 0, 0, 0, 0, 7]]; // offset 0, M=0
const AH: [number, number[]] = [51, [4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, ...new Array(12).fill(0xaa)]]; // 24 bytes

describe('IP and UDP', () => {
  it('IPv4 header options', () => {
    expectSameEvents(228, S.ip4.map(withIpv4Options), S.v4, S.base4);
  });

  it('IPv6 extension headers: hop-by-hop, destination, routing, atomic fragment, AH', () => {
    expectSameEvents(229, S.ip6.map((ip) => withIpv6Headers(ip, [HOP, DST, ROUTING, ATOMIC_FRAG, AH])), S.v6, S.base6);
  });

  it('fragments go to the defragmenter; ESP, no-next-header and ICMP are not DNS', () => {
    const ctx = context();
    const out: DnsEvent[] = [];
    const frag = (off: number, more: boolean): [number, number[]] => [44, [0, off >> 5, ((off << 3) & 0xf8) | (more ? 1 : 0), 0, 0, 0, 1]];
    for (const ip of S.ip6) {
      decodeFrame({ ...S.v6[0], linkType: 229, data: withIpv6Headers(ip, [frag(0, true)]) }, ctx, out);
      decodeFrame({ ...S.v6[0], linkType: 229, data: withIpv6Headers(ip, [HOP, frag(100, false)]) }, ctx, out);
      const esp = withIpv6Headers(ip, [[50, [0, 0, 1, 0, 0, 0, 1]]]);
      esp[40] = 0; // ESP's first byte is the SPI, not a next header; anything after it is opaque
      decodeFrame({ ...S.v6[0], linkType: 229, data: esp }, ctx, out);
      decodeFrame({ ...S.v6[0], linkType: 229, data: withIpv6Headers(ip, [DST, [59, [0, 0, 0, 0, 0, 0, 0]]]) }, ctx, out);
    }
    for (const ip of S.ip4.slice(0, 3)) {
      const mf = Uint8Array.from(ip);
      mf[6] |= 0x20; // more fragments
      decodeFrame({ ...S.v4[0], linkType: 228, data: mf }, ctx, out);
      const icmp = Uint8Array.from(ip);
      icmp[9] = 1;
      decodeFrame({ ...S.v4[0], linkType: 228, data: icmp }, ctx, out);
    }
    expect(out).toEqual([]);
    // A fragment that is not the last must carry a multiple of 8 bytes; the others are held.
    const odd = [...S.ip6.map((ip) => ip.length - 40), ...S.ip4.slice(0, 3).map((ip) => ip.length - 20)].filter((n) => n % 8 !== 0).length;
    expect(Object.fromEntries(ctx.stats.unsupportedBy)).toEqual({});
    expect(ctx.stats.malformedBy.get('ip:bad-fragment') ?? 0).toBe(odd);
    expect(ctx.stats.ipFragments).toBe(2 * S.ip6.length + 3 - odd);
    expect(ctx.stats.notDns).toBe(2 * S.ip6.length + 3);
  });

  it('TCP on a DNS port goes to the stream reassembler, elsewhere not DNS; other UDP ports are not DNS', () => {
    const tcp = Uint8Array.from(cat(S.ip4[0].subarray(0, 20), be16(40000), be16(53), new Uint8Array(8), [0x50, 0x18], new Uint8Array(6)));
    tcp[9] = 6;
    tcp[2] = 0;
    tcp[3] = 40;
    const tcpOther = Uint8Array.from(tcp);
    tcpOther[22] = 1; // port 443
    tcpOther[23] = 0xbb;
    const ctx = context(new Stats(), [5353]);
    const out: DnsEvent[] = [];
    decodeFrame({ ...S.v4[0], linkType: 228, data: tcp }, ctx, out);
    decodeFrame({ ...S.v4[0], linkType: 228, data: tcpOther }, ctx, out);
    for (const ip of S.ip4) decodeFrame({ ...S.v4[0], linkType: 228, data: ip }, ctx, out); // port 53, not in {5353}
    expect(out).toEqual([]);
    expect(Object.fromEntries(ctx.stats.unsupportedBy)).toEqual({});
    expect(ctx.stats.notDns).toBe(2 + S.ip4.length);
    const ctx53 = context();
    decodeFrame({ ...S.v4[0], linkType: 228, data: tcp }, ctx53, out);
    decodeFrame({ ...S.v4[0], linkType: 228, data: tcpOther }, ctx53, out);
    expect(Object.fromEntries(ctx53.stats.unsupportedBy)).toEqual({});
    expect(ctx53.stats.tcpSegments).toBe(1); // an ACK without data: nothing held
    expect(ctx53.stats.notDns).toBe(1);
  });

  it('a DNS port on either side selects the packet', () => {
    const ports = [S.base4[0].srcPort, S.base4[0].dstPort].filter((p) => p !== 53);
    const { events } = decodeAll(S.v4.slice(0, 2), context(new Stats(), ports));
    expect(events.length).toBe(2); // the query (client port as source) and its response (as destination)
  });

  it('bad lengths are malformed with a reason', () => {
    const ctx = context();
    const out: DnsEvent[] = [];
    const ip = S.ip4[0];
    const mutate = (f: (b: Uint8Array) => void, len = ip.length) => {
      const b = Uint8Array.from(ip.subarray(0, len));
      f(b);
      decodeFrame({ ...S.v4[0], linkType: 228, data: b }, ctx, out);
    };
    mutate(() => {}, 19); // ip:short
    mutate((b) => (b[0] = 0x64)); // ip:bad-version
    mutate((b) => (b[0] = 0x44)); // ip:bad-header-length
    mutate((b) => (b[3] = 10), ip.length); // total length < header: ip:bad-length
    mutate(() => {}, ip.length - 1); // snapped: ip:truncated
    mutate((b) => (b[24] = b[25] = 0)); // udp length 0: udp:bad-length
    mutate((b) => (b[24] = 0xff)); // udp length past the IP packet: udp:truncated
    const ip6 = S.ip6[0];
    decodeFrame({ ...S.v6[0], linkType: 229, data: ip6.subarray(0, 39) }, ctx, out);
    decodeFrame({ ...S.v6[0], linkType: 229, data: ip6.subarray(0, ip6.length - 1) }, ctx, out);
    const deep = withIpv6Headers(ip6, new Array(17).fill(DST));
    decodeFrame({ ...S.v6[0], linkType: 229, data: deep }, ctx, out);
    const badExt = withIpv6Headers(ip6, [[60, [200, 0, 0, 0, 0, 0, 0]]]);
    decodeFrame({ ...S.v6[0], linkType: 229, data: badExt }, ctx, out);
    expect(out).toEqual([]);
    expect(Object.fromEntries(ctx.stats.malformedBy)).toEqual({
      'ip:short': 1,
      'ip:bad-version': 1,
      'ip:bad-header-length': 1,
      'ip:bad-length': 1,
      'ip:truncated': 1,
      'udp:bad-length': 1,
      'udp:truncated': 1,
      'ip6:short': 1,
      'ip6:truncated': 1,
      'ip6:too-many-headers': 1,
      'ip6:bad-extension': 1,
    });
  });

  it('trailing Ethernet padding after the IP packet is ignored', () => {
    expectSameEvents(1, S.ip4.map((ip) => cat(wrap.ether(ip, 4), new Uint8Array(20))), S.v4, S.base4);
  });
});

describeWithPeers('re-wrapped packets as tshark sees them', ['tshark'], () => {
  it('tshark finds the same DNS messages in every re-wrapped file', () => {
    const want4 = seen(S.base4);
    const want6 = seen(S.base6);
    const cases: [string, number, Uint8Array[], string[]][] = [
      ['qinq', 1, S.ip4.map((ip) => wrap.ether(ip, 4, [0x88a8, 0x8100])), want4],
      ['sll', 113, S.ip6.map((ip) => wrap.sll(ip, 6)), want6],
      ['sll2', 276, S.ip4.map((ip) => wrap.sll2(ip, 4)), want4],
      ['null-le', 0, S.ip4.map((ip) => wrap.nullLe(ip, 2)), want4],
      ['null-be6', 0, S.ip6.map((ip) => wrap.nullBe(ip, 28)), want6],
      ['loop6', 108, S.ip6.map((ip) => wrap.loop(ip, 30)), want6],
      ['raw12', 12, S.ip6, want6],
      ['raw14', 14, S.ip4, want4],
      ['ipv4-options', 228, S.ip4.map(withIpv4Options), want4],
      ['ipv6-ext', 229, S.ip6.map((ip) => withIpv6Headers(ip, [HOP, DST, ROUTING, ATOMIC_FRAG, AH])), want6],
    ];
    for (const [name, lt, datas, want] of cases) {
      expect({ name, seen: tsharkSees(`${name}.pcap`, lt, datas) }).toEqual({ name, seen: want });
      const { events } = decodeAll(datas.map((data) => ({ tsSec: 0, tsNsec: 0, linkType: lt, data, origLen: data.length })));
      expect({ name, seen: seen(events) }).toEqual({ name, seen: want });
    }
  });
});

describe('counters on the shared captures', () => {
  for (const f of readdirSync(DATA).filter((n) => n.endsWith('.pcap'))) {
    it(`${f}: every frame lands in exactly one bucket`, async () => {
      const stats = new Stats();
      const ctx = context(stats);
      const events: DnsEvent[] = [];
      for await (const batch of readCapture(join(DATA, f), stats)) for (const fr of batch) decodeFrame(fr, ctx, events);
      expect(stats.packets).toBeGreaterThan(0);
      expectBalanced(stats, stats.packets, events.length);
    });
  }
});

describe('hostile input', () => {
  it('truncated, bit-flipped and mislabelled frames never throw and are all counted', async () => {
    const pool: Frame[] = [];
    for (const f of ['dnscap__dns.pcap', 'zeek__naptr.pcap', 'dnsjit__pellets.pcap', 'dnscap__sll2.pcap', 'dnscap__vlan11.pcap', 'tcpdump__edns-opts.pcap', 'zeek__dns-https.pcap', 'dnscap__frags.pcap']) {
      pool.push(...(await framesOf(join(DATA, f))));
    }
    const rnd = prng(20240601);
    const pick = (n: number) => Math.floor(rnd() * n);
    const linkTypes = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];
    const ctx = context();
    const out: DnsEvent[] = [];
    const N = 40_000;
    for (let i = 0; i < N; i++) {
      const src = pool[pick(pool.length)];
      let data = Uint8Array.from(src.data);
      let linkType = src.linkType;
      switch (pick(4)) {
        case 0:
          data = data.subarray(0, pick(data.length + 1));
          break;
        case 1:
          for (let k = 1 + pick(4); k > 0; k--) data[pick(data.length)] = pick(256);
          break;
        case 2: {
          const at = pick(Math.max(1, data.length - 1));
          const v = [0, 0xff, 0xffff, pick(65536)][pick(4)];
          data[at] = v >> 8;
          if (at + 1 < data.length) data[at + 1] = v & 255;
          break;
        }
        default:
          linkType = linkTypes[pick(linkTypes.length)];
      }
      decodeFrame({ ...src, linkType, data }, ctx, out);
    }
    expectBalanced(ctx.stats, N, out.length);
    expect(ctx.stats.malformedBy.get('dns:decoder-error')).toBeUndefined(); // the DNS decoder never threw
    expect(out.length).toBeGreaterThan(1000);
    expect(ctx.stats.malformed).toBeGreaterThan(1000);
  });
});

describe('address text', () => {
  it('IPv4 dotted quad', () => {
    const rnd = prng(7);
    for (let i = 0; i < 2000; i++) {
      const b = Uint8Array.from({ length: 4 }, () => Math.floor(rnd() * 256));
      expect(ipv4Text(b, 0)).toBe(Array.from(b).join('.'));
    }
    expect(ipv4Text(Uint8Array.from([9, 9, 0, 0, 0, 255, 9]), 2)).toBe('0.0.0.255');
  });

  it('IPv6 as RFC 5952, checked against inet_ntop (node:net) on random addresses with zero runs', () => {
    const rnd = prng(11);
    let compared = 0;
    for (let i = 0; i < 5000; i++) {
      const b = new Uint8Array(16);
      for (let g = 0; g < 8; g++) {
        const r = rnd();
        const v = r < 0.45 ? 0 : r < 0.6 ? Math.floor(rnd() * 16) : r < 0.7 ? Math.floor(rnd() * 256) : Math.floor(rnd() * 65536);
        b[2 * g] = v >> 8;
        b[2 * g + 1] = v & 255;
      }
      // inet_ntop writes some addresses with a zero first 80 bits in dotted form (IPv4-compatible):
      // RFC 5952 keeps that for IPv4-mapped only, tested below.
      if (b.subarray(0, 10).every((x) => x === 0)) continue;
      const full = Array.from({ length: 8 }, (_, g) => ((b[2 * g] << 8) | b[2 * g + 1]).toString(16)).join(':');
      expect(ipv6Text(b, 0)).toBe(new SocketAddress({ address: full, family: 'ipv6' }).address);
      compared++;
    }
    expect(compared).toBeGreaterThan(3000);
  });

  it('IPv6 special cases', () => {
    const t = (hex: string) => ipv6Text(Buffer.from(hex.replace(/:/g, ''), 'hex'), 0);
    expect(t('0000:0000:0000:0000:0000:0000:0000:0000')).toBe('::');
    expect(t('0000:0000:0000:0000:0000:0000:0000:0001')).toBe('::1');
    expect(t('0001:0000:0000:0000:0000:0000:0000:0000')).toBe('1::');
    expect(t('0000:0000:0000:0000:0000:ffff:c000:0201')).toBe('::ffff:192.0.2.1');
    expect(t('0000:0000:0000:0000:0000:0000:c000:0201')).toBe('::c000:201');
    expect(t('2001:0db8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1'); // first of equal runs
    expect(t('2001:0db8:0000:0001:0000:0000:0000:0001')).toBe('2001:db8:0:1::1'); // longest run
    expect(t('2001:0db8:0000:0001:0001:0001:0001:0001')).toBe('2001:db8:0:1:1:1:1:1'); // one zero group stays
    expect(t('FE80:0000:0000:0000:ABCD:00EF:0000:0000'.toLowerCase())).toBe('fe80::abcd:ef:0:0');
  });
});
