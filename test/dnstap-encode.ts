// Writes dnstap protobuf frames and Frame Streams files: for the benchmark's generated input and
// for tests that need frames no producer sends (every type, odd transports, broken bytes).
// Field numbers as in protobuf.ts.
import { CONTROL_START, CONTROL_STOP, controlFrame, dataFrame, DNSTAP_CONTENT_TYPE } from '../src/inputs/dnstap/framestream.js';

export interface DnstapMessageInit {
  identity?: string;
  version?: string;
  type: number; // Message.Type, 1..14
  family?: number; // 1 INET, 2 INET6
  protocol?: number; // SocketProtocol
  queryAddress?: Uint8Array;
  responseAddress?: Uint8Array;
  queryPort?: number;
  responsePort?: number;
  queryTime?: [sec: number, nsec: number];
  responseTime?: [sec: number, nsec: number];
  queryMessage?: Uint8Array;
  queryZone?: Uint8Array;
  responseMessage?: Uint8Array;
}

class Writer {
  private bytes: number[] = [];
  varint(n: number): this {
    while (n >= 128) {
      this.bytes.push((n % 128) | 128);
      n = Math.floor(n / 128);
    }
    this.bytes.push(n);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }
  fixed32(n: number): this {
    this.bytes.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
    return this;
  }
  bytesField(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** The protobuf bytes of one Dnstap frame of type MESSAGE. */
export function encodeDnstap(m: DnstapMessageInit): Uint8Array {
  const w = new Writer().tag(1, 0).varint(m.type);
  if (m.family !== undefined) w.tag(2, 0).varint(m.family);
  if (m.protocol !== undefined) w.tag(3, 0).varint(m.protocol);
  if (m.queryAddress) w.bytesField(4, m.queryAddress);
  if (m.responseAddress) w.bytesField(5, m.responseAddress);
  if (m.queryPort !== undefined) w.tag(6, 0).varint(m.queryPort);
  if (m.responsePort !== undefined) w.tag(7, 0).varint(m.responsePort);
  if (m.queryTime) w.tag(8, 0).varint(m.queryTime[0]).tag(9, 5).fixed32(m.queryTime[1]);
  if (m.queryMessage) w.bytesField(10, m.queryMessage);
  if (m.queryZone) w.bytesField(11, m.queryZone);
  if (m.responseTime) w.tag(12, 0).varint(m.responseTime[0]).tag(13, 5).fixed32(m.responseTime[1]);
  if (m.responseMessage) w.bytesField(14, m.responseMessage);
  const message = w.done();
  const top = new Writer();
  if (m.identity !== undefined) top.bytesField(1, Buffer.from(m.identity));
  if (m.version !== undefined) top.bytesField(2, Buffer.from(m.version));
  top.bytesField(14, message).tag(15, 0).varint(1);
  return top.done();
}

/** A whole unidirectional Frame Streams file: START, one data frame per payload, STOP. */
export function frameStreamFile(payloads: Iterable<Uint8Array>): Buffer {
  const parts: Buffer[] = [controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE])];
  for (const p of payloads) parts.push(dataFrame(p));
  parts.push(controlFrame(CONTROL_STOP));
  return Buffer.concat(parts);
}
