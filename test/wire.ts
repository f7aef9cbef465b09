// Building captures byte by byte for the reassembly tests: DNS messages (dns-packet), IPv4 and
// IPv6 headers with fragments, UDP and TCP, Ethernet framing and a pcap writer.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decodeFrame, finishDecode, type DecodeContext } from '../src/decode/packet.js';
import { TransportState, type TransportOptions } from '../src/decode/transport.js';
import type { DnsEvent } from '../src/event.js';
import type { Frame } from '../src/frame.js';
import { Stats } from '../src/stats.js';
import { tsharkDns, type TsharkMsg } from './tshark.js';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any */
const dnsPacket = require('dns-packet') as { encode(p: any): Buffer };

export const cat = (...p: (Uint8Array | number[])[]): Uint8Array => Uint8Array.from(Buffer.concat(p.map((x) => Buffer.from(x as Uint8Array))));
const be16 = (v: number): number[] => [(v >> 8) & 255, v & 255];
const be32 = (v: number): number[] => [(v >>> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255];

/** A query for name/type with the given id. */
export function dnsQuery(id: number, name: string, type = 'A'): Uint8Array {
  return Uint8Array.from(dnsPacket.encode({ type: 'query', id, flags: 0x0100, questions: [{ type, name, class: 'IN' }] }));
}

/** A response without answers, with the given rcode (3: NXDOMAIN). */
export function dnsResponse(id: number, name: string, rcode: number, type = 'A'): Uint8Array {
  return Uint8Array.from(dnsPacket.encode({ type: 'response', id, flags: 0x8180 | rcode, questions: [{ type, name, class: 'IN' }] }));
}

/** A response with `count` TXT strings of `len` bytes each (large answers for fragments and TC). */
export function dnsTxtResponse(id: number, name: string, count: number, len = 200, tc = false): Uint8Array {
  const strings = Array.from({ length: count }, (_, i) => String.fromCharCode(97 + (i % 26)).repeat(len));
  return Uint8Array.from(
    dnsPacket.encode({
      type: 'response',
      id,
      flags: 0x8180 | (tc ? 0x0200 : 0),
      questions: [{ type: 'TXT', name, class: 'IN' }],
      answers: tc ? [] : [{ type: 'TXT', name, class: 'IN', ttl: 60, data: strings }],
    }),
  );
}

export interface Addrs {
  v: 4 | 6;
  src: number[]; // 4 or 16 bytes
  dst: number[];
}

export const V4: Addrs = { v: 4, src: [192, 0, 2, 1], dst: [192, 0, 2, 53] };
export const V6: Addrs = { v: 6, src: [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1], dst: [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x53] };
export const reverse = (a: Addrs): Addrs => ({ v: a.v, src: a.dst, dst: a.src });

function checksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** UDP header and payload (checksum 0: "none", which IPv4 allows and tshark accepts). */
export function udp(sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return cat(be16(sport), be16(dport), be16(8 + payload.length), [0, 0], payload);
}

export const FIN = 1;
export const SYN = 2;
export const RST = 4;
export const PSH = 8;
export const ACK = 16;

/** TCP header (20 bytes, no options) and payload. */
export function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return cat(be16(sport), be16(dport), be32(seq >>> 0), be32(ack >>> 0), [0x50, flags], be16(65535), [0, 0, 0, 0], payload);
}

/** A whole IPv4 packet; frag sets the fragment fields (offset in bytes, a multiple of 8). */
export function ipv4(a: Addrs, proto: number, payload: Uint8Array, id = 1, frag?: { offset: number; more: boolean }): Uint8Array {
  const word = frag ? (frag.more ? 0x2000 : 0) | (frag.offset / 8) : 0x4000; // DF when whole
  const h = Uint8Array.from([0x45, 0, ...be16(20 + payload.length), ...be16(id), ...be16(word), 64, proto, 0, 0, ...a.src, ...a.dst]);
  const sum = checksum(h);
  h[10] = sum >> 8;
  h[11] = sum & 255;
  return cat(h, payload);
}

/** A whole IPv6 packet; with frag, a fragment header (id, offset in bytes, more) carries the payload. */
export function ipv6(a: Addrs, proto: number, payload: Uint8Array, frag?: { id: number; offset: number; more: boolean }): Uint8Array {
  const ext = frag ? [proto, 0, ...be16(frag.offset | (frag.more ? 1 : 0)), ...be32(frag.id)] : [];
  return cat([0x60, 0, 0, 0], be16(ext.length + payload.length), [frag ? 44 : proto, 64], a.src, a.dst, ext, payload);
}

/** Splits an IP payload (UDP or TCP header and data) into IPv4 fragments of at most `size` bytes (a multiple of 8). */
export function fragments4(a: Addrs, proto: number, payload: Uint8Array, size: number, id: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const end = Math.min(payload.length, off + size);
    out.push(ipv4(a, proto, payload.subarray(off, end), id, { offset: off, more: end < payload.length }));
  }
  return out;
}

export function fragments6(a: Addrs, proto: number, payload: Uint8Array, size: number, id: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const end = Math.min(payload.length, off + size);
    out.push(ipv6(a, proto, payload.subarray(off, end), { id, offset: off, more: end < payload.length }));
  }
  return out;
}

const MACS = [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];

/** Ethernet framing for an IP packet. */
export function ether(ip: Uint8Array): Uint8Array {
  return cat(MACS, be16(ip[0] >> 4 === 6 ? 0x86dd : 0x0800), ip);
}

/** A timed Ethernet frame; t is capture time in seconds (microsecond precision). */
export function frameAt(t: number, ip: Uint8Array): Frame {
  const tsSec = Math.floor(t);
  const data = ether(ip);
  return { tsSec, tsNsec: Math.round((t - tsSec) * 1e6) * 1000, linkType: 1, data, origLen: data.length };
}

/** A microsecond pcap of the frames. */
export function writePcap(path: string, frames: Frame[]): void {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(262144, 16);
  h.writeUInt32LE(1, 20);
  parts.push(h);
  for (const f of frames) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(f.tsSec, 0);
    r.writeUInt32LE(Math.floor(f.tsNsec / 1000), 4);
    r.writeUInt32LE(f.data.length, 8);
    r.writeUInt32LE(f.data.length, 12);
    parts.push(r, Buffer.from(f.data));
  }
  writeFileSync(path, Buffer.concat(parts));
}

/** A TCP connection's two directions, with sequence numbers tracked, as timed frames. */
export class TcpConn {
  readonly frames: Frame[] = [];
  private seq: [number, number];

  constructor(
    private readonly a: Addrs, // client -> server
    private readonly cport: number,
    private readonly sport: number,
    isn: [number, number] = [1000, 5000],
  ) {
    this.seq = [isn[0], isn[1]];
  }

  /** The three-way handshake. */
  open(t: number): this {
    this.raw(t, 0, SYN, new Uint8Array(0), 0);
    this.seq[0]++;
    this.raw(t, 1, SYN | ACK, new Uint8Array(0), this.seq[0]);
    this.seq[1]++;
    this.raw(t, 0, ACK, new Uint8Array(0));
    return this;
  }

  /** Sends bytes from side 0 (client) or 1 (server) as one segment, advancing the sequence. */
  send(t: number, side: 0 | 1, data: Uint8Array, flags = PSH | ACK): Frame {
    const f = this.raw(t, side, flags, data);
    this.seq[side] = (this.seq[side] + data.length) >>> 0;
    return f;
  }

  /** A segment at an explicit sequence number (retransmissions, out-of-order), not advancing. */
  at(t: number, side: 0 | 1, seq: number, data: Uint8Array, flags = PSH | ACK): Frame {
    return this.push(t, side, seq, flags, data);
  }

  /** The next sequence number of a side. */
  next(side: 0 | 1): number {
    return this.seq[side];
  }

  skip(side: 0 | 1, n: number): void {
    this.seq[side] = (this.seq[side] + n) >>> 0;
  }

  close(t: number): this {
    this.raw(t, 0, FIN | ACK, new Uint8Array(0));
    this.seq[0]++;
    this.raw(t, 1, FIN | ACK, new Uint8Array(0));
    this.seq[1]++;
    this.raw(t, 0, ACK, new Uint8Array(0));
    return this;
  }

  reset(t: number, side: 0 | 1): this {
    this.raw(t, side, RST | ACK, new Uint8Array(0));
    return this;
  }

  private raw(t: number, side: 0 | 1, flags: number, data: Uint8Array, ack?: number): Frame {
    return this.push(t, side, this.seq[side], flags, data, ack);
  }

  private push(t: number, side: 0 | 1, seq: number, flags: number, data: Uint8Array, ack?: number): Frame {
    const addrs = side === 0 ? this.a : reverse(this.a);
    const [sp, dp] = side === 0 ? [this.cport, this.sport] : [this.sport, this.cport];
    const seg = tcp(sp, dp, seq, ack ?? this.seq[1 - side], flags, data);
    const ip = this.a.v === 4 ? ipv4(addrs, 6, seg, this.frames.length + 1) : ipv6(addrs, 6, seg);
    const f = frameAt(t, ip);
    this.frames.push(f);
    return f;
  }
}

/** A 2-byte length prefix and the message, as DNS over TCP sends it. */
export function framed(...msgs: Uint8Array[]): Uint8Array {
  return cat(...msgs.flatMap((m) => [be16(m.length), m]));
}

/** tshark's preferences for comparing messages: reassemble IP fragments and TCP streams (in order and out of order). */
export const REASSEMBLY_PREFS = [
  '-o', 'ip.defragment:TRUE',
  '-o', 'ipv6.defragment:TRUE',
  '-o', 'tcp.desegment_tcp_streams:TRUE',
  '-o', 'tcp.reassemble_out_of_order:TRUE',
];

export interface Located {
  frame: number; // 1-based frame number that completed the message
  index: number; // position among the messages that frame completed
  ev: DnsEvent;
}

export interface Run {
  events: Located[];
  stats: Stats;
  ctx: DecodeContext;
}

/** Decodes the frames in order (then finishDecode), remembering which frame completed each event. */
export function decodeFrames(frames: Frame[], ports: number[] = [53], transport?: TransportOptions): Run {
  const stats = new Stats();
  const ctx: DecodeContext = { stats, ports: new Set(ports), server: 'test', inputKind: 'pcap', inputName: 'generated' };
  if (transport) ctx.transport = new TransportState(stats, transport);
  const events: Located[] = [];
  const out: DnsEvent[] = [];
  frames.forEach((f, i) => {
    out.length = 0;
    decodeFrame(f, ctx, out);
    out.forEach((ev, index) => events.push({ frame: i + 1, index, ev }));
  });
  stats.packets = frames.length; // no reader here: the frames decoded are the packets
  out.length = 0;
  finishDecode(ctx, out);
  if (out.length > 0) throw new Error('finishDecode emitted events');
  return { events, stats, ctx };
}

/** The fields compared with tshark, from an event or a tshark message. */
export function messageView(x: Located | TsharkMsg): Record<string, unknown> {
  const m = 'ev' in x ? x.ev : x;
  return {
    frame: x.frame,
    index: x.index,
    time: [m.timeSec, m.timeNsec],
    ipVersion: m.ipVersion,
    srcIp: m.srcIp,
    dstIp: m.dstIp,
    srcPort: m.srcPort,
    dstPort: m.dstPort,
    transport: m.transport,
    id: m.id,
    qr: m.qr,
    tc: m.tc,
    qname: m.qname,
    qtype: m.qtype,
    rcode: m.rcode,
    anCount: m.anCount,
    size: m.size,
  };
}

/** tshark's messages for the pcap, as messageView records. */
export async function tsharkViews(path: string, extra: string[] = []): Promise<Record<string, unknown>[]> {
  return (await tsharkDns(path, [...REASSEMBLY_PREFS, ...extra])).map(messageView);
}

/** The dropped counters as a plain object. */
export const droppedOf = (s: Stats): Record<string, number> => Object.fromEntries(s.droppedBy);
