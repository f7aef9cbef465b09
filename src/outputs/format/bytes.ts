// A growable byte buffer for encoding output lines straight to UTF-8. Building a line as a
// JS string and converting it costs an allocation per piece and a copy per line; writing
// bytes in place is what lets the JSON output keep up with the capture.

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Make room for n more bytes. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
  }

  byte(c: number): void {
    this.reserve(1);
    this.buf[this.pos++] = c;
  }

  /** Pre-encoded bytes (the fixed parts of a line). */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /**
   * A string that is plain printable ASCII without '"' or '\\' (most DNS text): copied byte
   * by byte, and true. Otherwise nothing is written and the result is false.
   */
  plain(s: string): boolean {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    const p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
      buf[p + i] = c;
    }
    this.pos = p + n;
    return true;
  }

  /** A string as UTF-8 (lone surrogates become U+FFFD). */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** A number in decimal (non-finite: null); non-negative 31-bit integers (nearly all DNS fields) take a fast path. */
  num(n: number): void {
    if (n >= 0 && n <= 0x7fffffff && (n | 0) === n) {
      let len = 1;
      for (let t = n; t >= 10; t = (t / 10) | 0) len++;
      this.reserve(len);
      const b = this.buf;
      let p = this.pos + len;
      let v = n;
      do {
        b[--p] = 48 + (v % 10);
        v = (v / 10) | 0;
      } while (v > 0);
      this.pos += len;
    } else {
      this.text(Number.isFinite(n) ? String(n) : 'null'); // NaN/Infinity would not be JSON
    }
  }

  /**
   * Hand over the bytes written so far and start over on a fresh buffer sized for the next
   * batch (handing over is cheaper than copying out).
   */
  take(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(1 << 12, this.pos + (this.pos >> 2)));
    this.pos = 0;
    return out;
  }
}

export function ascii(s: string): Uint8Array {
  return Buffer.from(s, 'latin1');
}
