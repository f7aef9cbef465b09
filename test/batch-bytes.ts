// Reading DNS_LOG insert batches back in tests: their bytes, and the first row's PacketTime.
import { readFileSync } from 'node:fs';
import type { InsertBatch, InsertFormat } from '../src/store/connection.js';

/** A batch's bytes in one buffer, from its chunks or its file. */
export function batchBytes(b: InsertBatch): Buffer {
  if (b.path) return readFileSync(b.path);
  const chunks = b.data instanceof Uint8Array ? [b.data] : (b.data ?? []);
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

function varint(buf: Buffer, at: { pos: number }): number {
  let v = 0;
  for (let shift = 1; ; shift *= 128) {
    const b = buf[at.pos++];
    v += (b & 0x7f) * shift;
    if (b < 0x80) return v;
  }
}

/** PacketTime (µs) of the first row: RowBinary's first 8 bytes; in Native, the first column's. */
export function firstPacketTime(buf: Buffer, format: InsertFormat): bigint {
  if (format === 'RowBinary') return buf.readBigInt64LE(0);
  const at = { pos: 0 };
  varint(buf, at); // columns
  varint(buf, at); // rows
  const nameLen = varint(buf, at);
  const name = buf.toString('utf8', at.pos, at.pos + nameLen);
  at.pos += nameLen;
  if (name !== 'PacketTime') throw new Error(`the first Native column is ${name}, not PacketTime`);
  at.pos += varint(buf, at); // its type
  return buf.readBigInt64LE(at.pos);
}
