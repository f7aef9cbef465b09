// Deterministic generator of a resolver-like capture (classic pcap, Ethernet, microseconds) for
// the benchmark. Everything comes from one seeded PRNG, so a (seed, packets) pair always yields
// the same bytes; run.ts caches the file under bench/.cache/.
//
// Model: clients (mostly IPv4 in a few /24s, some IPv6) look names up at 2-3 resolvers. A host
// lookup sends A, usually AAAA and sometimes HTTPS for the same name; other lookups are PTR, TXT,
// MX or SRV. Names come Zipf-like (s=1) from ~100,000 hostnames built over real-looking
// registrable domains and CDN patterns. Each query is answered 0.2-80 ms later (long-tailed);
// a few exchanges use TCP (handshake, length-prefixed message, FIN), some after a truncated
// UDP answer.
//
// Two modes: `packets` writes exactly that many frames at a steady ~260 queries/s (the 1M-frame,
// 31-minute capture); `days` writes whole days from a Monday 00:00 UTC at a mean `rate` of
// queries/s (default 20) that follows DAILY_CYCLE, so the frame count follows from days × rate.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { getDomain } from 'tldts';
import { ALNUM, HEX, LOWER, reverseV6, Rng, v6Text, Zipf } from './synth.js';

/** Bump when the traffic model or the wire format changes: it invalidates cached captures. */
export const GEN_VERSION = 2;
export const MAX_PACKETS = 50_000_000;

export interface GenOptions {
  seed: number;
  packets?: number; // frames in the file (exact); or else
  days?: number; // whole days of traffic with a daily cycle (1..MAX_DAYS)
  rate?: number; // days mode: mean queries/s over a day (DEFAULT_RATE)
}

export interface Summary {
  version: number;
  seed: number;
  packets: number; // frames in the file
  queries: number; // DNS query messages (UDP and TCP)
  responses: number; // DNS response messages (UDP and TCP)
  nxdomain: number; // responses with rcode 3
  servfail: number; // responses with rcode 2
  truncated: number; // UDP responses with TC set (the client retries over TCP)
  tcp: number; // TCP frames: handshake, data and teardown
  tcpMessages: number; // DNS messages carried over TCP
  ipv6: number; // IPv6 frames
  other: number; // non-IP frames (an ARP request fills an odd last slot)
  distinctNames: number; // distinct question names
  distinctClients: number; // distinct client addresses that sent a query
  firstTime: string; // ISO time of the first and last frame
  lastTime: string;
  bytes: number; // file size
  days?: number; // days mode only: the days and mean queries/s asked for
  rate?: number;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

// ---------------------------------------------------------------- name universe

interface Provider {
  v4: readonly (readonly [number, number])[]; // /16 prefixes
  v6: readonly (readonly [number, number, number])[]; // /48 prefixes
}

const PROVIDERS: Record<string, Provider> = {
  google: { v4: [[142, 250], [172, 217], [216, 58]], v6: [[0x2a00, 0x1450, 0x4001], [0x2607, 0xf8b0, 0x4005]] },
  cloudflare: { v4: [[104, 16], [104, 21], [172, 67]], v6: [[0x2606, 0x4700, 0x3030], [0x2606, 0x4700, 0x3031]] },
  akamai: { v4: [[23, 32], [23, 50], [2, 16]], v6: [[0x2600, 0x1408, 0x5c00], [0x2a02, 0x26f0, 0x00b9]] },
  amazon: { v4: [[52, 84], [54, 239], [3, 160], [13, 32]], v6: [[0x2600, 0x1f18, 0x2489]] },
  cloudfront: { v4: [[18, 160], [13, 224], [108, 156]], v6: [[0x2600, 0x9000, 0x2150], [0x2600, 0x9000, 0x21f3]] },
  fastly: { v4: [[151, 101], [199, 232]], v6: [[0x2a04, 0x4e42, 0x0600]] },
  facebook: { v4: [[157, 240], [31, 13]], v6: [[0x2a03, 0x2880, 0xf12f], [0x2a03, 0x2880, 0xf003]] },
  microsoft: { v4: [[20, 190], [40, 126], [13, 107]], v6: [[0x2603, 0x1030, 0x0020]] },
  apple: { v4: [[17, 253], [17, 248]], v6: [[0x2620, 0x0149, 0x0a44]] },
  hosting: {
    v4: [[185, 199], [93, 184], [5, 9], [46, 4], [88, 198], [195, 201], [81, 169], [37, 187], [212, 227], [91, 198], [45, 33], [89, 163]],
    v6: [[0x2a01, 0x04f8, 0x0c17], [0x2a02, 0xc207, 0x3001], [0x2001, 0x41d0, 0x0302], [0x2a00, 0x1158, 0x0002]],
  },
};

interface Host {
  name: string; // the question name
  apex: string; // zone whose SOA answers NXDOMAIN / NODATA for this name
  chain: readonly string[]; // CNAME targets, in order
  chainApex: string; // zone of the last name in the chain (or apex)
  provider: Provider;
  ttl: number; // TTL of the final records
  nA: number; // 1..4 addresses
  nAAAA: number; // 0 means the name has no IPv6 (NODATA)
  https: number; // 0 no HTTPS record (NODATA), 1 alpn h3,h2, 2 alpn h2
  signed: boolean; // DNSSEC-signed: AD is set for DO queries
  h: number; // per-name hash for stable addresses
  rank: number; // popularity rank (0 = most queried)
}

// [name, provider, https, chain...]: the head of the popularity list, as seen on real networks.
const HEAD: readonly (readonly [string, string, number, ...string[]])[] = [
  ['www.google.com', 'google', 1],
  ['www.gstatic.com', 'google', 1],
  ['fonts.googleapis.com', 'google', 1],
  ['www.youtube.com', 'google', 1, 'youtube-ui.l.google.com'],
  ['i.ytimg.com', 'google', 1],
  ['graph.facebook.com', 'facebook', 1, 'star.c10r.facebook.com'],
  ['www.facebook.com', 'facebook', 1, 'star-mini.c10r.facebook.com'],
  ['connectivitycheck.gstatic.com', 'google', 0],
  ['edge-mqtt.facebook.com', 'facebook', 0, 'mqtt.c10r.facebook.com'],
  ['play.googleapis.com', 'google', 1],
  ['clients4.google.com', 'google', 1, 'clients.l.google.com'],
  ['gateway.icloud.com', 'apple', 0],
  ['www.apple.com', 'akamai', 0, 'www.apple.com.edgekey.net', 'e6858.dscx.akamaiedge.net'],
  ['login.microsoftonline.com', 'microsoft', 0, 'login.mso.msidentity.com', 'www.tm.ak.prd.aadg.akadns.net'],
  ['www.microsoft.com', 'akamai', 0, 'www.microsoft.com-c-3.edgekey.net', 'e13678.dscb.akamaiedge.net'],
  ['time.apple.com', 'apple', 0],
  ['outlook.office365.com', 'microsoft', 0, 'ooc-g2.tm-4.office.com'],
  ['settings-win.data.microsoft.com', 'microsoft', 0, 'atm-settingsfe-prod-geo2.trafficmanager.net'],
  ['www.amazon.com', 'cloudfront', 0, 'tp.47cf2c8c9-frontier.amazon.com', 'd3ag4hukkh62yn.cloudfront.net'],
  ['www.netflix.com', 'amazon', 0, 'www.dradis.netflix.com', 'www.us-east-1.internal.dradis.netflix.com'],
  ['www.instagram.com', 'facebook', 1, 'z-p42-instagram.c10r.instagram.com'],
  ['api.spotify.com', 'google', 1, 'edge-web.dual-gslb.spotify.com'],
  ['pagead2.googlesyndication.com', 'google', 1],
  ['googleads.g.doubleclick.net', 'google', 1],
  ['www.googletagmanager.com', 'google', 1],
  ['mmg.whatsapp.net', 'facebook', 0],
  ['www.wikipedia.org', 'hosting', 0, 'dyna.wikimedia.org'],
  ['www.bbc.co.uk', 'fastly', 1, 'www.bbc.co.uk.pri.bbc.co.uk', 'uk.www.bbc.co.uk.pri.bbc.co.uk'],
  ['www.abc.net.au', 'akamai', 0, 'www.abc.net.au.edgekey.net', 'e3891.b.akamaiedge.net'],
  ['github.com', 'hosting', 0],
  ['api.github.com', 'hosting', 0],
  ['slack.com', 'amazon', 0],
  ['www.cloudflare.com', 'cloudflare', 1],
  ['cdnjs.cloudflare.com', 'cloudflare', 1],
  ['www.baidu.com', 'hosting', 0, 'www.a.shifen.com'],
  ['www.yahoo.co.jp', 'hosting', 0, 'edge12.g.yimg.jp'],
  ['yandex.ru', 'hosting', 0],
  ['zoom.us', 'amazon', 0],
  ['2.debian.pool.ntp.org', 'hosting', 0],
  ['ocsp.digicert.com', 'akamai', 0, 'ocsp.edge.digicert.com', 'e3913.cd.akamaiedge.net'],
];

const TLDS: readonly (readonly [string, number])[] = [
  ['com', 44], ['net', 7], ['org', 6], ['de', 5], ['co.uk', 4], ['ru', 3], ['com.au', 2], ['io', 2], ['fr', 2],
  ['nl', 2], ['com.br', 2], ['co.jp', 1.5], ['jp', 1], ['it', 1.5], ['es', 1], ['pl', 1], ['ca', 1], ['co.in', 1],
  ['com.cn', 0.5], ['info', 1], ['xyz', 1], ['app', 0.7], ['dev', 0.5], ['tv', 0.5], ['me', 0.5], ['us', 0.5],
  ['ch', 0.7], ['se', 0.7], ['eu', 0.5], ['co', 0.5], ['org.uk', 0.5], ['net.au', 0.3], ['at', 0.5], ['be', 0.5],
];

const SYLLABLES = [
  'ka', 'lo', 'mi', 'ra', 'ten', 'vo', 'zi', 'ber', 'nor', 'sta', 'pla', 'tri', 'on', 'ex', 'max', 'net', 'sol',
  'cor', 'lin', 'dar', 'fy', 'go', 'hub', 'ly', 'io', 'pix', 'mar', 'ket', 'shop', 'news', 'cloud', 'data', 'bank',
  'tech', 'soft', 'web', 'home', 'blue', 'red', 'star', 'sun', 'sky', 'tel', 'med', 'app', 'bit', 'pay', 'ad',
];

const PREFIXES: readonly (readonly [string, number])[] = [
  ['', 18], ['www', 32], ['api', 8], ['cdn', 4], ['static', 4], ['img', 3], ['mail', 3], ['m', 3], ['app', 3],
  ['login', 2], ['assets', 2], ['media', 2], ['auth', 2], ['ws', 1], ['shop', 1], ['blog', 1], ['eu.api', 1],
  ['#hash', 5], ['#num', 3],
];

const TTLS: readonly (readonly [number, number])[] = [
  [20, 8], [60, 20], [300, 35], [600, 5], [1800, 5], [3600, 17], [86400, 10],
];

const PROVIDER_MIX: readonly (readonly [string, number])[] = [
  ['hosting', 50], ['cloudflare', 20], ['amazon', 14], ['google', 6], ['akamai', 5], ['fastly', 5],
];

const AKAMAI_MAPS = ['a', 'b', 'dscb', 'dscx', 'dsce9', 'cd'];
const AMAZON_REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
const AIRPORTS = ['fra', 'lhr', 'ams', 'cdg', 'iad', 'sjc', 'syd', 'nrt', 'waw', 'mad'];

function apexLabel(rng: Rng): string {
  let s = '';
  const n = rng.weighted([[2, 5], [3, 3], [1, 1], [4, 1]] as const);
  for (let i = 0; i < n; i++) s += rng.pick(SYLLABLES);
  if (rng.chance(0.08)) s += rng.range(1, 99);
  if (rng.chance(0.05)) s = `${s}-${rng.pick(SYLLABLES)}${rng.pick(SYLLABLES)}`;
  return s;
}

function zoneOf(name: string): string {
  return getDomain(name) ?? name;
}

/** A CDN name queried directly (not via a CNAME): e1234.a.akamaiedge.net, r3---sn-....googlevideo.com ... */
function cdnDirect(rng: Rng): [name: string, provider: string, apex: string] {
  switch (rng.int(6)) {
    case 0:
      return [`e${rng.range(1, 99999)}.${rng.pick(AKAMAI_MAPS)}.akamaiedge.net`, 'akamai', 'akamaiedge.net'];
    case 1: {
      const sn = `sn-${rng.chars(ALNUM, 5)}${rng.chance(0.5) ? '-' + rng.chars(ALNUM, 4) : ''}`;
      return [`rr${rng.range(1, 8)}---${sn}.googlevideo.com`, 'google', 'googlevideo.com'];
    }
    case 2:
      return [`d${rng.chars('abcdefghijklmnopqrstuvwxyz0123456789', 13)}.cloudfront.net`, 'cloudfront', 'cloudfront.net'];
    case 3:
      return [`scontent-${rng.pick(AIRPORTS)}${rng.range(1, 5)}-${rng.range(1, 2)}.xx.fbcdn.net`, 'facebook', 'fbcdn.net'];
    case 4:
      return [`${rng.chars(ALNUM, 10)}.execute-api.${rng.pick(AMAZON_REGIONS)}.amazonaws.com`, 'amazon', 'amazonaws.com'];
    default:
      return [`${apexLabel(rng)}-${rng.chars(HEX, 6)}.s3.${rng.pick(AMAZON_REGIONS)}.amazonaws.com`, 'amazon', 'amazonaws.com'];
  }
}

/** CNAME chain of a CDN-fronted name, and the provider that serves the final address. */
function cdnChain(rng: Rng, name: string, apex: string): [chain: string[], provider: string] {
  const label = apex.split('.')[0];
  switch (rng.int(5)) {
    case 0:
      return [[`${name}.edgekey.net`, `e${rng.range(1, 99999)}.${rng.pick(AKAMAI_MAPS)}.akamaiedge.net`], 'akamai'];
    case 1:
      return [[`d${rng.chars(ALNUM, 13)}.cloudfront.net`], 'cloudfront'];
    case 2:
      return [[`${label}.map.fastly.net`], 'fastly'];
    case 3:
      return [[`${label}-${rng.chars(HEX, 8)}.z01.azurefd.net`, `star-azurefd-prod.trafficmanager.net`], 'microsoft'];
    default:
      return [['ghs.googlehosted.com'], 'google'];
  }
}

function makeHost(rng: Rng, rank: number, name: string, apex: string, providerName: string, chain: string[], https: number): Host {
  const provider = PROVIDERS[providerName];
  const cdnTtl = providerName === 'akamai' ? 20 : providerName === 'cloudfront' ? 60 : 0;
  return {
    name,
    apex,
    chain,
    chainApex: chain.length ? zoneOf(chain[chain.length - 1]) : apex,
    provider,
    ttl: cdnTtl || rng.weighted(TTLS),
    nA: rng.weighted([[1, 45], [2, 30], [3, 10], [4, 15]] as const),
    nAAAA: rng.chance(0.45) ? 0 : rng.weighted([[1, 60], [2, 30], [4, 10]] as const),
    https,
    signed: rng.chance(0.08),
    h: rng.u32(),
    rank,
  };
}

const UNIVERSE_SIZE = 100_000;
const APEX_COUNT = 40_000;

function buildUniverse(seed: number): Host[] {
  const rng = new Rng(seed ^ 0x5eed1e55);
  const hosts: Host[] = [];
  const seen = new Set<string>();
  for (const [name, provider, https, ...chain] of HEAD) {
    hosts.push(makeHost(rng, hosts.length, name, zoneOf(name), provider, chain, https));
    seen.add(name);
  }
  const apexes: string[] = [];
  const apexSeen = new Set<string>();
  while (apexes.length < APEX_COUNT) {
    const apex = `${apexLabel(rng)}.${rng.weighted(TLDS)}`;
    if (apexSeen.has(apex)) continue;
    apexSeen.add(apex);
    apexes.push(apex);
  }
  while (hosts.length < UNIVERSE_SIZE) {
    let name: string;
    let apex: string;
    let provider: string;
    let chain: string[] = [];
    if (rng.chance(0.1)) {
      [name, provider, apex] = cdnDirect(rng);
    } else {
      apex = apexes[Math.floor(apexes.length * Math.pow(rng.float(), 2.2))]; // popular apexes have more hosts
      let prefix = rng.weighted(PREFIXES);
      if (prefix === '#hash') prefix = rng.chars(HEX, rng.pick([8, 12, 16]));
      else if (prefix === '#num') prefix = `${rng.pick(['s', 'srv', 'node', 'edge', 'img'])}${rng.range(1, 40)}`;
      name = prefix ? `${prefix}.${apex}` : apex;
      provider = rng.weighted(PROVIDER_MIX);
      if (prefix !== '' && rng.chance(0.25)) [chain, provider] = cdnChain(rng, name, apex);
      else if (prefix === 'www' && rng.chance(0.3)) chain = [apex];
    }
    if (seen.has(name)) continue;
    seen.add(name);
    const https = provider === 'cloudflare' || provider === 'google' ? 1 : rng.chance(0.12) ? rng.weighted([[1, 2], [2, 1]] as const) : 0;
    hosts.push(makeHost(rng, hosts.length, name, apex, provider, chain, https));
  }
  return hosts;
}

// ---------------------------------------------------------------- DNS message writer

const T_A = 1;
const T_CNAME = 5;
const T_SOA = 6;
const T_PTR = 12;
const T_MX = 15;
const T_TXT = 16;
const T_AAAA = 28;
const T_SRV = 33;
const T_OPT = 41;
const T_HTTPS = 65;

class Msg {
  readonly buf = new Uint8Array(16384);
  pos = 0;
  private names = new Map<string, number>();

  reset(): void {
    this.pos = 0;
    this.names.clear();
  }

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  ascii(s: string): void {
    for (let i = 0; i < s.length; i++) this.buf[this.pos++] = s.charCodeAt(i);
  }

  /** A domain name, compressed against names already in the message when compress is set. */
  name(n: string, compress = true): void {
    if (n === '' || n === '.') {
      this.u8(0);
      return;
    }
    let start = 0;
    while (start < n.length) {
      const suffix = start === 0 ? n : n.slice(start);
      if (compress) {
        const ptr = this.names.get(suffix);
        if (ptr !== undefined) {
          this.u16(0xc000 | ptr);
          return;
        }
        if (this.pos < 0x3fff) this.names.set(suffix, this.pos);
      }
      let dot = n.indexOf('.', start);
      if (dot < 0) dot = n.length;
      this.u8(dot - start);
      for (let i = start; i < dot; i++) this.buf[this.pos++] = n.charCodeAt(i);
      start = dot + 1;
    }
    this.u8(0);
  }

  /** Starts a resource record; returns where its rdlength goes (close with end()). */
  rr(name: string, type: number, ttl: number, cls = 1): number {
    this.name(name);
    this.u16(type);
    this.u16(cls);
    this.u32(ttl);
    this.pos += 2;
    return this.pos;
  }

  end(rdStart: number): void {
    const len = this.pos - rdStart;
    this.buf[rdStart - 2] = len >>> 8;
    this.buf[rdStart - 1] = len & 0xff;
  }

  setU16(at: number, v: number): void {
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
  }

  /** The message so far, as a view: valid until the next write, so copy it before that. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

interface Edns {
  size: number;
  do: boolean;
  cookie: Uint8Array | null; // 8-byte client cookie
}

interface Query {
  id: number;
  qname: string;
  qtype: number;
  edns: Edns | null;
}

function writeOpt(m: Msg, size: number, dnssecOk: boolean, options: Uint8Array | null): void {
  m.u8(0); // root owner
  m.u16(T_OPT);
  m.u16(size);
  m.u32(dnssecOk ? 0x8000 : 0);
  m.u16(options ? options.length : 0);
  if (options) m.bytes(options);
}

function cookieOption(client: Uint8Array, server: Uint8Array | null): Uint8Array {
  const len = client.length + (server ? server.length : 0);
  const o = new Uint8Array(4 + len);
  o[1] = 10; // COOKIE
  o[3] = len;
  o.set(client, 4);
  if (server) o.set(server, 12);
  return o;
}

function writeQuery(m: Msg, q: Query): void {
  m.reset();
  m.u16(q.id);
  m.u16(0x0100); // RD
  m.u16(1);
  m.u16(0);
  m.u16(0);
  m.u16(q.edns ? 1 : 0);
  m.name(q.qname);
  m.u16(q.qtype);
  m.u16(1);
  if (q.edns) writeOpt(m, q.edns.size, q.edns.do, q.edns.cookie ? cookieOption(q.edns.cookie, null) : null);
}

// ---------------------------------------------------------------- answers

const SOA_ROOT = ['a.root-servers.net', 'nstld.verisign-grs.com', 2024031200, 1800, 900, 604800, 86400] as const;
const SOA_COM = ['a.gtld-servers.net', 'nstld.verisign-grs.com', 1710234000, 1800, 900, 604800, 900] as const;
const SOA_ARPA = ['b.in-addr-servers.arpa', 'nstld.iana.org', 2024030701, 1800, 900, 604800, 3600] as const;

function soaFor(zone: string): readonly [string, string, number, number, number, number, number] {
  if (zone === '.' || zone === '') return SOA_ROOT;
  if (zone === 'com') return SOA_COM;
  if (zone.endsWith('in-addr.arpa') || zone.endsWith('ip6.arpa')) return SOA_ARPA;
  return [`ns1.${zone}`, `hostmaster.${zone}`, 2024031101 + (zone.length % 7), 7200, 3600, 1209600, 300];
}

function writeSoa(m: Msg, zone: string): void {
  const [mname, rname, serial, refresh, retry, expire, minimum] = soaFor(zone);
  const at = m.rr(zone === '' ? '.' : zone, T_SOA, minimum);
  m.name(mname);
  m.name(rname);
  m.u32(serial);
  m.u32(refresh);
  m.u32(retry);
  m.u32(expire);
  m.u32(minimum);
  m.end(at);
}

function v4Addr(p: Provider, h: number, i: number): [number, number, number, number] {
  const x = mix32(h + Math.imul(i + 1, 0x9e3779b9));
  const [a, b] = p.v4[x % p.v4.length];
  return [a, b, (x >>> 8) & 0xff, 1 + ((x >>> 16) % 254)];
}

function v6Addr(p: Provider, h: number, i: number): number[] {
  const x = mix32(h ^ Math.imul(i + 7, 0x85ebca6b));
  const y = mix32(x + 1);
  const [a, b, c] = p.v6[x % p.v6.length];
  return [a, b, c, (x >>> 8) & 0xfff, 0, 0, y >>> 16, (y & 0xffff) || 1];
}

function writeV4(m: Msg, a: readonly number[]): void {
  for (const o of a) m.u8(o);
}

function writeV6(m: Msg, g: readonly number[]): void {
  for (const v of g) m.u16(v);
}

/** Answers for a name lookup; returns the answer and authority record counts. */
function writeHostAnswers(m: Msg, host: Host, qtype: number, ttlLeft: (t: number) => number): { an: number; ns: number } {
  let an = 0;
  let owner = host.name;
  for (const target of host.chain) {
    const at = m.rr(owner, T_CNAME, ttlLeft(owner === host.name ? Math.max(host.ttl, 300) : 300));
    m.name(target);
    m.end(at);
    owner = target;
    an++;
  }
  const ttl = ttlLeft(host.ttl);
  if (qtype === T_A) {
    for (let i = 0; i < host.nA; i++) {
      const at = m.rr(owner, T_A, ttl);
      writeV4(m, v4Addr(host.provider, host.h, i));
      m.end(at);
      an++;
    }
  } else if (qtype === T_AAAA && host.nAAAA > 0) {
    for (let i = 0; i < host.nAAAA; i++) {
      const at = m.rr(owner, T_AAAA, ttl);
      writeV6(m, v6Addr(host.provider, host.h, i));
      m.end(at);
      an++;
    }
  } else if (qtype === T_HTTPS && host.https > 0) {
    const at = m.rr(owner, T_HTTPS, ttl);
    m.u16(1); // SvcPriority 1, ServiceMode
    m.u8(0); // TargetName "." (same as owner)
    // keys in ascending order: alpn (1), ipv4hint (4), ipv6hint (6)
    const alpn = host.https === 1 ? ['h3', 'h2'] : ['h2'];
    m.u16(1);
    m.u16(alpn.reduce((n, a) => n + 1 + a.length, 0));
    for (const a of alpn) {
      m.u8(a.length);
      m.ascii(a);
    }
    const n4 = Math.min(host.nA, 2);
    m.u16(4);
    m.u16(4 * n4);
    for (let i = 0; i < n4; i++) writeV4(m, v4Addr(host.provider, host.h, i));
    if (host.nAAAA > 0) {
      m.u16(6);
      m.u16(16);
      writeV6(m, v6Addr(host.provider, host.h, 0));
    }
    m.end(at);
    an++;
  } else {
    // NODATA: the chain (if any) and the SOA of the zone that holds the last name
    writeSoa(m, host.chainApex);
    return { an, ns: 1 };
  }
  return { an, ns: 0 };
}

// ---------------------------------------------------------------- lookups other than host names

interface Lookup {
  qname: string;
  zone: string; // SOA owner for NXDOMAIN / NODATA
  types: number[];
  nx: boolean;
  host: Host | null; // for A / AAAA / HTTPS
  answer: ((m: Msg, ttl: (t: number) => number) => number) | null; // PTR / TXT / MX / SRV: writes answers, returns count
}

const DKIM_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SRV_SERVICES: readonly (readonly [string, number])[] = [
  ['_sip._tcp', 5060], ['_sips._tcp', 5061], ['_xmpp-client._tcp', 5222], ['_imaps._tcp', 993], ['_submission._tcp', 587],
  ['_ldap._tcp', 389], ['_autodiscover._tcp', 443], ['_matrix._tcp', 8448],
];

function txtStrings(m: Msg, strings: readonly string[]): void {
  for (const s of strings) {
    m.u8(s.length);
    m.ascii(s);
  }
}

function reverseV4(a: readonly number[]): string {
  return `${a[3]}.${a[2]}.${a[1]}.${a[0]}.in-addr.arpa`;
}

// ---------------------------------------------------------------- frames

// Frames are views into shared zeroed blocks: a typed array of its own (over 64 bytes) costs an
// off-heap allocation each, ~30% of the generator's CPU time. A block is freed once no frame in it
// is still queued.
const SLAB_BYTES = 1 << 20;
let slabBuf = new Uint8Array(SLAB_BYTES);
let slabPos = 0;

function slab(n: number): Uint8Array {
  if (slabPos + n > SLAB_BYTES) {
    slabBuf = new Uint8Array(SLAB_BYTES);
    slabPos = 0;
  }
  slabPos += n;
  return slabBuf.subarray(slabPos - n, slabPos);
}

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

interface Endpoint {
  v6: boolean;
  ip: Uint8Array; // 4 or 16 bytes
  text: string;
  mac: Uint8Array;
}

function checksumAdd(acc: number, b: Uint8Array, start: number, end: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) acc += (b[i] << 8) | b[i + 1];
  if (i < end) acc += b[i] << 8;
  return acc;
}

function checksumFold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 0x10000);
  return ~acc & 0xffff;
}

/** Ethernet + IPv4/IPv6 + transport header + payload, with valid checksums. */
function ipFrame(src: Endpoint, dst: Endpoint, proto: number, transport: Uint8Array, payload: Uint8Array | null, ipId: number): Uint8Array {
  const l4len = transport.length + (payload ? payload.length : 0);
  const ipHdr = src.v6 ? 40 : 20;
  const f = slab(14 + ipHdr + l4len);
  f.set(dst.mac, 0);
  f.set(src.mac, 6);
  const ip = 14;
  if (src.v6) {
    f[12] = 0x86;
    f[13] = 0xdd;
    f[ip] = 0x60;
    f[ip + 4] = l4len >>> 8;
    f[ip + 5] = l4len & 0xff;
    f[ip + 6] = proto;
    f[ip + 7] = 64;
    f.set(src.ip, ip + 8);
    f.set(dst.ip, ip + 24);
  } else {
    f[12] = 0x08;
    f[13] = 0x00;
    const total = 20 + l4len;
    f[ip] = 0x45;
    f[ip + 2] = total >>> 8;
    f[ip + 3] = total & 0xff;
    f[ip + 4] = ipId >>> 8;
    f[ip + 5] = ipId & 0xff;
    f[ip + 6] = 0x40; // DF
    f[ip + 8] = 64;
    f[ip + 9] = proto;
    f.set(src.ip, ip + 12);
    f.set(dst.ip, ip + 16);
    const c = checksumFold(checksumAdd(0, f, ip, ip + 20));
    f[ip + 10] = c >>> 8;
    f[ip + 11] = c & 0xff;
  }
  const l4 = ip + ipHdr;
  f.set(transport, l4);
  if (payload) f.set(payload, l4 + transport.length);
  // pseudo-header: addresses, protocol, length
  let acc = checksumAdd(0, src.ip, 0, src.ip.length);
  acc = checksumAdd(acc, dst.ip, 0, dst.ip.length);
  acc += proto + l4len;
  acc = checksumAdd(acc, f, l4, l4 + l4len);
  let c = checksumFold(acc);
  if (proto === 17 && c === 0) c = 0xffff;
  const at = l4 + (proto === 17 ? 6 : 16);
  f[at] = c >>> 8;
  f[at + 1] = c & 0xff;
  return f;
}

function udpFrame(src: Endpoint, dst: Endpoint, sport: number, dport: number, payload: Uint8Array, ipId: number): Uint8Array {
  const h = new Uint8Array(8);
  const len = 8 + payload.length;
  h[0] = sport >>> 8;
  h[1] = sport & 0xff;
  h[2] = dport >>> 8;
  h[3] = dport & 0xff;
  h[4] = len >>> 8;
  h[5] = len & 0xff;
  return ipFrame(src, dst, 17, h, payload, ipId);
}

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_PSH = 0x08;
const TCP_ACK = 0x10;

function tcpFrame(
  src: Endpoint,
  dst: Endpoint,
  sport: number,
  dport: number,
  seq: number,
  ack: number,
  flags: number,
  payload: Uint8Array | null,
  ipId: number,
): Uint8Array {
  const syn = (flags & TCP_SYN) !== 0;
  const h = new Uint8Array(syn ? 32 : 20);
  h[0] = sport >>> 8;
  h[1] = sport & 0xff;
  h[2] = dport >>> 8;
  h[3] = dport & 0xff;
  new DataView(h.buffer).setUint32(4, seq >>> 0);
  new DataView(h.buffer).setUint32(8, ack >>> 0);
  h[12] = (h.length / 4) << 4;
  h[13] = flags;
  const win = syn ? 64240 : 502;
  h[14] = win >>> 8;
  h[15] = win & 0xff;
  if (syn) {
    const mss = src.v6 ? 1440 : 1460;
    h.set([2, 4, mss >>> 8, mss & 0xff, 1, 1, 4, 2, 1, 3, 3, 7], 20); // MSS, SACK permitted, window scale 7
  }
  return ipFrame(src, dst, 6, h, payload, ipId);
}

function arpFrame(sender: Endpoint, target: Endpoint): Uint8Array {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(sender.mac, 6);
  f[12] = 0x08;
  f[13] = 0x06;
  f.set([0, 1, 8, 0, 6, 4, 0, 1], 14); // Ethernet/IPv4, request
  f.set(sender.mac, 22);
  f.set(sender.ip, 28);
  f.set(target.ip, 38);
  return f;
}

// ---------------------------------------------------------------- frame queue (ordered by time)

interface Pending {
  t: number; // microseconds since the epoch
  seq: number; // insertion order breaks ties
  data: Uint8Array;
}

class FrameHeap {
  private items: Pending[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(t: number, data: Uint8Array): void {
    const a = this.items;
    a.push({ t, seq: this.seq++, data });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i], a[p])) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  peekTime(): number {
    return this.items[0].t;
  }

  pop(): Pending {
    const a = this.items;
    const top = a[0];
    const last = a.pop() as Pending;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l], a[m])) m = l;
        if (r < a.length && less(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Pending, y: Pending): boolean {
  return x.t < y.t || (x.t === y.t && x.seq < y.seq);
}

// ---------------------------------------------------------------- pcap writer

class PcapWriter {
  private readonly buf = Buffer.allocUnsafe(8 << 20);
  private pos = 0;
  bytes = 0;

  constructor(private readonly fd: number) {
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16); // snaplen
    h.writeUInt32LE(1, 20); // LINKTYPE_ETHERNET
    this.put(h);
  }

  frame(tUs: number, data: Uint8Array): void {
    if (this.pos + 16 + data.length > this.buf.length) this.flush();
    const b = this.buf;
    b.writeUInt32LE(Math.floor(tUs / 1e6), this.pos);
    b.writeUInt32LE(tUs % 1e6, this.pos + 4);
    b.writeUInt32LE(data.length, this.pos + 8);
    b.writeUInt32LE(data.length, this.pos + 12);
    b.set(data, this.pos + 16);
    this.pos += 16 + data.length;
    this.bytes += 16 + data.length;
  }

  private put(data: Uint8Array): void {
    this.buf.set(data, this.pos);
    this.pos += data.length;
    this.bytes += data.length;
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.pos = 0;
  }
}

// ---------------------------------------------------------------- traffic

const START_US = 1_710_234_000 * 1e6; // 2024-03-12T09:00:00Z
const LOOKUP_GAP_US = 7200; // mean gap between lookups: ~555 frames/s, 1M frames in ~30 minutes
const NX_SHARE = 0.1;
const SERVFAIL_SHARE = 0.004;
const TCP_SHARE = 0.008; // of queries; each TCP exchange is 8 frames, so ~3% of frames
const V6_SHARE = 0.1;
const CLIENTS_V4 = 1800;
const CLIENTS_V6 = 200;

// Days mode. Starts on a Monday at 00:00 UTC, so 7 days fill one week of the week rollups.
const DAYS_START_US = 1_710_115_200 * 1e6; // 2024-03-11T00:00:00Z
export const MAX_DAYS = 28;
export const DEFAULT_RATE = 20; // queries/s averaged over a day: 12.1M queries in 7 days
const QUERIES_PER_LOOKUP = 1.85; // makeLookup's expected qtypes per lookup (A, often AAAA, some HTTPS) and TC retries
const FRAMES_PER_QUERY = 2.1; // an answered UDP query is 2 frames, TCP adds handshake and teardown: ~2.05, with margin

// Relative query rate at each hour of the day (UTC, read as the network's local time), linearly
// interpolated between hours and scaled to a mean of 1: a residential resolver, quiet at night
// (trough 03:00-04:00, 0.2× the mean), flat through the working day (~1.15×), peaking in the
// evening (20:00, 1.9×). Peak to trough is ~9.5×. Every day has the same curve (no weekend).
const DAILY_CYCLE: readonly number[] = [
  0.55, 0.35, 0.25, 0.2, 0.2, 0.25, 0.4, 0.7, // 00-07
  1.0, 1.1, 1.15, 1.15, 1.2, 1.15, 1.1, 1.1, // 08-15
  1.2, 1.3, 1.5, 1.75, 1.9, 1.85, 1.45, 0.95, // 16-23
];
const CYCLE_MEAN = DAILY_CYCLE.reduce((a, b) => a + b, 0) / DAILY_CYCLE.length;

/** DAILY_CYCLE at a time (µs since the epoch), mean 1 over a day. */
export function dailyCycle(tUs: number): number {
  const h = (tUs / 3.6e9) % 24;
  const i = Math.floor(h);
  const f = h - i;
  return ((1 - f) * DAILY_CYCLE[i] + f * DAILY_CYCLE[(i + 1) % 24]) / CYCLE_MEAN;
}

/** Where lookups start and stop, and the mean gap between them at a time. */
interface Clock {
  start: number; // µs since the epoch
  end: number; // no lookup starts at or after this (Infinity: the frame count stops it)
  gap(t: number): number; // mean µs to the next lookup
  target: number; // frames
}

function clockFor(opts: GenOptions): Clock {
  if (opts.days === undefined) {
    const target = Math.floor(opts.packets ?? NaN);
    if (!(target >= 1 && target <= MAX_PACKETS)) throw new Error(`packets must be 1..${MAX_PACKETS}, got ${opts.packets}`);
    return { start: START_US, end: Infinity, gap: () => LOOKUP_GAP_US, target };
  }
  const { days } = opts;
  const rate = opts.rate ?? DEFAULT_RATE;
  if (opts.packets !== undefined) throw new Error('give packets or days, not both');
  if (!(Number.isInteger(days) && days >= 1 && days <= MAX_DAYS)) throw new Error(`days must be an integer 1..${MAX_DAYS}, got ${days}`);
  if (!(rate > 0)) throw new Error(`rate must be > 0 queries/s, got ${rate}`);
  const frames = days * 86_400 * rate * FRAMES_PER_QUERY;
  if (frames > MAX_PACKETS) throw new Error(`${days} days at ${rate} queries/s is ~${Math.round(frames)} frames, over ${MAX_PACKETS}`);
  // a lookup's gap follows the rate where it starts: the curve moves over hours, gaps are fractions of a second
  const meanGap = (1e6 * QUERIES_PER_LOOKUP) / rate;
  return { start: DAYS_START_US, end: DAYS_START_US + days * 86_400e6, gap: (t) => meanGap / dailyCycle(t), target: MAX_PACKETS };
}

function mac(kind: number, n: number): Uint8Array {
  return Uint8Array.from([0x02, 0x42, kind, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function endpointV4(a: readonly number[], m: Uint8Array): Endpoint {
  return { v6: false, ip: Uint8Array.from(a), text: a.join('.'), mac: m };
}

function endpointV6(g: readonly number[], m: Uint8Array): Endpoint {
  const ip = new Uint8Array(16);
  g.forEach((v, i) => {
    ip[2 * i] = v >>> 8;
    ip[2 * i + 1] = v & 0xff;
  });
  return { v6: true, ip, text: v6Text(g), mac: m };
}

function buildClients(rng: Rng): { v4: Endpoint[]; v6: Endpoint[]; v4Addrs: number[][]; v6Addrs: number[][] } {
  const v4: Endpoint[] = [];
  const v4Addrs: number[][] = [];
  const used = new Set<number>();
  while (v4.length < CLIENTS_V4) {
    const n = rng.int(8 * 253); // 10.10.0.0/24 .. 10.10.7.0/24, hosts .2-.254
    if (used.has(n)) continue;
    used.add(n);
    const a = [10, 10, Math.floor(n / 253), 2 + (n % 253)];
    v4Addrs.push(a);
    v4.push(endpointV4(a, mac(1, v4.length)));
  }
  const v6: Endpoint[] = [];
  const v6Addrs: number[][] = [];
  while (v6.length < CLIENTS_V6) {
    const g = [0x2001, 0xdb8, 0x10, rng.int(4), rng.u32() >>> 16, rng.u32() >>> 16, rng.u32() >>> 16, rng.u32() >>> 16];
    v6Addrs.push(g);
    v6.push(endpointV6(g, mac(2, v6.length)));
  }
  return { v4, v6, v4Addrs, v6Addrs };
}

/** Writes the capture to path (via a temporary file, renamed at the end) and returns its summary. */
export async function generateCapture(path: string, opts: GenOptions): Promise<Summary> {
  const clock = clockFor(opts);
  const target = clock.target;
  const seed = opts.seed >>> 0;
  const hosts = buildUniverse(seed);
  const zipf = new Zipf(hosts.length, 1.0);
  const rng = new Rng(seed);
  const clients = buildClients(rng);
  const v4Activity = new Zipf(CLIENTS_V4, 0.8);
  const v6Activity = new Zipf(CLIENTS_V6, 0.8);
  const resolvers = [
    endpointV4([10, 53, 0, 1], mac(3, 1)),
    endpointV4([10, 53, 0, 2], mac(3, 2)),
    endpointV6([0x2001, 0xdb8, 0x53, 0, 0, 0, 0, 1], mac(3, 3)),
  ];

  const s: Summary = {
    version: GEN_VERSION,
    seed,
    packets: 0,
    queries: 0,
    responses: 0,
    nxdomain: 0,
    servfail: 0,
    truncated: 0,
    tcp: 0,
    tcpMessages: 0,
    ipv6: 0,
    other: 0,
    distinctNames: 0,
    distinctClients: 0,
    firstTime: '',
    lastTime: '',
    bytes: 0,
  };
  const names = new Set<string>();
  const clientSeen = new Set<string>();
  const heap = new FrameHeap();
  const m = new Msg();
  let scheduled = 0;
  let firstUs = -1;
  let lastUs = 0;

  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  const out = new PcapWriter(fd);
  const emit = (p: Pending): void => {
    if (firstUs < 0) firstUs = p.t;
    lastUs = p.t;
    out.frame(p.t, p.data);
    s.packets++;
  };
  const schedule = (t: number, frame: Uint8Array, v6: boolean, tcp: boolean): void => {
    heap.push(t, frame);
    scheduled++;
    if (v6) s.ipv6++;
    if (tcp) s.tcp++;
  };
  const ipId = (): number => rng.int(0x10000);

  /** The response to q, as a DNS message in m. */
  const respond = (q: Query, lk: Lookup, rcode: number, tc: boolean, cached: boolean): void => {
    const ttlLeft = (t: number): number => (cached ? Math.max(1, t - rng.int(t)) : t);
    m.reset();
    m.u16(q.id);
    const ad = rcode === 0 && !tc && q.edns?.do === true && lk.host?.signed === true;
    m.u16(0x8180 | (tc ? 0x0200 : 0) | (ad ? 0x0020 : 0) | rcode); // QR RD RA
    m.u16(1);
    const counts = m.pos;
    m.pos += 6;
    m.name(q.qname);
    m.u16(q.qtype);
    m.u16(1);
    let an = 0;
    let ns = 0;
    if (!tc) {
      if (rcode === 3) {
        writeSoa(m, lk.zone);
        ns = 1;
      } else if (rcode === 0) {
        if (lk.host) {
          const o = writeHostAnswers(m, lk.host, q.qtype, ttlLeft);
          an = o.an;
          ns = o.ns;
        } else if (lk.answer) {
          an = lk.answer(m, ttlLeft);
        }
      }
    }
    let ar = 0;
    if (q.edns) {
      const server = q.edns.cookie ? randomBytes(rng, 16) : null;
      writeOpt(m, 1232, q.edns.do, q.edns.cookie ? cookieOption(q.edns.cookie, server) : null);
      ar = 1;
    }
    m.setU16(counts, an);
    m.setU16(counts + 2, ns);
    m.setU16(counts + 4, ar);
    s.responses++;
    if (rcode === 3) s.nxdomain++;
    if (rcode === 2) s.servfail++;
    if (tc) s.truncated++;
  };

  const latencyUs = (cached: boolean): number => {
    const ms = cached ? rng.logNormal(0.45, 0.6) : rng.logNormal(18, 0.9);
    return Math.round(Math.min(80, Math.max(0.2, ms)) * 1000);
  };

  /** One UDP query and its answer; returns the response time. */
  const udpExchange = (t: number, c: Endpoint, r: Endpoint, port: number, q: Query, lk: Lookup, rcode: number, tc: boolean, cached: boolean): number => {
    writeQuery(m, q);
    s.queries++;
    schedule(t, udpFrame(c, r, port, 53, m.view(), ipId()), c.v6, false);
    respond(q, lk, rcode, tc, cached);
    const tr = t + latencyUs(cached);
    schedule(tr, udpFrame(r, c, 53, port, m.view(), ipId()), c.v6, false);
    return tr;
  };

  /** Handshake, one length-prefixed query and answer, FIN from the client. */
  const tcpExchange = (t: number, c: Endpoint, r: Endpoint, q: Query, lk: Lookup, rcode: number, cached: boolean): void => {
    const port = rng.range(32768, 60999);
    const rtt = rng.range(80, 600);
    let cs = rng.u32();
    let ss = rng.u32();
    const send = (at: number, fromClient: boolean, flags: number, payload: Uint8Array | null): void => {
      const f = fromClient
        ? tcpFrame(c, r, port, 53, cs, flags & TCP_SYN ? 0 : ss, flags, payload, ipId())
        : tcpFrame(r, c, 53, port, ss, cs, flags, payload, ipId());
      schedule(at, f, c.v6, true);
      const adv = (payload ? payload.length : 0) + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
      if (fromClient) cs = (cs + adv) >>> 0;
      else ss = (ss + adv) >>> 0;
    };
    const framed = (): Uint8Array => {
      const b = new Uint8Array(m.pos + 2);
      b[0] = m.pos >>> 8;
      b[1] = m.pos & 0xff;
      b.set(m.buf.subarray(0, m.pos), 2);
      return b;
    };
    send(t, true, TCP_SYN, null);
    // SYN-ACK acknowledges the client's SYN: build it with the client's advanced sequence
    send(t + rtt, false, TCP_SYN | TCP_ACK, null);
    send(t + rtt + 20, true, TCP_ACK, null);
    writeQuery(m, q);
    s.queries++;
    s.tcpMessages++;
    const tq = t + rtt + 40;
    send(tq, true, TCP_PSH | TCP_ACK, framed());
    respond(q, lk, rcode, false, cached);
    s.tcpMessages++;
    const tr = tq + latencyUs(cached);
    send(tr, false, TCP_PSH | TCP_ACK, framed());
    send(tr + 60, true, TCP_FIN | TCP_ACK, null);
    send(tr + 60 + rtt, false, TCP_FIN | TCP_ACK, null);
    send(tr + 80 + rtt, true, TCP_ACK, null);
  };

  const nxName = (): [string, string] => {
    switch (rng.weighted([[0, 25], [1, 25], [2, 35], [3, 15]] as const)) {
      case 0: // browser probe for DNS hijacking: a random single label
        return [rng.chars(LOWER, rng.range(7, 15)), '.'];
      case 1: // search-list suffix appended to a real name
        return [`${hosts[zipf.sample(rng)].name}.${rng.pick(['lan', 'home', 'localdomain', 'fritz.box', 'corp'])}`, '.'];
      case 2: {
        const h = hosts[zipf.sample(rng)];
        return [`${rng.pick([...SYLLABLES, rng.chars(ALNUM, 6)])}${rng.pick(['', '-' + rng.range(1, 9)])}.${h.apex}`, h.apex];
      }
      default: // DGA-looking names
        return [`${rng.chars(ALNUM, rng.range(12, 20))}.com`, 'com'];
    }
  };

  const makeLookup = (clientIndex: number, v6: boolean): Lookup => {
    let nx = rng.chance(NX_SHARE);
    const kind = rng.weighted([['host', 90], ['ptr', 4], ['txt', 2.5], ['mx', 1.5], ['srv', 2]] as const);
    if (kind === 'host') {
      const types: number[] = [];
      if (rng.chance(0.95)) types.push(T_A);
      if (rng.chance(v6 ? 0.9 : 0.6)) types.push(T_AAAA);
      if (rng.chance(0.35)) types.push(T_HTTPS);
      if (types.length === 0) types.push(T_A);
      if (nx) {
        const [qname, zone] = nxName();
        return { qname, zone, types, nx, host: null, answer: null };
      }
      const host = hosts[zipf.sample(rng)];
      return { qname: host.name, zone: host.apex, types, nx, host, answer: null };
    }
    if (kind === 'ptr') {
      let qname: string;
      let target: string;
      if (rng.chance(0.3)) {
        const local = clients.v4Addrs[v6 ? rng.int(CLIENTS_V4) : (clientIndex + 1 + rng.int(50)) % CLIENTS_V4];
        qname = reverseV4(local);
        target = `host-${local[2]}-${local[3]}.corp.example.net`;
      } else if (rng.chance(0.15)) {
        const h = hosts[zipf.sample(rng)];
        const g = v6Addr(h.provider, h.h, 0);
        qname = reverseV6(g);
        target = `${rng.chars(ALNUM, 8)}.${h.chainApex}`;
      } else {
        const h = hosts[zipf.sample(rng)];
        const a = v4Addr(h.provider, h.h, 0);
        qname = reverseV4(a);
        target = rng.pick([
          `ec2-${a.join('-')}.compute-1.amazonaws.com`,
          `static.${a[3]}.${a[2]}.${a[1]}.${a[0]}.clients.your-server.de`,
          `a${a.join('-')}.deploy.static.akamaitechnologies.com`,
          `${rng.pick(AIRPORTS)}${rng.range(10, 40)}s${rng.range(1, 30)}-in-f${rng.range(1, 20)}.1e100.net`,
          `server-${a.join('-')}.${rng.pick(AIRPORTS)}50.r.cloudfront.net`,
        ]);
      }
      const zone = qname.endsWith('ip6.arpa') ? 'ip6.arpa' : 'in-addr.arpa';
      const answer = (mm: Msg, ttl: (t: number) => number): number => {
        const at = mm.rr(qname, T_PTR, ttl(3600));
        mm.name(target);
        mm.end(at);
        return 1;
      };
      return { qname, zone, types: [T_PTR], nx, host: null, answer };
    }
    const apex = hosts[zipf.sample(rng)].apex;
    if (kind === 'mx') {
      nx = false; // an apex that answers A has MX data (or none), not NXDOMAIN
      const google = rng.chance(0.4);
      const n = rng.range(1, 3);
      const answer = (mm: Msg, ttl: (t: number) => number): number => {
        for (let i = 0; i < n; i++) {
          const at = mm.rr(apex, T_MX, ttl(3600));
          mm.u16(google ? [1, 5, 10][i] : 10 * (i + 1));
          mm.name(google ? ['aspmx.l.google.com', 'alt1.aspmx.l.google.com', 'alt2.aspmx.l.google.com'][i] : `mx${i + 1}.${apex}`);
          mm.end(at);
        }
        return n;
      };
      return { qname: apex, zone: apex, types: [T_MX], nx, host: null, answer };
    }
    if (kind === 'txt') {
      const style = rng.int(3);
      if (style === 0) nx = false;
      const qname = style === 1 ? `_dmarc.${apex}` : style === 2 ? `selector1._domainkey.${apex}` : apex;
      const strings =
        style === 1
          ? [`v=DMARC1; p=${rng.pick(['none', 'quarantine', 'reject'])}; rua=mailto:dmarc@${apex}`]
          : style === 2
            ? ['v=DKIM1; k=rsa; p=' + rng.chars(DKIM_CHARS, 200), rng.chars(DKIM_CHARS, 192)]
            : [`v=spf1 include:_spf.google.com include:${apex} ~all`, `google-site-verification=${rng.chars(DKIM_CHARS.slice(0, 62), 43)}`];
      const answer = (mm: Msg, ttl: (t: number) => number): number => {
        const records = style === 2 ? [strings] : strings.map((x) => [x]);
        for (const rec of records) {
          const at = mm.rr(qname, T_TXT, ttl(3600));
          txtStrings(mm, rec);
          mm.end(at);
        }
        return records.length;
      };
      return { qname, zone: apex, types: [T_TXT], nx, host: null, answer };
    }
    const [svc, port] = rng.pick(SRV_SERVICES);
    const qname = `${svc}.${apex}`;
    const answer = (mm: Msg, ttl: (t: number) => number): number => {
      const at = mm.rr(qname, T_SRV, ttl(3600));
      mm.u16(0);
      mm.u16(5);
      mm.u16(port);
      mm.name(`${svc.split('.')[0].slice(1)}.${apex}`, false); // RFC 2782: no compression in SRV targets
      mm.end(at);
      return 1;
    };
    return { qname, zone: apex, types: [T_SRV], nx, host: null, answer };
  };

  try {
    let t = clock.start;
    while (scheduled < target) {
      t += Math.max(1, Math.round(rng.exp(clock.gap(t))));
      if (t >= clock.end) break;
      while (heap.size > 0 && heap.peekTime() <= t) emit(heap.pop());

      const v6 = rng.chance(V6_SHARE);
      const ci = v6 ? v6Activity.sample(rng) : v4Activity.sample(rng);
      const c = v6 ? clients.v6[ci] : clients.v4[ci];
      const r = v6 ? resolvers[2] : resolvers[ci % 7 === 0 ? 1 : 0];
      const lk = makeLookup(ci, v6);
      const edns = rng.chance(0.85);
      const ednsSize = rng.chance(0.7) ? 1232 : 4096;
      const ednsDo = rng.chance(0.3);
      const cookie = edns && rng.chance(0.2) ? randomBytes(rng, 8) : null;
      const cached = lk.host ? rng.chance(lk.host.rank < 1000 ? 0.9 : 0.55) : rng.chance(0.5);
      const sharedPort = rng.chance(0.5); // glibc sends A and AAAA from one socket
      let port = rng.range(1024, 65535);
      let id = rng.int(0x10000);
      let tq = t;
      for (const qtype of lk.types) {
        const remaining = target - scheduled;
        if (remaining < 2) break;
        if (!sharedPort) port = rng.range(1024, 65535);
        if (port === 53) port = 1053;
        id = sharedPort ? (id + 1) & 0xffff : rng.int(0x10000); // one socket never reuses an id in flight
        const q: Query = {
          id,
          qname: lk.qname,
          qtype,
          edns: edns ? { size: ednsSize, do: ednsDo, cookie } : null,
        };
        const rcode = lk.nx ? 3 : rng.chance(SERVFAIL_SHARE) ? 2 : 0;
        names.add(lk.qname);
        clientSeen.add(c.text);
        let mode = rng.chance(TCP_SHARE) ? (rng.chance(0.4) ? 'tc+tcp' : 'tcp') : 'udp';
        if (mode === 'tc+tcp' && remaining < 10) mode = 'tcp';
        if (mode === 'tcp' && remaining < 8) mode = 'udp';
        if (mode === 'udp') {
          udpExchange(tq, c, r, port, q, lk, rcode, false, cached);
        } else {
          let ts = tq;
          if (mode === 'tc+tcp') ts = udpExchange(tq, c, r, port, q, lk, rcode, true, cached) + rng.range(50, 400);
          tcpExchange(ts, c, r, q, lk, rcode, cached); // the retry reuses the query as it was
        }
        tq += rng.range(10, 300);
      }
      if (target - scheduled === 1) {
        // one slot left: a query would lack its answer, so fill it with a non-DNS frame
        heap.push(t + 1, arpFrame(clients.v4[0], resolvers[0]));
        scheduled++;
        s.other++;
      }
    }
    while (heap.size > 0) emit(heap.pop());
    out.flush();
    if (Number.isFinite(clock.end) && t < clock.end) throw new Error(`the capture reached ${MAX_PACKETS} frames before its last day ended`);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true }); // no half-written capture left behind
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  s.distinctNames = names.size;
  s.distinctClients = clientSeen.size;
  s.firstTime = new Date(firstUs / 1000).toISOString();
  s.lastTime = new Date(lastUs / 1000).toISOString();
  s.bytes = out.bytes;
  if (opts.days !== undefined) {
    s.days = opts.days;
    s.rate = opts.rate ?? DEFAULT_RATE;
  }
  return s;
}

/** Cache file name without extension: the packets mode keeps its historical name. */
function cacheBase(opts: GenOptions): string {
  const head = `gen-v${GEN_VERSION}-seed${opts.seed >>> 0}`;
  return opts.days === undefined ? `${head}-${Math.floor(opts.packets ?? NaN)}` : `${head}-${opts.days}d-${opts.rate ?? DEFAULT_RATE}qps`;
}

/** The capture for opts under dir, generated once and reused; the summary sits beside it. */
export async function cachedCapture(dir: string, opts: GenOptions): Promise<{ path: string; summary: Summary; generated: boolean }> {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, cacheBase(opts));
  const path = `${base}.pcap`;
  const meta = `${base}.json`;
  if (existsSync(path) && existsSync(meta)) {
    try {
      const summary = JSON.parse(readFileSync(meta, 'utf8')) as Summary;
      const same =
        opts.days === undefined
          ? summary.days === undefined && summary.packets === Math.floor(opts.packets ?? NaN)
          : summary.days === opts.days && summary.rate === (opts.rate ?? DEFAULT_RATE);
      if (summary.version === GEN_VERSION && same) return { path, summary, generated: false };
    } catch {
      // unreadable summary: regenerate below
    }
  }
  const summary = await generateCapture(path, opts);
  writeFileSync(meta, JSON.stringify(summary, null, 2) + '\n');
  return { path, summary, generated: true };
}

const USAGE = 'usage: node dist/bench/gen.js OUT.pcap [packets] [seed]\n       node dist/bench/gen.js OUT.pcap --days N [--rate Q] [seed]\n';

// Writes one capture and prints its summary.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const { values, positionals } = parseArgs({ allowPositionals: true, options: { days: { type: 'string' }, rate: { type: 'string' } } });
    const [outPath, ...rest] = positionals;
    if (!outPath || rest.length > (values.days === undefined ? 2 : 1)) throw new Error('');
    const opts: GenOptions =
      values.days === undefined
        ? { packets: Number(rest[0] ?? 1_000_000), seed: Number(rest[1] ?? 1) }
        : { days: Number(values.days), rate: values.rate === undefined ? undefined : Number(values.rate), seed: Number(rest[0] ?? 1) };
    generateCapture(outPath, opts).then(
      (s) => process.stdout.write(JSON.stringify(s, null, 2) + '\n'),
      (e: unknown) => {
        process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  } catch (e) {
    process.stderr.write(`${e instanceof Error && e.message ? `${e.message}\n` : ''}${USAGE}`);
    process.exit(2);
  }
}
