// Every rollup table equals the same aggregation computed directly over DNS_LOG, after inserting
// in several out-of-order batches and forcing merges (OPTIMIZE ... FINAL). The rollup side is read
// row by row without GROUP BY: one row per group proves each ORDER BY holds exactly the grouping
// columns (a missing one would merge groups, an extra one would leave duplicates).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { DEFAULT_ROLLUP_TTL, migrate } from '../src/store/migrate.js';
import { typeName } from '../src/dnsnames.js';
import { apexOf } from '../src/outputs/clickhouse/columns.js';
import { insertEvents, openTestDb, type TestDb } from './chdb-runner.js';
import { clientPairs, domainPairs, expectPairsEqual, latencyPairs, namesPairs, optimizeAll, rollupTables, shuffledBatches, trafficPairs } from './rollup-pairs.js';
import { traffic } from './synthetic.js';

const DB = 'rollups';
const MONDAY = Date.UTC(2026, 0, 5) / 1000; // 2026-01-05, a Monday
describe('rollups over synthetic traffic (two servers, IPv4 and IPv6 clients, three months)', () => {
  let db: TestDb;
  let events: DnsEvent[];

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db, { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB });
    events = traffic({ seed: 7, queries: 60_000, names: 12_000, clients: 400, startSec: MONDAY - 3 * 86400, spanSec: 80 * 86400, servers: ['ns1', 'ns2'] });
    const now = Math.floor(Date.now() / 1000);
    let i = 0;
    // different ingestion hours per batch, so IndexTime's max is checked too
    for (const batch of shuffledBatches(events, 5, 11)) await insertEvents(db, DB, batch, now - 3600 * i++);
    await optimizeAll(db, DB);
  }, 300_000);

  afterAll(() => db?.close());

  it('stored every event', async () => {
    const n = await db.rows(`SELECT count() FROM ${DB}.DNS_LOG`);
    expect(Number(n[0][0])).toBe(events.length);
  });

  it('checks every rollup table there is', async () => {
    const covered = [...trafficPairs(DB), ...namesPairs(DB), ...clientPairs(DB, 24, 48), ...domainPairs(DB), ...latencyPairs(DB, 24, 48)].map((p) => p.table).sort();
    // dns_latency_clients_* are views over dns_clients_* since 0014
    expect(await rollupTables(db, DB)).toEqual(covered.filter((t) => !t.startsWith('dns_latency_clients_')));
  });

  it('traffic rollups (minute, hour, day, week, month) equal DNS_LOG aggregated', async () => {
    await expectPairsEqual(db, trafficPairs(DB));
  }, 120_000);

  it('name rollups: distinct names and clients, equal DNS_LOG aggregated, in HyperLogLog range too', async () => {
    await expectPairsEqual(db, namesPairs(DB));
    // the biggest monthly sketch is in HyperLogLog form (3 KiB of registers), not a set of 4-byte hashes
    const month = await db.rows(
      `SELECT finalizeAggregation(UniqueNames) AS n, length(toString(UniqueNames)) FROM ${DB}.dns_names_month ORDER BY n DESC LIMIT 1`,
    );
    expect(Number(month[0][0])).toBeGreaterThan(2000);
    expect(Number(month[0][1])).toBeLessThan(4 * Number(month[0][0]));
  }, 120_000);

  it('client rollups equal DNS_LOG aggregated per /24 and /48 (the default prefixes)', async () => {
    await expectPairsEqual(db, clientPairs(DB, 24, 48));
  }, 120_000);

  it('latency rollups (per server address and per client prefix; minute, hour, day) equal DNS_LOG aggregated', async () => {
    await expectPairsEqual(db, latencyPairs(DB, 24, 48));
    // both counts and the histogram hold something: answered responses and unanswered queries were generated
    const [[answered, unanswered, buckets]] = await db.rows(`SELECT sum(Answered), sum(Unanswered), length(sumMap(LatencyBuckets)) FROM ${DB}.dns_latency_day`);
    expect(Number(answered)).toBe(events.filter((e) => e.qr && e.responseTimeUs !== null).length);
    expect(Number(unanswered)).toBe(events.filter((e) => e.unanswered).length);
    expect(Number(unanswered)).toBeGreaterThan(0);
    expect(Number(buckets)).toBeGreaterThan(20);
  }, 120_000);

  it('domain and apex rollups (day, hour, week, month) equal DNS_LOG aggregated', async () => {
    await expectPairsEqual(db, domainPairs(DB));
  }, 120_000);

  it("answer the seed guide's report views as counted from the events themselves", async () => {
    // independent counts, in JS, from the events
    const weekOf = (sec: number) => {
      const day = Math.floor(sec / 86400);
      const monday = day - ((day + 3) % 7); // 1970-01-01 was a Thursday
      return new Date(monday * 86400_000).toISOString().slice(0, 10);
    };
    const week = new Map<string, Map<string, number>>(); // week|apex -> day -> queries
    const heat = new Map<string, number>(); // date|hour|apex -> queries
    let queries = 0;
    let nx = 0;
    for (const e of events) {
      const apex = apexOf(e.qname);
      const date = new Date(e.timeSec * 1000).toISOString();
      if (e.qr) {
        if (e.rcode === 3) nx++;
        continue;
      }
      queries++;
      const k = `${weekOf(e.timeSec)}|${apex}`;
      const days = week.get(k) ?? new Map<string, number>();
      days.set(date.slice(0, 10), (days.get(date.slice(0, 10)) ?? 0) + 1);
      week.set(k, days);
      const h = `${date.slice(0, 10)}|${Number(date.slice(11, 13))}|${apex}`;
      heat.set(h, (heat.get(h) ?? 0) + 1);
    }
    const daily = await db.rows(
      `SELECT sum(hit_count), sum(nxdomain_count), countIf(arraySum(mapValues(qtype_hits)) = hit_count AND arrayAll(k -> match(k, '^[A-Z]+$'), mapKeys(qtype_hits))) = count()
       FROM ${DB}.dns_daily_stats`,
    );
    expect(daily[0]).toEqual([String(queries), String(nx), '1']);
    const types = new Map<string, number>();
    for (const e of events) if (!e.qr) types.set(typeName(e.qtype), (types.get(typeName(e.qtype)) ?? 0) + 1);
    const byType = await db.rows(`SELECT k, sum(v) FROM ${DB}.dns_daily_stats ARRAY JOIN mapKeys(qtype_hits) AS k, mapValues(qtype_hits) AS v GROUP BY k ORDER BY k`);
    expect(byType).toEqual([...types.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, v]) => [k, String(v)]));

    const weekly = await db.rows(`SELECT week_start, apex_domain, total_queries, peak_day, peak_day_count FROM ${DB}.dns_weekly_stats WHERE total_queries > 0`);
    expect(weekly.length).toBe(week.size);
    for (const [ws, apex, total, peakDay, peakCount] of weekly) {
      const days = week.get(`${ws}|${apex}`)!;
      expect(days, `${ws} ${apex}`).toBeDefined();
      const sorted = [...days.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      expect([Number(total), peakDay, Number(peakCount)]).toEqual([[...days.values()].reduce((a, b) => a + b, 0), sorted[0][0], sorted[0][1]]);
    }

    const heatmap = await db.rows(`SELECT stat_date, hour_of_day, apex_domain, query_count FROM ${DB}.dns_hourly_heatmap`);
    expect(heatmap.length).toBe(heat.size);
    for (const [d, h, apex, n] of heatmap) expect(Number(n), `${d} ${h} ${apex}`).toBe(heat.get(`${d}|${h}|${apex}`));

    const monthly = await db.rows(
      `SELECT year_month, sum(total_queries), min(rank_in_month) FROM ${DB}.dns_monthly_stats GROUP BY year_month ORDER BY year_month`,
    );
    const perMonth = new Map<string, number>();
    for (const e of events) if (!e.qr) perMonth.set(new Date(e.timeSec * 1000).toISOString().slice(0, 7), (perMonth.get(new Date(e.timeSec * 1000).toISOString().slice(0, 7)) ?? 0) + 1);
    expect(monthly.map((r) => [r[0], Number(r[1]), r[2]])).toEqual([...perMonth.entries()].sort().map(([m, n]) => [m, n, '1']));
  }, 120_000);
});

describe('per-client rollups with whole addresses', () => {
  let db: TestDb;

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db, { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB, clientMaskV4: 32, clientMaskV6: 128 });
    const events = traffic({ seed: 3, queries: 8000, names: 500, clients: 900, startSec: MONDAY, spanSec: 3 * 86400 });
    for (const b of shuffledBatches(events, 3, 5)) await insertEvents(db, DB, b);
    await optimizeAll(db, DB);
  }, 300_000);

  afterAll(() => db?.close());

  it('count per /32 and /128, equal to DNS_LOG aggregated the same way', async () => {
    await expectPairsEqual(db, clientPairs(DB, 32, 128));
    const clients = await db.rows(
      `SELECT (SELECT uniqExact(ClientIPv4, ClientIPv6) FROM ${DB}.dns_clients_month), (SELECT uniqExact(ClientIPv4, ClientIPv6) FROM ${DB}.DNS_LOG)`,
    );
    expect(Number(clients[0][0])).toBeGreaterThan(800);
    expect(clients[0][0]).toBe(clients[0][1]);
  }, 120_000);
});
