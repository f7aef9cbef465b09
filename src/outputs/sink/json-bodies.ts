// Request bodies of JSON events for the HTTP outputs: NDJSON (one line per event: an envelope,
// a bulk action line and the event, or the event alone; one body per batch), and JSON arrays cut
// at a byte limit (one body, so one request, each).
import type { DnsEvent } from '../../event.js';
import { ByteWriter } from '../format/bytes.js';
import type { SinkEncoder } from './writer.js';

const NL = 0x0a;

/** How one event is written (without the newline or the comma after it). */
export type RecordWriter = (w: ByteWriter, ev: DnsEvent) => void;

/** NDJSON: each event's line, ended by a newline. */
export class LinesEncoder implements SinkEncoder {
  private readonly w = new ByteWriter(1 << 16);

  constructor(private readonly line: RecordWriter) {}

  encode(events: readonly DnsEvent[]): void {
    for (const ev of events) {
      this.line(this.w, ev);
      this.w.byte(NL);
    }
  }

  take(): Uint8Array[] {
    return this.w.pos > 0 ? [this.w.take()] : [];
  }
}

/** Lines (newlines) in an NDJSON body. */
export function lineCount(body: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < body.length; i++) if (body[i] === NL) n++;
  return n;
}

/** JSON arrays of at most maxBytes each (an event longer than that alone goes in an array of its own). */
export class JsonArrayEncoder implements SinkEncoder {
  private readonly w = new ByteWriter(1 << 16);
  private readonly one = new ByteWriter(4096);
  private parts: Uint8Array[] = [];

  constructor(
    private readonly record: RecordWriter,
    private readonly maxBytes: number,
  ) {}

  encode(events: readonly DnsEvent[]): void {
    const w = this.w;
    const one = this.one;
    for (const ev of events) {
      one.pos = 0;
      this.record(one, ev);
      // '[' or ',' before it, ']' after it
      if (w.pos > 0 && w.pos + one.pos + 2 > this.maxBytes) this.endPart();
      w.byte(w.pos === 0 ? 0x5b : 0x2c);
      w.bytes(one.buf.subarray(0, one.pos));
    }
  }

  private endPart(): void {
    this.w.byte(0x5d);
    this.parts.push(this.w.take());
  }

  take(): Uint8Array[] {
    if (this.w.pos > 0) this.endPart();
    const parts = this.parts;
    this.parts = [];
    return parts;
  }
}

/** Records in a JSON array body. */
export function arrayLength(body: Uint8Array): number {
  return (JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')) as unknown[]).length;
}
