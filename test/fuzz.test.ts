// Mutation fuzzing of the DNS decoder with real messages as seeds (deterministic PRNG).
// Every input must end decoded or with a reason, never an exception; a message must decode the
// same wherever it sits in a buffer (nothing read outside [start, end)) and with the compression
// cache off; and the first question name must agree with dns-packet's name decoder, which
// applies the same pointer rules.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeDnsInto } from '../src/decode/dns.js';
import { useNameCache } from '../src/decode/names.js';
import { decodeFrame, finishDecode, type DecodeContext } from '../src/decode/packet.js';
import { newEvent, type DnsEvent } from '../src/event.js';
import type { Frame } from '../src/frame.js';
import { Stats } from '../src/stats.js';
import { dnsPayloads, PCAP_DIR, readPcap } from './dnsPayloads.js';
import { rng as prng } from './synthetic.js';

const require = createRequire(import.meta.url);
const dnsPacket = require('dns-packet') as { name: { decode(b: Buffer, offset: number): string } };

const SEED_FILES = [
  'dnscap__dns.pcap',
  'arkime__dns-wiresharkrepo.pcap',
  'zeek__dns-https.pcap',
  'zeek__naptr.pcap',
  'tcpdump__edns-opts.pcap',
  'elastic-examples__dns-tunnel-iodine.pcap',
  'dnscap__sll2.pcap',
  'dnsjit__pellets.pcap',
  'pktvisor__dns_udp_tcp_random.pcap',
];

let seeds: Buffer[] = [];

beforeAll(async () => {
  for (const f of SEED_FILES) {
    const p = await dnsPayloads(join(PCAP_DIR, f));
    // keep the big capture from dominating: every 10th of its messages
    seeds.push(...p.filter((_, i) => !f.startsWith('pktvisor') || i % 10 === 0).map((x) => x.data));
  }
  seeds = seeds.filter((s) => s.length >= 12);
});

function mutate(src: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(src);
  const n = 1 + Math.floor(rnd() * 4);
  let out = b;
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * out.length);
    switch (Math.floor(rnd() * 6)) {
      case 0: // bit flip
        out[at] ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // byte overwrite
        out[at] = Math.floor(rnd() * 256);
        break;
      case 2: // a compression pointer anywhere, often near the message start
        if (at + 1 < out.length) {
          out[at] = 0xc0 | Math.floor(rnd() * (rnd() < 0.8 ? 1 : 64));
          out[at + 1] = Math.floor(rnd() * 256);
        }
        break;
      case 3: // a section count in the header
        out[4 + Math.floor(rnd() * 8)] = rnd() < 0.5 ? Math.floor(rnd() * 4) : Math.floor(rnd() * 256);
        break;
      case 4: // truncation
        out = out.subarray(0, Math.floor(rnd() * out.length));
        break;
      case 5: // a label length byte
        out[at] = rnd() < 0.5 ? Math.floor(rnd() * 64) : 0x40 | Math.floor(rnd() * 0x80);
        break;
    }
    if (out.length === 0) break;
  }
  return out;
}

function snapshot(ev: DnsEvent): string {
  return JSON.stringify(ev);
}

interface Outcome {
  decoded: number;
  malformed: number;
  thrown: number;
  reasons: Map<string, number>;
  elsewhereMismatch: number;
  nameChecks: number;
}

function run(inputs: Iterable<Buffer>, rnd: () => number): Outcome {
  const o: Outcome = { decoded: 0, malformed: 0, thrown: 0, reasons: new Map(), elsewhereMismatch: 0, nameChecks: 0 };
  const ev = newEvent();
  const ev2 = newEvent();
  for (const m of inputs) {
    let err: string | null;
    try {
      err = decodeDnsInto(ev, m, 0, m.length);
    } catch {
      o.thrown++;
      continue;
    }
    if (err === null) o.decoded++;
    else {
      o.malformed++;
      o.reasons.set(err, (o.reasons.get(err) ?? 0) + 1);
    }
    // the same message between random bytes, and without the name cache, must decode identically
    const pre = Math.floor(rnd() * 8);
    const post = Math.floor(rnd() * 8);
    const big = Buffer.alloc(pre + m.length + post);
    for (let i = 0; i < big.length; i++) big[i] = Math.floor(rnd() * 256);
    m.copy(big, pre);
    let err2: string | null = null;
    useNameCache(false);
    try {
      err2 = decodeDnsInto(ev2, big, pre, pre + m.length);
    } catch {
      o.thrown++;
    } finally {
      useNameCache(true);
    }
    if (err2 !== err || (err === null && snapshot(ev) !== snapshot(ev2))) o.elsewhereMismatch++;
    // first question name vs dns-packet's name decoder
    if (m.length > 12 && ((m[4] << 8) | m[5]) > 0) {
      let ref: string | null = null;
      try {
        ref = dnsPacket.name.decode(m, 12);
      } catch {
        ref = null;
      }
      if (err === null) {
        expect(ref, `dns-packet rejects a qname we accepted: ${m.toString('hex')}`).not.toBeNull();
        if (/^[\x21-\x7e]+$/.test(ref!)) {
          // dns-packet shows label bytes unescaped: undo our '\\.' and '\\\\'
          const ours = ev.qname.replace(/\\([.\\])/g, '$1');
          expect(ours, m.toString('hex')).toBe(ref!.replace(/[A-Z]/g, (c) => c.toLowerCase()));
          o.nameChecks++;
        }
      } else if (ref === null) {
        expect(err, m.toString('hex')).toMatch(/^dns:/);
      }
    }
  }
  return o;
}

describe('DNS decoder fuzzing', () => {
  it('truncation at every length of a few real messages', () => {
    const picks = [seeds[1], seeds.find((s) => s.length > 200)!, seeds.find((s) => ((s[10] << 8) | s[11]) > 0)!];
    const inputs: Buffer[] = [];
    for (const s of picks) for (let n = 0; n <= s.length; n++) inputs.push(s.subarray(0, n));
    const o = run(inputs, prng(7));
    expect(o.thrown).toBe(0);
    expect(o.decoded + o.malformed).toBe(inputs.length);
    expect(o.elsewhereMismatch).toBe(0);
    // only the whole message decodes: every shorter cut loses part of a counted record
    expect(o.decoded).toBe(picks.length);
    expect(o.reasons.get('dns:short-header')).toBe(12 * picks.length);
  });

  it('200,000 mutated messages: decoded or a reason, never an exception', () => {
    const rnd = prng(0x5eed);
    const N = 200_000;
    function* inputs(): Generator<Buffer> {
      for (let i = 0; i < N; i++) {
        if (i % 50 === 0) {
          // pure noise, sometimes with a plausible header
          const len = Math.floor(rnd() * 300);
          const b = Buffer.alloc(len);
          for (let k = 0; k < len; k++) b[k] = Math.floor(rnd() * 256);
          if (len >= 12 && rnd() < 0.5) b.writeUInt32BE(0x00010001, 4);
          yield b;
        } else yield mutate(seeds[Math.floor(rnd() * seeds.length)], rnd);
      }
    }
    const o = run(inputs(), rnd);
    expect(o.thrown).toBe(0);
    expect(o.decoded + o.malformed).toBe(N);
    expect(o.elsewhereMismatch).toBe(0);
    expect(o.decoded).toBeGreaterThan(N / 10);
    expect(o.malformed).toBeGreaterThan(N / 10);
    expect(o.nameChecks).toBeGreaterThan(N / 10);
    for (const reason of o.reasons.keys()) expect(reason).toMatch(/^dns:[a-z-]+$/);
    for (const r of ['dns:pointer-loop', 'dns:forward-pointer', 'dns:bad-label', 'dns:truncated-rr', 'dns:truncated-name']) {
      expect(o.reasons.get(r) ?? 0, r).toBeGreaterThan(0);
    }
    console.log(`fuzz: ${o.decoded} decoded, ${o.malformed} malformed`, Object.fromEntries(o.reasons));
  });
});

// Whole frames through src/decode/packet.ts: mutated link, IP and UDP headers as well as DNS.
describe('frame fuzzing through decodeFrame', () => {
  const FRAME_FILES = ['dnscap__dns.pcap', 'dnscap__vlan11.pcap', 'dnscap__sll2.pcap', 'dnsjit__pellets.pcap', 'zeek__naptr.pcap', 'dnscap__frags.pcap', 'tcpdump__edns-opts.pcap'];

  it('100,000 mutated frames: every frame lands in exactly one stats bucket', async () => {
    const seedFrames: { linkType: number; data: Buffer }[] = [];
    for (const f of FRAME_FILES) {
      const { linkType, frames } = await readPcap(join(PCAP_DIR, f));
      for (const data of frames) seedFrames.push({ linkType, data });
    }
    const rnd = prng(0xf4a3e);
    const stats = new Stats();
    const ctx: DecodeContext = { stats, ports: new Set([53]), server: 'fuzz', inputKind: 'pcap', inputName: 'fuzz' };
    const out: DnsEvent[] = [];
    const N = 100_000;
    let thrown = 0;
    for (let i = 0; i < N; i++) {
      const seed = seedFrames[Math.floor(rnd() * seedFrames.length)];
      const data = Buffer.from(seed.data);
      const n = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < n && data.length > 0; k++) {
        // mostly the first 64 bytes: link, IP and UDP headers
        const at = rnd() < 0.7 ? Math.floor(rnd() * Math.min(64, data.length)) : Math.floor(rnd() * data.length);
        if (rnd() < 0.5) data[at] ^= 1 << Math.floor(rnd() * 8);
        else data[at] = Math.floor(rnd() * 256);
      }
      const len = rnd() < 0.1 ? Math.floor(rnd() * data.length) : data.length;
      const frame: Frame = { tsSec: i, tsNsec: 0, linkType: seed.linkType, data: data.subarray(0, len), origLen: data.length };
      stats.packets++; // the reader counts frames; decodeFrame puts each in one bucket
      try {
        decodeFrame(frame, ctx, out);
      } catch {
        thrown++;
      }
      if (out.length > 1000) out.length = 0;
    }
    expect(thrown).toBe(0);
    expect(stats.packets).toBe(N);
    finishDecode(ctx, out); // what fragments and TCP streams still hold is counted as dropped
    expect(stats.balanced()).toBe(true); // every frame, rebuilt datagram and TCP message in one bucket
    expect(stats.malformedBy.get('dns:decoder-error') ?? 0).toBe(0);
    expect(stats.dnsMessages).toBeGreaterThan(N / 10);
    console.log('frame fuzz:', { dns: stats.dnsMessages, notDns: stats.notDns, malformed: stats.malformed, unsupported: stats.unsupportedTotal });
  });
});
