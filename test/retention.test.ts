// Retention counts from ingestion (IndexTime), for DNS_LOG and every rollup: an old capture ingested
// now stays, data ingested long ago expires level by level, and changing a retention re-applies
// the TTL to every table of that class.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { DEFAULT_ROLLUP_TTL, migrate } from '../src/store/migrate.js';
import { applyRetention, tableRetention, ttlDays } from '../src/store/retention.js';
import { insertEvents, openTestDb, type TestDb } from './chdb-runner.js';
import { optimizeAll } from './rollup-pairs.js';
import { traffic } from './synthetic.js';

const DB = 'retention';
const DAY = 86400;
const NOW = Math.floor(Date.now() / 1000);

// Each batch carries its own server name, so what survives where can be read per table.
const BATCHES: { server: string; captured: number; ingestedDaysAgo: number }[] = [
  { server: 'capture-2016', captured: Date.UTC(2016, 9, 20) / 1000, ingestedDaysAgo: 0 },
  { server: 'ingested-40d', captured: Date.UTC(2026, 0, 10) / 1000, ingestedDaysAgo: 40 },
  { server: 'ingested-100d', captured: Date.UTC(2025, 5, 1) / 1000, ingestedDaysAgo: 100 },
  { server: 'ingested-800d', captured: Date.UTC(2024, 1, 1) / 1000, ingestedDaysAgo: 800 },
];

function batch(server: string, captured: number, seed: number): DnsEvent[] {
  return traffic({ seed, queries: 300, names: 50, clients: 20, startSec: captured, spanSec: 2 * 3600, servers: [server] });
}

async function servers(db: TestDb, table: string): Promise<string[]> {
  const rows = await db.rows(`SELECT DISTINCT Server FROM ${DB}.${table} ORDER BY Server`);
  return rows.map((r) => r[0]);
}

describe('retention from ingestion time', () => {
  let db: TestDb;
  const sizes = new Map<string, number>();

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db, { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB });
    let seed = 1;
    for (const b of BATCHES) {
      const events = batch(b.server, b.captured, seed++);
      sizes.set(b.server, events.length);
      await insertEvents(db, DB, events, NOW - b.ingestedDaysAgo * DAY);
    }
    await optimizeAll(db, DB);
  }, 300_000);

  afterAll(() => db?.close());

  it('keeps an old capture ingested now, drops raw rows ingested more than 30 days ago', async () => {
    expect(await servers(db, 'DNS_LOG')).toEqual(['capture-2016']);
    const n = await db.rows(`SELECT count() FROM ${DB}.DNS_LOG`);
    expect(Number(n[0][0])).toBe(sizes.get('capture-2016'));
  });

  it('keeps minute rollups 90 days, hour and day rollups 2 years, week and month rollups 5 years', async () => {
    const upTo = (days: number) => BATCHES.filter((b) => b.ingestedDaysAgo < days).map((b) => b.server).sort();
    for (const level of ['minute', 'hour', 'day', 'week', 'month']) {
      const keep = upTo(DEFAULT_ROLLUP_TTL[level as keyof typeof DEFAULT_ROLLUP_TTL]);
      for (const family of ['traffic', 'names', 'clients']) expect(await servers(db, `dns_${family}_${level}`), `${family} ${level}`).toEqual(keep);
    }
    expect(await servers(db, 'dns_domain_day')).toEqual(upTo(730));
    expect(await servers(db, 'dns_apex_hour')).toEqual(upTo(730));
    expect(await servers(db, 'dns_apex_week')).toEqual(upTo(1825));
    expect(await servers(db, 'dns_apex_month')).toEqual(upTo(1825));
    // the rollups counted what DNS_LOG dropped on arrival
    const counted = await db.rows(`SELECT sum(Messages) FROM ${DB}.dns_traffic_minute WHERE Server = 'ingested-40d'`);
    expect(Number(counted[0][0])).toBe(sizes.get('ingested-40d'));
  });

  it('every table that keeps data has a retention class and a TTL on IndexTime', async () => {
    const tables = await db.rows(
      `SELECT name FROM system.tables WHERE database = '${DB}' AND engine LIKE '%MergeTree' AND NOT startsWith(name, 'dict_') AND name NOT IN ('dnslens_migrations', 'dnslens_imports', 'dnslens_log_chunks') ORDER BY name`,
    );
    const declared = await tableRetention(db, DB);
    expect(declared.map((t) => t.table)).toEqual(tables.map((t) => t[0]));
    for (const t of declared) {
      const want = t.class === 'raw' ? 30 : DEFAULT_ROLLUP_TTL[t.class];
      expect(t.days, t.table).toBe(want);
    }
  });

  it('re-applies changed retention to every table of that class, and deletes what the shorter one excludes', async () => {
    await insertEvents(db, DB, batch('ingested-15d', Date.UTC(2026, 1, 1) / 1000, 9), NOW - 15 * DAY);
    expect(await servers(db, 'DNS_LOG')).toEqual(['capture-2016', 'ingested-15d']);

    const shorter = { ...DEFAULT_ROLLUP_TTL, minute: 30 };
    const applied = await migrate(db, { ttlDays: 10, rollupTtl: shorter, database: DB });
    expect(applied).toEqual([]); // no migration, only retention
    const now = await tableRetention(db, DB);
    for (const t of now) expect(t.days, t.table).toBe(t.class === 'raw' ? 10 : shorter[t.class]);
    await optimizeAll(db, DB);
    expect(await servers(db, 'DNS_LOG')).toEqual(['capture-2016']);
    expect(await servers(db, 'dns_traffic_minute')).toEqual(['capture-2016', 'ingested-15d']);

    // nothing differs any more: nothing is altered
    expect(await applyRetention(db, { ttlDays: 10, rollupTtl: shorter, database: DB })).toEqual([]);
    const altered = await applyRetention(db, { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB });
    expect(altered.sort()).toEqual([
      'DNS_LOG', 'dns_clients_minute', 'dns_latency_minute', 'dns_names_minute', 'dns_traffic_minute', 'dnslens_health',
    ]);
  });

  it('refuses retention that is not a whole number of days', async () => {
    await expect(applyRetention(db, { ttlDays: 0, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB })).rejects.toThrow(/raw/);
    await expect(migrate(db, { ttlDays: 30, rollupTtl: { ...DEFAULT_ROLLUP_TTL, week: 1.5 }, database: DB })).rejects.toThrow(/week/);
  });
});

describe('ttlDays', () => {
  it("reads ClickHouse's normal form and the written one", () => {
    expect(ttlDays("MergeTree PARTITION BY x ORDER BY y TTL IndexTime + toIntervalDay(30) SETTINGS index_granularity = 8192")).toBe(30);
    expect(ttlDays('TTL IndexTime + INTERVAL 730 DAY')).toBe(730);
    expect(ttlDays('MergeTree ORDER BY y')).toBeNull();
  });
});
