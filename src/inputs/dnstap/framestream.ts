// Frame Streams (fstrm), the framing dnstap travels in: files, unix and TCP sockets.
// A data frame is a 32-bit big-endian length and that many bytes. A length of 0 escapes a control
// frame: a 32-bit length, a 32-bit control type, then fields (32-bit type, 32-bit length, bytes);
// the only field is CONTENT_TYPE. A bidirectional producer sends READY, the receiver answers
// ACCEPT, then START, data frames, STOP, and the receiver answers FINISH. Unidirectional streams
// (files, some producers) are START, data frames, STOP.

export const CONTROL_ACCEPT = 0x01;
export const CONTROL_START = 0x02;
export const CONTROL_STOP = 0x03;
export const CONTROL_READY = 0x04;
export const CONTROL_FINISH = 0x05;
const FIELD_CONTENT_TYPE = 0x01;

export const DNSTAP_CONTENT_TYPE = 'protobuf:dnstap.Dnstap';
/** The fstrm library's limit for a control frame. */
export const MAX_CONTROL_SIZE = 512;
/** A dnstap frame carries at most two DNS messages of 64 KiB plus metadata: 1 MiB is generous. */
export const DEFAULT_MAX_FRAME_SIZE = 1 << 20;

export interface FrameHandler {
  /** A data frame: buf[start, end). The bytes are valid only during the call. */
  data(buf: Uint8Array, start: number, end: number): void;
  /** A control frame; returns null to go on, or a reason to stop reading this stream. */
  control(type: number, contentTypes: string[]): string | null;
}

/**
 * Splits a byte stream (chunks of any size) into frames. After an error the reader stays failed:
 * the caller closes the stream and counts the reason once.
 */
export class FrameReader {
  // The unparsed tail, copied out of the chunks: holding the chunks themselves would keep every
  // socket read alive (a producer dripping one byte per read made each byte cost ~64 KiB).
  private acc: Uint8Array = new Uint8Array(0);
  private accLength = 0;
  private need = 4; // bytes needed before the tail can be parsed further
  failed: string | null = null;
  offset = 0; // stream offset of the first unparsed byte

  constructor(
    private readonly handler: FrameHandler,
    private readonly maxFrameSize = DEFAULT_MAX_FRAME_SIZE,
  ) {}

  /** Feeds a chunk; returns null, or the reason the stream is broken. */
  push(chunk: Uint8Array): string | null {
    if (this.failed !== null) return this.failed;
    let at = 0;
    // A frame cut by the previous chunk: complete it with just the bytes it needs from this one,
    // instead of copying the whole chunk behind it.
    while (this.accLength > 0) {
      const take = Math.min(chunk.length - at, this.need - this.accLength);
      this.append(chunk, at, at + take);
      at += take;
      if (this.accLength < this.need) return null; // chunk used up
      const head = this.acc.subarray(0, this.accLength);
      const used = this.parse(head, 0);
      this.offset += used;
      if (this.failed !== null) return this.failed;
      if (used === head.length) {
        this.acc = new Uint8Array(0); // the frame is done: free its bytes
        this.accLength = 0;
      } else if (used > 0) {
        this.acc.copyWithin(0, used, this.accLength);
        this.accLength -= used;
      } // else the header told us the frame is longer: keep collecting.
    }
    const used = this.parse(chunk, at);
    this.offset += used - at;
    if (this.failed === null && used < chunk.length) this.append(chunk, used, chunk.length);
    return this.failed;
  }

  // Copies src[from, to) behind the tail. The buffer doubles as bytes arrive, up to the frame's
  // size: a length prefix alone allocates nothing large.
  private append(src: Uint8Array, from: number, to: number): void {
    const n = this.accLength + (to - from);
    if (n > this.acc.length) {
      const grown = new Uint8Array(Math.max(n, Math.min(this.acc.length * 2, this.need)));
      grown.set(this.acc.subarray(0, this.accLength));
      this.acc = grown;
    }
    this.acc.set(src.subarray(from, to), this.accLength);
    this.accLength = n;
  }

  /** Bytes received but not yet forming a whole frame (at end of stream: a truncated frame). */
  get pending(): number {
    return this.accLength;
  }

  // Parses whole frames from b[from..]; returns where it stopped, sets need for the next frame.
  private parse(b: Uint8Array, from: number): number {
    let p = from;
    const n = b.length;
    while (n - p >= 4) {
      const len = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      if (len !== 0) {
        if (len > this.maxFrameSize) {
          this.failed = 'framestream:oversize-frame';
          return p;
        }
        if (n - p - 4 < len) {
          this.need = 4 + len;
          return p;
        }
        this.handler.data(b, p + 4, p + 4 + len);
        p += 4 + len;
        continue;
      }
      if (n - p < 8) {
        this.need = 8;
        return p;
      }
      const clen = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
      if (clen < 4 || clen > MAX_CONTROL_SIZE) {
        this.failed = 'framestream:bad-control-frame';
        return p;
      }
      if (n - p - 8 < clen) {
        this.need = 8 + clen;
        return p;
      }
      const r = this.control(b, p + 8, p + 8 + clen);
      p += 8 + clen;
      if (r !== null) {
        this.failed = r;
        return p;
      }
    }
    this.need = 4;
    return p;
  }

  private control(b: Uint8Array, start: number, end: number): string | null {
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const type = view.getUint32(start);
    const types: string[] = [];
    let p = start + 4;
    while (p < end) {
      if (end - p < 8) return 'framestream:bad-control-frame';
      const ftype = view.getUint32(p);
      const flen = view.getUint32(p + 4);
      p += 8;
      if (flen > end - p) return 'framestream:bad-control-frame';
      if (ftype !== FIELD_CONTENT_TYPE) return 'framestream:bad-control-frame';
      types.push(Buffer.from(b.buffer, b.byteOffset + p, flen).toString('latin1'));
      p += flen;
    }
    if (type < CONTROL_ACCEPT || type > CONTROL_FINISH) return 'framestream:bad-control-frame';
    return this.handler.control(type, types);
  }
}

/** A control frame with its escape: READY, ACCEPT or START with content types; STOP, FINISH without. */
export function controlFrame(type: number, contentTypes: readonly string[] = []): Buffer {
  const fields = contentTypes.map((t) => Buffer.from(t, 'latin1'));
  const clen = 4 + fields.reduce((n, f) => n + 8 + f.length, 0);
  const out = Buffer.alloc(8 + clen);
  out.writeUInt32BE(0, 0);
  out.writeUInt32BE(clen, 4);
  out.writeUInt32BE(type, 8);
  let p = 12;
  for (const f of fields) {
    out.writeUInt32BE(FIELD_CONTENT_TYPE, p);
    out.writeUInt32BE(f.length, p + 4);
    f.copy(out, p + 8);
    p += 8 + f.length;
  }
  return out;
}

/** A data frame: the length prefix and the payload. */
export function dataFrame(payload: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

export function controlName(type: number): string {
  return ['', 'ACCEPT', 'START', 'STOP', 'READY', 'FINISH'][type] ?? `control-${type}`;
}
