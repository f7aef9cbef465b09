// The BIND9 guide's chapter-5 questions (top domains with share and average per day, categories,
// 24-hour heatmap, NXDOMAIN) on data from each resolver-log format, as a user gets it: dnslens
// --bindLogFile / --dnsmasqLogFile into the embedded store, then the guide's report views. Each
// answer is checked against the same figure counted in JS from the parser's own events.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { bindParser } from '../src/inputs/logs/bind.js';
import { dnsmasqParser } from '../src/inputs/logs/dnsmasq.js';
import { logFile } from '../src/inputs/logs/files.js';
import type { ParseContext } from '../src/inputs/logs/parser.js';
import { readLogFile } from '../src/inputs/logs/reader.js';
import { childLog } from '../src/log.js';
import { apexOf } from '../src/outputs/clickhouse/columns.js';
import { Stats } from '../src/stats.js';
import { schemaRoot } from '../src/store/migrate.js';
import { localClock } from '../src/zone.js';
import { LOGS_DIR } from './data.js';
import { dnslens } from './import-helpers.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'logs');
const FORMATS = [
  { name: 'bind', flag: '--bindLogFile', files: ['local.log', 'iso8601-utc.log', 'views.log'].map((f) => join(FIXTURES, 'bind', f)), parser: bindParser },
  {
    name: 'dnsmasq',
    flag: '--dnsmasqLogFile',
    files: [join(LOGS_DIR, 'dnsmasq__wilan_of_shame_dnsmasq.log'), join(FIXTURES, 'dnsmasq', 'dnsmasq-2.90-plain.log'), join(FIXTURES, 'dnsmasq', 'pihole.log')],
    parser: (c: ParseContext) => dnsmasqParser(c),
  },
] as const;

const dir = mkdtempSync(join(tmpdir(), 'dnslens-logs-ch5-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const categories = new Map<string, string>();
for (const row of readFileSync(join(schemaRoot(), 'dictionaries', 'domain_categories.tsv'), 'utf8').trim().split('\n').slice(1)) {
  const [apex, category] = row.split('\t');
  categories.set(apex, category);
}

/** Rows of a query on a store, as TSV fields. */
function rows(dataDir: string, sql: string): string[][] {
  const r = dnslens(['sql', '--dataDir', dataDir, '--format', 'tsv', sql]);
  if (r.code !== 0) throw new Error(`${sql}: ${r.stderr}`);
  return r.stdout.trim().split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'));
}

const countBy = <K>(list: DnsEvent[], key: (e: DnsEvent) => K) => {
  const m = new Map<K, number>();
  for (const e of list) m.set(key(e), (m.get(key(e)) ?? 0) + 1);
  return m;
};

for (const f of FORMATS) {
  describe(`chapter 5 on ${f.name} logs`, () => {
    const dataDir = join(dir, f.name);
    const events: DnsEvent[] = [];
    const queries = () => events.filter((e) => !e.qr);

    beforeAll(async () => {
      const toUtc = localClock('UTC');
      for (const path of f.files) {
        const file = await logFile(path);
        const li = {
          input: f.name,
          parser: f.parser,
          context: () => ({ toUtc, fileYear: new Date(file.mtimeMs).getUTCFullYear(), fileMonth: new Date(file.mtimeMs).getUTCMonth() + 1 }),
          server: 'default',
          keepRawLine: false,
          maxChunkEvents: 100_000,
          counters: new Stats().counters('logs'),
          log: childLog({ component: 'test' }),
          pollMs: 100,
        };
        for await (const c of readLogFile(file, li)) events.push(...c);
      }
      const r = dnslens([...f.files.flatMap((p) => [f.flag, p]), '--dataDir', dataDir, '--timezone', 'UTC']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/time zone\s+UTC/); // the end-of-run report ran on the log data
    }, 120_000);

    it('stored every event the parser gives', () => {
      const [[all, q, nx]] = rows(dataDir, "SELECT count(), countIf(QR = 0), countIf(QR = 1 AND ResponseCode = 3) FROM DNS_LOG WHERE InputKind = 'log'");
      expect([Number(all), Number(q), Number(nx)]).toEqual([events.length, queries().length, events.filter((e) => e.qr && e.rcode === 3).length]);
      expect(queries().length).toBeGreaterThan(20);
    });

    it('5.1 top domains with share and average per day, 5.2 by category', () => {
      const top = rows(
        dataDir,
        `SELECT apex_domain, dictGet('domain_categories', 'Category', apex_domain) AS category, sum(hit_count) AS total_queries,
                round(total_queries * 100.0 / sum(total_queries) OVER (), 2) AS pct, round(total_queries / uniqExact(stat_date), 0) AS avg_per_day
         FROM dns_daily_stats GROUP BY apex_domain ORDER BY total_queries DESC, apex_domain LIMIT 50`,
      );
      const q = queries();
      const perApex = countBy(q, (e) => apexOf(e.qname));
      const want = [...perApex.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 50);
      expect(top.map((r) => r[0])).toEqual(want.map(([a]) => a));
      for (const [apex, category, total, pct] of top) {
        expect(Number(total), apex).toBe(perApex.get(apex));
        expect(Number(pct), apex).toBeCloseTo((perApex.get(apex)! * 100) / q.length, 2);
        expect(category, apex).toBe(categories.get(apex) ?? 'uncategorised');
      }
      const byCat = rows(dataDir, "SELECT dictGet('domain_categories', 'Category', apex_domain) AS c, sum(hit_count) FROM dns_daily_stats GROUP BY c ORDER BY c");
      const wantCat = countBy(q, (e) => categories.get(apexOf(e.qname)) ?? 'uncategorised');
      expect(byCat).toEqual([...wantCat.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([c, n]) => [c, String(n)]));
    });

    it('5.3 24-hour heatmap', () => {
      const heat = rows(dataDir, 'SELECT hour_of_day, sum(query_count) FROM dns_hourly_heatmap GROUP BY hour_of_day ORDER BY hour_of_day');
      const perHour = countBy(queries(), (e) => new Date(e.timeSec * 1000).getUTCHours());
      expect(heat).toEqual([...perHour.entries()].sort((a, b) => a[0] - b[0]).map(([h, n]) => [String(h), String(n)]));
    });

    it('5.4 NXDOMAIN per apex', () => {
      const nxRows = rows(
        dataDir,
        'SELECT apex_domain, sum(hit_count) AS total, sum(nxdomain_count) AS failures FROM dns_daily_stats GROUP BY apex_domain HAVING failures > 0 ORDER BY apex_domain',
      );
      const total = countBy(queries(), (e) => apexOf(e.qname));
      const nx = countBy(events.filter((e) => e.qr && e.rcode === 3), (e) => apexOf(e.qname));
      expect(nxRows.map(([a, t, n]) => [a, Number(t), Number(n)])).toEqual([...nx.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([a, n]) => [a, total.get(a) ?? 0, n]));
      if (f.name === 'dnsmasq') expect(nx.size).toBeGreaterThan(0);
    });
  });
}
