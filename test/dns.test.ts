// The DNS message decoder against dns-packet (field by field on real captures), tshark
// (HTTPS SvcParams, 8-bit iodine names), dig (rdata text of ~50 record types served by unbound
// on loopback) and hand-built edge cases.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDnsInto } from '../src/decode/dns.js';
import { newEvent, type DnsEvent } from '../src/event.js';
import { dnsPayloads, PCAP_DIR, type Payload } from './dnsPayloads.js';
import { describeWithPeers, which } from './peers.js';
import { unboundServer } from './resolvers.js';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any */
const dnsPacket = require('dns-packet') as { decode(b: Buffer): any; encode(p: any): Buffer };
const dpTypes = require('dns-packet/types.js') as { toType(s: string): number; toString(n: number): string };
const dpClasses = require('dns-packet/classes.js') as { toClass(s: string): number };

// ---- reference presentation, written from the RFCs independently of src/ ----------------------

/** Type mnemonic from dns-packet's table, dig style for unknown ones. */
function mnemonic(t: string | number): string {
  const s = typeof t === 'number' ? dpTypes.toString(t) : t;
  return s.startsWith('UNKNOWN_') ? `TYPE${s.slice(8)}` : s;
}

/** A dns-packet name (labels joined by '.') in dnslens form, or null if it is not plain ASCII. */
function plainName(s: string): string | null {
  if (!/^[\x21-\x7e]+$/.test(s)) return null;
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function nm(s: string): string {
  const n = plainName(s);
  if (n === null) throw new Error(`name not comparable: ${JSON.stringify(s)}`);
  return n;
}

/** An uncompressed wire name (hex, as tshark's *_raw fields give it) in dnslens form; null if compressed. */
function presentWire(hexName: string): string | null {
  const b = Buffer.from(hexName, 'hex');
  const labels: string[] = [];
  let p = 0;
  while (p < b.length && b[p] !== 0) {
    if (b[p] >= 0x40) return null;
    let l = '';
    for (const c of b.subarray(p + 1, p + 1 + b[p])) {
      if (c >= 0x41 && c <= 0x5a) l += String.fromCharCode(c + 32);
      else if (c === 0x2e || c === 0x5c) l += '\\' + String.fromCharCode(c);
      else if (c >= 0x21 && c <= 0x7e) l += String.fromCharCode(c);
      else l += '\\' + String(c).padStart(3, '0');
    }
    labels.push(l);
    p += 1 + b[p];
  }
  return labels.length === 0 ? '.' : labels.join('.');
}

function quote(b: Buffer): string {
  let r = '"';
  for (const c of b) {
    if (c === 0x22 || c === 0x5c) r += '\\' + String.fromCharCode(c);
    else if (c >= 0x20 && c <= 0x7e) r += String.fromCharCode(c);
    else r += '\\' + String(c).padStart(3, '0');
  }
  return r + '"';
}

function canon6(s: string): string {
  return new net.SocketAddress({ address: s, family: 'ipv6' }).address;
}

function hex(b: Buffer): string {
  return b.toString('hex').toUpperCase();
}

function base32hex(b: Buffer): string {
  const bits = [...b].map((x) => x.toString(2).padStart(8, '0')).join('');
  let r = '';
  for (let i = 0; i < bits.length; i += 5) r += '0123456789ABCDEFGHIJKLMNOPQRSTUV'[parseInt(bits.slice(i, i + 5).padEnd(5, '0'), 2)];
  return r;
}

function sigTime(t: number): string {
  const d = new Date(t * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** dig-style text of a dns-packet answer, or null for types dns-packet does not decode. */
function refRdata(a: any): string | null {
  const d = a.data;
  switch (a.type) {
    case 'A':
      return d;
    case 'AAAA':
      return canon6(d);
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'DNAME':
      return nm(d);
    case 'MX':
      return `${d.preference} ${nm(d.exchange)}`;
    case 'TXT':
      return d.map((x: Buffer) => quote(x)).join(' ');
    case 'SOA':
      return `${nm(d.mname)} ${nm(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${nm(d.target)}`;
    case 'HINFO':
      return `${quote(Buffer.from(d.cpu))} ${quote(Buffer.from(d.os))}`;
    case 'CAA':
      return `${d.flags} ${d.tag} ${quote(Buffer.from(d.value))}`;
    case 'NAPTR':
      return `${d.order} ${d.preference} ${[d.flags, d.services, d.regexp].map((s: string) => quote(Buffer.from(s))).join(' ')} ${nm(d.replacement)}`;
    case 'DS':
      return `${d.keyTag} ${d.algorithm} ${d.digestType} ${hex(d.digest)}`;
    case 'DNSKEY':
      return `${d.flags} 3 ${d.algorithm} ${d.key.toString('base64')}`;
    case 'RRSIG':
      return `${mnemonic(d.typeCovered)} ${d.algorithm} ${d.labels} ${d.originalTTL} ${sigTime(d.expiration)} ${sigTime(d.inception)} ${d.keyTag} ${nm(d.signersName)} ${d.signature.toString('base64')}`;
    case 'NSEC':
      return [nm(d.nextDomain), ...d.rrtypes.map(mnemonic)].join(' ');
    case 'NSEC3':
      return [d.algorithm, d.flags, d.iterations, d.salt.length ? hex(d.salt) : '-', base32hex(d.nextDomain), ...d.rrtypes.map(mnemonic)].join(' ');
    case 'SSHFP':
      return `${d.algorithm} ${d.hash} ${d.fingerprint}`;
    case 'TLSA':
      return `${d.usage} ${d.selector} ${d.matchingType} ${hex(d.certificate)}`;
    case 'RP':
      return `${nm(d.mbox)} ${nm(d.txt)}`;
  }
  if (!Buffer.isBuffer(d)) return null;
  // NULL and types dns-packet leaves as bytes: RFC 3597 unless dnslens renders the type itself
  const t = dpTypes.toType(a.type);
  if (t !== 10 && RENDERED_BY_US.has(t)) return null;
  return d.length === 0 ? '\\# 0' : `\\# ${d.length} ${hex(d)}`;
}

// Types dnslens renders that dns-packet returns as raw bytes; the dig suite covers their text.
const RENDERED_BY_US = new Set([3, 4, 7, 8, 9, 14, 18, 21, 24, 25, 29, 36, 49, 51, 53, 59, 60, 61, 64, 65, 99, 108, 109, 256, 32768, 32769]);

// ---- field-by-field comparison ------------------------------------------------------------------

interface Tally {
  messages: number;
  answers: number;
  rdataCompared: number;
  namesNotAscii: number; // names dns-packet cannot show faithfully (checked against tshark instead)
  dotInLabel: number;
  ecs: number;
  edns: number;
}

function newTally(): Tally {
  return { messages: 0, answers: 0, rdataCompared: 0, namesNotAscii: 0, dotInLabel: 0, ecs: 0, edns: 0 };
}

function compareName(ours: string, theirs: string, t: Tally, where: string): void {
  const n = plainName(theirs);
  if (n === null) t.namesNotAscii++;
  // dns-packet joins labels with '.', so a '.' inside a label (escaped "\." by us) looks the same
  else if (ours.includes('\\.')) {
    expect(ours.replace(/\\\./g, '.'), where).toBe(n);
    t.dotInLabel++;
  } else expect(ours, where).toBe(n);
}

function expectSameAsDnsPacket(ev: DnsEvent, data: Buffer, t: Tally, where: string): void {
  const ref = dnsPacket.decode(data);
  expect(ev.id, where).toBe(ref.id);
  expect(ev.qr, where).toBe(ref.type === 'response');
  expect(ev.opcode, where).toBe((ref.flags >> 11) & 15);
  expect([ev.aa, ev.tc, ev.rd, ev.ra, ev.ad, ev.cd], where).toEqual([ref.flag_aa, ref.flag_tc, ref.flag_rd, ref.flag_ra, ref.flag_ad, ref.flag_cd]);
  expect([ev.qdCount, ev.anCount, ev.nsCount, ev.arCount], where).toEqual([
    ref.questions.length,
    ref.answers.length,
    ref.authorities.length,
    ref.additionals.length,
  ]);
  expect(ev.size).toBe(data.length);
  if (ref.questions.length === 0) {
    expect([ev.qname, ev.qtype, ev.qclass], where).toEqual(['', 0, 0]);
  } else {
    const q = ref.questions[0];
    compareName(ev.qname, q.name, t, where);
    expect(ev.qtype, where).toBe(dpTypes.toType(q.type));
    expect(ev.qclass, where).toBe(dpClasses.toClass(q.class));
  }
  const opt = ref.additionals.find((a: any) => a.type === 'OPT');
  expect(ev.ednsPresent, where).toBe(opt !== undefined);
  expect(ev.rcode, where).toBe(((opt?.extendedRcode ?? 0) << 4) | (ref.flags & 15));
  expect(ev.ednsUdpSize, where).toBe(opt?.udpPayloadSize ?? 0);
  expect(ev.ednsDo, where).toBe(opt?.flag_do ?? false);
  const ecs = opt?.options?.find((o: any) => o.code === 8);
  const ecsText = ecs ? `${ecs.family === 2 ? canon6(ecs.ip) : ecs.ip}/${ecs.sourcePrefixLength}` : '';
  expect(ev.ednsClientSubnet, where).toBe(ecsText);
  if (opt) t.edns++;
  if (ecs) t.ecs++;
  expect(ev.answers.length, where).toBe(ref.answers.length);
  ref.answers.forEach((a: any, i: number) => {
    const ours = ev.answers[i];
    const w = `${where} answer ${i}`;
    compareName(ours.name, a.name, t, w);
    expect(ours.type, w).toBe(dpTypes.toType(a.type));
    if (a.type === 'OPT') return;
    expect(ours.class & 0x7fff, w).toBe(dpClasses.toClass(a.class));
    expect((ours.class & 0x8000) !== 0, w).toBe(a.flush);
    expect(ours.ttl, w).toBe(a.ttl);
    let text: string | null = null;
    try {
      text = refRdata(a);
    } catch {
      t.namesNotAscii++; // an rdata name with 8-bit bytes
    }
    if (text !== null) {
      expect(ours.data, w).toBe(text);
      t.rdataCompared++;
    }
    t.answers++;
  });
  t.messages++;
}

function decode(data: Uint8Array, start = 0, end = data.length): { ev: DnsEvent; err: string | null } {
  const ev = newEvent();
  const err = decodeDnsInto(ev, data, start, end);
  return { ev, err };
}

// UDP DNS message counts per capture, from shared/data/PROVENANCE.md (tshark).
const CAPTURES: Record<string, number> = {
  'dnscap__dns.pcap': 82,
  'dnscap__vlan11.pcap': 82,
  'dnscap__sll2.pcap': 2,
  'dnsjit__pellets.pcap': 91,
  'tcpdump__edns-opts.pcap': 42,
  'arkime__dns-wiresharkrepo.pcap': 38,
  'zeek__dns-https.pcap': 2,
  'zeek__naptr.pcap': 2,
  'elastic-examples__dns-tunnel-iodine.pcap': 434,
  'pktvisor__dns_udp_tcp_random.pcap': 2971,
};

const payloads = new Map<string, Payload[]>();

beforeAll(async () => {
  for (const f of [...Object.keys(CAPTURES), 'tcpdump__dns-badlabel.pcap']) payloads.set(f, await dnsPayloads(join(PCAP_DIR, f)));
});

describe('decodeDnsInto on real captures, compared with dns-packet', () => {
  for (const [file, count] of Object.entries(CAPTURES)) {
    it(`${file}: every message matches field by field`, () => {
      const msgs = payloads.get(file)!;
      expect(msgs.length).toBe(count);
      const t = newTally();
      for (const m of msgs) {
        const { ev, err } = decode(m.data);
        expect(err, `${file} frame ${m.frame}`).toBeNull();
        expectSameAsDnsPacket(ev, m.data, t, `${file} frame ${m.frame}`);
      }
      expect(t.messages).toBe(count);
      if (file.includes('iodine')) expect(t.namesNotAscii).toBeGreaterThan(0);
      else expect(t.namesNotAscii).toBe(0);
      if (file === 'tcpdump__edns-opts.pcap') {
        expect(t.edns).toBe(40); // PROVENANCE: EDNS(OPT) frames 40
        expect(t.ecs).toBeGreaterThan(0);
      }
      if (file === 'zeek__naptr.pcap') {
        const naptr = msgs.map((m) => decode(m.data).ev).find((e) => e.answers.length > 0)!;
        expect(naptr.answers[0].type).toBe(35);
        expect(t.rdataCompared).toBeGreaterThan(0);
      }
    });
  }

  it('the ECS option of tcpdump__edns-opts.pcap reads as addr/prefix', () => {
    const subnets = payloads
      .get('tcpdump__edns-opts.pcap')!
      .map((m) => decode(m.data).ev.ednsClientSubnet)
      .filter((s) => s !== '');
    expect(subnets.length).toBeGreaterThan(0);
    for (const s of subnets) expect(s).toMatch(/^[0-9a-f.:]+\/\d+$/);
  });

  it('tcpdump__dns-badlabel.pcap gives a reason and does not throw', () => {
    const msgs = payloads.get('tcpdump__dns-badlabel.pcap')!;
    expect(msgs.length).toBe(1);
    const { ev, err } = decode(msgs[0].data);
    expect(err).toMatch(/^dns:/);
    expect(ev.tc).toBe(true); // header fields are still read: tshark reports TC=1, rcode 15
    expect(ev.rcode & 15).toBe(15);
  });
});

describeWithPeers('decodeDnsInto compared with tshark', ['tshark'], () => {
  function tshark(file: string, args: string[]): string {
    return execFileSync('tshark', ['-r', join(PCAP_DIR, file), ...args], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  }

  it('HTTPS rdata of zeek__dns-https.pcap equals the SvcParams tshark prints', () => {
    const text = tshark('zeek__dns-https.pcap', ['-Y', 'dns.flags.response==1', '-V']);
    const field = (k: string) => [...text.matchAll(new RegExp(`^\\s+${k}: (.*)$`, 'gm'))].map((m) => m[1]);
    const target = field('TargetName')[0] === '<Root>' ? '.' : field('TargetName')[0];
    const expected = [field('SvcPriority')[0], target, ...field('SvcParam')].join(' ');
    expect(expected).toContain('alpn=h3,h3-29,h3-28,h3-27,h2');
    const resp = payloads.get('zeek__dns-https.pcap')!.map((m) => decode(m.data).ev).find((e) => e.qr)!;
    expect(resp.answers.map((a) => [a.type, a.data])).toEqual([[65, expected]]);
  });

  /** Per frame: the hex wire names tshark reports for the questions and for the resource records. */
  function tsharkRawNames(file: string): Map<number, { q: string[]; r: string[] }> {
    const frames = JSON.parse(tshark(file, ['-Y', 'dns', '-T', 'json', '-x', '--no-duplicate-keys'])) as any[];
    const out = new Map<number, { q: string[]; r: string[] }>();
    const walk = (o: any, acc: { q: string[]; r: string[] }): void => {
      if (o === null || typeof o !== 'object') return;
      for (const [k, v] of Object.entries(o)) {
        // with --no-duplicate-keys repeated fields become arrays of [hex, offset, len, ...] tuples
        const hexes = (x: any): string[] => (Array.isArray(x[0]) ? x.map((y: any[]) => y[0]) : [x[0]]);
        if (k === 'dns.qry.name_raw') acc.q.push(...hexes(v));
        else if (k === 'dns.resp.name_raw') acc.r.push(...hexes(v));
        else walk(v, acc);
      }
    };
    for (const f of frames) {
      const acc = { q: [] as string[], r: [] as string[] };
      walk(f._source.layers, acc);
      out.set(Number(f._source.layers.frame['frame.number']), acc);
    }
    return out;
  }

  // Captures with odd names: 8-bit labels (iodine), a label holding '.' (sll2), and a sample of others.
  const RAW_NAME_FILES = ['elastic-examples__dns-tunnel-iodine.pcap', 'dnscap__sll2.pcap', 'dnsjit__pellets.pcap', 'tcpdump__edns-opts.pcap', 'zeek__naptr.pcap', 'arkime__dns-wiresharkrepo.pcap'];
  for (const file of RAW_NAME_FILES) {
    it(`${file}: qnames and answer owners equal the wire names tshark reports, escaped`, () => {
      const raw = tsharkRawNames(file);
      let eightBit = 0;
      let dotted = 0;
      let owners = 0;
      for (const m of payloads.get(file)!) {
        const { ev, err } = decode(m.data);
        expect(err).toBeNull();
        const names = raw.get(m.frame)!;
        expect(presentWire(names.q[0]), `frame ${m.frame}`).toBe(ev.qname);
        if (/\\\d{3}/.test(ev.qname)) eightBit++;
        if (ev.qname.includes('\\.')) dotted++;
        ev.answers.forEach((a, i) => {
          // tshark lists answer owners first; a bare pointer to offset 12 is the question name
          const expected = names.r[i] === 'c00c' ? ev.qname : presentWire(names.r[i]);
          if (expected === null) return;
          expect(a.name, `frame ${m.frame}`).toBe(expected);
          owners++;
        });
      }
      if (file.includes('iodine')) {
        expect(eightBit).toBeGreaterThan(0);
        expect(owners).toBeGreaterThan(0);
      }
      if (file.includes('sll2')) expect(dotted).toBe(2); // the label ",." in both messages
    });
  }

  it('iodine NULL answers are RFC 3597 generic text', () => {
    const nulls = payloads
      .get('elastic-examples__dns-tunnel-iodine.pcap')!
      .flatMap((m) => decode(m.data).ev.answers)
      .filter((a) => a.type === 10);
    expect(nulls.length).toBeGreaterThan(0);
    for (const a of nulls) expect(a.data).toMatch(/^\\# (0|\d+ [0-9A-F]+)$/);
  });
});

// ---- hand-built messages ----------------------------------------------------------------------

function u16(n: number): number[] {
  return [(n >> 8) & 255, n & 255];
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Wire labels for "a.b.c" (no compression); "" gives the root. */
function wireName(s: string): number[] {
  const out: number[] = [];
  for (const l of s === '' ? [] : s.split('.')) out.push(l.length, ...Buffer.from(l, 'latin1'));
  return [...out, 0];
}

function header(id: number, flags: number, qd: number, an: number, ns: number, ar: number): number[] {
  return [...u16(id), ...u16(flags), ...u16(qd), ...u16(an), ...u16(ns), ...u16(ar)];
}

function rr(owner: number[], type: number, cls: number, ttl: number, rdata: number[]): number[] {
  return [...owner, ...u16(type), ...u16(cls), ...u32(ttl), ...u16(rdata.length), ...rdata];
}

function bytes(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

const Q_A = [...u16(1), ...u16(1)]; // qtype A, class IN

describe('decodeDnsInto on hand-built edge cases', () => {
  it('a pointer loop is malformed', () => {
    expect(decode(bytes(header(1, 0, 1, 0, 0, 0), [0xc0, 12], Q_A)).err).toBe('dns:pointer-loop');
    // a label, then a pointer back to that label
    expect(decode(bytes(header(1, 0, 1, 0, 0, 0), [1, 0x61, 0xc0, 12], Q_A)).err).toBe('dns:pointer-loop');
    // two names pointing at each other: the second one loops back into itself through the first
    const m = bytes(header(1, 0x8000, 1, 1, 0, 0), [1, 0x61, 0xc0, 18], Q_A, rr([0xc0, 12], 1, 1, 0, [1, 2, 3, 4]));
    expect(decode(m).err).toMatch(/^dns:(forward-pointer|pointer-loop)$/);
  });

  it('a forward pointer is malformed', () => {
    const m = bytes(header(1, 0, 1, 0, 0, 0), [0xc0, 20], Q_A, wireName('example.com'));
    expect(decode(m).err).toBe('dns:forward-pointer');
  });

  it('names over 255 octets are malformed; exactly 255 is fine', () => {
    const l63 = 'a'.repeat(63);
    const ok = [l63, l63, l63, 'b'.repeat(61)].join('.'); // 4 + 63*3 + 61 + 1 = 255 octets
    const m1 = bytes(header(1, 0, 1, 0, 0, 0), wireName(ok), Q_A);
    const r1 = decode(m1);
    expect(r1.err).toBeNull();
    expect(r1.ev.qname).toBe(ok);
    expect(dnsPacket.decode(Buffer.from(m1)).questions[0].name).toBe(ok);
    const long = [l63, l63, l63, 'b'.repeat(62)].join('.');
    expect(decode(bytes(header(1, 0, 1, 0, 0, 0), wireName(long), Q_A)).err).toBe('dns:name-too-long');
    // too long only through compression: a 200-octet name, then 2 x 30-octet labels + pointer to it
    const n200 = [l63, l63, l63, 'c'.repeat(7)].join('.'); // 4 + 196 + 1 = 201 octets
    const m3 = bytes(header(1, 0x8000, 1, 1, 0, 0), wireName(n200), Q_A, rr([30, ...Buffer.from('d'.repeat(30)), 30, ...Buffer.from('e'.repeat(30)), 0xc0, 12], 1, 1, 0, [1, 2, 3, 4]));
    expect(decode(m3).err).toBe('dns:name-too-long');
  });

  it('bad label types 0x40 and 0x80 are malformed', () => {
    expect(decode(bytes(header(1, 0, 1, 0, 0, 0), [0x41, 0x61, 0], Q_A)).err).toBe('dns:bad-label');
    expect(decode(bytes(header(1, 0, 1, 0, 0, 0), [0x80, 0], Q_A)).err).toBe('dns:bad-label');
  });

  it('the root qname reads "."', () => {
    const { ev, err } = decode(bytes(header(7, 0x0100, 1, 0, 0, 0), [0], u16(2), u16(1)));
    expect(err).toBeNull();
    expect([ev.qname, ev.qtype, ev.qclass, ev.rd]).toEqual(['.', 2, 1, true]);
  });

  it('qdcount 0 gives an empty qname and qtype 0', () => {
    const m = bytes(header(9, 0x8180, 0, 1, 0, 0), rr(wireName('x.org'), 1, 1, 60, [10, 0, 0, 1]));
    const { ev, err } = decode(m);
    expect(err).toBeNull();
    expect([ev.qname, ev.qtype, ev.qclass, ev.qdCount]).toEqual(['', 0, 0, 0]);
    expect(ev.answers).toEqual([{ name: 'x.org', type: 1, class: 1, ttl: 60, data: '10.0.0.1' }]);
  });

  it('qdcount 2 keeps the first question and still walks the second', () => {
    const m = bytes(header(3, 0, 2, 0, 0, 0), wireName('one.example'), Q_A, [3, 0x74, 0x77, 0x6f, 0xc0, 16], u16(28), u16(1));
    const { ev, err } = decode(m);
    expect(err).toBeNull();
    expect([ev.qname, ev.qtype, ev.qdCount]).toEqual(['one.example', 1, 2]);
    // a broken second question still fails the message
    const bad = bytes(header(3, 0, 2, 0, 0, 0), wireName('one.example'), Q_A, [0x80], u16(28), u16(1));
    expect(decode(bad).err).toBe('dns:bad-label');
  });

  it('a record whose rdlength overruns the message is truncated-rr; trailing bytes are fine', () => {
    const good = [...header(5, 0x8180, 1, 1, 0, 0), ...wireName('a.b'), ...Q_A, ...rr([0xc0, 12], 1, 1, 5, [1, 2, 3, 4])];
    expect(decode(Uint8Array.from([...good, 0xde, 0xad])).err).toBeNull();
    expect(decode(Uint8Array.from(good.slice(0, -1))).err).toBe('dns:truncated-rr');
    const counted = Uint8Array.from(good);
    counted[11] = 1; // an additional record that is not there
    expect(decode(counted).err).toMatch(/^dns:truncated-(name|rr)$/);
    expect(decode(Uint8Array.from(good.slice(0, 11))).err).toBe('dns:short-header');
    expect(decode(Uint8Array.from(good.slice(0, 14))).err).toBe('dns:truncated-name');
    expect(decode(Uint8Array.from(good.slice(0, 19))).err).toBe('dns:truncated-question');
  });

  it('OPT: extended rcode, UDP size, DO bit and an IPv6 client subnet', () => {
    const ecs = [...u16(8), ...u16(4 + 6), ...u16(2), 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34];
    const opt = rr([0], 41, 1232, (1 << 24) | 0x8000, ecs); // ext rcode 1, version 0, DO
    const m = bytes(header(11, 0x8000, 1, 0, 0, 1), wireName('q.example'), Q_A, opt);
    const { ev, err } = decode(m);
    expect(err).toBeNull();
    expect([ev.rcode, ev.ednsPresent, ev.ednsUdpSize, ev.ednsDo, ev.ednsClientSubnet]).toEqual([16, true, 1232, true, '2001:db8:1234::/48']);
    const ref = dnsPacket.decode(Buffer.from(m)).additionals[0];
    expect([ref.extendedRcode, ref.udpPayloadSize, ref.flag_do]).toEqual([1, 1232, true]);
    // IPv4 subnet, and the OPT record after another additional record
    const ecs4 = [...u16(8), ...u16(7), ...u16(1), 24, 0, 192, 0, 2];
    const m2 = bytes(header(12, 0x8003, 1, 0, 0, 2), wireName('q.example'), Q_A, rr([0xc0, 12], 1, 1, 1, [1, 1, 1, 1]), rr([0], 41, 4096, 0, ecs4));
    const r2 = decode(m2);
    expect([r2.err, r2.ev.rcode, r2.ev.ednsDo, r2.ev.ednsClientSubnet]).toEqual([null, 3, false, '192.0.2.0/24']);
  });

  it('escapes label bytes RFC 1035 style and lowercases only A-Z', () => {
    const label = [0x41, 0x2e, 0x5c, 0x20, 0x00, 0xff, 0x7e, 0x22, 0xc9]; // A . \ space NUL 0xff ~ " É
    const m = bytes(header(1, 0, 1, 0, 0, 0), [label.length, ...label, 3, 0x43, 0x4f, 0x4d, 0], Q_A);
    const { ev, err } = decode(m);
    expect(err).toBeNull();
    expect(ev.qname).toBe('a\\.\\\\\\032\\000\\255~"\\201.com');
  });

  it('follows compression inside rdata and reuses names across records', () => {
    // www.example.com CNAME web.example.com (compressed), web.example.com A 192.0.2.7
    const q = wireName('www.example.com'); // at offset 12; "example.com" at 16
    const cname = [3, ...Buffer.from('web'), 0xc0, 16]; // at 12 + 17 + 4 + 12 = 45
    const m = bytes(header(2, 0x8180, 1, 2, 0, 0), q, Q_A, rr([0xc0, 12], 5, 1, 300, cname), rr([0xc0, 45], 1, 1, 300, [192, 0, 2, 7]));
    const { ev, err } = decode(m);
    expect(err).toBeNull();
    expect(ev.answers).toEqual([
      { name: 'www.example.com', type: 5, class: 1, ttl: 300, data: 'web.example.com' },
      { name: 'web.example.com', type: 1, class: 1, ttl: 300, data: '192.0.2.7' },
    ]);
  });

  it('rdata that does not fit its type falls back to RFC 3597 text', () => {
    const m = bytes(header(2, 0x8180, 1, 3, 0, 0), wireName('x'), Q_A, rr([0xc0, 12], 1, 1, 1, [1, 2, 3]), rr([0xc0, 12], 5, 1, 1, [0xc0, 60]), rr([0xc0, 12], 16, 1, 1, [5, 0x61]));
    const { ev, err } = decode(m);
    expect(err).toBeNull();
    expect(ev.answers.map((a) => a.data)).toEqual(['\\# 3 010203', '\\# 2 C03C', '\\# 2 0561']);
  });

  it('a name that fails inside rdata leaves nothing behind for later pointers', () => {
    // CNAME rdata "\3www" cut by its rdlength (no terminal), then a root-owned A record whose
    // owner byte ends that name, then an owner pointing at the cut name: it reads "www".
    const m = bytes(header(6, 0x8180, 1, 3, 0, 0), wireName('x'), Q_A, rr([0xc0, 12], 5, 1, 1, [3, 0x77, 0x77, 0x77]), rr([0], 1, 1, 1, [1, 1, 1, 1]), rr([0xc0, 31], 1, 1, 1, [2, 2, 2, 2]));
    const { ev, err } = decode(m);
    expect(err).toBeNull();
    expect(ev.answers.map((a) => [a.name, a.data])).toEqual([
      ['x', '\\# 4 03777777'],
      ['.', '1.1.1.1'],
      ['www', '2.2.2.2'],
    ]);
  });

  it('SVCB with unknown keys, dohpath and ohttp', () => {
    const params = [
      ...u16(3), ...u16(2), ...u16(53),
      ...u16(7), ...u16(5), ...Buffer.from('/q{?}'),
      ...u16(8), ...u16(0),
      ...u16(667), ...u16(3), 0x61, 0x20, 0x62,
      ...u16(1000), ...u16(0),
    ];
    const rdata = [...u16(2), ...wireName('svc.example'), ...params];
    const m = bytes(header(2, 0x8180, 1, 1, 0, 0), wireName('x'), u16(64), u16(1), rr([0xc0, 12], 64, 1, 1, rdata));
    expect(decode(m).ev.answers[0].data).toBe('2 svc.example port=53 dohpath="/q{?}" ohttp key667="a b" key1000');
    // keys out of order are not valid SVCB: generic text
    const swapped = [...u16(1), 0, ...u16(4), ...u16(4), 1, 2, 3, 4, ...u16(3), ...u16(2), ...u16(53)];
    const m2 = bytes(header(2, 0x8180, 1, 1, 0, 0), wireName('x'), u16(64), u16(1), rr([0xc0, 12], 64, 1, 1, swapped));
    expect(decode(m2).ev.answers[0].data).toMatch(/^\\# 17 /);
  });

  it('decodes a message in the middle of a larger buffer, with pointers relative to its start', () => {
    const msg = [...header(4, 0x8180, 1, 1, 0, 0), ...wireName('mid.example'), ...Q_A, ...rr([0xc0, 12], 1, 1, 9, [9, 9, 9, 9])];
    const buf = Uint8Array.from([0xc0, 0x0c, 7, 7, 7, ...msg, 0xc0, 0x00]);
    const { ev, err } = decode(buf, 5, 5 + msg.length);
    expect(err).toBeNull();
    expect([ev.qname, ev.size, ev.answers[0].name, ev.answers[0].data]).toEqual(['mid.example', msg.length, 'mid.example', '9.9.9.9']);
  });

  it('a reused event is reset by the next message', () => {
    const opt = rr([0], 41, 4096, 0x8000, []);
    const first = bytes(header(1, 0x8180, 1, 1, 0, 1), wireName('a.example'), Q_A, rr([0xc0, 12], 1, 1, 1, [1, 1, 1, 1]), opt);
    const second = bytes(header(2, 0, 0, 0, 0, 0));
    const ev = newEvent();
    expect(decodeDnsInto(ev, first, 0, first.length)).toBeNull();
    expect(ev.ednsPresent).toBe(true);
    expect(decodeDnsInto(ev, second, 0, second.length)).toBeNull();
    expect([ev.qname, ev.answers.length, ev.ednsPresent, ev.ednsUdpSize, ev.ednsDo, ev.rcode, ev.size]).toEqual(['', 0, false, 0, false, 0, 12]);
  });

  it('never throws on a bad start/end', () => {
    const m = bytes(header(1, 0, 0, 0, 0, 0));
    expect(decode(m, 0, 100).err).toBe('dns:short-header');
    expect(decode(m, -1, 12).err).toBe('dns:short-header');
  });
});

describe('every record type dns-packet encodes renders like its decode', () => {
  const cases: [string, any][] = [
    ['A', '192.0.2.1'],
    ['AAAA', '2001:db8::8:800:200c:417a'],
    ['AAAA', '::ffff:10.1.2.3'],
    ['NS', 'ns1.Example.net'],
    ['CNAME', 'alias.example.org'],
    ['DNAME', 'example.net'],
    ['PTR', 'host.example.com'],
    ['MX', { preference: 10, exchange: 'mail.example.com' }],
    ['TXT', ['v=spf1 -all', Buffer.from([0x22, 0x5c, 0x00, 0xff, 0x20])]],
    ['SOA', { mname: 'ns.example.net', rname: 'hostmaster.example.net', serial: 4294967295, refresh: 7200, retry: 3600, expire: 1209600, minimum: 300 }],
    ['SRV', { priority: 10, weight: 60, port: 5060, target: 'sip.example.com' }],
    ['HINFO', { cpu: 'INTEL-386', os: 'Linux 2' }],
    ['CAA', { flags: 128, tag: 'issue', value: 'ca.example.net; account=1' }],
    ['NAPTR', { order: 100, preference: 10, flags: 'S', services: 'SIP+D2U', regexp: '', replacement: '_sip._udp.example.com' }],
    ['DS', { keyTag: 60485, algorithm: 5, digestType: 1, digest: Buffer.from('2BB183AF5F22588179A53B0A98631FAD1A292118', 'hex') }],
    ['DNSKEY', { flags: 257, algorithm: 13, key: Buffer.from('mdsswUyr3DPW132mOi8V9xESWE8jTo0d', 'base64') }],
    ['RRSIG', { typeCovered: 'AAAA', algorithm: 8, labels: 2, originalTTL: 3600, expiration: 1893456000, inception: 1577836800, keyTag: 12345, signersName: 'example.com', signature: Buffer.from([1, 2, 3, 4, 5]) }],
    ['NSEC', { nextDomain: 'b.example.com', rrtypes: ['A', 'MX', 'RRSIG', 'NSEC', 'CAA'] }],
    ['NSEC3', { algorithm: 1, flags: 1, iterations: 12, salt: Buffer.from('aabbccdd', 'hex'), nextDomain: Buffer.from('1f2e3d4c5b6a79881f2e3d4c5b6a798811223344', 'hex'), rrtypes: ['A', 'RRSIG'] }],
    ['NSEC3', { algorithm: 1, flags: 0, iterations: 0, salt: Buffer.alloc(0), nextDomain: Buffer.from('00ff00ff00', 'hex'), rrtypes: [] }],
    ['SSHFP', { algorithm: 4, hash: 2, fingerprint: '123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789' }],
    ['TLSA', { usage: 3, selector: 1, matchingType: 1, certificate: Buffer.from('0c72ac70b745ac19998811b131d662c9', 'hex') }],
    ['RP', { mbox: 'admin.example.com', txt: 'info.example.com' }],
    ['NULL', Buffer.from([0, 1, 2, 0xfe])],
    ['NULL', Buffer.alloc(0)],
    ['UNKNOWN_65280', Buffer.from([10, 0, 0, 1])],
  ];
  for (const [type, data] of cases) {
    it(`${type} ${JSON.stringify(data).slice(0, 60)}`, () => {
      const wire = dnsPacket.encode({
        type: 'response',
        id: 42,
        flags: 0x0180,
        questions: [{ type, name: 'owner.example', class: 'IN' }],
        answers: [{ type, name: 'owner.example', ttl: 1234, class: 'IN', data }],
      });
      const { ev, err } = decode(wire);
      expect(err).toBeNull();
      const t = newTally();
      expectSameAsDnsPacket(ev, wire, t, type);
      expect(t.rdataCompared).toBe(1);
    });
  }
});

// ---- dig, on records served by unbound on loopback --------------------------------------------

// Zone data in master-file form; dig prints each back, and we decode the same answer's wire bytes.
const ZONE = String.raw`a.test. 300 IN A 192.0.2.1
aaaa1.test. 300 IN AAAA 2001:db8::1
aaaa2.test. 300 IN AAAA 2001:db8:0:0:1:0:0:1
aaaa3.test. 300 IN AAAA 1:0:0:2:0:0:0:3
aaaa4.test. 300 IN AAAA ::ffff:1.2.3.4
aaaa5.test. 300 IN AAAA ::1
aaaa6.test. 300 IN AAAA 2001:db8:1:2:3:4:5:6
aaaa7.test. 300 IN AAAA ::1.2.3.4
aaaa8.test. 300 IN AAAA fe80::
aaaa9.test. 300 IN AAAA 2001:0:0:1::
aaaa10.test. 300 IN AAAA ::
ns.test. 300 IN NS ns1.example.net.
cname.test. 300 IN CNAME target.example.org.
soa.test. 300 IN SOA ns.example.net. host\.master.example.net. 2024010101 7200 3600 1209600 300
ptr.test. 300 IN PTR host.example.com.
hinfo.test. 300 IN HINFO "INTEL-386" "Linux 2"
mx.test. 300 IN MX 10 mail.example.com.
mx0.test. 300 IN MX 0 .
txt.test. 300 IN TXT "hello world" "a\"b\\c" "\000\255;x" ""
rp.test. 300 IN RP admin.example.com. info.example.com.
afsdb.test. 300 IN AFSDB 1 afs.example.com.
loc1.test. 300 IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
loc2.test. 300 IN LOC 42 21 54.5 S 71 06 18.3 W 24.12m 30m 2m 3.5m
loc3.test. 300 IN LOC 0 0 0 N 0 0 0 E 0m 1m 1m 1m
loc4.test. 300 IN LOC 90 0 0 S 180 0 0 W -100000m 90000000m 0.5m 90000000m
srv.test. 300 IN SRV 10 60 5060 sip.example.com.
naptr.test. 300 IN NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp.example.com.
naptr2.test. 300 IN NAPTR 10 100 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .
dname.test. 300 IN DNAME example.net.
ds.test. 300 IN DS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
sshfp.test. 300 IN SSHFP 4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789
rrsig.test. 300 IN RRSIG A 8 2 3600 20300101000000 20200101000000 12345 test. AAECAwQFBgcICQ==
nsec.test. 300 IN NSEC zz.test. A NS SOA MX TXT AAAA RRSIG NSEC DNSKEY TYPE1234
dnskey.test. 300 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==
2t7b4g4vsa5smi47k61mv5bv1a22bojr.test. 300 IN NSEC3 1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR A RRSIG
n3p.test. 300 IN NSEC3PARAM 1 0 0 -
tlsa.test. 300 IN TLSA 3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6
cds.test. 300 IN CDS 60485 5 2 2BB183AF5F22588179A53B0A98631FAD1A2921182BB183AF5F22588179A53B0A
cdnskey.test. 300 IN CDNSKEY 257 3 8 AwEAAag=
svcb.test. 300 IN SVCB 16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2 ipv4hint=192.0.2.1 no-default-alpn
https.test. 300 IN HTTPS 1 . alpn=h3,h2 ipv4hint=104.16.132.229,104.16.133.229 ipv6hint=2606:4700::6810:84e5 port=8443 ech=AEX+DQBBcQAgACB7
https2.test. 300 IN HTTPS 0 svc.example.net.
https3.test. 300 IN HTTPS 1 . alpn="h3,h\\,x"
spf.test. 300 IN SPF "v=spf1 -all"
uri.test. 300 IN URI 10 1 "ftp://ftp1.example.com/public"
caa.test. 300 IN CAA 0 issue "letsencrypt.org"
caa2.test. 300 IN CAA 128 tbs "Unknown"
eui48.test. 300 IN EUI48 00-00-5e-00-53-2a
eui64.test. 300 IN EUI64 00-00-5e-ef-10-00-00-2a
unk.test. 300 IN TYPE65280 \# 4 0A000001
null.test. 300 IN NULL \# 3 010203`;

/** A UDP port on 127.0.0.1 that was free a moment ago. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const NOT_IN_DNS_PACKET: Record<string, number> = { SVCB: 64, HTTPS: 65, EUI48: 108, EUI64: 109, URI: 256 };

/** dig's rdata text in dnslens form: names without the trailing dot, alpn without dig's quotes. */
function fromDig(type: string, rdata: string): string {
  const strip = (s: string) => (s !== '.' && s.endsWith('.') ? s.slice(0, -1) : s);
  const f = rdata.split(' ');
  const at = (...idx: number[]) => f.map((x, i) => (idx.includes(i) ? strip(x) : x)).join(' ');
  switch (type) {
    case 'NS':
    case 'CNAME':
    case 'PTR':
    case 'DNAME':
      return strip(rdata);
    case 'SOA':
    case 'RP':
      return at(0, 1);
    case 'MX':
    case 'AFSDB':
      return at(1);
    case 'SRV':
      return at(3);
    case 'RRSIG':
      return at(7);
    case 'NSEC':
      return at(0);
    case 'NAPTR': {
      const i = rdata.lastIndexOf(' ');
      return rdata.slice(0, i + 1) + strip(rdata.slice(i + 1));
    }
    case 'SVCB':
    case 'HTTPS':
      return at(1).replace(/alpn="([^"]*)"/, (_, v: string) => 'alpn=' + v.replace(/\\\\/g, '\\'));
  }
  return rdata;
}

describeWithPeers('rdata text matches dig (records served by unbound on 127.0.0.1)', ['unbound', 'dig'], () => {
  let dir = '';
  let proc: ChildProcess | null = null;
  let port = 0;
  const records = ZONE.split('\n').map((l) => {
    const [name, , , type] = l.split(' ');
    return { name, type, line: l };
  });

  beforeAll(async () => {
    port = await freeUdpPort();
    dir = mkdtempSync(join(tmpdir(), 'dnslens-unbound-'));
    const conf = [
      ...unboundServer(dir, port),
      '  local-zone: "test." static',
      ...records.map((r) => `  local-data: '${r.line}'`),
    ].join('\n');
    writeFileSync(join(dir, 'unbound.conf'), conf + '\n');
    proc = spawn(which('unbound')!, ['-d', '-c', join(dir, 'unbound.conf')], { stdio: 'ignore' });
    // wait (bounded) until it answers
    for (let i = 0; i < 50; i++) {
      const r = await query('a.test', 1, 200).catch(() => null);
      if (r) return;
      if (proc.exitCode !== null) throw new Error(`unbound exited with ${proc.exitCode}`);
    }
    throw new Error('unbound did not answer within 10 s');
  });

  afterAll(() => {
    proc?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One UDP query to the local unbound; the raw response. */
  function query(name: string, type: number, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = dgram.createSocket('udp4');
      const id = Math.floor(Math.random() * 65536);
      const timer = setTimeout(() => {
        sock.close();
        reject(new Error(`no answer for ${name}`));
      }, timeoutMs);
      sock.on('message', (msg) => {
        if (msg.readUInt16BE(0) !== id) return;
        clearTimeout(timer);
        sock.close();
        resolve(msg);
      });
      sock.on('error', (e) => {
        clearTimeout(timer);
        sock.close();
        reject(e);
      });
      const q = dnsPacket.encode({ type: 'query', id, flags: 0x0100, questions: [{ name, type: `UNKNOWN_${type}`, class: 'IN' }] });
      sock.send(q, port, '127.0.0.1');
    });
  }

  it('every record: our text equals the rdata dig prints (names without the trailing dot)', async () => {
    const args = ['@127.0.0.1', '-p', String(port), '+noall', '+answer', '+nosplit', '+tries=2', '+time=2'];
    for (const r of records) args.push(r.name, r.type);
    const out = execFileSync('dig', args, { encoding: 'utf8' });
    const digText = new Map<string, { type: string; rdata: string }>();
    for (const line of out.split('\n')) {
      const m = /^(\S+)\s+\d+\s+IN\s+(\S+)\s+(.*)$/.exec(line);
      if (m) digText.set(m[1], { type: m[2], rdata: m[3] });
    }
    expect(digText.size).toBe(records.length);
    for (const r of records) {
      const typeNum = r.type.startsWith('TYPE') ? Number(r.type.slice(4)) : (NOT_IN_DNS_PACKET[r.type] ?? dpTypes.toType(r.type));
      expect(typeNum, r.line).toBeGreaterThan(0);
      const wire = await query(r.name.slice(0, -1), typeNum, 3000);
      const { ev, err } = decode(wire);
      expect(err, r.line).toBeNull();
      expect(ev.answers.length, r.line).toBe(1);
      const d = digText.get(r.name)!;
      expect(ev.answers[0].type, r.line).toBe(typeNum);
      expect(ev.answers[0].name, r.line).toBe(r.name.slice(0, -1));
      expect(ev.answers[0].data, r.line).toBe(fromDig(d.type, d.rdata));
    }
  });
});
