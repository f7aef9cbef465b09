// Frame -> DNS events. Every frame ends in exactly one counter: dnsMessages (one event),
// notDns, malformed or unsupported; so packets == the sum of those buckets.
import { newEvent, type DnsEvent, type InputKind } from '../event.js';
import { BufferFrame, type Frame } from '../inputs/frame.js';
import type { Stats } from '../stats.js';
import { decodeDnsInto } from './dns.js';
import { decodeIp, ipv4Text, ipv6TextCached, PROTO_TCP, type Transport4 } from './ip.js';
import { findIp, type IpStart } from './link.js';

export interface DecodeContext {
  stats: Stats;
  ports: Set<number>; // DNS ports (dnsmonster --port)
  server: string; // --serverName
  inputKind: InputKind;
  inputName: string;
  /** Packet-level transforms (sampling, dedup): false drops the packet. ipOffset is where the IP header starts. */
  keepPacket?: (data: Uint8Array, ipOffset: number, end: number, frame: Frame) => boolean;
}

// Scratch views, reused: decodeFrame is synchronous and never re-entered.
const ipStart: IpStart = { offset: 0, version: 0 };
const l4: Transport4 = { version: 0, srcOff: 0, dstOff: 0, protocol: 0, srcPort: 0, dstPort: 0, payloadStart: 0, payloadEnd: 0 };

/** Decodes one frame, pushing 0 or 1 events onto out (UDP carries one DNS message per datagram). */
export function decodeFrame(frame: Frame, ctx: DecodeContext, out: DnsEvent[]): void {
  const { stats, ports } = ctx;
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
  if (!findIp(frame.linkType, data, start, end, stats, ipStart)) return;
  if (ctx.keepPacket && !ctx.keepPacket(data, ipStart.offset, end, frame)) return;
  if (!decodeIp(data, ipStart.offset, ipStart.version, end, stats, l4)) return;
  const dnsPort = ports.has(l4.srcPort) || ports.has(l4.dstPort);
  if (!dnsPort) {
    stats.notDns++;
    return;
  }
  if (l4.protocol === PROTO_TCP) {
    stats.unsupported('tcp'); // stream reassembly is a later stage
    return;
  }
  const ev = newEvent();
  ev.timeSec = frame.tsSec;
  ev.timeNsec = frame.tsNsec;
  ev.server = ctx.server;
  ev.ipVersion = l4.version;
  if (l4.version === 4) {
    ev.srcIp = ipv4Text(data, l4.srcOff);
    ev.dstIp = ipv4Text(data, l4.dstOff);
  } else {
    ev.srcIp = ipv6TextCached(data, l4.srcOff);
    ev.dstIp = ipv6TextCached(data, l4.dstOff);
  }
  ev.srcPort = l4.srcPort;
  ev.dstPort = l4.dstPort;
  ev.transport = 'udp';
  ev.inputKind = ctx.inputKind;
  ev.inputName = ctx.inputName;
  let reason: string | null;
  try {
    reason = decodeDnsInto(ev, data, l4.payloadStart, l4.payloadEnd);
  } catch {
    // The DNS decoder checks its bounds; this only keeps a decoder bug from ending the capture.
    reason = 'dns:decoder-error';
  }
  if (reason !== null) {
    stats.malformedAs(reason);
    return;
  }
  stats.dnsMessages++;
  out.push(ev);
}

/** End of input: releases what the decoder still holds (IP fragments, TCP streams) and counts the rest. */
export function finishDecode(_ctx: DecodeContext, _out: DnsEvent[]): void {
  // Nothing is held yet: fragments and TCP are counted as unsupported until reassembly lands.
}
