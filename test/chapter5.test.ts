// Real captures from ../shared/data, read by tshark, stored through the RowBinary encoder, and the
// seed guide's chapter 5 questions (top domains with share and average per day, by category,
// 24-hour heatmap, NXDOMAIN analysis) answered by SQL over the rollup views: each answer checked
// against the same figure counted in JS from tshark's own field output.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { DEFAULT_ROLLUP_TTL, migrate, schemaRoot } from '../src/store/migrate.js';
import { apexOf } from '../src/outputs/clickhouse/columns.js';
import { insertEvents, openTestDb, type TestDb } from './chdb-runner.js';
import { describeWithPeers } from './peers.js';
import { PCAP_DIR } from './data.js';

const DATA = PCAP_DIR;
const CAPTURES = ['arkime__dns-wiresharkrepo.pcap', 'dnscap__dns.pcap', 'dnsjit__pellets.pcap', 'zeek__naptr.pcap', 'pktvisor__dns_udp_tcp_random.pcap'];
const FIELDS = ['frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'udp.dstport', 'dns.id', 'dns.flags.response',
  'dns.flags.opcode', 'dns.flags.rcode', 'dns.qry.name', 'dns.qry.type', 'dns.qry.class', 'dns.count.answers', 'udp.length'];
const DB = 'chapter5';

/** One event per UDP DNS message, from tshark's fields (first question only). */
function tsharkEvents(file: string): DnsEvent[] {
  const out = execFileSync('tshark', ['-r', join(DATA, file), '-Y', 'dns && udp', '-T', 'fields', '-E', 'separator=|', ...FIELDS.flatMap((f) => ['-e', f])], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
  const events: DnsEvent[] = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const f = line.split('|').map((v) => v.split(',')[0]);
    const [time, ip4s, ip4d, ip6s, ip6d, sport, dport, id, qr, opcode, rcode, qname, qtype, qclass, ancount, udpLen] = f;
    const [sec, frac = '0'] = time.split('.');
    const e = newEvent();
    e.timeSec = Number(sec);
    e.timeNsec = Number(frac.padEnd(9, '0').slice(0, 9));
    e.server = 'capture';
    e.ipVersion = ip4s ? 4 : 6;
    e.srcIp = ip4s || ip6s;
    e.dstIp = ip4d || ip6d;
    e.srcPort = Number(sport);
    e.dstPort = Number(dport);
    e.id = Number(id);
    e.qr = qr === '1' || qr === 'True';
    e.opcode = Number(opcode);
    e.rcode = Number(rcode || 0);
    e.qname = qname === '<Root>' ? '.' : qname.toLowerCase().replace(/\.$/, '');
    e.qtype = Number(qtype);
    e.qclass = Number(qclass);
    e.qdCount = 1;
    e.anCount = Number(ancount || 0);
    e.size = Math.max(0, Number(udpLen) - 8);
    e.inputName = file;
    events.push(e);
  }
  return events;
}

describeWithPeers('chapter 5 questions over real captures', ['tshark'], () => {
  let db: TestDb;
  const events: DnsEvent[] = [];
  const categories = new Map<string, string>();

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db, { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB });
    for (const file of CAPTURES) {
      const list = tsharkEvents(file);
      expect(list.length, file).toBeGreaterThan(0);
      events.push(...list);
      await insertEvents(db, DB, list);
    }
    const tsv = readFileSync(join(schemaRoot(), 'dictionaries', 'domain_categories.tsv'), 'utf8').trim().split('\n').slice(1);
    for (const row of tsv) {
      const [apex, category] = row.split('\t');
      categories.set(apex, category);
    }
  }, 300_000);

  afterAll(() => db?.close());

  const queries = () => events.filter((e) => !e.qr);
  const countBy = <K>(list: DnsEvent[], key: (e: DnsEvent) => K) => {
    const m = new Map<K, number>();
    for (const e of list) m.set(key(e), (m.get(key(e)) ?? 0) + 1);
    return m;
  };

  it('stored every message tshark saw, and PROVENANCE.md agrees on the counts', async () => {
    const n = await db.rows(`SELECT count(), countIf(QR = 0), countIf(QR = 1 AND ResponseCode = 3) FROM ${DB}.DNS_LOG`);
    expect(n[0].map(Number)).toEqual([events.length, queries().length, events.filter((e) => e.qr && e.rcode === 3).length]);
    // arkime's capture: 19 queries, 19 responses, 6 NXDOMAIN (PROVENANCE.md)
    const arkime = await db.rows(`SELECT countIf(QR = 0), countIf(QR = 1), countIf(ResponseCode = 3) FROM ${DB}.DNS_LOG WHERE InputName = 'arkime__dns-wiresharkrepo.pcap'`);
    expect(arkime[0]).toEqual(['19', '19', '6']);
  });

  it('5.1 top domains, with share and average per day', async () => {
    const rows = await db.rows(
      `SELECT apex_domain, dictGet('${DB}.domain_categories', 'Category', apex_domain) AS category, sum(hit_count) AS total_queries,
              round(total_queries * 100.0 / sum(total_queries) OVER (), 2) AS pct, round(total_queries / uniqExact(stat_date), 0) AS avg_per_day
       FROM ${DB}.dns_daily_stats GROUP BY apex_domain ORDER BY total_queries DESC, apex_domain LIMIT 50`,
    );
    const q = queries();
    const perApex = countBy(q, (e) => apexOf(e.qname));
    const days = new Map<string, Set<string>>();
    for (const e of q) {
      const a = apexOf(e.qname);
      days.set(a, (days.get(a) ?? new Set()).add(new Date(e.timeSec * 1000).toISOString().slice(0, 10)));
    }
    const want = [...perApex.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 50);
    expect(rows.map((r) => r[0])).toEqual(want.map(([a]) => a));
    for (const [apex, category, total, pct, avg] of rows) {
      const n = perApex.get(apex)!;
      expect(Number(total), apex).toBe(n);
      expect(Number(pct), apex).toBeCloseTo((n * 100) / q.length, 2);
      expect(Number(avg), apex).toBe(Math.round(n / days.get(apex)!.size));
      expect(category, apex).toBe(categories.get(apex) ?? 'uncategorised');
    }
    expect(rows.find((r) => r[0] === 'google.com')?.[1]).toBe('search');
  });

  it('5.2 queries by category', async () => {
    const rows = await db.rows(
      `SELECT dictGet('${DB}.domain_categories', 'Category', apex_domain) AS category, uniqExact(apex_domain) AS domains, sum(hit_count) AS total_queries
       FROM ${DB}.dns_daily_stats GROUP BY category ORDER BY total_queries DESC, category`,
    );
    const byCat = new Map<string, { apexes: Set<string>; n: number }>();
    for (const e of queries()) {
      const a = apexOf(e.qname);
      const c = categories.get(a) ?? 'uncategorised';
      const v = byCat.get(c) ?? { apexes: new Set(), n: 0 };
      v.apexes.add(a);
      v.n++;
      byCat.set(c, v);
    }
    const want = [...byCat.entries()].sort((a, b) => b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1)).map(([c, v]) => [c, String(v.apexes.size), String(v.n)]);
    expect(rows).toEqual(want);
  });

  it('5.3 24-hour heatmap', async () => {
    const rows = await db.rows(`SELECT hour_of_day, sum(query_count) FROM ${DB}.dns_hourly_heatmap GROUP BY hour_of_day ORDER BY hour_of_day`);
    const perHour = countBy(queries(), (e) => new Date(e.timeSec * 1000).getUTCHours());
    expect(rows).toEqual([...perHour.entries()].sort((a, b) => a[0] - b[0]).map(([h, n]) => [String(h), String(n)]));
  });

  it('5.4 NXDOMAIN analysis', async () => {
    const rows = await db.rows(
      `SELECT apex_domain, sum(hit_count) AS total, sum(nxdomain_count) AS failures, round(failures * 100.0 / nullIf(total, 0), 1) AS fail_pct
       FROM ${DB}.dns_daily_stats GROUP BY apex_domain HAVING failures > 0 ORDER BY fail_pct DESC, apex_domain LIMIT 30`,
    );
    const total = countBy(queries(), (e) => apexOf(e.qname));
    const nx = countBy(events.filter((e) => e.qr && e.rcode === 3), (e) => apexOf(e.qname));
    expect(rows.length).toBe(Math.min(30, nx.size));
    for (const [apex, t, f, pct] of rows) {
      expect([Number(t), Number(f)], apex).toEqual([total.get(apex) ?? 0, nx.get(apex)]);
      if (Number(t) > 0) expect(Number(pct)).toBeCloseTo((nx.get(apex)! * 100) / Number(t), 1);
    }
  });
});
