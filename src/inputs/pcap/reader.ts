// Capture file reader: classic pcap and pcapng, from a file or stdin, gzip or not.
// The file is read in large chunks; frames point into those chunks (no copies, and no view
// object unless frame.data is read), so the per-packet cost is one header parse and one small object.
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BufferFrame, type Frame } from '../../frame.js';
import type { Stats } from '../../stats.js';

export interface ReadOptions {
  noEtherframe?: boolean; // dnsmonster --noEtherframe: frames are raw IP whatever the header says
  /** Read this stream (a capture tool's stdout) instead of the file; path is then only its name. */
  stream?: Readable;
  /** Yield what each read brought at once instead of waiting for a full batch: a live stream may pause. */
  live?: boolean;
}

const CHUNK = 1 << 20; // read size; a record may span chunks
// Free bytes kept before each chunk read from a file: a record cut by the chunk boundary is
// completed there by copying only its head, instead of copying the whole next chunk.
const HEADROOM = 64 * 1024;
const roomy = new WeakSet<ArrayBufferLike>(); // chunk buffers whose bytes before the chunk are free
const BATCH = 1024; // frames per yielded batch; small enough that a batch's frames and events die young
const LINKTYPE_RAW = 101;
// Larger records are taken as corruption: libpcap's largest snaplen and Wireshark's block limit.
const MAX_PCAP_RECORD = 262144;
const MAX_BLOCK = 16 * 1024 * 1024;

/** Frames of a capture file ('-' = stdin), in batches. Damage after a valid start ends the
 * generator normally with stats.damage set; a file that is not a capture at all throws. */
export async function* readCapture(path: string, stats: Stats, opts: ReadOptions = {}): AsyncGenerator<Frame[]> {
  const source = openBytes(path, opts.stream);
  let buf: Uint8Array = new Uint8Array(0);
  let pos = 0; // next unparsed byte in buf
  let base = 0; // file offset of buf[0]
  let parser: Parser | null = null;
  let ended = false;
  let batch: BufferFrame[] = [];
  // stdin may be a capture tool's pipe (tcpdump -U -w -) that pauses: like a live stream.
  const live = opts.live === true || (path === '-' && !opts.stream);
  try {
    while (!ended) {
      let chunk: Uint8Array | null = null;
      try {
        const next = await source.next();
        if (next.done) ended = true;
        else chunk = next.value;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!code.startsWith('Z_')) throw err;
        if (parser === null) throw new Error(`${path}: not a readable gzip file (${(err as Error).message})`);
        stats.damage = `${path}: gzip stream broken (${(err as Error).message}) after byte ${base + buf.length} of the uncompressed data`;
        ended = true;
      }
      if (chunk !== null && chunk.length > 0) {
        // Keep only the unparsed tail; frames already yielded still point into the old chunk.
        const tail = buf.length - pos;
        if (tail > 0) {
          let joined: Uint8Array;
          if (tail <= chunk.byteOffset && roomy.has(chunk.buffer)) {
            roomy.delete(chunk.buffer);
            joined = new Uint8Array(chunk.buffer, chunk.byteOffset - tail, tail + chunk.length);
          } else {
            joined = new Uint8Array(tail + chunk.length);
            joined.set(chunk, tail);
          }
          joined.set(buf.subarray(pos), 0);
          buf = joined;
        } else {
          buf = chunk;
        }
        base += pos;
        pos = 0;
      }
      if (parser === null) {
        if (buf.length < 4 && !ended) continue;
        parser = pickParser(buf, path, opts.noEtherframe === true);
      }
      for (;;) {
        pos = parser.parse(buf, pos, batch, BATCH);
        if (batch.length < BATCH && !(live && batch.length > 0)) break;
        count(stats, batch);
        yield batch;
        batch = [];
      }
      if (parser.error !== null) {
        if (stats.damage === null) stats.damage = `${path}: ${parser.error} at byte ${base + pos}`;
        break;
      }
      if (ended && pos < buf.length && stats.damage === null) {
        stats.damage = `${path}: truncated ${parser.pending()} at byte ${base + pos} (${buf.length - pos} bytes left)`;
      }
    }
    if (batch.length > 0) {
      count(stats, batch);
      yield batch;
    }
  } finally {
    await source.return(undefined);
  }
}

function count(stats: Stats, batch: BufferFrame[]): void {
  stats.packets += batch.length;
  let bytes = 0;
  for (let i = 0; i < batch.length; i++) bytes += batch[i].end - batch[i].start;
  stats.bytes += bytes;
}

/** A file's bytes in CHUNK-sized Buffers, each with HEADROOM free bytes before it. */
async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  // A fresh buffer per chunk: frames already handed out keep pointing into the old ones.
  const readChunk = () => {
    const ab = new ArrayBuffer(HEADROOM + CHUNK);
    const p = fh.read(new Uint8Array(ab), HEADROOM, CHUNK, null).then((r) => ({ ab, n: r.bytesRead }));
    p.catch(() => {}); // handled where it is awaited; no unhandled rejection meanwhile
    return p;
  };
  // Read one chunk ahead, so the disk works while the caller decodes (the CPU idled ~10% without).
  let next = readChunk();
  try {
    for (;;) {
      const { ab, n } = await next;
      if (n === 0) return;
      next = readChunk();
      roomy.add(ab);
      yield Buffer.from(ab, HEADROOM, n);
    }
  } finally {
    await next.catch(() => undefined);
    await fh.close();
  }
}

/** The file's bytes as Uint8Array chunks, gunzipped when they start with the gzip magic. */
async function* openBytes(path: string, stream?: Readable): AsyncGenerator<Uint8Array> {
  const input = stream ?? (path === '-' ? process.stdin : null);
  const it: AsyncIterator<Buffer> = input ? (input[Symbol.asyncIterator]() as AsyncIterator<Buffer>) : fileChunks(path);
  try {
    // Gather at least 2 bytes (stdin may deliver tiny chunks) to look for the gzip magic.
    const head: Buffer[] = [];
    let have = 0;
    while (have < 2) {
      const r = await it.next();
      if (r.done) break;
      head.push(r.value);
      have += r.value.length;
    }
    const first = head.length === 1 ? head[0] : Buffer.concat(head);
    if (first.length >= 2 && first[0] === 0x1f && first[1] === 0x8b) {
      const rest = async function* (): AsyncGenerator<Buffer> {
        yield first;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      };
      const gunzip = createGunzip({ chunkSize: CHUNK });
      const feed = Readable.from(rest(), { objectMode: false });
      feed.on('error', (err) => gunzip.destroy(err));
      feed.pipe(gunzip);
      try {
        for await (const c of gunzip) yield plain(c as Buffer);
      } finally {
        feed.destroy();
        gunzip.destroy();
      }
      return;
    }
    if (first.length > 0) yield plain(first);
    for (let r = await it.next(); !r.done; r = await it.next()) yield plain(r.value);
  } finally {
    if (!input) await it.return?.();
  }
}

// A plain Uint8Array view: its subarray() is cheaper than Buffer's (no species constructor).
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

interface Parser {
  error: string | null; // set on corruption; parsing stops
  /** Parses whole records from buf[pos..] into out until out has max frames or bytes run out. Returns the new pos. */
  parse(buf: Uint8Array, pos: number, out: BufferFrame[], max: number): number;
  pending(): string; // what the unparsed tail was meant to be, for the truncation message
}

function pickParser(buf: Uint8Array, path: string, rawIp: boolean): Parser {
  if (buf.length >= 4) {
    const m = ((buf[0] << 24) | (buf[1] << 16) | (buf[2] << 8) | buf[3]) >>> 0;
    switch (m) {
      case 0xd4c3b2a1: return new PcapParser(true, 1000, 16, rawIp);
      case 0xa1b2c3d4: return new PcapParser(false, 1000, 16, rawIp);
      case 0x4d3cb2a1: return new PcapParser(true, 1, 16, rawIp);
      case 0xa1b23c4d: return new PcapParser(false, 1, 16, rawIp);
      // Kuznetsov's patched libpcap: 8 more bytes (ifindex, protocol, pkt_type) per record header.
      case 0x34cdb2a1: return new PcapParser(true, 1000, 24, rawIp);
      case 0xa1b2cd34: return new PcapParser(false, 1000, 24, rawIp);
      case 0x0a0d0d0a: return new PcapngParser(rawIp);
    }
  }
  const magic = Buffer.from(buf.subarray(0, 4)).toString('hex');
  throw new Error(`${path} is not a pcap or pcapng file (${buf.length === 0 ? 'it is empty' : `magic 0x${magic}`})`);
}

class PcapParser implements Parser {
  error: string | null = null;
  private linkType = -1; // -1 until the file header is read
  private snaplen = 0;

  constructor(
    private readonly le: boolean,
    private readonly fracToNs: number, // 1000 for microsecond files, 1 for nanosecond
    private readonly recHeader: number,
    private readonly rawIp: boolean,
  ) {}

  pending(): string {
    return this.linkType < 0 ? 'file header' : 'packet record';
  }

  parse(buf: Uint8Array, pos: number, out: BufferFrame[], max: number): number {
    const end = buf.length;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const le = this.le;
    if (this.linkType < 0) {
      if (end - pos < 24) return pos;
      this.snaplen = dv.getUint32(pos + 16, le);
      // Low 16 bits are the link type; the upper bits carry FCS length flags.
      this.linkType = this.rawIp ? LINKTYPE_RAW : dv.getUint32(pos + 20, le) & 0xffff;
      pos += 24;
    }
    const linkType = this.linkType;
    const hdr = this.recHeader;
    const frac = this.fracToNs;
    const maxLen = Math.min(Math.max(this.snaplen, MAX_PCAP_RECORD), MAX_BLOCK);
    while (out.length < max && end - pos >= hdr) {
      const capLen = dv.getUint32(pos + 8, le);
      if (capLen > maxLen) {
        this.error = `packet record claims ${capLen} captured bytes (limit ${maxLen})`;
        return pos;
      }
      if (end - pos - hdr < capLen) break;
      let tsSec = dv.getUint32(pos, le);
      let tsNsec = dv.getUint32(pos + 4, le) * frac;
      if (tsNsec >= 1e9) {
        // Some writers overflow the fraction; carry it into the seconds.
        tsSec += Math.floor(tsNsec / 1e9);
        tsNsec %= 1e9;
      }
      const start = pos + hdr;
      out.push(new BufferFrame(tsSec, tsNsec, linkType, dv.getUint32(pos + 12, le), buf, start, start + capLen));
      pos = start + capLen;
    }
    return pos;
  }
}

interface Iface {
  linkType: number;
  snaplen: number;
  ts: TimeScale;
  tsOffset: number; // if_tsoffset, seconds added to every timestamp
}

// pcapng block types
const SHB = 0x0a0d0d0a;
const IDB = 1;
const OPB = 2; // obsolete Packet Block, still written by old tools
const SPB = 3;
const EPB = 6;

class PcapngParser implements Parser {
  error: string | null = null;
  private le = true;
  private ifaces: Iface[] = [];
  private blockLen = 0; // length of the block being waited for

  constructor(private readonly rawIp: boolean) {}

  pending(): string {
    return this.blockLen > 0 ? `block of ${this.blockLen} bytes` : 'block header';
  }

  parse(buf: Uint8Array, pos: number, out: BufferFrame[], max: number): number {
    const end = buf.length;
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    while (out.length < max) {
      this.blockLen = 0;
      if (end - pos < 12) return pos;
      let le = this.le;
      const type = dv.getUint32(pos, le);
      if (type === SHB) {
        // Each section declares its own byte order.
        const bom = dv.getUint32(pos + 8, true);
        if (bom === 0x1a2b3c4d) le = true;
        else if (bom === 0x4d3c2b1a) le = false;
        else {
          this.error = `pcapng section header with bad byte-order magic 0x${bom.toString(16)}`;
          return pos;
        }
      }
      const len = dv.getUint32(pos + 4, le);
      if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK) {
        this.error = `pcapng block of type 0x${type.toString(16)} has bad length ${len}`;
        return pos;
      }
      this.blockLen = len;
      if (end - pos < len) return pos;
      if (dv.getUint32(pos + len - 4, le) !== len) {
        this.error = `pcapng block of type 0x${type.toString(16)} has mismatched trailing length`;
        return pos;
      }
      const body = pos + 8;
      const bodyEnd = pos + len - 4;
      switch (type) {
        case SHB:
          if (len < 28) return this.fail('pcapng section header too short', pos);
          this.le = le;
          this.ifaces = [];
          break;
        case IDB:
          if (len < 20) return this.fail('pcapng interface block too short', pos);
          this.ifaces.push(this.readIdb(dv, body, bodyEnd, le));
          break;
        case EPB: {
          if (len < 32) return this.fail('pcapng packet block too short', pos);
          const ifc = this.ifaces[dv.getUint32(body, le)];
          if (ifc === undefined) return this.fail(`pcapng packet on undeclared interface ${dv.getUint32(body, le)}`, pos);
          const capLen = dv.getUint32(body + 12, le);
          if (capLen > bodyEnd - (body + 20)) return this.fail(`pcapng packet claims ${capLen} captured bytes in a ${len}-byte block`, pos);
          const ts = ifc.ts.split(dv.getUint32(body + 4, le), dv.getUint32(body + 8, le));
          out.push(new BufferFrame(ts.sec + ifc.tsOffset, ts.nsec, ifc.linkType, dv.getUint32(body + 16, le), buf, body + 20, body + 20 + capLen));
          break;
        }
        case SPB: {
          if (len < 16) return this.fail('pcapng simple packet block too short', pos);
          const ifc = this.ifaces[0];
          if (ifc === undefined) return this.fail('pcapng simple packet block without an interface', pos);
          const origLen = dv.getUint32(body, le);
          // No captured length field: the smaller of the wire length, the snaplen and the block.
          let capLen = Math.min(origLen, bodyEnd - (body + 4));
          if (ifc.snaplen > 0 && ifc.snaplen < capLen) capLen = ifc.snaplen;
          out.push(new BufferFrame(0, 0, ifc.linkType, origLen, buf, body + 4, body + 4 + capLen));
          break;
        }
        case OPB: {
          if (len < 32) return this.fail('pcapng packet block too short', pos);
          const ifc = this.ifaces[dv.getUint16(body, le)];
          if (ifc === undefined) return this.fail(`pcapng packet on undeclared interface ${dv.getUint16(body, le)}`, pos);
          const capLen = dv.getUint32(body + 12, le);
          if (capLen > bodyEnd - (body + 20)) return this.fail(`pcapng packet claims ${capLen} captured bytes in a ${len}-byte block`, pos);
          const ts = ifc.ts.split(dv.getUint32(body + 4, le), dv.getUint32(body + 8, le));
          out.push(new BufferFrame(ts.sec + ifc.tsOffset, ts.nsec, ifc.linkType, dv.getUint32(body + 16, le), buf, body + 20, body + 20 + capLen));
          break;
        }
        default:
          break; // NRB, ISB, DSB, custom blocks...: nothing to capture
      }
      pos += len;
    }
    this.blockLen = 0;
    return pos;
  }

  private fail(msg: string, pos: number): number {
    this.error = msg;
    return pos;
  }

  private readIdb(dv: DataView, body: number, bodyEnd: number, le: boolean): Iface {
    const ifc: Iface = {
      linkType: this.rawIp ? LINKTYPE_RAW : dv.getUint16(body, le),
      snaplen: dv.getUint32(body + 4, le),
      ts: new TimeScale(6, false),
      tsOffset: 0,
    };
    // Options: code(2) length(2) value padded to 4; bad option lengths just end the list.
    let p = body + 8;
    while (p + 4 <= bodyEnd) {
      const code = dv.getUint16(p, le);
      const olen = dv.getUint16(p + 2, le);
      if (code === 0 || p + 4 + olen > bodyEnd) break;
      if (code === 9 && olen >= 1) {
        const v = dv.getUint8(p + 4);
        ifc.ts = new TimeScale(v & 0x7f, (v & 0x80) !== 0);
      } else if (code === 14 && olen >= 8) {
        ifc.tsOffset = Number(dv.getBigInt64(p + 4, le));
      }
      p += 4 + ((olen + 3) & ~3);
    }
    return ifc;
  }
}

/** Splits a 64-bit pcapng timestamp (high, low words) into seconds and nanoseconds for one if_tsresol. */
export class TimeScale {
  private readonly units: number; // ticks per second
  private readonly exact: boolean; // float long division is exact
  private readonly mul: number; // ns = rem * mul (power of 10 <= 9 digits) ...
  private readonly div: number; // ... or rem / div (finer than ns)
  private readonly out = { sec: 0, nsec: 0 };

  constructor(
    private readonly exp: number,
    private readonly pow2: boolean,
  ) {
    this.units = pow2 ? 2 ** exp : 10 ** exp;
    // Exact in doubles when rem * 65536 stays below 2^53 (units < 2^37), the quotient
    // (seconds) below 2^53 (units >= 2^11), and for powers of 2, rem * 1e9 below 2^53.
    this.exact = this.units < 2 ** 37 && this.units >= 2048 && (pow2 ? exp <= 23 : true);
    this.mul = !pow2 && exp <= 9 ? 10 ** (9 - exp) : 0;
    this.div = !pow2 && exp > 9 ? 10 ** (exp - 9) : 0;
  }

  /** The returned object is reused: read it before the next call. */
  split(hi: number, lo: number): { sec: number; nsec: number } {
    const o = this.out;
    if (!this.exact) {
      const t = (BigInt(hi) << 32n) | BigInt(lo);
      const u = this.pow2 ? 1n << BigInt(this.exp) : 10n ** BigInt(this.exp);
      o.sec = Number(t / u);
      o.nsec = Number(((t % u) * 1_000_000_000n) / u);
      return o;
    }
    // Long division of the 64-bit value by units, 16 bits at a time, all in exact doubles.
    const u = this.units;
    const d0 = hi >>> 16;
    const d1 = hi & 0xffff;
    const d2 = lo >>> 16;
    const d3 = lo & 0xffff;
    let r = d0 % u;
    let q = Math.floor(d0 / u);
    let x = r * 65536 + d1;
    q = q * 65536 + Math.floor(x / u);
    r = x % u;
    x = r * 65536 + d2;
    q = q * 65536 + Math.floor(x / u);
    r = x % u;
    x = r * 65536 + d3;
    q = q * 65536 + Math.floor(x / u);
    r = x % u;
    o.sec = q;
    if (this.mul > 0) o.nsec = r * this.mul;
    else if (this.div > 0) o.nsec = Math.floor(r / this.div);
    else o.nsec = Math.floor((r * 1e9) / u);
    return o;
  }
}
