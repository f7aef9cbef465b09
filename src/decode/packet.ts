// Frame -> DNS events. Every unit (a frame, a datagram rebuilt from IP fragments, a message cut
// from a TCP stream) lands in exactly one counter; src/stats.ts states the equation.
import { newEvent, type DnsEvent, type InputKind, type Transport } from '../event.js';
import type { PacketFilter } from '../component.js';
import { BufferFrame, type Frame } from '../frame.js';
import type { Stats } from '../stats.js';
import { decodeCounted } from './dns.js';
import { ipv4Text, ipv6TextCached } from '../addr.js';
import { decodeIp, PROTO_FRAGMENT, PROTO_TCP, type Transport4 } from './ip.js';
import { findIp, type IpStart } from './link.js';
import { msOf, TransportState } from './transport.js';

export interface DecodeContext {
  stats: Stats;
  ports: Set<number>; // DNS ports (dnsmonster --port), UDP and TCP alike
  server: string; // --serverName
  inputKind: InputKind;
  inputName: string;
  /** Packet-level transforms (sampling, dedup): false drops the packet. */
  keepPacket?: PacketFilter;
  /** IP fragments and TCP streams held between packets; made on first need when absent. */
  transport?: TransportState;
}

// Scratch views, reused: decodeFrame is synchronous and never re-entered.
const ipStart: IpStart = { offset: 0, version: 0 };
const l4: Transport4 = { version: 0, srcOff: 0, dstOff: 0, protocol: 0, srcPort: 0, dstPort: 0, payloadStart: 0, payloadEnd: 0, tcpHeader: 0 };

/**
 * Decodes one frame, pushing its DNS events onto out: one for a UDP datagram, none for a
 * fragment or segment that completes nothing, several for a TCP segment that completes several.
 */
export function decodeFrame(frame: Frame, ctx: DecodeContext, out: DnsEvent[]): void {
  // A file reader's frame is read in place in its chunk: no view object per packet.
  let data: Uint8Array;
  let start = 0;
  let end: number;
  if (frame instanceof BufferFrame) {
    data = frame.buf;
    start = frame.start;
    end = frame.end;
  } else {
    data = frame.data;
    // {...frame} copies a BufferFrame's fields but not its data accessor.
    if (data === undefined) throw new Error('decodeFrame: frame without data (copy a file frame as {...frame, data: frame.data})');
    end = data.length;
  }
  // Old fragments and idle streams expire once per captured second.
  const tr = ctx.transport;
  if (tr !== undefined && frame.tsSec !== tr.clockSec) tr.tick(frame.tsSec, frame.tsNsec);
  if (!findIp(frame.linkType, data, start, end, ctx.stats, ipStart)) return;
  if (ctx.keepPacket && !ctx.keepPacket(data, ipStart.offset, end, frame)) return;
  decodePacket(data, ipStart.offset, ipStart.version, end, frame.tsSec, frame.tsNsec, ctx, out, false);
}

function decodePacket(data: Uint8Array, offset: number, version: number, end: number, tsSec: number, tsNsec: number, ctx: DecodeContext, out: DnsEvent[], rebuilt: boolean): void {
  const { stats, ports } = ctx;
  if (!decodeIp(data, offset, version, end, stats, l4)) return;
  if (l4.protocol === PROTO_FRAGMENT) {
    if (rebuilt) {
      stats.malformedAs('ip:nested-fragment'); // a fragment inside a reassembled datagram
      return;
    }
    const whole = transportOf(ctx).defrag.add(data, l4, msOf(tsSec, tsNsec));
    if (whole === null) return;
    stats.ipDatagrams++;
    decodePacket(whole, 0, version, whole.length, tsSec, tsNsec, ctx, out, true);
    return;
  }
  const dnsPort = ports.has(l4.srcPort) || ports.has(l4.dstPort);
  if (!dnsPort) {
    stats.notDns++;
    return;
  }
  if (l4.protocol === PROTO_TCP) {
    transportOf(ctx).tcp.segment(data, l4, tsSec, tsNsec, msOf(tsSec, tsNsec), ctx, out);
    return;
  }
  const ev = messageEvent(ctx, tsSec, tsNsec, l4.version, 'udp');
  if (l4.version === 4) {
    ev.srcIp = ipv4Text(data, l4.srcOff);
    ev.dstIp = ipv4Text(data, l4.dstOff);
  } else {
    ev.srcIp = ipv6TextCached(data, l4.srcOff);
    ev.dstIp = ipv6TextCached(data, l4.dstOff);
  }
  ev.srcPort = l4.srcPort;
  ev.dstPort = l4.dstPort;
  if (decodeCounted(ev, data, l4.payloadStart, l4.payloadEnd, stats)) out.push(ev);
}

/** A new event for a message of this packet input, with what the input and packet say (not the addresses). */
export function messageEvent(ctx: DecodeContext, tsSec: number, tsNsec: number, ipVersion: number, transport: Transport): DnsEvent {
  const ev = newEvent();
  ev.timeSec = tsSec;
  ev.timeNsec = tsNsec;
  ev.server = ctx.server;
  ev.ipVersion = ipVersion;
  ev.transport = transport;
  ev.inputKind = ctx.inputKind;
  ev.inputName = ctx.inputName;
  return ev;
}

function transportOf(ctx: DecodeContext): TransportState {
  return (ctx.transport ??= new TransportState(ctx.stats));
}

/**
 * End of input: nothing more can complete what the decoder holds. Fragments of unfinished
 * datagrams and TCP data cut short are counted as dropped; the state is emptied.
 */
export function finishDecode(ctx: DecodeContext, _out: DnsEvent[]): void {
  ctx.transport?.finish();
}
