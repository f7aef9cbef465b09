// Labelled traffic for the signal scenario tests (test/signals.test.ts): a benign background and, on
// top, one scenario per signal, each with the parameters its comment documents. Deterministic: one
// seeded PRNG (test/synthetic.ts). Every exchange is a query and, unless unanswered, its response.
import { newEvent, type DnsEvent } from '../src/event.js';
import { rng } from './synthetic.js';

export const T0 = Date.UTC(2024, 4, 6, 8, 0, 0) / 1000; // Monday 2024-05-06 08:00 UTC, where the scenarios start

export interface Exchange {
  t: number; // query time, seconds since the epoch
  client: string;
  qname: string;
  qtype?: number; // default A
  rcode?: number; // default NOERROR
  rtMs?: number; // response time, default 2 ms
  unanswered?: boolean;
  server?: string; // the DNS server's address, default 10.0.0.53
  bytes?: number; // response size, default 60 + name
}

/** The query and response events of an exchange, as the matcher leaves them. */
export function events(x: Exchange, serverName = 'lab'): DnsEvent[] {
  const q = newEvent();
  q.timeSec = Math.floor(x.t);
  q.timeNsec = Math.floor((x.t - q.timeSec) * 1e6) * 1000;
  q.server = serverName;
  q.ipVersion = x.client.includes(':') ? 6 : 4;
  q.srcIp = x.client;
  q.dstIp = x.server ?? (q.ipVersion === 6 ? '2001:db8::53' : '10.0.0.53');
  q.srcPort = 40000 + (Math.floor(x.t * 1000) % 20000);
  q.dstPort = 53;
  q.id = Math.floor(x.t * 1000) & 0xffff;
  q.rd = true;
  q.qname = x.qname;
  q.qtype = x.qtype ?? 1;
  q.qclass = 1;
  q.qdCount = 1;
  q.size = 17 + x.qname.length;
  q.inputKind = 'pcap';
  q.inputName = 'signals.pcap';
  if (x.unanswered) {
    q.unanswered = true;
    return [q];
  }
  const r: DnsEvent = { ...q, qr: true, ra: true, srcIp: q.dstIp, dstIp: q.srcIp, srcPort: 53, dstPort: q.srcPort, rcode: x.rcode ?? 0 };
  const rt = Math.max(1, Math.round((x.rtMs ?? 2) * 1000));
  const ns = q.timeNsec + rt * 1000;
  r.timeSec = q.timeSec + Math.floor(ns / 1e9);
  r.timeNsec = ns % 1e9;
  r.responseTimeUs = rt;
  r.size = x.bytes ?? 60 + x.qname.length;
  return [q, r];
}

// Benign names: popular sites and the CDN names they lead to (many distinct per CDN apex, as
// e12345.dscb.akamaiedge.net or d1a2b3c4d5e6f7.cloudfront.net are).
const SITES = ['www.google.com', 'mail.google.com', 'www.wikipedia.org', 'www.bbc.co.uk', 'github.com', 'api.github.com', 'www.spiegel.de', 'outlook.office365.com', 'www.netflix.com', 'www.amazon.com', 'slack.com', 'zoom.us'];
function cdnName(r: () => number): string {
  const hex = () => Math.floor(r() * 0xfffffff).toString(16);
  const pick = Math.floor(r() * 4);
  if (pick === 0) return `e${Math.floor(r() * 90000 + 10000)}.dscb.akamaiedge.net`;
  if (pick === 1) return `d${hex()}${hex()}.cloudfront.net`;
  if (pick === 2) return `rr${Math.floor(r() * 5 + 1)}---sn-${hex().slice(0, 8)}.googlevideo.com`;
  return `scontent-${['fra', 'ams', 'lhr'][Math.floor(r() * 3)]}${Math.floor(r() * 5 + 1)}-1.xx.fbcdn.net`;
}

/**
 * The benign background: `clients` clients (10.1.0.1 ...) over `hours` hours from T0, each a
 * Poisson stream of lookups at `perClientPerMin` per minute: 70% a popular site, 25% one of 400
 * CDN names (drawn once, so they repeat), 5% a name that does not exist (a search-list suffix:
 * printer.lan, or a typo of a site), answered NXDOMAIN. Response times 1-40 ms.
 */
export function background(seed: number, clients: number, hours: number, perClientPerMin: number): Exchange[] {
  const r = rng(seed);
  const cdn = Array.from({ length: 400 }, () => cdnName(r));
  const out: Exchange[] = [];
  for (let c = 0; c < clients; c++) {
    const client = `10.1.${Math.floor(c / 250)}.${(c % 250) + 1}`;
    let t = T0 + r() * 60;
    while (t < T0 + hours * 3600) {
      const roll = r();
      if (roll < 0.7) out.push({ t, client, qname: SITES[Math.floor(r() * SITES.length)], qtype: r() < 0.6 ? 1 : 28, rtMs: 1 + r() * 39 });
      else if (roll < 0.95) out.push({ t, client, qname: cdn[Math.floor(r() * cdn.length)], rtMs: 1 + r() * 39 });
      else out.push({ t, client, qname: r() < 0.5 ? `printer${c % 7}.lan` : `www.gooogle${Math.floor(r() * 3)}.com`, rcode: 3, rtMs: 1 + r() * 39 });
      t += (-Math.log(1 - r()) * 60) / perClientPerMin;
    }
  }
  return out;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const word = (r: () => number, alphabet: string, n: number) => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');

/** The labelled scenarios, each starting at T0 + its offset; what each must fire is in EXPECTED. */
export function scenarios(seed: number): Exchange[] {
  const r = rng(seed);
  const out: Exchange[] = [];
  const at = (minute: number) => T0 + minute * 60 + r() * 60;

  // nxdomain-client: 10.66.0.1 asks 300 names that do not exist under 20 apexes within 10 minutes
  // (a scanner, or malware trying its list), with 30 ordinary lookups between.
  for (let i = 0; i < 300; i++) out.push({ t: at(i / 30), client: '10.66.0.1', qname: `${word(r, ALNUM, 6)}.shop${i % 20}.net`, rcode: 3 });
  for (let i = 0; i < 30; i++) out.push({ t: at(i / 3), client: '10.66.0.1', qname: 'www.google.com' });

  // nxdomain-apex: a random-subdomain ("water torture") attack on victim-example.org, whose www
  // resolves: 50 clients (10.66.10.x) ask 8 random names each within 12 minutes, 400 NXDOMAIN.
  for (let c = 1; c <= 50; c++) {
    for (let i = 0; i < 8; i++) out.push({ t: at(60 + (c * 8 + i) / 34), client: `10.66.10.${c}`, qname: `${word(r, ALNUM, 10)}.victim-example.org`, rcode: 3 });
    out.push({ t: at(60 + c / 5), client: `10.66.10.${c}`, qname: 'www.victim-example.org' });
  }

  // tunnel: 10.66.1.1 sends 400 TXT queries under t.exfil-example.net within 40 minutes, each name
  // two 52-character base32 labels (iodine/dnscat2 style), answered with ~200-byte TXT records.
  for (let i = 0; i < 400; i++) {
    out.push({ t: at(i / 10), client: '10.66.1.1', qname: `${word(r, BASE32, 52)}.${word(r, BASE32, 52)}.t.exfil-example.net`, qtype: 16, bytes: 220 });
  }
  // not a tunnel: 10.66.1.2 resolves 300 distinct names under akamaiedge.net in an hour (a busy
  // browser behind a CDN): many unique subdomains, but short labels, A queries and few bytes.
  for (let i = 0; i < 300; i++) out.push({ t: at(i / 5), client: '10.66.1.2', qname: `e${10000 + i * 7}.dscb.akamaiedge.net` });

  // resolution-failures: server 10.0.0.54 answers 200 queries in 15 minutes (from 20 clients),
  // 35% SERVFAIL, 5% REFUSED, 10% never answered.
  for (let i = 0; i < 200; i++) {
    const roll = r();
    out.push({ t: at(30 + i / 14), client: `10.66.5.${(i % 20) + 1}`, qname: SITES[i % SITES.length], server: '10.0.0.54', rcode: roll < 0.35 ? 2 : roll < 0.4 ? 5 : 0, unanswered: roll >= 0.4 && roll < 0.5 });
  }

  // query-burst: 10.66.2.1 sends 1500 queries in one minute (a runaway script);
  // 10.66.2.2 asks for updates.example-app.com 400 times in 4 minutes (a retry storm).
  for (let i = 0; i < 1500; i++) out.push({ t: T0 + 90 * 60 + i / 25, client: '10.66.2.1', qname: `host${i % 300}.internal-example.com` });
  for (let i = 0; i < 400; i++) out.push({ t: T0 + 100 * 60 + i * 0.6, client: '10.66.2.2', qname: 'updates.example-app.com' });

  // latency-regression: server 10.0.0.55 answers 20 queries a minute in 5-15 ms for 2 hours, then
  // for 15 minutes in 200-400 ms.
  for (let m = 0; m < 135; m++) {
    for (let i = 0; i < 20; i++) out.push({ t: T0 + m * 60 + i * 3, client: `10.66.6.${(i % 10) + 1}`, qname: SITES[i % SITES.length], server: '10.0.0.55', rtMs: m < 120 ? 5 + r() * 10 : 200 + r() * 200 });
  }

  // beacon: 10.66.3.1 asks for cdn-sync.beacon-example.org every 60 s (jitter under a second) for
  // two hours; not beacons: 40 clients ask for time.example-ntp.org every 300 s (a popular refresh),
  // and 10.66.3.2 asks for news.example.com 30 times at random (a person).
  for (let i = 0; i < 120; i++) out.push({ t: T0 + 60 * i + 5 + r() * 0.5, client: '10.66.3.1', qname: 'cdn-sync.beacon-example.org' });
  for (let c = 1; c <= 40; c++) for (let i = 0; i < 24; i++) out.push({ t: T0 + 300 * i + c * 3, client: `10.66.30.${c}`, qname: 'time.example-ntp.org' });
  for (let i = 0; i < 30; i++) out.push({ t: T0 + r() * 7200, client: '10.66.3.2', qname: 'news.example.com' });

  // dga: 10.66.4.1 gets NXDOMAIN for 40 names of 12-18 random letters and digits under .com, .net
  // and .info in 30 minutes; 10.66.4.2 gets NXDOMAIN for 40 ordinary names (search-list leaks and
  // typos: wpad.home-network.com, mail.companyname.com ...), which are not DGA-like.
  for (let i = 0; i < 40; i++) out.push({ t: at(120 + i * 0.75), client: '10.66.4.1', qname: `${word(r, ALNUM, 12 + Math.floor(r() * 7))}.${['com', 'net', 'info'][i % 3]}`, rcode: 3 });
  const ordinary = ['wpad', 'mail', 'intranet', 'printer', 'fileserver', 'calendar', 'backup', 'gateway'];
  for (let i = 0; i < 40; i++) out.push({ t: at(120 + i * 0.75), client: '10.66.4.2', qname: `${ordinary[i % 8]}.${['homenetwork', 'companyname', 'officesupplies', 'familyphotos', 'gardenclub'][i % 5]}.com`, rcode: 3 });
  return out;
}

/** What the scenarios must fire, and nothing else: signal, subject, client. */
export const EXPECTED: readonly [string, string, string][] = [
  ['nxdomain-client', '10.66.0.1', ''],
  ['nxdomain-apex', 'victim-example.org', ''],
  ['tunnel', 'exfil-example.net', '10.66.1.1'],
  ['resolution-failures', '10.0.0.54', ''],
  ['query-burst', '10.66.2.1', ''],
  ['query-burst', '10.66.2.2', ''],
  ['latency-regression', '10.0.0.55', ''],
  ['beacon', 'cdn-sync.beacon-example.org', '10.66.3.1'],
  ['dga', '10.66.4.1', ''],
];
