// readCapture against pcap-parser (classic pcap) and Wireshark's own tools (pcapng, nanosecond,
// merged link types, snaplen), plus gzip, stdin, and damaged files.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { Frame } from '../src/frame.js';
import { readCapture, TimeScale } from '../src/inputs/pcap/reader.js';
import { Stats } from '../src/stats.js';
import { describeWithPeers } from './peers.js';
import { PCAP_DIR } from './data.js';

const require = createRequire(import.meta.url);
const pcapParser = require('pcap-parser') as { parse(input: string): NodeJS.EventEmitter };

const DATA = PCAP_DIR;
const FILES = readdirSync(DATA).filter((f) => f.endsWith('.pcap')).sort();
const tmp = mkdtempSync(join(tmpdir(), 'dnslens-pcapfile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Read {
  frames: Frame[];
  stats: Stats;
}

async function readAll(path: string, opts?: { noEtherframe?: boolean }): Promise<Read> {
  const stats = new Stats();
  const frames: Frame[] = [];
  for await (const batch of readCapture(path, stats, opts)) {
    expect(batch.length).toBeGreaterThan(0);
    expect(batch.length).toBeLessThanOrEqual(4096);
    frames.push(...batch);
  }
  return { frames, stats };
}

interface RefFrame {
  tsSec: number;
  tsUsec: number;
  origLen: number;
  data: Buffer;
}

function referenceRead(path: string): Promise<{ linkType: number; frames: RefFrame[] }> {
  return new Promise((resolve, reject) => {
    const frames: RefFrame[] = [];
    let linkType = -1;
    const p = pcapParser.parse(path);
    p.on('globalHeader', (h: { linkLayerType: number }) => (linkType = h.linkLayerType));
    p.on('packet', (pkt: { header: { timestampSeconds: number; timestampMicroseconds: number; originalLength: number }; data: Buffer }) =>
      frames.push({ tsSec: pkt.header.timestampSeconds, tsUsec: pkt.header.timestampMicroseconds, origLen: pkt.header.originalLength, data: Buffer.from(pkt.data) }),
    );
    p.on('error', reject);
    p.on('end', () => resolve({ linkType, frames }));
  });
}

function expectSameFrames(got: Frame[], want: Frame[]): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    expect({ i, tsSec: g.tsSec, tsNsec: g.tsNsec, linkType: g.linkType, origLen: g.origLen }).toEqual({ i, tsSec: w.tsSec, tsNsec: w.tsNsec, linkType: w.linkType, origLen: w.origLen });
    expect(Buffer.compare(Buffer.from(g.data), Buffer.from(w.data))).toBe(0);
  }
}

/** Byte offsets where each record of a little-endian classic pcap starts, plus the file end. */
function pcapRecordOffsets(file: Buffer): number[] {
  const offs: number[] = [];
  let p = 24;
  while (p < file.length) {
    offs.push(p);
    p += 16 + file.readUInt32LE(p + 8);
  }
  offs.push(p);
  return offs;
}

/** Byte offsets where each block of a little-endian pcapng file starts, plus the file end. */
function pcapngBlockOffsets(file: Buffer): number[] {
  const offs: number[] = [];
  let p = 0;
  while (p < file.length) {
    offs.push(p);
    p += file.readUInt32LE(p + 4);
  }
  offs.push(p);
  return offs;
}

/** A little-endian classic pcap rewritten in big-endian byte order. */
function byteSwapPcap(file: Buffer): Buffer {
  const out = Buffer.from(file);
  out.writeUInt32BE(file.readUInt32LE(0), 0);
  out.writeUInt16BE(file.readUInt16LE(4), 4);
  out.writeUInt16BE(file.readUInt16LE(6), 6);
  for (const o of [8, 12, 16, 20]) out.writeUInt32BE(file.readUInt32LE(o), o);
  const offs = pcapRecordOffsets(file);
  for (const r of offs.slice(0, -1)) for (let k = 0; k < 16; k += 4) out.writeUInt32BE(file.readUInt32LE(r + k), r + k);
  return out;
}

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

describe('classic pcap', () => {
  for (const f of FILES) {
    it(`${f} matches pcap-parser frame by frame`, async () => {
      const ref = await referenceRead(join(DATA, f));
      const { frames, stats } = await readAll(join(DATA, f));
      expect(frames.length).toBe(ref.frames.length);
      expect(frames.length).toBeGreaterThan(0);
      let bytes = 0;
      for (let i = 0; i < frames.length; i++) {
        const g = frames[i];
        const w = ref.frames[i];
        expect({ tsSec: g.tsSec, tsNsec: g.tsNsec, origLen: g.origLen, linkType: g.linkType }).toEqual({
          tsSec: w.tsSec,
          tsNsec: w.tsUsec * 1000,
          origLen: w.origLen,
          linkType: ref.linkType & 0xffff,
        });
        expect(Buffer.compare(Buffer.from(g.data), w.data)).toBe(0);
        bytes += g.data.length;
      }
      expect(stats.packets).toBe(frames.length);
      expect(stats.bytes).toBe(bytes);
      expect(stats.damage).toBeNull();
    });
  }

  it('reads a big-endian copy (byte-swapped headers) the same, as pcap-parser does', async () => {
    const src = join(DATA, 'dnscap__dns.pcap');
    const swapped = join(tmp, 'be.pcap');
    writeFileSync(swapped, byteSwapPcap(readFileSync(src)));
    expect(readFileSync(swapped).readUInt32BE(0)).toBe(0xa1b2c3d4);
    const want = await readAll(src);
    const got = await readAll(swapped);
    expectSameFrames(got.frames, want.frames);
    const ref = await referenceRead(swapped);
    expect(ref.frames.length).toBe(got.frames.length);
    expect(ref.frames.map((r) => r.tsUsec * 1000)).toEqual(got.frames.map((g) => g.tsNsec));
  });

  it('masks the FCS bits of the link-type field', async () => {
    const file = Buffer.from(readFileSync(join(DATA, 'dnscap__dns.pcap')));
    file.writeUInt32LE(0x14000000 | 1, 20); // FCS present, 4 bytes of FCS, LINKTYPE_ETHERNET
    const path = join(tmp, 'fcs.pcap');
    writeFileSync(path, file);
    const { frames } = await readAll(path);
    expect(frames.length).toBe(133);
    expect(new Set(frames.map((f) => f.linkType))).toEqual(new Set([1]));
  });

  it('noEtherframe marks every frame as raw IP', async () => {
    const { frames } = await readAll(join(DATA, 'dnscap__frags.pcap'), { noEtherframe: true });
    expect(frames.length).toBe(495);
    expect(new Set(frames.map((f) => f.linkType))).toEqual(new Set([101]));
  });

  it('frames a file larger than one read chunk across chunk boundaries', async () => {
    // 1.7 MB: several 1 MiB reads, records spanning them; compared with pcap-parser above,
    // here checked for the count and the sum of bytes against the file size.
    const path = join(DATA, 'pktvisor__dns_udp_tcp_random.pcap');
    const { frames, stats } = await readAll(path);
    expect(frames.length).toBe(16147);
    const size = readFileSync(path).length;
    expect(24 + 16 * frames.length + stats.bytes).toBe(size);
  });
});

describe('gzip and stdin', () => {
  const src = join(DATA, 'dnscap__dns.pcap');

  it('gunzips by magic, whatever the name', async () => {
    const gz = gzipSync(readFileSync(src));
    const named = join(tmp, 'dns.pcap.gz');
    const unnamed = join(tmp, 'dns-gz.pcap');
    writeFileSync(named, gz);
    writeFileSync(unnamed, gz);
    const want = await readAll(src);
    expectSameFrames((await readAll(named)).frames, want.frames);
    const got = await readAll(unnamed);
    expectSameFrames(got.frames, want.frames);
    expect(got.stats.damage).toBeNull();
  });

  it('reports a truncated gzip stream as damage after the frames before it', async () => {
    const gz = gzipSync(readFileSync(join(DATA, 'pktvisor__dns_udp_tcp_random.pcap')));
    const path = join(tmp, 'cut.pcap.gz');
    writeFileSync(path, gz.subarray(0, Math.floor(gz.length / 2)));
    const full = await readAll(join(DATA, 'pktvisor__dns_udp_tcp_random.pcap'));
    const { frames, stats } = await readAll(path);
    expect(frames.length).toBeGreaterThan(1000);
    expect(frames.length).toBeLessThan(full.frames.length);
    expectSameFrames(frames, full.frames.slice(0, frames.length));
    expect(stats.damage).toMatch(/gzip/);
  });

  async function viaStdin(path: string, highWaterMark: number): Promise<Read> {
    const saved = Object.getOwnPropertyDescriptor(process, 'stdin')!;
    Object.defineProperty(process, 'stdin', { value: createReadStream(path, { highWaterMark }), configurable: true });
    try {
      return await readAll('-');
    } finally {
      Object.defineProperty(process, 'stdin', saved);
    }
  }

  it("reads '-' from stdin, in tiny chunks", async () => {
    const want = await readAll(src);
    const got = await viaStdin(src, 7); // every record spans several chunks
    expectSameFrames(got.frames, want.frames);
    expect(got.stats.damage).toBeNull();
  });

  it('reads gzip from stdin', async () => {
    const gz = join(tmp, 'stdin.pcap.gz');
    writeFileSync(gz, gzipSync(readFileSync(src)));
    const want = await readAll(src);
    expectSameFrames((await viaStdin(gz, 5)).frames, want.frames);
  });
});

describe('damaged and foreign files', () => {
  const src = join(DATA, 'dnscap__dns.pcap');
  const file = readFileSync(src);
  const offs = pcapRecordOffsets(file);

  it('throws on an unknown magic at byte 0, naming the file', async () => {
    const junk = join(tmp, 'notes.txt');
    writeFileSync(junk, 'this is a text file, not a capture\n');
    await expect(readAll(junk)).rejects.toThrow(/notes\.txt is not a pcap or pcapng file \(magic 0x74686973\)/);
    const empty = join(tmp, 'empty.pcap');
    writeFileSync(empty, '');
    await expect(readAll(empty)).rejects.toThrow(/empty\.pcap is not a pcap or pcapng file \(it is empty\)/);
    await expect(readAll(join(tmp, 'missing.pcap'))).rejects.toThrow(/ENOENT/);
  });

  it('yields the frames before a cut and reports the cut with its offset', async () => {
    const full = await readAll(src);
    const cuts = [10, 24, offs[1], offs[5] + 8, offs[5] + 16 + 3, offs[60], offs[132] + 30, file.length - 1, file.length];
    for (const cut of cuts) {
      const path = join(tmp, `cut-${cut}.pcap`);
      writeFileSync(path, file.subarray(0, cut));
      const { frames, stats } = await readAll(path);
      const whole = offs.filter((o, i) => i > 0 && o <= cut).length;
      expect({ cut, n: frames.length }).toEqual({ cut, n: whole });
      expectSameFrames(frames, full.frames.slice(0, whole));
      expect(stats.packets).toBe(whole);
      const atBoundary = cut >= 24 && offs.includes(cut);
      if (atBoundary) expect(stats.damage).toBeNull();
      else {
        const at = cut < 24 ? 0 : offs[whole];
        expect(stats.damage).toBe(`${path}: truncated ${cut < 24 ? 'file header' : 'packet record'} at byte ${at} (${cut - at} bytes left)`);
      }
    }
  });

  it('stops at a record claiming an absurd length', async () => {
    const bad = Buffer.from(file);
    bad.writeUInt32LE(0x7fffffff, offs[7] + 8);
    const path = join(tmp, 'absurd.pcap');
    writeFileSync(path, bad);
    const { frames, stats } = await readAll(path);
    expect(frames.length).toBe(7);
    expect(stats.damage).toBe(`${path}: packet record claims 2147483647 captured bytes (limit 262144) at byte ${offs[7]}`);
  });
});

describe('pcapng timestamps', () => {
  it('splits 64-bit ticks exactly for every resolution', () => {
    const cases: [number, boolean][] = [[6, false], [9, false], [3, false], [0, false], [10, false], [12, false], [20, true], [30, true], [0, true], [10, true]];
    const ticks = [0n, 1n, 999_999n, 1_476_976_981_075_993n, 1_476_976_981_075_993_123n, 0xffff_ffff_ffff_ffffn, 0x0001_2345_6789_abcdn];
    for (const [exp, pow2] of cases) {
      const units = pow2 ? 1n << BigInt(exp) : 10n ** BigInt(exp);
      const ts = new TimeScale(exp, pow2);
      for (const t of ticks) {
        const { sec, nsec } = ts.split(Number(t >> 32n), Number(t & 0xffffffffn));
        expect({ exp, pow2, t, sec, nsec }).toEqual({ exp, pow2, t, sec: Number(t / units), nsec: Number(((t % units) * 1_000_000_000n) / units) });
      }
    }
  });
});

describeWithPeers('pcapng and variants written by Wireshark tools', ['tshark', 'editcap', 'mergecap'], () => {
  for (const f of FILES) {
    it(`${f}: tshark -F pcapng gives the same frames`, async () => {
      const out = join(tmp, `${f}.pcapng`);
      run('tshark', ['-r', join(DATA, f), '-F', 'pcapng', '-w', out]);
      expect(readFileSync(out).readUInt32LE(0)).toBe(0x0a0d0d0a);
      const want = await readAll(join(DATA, f));
      const got = await readAll(out);
      expectSameFrames(got.frames, want.frames);
      expect(got.stats.damage).toBeNull();
    });
  }

  it('editcap -F pcapng, nanosecond pcap and modified pcap give the same frames', async () => {
    const src = join(DATA, 'dnscap__dns.pcap');
    const want = await readAll(src);
    const outs = { pcapng: 'a.pcapng', nsecpcap: 'a.nsec.pcap', modpcap: 'a.mod.pcap' };
    for (const [fmt, name] of Object.entries(outs)) {
      run('editcap', ['-F', fmt, src, join(tmp, name)]);
      const got = await readAll(join(tmp, name));
      expectSameFrames(got.frames, want.frames);
    }
    expect(readFileSync(join(tmp, outs.nsecpcap)).readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(readFileSync(join(tmp, outs.modpcap)).readUInt32LE(0)).toBe(0xa1b2cd34);
    // pcapng from a nanosecond file declares if_tsresol 9
    run('editcap', ['-F', 'pcapng', join(tmp, outs.nsecpcap), join(tmp, 'nsec.pcapng')]);
    expectSameFrames((await readAll(join(tmp, 'nsec.pcapng'))).frames, want.frames);
  });

  it('nanosecond timestamps survive (editcap -t shifts by 1 ns steps)', async () => {
    const src = join(DATA, 'dnscap__dns.pcap');
    run('editcap', ['-F', 'nsecpcap', '-t', '0.000000123', src, join(tmp, 'shift.pcap')]);
    run('editcap', ['-F', 'pcapng', join(tmp, 'shift.pcap'), join(tmp, 'shift.pcapng')]);
    const want = (await readAll(src)).frames;
    for (const name of ['shift.pcap', 'shift.pcapng']) {
      const got = (await readAll(join(tmp, name))).frames;
      expect(got.map((g) => [g.tsSec, g.tsNsec])).toEqual(want.map((w) => [w.tsSec, w.tsNsec + 123]));
    }
    const tshark = run('tshark', ['-r', join(tmp, 'shift.pcapng'), '-T', 'fields', '-e', 'frame.time_epoch']).trim().split('\n');
    expect(tshark).toEqual(want.map((w) => `${w.tsSec}.${String(w.tsNsec + 123).padStart(9, '0')}`));
  });

  it('mergecap of three link types: one interface each, frames in tshark order', async () => {
    const parts = ['dnscap__dns.pcap', 'dnscap__frags.pcap', 'dnscap__sll2.pcap'].map((f) => join(DATA, f));
    const merged = join(tmp, 'merged.pcapng');
    run('mergecap', ['-F', 'pcapng', '-w', merged, ...parts]);
    const { frames, stats } = await readAll(merged);
    expect(stats.damage).toBeNull();
    const key = (f: Frame) => `${f.linkType}|${f.tsSec}.${f.tsNsec}|${f.origLen}|${Buffer.from(f.data).toString('hex')}`;
    const want: string[] = [];
    for (const p of parts) for (const f of (await readAll(p)).frames) want.push(key(f));
    expect(frames.map(key).sort()).toEqual(want.sort());
    expect(new Set(frames.map((f) => f.linkType))).toEqual(new Set([1, 228, 276]));
    const ref = run('tshark', ['-r', merged, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'frame.cap_len', '-e', 'frame.len']).trim().split('\n');
    expect(frames.map((f) => `${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}\t${f.data.length}\t${f.origLen}`)).toEqual(ref);
  });

  it('editcap -s snaps frames: captured length below the wire length', async () => {
    const src = join(DATA, 'elastic-examples__dns-tunnel-iodine.pcap');
    const want = (await readAll(src)).frames;
    for (const fmt of ['pcap', 'pcapng']) {
      const out = join(tmp, `snap.${fmt}`);
      run('editcap', ['-F', fmt, '-s', '80', src, out]);
      const got = (await readAll(out)).frames;
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++) {
        expect(got[i].origLen).toBe(want[i].origLen);
        expect(Buffer.from(got[i].data)).toEqual(Buffer.from(want[i].data.subarray(0, 80)));
      }
      if (fmt === 'pcap') {
        const ref = await referenceRead(out);
        expect(ref.frames.map((r) => r.data.length)).toEqual(got.map((g) => g.data.length));
      }
    }
  });

  it('pcapng cut at block boundaries and inside blocks', async () => {
    const src = join(DATA, 'dnscap__dns.pcap');
    const ng = join(tmp, 'cut-src.pcapng');
    run('editcap', ['-F', 'pcapng', src, ng]);
    const file = readFileSync(ng);
    const offs = pcapngBlockOffsets(file);
    const full = (await readAll(ng)).frames;
    // blocks: SHB, IDB, then one EPB per frame (editcap writes no other blocks here)
    expect(offs.length - 3).toBe(full.length);
    const cuts = [offs[1], offs[2], offs[2] + 4, offs[2] + 10, offs[40], offs[40] + 33, file.length - 4];
    for (const cut of cuts) {
      const path = join(tmp, `ngcut-${cut}.pcapng`);
      writeFileSync(path, file.subarray(0, cut));
      const { frames, stats } = await readAll(path);
      const blocks = offs.filter((o, i) => i > 0 && o <= cut).length;
      const n = Math.max(0, blocks - 2);
      expect({ cut, n: frames.length }).toEqual({ cut, n });
      expectSameFrames(frames, full.slice(0, n));
      if (offs.includes(cut)) expect(stats.damage).toBeNull();
      else expect(stats.damage).toMatch(new RegExp(`truncated block (header|of \\d+ bytes) at byte ${offs[blocks]} `));
    }
  });

  it('pcapng with a bad block length or a mismatched trailer stops there', async () => {
    const ng = join(tmp, 'cut-src.pcapng');
    const file = readFileSync(ng);
    const offs = pcapngBlockOffsets(file);
    const cases: [number, number, RegExp][] = [
      [offs[12] + 4, 13, /has bad length 13 at byte/],
      [offs[12] + 4, 0x7ffffff0, /has bad length 2147483632 at byte/],
      [offs[13] - 4, 4, /mismatched trailing length at byte/],
      [offs[12] + 20, 0xfff, /claims 4095 captured bytes/],
      [offs[12] + 8, 5, /undeclared interface 5/],
    ];
    for (const [at, value, why] of cases) {
      const bad = Buffer.from(file);
      bad.writeUInt32LE(value, at);
      const path = join(tmp, `bad-${at}-${value}.pcapng`);
      writeFileSync(path, bad);
      const { frames, stats } = await readAll(path);
      expect(frames.length).toBe(10); // blocks 2..11 are the first 10 packets
      expect(stats.damage).toMatch(why);
      expect(stats.damage).toContain(`at byte ${offs[12]}`);
    }
  });
});

// A small pcapng writer for what Wireshark's tools never write: big-endian sections, several
// sections, power-of-2 and millisecond if_tsresol, if_tsoffset, simple packet blocks, odd blocks.
class PcapngBuilder {
  private parts: Buffer[] = [];
  private le = true;

  private u16(v: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(v);
    else b.writeUInt16BE(v);
    return b;
  }
  private u32(v: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(v);
    else b.writeUInt32BE(v);
    return b;
  }
  private block(type: number, body: Buffer): void {
    const pad = Buffer.alloc((4 - (body.length % 4)) % 4);
    const len = 12 + body.length + pad.length;
    this.parts.push(this.u32(type), this.u32(len), body, pad, this.u32(len));
  }
  private option(code: number, value: Buffer): Buffer {
    return Buffer.concat([this.u16(code), this.u16(value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
  }

  section(le: boolean): this {
    this.le = le;
    const len = Buffer.alloc(8, 0xff); // section length: unknown
    this.block(0x0a0d0d0a, Buffer.concat([this.u32(0x1a2b3c4d), this.u16(1), this.u16(0), len]));
    return this;
  }
  iface(linkType: number, snaplen: number, tsresol?: number, tsoffset?: bigint): this {
    const opts: Buffer[] = [];
    if (tsresol !== undefined) opts.push(this.option(9, Buffer.from([tsresol])));
    if (tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (this.le) v.writeBigInt64LE(tsoffset);
      else v.writeBigInt64BE(tsoffset);
      opts.push(this.option(14, v));
    }
    if (opts.length > 0) opts.push(this.option(0, Buffer.alloc(0)));
    this.block(1, Buffer.concat([this.u16(linkType), this.u16(0), this.u32(snaplen), ...opts]));
    return this;
  }
  epb(ifc: number, ticks: bigint, data: Uint8Array, origLen = data.length): this {
    const body = Buffer.concat([this.u32(ifc), this.u32(Number(ticks >> 32n)), this.u32(Number(ticks & 0xffffffffn)), this.u32(data.length), this.u32(origLen), Buffer.from(data)]);
    this.block(6, body);
    return this;
  }
  spb(data: Uint8Array, origLen = data.length): this {
    this.block(3, Buffer.concat([this.u32(origLen), Buffer.from(data)]));
    return this;
  }
  other(type: number, body: Buffer): this {
    this.block(type, body);
    return this;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

describeWithPeers('hand-built pcapng checked with tshark', ['tshark'], () => {
  it('big-endian and little-endian sections, tsresol 2^-20 and 10^-3, tsoffset, SPB, skipped blocks', async () => {
    const src = (await readAll(join(DATA, 'dnscap__dns.pcap'))).frames;
    const raw4 = (await readAll(join(DATA, 'dnscap__frags.pcap'))).frames;
    const t0 = 1_476_976_981n; // 2016-10-20
    const b = new PcapngBuilder()
      .section(false)
      .iface(1, 262144, 0x80 | 20) // 2^-20 s ticks
      .iface(228, 262144, 3, 1000n) // milliseconds, +1000 s offset
      .epb(0, (t0 << 20n) + 524288n, src[0].data) // +0.5 s
      .other(4, Buffer.alloc(4)) // name resolution block with no records
      .epb(1, t0 * 1000n + 7n, raw4[0].data)
      .other(0x40000bad, Buffer.from('custom, skipped by length'))
      .section(true)
      .iface(1, 64) // default microseconds; snaplen 64 caps simple packet blocks
      .spb(src[1].data.subarray(0, 64), src[1].data.length) // holds snaplen bytes
      .epb(0, t0 * 1_000_000n + 123_456n, src[2].data.subarray(0, 50), src[2].data.length)
      .other(5, Buffer.alloc(16)); // interface statistics
    const path = join(tmp, 'built.pcapng');
    writeFileSync(path, b.bytes());
    const { frames, stats } = await readAll(path);
    expect(stats.damage).toBeNull();
    expect(frames.map((f) => [f.linkType, f.tsSec, f.tsNsec, f.data.length, f.origLen])).toEqual([
      [1, 1476976981, 500000000, src[0].data.length, src[0].data.length],
      [228, 1476977981, 7000000, raw4[0].data.length, raw4[0].data.length],
      [1, 0, 0, 64, src[1].data.length],
      [1, 1476976981, 123456000, 50, src[2].data.length],
    ]);
    expect(Buffer.from(frames[2].data)).toEqual(Buffer.from(src[1].data.subarray(0, 64)));
    // tshark reads the same file to the same frames (it has no timestamp for the SPB). It also
    // lists the custom block as a record of bare "data": that one is not a packet.
    const ref = run('tshark', ['-r', path, '-T', 'fields', '-e', 'frame.protocols', '-e', 'frame.cap_len', '-e', 'frame.len', '-e', 'frame.time_epoch'])
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('data\t'))
      .map((l) => l.slice(l.indexOf('\t') + 1));
    expect(ref.length).toBe(4);
    const mine = frames.map((f) => `${f.data.length}\t${f.origLen}\t${f.tsSec}.${String(f.tsNsec).padStart(9, '0')}`);
    expect(ref.map((l) => l.split('\t').slice(0, 2))).toEqual(mine.map((l) => l.split('\t').slice(0, 2)));
    expect([ref[0], ref[1], ref[3]].map((l) => l.split('\t')[2])).toEqual([mine[0], mine[1], mine[3]].map((l) => l.split('\t')[2]));
  });
});
