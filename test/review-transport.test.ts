// Review of the reassembly code (issue #4): edge cases the module tests did not reach. Each case
// states its expected counts; the accounting equation must hold in every one.
import { describe, expect, it } from 'vitest';
import { decodeFrame, type DecodeContext } from '../src/decode/packet.js';
import { Stats } from '../src/stats.js';
import { decodeFrames, dnsQuery, dnsTxtResponse, droppedOf, fragments6, framed, frameAt, ipv6, reverse, TcpConn, udp, V4, V6 } from './wire.js';

function expectBalanced(stats: Stats): void {
  expect(stats.balanced()).toBe(true);
}

describe('TCP sequence numbers around 2^32', () => {
  it('messages crossing the wrap, out of order and retransmitted there, come out once each, and FIN closes at the wrapped number', () => {
    // Both initial sequence numbers just below 2^32: the first data bytes cross the wrap.
    const c = new TcpConn(V4, 45001, 53, [2 ** 32 - 3, 2 ** 32 - 700]).open(10);
    const qs = [dnsQuery(1, 'one.example'), dnsQuery(2, 'two.example'), dnsQuery(3, 'three.example')];
    c.send(10.1, 0, framed(...qs)); // client bytes 2^32-2 .. past 0
    const big = framed(dnsTxtResponse(7, 'big.example', 6, 200)); // 1,252 bytes from 2^32-699
    const base = c.next(1);
    const cut = [0, 300, 690, 710, 1000, big.length]; // a piece ends 9 bytes before the wrap, the next crosses it
    const piece = (i: number) => c.at(10.2 + i * 0.01, 1, (base + cut[i]) >>> 0, big.subarray(cut[i], cut[i + 1]));
    piece(0);
    piece(2); // ahead of the expected byte, across the wrap
    piece(3); // after the wrap
    piece(1); // fills the gap: completes nothing yet (piece 4 missing)
    piece(2); // retransmitted, behind the expected byte now
    piece(4); // completes the message
    c.skip(1, big.length);
    c.close(11);
    const { events, stats } = decodeFrames(c.frames);
    expect(events.map((e) => [e.ev.id, e.ev.qr])).toEqual([
      [1, false],
      [2, false],
      [3, false],
      [7, true],
    ]);
    expect(events[3].ev.anCount).toBe(1);
    expect(droppedOf(stats)).toEqual({ 'tcp:retransmit': 1 });
    expect(stats.dnsMessages).toBe(4);
    expectBalanced(stats);
    // Both directions were closed by their FIN (sequence numbers past the wrap), before the end of input.
    const ctx: DecodeContext = { stats: new Stats(), ports: new Set([53]), server: '', inputKind: 'pcap', inputName: '' };
    for (const f of c.frames) decodeFrame(f, ctx, []);
    expect(ctx.transport?.tcp.pending).toBe(0);
  });
});

describe('IPv6 fragments', () => {
  it('reassembles a UDP datagram whose fragmentable part is over 65,495 bytes (the payload length field still holds it)', () => {
    // A DNS response of 65,507 bytes: UDP length 65,515. IPv6 payload length counts neither the
    // fixed header nor (once reassembled) the fragment header, so this fits in one IPv6 packet.
    const response = dnsTxtResponse(0x4242, 'huge.example', 265, 246);
    expect(response.length).toBeGreaterThan(65487);
    expect(response.length).toBeLessThanOrEqual(65527);
    const datagram = udp(53, 40000, response);
    const parts = fragments6(reverse(V6), 17, datagram, 1448, 0x5151);
    const q = frameAt(1, ipv6(V6, 17, udp(40000, 53, dnsQuery(0x4242, 'huge.example', 'TXT'))));
    const { events, stats } = decodeFrames([q, ...parts.map((p, i) => frameAt(1.1 + i * 0.001, p))]);
    expect(events.map((e) => [e.ev.id, e.ev.qr, e.ev.size])).toEqual([
      [0x4242, false, expect.any(Number)],
      [0x4242, true, response.length],
    ]);
    expect(events[1].ev.anCount).toBe(1);
    expect(droppedOf(stats)).toEqual({});
    expect(stats.ipFragments).toBe(parts.length);
    expectBalanced(stats);
  });
});
