// The `logs` bench step (issue #13, "Speed"): resolver query logs ingested by the whole process
// (`--bindLogFile FILE --dataDir DIR`, `--dnsmasqLogFile ...`) into a fresh embedded store, in
// lines/s, against the 300,000 lines/s target, beside `grep -c` and `wc -l` on the same file as the
// physical reference, in the same run.
//
// The logs are generated here, deterministically from the seed, and cached in ctx.cacheDir beside
// the captures. Both are ~LOG_LINES lines of one traffic model: ~2,000 clients (about one in eight
// over IPv6, some of them busy, most not) looking up names drawn Zipf-like from ~70,000 hostnames
// under ~3,000 registrable domains (a host lookup asks A, usually AAAA, sometimes HTTPS; other
// lookups are PTR, TXT, MX and SRV; a few names do not exist). No daily cycle.
//
// - BIND: lines exactly as BIND 9.18 writes them in the queries category with `print-time yes`
//   (checked against Debian's named 9.18 on loopback): client object pointer, address#port (with
//   `/key NAME` when TSIG-signed), the query name, class, type, flags (+/-, S, E(0), T, D, C, V/K in
//   BIND's order) and the destination address.
// - dnsmasq: lines as dnsmasq 2.90 writes them with `log-queries` to a log-facility file (checked
//   against Debian's dnsmasq 2.90 and the real log in ../shared/data/logs/): `query[T] NAME from
//   CLIENT`, then `cached ...` from a simulated cache (A/AAAA/PTR, positive and negative entries
//   with TTLs), or `forwarded NAME to UPSTREAM` and, a latency later (other queries in between),
//   `reply ...` lines: CNAME chains, several addresses, NXDOMAIN, NODATA(-IPv4/6), <HTTPS>/<MX>/<SRV>
//   placeholders, TXT texts, PTR answers under the address, `reply error is SERVFAIL`; `config` for
//   local names and sinkholed ones; DHCP lines in between; TCP queries answered by a forked child
//   (another PID).
//
// The generator is exported for test/bench-logs.test.ts; bench/run.ts is loaded only when the
// step runs (it runs the bench as soon as it is imported).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { engineAlone, engineRow } from './engine.js';
import type { Ctx, Row, Step } from './run.js';
import { ALNUM, HEX, LOWER, reverseV6, Rng, v6Text, Zipf } from './synth.js';

/** Bump when the model or a line format changes: it invalidates cached logs. */
export const LOGS_VERSION = 1;
/** Lines in each generated log (exact). */
export const LOG_LINES = 2_000_000;
export const LOG_CLIENTS = 2_000;
export const LOG_NAMES = 70_000;
export const LOG_APEXES = 3_000;
/** The step's target, for each format. */
export const TARGET_LINES_PER_SEC = 300_000;

export type LogFormat = 'bind' | 'dnsmasq';
export const LOG_FORMATS: readonly LogFormat[] = ['bind', 'dnsmasq'];

export interface LogOptions {
  seed: number;
  lines: number;
}

export interface LogSummary {
  version: number;
  format: LogFormat;
  seed: number;
  lines: number; // lines in the file (exact)
  queries: number; // query lines (BIND: every line; dnsmasq: `query[...]` lines)
  clients: number; // distinct clients that sent a query
  ipv6Clients: number;
  names: number; // distinct query names
  first: string; // first and last timestamp, as written
  last: string;
  bytes: number;
  counts: Record<string, number>; // per format: outcomes (dnsmasq), flags (BIND), types
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// ---------------------------------------------------------------- addresses

function v4Reverse(a: string): string {
  return `${a.split('.').reverse().join('.')}.in-addr.arpa`;
}

// Public-looking first octets (big hosting and CDN networks), and v6 prefixes of the same.
const V4_NETS = [13, 17, 18, 20, 23, 31, 34, 35, 40, 52, 54, 69, 72, 91, 104, 140, 142, 146, 151, 157, 162, 172, 185, 199, 204, 209, 213, 216];
const V6_NETS: readonly (readonly number[])[] = [
  [0x2a00, 0x1450],
  [0x2606, 0x4700],
  [0x2600, 0x1f18],
  [0x2a03, 0x2880],
  [0x2620, 0x1ec],
  [0x2a02, 0x26f0],
  [0x2600, 0x9000],
  [0x2001, 0x4860],
];

function publicV4(rng: Rng): string {
  const a = rng.pick(V4_NETS);
  // 172.16/12 is private: stay above it
  const b = a === 172 ? rng.range(64, 255) : rng.int(256);
  return `${a}.${b}.${rng.int(256)}.${rng.range(1, 254)}`;
}

function publicV6(rng: Rng): number[] {
  const [p, q] = rng.pick(V6_NETS);
  const g = [p, q, rng.range(1, 0xffff), rng.int(4) === 0 ? 0 : rng.range(1, 0xfff), 0, 0, 0, rng.range(1, 0xffff)];
  if (rng.chance(0.4)) g[6] = rng.range(1, 0xff);
  return g;
}

// ---------------------------------------------------------------- names

const FAMOUS = [
  'google.com', 'googleapis.com', 'gstatic.com', 'apple.com', 'icloud.com', 'microsoft.com', 'windows.com', 'live.com',
  'office.com', 'facebook.com', 'fbcdn.net', 'instagram.com', 'whatsapp.net', 'amazon.com', 'amazonaws.com', 'cloudfront.net',
  'akamaized.net', 'netflix.com', 'nflxvideo.net', 'youtube.com', 'googlevideo.com', 'ytimg.com', 'doubleclick.net',
  'cloudflare.com', 'github.com', 'githubusercontent.com', 'slack.com', 'zoom.us', 'spotify.com', 'tiktokcdn.com', 'twitter.com',
  'twimg.com', 'linkedin.com', 'wikipedia.org', 'reddit.com', 'mozilla.org', 'ubuntu.com', 'debian.org', 'msftncsi.com',
  'office.net', 'skype.com', 'digicert.com', 'letsencrypt.org', 'sentry.io', 'adobe.com', 'dropbox.com', 'steamcontent.com',
  'discord.gg', 'bbc.co.uk', 'spiegel.de',
];
const TLDS: readonly (readonly [string, number])[] = [
  ['com', 50], ['net', 10], ['org', 6], ['de', 5], ['io', 4], ['co.uk', 3], ['fr', 2], ['nl', 2], ['eu', 1], ['app', 1], ['dev', 1],
  ['info', 1], ['co', 1], ['it', 1], ['pl', 1], ['com.au', 1], ['ch', 1], ['se', 1], ['jp', 1], ['tv', 1],
];
const SYLLABLES = [
  'ka', 'lo', 'mi', 'ra', 'ten', 'vo', 'zu', 'bel', 'cor', 'dan', 'el', 'fi', 'gar', 'hu', 'in', 'jo', 'kel', 'lum', 'mar', 'nor',
  'or', 'pel', 'qui', 'ros', 'sal', 'tor', 'ul', 'ven', 'wex', 'yar', 'zen', 'al', 'bri', 'co', 'de', 'ex', 'fo', 'gen', 'ho', 'ix',
  'lan', 'mo', 'net', 'ox', 'pix', 'stor', 'tech', 'ly', 'fy', 'hub', 'box', 'go', 'on', 'ar', 'is', 'um', 'sky', 'cloud', 'data',
];
const WORDS = [
  'api', 'cdn', 'static', 'img', 'images', 'm', 'mail', 'login', 'auth', 'app', 'assets', 'media', 'video', 'edge', 'push', 'sync',
  'telemetry', 'update', 'updates', 'ocsp', 'crl', 'events', 'metrics', 'analytics', 'tracking', 'ads', 'pixel', 'graph', 'ws',
  'chat', 'files', 'download', 'dl', 'mirror', 'repo', 'docs', 'help', 'support', 'shop', 'store', 'news', 'blog', 'status',
  'portal', 'accounts', 'id', 'sso', 'gateway', 'config', 'settings', 'clients', 'content', 'fonts', 'js', 'css', 's3', 'storage',
  'backup', 'vpn', 'remote', 'time', 'ntp', 'connect', 'collector', 'logs', 'beacon', 'a', 'b', 'c', 'secure', 'web', 'www2', 'v1',
];
const REGIONS = ['eu', 'us', 'ap', 'eu-west-1', 'us-east-1', 'fra', 'ams', 'lhr', 'iad', 'sjc', 'nrt', 'syd', 'prod', 'global'];

function apexLabel(rng: Rng): string {
  let s = '';
  const n = rng.weighted([[2, 6], [3, 3], [1, 1]] as const);
  for (let i = 0; i < n; i++) s += rng.pick(SYLLABLES);
  if (rng.chance(0.08)) s += `-${rng.pick(SYLLABLES)}${rng.pick(SYLLABLES)}`;
  if (rng.chance(0.05)) s += String(rng.range(1, 99));
  return s;
}

function hostUnder(rng: Rng, apex: string): string {
  switch (rng.weighted([['www', 8], ['word', 40], ['wordn', 10], ['region', 8], ['deep', 14], ['hash', 12], ['apex', 3]] as const)) {
    case 'www':
      return `www.${apex}`;
    case 'word':
      return `${rng.pick(WORDS)}.${apex}`;
    case 'wordn':
      return `${rng.pick(WORDS)}${rng.range(1, 40)}.${apex}`;
    case 'region':
      return `${rng.pick(WORDS)}-${rng.pick(REGIONS)}.${apex}`;
    case 'deep':
      return `${rng.pick(WORDS)}.${rng.pick(WORDS)}.${apex}`;
    case 'hash':
      return `${rng.chars(ALNUM, rng.range(8, 16))}.${rng.pick(['edge', 'cdn', 'c', 't'])}.${apex}`;
    default:
      return apex;
  }
}

interface Host {
  name: string;
  apex: string;
  nx: boolean; // NXDOMAIN for every type
  chain: string[]; // CNAME targets in order; the last one holds the addresses
  v4: string[]; // empty: NODATA for A
  v6: number[][]; // empty: NODATA for AAAA
  https: boolean; // an HTTPS record (else NODATA)
  ttl: number; // seconds
}

/** CNAME targets at a CDN for name (1 or 2 hops). */
function cdnChain(rng: Rng, name: string, apex: string): string[] {
  const flat = name.replace(/\./g, '-');
  const label = apex.split('.')[0];
  switch (rng.int(6)) {
    case 0:
      return [`${name}.cdn.cloudflare.net`];
    case 1:
      return [`${name}.edgekey.net`, `e${rng.range(1, 9999)}.${rng.pick(['a', 'b', 'dscb', 'dsce9'])}.akamaiedge.net`];
    case 2:
      return [`${name}.edgesuite.net`, `a${rng.range(1, 1999)}.dscb.akamai.net`];
    case 3:
      return [`d${rng.chars(ALNUM, 13)}.cloudfront.net`];
    case 4:
      return [`${label}.trafficmanager.net`, `${label}-${rng.pick(REGIONS)}.cloudapp.azure.com`];
    default:
      return [`${flat}.s-msedge.net`, `s-${String(rng.range(1, 9999)).padStart(4, '0')}.s-msedge.net`];
  }
}

const TTLS: readonly (readonly [number, number])[] = [
  [20, 4], [60, 10], [300, 30], [600, 10], [1800, 8], [3600, 25], [14400, 5], [86400, 8],
];

interface Universe {
  apexes: string[];
  hosts: Host[];
  hostZipf: Zipf;
  apexZipf: Zipf;
}

function buildUniverse(rng: Rng): Universe {
  const apexSet = new Set<string>(FAMOUS);
  while (apexSet.size < LOG_APEXES) apexSet.add(`${apexLabel(rng)}.${rng.weighted(TLDS)}`);
  const apexes = [...apexSet];
  const apexZipf = new Zipf(apexes.length, 1.0);
  const names = new Set<string>();
  const hosts: Host[] = [];
  // the most asked names are the well-known sites' own; then hosts of apexes as popular as they are
  const famousHosts = FAMOUS.slice(0, 24).map((apex, i) => (i % 3 === 2 ? `${rng.pick(WORDS)}.${apex}` : `www.${apex}`));
  while (hosts.length < LOG_NAMES) {
    const apex = apexes[apexZipf.sample(rng)];
    const name =
      hosts.length < famousHosts.length ? famousHosts[hosts.length] : names.size < apexes.length / 8 && rng.chance(0.5) ? `www.${apex}` : hostUnder(rng, apex);
    if (names.has(name)) continue;
    names.add(name);
    const famousCdn = /akamai|cloudfront|msedge|googlevideo|nflxvideo|fbcdn/.test(apex);
    const chain = !famousCdn && name !== apex && rng.chance(0.22) ? cdnChain(rng, name, apex) : [];
    const v4count = rng.weighted([[1, 60], [2, 20], [3, 10], [4, 8], [0, 2]] as const);
    const v6count = rng.chance(0.55) ? rng.range(1, 2) : 0;
    const v4: string[] = [];
    for (let i = 0; i < v4count; i++) v4.push(publicV4(rng));
    const v6: number[][] = [];
    for (let i = 0; i < v6count; i++) v6.push(publicV6(rng));
    hosts.push({ name, apex, nx: rng.chance(0.015), chain, v4, v6, https: rng.chance(chain[0]?.includes('cloudflare') ? 0.8 : 0.2), ttl: rng.weighted(TTLS) });
  }
  return { apexes, hosts, hostZipf: new Zipf(hosts.length, 1.0), apexZipf };
}

// ---------------------------------------------------------------- clients

interface Client {
  ip: string;
  v6: boolean;
  subnetHome: boolean; // in the DHCP range (192.168.x): gets DHCP lines
  mac: string;
  hostname: string;
  // BIND's view of it
  objects: string[]; // `client @0x...` pointers its queries show
  server: string; // the address it sends to
  edns: boolean;
  cookie: number; // chance of a cookie option: K first, V once it has the server's
  dnssecOk: number; // chance of D
  rd: boolean; // '+' (recursion desired)
  key: string | null; // TSIG key name (S)
}

const HOSTNAMES = ['DESKTOP-', 'LAPTOP-', 'iPhone', 'android-', 'Galaxy-S', 'raspberrypi', 'printer', 'tv-', 'chromecast', 'nas'];

function makeClients(rng: Rng): Client[] {
  const ips = new Set<string>();
  const pool = Array.from({ length: 512 }, () => `0x7f${rng.chars(HEX, 7)}${rng.pick(['098', '898', '498', 'c98', '298', 'a98', '698', 'e98'])}`);
  const clients: Client[] = [];
  while (clients.length < LOG_CLIENTS) {
    const v6 = rng.chance(0.12);
    let ip: string;
    let home = false;
    if (v6) {
      ip = rng.chance(0.5)
        ? v6Text([0x2001, 0xdb8, 0x10, rng.range(1, 0x40), 0, 0, 0, rng.range(2, 0xfff)])
        : v6Text([0xfd12, 0x3456, 0x789a, rng.range(1, 9), rng.range(1, 0xffff), rng.range(1, 0xffff), rng.range(1, 0xffff), rng.range(1, 0xffff)]);
    } else if (rng.chance(0.35)) {
      home = true;
      ip = `192.168.${rng.range(0, 7)}.${rng.range(2, 254)}`;
    } else ip = `10.${rng.range(0, 3)}.${rng.range(0, 63)}.${rng.range(2, 254)}`;
    if (ips.has(ip)) continue;
    ips.add(ip);
    const forwarder = rng.chance(0.02); // another resolver forwarding here: validating, TSIG sometimes
    clients.push({
      ip,
      v6,
      subnetHome: home,
      mac: [(rng.int(128) * 2).toString(16).padStart(2, '0'), ...Array.from({ length: 5 }, () => rng.chars(HEX, 2))].join(':'),
      hostname: `${rng.pick(HOSTNAMES)}${rng.chars('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', 6)}`,
      objects: Array.from({ length: rng.range(1, 4) }, () => rng.pick(pool)),
      server: v6 ? '2001:db8:53::53' : rng.chance(0.7) ? '10.0.0.53' : '10.0.1.53',
      edns: forwarder || rng.chance(0.85),
      cookie: rng.chance(0.6) ? 0.9 : 0,
      dnssecOk: forwarder ? 0.98 : rng.chance(0.15) ? 0.9 : 0.01,
      rd: !rng.chance(0.01),
      key: forwarder && rng.chance(0.15) ? `tsig-${rng.pick(['fwd', 'branch', 'dmz'])}.example` : null,
    });
  }
  return clients;
}

// ---------------------------------------------------------------- lookups (both formats)

type QType = 'A' | 'AAAA' | 'HTTPS' | 'PTR' | 'TXT' | 'MX' | 'SRV';

/** A name that is not in the host pool: its answer is described here. */
interface Other {
  kind: 'ptr' | 'txt' | 'mx' | 'srv' | 'junk';
  name: string;
  nx: boolean;
  answer: string[]; // what dnsmasq shows after "is"
  under: string; // the name dnsmasq shows a PTR answer under (the address), else name
}

interface Lookup {
  client: number;
  host: Host | null; // a host lookup (A/AAAA/HTTPS)
  other: Other | null;
  types: QType[];
}

const LOCAL_HOSTS: readonly (readonly [string, string])[] = [
  ['router.lan', '192.168.0.1'],
  ['nas.lan', '192.168.0.5'],
  ['printer.lan', '192.168.0.9'],
  ['pihole.lan', '192.168.0.2'],
  ['homeassistant.lan', '192.168.0.20'],
];

class Traffic {
  private readonly clientZipf = new Zipf(LOG_CLIENTS, 0.9);

  constructor(
    private readonly rng: Rng,
    private readonly u: Universe,
    readonly clients: Client[],
    private readonly seed: number,
  ) {}

  next(): Lookup {
    const rng = this.rng;
    const client = this.clientZipf.sample(rng);
    const kind = rng.weighted([['host', 880], ['ptr', 50], ['txt', 30], ['mx', 12], ['srv', 10], ['junk', 8]] as const);
    if (kind === 'host') {
      const host = this.u.hosts[this.u.hostZipf.sample(rng)];
      const types: QType[] = [];
      if (rng.chance(0.95)) types.push('A');
      if (rng.chance(0.7) || types.length === 0) types.push('AAAA');
      if (rng.chance(0.3)) types.push('HTTPS');
      return { client, host, other: null, types };
    }
    const apex = this.u.apexes[this.u.apexZipf.sample(rng)];
    // what a name answers is the same at every lookup: from its own generator
    const fixed = (name: string): Rng => new Rng(fnv1a(name) ^ this.seed);
    const other = ((): Other => {
      switch (kind) {
        case 'ptr': {
          if (rng.chance(0.03)) {
            const g = this.u.hosts[this.u.hostZipf.sample(rng)].v6[0] ?? publicV6(rng);
            return { kind, name: reverseV6(g), nx: true, answer: [], under: v6Text(g) };
          }
          const local = rng.chance(0.1) ? rng.pick(LOCAL_HOSTS) : null;
          // the addresses names resolve to, as popular as those names
          const addr = local ? local[1] : (this.u.hosts[this.u.hostZipf.sample(rng)].v4[0] ?? publicV4(rng));
          const r = fixed(addr);
          const nx = !local && r.chance(0.3);
          const answer = local ? [local[0]] : nx ? [] : [`${r.pick(['server', 'host', 'static', 'ec2', 'edge'])}-${addr.replace(/\./g, '-')}.${this.u.apexes[r.int(LOG_APEXES)]}`];
          return { kind, name: v4Reverse(addr), nx, answer, under: addr };
        }
        case 'txt': {
          const which = rng.int(3);
          const name = which === 0 ? apex : which === 1 ? `_dmarc.${apex}` : `${rng.pick(['selector1', 'google', 's1', 'k1'])}._domainkey.${apex}`;
          const r = fixed(name);
          const nx = which === 2 && r.chance(0.4);
          const answer =
            which === 0
              ? [`v=spf1 include:_spf.${apex} ~all`, ...(r.chance(0.5) ? [`google-site-verification=${r.chars(B64, 43)}`] : [])]
              : which === 1
                ? [`v=DMARC1; p=${r.pick(['none', 'quarantine', 'reject'])}; rua=mailto:dmarc@${apex}`]
                : [`v=DKIM1; k=rsa; p=${r.chars(B64, 60)}`];
          return { kind, name, nx, answer, under: name };
        }
        case 'mx':
          return { kind, name: apex, nx: false, answer: fixed(apex).chance(0.9) ? ['<MX>'] : [], under: apex };
        case 'srv': {
          const name = rng.chance(0.6) ? `${rng.pick(['_xmpp-client._tcp', '_sip._tls', '_imaps._tcp', '_autodiscover._tcp'])}.${apex}` : '_ldap._tcp.dc._msdcs.corp.lan';
          return { kind, name, nx: name.endsWith('.lan') || fixed(name).chance(0.5), answer: ['<SRV>'], under: name };
        }
        default: {
          const name = rng.weighted([
            [`wpad.${rng.pick(['lan', 'home.arpa', 'corp.lan'])}`, 3],
            [`${rng.chars(LOWER, rng.range(7, 15))}.${rng.pick(['lan', 'home.arpa', 'local'])}`, 4],
            [`${rng.pick(WORDS)}.${rng.chars(LOWER, rng.range(5, 10))}.${rng.pick(['com', 'net'])}`, 3],
          ] as const);
          return { kind, name, nx: true, answer: [], under: name };
        }
      }
    })();
    const t: QType = kind === 'ptr' ? 'PTR' : kind === 'txt' ? 'TXT' : kind === 'mx' ? 'MX' : kind === 'srv' ? 'SRV' : rng.chance(0.7) ? 'A' : 'AAAA';
    return { client, host: null, other, types: [t] };
  }
}

// ---------------------------------------------------------------- writing

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
// Local wall time of the first line (no zone: both formats write local time); it crosses a midnight.
const START_MS = Date.UTC(2026, 2, 2, 23, 30, 0);
const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Buffered writer that stops at exactly `limit` lines. */
class LineSink {
  private parts: string[] = [];
  private pending = 0;
  lines = 0;
  bytes = 0;

  constructor(
    private readonly fd: number,
    private readonly limit: number,
  ) {}

  get full(): boolean {
    return this.lines >= this.limit;
  }

  push(line: string): void {
    if (this.lines >= this.limit) return;
    this.parts.push(line);
    this.lines++;
    if (++this.pending >= 8192) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join('\n') + '\n', 'utf8');
    writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.pending = 0;
  }
}

/** Seconds-resolution time text, remembered for the current second. */
class Clock {
  private sec = -1;
  private text = '';

  constructor(private readonly fmt: (d: Date) => string) {}

  at(ms: number): string {
    const sec = Math.floor(ms / 1000);
    if (sec !== this.sec) {
      this.sec = sec;
      this.text = this.fmt(new Date(START_MS + sec * 1000));
    }
    return this.text;
  }
}

const bindTime = (d: Date): string =>
  `${p2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
const syslogTime = (d: Date): string =>
  `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;

interface Tally {
  queries: number;
  clients: Set<number>;
  names: Set<string>;
  counts: Record<string, number>;
}

function count(t: Tally, key: string, n = 1): void {
  t.counts[key] = (t.counts[key] ?? 0) + n;
}

// BIND: ~370 queries/s.
function writeBind(sink: LineSink, rng: Rng, traffic: Traffic, tally: Tally): [string, string] {
  const clock = new Clock(bindTime);
  let ms = 0;
  let first = '';
  let last = '';
  while (!sink.full) {
    const l = traffic.next();
    const c = traffic.clients[l.client];
    ms += rng.exp(1000 / 270); // lookups/s; ~1.4 queries each
    let port = rng.range(1024, 65535);
    const object = rng.pick(c.objects);
    const tcp = rng.chance(0.02);
    for (let i = 0; i < l.types.length && !sink.full; i++) {
      const type = l.types[i];
      const name = l.host ? l.host.name : (l.other as Other).name;
      if (i > 0) {
        ms += rng.float() * 2;
        if (rng.chance(0.3)) port = rng.range(1024, 65535); // glibc asks A and AAAA from one socket, others do not
      }
      const edns = c.edns && !rng.chance(0.01);
      const d = edns && rng.chance(c.dnssecOk);
      const cd = d && rng.chance(0.05);
      const cookie = edns && rng.chance(c.cookie) ? (rng.chance(0.7) ? 'V' : 'K') : '';
      const s = c.key !== null;
      const flags = `${c.rd ? '+' : '-'}${s ? 'S' : ''}${edns ? 'E(0)' : ''}${tcp ? 'T' : ''}${d ? 'D' : ''}${cd ? 'C' : ''}${cookie}`;
      const ts = `${clock.at(ms)}.${String(Math.floor(ms % 1000)).padStart(3, '0')}`;
      const who = `${c.ip}#${port}${s ? `/key ${c.key}` : ''}`;
      sink.push(`${ts} client @${object} ${who} (${name}): query: ${name} IN ${type} ${flags} (${c.server})`);
      if (!first) first = ts;
      last = ts;
      tally.queries++;
      tally.clients.add(l.client);
      tally.names.add(name);
      count(tally, `type ${type}`);
      if (tcp) count(tally, 'T');
      if (d) count(tally, 'D');
      if (cd) count(tally, 'C');
      if (s) count(tally, 'S');
      if (!edns) count(tally, 'no EDNS');
      if (!c.rd) count(tally, '-');
      if (cookie) count(tally, cookie);
    }
  }
  return [first, last];
}

interface Pending {
  ms: number;
  seq: number;
  pid: number;
  lines: string[]; // without the time/pid prefix
}

const UPSTREAMS: readonly (readonly [string, number])[] = [['1.1.1.1', 45], ['9.9.9.9', 35], ['2620:fe::fe', 20]];
const SINKHOLED = ['ads', 'tracker', 'metrics', 'pixel', 'telemetry'];
const CACHED_TYPES = new Set<QType>(['A', 'AAAA', 'PTR']); // dnsmasq 2.90 caches no other type (no cache-rr)

// dnsmasq: ~160 queries/s through one dnsmasq: a simulated cache, forwards answered a latency later.
function writeDnsmasq(sink: LineSink, rng: Rng, traffic: Traffic, tally: Tally): [string, string] {
  const clock = new Clock(syslogTime);
  const pid = rng.range(400, 32000);
  const cache = new Map<string, { from: number; until: number }>(); // name \0 type -> when the answer is in the cache (ms)
  const pending: Pending[] = []; // replies to come, by time
  let seq = 0;
  let ms = 0;
  let first = '';
  let last = '';
  const emit = (at: number, p: number, text: string, dhcp = false): void => {
    const ts = clock.at(at);
    if (!first) first = ts;
    last = ts;
    sink.push(`${ts} dnsmasq${dhcp ? '-dhcp' : ''}[${p}]: ${text}`);
  };
  const flushUntil = (until: number): void => {
    while (pending.length > 0 && pending[0].ms <= until && !sink.full) {
      const r = pending.shift() as Pending;
      for (const line of r.lines) emit(r.ms, r.pid, line);
    }
  };
  const schedule = (r: Pending): void => {
    let i = pending.length;
    while (i > 0 && (pending[i - 1].ms > r.ms || (pending[i - 1].ms === r.ms && pending[i - 1].seq > r.seq))) i--;
    pending.splice(i, 0, r);
  };
  // What a resolver answered for (name, type): the lines after "<verb> ", and the TTL in ms.
  const answer = (l: Lookup, type: QType): { lines: string[]; ttlMs: number; outcome: string } => {
    if (l.host) {
      const h = l.host;
      const ttlMs = h.ttl * 1000;
      if (h.nx) return { lines: [`${h.name} is NXDOMAIN`], ttlMs: 300_000, outcome: 'NXDOMAIN' };
      const lines: string[] = [];
      const names = [h.name, ...h.chain];
      const final = names[names.length - 1];
      for (let i = 0; i < names.length - 1; i++) lines.push(`${names[i]} is <CNAME>`);
      let outcome = 'answer';
      if (type === 'A') {
        for (const a of h.v4) lines.push(`${final} is ${a}`);
        if (h.v4.length === 0) lines.push(`${final} is NODATA-IPv4`);
      } else if (type === 'AAAA') {
        for (const g of h.v6) lines.push(`${final} is ${v6Text(g)}`);
        if (h.v6.length === 0) lines.push(`${final} is NODATA-IPv6`);
      } else lines.push(`${final} is ${h.https ? '<HTTPS>' : 'NODATA'}`);
      if (/NODATA/.test(lines[lines.length - 1])) outcome = 'NODATA';
      return { lines, ttlMs, outcome };
    }
    const o = l.other as Other;
    if (o.nx) return { lines: [`${o.under} is NXDOMAIN`], ttlMs: 900_000, outcome: 'NXDOMAIN' };
    if (o.answer.length === 0) return { lines: [`${o.under} is NODATA`], ttlMs: 900_000, outcome: 'NODATA' };
    return { lines: o.answer.map((a) => `${o.under} is ${a}`), ttlMs: 3_600_000, outcome: 'answer' };
  };
  while (!sink.full) {
    const l = traffic.next();
    const c = traffic.clients[l.client];
    ms += rng.exp(1000 / 115); // lookups/s; ~1.4 queries each
    flushUntil(ms);
    if (rng.chance(0.004)) {
      // a lease renewal (DHCP lines end with a space when there is no hostname)
      const h = traffic.clients[rng.int(traffic.clients.length)];
      if (h.subnetHome) {
        const iface = 'eth0';
        const lines: string[] = [];
        if (rng.chance(0.2)) lines.push(`DHCPDISCOVER(${iface}) ${h.mac} `, `DHCPOFFER(${iface}) ${h.ip} ${h.mac} `);
        lines.push(`DHCPREQUEST(${iface}) ${h.ip} ${h.mac} `, `DHCPACK(${iface}) ${h.ip} ${h.mac} ${rng.chance(0.8) ? h.hostname : ''}`);
        for (const line of lines) emit(ms, pid, line, true);
        count(tally, 'dhcp lines', lines.length);
      }
    }
    for (let i = 0; i < l.types.length && !sink.full; i++) {
      const type = l.types[i];
      if (i > 0) ms += rng.float() * 3;
      const name = l.host ? l.host.name : (l.other as Other).name;
      const tcp = rng.chance(0.002); // answered by a forked child
      const p = tcp ? pid + rng.range(1, 5000) : pid;
      emit(ms, p, `query[${type}] ${name} from ${c.ip}`);
      tally.queries++;
      tally.clients.add(l.client);
      tally.names.add(name);
      count(tally, `type ${type}`);
      const key = `${name}\0${type}`;
      // local names: config
      const local = l.other?.kind === 'ptr' && LOCAL_HOSTS.some(([, a]) => a === l.other?.under);
      const sink4 = l.host !== null && type === 'A' && SINKHOLED.includes(l.host.name.split('.')[0]) && fnv1a(l.host.name) % 2 === 0; // address=/NAME/0.0.0.0
      if (local || sink4) {
        if (local) emit(ms, p, `config ${(l.other as Other).under} is ${(l.other as Other).answer[0]}`);
        else emit(ms, p, `config ${name} is 0.0.0.0`);
        count(tally, 'config');
        continue;
      }
      const a = answer(l, type);
      const entry = cache.get(key);
      if (CACHED_TYPES.has(type) && entry !== undefined && entry.from <= ms && ms < entry.until) {
        for (const line of a.lines) emit(ms, p, `cached ${line}`);
        count(tally, 'cached');
        count(tally, `cached ${a.outcome}`);
        continue;
      }
      const upstream = rng.weighted(UPSTREAMS);
      emit(ms, p, `forwarded ${name} to ${upstream}`);
      if (rng.chance(0.02)) emit(ms, p, `forwarded ${name} to ${rng.weighted(UPSTREAMS.filter(([u]) => u !== upstream))}`);
      count(tally, 'forwarded');
      const latency = Math.min(3000, rng.logNormal(a.outcome === 'NXDOMAIN' ? 25 : 12, 1.1));
      const failed = rng.chance(0.003);
      const lines = failed ? [`error is ${rng.chance(0.8) ? 'SERVFAIL' : 'REFUSED'}`] : a.lines;
      count(tally, failed ? 'reply error' : `reply ${a.outcome}`);
      schedule({ ms: ms + latency, seq: seq++, pid: p, lines: lines.map((x) => `reply ${x}`) });
      if (!failed && CACHED_TYPES.has(type)) cache.set(key, { from: ms + latency, until: ms + latency + a.ttlMs });
    }
  }
  return [first, last];
}

/** Writes one log of opts.lines lines (exact) and returns its summary. Deterministic for (format, seed, lines). */
export function generateLog(path: string, format: LogFormat, opts: LogOptions): LogSummary {
  if (!Number.isInteger(opts.lines) || opts.lines < 1) throw new Error(`lines must be a positive integer, not ${opts.lines}`);
  // one universe per seed (the same names and clients in both formats), one traffic stream per format
  const rng = new Rng(opts.seed);
  const universe = buildUniverse(rng);
  const clients = makeClients(rng);
  const trafficRng = new Rng((opts.seed ^ (format === 'bind' ? 0x62696e64 : 0x646e736d)) >>> 0);
  const traffic = new Traffic(trafficRng, universe, clients, opts.seed);
  const tally: Tally = { queries: 0, clients: new Set(), names: new Set(), counts: {} };
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  const sink = new LineSink(fd, opts.lines);
  let first: string;
  let last: string;
  try {
    [first, last] = format === 'bind' ? writeBind(sink, trafficRng, traffic, tally) : writeDnsmasq(sink, trafficRng, traffic, tally);
    sink.flush();
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const ipv6Clients = [...tally.clients].filter((i) => clients[i].v6).length;
  const counts = Object.fromEntries(Object.entries(tally.counts).sort(([a], [b]) => a.localeCompare(b)));
  return {
    version: LOGS_VERSION,
    format,
    seed: opts.seed,
    lines: sink.lines,
    queries: tally.queries,
    clients: tally.clients.size,
    ipv6Clients,
    names: tally.names.size,
    first,
    last,
    bytes: sink.bytes,
    counts,
  };
}

// ---------------------------------------------------------------- cache

function cacheBase(format: LogFormat, opts: LogOptions): string {
  return `logs-v${LOGS_VERSION}-seed${opts.seed}-${opts.lines}.${format}`;
}

/** The log for (format, seed, lines) in dir, generated when missing or stale. */
export function cachedLog(dir: string, format: LogFormat, opts: LogOptions): { path: string; summary: LogSummary; generated: boolean } {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, cacheBase(format, opts));
  const path = `${base}.log`;
  const meta = `${base}.json`;
  if (existsSync(path) && existsSync(meta)) {
    try {
      const summary = JSON.parse(readFileSync(meta, 'utf8')) as LogSummary;
      if (summary.version === LOGS_VERSION && summary.lines === opts.lines && summary.bytes === statSync(path).size) return { path, summary, generated: false };
    } catch {
      // unreadable summary: regenerate below
    }
  }
  rmSync(meta, { force: true });
  const summary = generateLog(path, format, opts);
  writeFileSync(meta, JSON.stringify(summary, null, 2) + '\n');
  return { path, summary, generated: true };
}

// ---------------------------------------------------------------- the step

const STEP = 'logs';
type RunModule = typeof import('./run.js');
type Timed = Awaited<ReturnType<RunModule['runTimed']>>;

const FORMAT: Record<LogFormat, { label: string; flag: string; grep: string }> = {
  bind: { label: 'BIND', flag: '--bindLogFile', grep: 'query:' },
  dnsmasq: { label: 'dnsmasq', flag: '--dnsmasqLogFile', grep: 'query\\[' },
};

/** A ratio of rates, readable below 1 too. */
function ratio(x: number): string {
  return `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toPrecision(2)}×`;
}

/** DNS_LOG's events (queries, responses) in a data dir, through `dnslens sql`. */
async function storedEvents(ctx: Ctx, run: RunModule, dir: string): Promise<{ total: number; queries: number; responses: number } | string> {
  const sql = 'SELECT count(), countIf(QR = 0), countIf(QR = 1) FROM DNS_LOG FORMAT TabSeparated';
  const t = await run.runTimed(process.execPath, [run.mainScript(ctx), 'sql', '--dataDir', dir, sql], { captureStdout: true, timeoutMs: ctx.timeoutMs, cwd: ctx.root });
  if (t.code !== 0) return `dnslens sql: ${run.failure(t)}`;
  const [total, queries, responses] = t.stdout.trim().split('\t').map(Number);
  return Number.isFinite(total) ? { total, queries, responses } : `dnslens sql: unexpected output ${JSON.stringify(t.stdout.slice(0, 200))}`;
}

async function measure(ctx: Ctx, run: RunModule, format: LogFormat): Promise<Row[]> {
  const { label, flag, grep } = FORMAT[format];
  const t0 = Date.now();
  const { path, summary: s, generated } = cachedLog(ctx.cacheDir, format, { seed: ctx.seed, lines: LOG_LINES });
  const made = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  const rows: Row[] = [
    {
      step: STEP,
      figure: `${label}: log`,
      value: `${run.int(s.lines)} lines`,
      note:
        `${(s.bytes / 1e6).toFixed(0)} MB, ${run.int(s.queries)} queries, ${run.int(s.clients)} clients (${run.int(s.ipv6Clients)} IPv6), ` +
        `${run.int(s.names)} names, ${s.first} .. ${s.last}; ${generated ? `generated in ${made}` : 'cached'}`,
    },
  ];
  const opts = { captureStdout: true, timeoutMs: ctx.timeoutMs, cwd: ctx.root };
  await run.runTimed('wc', ['-l', path], opts); // the file in the page cache for all three

  // dnslens, into a fresh store each time: the fastest run counts, and the highest peak RSS
  let best: { t: Timed; dir: string } | null = null;
  let rss: number | null = null;
  for (let i = 0; i < ctx.repeat; i++) {
    const dir = run.freshDir(`${STEP}-${format}`);
    // the output named, as in the store step: the run ingests and exits (no summary report after it)
    const t = await run.runTimed(process.execPath, [run.mainScript(ctx), flag, path, '--clickhouseOutputType', '1', '--dataDir', dir], opts);
    if (t.code !== 0) {
      process.stderr.write(`bench: ${STEP}: dnslens ${flag} ${path} failed (${t.signal ?? `exit ${t.code}`}); stderr ends:\n${t.stderrTail}\n`);
      rows.push({ step: STEP, figure: `${label}: dnslens lines/s`, value: 'failed', pass: false, note: run.failure(t) });
      best = null;
      break;
    }
    if (t.maxRssKb !== null) rss = Math.max(rss ?? 0, t.maxRssKb);
    if (best === null || t.seconds < best.t.seconds) best = { t, dir };
  }
  let ours: number | null = null;
  if (best !== null) {
    const { t, dir } = best;
    ours = s.lines / t.seconds;
    // its own counters, from the summary it prints on stderr at exit
    const counter = (label: string): string => t.stderrTail.match(new RegExp(`${label}\\s+([\\d,]+)`))?.[1] ?? '?';
    const read = `dnslens read ${counter('lines read')} lines, ${counter('do not parse')} bad`;
    const events = await storedEvents(ctx, run, dir);
    const stored =
      typeof events === 'string'
        ? events
        : `${run.int(events.total)} events stored (${run.int(events.queries)} queries, ${run.int(events.responses)} responses; ${run.int(s.queries)} query lines)`;
    rows.push(
      {
        step: STEP,
        figure: `${label}: dnslens lines/s`,
        value: run.rate(ours, 'line'),
        target: `≥ ${run.int(TARGET_LINES_PER_SEC)} line/s`,
        pass: ours >= TARGET_LINES_PER_SEC,
        note: `${t.seconds.toFixed(2)} s spawn to exit, CPU ${run.cpu(t.cpuSeconds)}; ${read}; ${stored}`,
      },
      { step: STEP, figure: `${label}: dnslens peak RSS`, value: run.mb(rss) },
    );
    // the ceiling of the figure above: the engine alone inserting the same rows
    const e = await engineAlone(ctx, `${STEP}-${format}`, dir);
    rows.push(engineRow(STEP, `${label}: engine alone lines/s`, e, (r) => run.rate(s.lines / r.seconds, 'line'), t.seconds));
    // ... and of any whole run: a fresh store is migrated before the first insert, and the signals
    // read every row after the last one; the run's own log says how long each took
    const ms = (text: string, msg: string): number | null => {
      const m = new RegExp(`"ms":(\\d+)[^\\n]*"msg":"${msg}"`).exec(text);
      return m ? Number(m[1]) / 1000 : null;
    };
    const migrated = ms(t.stderrHead, 'schema migrated');
    const signals = ms(t.stderrTail, 'signals evaluated');
    if (migrated === null || signals === null) {
      const missing = [migrated === null ? "'schema migrated'" : '', signals === null ? "'signals evaluated'" : ''].filter(Boolean).join(' and ');
      rows.push({ step: STEP, figure: `${label}: whole-run ceiling lines/s`, value: 'not known', note: `the run's log has no ${missing} line with its time` });
    } else if (typeof e !== 'string') {
      const floor = e.seconds + migrated + signals;
      rows.push({
        step: STEP,
        figure: `${label}: whole-run ceiling lines/s`,
        value: run.rate(s.lines / floor, 'line'),
        note:
          `no run is faster than its serial parts: the engine alone ${e.seconds.toFixed(2)} s + this run's fresh-store migration ${migrated.toFixed(2)} s ` +
          `+ its signals at the end ${signals.toFixed(2)} s = ${floor.toFixed(2)} s; dnslens reaches ${((100 * floor) / t.seconds).toFixed(0)}% of it`,
      });
    }
  }

  // the physical references: the same file read by grep -c and wc -l
  const refs: [string, string, string[], number][] = [
    [`grep -c '${grep}'`, 'grep', ['-c', grep, path], s.queries],
    ['wc -l', 'wc', ['-l', path], s.lines],
  ];
  for (const [name, cmd, args, expected] of refs) {
    const t = await run.bestOf(ctx, cmd, args, true);
    if (t.code !== 0) {
      rows.push({ step: STEP, figure: `${label}: ${name} lines/s`, value: 'failed', note: run.failure(t) });
      continue;
    }
    const got = Number(t.stdout.trim().split(/\s+/)[0]);
    const theirs = s.lines / t.seconds;
    rows.push({
      step: STEP,
      figure: `${label}: ${name} lines/s`,
      value: run.rate(theirs, 'line'),
      note: `${t.seconds.toFixed(3)} s, CPU ${run.cpu(t.cpuSeconds)}; counted ${run.int(got)}${got === expected ? '' : ` (expected ${run.int(expected)})`}`,
    });
    if (ours !== null) {
      rows.push({
        step: STEP,
        figure: `${label}: dnslens / ${name}`,
        value: ratio(ours / theirs),
        note: ours < theirs ? `${name} is ${ratio(theirs / ours)} faster` : undefined,
      });
    }
  }
  return rows;
}

export const logsStep: Step = {
  name: STEP,
  title:
    `resolver query logs (generated, ${LOG_LINES.toLocaleString('en-US')} lines each: BIND 9.18 query log, dnsmasq 2.90 log-queries) ` +
    '-> embedded ClickHouse (--bindLogFile / --dnsmasqLogFile, fresh --dataDir), whole process, beside grep -c and wc -l on the same file',
  async run(ctx: Ctx): Promise<Row[]> {
    const run = await import('./run.js'); // loaded already: it is the bench's entry point
    if (!existsSync(run.mainScript(ctx))) return [{ step: STEP, figure: 'lines/s', value: 'not run', note: `${run.mainScript(ctx)} is not built` }];
    const rows: Row[] = [];
    for (const format of LOG_FORMATS) rows.push(...(await measure(ctx, run, format)));
    return rows;
  },
};
