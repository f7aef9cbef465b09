// Events -> bus messages, as the NATS and Kafka outputs send them: each batch cut into messages by
// route (a NATS subject, a Kafka topic and key), each message's payload JSON lines or the compact
// binary encoding (src/bus/codec.ts, docs/nats.md). A batch's messages travel through the sink
// toolkit (and its spool) as frames (below).
import { BinaryEncoder } from '../../bus/codec.js';
import type { DnsEvent } from '../../event.js';
import { ByteWriter } from './bytes.js';
import { encodeJson } from './json.js';

export type BusFormat = 'binary' | 'json';

// A batch's data is frames, one per message: u32 payload length, u16 route length, the route
// (UTF-8), the payload. In memory and in the spool alike, so a spooled batch replays as the same
// messages (with the same ids).
interface Message {
  w: ByteWriter;
  start: number; // where the payload begins
  rows: number;
  binary: BinaryEncoder | null;
}

/** Events -> frames: one open message per route; a message that would pass maxPayload ends and
 *  the event starts the next. An event too large for a message of its own is dropped, counted.
 *  The route is the bus's address of the message (a NATS subject; a Kafka topic and key), null:
 *  the event has none and is dropped, counted by unroutable. (A SinkEncoder of the sink toolkit.) */
export class BusEncoder {
  private readonly open = new Map<string, Message>();
  private done: Uint8Array[] = [];
  private readonly scratch = new ByteWriter(4096);

  constructor(
    private readonly route: { render(ev: DnsEvent): string | null },
    private readonly format: BusFormat,
    private readonly maxPayload: number,
    private readonly tooLarge: (rows: number) => void,
    private readonly unroutable: (rows: number) => void = tooLarge,
  ) {}

  encode(events: readonly DnsEvent[]): void {
    for (const ev of events) {
      const route = this.route.render(ev);
      if (route === null) {
        this.unroutable(1);
        continue;
      }
      let m = this.open.get(route) ?? this.begin(route);
      const before = m.w.pos;
      this.put(m, ev);
      if (m.w.pos - m.start <= this.maxPayload) {
        m.rows++;
        continue;
      }
      m.w.pos = before;
      if (m.rows > 0) {
        // full: it ends here, and the event is written again at the head of the next message
        // (binary records refer to the previous record of their message)
        this.end(route, m);
        m = this.begin(route);
        this.put(m, ev);
        if (m.w.pos - m.start <= this.maxPayload) {
          m.rows++;
          continue;
        }
      }
      this.open.delete(route); // empty, and its record memory holds the dropped event's strings
      this.tooLarge(1);
    }
  }

  take(): Uint8Array[] {
    for (const [route, m] of this.open) this.end(route, m);
    const d = this.done;
    this.done = [];
    return d;
  }

  private begin(route: string): Message {
    const w = new ByteWriter(64 * 1024);
    w.pos = 4; // the payload length, written at the end
    const len = Buffer.byteLength(route, 'utf8');
    w.reserve(2 + len);
    w.buf.writeUInt16BE(len, w.pos);
    w.pos += 2 + w.buf.write(route, w.pos + 2, 'utf8');
    const m: Message = { w, start: w.pos, rows: 0, binary: this.format === 'binary' ? new BinaryEncoder(this.scratch) : null };
    m.binary?.start(w);
    this.open.set(route, m);
    return m;
  }

  private put(m: Message, ev: DnsEvent): void {
    if (m.binary) {
      m.binary.record(m.w, ev);
      return;
    }
    encodeJson(m.w, ev);
    m.w.byte(0x0a);
  }

  private end(route: string, m: Message): void {
    this.open.delete(route);
    if (m.rows === 0) return;
    m.w.buf.writeUInt32BE(m.w.pos - m.start, 0);
    this.done.push(m.w.buf.subarray(0, m.w.pos));
  }
}

/** The messages of a batch's data (frames, see BusEncoder). */
export function framesOf(data: Buffer): { route: string; payload: Uint8Array }[] {
  const out: { route: string; payload: Uint8Array }[] = [];
  let p = 0;
  while (p < data.length) {
    if (p + 6 > data.length) throw new Error('a bus batch frame is cut short');
    const len = data.readUInt32BE(p);
    const slen = data.readUInt16BE(p + 4);
    const at = p + 6 + slen;
    if (at + len > data.length) throw new Error('a bus batch frame is cut short');
    out.push({ route: data.toString('utf8', p + 6, at), payload: data.subarray(at, at + len) });
    p = at + len;
  }
  return out;
}
