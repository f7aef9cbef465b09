// The hot-path shortcuts must not change results: the address text caches (direct-mapped, so
// colliding addresses evict each other), the answers scratch array in decodeDnsInto, and the
// reader's chunk headroom (records cut by a chunk boundary, small and larger than the headroom).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeDnsInto } from '../src/decode/dns.js';
import { ipv4Text, ipv6Text, ipv6TextCached } from '../src/addr.js';
import { newEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { Stats } from '../src/stats.js';

const require = createRequire(import.meta.url);
const dnsPacket = require('dns-packet') as { encode(p: unknown): Buffer };

// Small deterministic generator (mulberry32), so a failure can be replayed.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('address text caches', () => {
  it('IPv4: 20,000 addresses read three times in shuffled orders give the dotted quad every time', () => {
    const r = rng(1);
    const addrs = Array.from({ length: 20000 }, () => Uint8Array.from({ length: 4 }, () => Math.floor(r() * 256)));
    addrs.push(new Uint8Array(4)); // 0.0.0.0: the cache's empty key
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < addrs.length; i++) {
        const a = addrs[(i * (round * 2 + 1) * 7919) % addrs.length];
        expect(ipv4Text(a, 0)).toBe(Array.from(a).join('.'));
      }
    }
  });

  it('IPv6: 20,000 addresses (random, sparse, mapped) read twice give the uncached text', () => {
    const r = rng(2);
    const addrs: Uint8Array[] = [];
    for (let i = 0; i < 20000; i++) {
      const a = new Uint8Array(16);
      const kind = i % 4;
      // random; few non-zero groups (exercises '::'); IPv4-mapped; differs only in the last byte
      if (kind === 0) for (let k = 0; k < 16; k++) a[k] = Math.floor(r() * 256);
      else if (kind === 1) for (let k = 0; k < 3; k++) a[Math.floor(r() * 16)] = Math.floor(r() * 256);
      else if (kind === 2) a.set([0xff, 0xff, Math.floor(r() * 256), 1, 2, Math.floor(r() * 256)], 10);
      else a.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i & 255]);
      addrs.push(a);
    }
    addrs.push(new Uint8Array(16));
    const want = addrs.map((a) => ipv6Text(a, 0));
    // The uncached text against an independent oracle: the WHATWG URL parser's IPv6 serializer
    // (lower case, no leading zeros, the first longest run of two or more zero groups as "::",
    // as RFC 5952 has it); for IPv4-mapped addresses RFC 5952 §5's dotted quad in the last 32 bits.
    for (let i = 0; i < addrs.length; i++) {
      const a = addrs[i];
      const full = Array.from({ length: 8 }, (_, g) => ((a[2 * g] << 8) | a[2 * g + 1]).toString(16)).join(':');
      let oracle = new URL(`http://[${full}]/`).hostname.slice(1, -1);
      const mapped = a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff;
      if (mapped) oracle = `::ffff:${Array.from(a.subarray(12)).join('.')}`;
      expect(want[i], full).toBe(oracle);
    }
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < addrs.length; i++) {
        const j = round === 0 ? i : addrs.length - 1 - i;
        const got = ipv6TextCached(addrs[j], 0);
        expect(got).toBe(want[j]);
        expect(isIP(got)).toBe(6);
      }
    }
  });
});

describe('answers of consecutive messages', () => {
  const answer = (i: number) => ({ type: 'A', name: 'example.com', ttl: 60 + i, data: `192.0.2.${i}` });
  const message = (id: number, n: number) =>
    dnsPacket.encode({ type: 'response', id, flags: 0x8180, questions: [{ type: 'A', name: 'example.com' }], answers: Array.from({ length: n }, (_, i) => answer(i)) });

  it('each event owns its own answers array, of exactly its answer count', () => {
    const sizes = [2, 3, 1, 0, 100, 2];
    const events = sizes.map((n, id) => {
      const ev = newEvent();
      const m = message(id, n);
      expect(decodeDnsInto(ev, m, 0, m.length)).toBeNull();
      return ev;
    });
    events.forEach((ev, k) => {
      expect(ev.answers.map((a) => [a.ttl, a.data])).toEqual(Array.from({ length: sizes[k] }, (_, i) => [60 + i, `192.0.2.${i}`]));
    });
    expect(new Set(events.map((e) => e.answers)).size).toBe(events.length);
  });

  it('a message cut inside its third answer keeps the two read before the error', () => {
    const m = message(7, 3);
    const ev = newEvent();
    expect(decodeDnsInto(ev, m, 0, m.length - 2)).toBe('dns:truncated-rr');
    expect(ev.answers.map((a) => a.data)).toEqual(['192.0.2.0', '192.0.2.1']);
  });
});

describe('records cut by the reader\'s chunk boundaries', () => {
  it('a 6 MB pcap of 100 B to 250 KB records reads back byte for byte', async () => {
    const r = rng(3);
    const sizes: number[] = [];
    // Mostly small records, with large ones (some over the 64 KiB headroom) sprinkled in.
    for (let total = 0; total < 6 << 20; ) {
      const x = r();
      const n = x < 0.9 ? 60 + Math.floor(r() * 1400) : x < 0.97 ? 65536 + Math.floor(r() * 30000) : 200000 + Math.floor(r() * 50000);
      sizes.push(n);
      total += 16 + n;
    }
    const parts: Buffer[] = [];
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0);
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeUInt32LE(262144, 16);
    head.writeUInt32LE(1, 20);
    parts.push(head);
    sizes.forEach((n, i) => {
      const rec = Buffer.alloc(16 + n);
      rec.writeUInt32LE(1700000000 + i, 0);
      rec.writeUInt32LE(i % 1000000, 4);
      rec.writeUInt32LE(n, 8);
      rec.writeUInt32LE(n, 12);
      for (let k = 0; k < n; k++) rec[16 + k] = (i * 31 + k) & 255;
      parts.push(rec);
    });
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-hot-'));
    try {
      const path = join(dir, 'big.pcap');
      writeFileSync(path, Buffer.concat(parts));
      const stats = new Stats();
      let i = 0;
      let bad = 0;
      for await (const batch of readCapture(path, stats)) {
        for (const f of batch) {
          const n = sizes[i];
          if (f.data.length !== n || f.tsSec !== 1700000000 + i || f.tsNsec !== (i % 1000000) * 1000) bad++;
          else for (let k = 0; k < n; k += 97) if (f.data[k] !== ((i * 31 + k) & 255)) bad++;
          if (f.data[n - 1] !== ((i * 31 + n - 1) & 255)) bad++;
          i++;
        }
      }
      expect({ frames: i, bad, damage: stats.damage }).toEqual({ frames: sizes.length, bad: 0, damage: null });
      expect(sizes.filter((n) => n > 65536).length).toBeGreaterThan(5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
