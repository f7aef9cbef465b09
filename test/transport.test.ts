// DNS over TCP on generated captures: several messages in one segment, one message over many,
// out-of-order and retransmitted segments, connections seen mid-stream, RST, FIN, idle expiry,
// the bounds, --port for both transports, and a truncated UDP answer retried over TCP. Each
// case states its expected counts; the mixed capture must match tshark message by message.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../src/frame.js';
import { decodeFrame } from '../src/decode/packet.js';
import { plausible } from '../src/decode/tcp.js';
import { TransportState } from '../src/decode/transport.js';
import { Stats } from '../src/stats.js';
import { describeWithPeers } from './peers.js';
import { rng } from './synthetic.js';
import { dnsPortArgs } from './tshark.js';
import {
  decodeFrames,
  dnsQuery,
  dnsTxtResponse,
  droppedOf,
  framed,
  frameAt,
  ipv4,
  messageView,
  reverse,
  TcpConn,
  tsharkViews,
  udp,
  V4,
  V6,
  writePcap,
  type Addrs,
} from './wire.js';

const tmp = mkdtempSync(join(tmpdir(), 'dnslens-tcp-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const Q = [dnsQuery(1, 'one.example'), dnsQuery(2, 'two.example', 'AAAA'), dnsQuery(3, 'three.example', 'MX')];
const BIG = dnsTxtResponse(7, 'big.example', 6, 200); // 1,250 bytes
const BIG_FRAMED = framed(BIG);

/** n nearly equal pieces of bytes. */
function split(b: Uint8Array, n: number): Uint8Array[] {
  const size = Math.ceil(b.length / n);
  return Array.from({ length: n }, (_, i) => b.subarray(i * size, Math.min(b.length, (i + 1) * size)));
}

function times(evs: { ev: { timeSec: number; timeNsec: number } }[]): number[] {
  return evs.map((e) => e.ev.timeSec + e.ev.timeNsec / 1e9);
}

describe('TCP streams', () => {
  it('3 DNS messages in one segment, both ways: 6 events with the ports and time of their segment', () => {
    const c = new TcpConn(V4, 40001, 53).open(10);
    const qs = c.send(10.1, 0, framed(...Q));
    c.send(10.2, 1, framed(...Q.map((q, i) => dnsTxtResponse(i + 1, ['one', 'two', 'three'][i] + '.example', 1, 20))));
    c.close(10.3);
    const { events, stats } = decodeFrames(c.frames);
    expect(events.map((e) => [e.frame, e.index, e.ev.id, e.ev.qr])).toEqual([
      [4, 0, 1, false], [4, 1, 2, false], [4, 2, 3, false],
      [5, 0, 1, true], [5, 1, 2, true], [5, 2, 3, true],
    ]);
    expect(events.slice(0, 3).map((e) => [e.ev.transport, e.ev.srcPort, e.ev.dstPort, e.ev.srcIp, e.ev.dstIp, e.ev.size])).toEqual(
      Q.map((q) => ['tcp', 40001, 53, '192.0.2.1', '192.0.2.53', q.length]),
    );
    expect(events[0].ev.timeSec + events[0].ev.timeNsec / 1e9).toBeCloseTo(10.1, 6);
    expect(qs.tsSec).toBe(10);
    expect({ segments: stats.tcpSegments, messages: stats.tcpMessages, dns: stats.dnsMessages, dropped: droppedOf(stats) }).toEqual({ segments: 8, messages: 6, dns: 6, dropped: {} });
    expect(stats.balanced()).toBe(true);
  });

  it('1 message over 5 segments: one event, at the time of the fifth', () => {
    const c = new TcpConn(V4, 40002, 53).open(20);
    split(BIG_FRAMED, 5).forEach((p, i) => c.send(20.1 + i * 0.01, 1, p));
    c.close(21);
    const { events, stats } = decodeFrames(c.frames);
    expect(events.map((e) => [e.frame, e.ev.id, e.ev.size, e.ev.anCount])).toEqual([[8, 7, BIG.length, 1]]);
    expect(times(events)[0]).toBeCloseTo(20.14, 6);
    expect(droppedOf(stats)).toEqual({});
  });

  it('out-of-order segments are held until the gap fills; the filling segment completes the message', () => {
    const c = new TcpConn(V4, 40003, 53).open(30);
    const base = c.next(1);
    const parts = split(BIG_FRAMED, 5);
    const offs = parts.map((_, i) => parts.slice(0, i).reduce((n, p) => n + p.length, 0));
    for (const [k, i] of [0, 2, 1, 4, 3].entries()) c.at(30.1 + k * 0.01, 1, base + offs[i], parts[i]);
    const { events, stats } = decodeFrames(c.frames);
    expect(events.map((e) => e.frame)).toEqual([8]); // the fifth data segment sent: piece 3
    expect(times(events)[0]).toBeCloseTo(30.14, 6);
    expect(droppedOf(stats)).toEqual({});
  });

  it('retransmitted segments, whole or overlapping, are dropped and counted', () => {
    const c = new TcpConn(V4, 40004, 53).open(40);
    const base = c.next(1);
    const parts = split(BIG_FRAMED, 5);
    const off = (i: number) => parts.slice(0, i).reduce((n, p) => n + p.length, 0);
    let t = 40.1;
    const send = (i: number) => c.at((t += 0.01), 1, base + off(i), parts[i]);
    send(0);
    send(1);
    send(1); // whole retransmission
    c.at((t += 0.01), 1, base + off(2) - 10, BIG_FRAMED.subarray(off(2) - 10, off(3))); // overlaps 10 old bytes: the rest is new
    send(2); // covered by the segment before
    send(3);
    send(4);
    send(4); // after the message completed
    c.skip(1, BIG_FRAMED.length);
    c.send((t += 0.01), 1, framed(dnsTxtResponse(8, 'after.example', 1, 10)), 0x18); // carries on in order
    const { events, stats } = decodeFrames(c.frames);
    expect(events.map((e) => e.ev.id)).toEqual([7, 8]);
    expect(droppedOf(stats)).toEqual({ 'tcp:retransmit': 3 });
  });

  it('a connection seen mid-stream resyncs on the first segment that starts a plausible message', () => {
    const c = new TcpConn(V4, 40005, 53, [7000, 9000]); // no handshake in the capture
    c.send(50, 1, BIG_FRAMED.subarray(600)); // the tail of a message whose start was not captured
    c.send(50.1, 1, framed(Q[0]).subarray(0, 5)); // the start of the next one ...
    c.send(50.2, 1, framed(Q[0]).subarray(5)); // ... and its end
    c.send(50.3, 1, framed(Q[1]));
    const { events, stats } = decodeFrames(c.frames);
    expect(events.map((e) => [e.frame, e.ev.id])).toEqual([[4, 2]]); // 5 bytes are too few to judge: the one after is the first
    expect(droppedOf(stats)).toEqual({ 'tcp:unsynced': 3 });
    expect(plausible(framed(Q[0]), 0, 14)).toBe(true);
    expect(plausible(BIG_FRAMED, 600, 700)).toBe(false);
  });

  it('RST ends both directions: a message cut short is counted, the next data resyncs', () => {
    const c = new TcpConn(V4, 40006, 53).open(60);
    c.send(60.1, 0, framed(Q[0]).subarray(0, 10));
    c.reset(60.2, 1);
    c.send(60.3, 0, framed(Q[1])); // same ports, no new handshake
    const { events, stats } = decodeFrames(c.frames);
    expect(events.map((e) => e.ev.id)).toEqual([2]);
    expect(droppedOf(stats)).toEqual({ 'tcp:partial-message-at-rst': 1 });
  });

  it('FIN closes its direction at once: a partial message is counted then, not at the end of input', () => {
    const c = new TcpConn(V4, 40007, 53).open(70);
    c.send(70.1, 0, framed(Q[0]));
    c.send(70.2, 1, BIG_FRAMED.subarray(0, 300));
    c.close(70.3);
    const { events, stats } = decodeFrames(c.frames);
    expect(events.map((e) => e.ev.id)).toEqual([1]);
    expect(droppedOf(stats)).toEqual({ 'tcp:partial-message-at-fin': 1 });
  });

  it('a direction idle for 60 s of capture time is closed; within that it continues', () => {
    const mk = (gap: number): Frame[] => {
      const c = new TcpConn(V4, 40008, 53).open(80);
      c.send(80.1, 1, BIG_FRAMED.subarray(0, 700));
      const other = frameAt(80.1 + gap, ipv4(V4, 17, udp(40100, 53, Q[2]), 9)); // the clock moves on
      c.send(80.2 + gap, 1, BIG_FRAMED.subarray(700));
      const data = c.frames.pop() as Frame;
      return [...c.frames, other, data];
    };
    const late = decodeFrames(mk(61));
    expect(late.events.map((e) => e.ev.transport)).toEqual(['udp']);
    expect(droppedOf(late.stats)).toEqual({ 'tcp:partial-message-at-idle': 1, 'tcp:unsynced': 1 });
    const soon = decodeFrames(mk(59));
    expect(soon.events.map((e) => e.ev.transport)).toEqual(['udp', 'tcp']);
    expect(droppedOf(soon.stats)).toEqual({});
  });

  it('IPv6 connections', () => {
    const c = new TcpConn(V6, 40009, 53).open(90);
    c.send(90.1, 0, framed(Q[1]));
    c.close(90.2);
    const { events } = decodeFrames(c.frames);
    expect(events.map((e) => [e.ev.ipVersion, e.ev.srcIp, e.ev.dstIp, e.ev.transport])).toEqual([[6, '2001:db8::1', '2001:db8::53', 'tcp']]);
  });
});

describe('TCP bounds', () => {
  it('directions held: the least recently used goes first', () => {
    const frames = [40011, 40012, 40013].map((port, i) => new TcpConn(V4, port, 53, [100, 200]).send(1 + i, 0, framed(Q[0]).subarray(0, 20)));
    const { stats } = decodeFrames(frames, [53], { tcp: { maxStreams: 2 } });
    expect(droppedOf(stats)).toEqual({ 'tcp:partial-message-at-stream-limit': 1, 'tcp:partial-message-at-end': 2 });
  });

  it('out-of-order segments past the limit give up the gap and start over', () => {
    const c = new TcpConn(V4, 40014, 53).open(1);
    const base = c.next(1);
    const parts = split(BIG_FRAMED, 5);
    const off = (i: number) => parts.slice(0, i).reduce((n, p) => n + p.length, 0);
    for (const [k, i] of [0, 2, 3, 4, 1].entries()) c.at(2 + k, 1, base + off(i), parts[i]);
    const { events, stats } = decodeFrames(c.frames, [53], { tcp: { maxPendingSegments: 2 } });
    expect(events).toEqual([]);
    expect(droppedOf(stats)).toEqual({ 'tcp:partial-message-at-gap': 1, 'tcp:unplaced-segments-at-gap': 2, 'tcp:unsynced': 2 });
  });

  it('bytes held over all connections: the least recently used goes first', () => {
    const frames = [40015, 40016].map((port, i) => new TcpConn(V4, port, 53, [100, 200]).send(1 + i, 1, BIG_FRAMED.subarray(0, 600)));
    const { stats } = decodeFrames(frames, [53], { tcp: { maxBytes: 1500 } });
    expect(droppedOf(stats)).toEqual({ 'tcp:partial-message-at-memory-limit': 1, 'tcp:partial-message-at-end': 1 });
  });

  it('300 connections interleaved, random segment sizes, reordering and retransmissions: every message once', () => {
    const r = rng(777);
    const conns: { frames: Frame[] }[] = [];
    let messages = 0;
    for (let k = 0; k < 300; k++) {
      const c = new TcpConn(k % 3 ? V4 : V6, 20000 + k, 53, [Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]).open(1);
      const msgs = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => (r() < 0.5 ? dnsQuery(k * 10 + i, `m${k}-${i}.example`) : dnsTxtResponse(k * 10 + i, `m${k}-${i}.example`, 1 + Math.floor(r() * 5), 150)));
      messages += msgs.length;
      const bytes = framed(...msgs);
      const base = c.next(0);
      const segs: [number, Uint8Array][] = [];
      for (let off = 0; off < bytes.length; ) {
        const n = 1 + Math.floor(r() * 400);
        segs.push([off, bytes.subarray(off, off + n)]);
        off += n;
      }
      // swap some neighbours, repeat some segments
      for (let i = 0; i + 1 < segs.length; i++) if (r() < 0.2) [segs[i], segs[i + 1]] = [segs[i + 1], segs[i]];
      for (const [off, b] of segs) {
        c.at(2 + r(), 0, base + off, b);
        if (r() < 0.1) c.at(2 + r(), 0, base + off, b);
      }
      conns.push(c);
    }
    // interleave the connections' frames, each keeping its own order
    const queues = conns.map((c) => [...c.frames]);
    const frames: Frame[] = [];
    while (queues.some((q) => q.length > 0)) {
      const q = queues[Math.floor(r() * queues.length)];
      if (q.length > 0) frames.push(q.shift() as Frame);
    }
    const { events, stats } = decodeFrames(frames);
    expect(events.length).toBe(messages);
    expect(new Set(events.map((e) => e.ev.qname)).size).toBe(messages);
    expect(stats.malformed).toBe(0);
    expect(Object.keys(droppedOf(stats)).every((k) => k === 'tcp:retransmit')).toBe(true);
    expect(stats.balanced()).toBe(true);
  });
});

describe('hostile TCP', () => {
  it('20,000 random segments (flags, sequence numbers, bytes) on a few connections: never a throw, all counted, bytes bounded', () => {
    const r = rng(31337);
    const maxBytes = 200_000;
    const frames: Frame[] = [];
    const conns = Array.from({ length: 8 }, (_, k) => new TcpConn(k % 2 ? V6 : V4, 41000 + k, 53, [Math.floor(r() * 2 ** 32), Math.floor(r() * 2 ** 32)]));
    const valid = framed(...Q, BIG);
    for (let i = 0; i < 20_000; i++) {
      const c = conns[Math.floor(r() * conns.length)];
      const side = r() < 0.5 ? 0 : 1;
      const flags = [0x18, 0x10, 0x02, 0x12, 0x01, 0x04, 0x11, Math.floor(r() * 256)][Math.floor(r() * 8)];
      const len = Math.floor(r() * 700);
      const data = r() < 0.5 ? valid.subarray(Math.floor(r() * valid.length)).subarray(0, len) : Uint8Array.from({ length: len }, () => Math.floor(r() * 256));
      const seq = r() < 0.7 ? c.next(side) + Math.floor((r() - 0.3) * 3000) : Math.floor(r() * 2 ** 32);
      c.at(1 + i * 0.01, side, seq, data, flags);
    }
    for (const c of conns) frames.push(...c.frames);
    frames.sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec);
    const run = decodeFrames(frames, [53], { tcp: { maxBytes } });
    expect(run.stats.balanced()).toBe(true);
    expect(run.stats.tcpSegments).toBe(20_000);
    expect(run.stats.malformedBy.get('dns:decoder-error') ?? 0).toBe(0);
    expect(run.ctx.transport?.tcp.pending).toBe(0); // the end of input closed everything
    // Replayed, the bytes held after every frame stay within the bound.
    const stats = new Stats();
    const transport = new TransportState(stats, { tcp: { maxBytes } });
    const ctx = { ...run.ctx, stats, transport };
    let peak = 0;
    for (const f of frames) {
      decodeFrame(f, ctx, []);
      peak = Math.max(peak, transport.tcp.heldBytes);
    }
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(maxBytes);
  });
});

// The mixed capture used for the port and TC cases and the tshark comparison.
function mixed(): Frame[] {
  const frames: Frame[] = [];
  // DNS on 5353 over UDP and TCP
  const mdnsQ = dnsQuery(0x5353, 'five.example');
  frames.push(frameAt(100, ipv4(V4, 17, udp(40020, 5353, mdnsQ), 11)));
  frames.push(frameAt(100.1, ipv4(reverse(V4), 17, udp(5353, 40020, dnsTxtResponse(0x5353, 'five.example', 1, 30)), 12)));
  const c5 = new TcpConn(V4, 40021, 5353).open(101);
  c5.send(101.1, 0, framed(mdnsQ));
  c5.close(101.2);
  frames.push(...c5.frames);
  // TC=1 over UDP, then the TCP retry
  const name = 'big.example';
  frames.push(frameAt(102, ipv4(V4, 17, udp(40022, 53, dnsQuery(0x7c, name, 'TXT')), 13)));
  frames.push(frameAt(102.01, ipv4(reverse(V4), 17, udp(53, 40022, dnsTxtResponse(0x7c, name, 6, 200, true)), 14)));
  const retry = new TcpConn(V4, 40023, 53).open(102.02);
  retry.send(102.03, 0, framed(dnsQuery(0x7d, name, 'TXT')));
  split(framed(dnsTxtResponse(0x7d, name, 6, 200)), 3).forEach((p, i) => retry.send(102.04 + i * 0.001, 1, p));
  retry.close(102.1);
  frames.push(...retry.frames);
  // several messages per segment, over IPv6
  const c6 = new TcpConn(V6, 40024, 53).open(103);
  c6.send(103.1, 0, framed(...Q));
  c6.close(103.2);
  frames.push(...c6.frames);
  return frames;
}

describe('--port for both transports; TC then TCP', () => {
  it('DNS on 5353 is found over UDP and TCP only when listed', () => {
    const frames = mixed().slice(0, 9);
    const without = decodeFrames(frames, [53]);
    expect(without.events).toEqual([]);
    expect(without.stats.notDns).toBe(9);
    const withIt = decodeFrames(frames, [53, 5353]);
    expect(withIt.events.map((e) => [e.ev.transport, e.ev.dstPort, e.ev.qr])).toEqual([
      ['udp', 5353, false],
      ['udp', 40020, true],
      ['tcp', 5353, false],
    ]);
    expect(withIt.stats.tcpSegments).toBe(7);
  });

  it('a truncated UDP answer and the TCP retry are both recorded', () => {
    const { events } = decodeFrames(mixed().slice(9, 9 + 2 + 3 + 1 + 3 + 3));
    expect(events.map((e) => [e.ev.transport, e.ev.id, e.ev.qr, e.ev.tc, e.ev.anCount])).toEqual([
      ['udp', 0x7c, false, false, 0],
      ['udp', 0x7c, true, true, 0],
      ['tcp', 0x7d, false, false, 0],
      ['tcp', 0x7d, true, false, 1],
    ]);
  });
});

describeWithPeers('TCP as tshark reassembles it', ['tshark'], () => {
  it('the generated captures: the same messages in the same frames', async () => {
    const frames = mixed();
    const path = join(tmp, 'mixed.pcap');
    writePcap(path, frames);
    const ours = decodeFrames(frames, [53, 5353]).events.map(messageView);
    expect(ours.length).toBe(3 + 4 + 3);
    expect(ours).toEqual(await tsharkViews(path, dnsPortArgs([5353])));
  });

  it('out of order, retransmitted, split: the same messages in the same frames', async () => {
    const r = rng(99);
    const frames: Frame[] = [];
    for (let k = 0; k < 20; k++) {
      const c = new TcpConn(V4 as Addrs, 30000 + k, 53, [1000 * k, 5000 * k]).open(200 + k);
      c.send(200 + k + 0.01, 0, framed(dnsQuery(k, `q${k}.example`, 'TXT')));
      const base = c.next(1);
      const bytes = framed(dnsTxtResponse(k, `q${k}.example`, 1 + (k % 6), 150), dnsQuery(100 + k, `x${k}.example`));
      const parts = split(bytes, 2 + (k % 4));
      const off = (i: number) => parts.slice(0, i).reduce((n, p) => n + p.length, 0);
      const order = parts.map((_, i) => i);
      if (k % 2) [order[0], order[1]] = [order[1], order[0]];
      let t = 200 + k + 0.02;
      for (const i of order) {
        c.at((t += 0.001), 1, base + off(i), parts[i]);
        if (r() < 0.3) c.at((t += 0.001), 1, base + off(i), parts[i]);
      }
      c.skip(1, bytes.length);
      c.close(t + 0.01);
      frames.push(...c.frames);
    }
    const path = join(tmp, 'reorder.pcap');
    writePcap(path, frames);
    const ours = decodeFrames(frames).events.map(messageView);
    expect(ours.length).toBe(60);
    expect(ours).toEqual(await tsharkViews(path));
  });
});

