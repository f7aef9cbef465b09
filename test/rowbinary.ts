// DnsEvent -> ClickHouse RowBinary rows for DNS_LOG: the row-wise reference the Native encoder
// (src/outputs/clickhouse/native.ts) is tested against, the format of the spools dnslens wrote before it sent
// Native (test/spool.test.ts makes one), and a quick way for schema tests to insert events. It
// writes bytes by hand into large buffers that are filled in turn and never copied to grow
// (RowEncoder hands them out as chunks).
import type { DnsEvent } from '../src/event.js';
import { apexLengthOf, parseIpv4, parseIpv6 } from '../src/outputs/clickhouse/columns.js';

const ZERO16 = new Uint8Array(16);
// Parsing IPv6 text allocates; the same client and server addresses recur, so keep the results.
const V6_CACHE_MAX = 50_000;
const v6Cache = new Map<string, Uint8Array | null>();

function ipv6Cached(text: string): Uint8Array | null {
  let bytes = v6Cache.get(text);
  if (bytes === undefined) {
    bytes = parseIpv6(text);
    if (v6Cache.size >= V6_CACHE_MAX) v6Cache.clear();
    v6Cache.set(text, bytes);
  }
  return bytes;
}

// ---- the row writer ----

const TWO32 = 4294967296;

// Bytes per buffer the encoder fills. Rows never straddle two buffers, and a full buffer is
// never copied to grow: the next one starts where it ended (output is a list of chunks).
const CHUNK_BYTES = 4 << 20;

class Writer {
  buf: Buffer;
  pos = 0;
  start = 0; // bytes of buf before this were handed out by take()
  row = 0; // where the row being written begins
  private done: Uint8Array[] = []; // filled buffers' complete rows, not taken yet
  private doneBytes = 0;
  constructor(private readonly chunk: number) {
    this.buf = Buffer.allocUnsafe(chunk);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    // Only the row being written moves to the new buffer; the rows before it stay where they are.
    const partial = this.pos - this.row;
    const next = Buffer.allocUnsafe(Math.max(this.chunk, 2 * (partial + n)));
    this.buf.copy(next, 0, this.row, this.pos);
    if (this.row > this.start) {
      this.done.push(this.buf.subarray(this.start, this.row));
      this.doneBytes += this.row - this.start;
    }
    this.buf = next;
    this.start = 0;
    this.row = 0;
    this.pos = partial;
  }
  /** Bytes of complete rows not taken yet. */
  get size(): number {
    return this.doneBytes + this.pos - this.start;
  }
  /** The complete rows written since the last take, as chunks (none empty). Call between rows. */
  take(): Uint8Array[] {
    if (this.pos > this.start) this.done.push(this.buf.subarray(this.start, this.pos));
    this.start = this.pos;
    this.row = this.pos;
    const out = this.done;
    this.done = [];
    this.doneBytes = 0;
    return out;
  }
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    const b = this.buf;
    b[this.pos++] = v;
    b[this.pos++] = v >>> 8;
  }
  u32(v: number): void {
    const b = this.buf;
    b[this.pos++] = v;
    b[this.pos++] = v >>> 8;
    b[this.pos++] = v >>> 16;
    b[this.pos++] = v >>> 24;
  }
  /** Int64 little-endian from a double that holds an exact integer (|v| < 2^53). */
  i64(v: number): void {
    const hi = Math.floor(v / TWO32);
    this.u32(v - hi * TWO32);
    this.u32(hi | 0);
  }
  varint(v: number): void {
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  str(s: string): void {
    const len = s.length;
    if (len < 128) {
      // Short ASCII, the usual case: copy char codes, no native call. Bail out on anything else.
      this.ensure(len + 1);
      const b = this.buf;
      const start = this.pos;
      b[start] = len;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[start + 1 + i] = c;
      }
      if (i === len) {
        this.pos = start + 1 + len;
        return;
      }
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.ensure(n + 5);
    this.varint(n);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
  /** One side of the exchange: its IPv4 column then its IPv6 column; the other family's is zero. */
  addr(text: string): void {
    this.ensure(20);
    const v4 = text.indexOf(':') < 0 ? parseIpv4(text) : -1;
    if (v4 >= 0) {
      this.u32(v4);
      this.buf.set(ZERO16, this.pos);
    } else {
      this.u32(0);
      this.buf.set((text.length > 0 && ipv6Cached(text)) || ZERO16, this.pos);
    }
    this.pos += 16;
  }
}

/** RowBinary for DNS_LOG_COLUMNS, one row per event, in one buffer. indexTimeSec (now, normally)
 *  fills IndexTime, rounded down to the hour: retention only needs that, and a constant column
 *  costs no space. */
export function encodeRows(events: readonly DnsEvent[], indexTimeSec: number): Uint8Array {
  const enc = new RowEncoder(Math.max(4096, events.length * 256));
  enc.encode(events, indexTimeSec);
  const chunks = enc.take();
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** Encodes events as they come into large reused-in-turn buffers; take() hands out what is done. */
export class RowEncoder {
  private readonly w: Writer;
  constructor(chunkBytes = CHUNK_BYTES) {
    this.w = new Writer(chunkBytes);
  }

  /** Bytes encoded and not taken yet. */
  get bytes(): number {
    return this.w.size;
  }

  take(): Uint8Array[] {
    return this.w.take();
  }

  encode(events: readonly DnsEvent[], indexTimeSec: number): void {
    try {
      encodeInto(this.w, events, indexTimeSec);
    } catch (err) {
      this.w.pos = this.w.row; // drop the half-written row; the rows before it are whole
      throw err;
    }
  }
}

/** A string column whose value repeats from row to row (server, transport, input): the
 *  RowBinary bytes of the last value are kept and copied, not re-encoded for every row. */
class Repeated {
  private last: string | null = null;
  private bytes: Uint8Array = new Uint8Array(0);
  write(w: Writer, s: string): void {
    if (s !== this.last) {
      const n = Buffer.byteLength(s, 'utf8');
      const head = n < 128 ? 1 : n < 16384 ? 2 : 5;
      const t = new Writer(n + head);
      t.str(s);
      this.bytes = t.take()[0] ?? new Uint8Array(0);
      this.last = s;
    }
    const b = this.bytes;
    const len = b.length;
    w.ensure(len);
    const buf = w.buf;
    let pos = w.pos;
    if (len > 16) {
      buf.set(b, pos); // a file path, say: one native copy beats a loop
      pos += len;
    } else {
      for (let k = 0; k < len; k++) buf[pos++] = b[k];
    }
    w.pos = pos;
  }
}

function encodeInto(w: Writer, events: readonly DnsEvent[], indexTimeSec: number): void {
  const indexTime = Math.max(0, Math.min(0xffffffff, Math.floor(indexTimeSec / 3600) * 3600));
  const server = new Repeated();
  const transport = new Repeated();
  const inputKind = new Repeated();
  const inputName = new Repeated();
  const messageType = new Repeated();
  const resolution = new Repeated();
  const upstream = new Repeated();
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    w.row = w.pos;
    w.ensure(16);
    w.i64(e.timeSec * 1_000_000 + Math.floor(e.timeNsec / 1000));
    w.u32(indexTime);
    server.write(w, e.server);
    w.ensure(1);
    w.u8(e.ipVersion);
    // A query goes client -> server, a response server -> client.
    w.addr(e.qr ? e.dstIp : e.srcIp);
    w.addr(e.qr ? e.srcIp : e.dstIp);
    w.ensure(4);
    w.u16(e.qr ? e.dstPort : e.srcPort);
    w.u16(e.qr ? e.srcPort : e.dstPort);
    transport.write(w, e.transport);
    w.ensure(16);
    w.u8(e.qr ? 1 : 0);
    w.u8(e.opcode);
    w.u16(e.qclass);
    w.u16(e.qtype);
    w.u8(e.ednsPresent ? 1 : 0);
    w.u8(e.ednsDo ? 1 : 0);
    w.u16(e.rcode);
    w.str(e.qname);
    w.ensure(4);
    w.u16(e.size);
    w.u16(apexLengthOf(e.qname));
    w.ensure(24);
    w.u16(e.id);
    w.u8(e.aa ? 1 : 0);
    w.u8(e.tc ? 1 : 0);
    w.u8(e.rd ? 1 : 0);
    w.u8(e.ra ? 1 : 0);
    w.u8(e.ad ? 1 : 0);
    w.u8(e.cd ? 1 : 0);
    w.u16(e.qdCount);
    w.u16(e.anCount);
    w.u16(e.nsCount);
    w.u16(e.arCount);
    const ans = e.answers;
    const n = ans.length;
    w.ensure(5);
    w.varint(n);
    for (let k = 0; k < n; k++) w.str(ans[k].name);
    w.ensure(15 + n * 8);
    w.varint(n);
    for (let k = 0; k < n; k++) w.u16(ans[k].type);
    w.varint(n);
    for (let k = 0; k < n; k++) w.u16(ans[k].class);
    w.varint(n);
    for (let k = 0; k < n; k++) w.u32(ans[k].ttl);
    w.ensure(5);
    w.varint(n);
    for (let k = 0; k < n; k++) w.str(ans[k].data);
    w.ensure(2);
    w.u16(e.ednsUdpSize);
    w.str(e.ednsClientSubnet);
    w.ensure(5);
    if (e.responseTimeUs === null) {
      w.u8(1);
    } else {
      w.u8(0);
      w.u32(Math.max(0, Math.min(0xffffffff, Math.round(e.responseTimeUs))));
    }
    inputKind.write(w, e.inputKind);
    inputName.write(w, e.inputName);
    w.ensure(1);
    w.u8(e.unanswered ? 1 : 0);
    w.str(e.clientId);
    messageType.write(w, e.messageType);
    resolution.write(w, e.resolution);
    upstream.write(w, e.upstream);
    w.str(e.eventHash);
    w.str(e.rawLine);
  }
}
