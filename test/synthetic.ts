// Seeded synthetic DNS traffic for the schema tests: Zipf-distributed names, IPv4 and IPv6
// clients, queries paired with responses (NOERROR, NXDOMAIN, SERVFAIL, REFUSED), answers.

import { newEvent, type DnsEvent } from '../src/event.js';

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function zipfPicker(n: number, s: number, r: () => number): () => number {
  const cum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) cum[i] = total += 1 / Math.pow(i + 1, s);
  return () => {
    const x = r() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface TrafficOptions {
  seed: number;
  queries: number;
  names: number; // distinct query names
  clients: number;
  startSec: number; // first query time
  spanSec: number; // queries are spread uniformly over this span
  servers?: string[];
}

const SUFFIXES = ['com', 'net', 'org', 'co.uk', 'de', 'com.au', 'io'];
const TYPES = [1, 1, 1, 28, 28, 65, 12, 16, 15, 33];

/** Queries and their responses, sorted by time. */
export function traffic(o: TrafficOptions): DnsEvent[] {
  const r = rng(o.seed);
  const servers = o.servers ?? ['ns1'];
  const names: string[] = [];
  for (let i = 0; i < o.names; i++) {
    const apex = `site${i % Math.max(1, Math.floor(o.names / 3))}.${SUFFIXES[i % SUFFIXES.length]}`;
    names.push(i % 3 === 0 ? apex : `${['www', 'api', 'cdn'][i % 3]}${i}.${apex}`);
  }
  const clients: { ip: string; v: number }[] = [];
  for (let i = 0; i < o.clients; i++) {
    clients.push(i % 7 === 3 ? { ip: `2001:db8:${(i % 5).toString(16)}::${(i + 1).toString(16)}`, v: 6 } : { ip: `10.${i % 3}.${(i >> 8) & 255}.${(i & 255) || 1}`, v: 4 });
  }
  const pickName = zipfPicker(names.length, 1.0, r);
  const pickClient = zipfPicker(clients.length, 0.5, r);
  const out: DnsEvent[] = [];
  for (let q = 0; q < o.queries; q++) {
    const t = o.startSec + r() * o.spanSec;
    const sec = Math.floor(t);
    const nsec = Math.floor((t - sec) * 1e6) * 1000;
    const ni = pickName();
    const c = clients[pickClient()];
    const server = servers[q % servers.length];
    const e = newEvent();
    e.timeSec = sec;
    e.timeNsec = nsec;
    e.server = server;
    e.ipVersion = c.v;
    e.srcIp = c.ip;
    e.dstIp = c.v === 4 ? '10.0.0.53' : '2001:db8::53';
    e.srcPort = 1024 + Math.floor(r() * 60000);
    e.dstPort = 53;
    e.transport = r() < 0.1 ? 'tcp' : 'udp';
    e.id = Math.floor(r() * 65536);
    e.rd = true;
    e.qname = names[ni];
    e.qtype = TYPES[Math.floor(r() * TYPES.length)];
    e.qclass = 1;
    e.qdCount = 1;
    e.ednsPresent = r() < 0.8;
    e.ednsUdpSize = e.ednsPresent ? 1232 : 0;
    e.ednsDo = e.ednsPresent && r() < 0.3;
    e.arCount = e.ednsPresent ? 1 : 0;
    e.size = 17 + e.qname.length + (e.ednsPresent ? 11 : 0);
    e.inputKind = 'pcap';
    e.inputName = 'synthetic.pcap';
    out.push(e);
    if (r() < 0.05) {
      e.unanswered = true; // as the matcher marks it
      continue;
    }
    const x: DnsEvent = { ...e, answers: [] };
    const rt = 200 + Math.floor(r() * 30000);
    const nsTotal = nsec + rt * 1000;
    x.timeSec = sec + Math.floor(nsTotal / 1e9);
    x.timeNsec = nsTotal % 1e9;
    x.srcIp = e.dstIp;
    x.dstIp = e.srcIp;
    x.srcPort = 53;
    x.dstPort = e.srcPort;
    x.qr = true;
    x.ra = true;
    const roll = r();
    x.rcode = ni % 17 === 5 ? 3 : roll < 0.02 ? 2 : roll < 0.03 ? 5 : 0;
    if (x.rcode === 0 && x.qtype === 1) {
      for (let k = 0; k <= ni % 3; k++) x.answers = [...x.answers, { name: x.qname, type: 1, class: 1, ttl: 300, data: `192.0.2.${(ni + k) % 250}` }];
    }
    x.anCount = x.answers.length;
    x.tc = x.transport === 'udp' && r() < 0.01;
    x.size = e.size + x.answers.length * 16;
    x.responseTimeUs = rt;
    out.push(x);
  }
  out.sort((a, b) => a.timeSec - b.timeSec || a.timeNsec - b.timeNsec);
  return out;
}
