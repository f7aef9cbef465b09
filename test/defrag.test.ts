// IPv4 and IPv6 fragment reassembly on generated captures: in order, out of order, duplicates,
// overlaps that agree and that conflict, expiry in capture time, and the memory bounds. Each case
// states its expected counts; where tshark reassembles the same way, its messages must match ours.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFrame, type DecodeContext } from '../src/decode/packet.js';
import { TransportState } from '../src/decode/transport.js';
import type { Frame } from '../src/frame.js';
import { Stats } from '../src/stats.js';
import { describeWithPeers } from './peers.js';
import { rng } from './synthetic.js';
import { decodeFrames, dnsQuery, dnsTxtResponse, droppedOf, fragments4, fragments6, frameAt, ipv4, ipv6, messageView, reverse, tsharkViews, udp, V4, V6, writePcap, type Addrs } from './wire.js';

const tmp = mkdtempSync(join(tmpdir(), 'dnslens-defrag-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const NAME = 'frag.example';
const CPORT = 40000;
// A ~1,250-byte TXT answer: its UDP datagram is 1,262 bytes, so 256-byte fragments make 5.
const RESPONSE = dnsTxtResponse(0x1234, NAME, 6, 200);
const QUERY = dnsQuery(0x1234, NAME, 'TXT');
const RESPONSE_UDP = udp(53, CPORT, RESPONSE);

/** Every unit in one bucket, and every fragment either used or counted as dropped. */
function expectAccounted(stats: Stats, fragmentsUsed: number): void {
  expect(stats.balanced()).toBe(true);
  let dropped = 0;
  for (const [k, v] of stats.droppedBy) if (k.startsWith('defrag:')) dropped += v;
  expect(stats.ipFragments).toBe(fragmentsUsed + dropped);
}

function query(t: number, a: Addrs = V4): Frame {
  const u = udp(CPORT, 53, QUERY);
  return frameAt(t, a.v === 4 ? ipv4(a, 17, u, 7) : ipv6(a, 17, u));
}

/** The response decoded from one unfragmented packet: what reassembly must give back. */
function wholeResponse(a: Addrs, t: number) {
  const ip = a.v === 4 ? ipv4(reverse(a), 17, RESPONSE_UDP, 99) : ipv6(reverse(a), 17, RESPONSE_UDP);
  return decodeFrames([frameAt(t, ip)]).events[0].ev;
}

const frags4 = (size = 256, id = 99) => fragments4(reverse(V4), 17, RESPONSE_UDP, size, id);

describe('IPv4 fragments', () => {
  it('in order: the datagram is decoded when its last fragment arrives', () => {
    const parts = frags4();
    expect(parts.length).toBe(5);
    const frames = [query(100), ...parts.map((p, i) => frameAt(100.01 + i * 0.001, p))];
    const { events, stats } = decodeFrames(frames);
    expect(events.map((e) => e.frame)).toEqual([1, 6]);
    expect(events[1].ev).toEqual(wholeResponse(V4, 100.014));
    expect({ frags: stats.ipFragments, datagrams: stats.ipDatagrams, dns: stats.dnsMessages, dropped: droppedOf(stats) }).toEqual({ frags: 5, datagrams: 1, dns: 2, dropped: {} });
    expectAccounted(stats, 5);
  });

  it('out of order with a duplicate: completed by the last missing piece, the duplicate counted', () => {
    const p = frags4();
    const order = [p[4], p[2], p[2], p[0], p[3], p[1]];
    const { events, stats } = decodeFrames(order.map((x, i) => frameAt(200 + i * 0.01, x)));
    expect(events.map((e) => e.frame)).toEqual([6]);
    expect(events[0].ev).toEqual(wholeResponse(V4, 200.05));
    expect(droppedOf(stats)).toEqual({ 'defrag:duplicate': 1 });
    expect(stats.ipFragments).toBe(6);
    expectAccounted(stats, 5);
  });

  it('overlapping fragments whose bytes agree make one datagram', () => {
    const a = reverse(V4);
    const u = RESPONSE_UDP;
    const pieces = [
      ipv4(a, 17, u.subarray(0, 256), 5, { offset: 0, more: true }),
      ipv4(a, 17, u.subarray(248, 512), 5, { offset: 248, more: true }), // 8 bytes again
      ipv4(a, 17, u.subarray(256, 264), 5, { offset: 256, more: true }), // wholly covered: a duplicate
      ipv4(a, 17, u.subarray(504, u.length), 5, { offset: 504, more: false }),
    ];
    const { events, stats } = decodeFrames(pieces.map((x, i) => frameAt(300 + i, x)));
    expect(events.map((e) => e.frame)).toEqual([4]);
    expect(events[0].ev).toEqual(wholeResponse(V4, 303));
    expect(droppedOf(stats)).toEqual({ 'defrag:duplicate': 1 });
    expectAccounted(stats, 3);
  });

  it('overlapping fragments that disagree discard the datagram (RFC 5722 policy)', () => {
    const a = reverse(V4);
    const u = RESPONSE_UDP;
    const forged = Uint8Array.from(u.subarray(248, 512));
    forged[3] ^= 0xff; // inside the overlap with the first piece
    const pieces = [
      ipv4(a, 17, u.subarray(0, 256), 6, { offset: 0, more: true }),
      ipv4(a, 17, forged, 6, { offset: 248, more: true }),
      ipv4(a, 17, u.subarray(512, u.length), 6, { offset: 512, more: false }), // starts over, never completes
    ];
    const { events, stats } = decodeFrames(pieces.map((x, i) => frameAt(400 + i, x)));
    expect(events).toEqual([]);
    expect(droppedOf(stats)).toEqual({ 'defrag:overlap-conflict': 2, 'defrag:incomplete-at-end': 1 });
    expectAccounted(stats, 0);
  });

  it('a datagram that never completes expires after 30 s of capture time, and replays the same way', () => {
    const p = frags4();
    const frames = [frameAt(500, p[0]), frameAt(500.5, p[1]), query(531)];
    for (let run = 0; run < 2; run++) {
      const { events, stats } = decodeFrames(frames);
      expect(events.map((e) => e.frame)).toEqual([3]);
      expect(droppedOf(stats)).toEqual({ 'defrag:expired': 2 });
      expectAccounted(stats, 0);
    }
    // 29 s later it is still waiting; the end of input counts it.
    const early = decodeFrames([frameAt(500, p[0]), frameAt(500.5, p[1]), query(529)]);
    expect(droppedOf(early.stats)).toEqual({ 'defrag:incomplete-at-end': 2 });
    // The last pieces arriving within the timeout still complete it.
    const late = decodeFrames([frameAt(500, p[0]), frameAt(500.5, p[1]), query(520), ...p.slice(2).map((x) => frameAt(529, x))]);
    expect(late.events.map((e) => e.frame)).toEqual([3, 6]);
  });

  it('keys on source, destination, identification and protocol: interleaved datagrams stay apart', () => {
    const other: Addrs = { v: 4, src: [192, 0, 2, 54], dst: V4.src };
    const a = frags4(256, 42);
    const b = fragments4(other, 17, RESPONSE_UDP, 256, 42); // same id, other source
    const icmp = ipv4(reverse(V4), 1, new Uint8Array(64), 42, { offset: 0, more: true }); // same id, other protocol
    const frames: Frame[] = [];
    for (let i = 0; i < a.length; i++) frames.push(frameAt(600 + i, a[i]), frameAt(600 + i, b[a.length - 1 - i]));
    frames.splice(3, 0, frameAt(601, icmp));
    const { events, stats } = decodeFrames(frames);
    expect(events.map((e) => e.ev.srcIp).sort()).toEqual(['192.0.2.53', '192.0.2.54']);
    expect(stats.notDns).toBe(1); // the ICMP fragment is not held
    expectAccounted(stats, 10);
  });

  it('a fragment that is not the last must carry a multiple of 8 bytes', () => {
    const bad = ipv4(reverse(V4), 17, RESPONSE_UDP.subarray(0, 100), 9, { offset: 0, more: true });
    const { stats } = decodeFrames([frameAt(1, bad)]);
    expect(Object.fromEntries(stats.malformedBy)).toEqual({ 'ip:bad-fragment': 1 });
    expect(stats.ipFragments).toBe(0);
    expectAccounted(stats, 0);
  });
});

describe('IPv6 fragment header', () => {
  it('reassembles a response in 3 fragments, in any order', () => {
    const parts = fragments6(reverse(V6), 17, RESPONSE_UDP, 512, 0xabcdef);
    expect(parts.length).toBe(3);
    const { events, stats } = decodeFrames([query(700, V6), frameAt(700.1, parts[2]), frameAt(700.2, parts[0]), frameAt(700.3, parts[1])], [53]);
    expect(events.map((e) => e.frame)).toEqual([1, 4]);
    expect(events[1].ev).toEqual(wholeResponse(V6, 700.3));
    expect(events[1].ev.ipVersion).toBe(6);
    expectAccounted(stats, 3);
  });
});

describe('bounds', () => {
  it('too big: past 65,535 bytes', () => {
    const far = ipv4(reverse(V4), 17, new Uint8Array(16), 3, { offset: 65528, more: false });
    const { stats } = decodeFrames([frameAt(1, far)]);
    expect(droppedOf(stats)).toEqual({ 'defrag:too-big': 1 });
    expectAccounted(stats, 0);
  });

  it('too many fragments in one datagram', () => {
    const parts = fragments4(reverse(V4), 17, RESPONSE_UDP, 128, 4); // 10 fragments
    const { events, stats } = decodeFrames(parts.map((p, i) => frameAt(1 + i, p)), [53], { defrag: { maxFragments: 8 } });
    expect(events).toEqual([]);
    // The ninth is refused with the eight held; the tenth starts a datagram the end of input counts.
    expect(droppedOf(stats)).toEqual({ 'defrag:too-many-fragments': 9, 'defrag:incomplete-at-end': 1 });
    expectAccounted(stats, 0);
  });

  it('bytes held and datagrams held: the oldest go first', () => {
    const a = frags4(256, 1);
    const b = frags4(256, 2);
    const c = frags4(256, 3);
    // Three datagrams' first pieces, then the rest of the newest: with room for two, the oldest goes.
    const frames = [a[0], b[0], c[0], ...c.slice(1)].map((p, i) => frameAt(1 + i * 0.1, p));
    const byCount = decodeFrames(frames, [53], { defrag: { maxDatagrams: 2 } });
    expect(byCount.events.length).toBe(1);
    expect(droppedOf(byCount.stats)).toEqual({ 'defrag:datagram-limit': 1, 'defrag:incomplete-at-end': 1 });
    expectAccounted(byCount.stats, 5);
    const byBytes = decodeFrames(frames, [53], { defrag: { maxBytes: 1300 } });
    expect(byBytes.events.length).toBe(1);
    expect(droppedOf(byBytes.stats)).toEqual({ 'defrag:memory-limit': 2 });
    expectAccounted(byBytes.stats, 5);
  });

  it('200 random datagrams in fragments of random sizes, shuffled, some duplicated, a tenth missing a piece', () => {
    const r = rng(4242);
    const frames: Frame[] = [];
    let complete = 0;
    let used = 0;
    for (let d = 0; d < 200; d++) {
      const payload = udp(53, CPORT, dnsTxtResponse(d, `d${d}.example`, 1 + Math.floor(r() * 8), 180));
      const parts = fragments4(reverse(V4), 17, payload, 8 * (4 + Math.floor(r() * 20)), d); // 3 or more
      const keep = r() < 0.9 ? parts : parts.slice(1);
      if (keep === parts) {
        complete++;
        used += parts.length;
      }
      for (const p of keep) frames.push(frameAt(1 + r(), p));
      if (r() < 0.5) frames.push(frameAt(2 + r(), keep[Math.floor(r() * keep.length)]));
    }
    for (let i = frames.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [frames[i], frames[j]] = [frames[j], frames[i]];
    }
    const { events, stats } = decodeFrames(frames);
    expect(frames.length).toBeGreaterThan(1000);
    expect(events.length).toBe(complete);
    expect(new Set(events.map((e) => e.ev.qname)).size).toBe(complete);
    for (const e of events) expect(e.ev.qname).toMatch(/^d\d+\.example$/);
    // Duplicates before completion, and pieces that never made a datagram (a missing first piece,
    // or a duplicate arriving after completion), are all counted.
    expect(Object.keys(droppedOf(stats)).sort()).toEqual(['defrag:duplicate', 'defrag:incomplete-at-end']);
    expectAccounted(stats, used);
  });
});

describe('hostile fragments', () => {
  it('20,000 random fragments (offsets, lengths, ids, flags, bytes): never a throw, all counted', () => {
    const r = rng(8080);
    const frames: Frame[] = [];
    for (let i = 0; i < 20_000; i++) {
      const more = r() < 0.7;
      const len = 8 * Math.floor(r() * 40) + (more ? 0 : Math.floor(r() * 8));
      const payload = r() < 0.5 ? RESPONSE_UDP.subarray(0, len) : Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
      const offset = r() < 0.5 ? 8 * Math.floor(r() * 200) : 8 * Math.floor(r() * 8192);
      const id = Math.floor(r() * 16);
      const ip = r() < 0.6 ? ipv4(reverse(V4), r() < 0.9 ? 17 : 6, payload, id, { offset, more }) : ipv6(reverse(V6), 17, payload, { id, offset: offset & 0xfff8, more });
      frames.push(frameAt(1 + i * 0.01, ip));
    }
    const { stats } = decodeFrames(frames, [53], { defrag: { maxBytes: 20_000 } });
    // Replayed, the bytes held after every frame stay within the bound.
    const replay = new TransportState(new Stats(), { defrag: { maxBytes: 20_000 } });
    const ctx: DecodeContext = { stats: new Stats(), ports: new Set([53]), server: '', inputKind: 'pcap', inputName: '', transport: replay };
    let peak = 0;
    for (const f of frames) {
      decodeFrame(f, ctx, []);
      peak = Math.max(peak, replay.defrag.heldBytes);
    }
    expect(peak).toBeGreaterThan(10_000);
    expect(peak).toBeLessThanOrEqual(20_000);
    expect(stats.balanced()).toBe(true);
    expect(stats.ipFragments).toBeGreaterThan(10_000);
    expect(stats.malformedBy.get('dns:decoder-error') ?? 0).toBe(0);
    // Every fragment was used or dropped with a reason; random pieces mostly cannot complete.
    let dropped = 0;
    for (const [k, v] of stats.droppedBy) if (k.startsWith('defrag:')) dropped += v;
    expect(dropped).toBeGreaterThan(stats.ipFragments / 2);
    expect(dropped).toBeLessThanOrEqual(stats.ipFragments);
  });
});

describeWithPeers('fragments as tshark reassembles them', ['tshark'], () => {
  it('in order, out of order with a duplicate, IPv6: the same messages in the same frames', async () => {
    const p = frags4();
    const v6 = fragments6(reverse(V6), 17, RESPONSE_UDP, 512, 77);
    const frames = [
      query(100),
      ...p.map((x, i) => frameAt(100.01 + i * 0.001, x)),
      ...[p[4], p[2], p[2], p[0], p[3], p[1]].map((x, i) => frameAt(160 + i * 0.01, ipv4WithId(x, 555))),
      query(200, V6),
      ...[v6[1], v6[2], v6[0]].map((x, i) => frameAt(200.1 + i * 0.01, x)),
    ];
    const path = join(tmp, 'frags.pcap');
    writePcap(path, frames);
    const ours = decodeFrames(frames).events.map(messageView);
    expect(ours.length).toBe(5);
    expect(ours).toEqual(await tsharkViews(path));
  });
});

/** The same fragment with another identification (and its header checksum fixed). */
function ipv4WithId(ip: Uint8Array, id: number): Uint8Array {
  const out = Uint8Array.from(ip);
  out[4] = id >> 8;
  out[5] = id & 255;
  out[10] = out[11] = 0;
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (out[i] << 8) | out[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  out[10] = (~sum >> 8) & 255;
  out[11] = ~sum & 255;
  return out;
}
