// DNS_LOG's definition, the RowBinary encoder against it (every column read back, aliases too),
// the apex rule, and the dictionaries, on an embedded ClickHouse (chdb).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { DEFAULT_ROLLUP_TTL, migrate, schemaRoot } from '../src/store/migrate.js';
import { generatedDictionaries } from '../src/store/gen-dictionaries.js';
import { DNS_LOG_COLUMNS, DNS_LOG_SCHEMA, DNS_LOG_STRUCTURE, apexLengthOf, apexOf, parseIpv4, parseIpv6 } from '../src/outputs/clickhouse/columns.js';
import { insertEvents, openTestDb, type TestDb } from './chdb-runner.js';

const DB = 'dnslens_test';
let db: TestDb;

beforeAll(async () => {
  db = await openTestDb();
  await migrate(db, { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB });
}, 120_000);

afterAll(() => db?.close());

function ev(fields: Partial<DnsEvent>): DnsEvent {
  return Object.assign(newEvent(), fields);
}

// One event per corner the encoder has: families, directions, answers, extended rcode, long and
// non-ASCII strings, missing and malformed addresses, null and set response times.
const EVENTS: DnsEvent[] = [
  ev({ timeSec: 1476976981, timeNsec: 75993000, server: 'ns1', ipVersion: 4, srcIp: '10.1.2.3', dstIp: '10.0.0.53', srcPort: 51234, dstPort: 53,
    id: 1, rd: true, qname: 'www.bbc.co.uk', qtype: 1, qclass: 1, qdCount: 1, arCount: 1, ednsPresent: true, ednsUdpSize: 1232, ednsDo: true,
    ednsClientSubnet: '192.0.2.0/24', size: 44 }),
  ev({ timeSec: 1476976981, timeNsec: 123456789, server: 'ns1', ipVersion: 4, srcIp: '10.0.0.53', dstIp: '10.1.2.3', srcPort: 53, dstPort: 51234,
    id: 2, qr: true, aa: true, rd: true, ra: true, ad: true, rcode: 16, qname: 'www.bbc.co.uk', qtype: 1, qclass: 1, qdCount: 1, anCount: 2,
    answers: [
      { name: 'www.bbc.co.uk', type: 5, class: 1, ttl: 2147483647, data: 'www.bbc.net.uk.' },
      { name: 'www.bbc.net.uk', type: 1, class: 1, ttl: 60, data: '212.58.233.252' },
    ], size: 98, responseTimeUs: 1234, transport: 'tcp' }),
  ev({ timeSec: 1700000000, timeNsec: 999999999, server: 'ns2', ipVersion: 6, srcIp: '2001:db8:1::abcd', dstIp: '2001:db8::53', srcPort: 40000,
    dstPort: 853, id: 3, cd: true, tc: true, qname: 'x.example', qtype: 65, qclass: 1, opcode: 0, size: 30, transport: 'dot', inputKind: 'live', inputName: 'eth0' }),
  ev({ timeSec: 1700000001, timeNsec: 0, server: 'ns2', ipVersion: 6, srcIp: '2001:db8::53', dstIp: '::ffff:192.0.2.7', srcPort: 853, dstPort: 40000,
    id: 4, qr: true, rcode: 3, qname: 'x.example', qtype: 65, qclass: 1, nsCount: 1, size: 90, transport: 'dot', responseTimeUs: 0 }),
  ev({ timeSec: 4102444800, timeNsec: 1000, server: '', ipVersion: 0, srcIp: '', dstIp: 'not-an-address', id: 5, opcode: 5, qname: '.', qtype: 6,
    qclass: 3, size: 12, inputKind: 'log', inputName: 'résolveur-é.log' }),
  ev({ timeSec: 1600000000, timeNsec: 500, server: 'ns1', ipVersion: 4, srcIp: '256.1.1.1', dstIp: '1.2.3', id: 6, qname: 'a\\032b.' + 'l'.repeat(150) + '.example.com',
    qtype: 16, qclass: 1, size: 200, answers: [{ name: 'é', type: 16, class: 1, ttl: 0, data: '"' + 'x'.repeat(300) + '"' }] }),
];

interface Row {
  [k: string]: unknown;
}

describe('DNS_LOG definition', () => {
  it('has the encoder columns with the encoder types, plus FullQuery and the alias columns', async () => {
    const cols = await db.query<{ name: string; type: string; default_kind: string }>(
      `SELECT name, type, default_kind FROM system.columns WHERE database = '${DB}' AND table = 'DNS_LOG' ORDER BY position`,
    );
    const physical = cols.filter((c) => c.default_kind !== 'ALIAS' && c.name !== 'FullQuery');
    const noTz = (t: string) => t.replace(/, 'UTC'\)/, ')').replace(/\('UTC'\)/, '');
    expect(physical.map((c) => [c.name, noTz(c.type)])).toEqual(DNS_LOG_SCHEMA.map(([n, t]) => [n, t]));
    const aliases = cols.filter((c) => c.default_kind === 'ALIAS').map((c) => c.name);
    expect(aliases).toEqual(['ClientIP', 'ServerIP', 'SrcIP', 'DstIP', 'SrcPort', 'DstPort', 'Client', 'Apex']);
    // dnsmonster's 17 names are all still there
    for (const n of ['PacketTime', 'IndexTime', 'Server', 'IPVersion', 'SrcIP', 'DstIP', 'Protocol', 'QR', 'OpCode', 'Class', 'Type',
      'Edns0Present', 'DoBit', 'FullQuery', 'ResponseCode', 'Question', 'Size']) {
      expect(cols.map((c) => c.name)).toContain(n);
    }
    expect(DNS_LOG_STRUCTURE).not.toContain("'");
    expect(DNS_LOG_COLUMNS.length).toBe(DNS_LOG_SCHEMA.length);
  });

  it('stores every field of an event and reads it back, IPv4 as IPv4 and dnsmonster views intact', async () => {
    const index = 1_800_000_000 + 1234; // IndexTime keeps the hour only
    await insertEvents(db, DB, EVENTS, index);
    const rows = await db.query<Row>(
      `SELECT *, Apex, ClientIP, ServerIP, SrcIP, DstIP, SrcPort, DstPort, Client FROM ${DB}.DNS_LOG WHERE ID <= 6 ORDER BY ID`,
    );
    expect(rows).toHaveLength(EVENTS.length);
    const usTime = (e: DnsEvent) => {
      const d = new Date(e.timeSec * 1000).toISOString();
      return `${d.slice(0, 10)} ${d.slice(11, 19)}.${String(Math.floor(e.timeNsec / 1000)).padStart(6, '0')}`;
    };
    const v4 = (s: string) => (parseIpv4(s) >= 0 ? s : '0.0.0.0');
    for (let i = 0; i < EVENTS.length; i++) {
      const e = EVENTS[i];
      const r = rows[i];
      const client = e.qr ? e.dstIp : e.srcIp;
      const server = e.qr ? e.srcIp : e.dstIp;
      const isV6 = (s: string) => parseIpv4(s) < 0 && parseIpv6(s) !== null;
      expect(r.PacketTime).toBe(usTime(e));
      expect(r.IndexTime).toBe('2027-01-15 08:00:00');
      expect(r.Server).toBe(e.server);
      expect(r.IPVersion).toBe(e.ipVersion);
      expect(r.ClientIPv4).toBe(isV6(client) ? '0.0.0.0' : v4(client));
      expect(r.ServerIPv4).toBe(isV6(server) ? '0.0.0.0' : v4(server));
      expect(r.ClientPort).toBe(e.qr ? e.dstPort : e.srcPort);
      expect(r.ServerPort).toBe(e.qr ? e.srcPort : e.dstPort);
      expect(r.SrcPort).toBe(e.srcPort);
      expect(r.DstPort).toBe(e.dstPort);
      expect(r.Protocol).toBe(e.transport);
      expect(r.QR).toBe(e.qr ? 1 : 0);
      expect(r.OpCode).toBe(e.opcode);
      expect(r.Class).toBe(e.qclass);
      expect(r.Type).toBe(e.qtype);
      expect(r.Edns0Present).toBe(e.ednsPresent ? 1 : 0);
      expect(r.DoBit).toBe(e.ednsDo ? 1 : 0);
      expect(r.FullQuery).toBe('');
      expect(r.ResponseCode).toBe(e.rcode);
      expect(r.Question).toBe(e.qname);
      expect(r.Size).toBe(e.size);
      expect(r.Apex).toBe(apexOf(e.qname));
      expect(r.ID).toBe(e.id);
      expect([r.AA, r.TC, r.RD, r.RA, r.AD, r.CD]).toEqual([e.aa, e.tc, e.rd, e.ra, e.ad, e.cd]);
      expect([r.QdCount, r.AnCount, r.NsCount, r.ArCount]).toEqual([e.qdCount, e.anCount, e.nsCount, e.arCount]);
      expect(r.AnswerName).toEqual(e.answers.map((a) => a.name));
      expect(r.AnswerType).toEqual(e.answers.map((a) => a.type));
      expect(r.AnswerClass).toEqual(e.answers.map((a) => a.class));
      expect(r.AnswerTTL).toEqual(e.answers.map((a) => a.ttl));
      expect(r.AnswerData).toEqual(e.answers.map((a) => a.data));
      expect(r.EdnsUdpSize).toBe(e.ednsUdpSize);
      expect(r.EdnsClientSubnet).toBe(e.ednsClientSubnet);
      expect(r.ResponseTimeUs).toBe(e.responseTimeUs);
      expect(r.InputKind).toBe(e.inputKind);
      expect(r.InputName).toBe(e.inputName);
    }
    // the IPv6 view: ClickHouse itself parses the event's text, as the oracle
    const oracle = await db.query<{ a: string; b: string; c: string }>(
      "SELECT IPv6NumToString(toIPv6('10.1.2.3')) AS a, IPv6NumToString(toIPv6('2001:db8:1::abcd')) AS b, IPv6NumToString(toIPv6('::ffff:192.0.2.7')) AS c",
    );
    expect([rows[0].SrcIP, rows[0].DstIP, rows[0].Client]).toEqual([oracle[0].a, '::ffff:10.0.0.53', '10.1.2.3']);
    expect([rows[1].SrcIP, rows[1].DstIP, rows[1].ClientIP]).toEqual(['::ffff:10.0.0.53', oracle[0].a, oracle[0].a]);
    expect([rows[2].SrcIP, rows[2].ClientIPv6, rows[2].Client]).toEqual([oracle[0].b, oracle[0].b, oracle[0].b]);
    expect([rows[3].DstIP, rows[3].ClientIPv6, rows[3].ServerIPv6]).toEqual([oracle[0].c, oracle[0].c, '2001:db8::53']);
    expect([rows[4].ClientIPv4, rows[4].ClientIPv6, rows[4].ServerIPv6]).toEqual(['0.0.0.0', '::', '::']);
  });

  it('parses IPv6 text the way ClickHouse does', async () => {
    const texts = ['::', '::1', '1::', '2001:db8::', 'fe80::1%eth0', '2001:DB8:0:0:8:800:200C:417A', '::ffff:1.2.3.4', '64:ff9b::192.0.2.33',
      '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:1.2.3.4', '1::8', '::2:3:4:5:6:7:8'];
    for (const t of texts) {
      const ours = parseIpv6(t);
      expect(ours, t).not.toBeNull();
      const hex = Buffer.from(ours!).toString('hex').toUpperCase();
      const theirs = await db.rows(`SELECT hex(IPv6StringToNum('${t.replace(/%.*/, '')}'))`);
      expect(hex, t).toBe(theirs[0][0]);
    }
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', 'g::1', '12345::', '1:2:3:4:5:6:7', ':::', '1.2.3.4::', '::1.2.3.4.5']) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
    expect(parseIpv4('1.2.3.4')).toBe(0x01020304);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1..2.3', '01234.1.1.1', 'a.b.c.d']) expect(parseIpv4(bad), bad).toBe(-1);
  });
});

describe('apex', () => {
  it('is the registrable domain from the public suffix list', () => {
    expect(apexOf('www.bbc.co.uk')).toBe('bbc.co.uk');
    expect(apexOf('bbc.co.uk')).toBe('bbc.co.uk');
    expect(apexOf('a.b.c.example.com.au')).toBe('example.com.au');
    expect(apexOf('r3---sn-abc.googlevideo.com')).toBe('googlevideo.com');
    expect(apexOf('d1.cloudfront.net')).toBe('cloudfront.net'); // the ICANN section only, as the seed guide's categories expect
    expect(apexOf('co.uk')).toBe('co.uk'); // a bare suffix is its own apex
    expect(apexOf('localhost')).toBe('localhost');
    expect(apexOf('.')).toBe('.');
  });

  it('is always the end of the name, stored as its length in bytes (DNS_LOG reads Apex as an ALIAS)', () => {
    const names = ['www.bbc.co.uk', 'a\\.b.example.com', 'x\\032y.example.org', 'xn--bcher-kva.example', '_dmarc.example.org',
      '1.0.0.127.in-addr.arpa', 'WWW.Example.COM', 'bücher.de', 'com', '', '.'];
    for (const q of names) {
      expect(q.endsWith(apexOf(q)), q).toBe(true);
      expect(apexLengthOf(q), q).toBe(Buffer.byteLength(apexOf(q)));
    }
    expect(apexLengthOf('www.bbc.co.uk')).toBe(9);
  });
});

describe('dictionaries', () => {
  it('name every type, class, opcode and rcode as src/dnsnames.ts does, from files generated from it', async () => {
    const dir = join(schemaRoot(), 'dictionaries');
    for (const [file, content] of generatedDictionaries()) {
      expect(readFileSync(join(dir, file), 'utf8'), `${file} is stale: run gen-dictionaries`).toBe(content);
      const dict = file.slice(0, -4);
      const rows = content.trim().split('\n').slice(1).map((l) => l.split('\t'));
      const got = await db.rows(`SELECT Id, Name FROM ${DB}.${dict} ORDER BY Id`);
      expect(got).toEqual(rows);
    }
    const names = await db.rows(
      `SELECT dictGet('${DB}.dns_type', 'Name', toUInt64(64)), dictGet('${DB}.dns_type', 'Name', toUInt64(65)), dictGet('${DB}.dns_class', 'Name', toUInt64(1)),
              dictGet('${DB}.dns_opcode', 'Name', toUInt64(5)), dictGet('${DB}.dns_response', 'Name', toUInt64(3))`,
    );
    expect(names[0]).toEqual(['SVCB', 'HTTPS', 'IN', 'UPDATE', 'NXDOMAIN']);
  });

  it('categorise the seed guide\'s 26 apex domains and more, each a real apex', async () => {
    const text = readFileSync(join(schemaRoot(), 'dictionaries', 'domain_categories.tsv'), 'utf8');
    const rows = text.trim().split('\n').slice(1).map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThanOrEqual(126);
    for (const [apex, category, , prio] of rows) {
      expect(apexOf(apex), apex).toBe(apex);
      expect(category).toMatch(/^[a-z]+$/);
      expect(Number(prio)).toBeGreaterThanOrEqual(1);
    }
    const seed: [string, string, string, number][] = [
      ['google.com', 'search', 'Google', 3], ['youtube.com', 'streaming', 'Google', 1], ['nflximg.net', 'cdn', 'Netflix', 2],
      ['whatsapp.net', 'messaging', 'Meta', 3], ['windowsupdate.com', 'updates', 'Microsoft', 8], ['googlesyndication.com', 'ads', 'Google', 9],
    ];
    for (const [apex, category, provider, prio] of seed) {
      const got = await db.rows(
        `SELECT dictGet('${DB}.domain_categories', ('Category', 'Provider', 'CachePriority'), '${apex}')`,
      );
      expect(got[0][0]).toBe(`('${category}','${provider}',${prio})`);
    }
    const unknown = await db.rows(`SELECT dictGet('${DB}.domain_categories', 'Category', 'no-such-apex.example')`);
    expect(unknown[0][0]).toBe('uncategorised');
    const count = await db.rows(`SELECT count() FROM ${DB}.domain_categories`);
    expect(Number(count[0][0])).toBe(rows.length);
  });
});
