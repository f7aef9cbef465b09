// --timezone: the rollups' hours, days, weeks and months, and the heatmap, follow the zone; the same
// events under UTC, Asia/Jakarta (UTC+7) and America/New_York (across the start of US daylight
// saving time, 2026-03-08) equal DNS_LOG aggregated in that zone. Changing the zone of a store
// rebuilds the rollups that DNS_LOG backs.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { DEFAULT_ROLLUP_TTL, migrate } from '../src/store/migrate.js';
import { askedZone } from '../src/zone.js';
import { insertEvents, openTestDb, type TestDb } from './chdb-runner.js';
import { clientPairs, domainPairs, expectPairsEqual, latencyPairs, namesPairs, optimizeAll, trafficPairs, type Pair } from './rollup-pairs.js';
import { traffic } from './synthetic.js';

const BASE = { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL };
const ZONES = ['UTC', 'Asia/Jakarta', 'America/New_York'];
const dbName = (zone: string) => 'tz_' + zone.replace(/\W/g, '_').toLowerCase();

function allPairs(db: string, tz: string): Pair[] {
  return [...trafficPairs(db, tz), ...namesPairs(db, tz), ...clientPairs(db, 24, 48, tz), ...domainPairs(db, tz), ...latencyPairs(db, 24, 48, tz)];
}

/** Queries per hour of the day in the heatmap view, 24 numbers. */
async function heatmap(db: TestDb, database: string): Promise<number[]> {
  const rows = await db.rows(`SELECT hour_of_day, sum(query_count) FROM ${database}.dns_hourly_heatmap GROUP BY hour_of_day ORDER BY hour_of_day`);
  const out = new Array<number>(24).fill(0);
  for (const [h, n] of rows) out[Number(h)] = Number(n);
  return out;
}

describe('rollups in a time zone', () => {
  let db: TestDb;
  let events: DnsEvent[];

  beforeAll(async () => {
    db = await openTestDb();
    // 2026-03-05 .. 03-11 UTC: New York moves its clocks from 02:00 to 03:00 on Sunday 03-08
    events = traffic({ seed: 41, queries: 6000, names: 900, clients: 80, startSec: Date.UTC(2026, 2, 5) / 1000, spanSec: 6 * 86400, servers: ['a', 'b'] });
    for (const zone of ZONES) {
      await migrate(db, { ...BASE, database: dbName(zone), timezone: zone });
      await insertEvents(db, dbName(zone), events.slice(0, 3500));
      await insertEvents(db, dbName(zone), events.slice(3500));
      await optimizeAll(db, dbName(zone));
    }
  }, 300_000);
  afterAll(() => db?.close());

  for (const zone of ZONES) {
    it(`${zone}: every rollup equals DNS_LOG aggregated in ${zone}`, async () => {
      await expectPairsEqual(db, allPairs(dbName(zone), zone));
    }, 120_000);
  }

  it('shifts the heatmap by the zone offset (Jakarta: 7 hours ahead of UTC all year)', async () => {
    const utc = await heatmap(db, dbName('UTC'));
    const jakarta = await heatmap(db, dbName('Asia/Jakarta'));
    expect(utc.reduce((a, b) => a + b)).toBeGreaterThan(0);
    for (let h = 0; h < 24; h++) expect(jakarta[(h + 7) % 24], `UTC hour ${h}`).toBe(utc[h]);
  });

  it('splits days at local midnight, and New York has no 02:00 on the day its clocks go forward', async () => {
    for (const zone of ZONES) {
      const d = dbName(zone);
      const days = await db.rows(`SELECT stat_date, sum(hit_count) FROM ${d}.dns_daily_stats GROUP BY stat_date ORDER BY stat_date`);
      const raw = await db.rows(`SELECT toDate(PacketTime, '${zone}') AS day, countIf(QR = 0) FROM ${d}.DNS_LOG GROUP BY day ORDER BY day`);
      expect(days, zone).toEqual(raw);
    }
    const ny = dbName('America/New_York');
    const hours = await db.rows(`SELECT DISTINCT hour_of_day FROM ${ny}.dns_hourly_heatmap WHERE stat_date = '2026-03-08' ORDER BY hour_of_day`);
    expect(hours.map((h) => Number(h[0]))).not.toContain(2);
    expect(hours.length).toBe(23);
    // the day table's row for that day starts at local midnight, 05:00 UTC (EST)
    const start = await db.rows(`SELECT DISTINCT Time FROM ${ny}.dns_traffic_day WHERE toDate(Time, 'America/New_York') = '2026-03-08'`);
    expect(start).toEqual([['2026-03-08 05:00:00']]);
    // and the day after, at 04:00 UTC (EDT)
    const next = await db.rows(`SELECT DISTINCT Time FROM ${ny}.dns_traffic_day WHERE toDate(Time, 'America/New_York') = '2026-03-09'`);
    expect(next).toEqual([['2026-03-09 04:00:00']]);
  });
});

describe('changing the time zone of a store', () => {
  let db: TestDb;
  const d = 'tz_change';
  const logs: string[] = [];

  beforeAll(async () => {
    db = await openTestDb();
    await migrate(db, { ...BASE, database: d, timezone: 'UTC' });
    // from 2026-06-01 00:00 UTC (a Monday and the 1st): every UTC period is backed by DNS_LOG from its start
    const june = Date.UTC(2026, 5, 1) / 1000;
    const events = traffic({ seed: 43, queries: 4000, names: 600, clients: 60, startSec: june, spanSec: 10 * 86400, servers: ['a'] });
    events.unshift({ ...events[0], timeSec: june, timeNsec: 0 });
    await insertEvents(db, d, events);
    expect(await migrate(db, { ...BASE, database: d, timezone: 'Asia/Jakarta', log: (m) => logs.push(m) })).toEqual([]);
    await optimizeAll(db, d);
  }, 300_000);
  afterAll(() => db?.close());

  it('rebuilds every rollup from DNS_LOG in the new zone, and says so', async () => {
    await expectPairsEqual(db, allPairs(d, 'Asia/Jakarta'));
    expect(logs.some((l) => /^rollups rebuilt from DNS_LOG/.test(l))).toBe(true);
    expect(logs).toContain('rollups now in time zone Asia/Jakarta (were UTC)');
    const zone = await db.rows(`SELECT argMax(checksum, applied_at) FROM ${d}.dnslens_migrations WHERE name = 'timezone'`);
    expect(zone).toEqual([['Asia/Jakarta']]);
  }, 120_000);

  it('does nothing when the zone is the same, or not given (the store keeps its zone)', async () => {
    const again: string[] = [];
    await migrate(db, { ...BASE, database: d, timezone: 'Asia/Jakarta', log: (m) => again.push(m) });
    await migrate(db, { ...BASE, database: d, defaultTimezone: 'Europe/Lisbon', log: (m) => again.push(m) });
    expect(again.filter((l) => l.startsWith('rollups'))).toEqual([]);
    expect(await db.rows(`SELECT argMax(checksum, applied_at) FROM ${d}.dnslens_migrations WHERE name = 'timezone'`)).toEqual([['Asia/Jakarta']]);
  });

  it('refuses a zone ClickHouse does not know before it drops anything', async () => {
    const views = async () => Number((await db.rows(`SELECT count() FROM system.tables WHERE database = '${d}' AND engine = 'MaterializedView'`))[0][0]);
    const before = await views();
    expect(before).toBeGreaterThan(0);
    await expect(migrate(db, { ...BASE, database: d, timezone: 'Mars/Olympus' })).rejects.toThrow(/time zone Mars\/Olympus: ClickHouse does not know it/);
    expect(await views()).toBe(before);
  });
});

describe('changing the time zone when DNS_LOG lost older rows', () => {
  it('rebuilds only from where DNS_LOG backs the rollups; nothing is lost or counted twice', async () => {
    const db = await openTestDb();
    try {
      const d = 'tz_lost';
      await migrate(db, { ...BASE, database: d, timezone: 'UTC' });
      const june = Date.UTC(2026, 5, 1) / 1000;
      const events = traffic({ seed: 44, queries: 3000, names: 400, clients: 40, startSec: june, spanSec: 10 * 86400, servers: ['a'] });
      await insertEvents(db, d, events);
      // as if raw retention had dropped what came before 06-04 12:30 (the rollups keep it)
      await db.exec(`ALTER TABLE ${d}.DNS_LOG DELETE WHERE PacketTime < '2026-06-04 12:30:00' SETTINGS mutations_sync = 2`);
      const total = async (table: string, column: string) => Number((await db.rows(`SELECT sum(${column}) FROM ${d}.${table}`))[0][0]);
      const before = await total('dns_traffic_day', 'Messages');
      expect(before).toBe(events.length); // every message counted
      const logs: string[] = [];
      await migrate(db, { ...BASE, database: d, timezone: 'Asia/Jakarta', log: (m) => logs.push(m) });
      expect(logs.find((l) => l.startsWith('rollups rebuilt'))).toContain('periods from 2026-06-04 12:3');
      for (const t of ['dns_traffic_minute', 'dns_traffic_hour', 'dns_traffic_day', 'dns_traffic_week', 'dns_traffic_month']) {
        expect(await total(t, 'Messages'), t).toBe(before);
      }
      // the old day rows from the cut (06-05 00:00 UTC) on were rebuilt: Jakarta's days from the
      // first one that starts after the cut (06-06, from 06-05 17:00 UTC) are whole
      const days = await db.rows(`SELECT toDate(Time, 'Asia/Jakarta') AS day, sum(Messages) FROM ${d}.dns_traffic_day WHERE Time >= toDateTime('2026-06-06 00:00:00', 'Asia/Jakarta') GROUP BY day ORDER BY day`);
      const raw = await db.rows(`SELECT toDate(PacketTime, 'Asia/Jakarta') AS day, count() FROM ${d}.DNS_LOG WHERE PacketTime >= toDateTime('2026-06-06 00:00:00', 'Asia/Jakarta') GROUP BY day ORDER BY day`);
      expect(days).toEqual(raw);
    } finally {
      db.close();
    }
  }, 120_000);
});

describe('changing the zone again, and again', () => {
  it('UTC -> America/New_York -> Asia/Kolkata -> UTC: every rollup keeps every message once', async () => {
    const db = await openTestDb();
    try {
      const d = 'tz_again';
      await migrate(db, { ...BASE, database: d, timezone: 'UTC' });
      // from a Tuesday 02:00 UTC: partial first hour (Kolkata is +5:30), day, week and month in every zone
      const events = traffic({ seed: 45, queries: 2500, names: 300, clients: 30, startSec: Date.UTC(2026, 5, 2, 2) / 1000, spanSec: 40 * 86400, servers: ['a'] });
      await insertEvents(db, d, events);
      const tables = ['minute', 'hour', 'day', 'week', 'month'].map((l) => `dns_traffic_${l}`);
      for (const zone of ['America/New_York', 'Asia/Kolkata', 'UTC']) {
        await migrate(db, { ...BASE, database: d, timezone: zone });
        for (const t of tables) expect(Number((await db.rows(`SELECT sum(Messages) FROM ${d}.${t}`))[0][0]), `${zone} ${t}`).toBe(events.length);
        const queries = Number((await db.rows(`SELECT countIf(QR = 0) FROM ${d}.DNS_LOG`))[0][0]);
        for (const t of ['dns_domain_day', 'dns_apex_hour', 'dns_apex_week', 'dns_apex_month']) {
          expect(Number((await db.rows(`SELECT sum(Queries) FROM ${d}.${t}`))[0][0]), `${zone} ${t}`).toBe(queries);
        }
      }
      // back in UTC, and DNS_LOG held everything: every rollup equals DNS_LOG aggregated in UTC
      // from the first period that began after the first change's cut... here all of them except
      // the first partial ones, which keep the boundaries of the zone they were built in
      await optimizeAll(db, d);
      const days = await db.rows(`SELECT Time, sum(Messages) FROM ${d}.dns_traffic_day WHERE Time >= '2026-06-04 00:00:00' GROUP BY Time ORDER BY Time`);
      const raw = await db.rows(`SELECT toStartOfDay(PacketTime, 'UTC') AS t, count() FROM ${d}.DNS_LOG WHERE PacketTime >= '2026-06-04 00:00:00' GROUP BY t ORDER BY t`);
      expect(days).toEqual(raw);
    } finally {
      db.close();
    }
  }, 180_000);
});

describe('--timezone values', () => {
  it('takes IANA names, the host zone when empty, and refuses others clearly', async () => {
    expect(askedZone('Asia/Jakarta')).toBe('Asia/Jakarta');
    expect(askedZone('utc')).toBe('UTC'); // ClickHouse knows only the canonical spelling
    expect(askedZone('  ')).toBeUndefined();
    expect(() => askedZone('Mars/Olympus')).toThrow(/not an IANA time zone name/);
    await expect(migrate({} as never, { ...BASE, timezone: "UTC'; DROP" })).rejects.toThrow(/not an IANA zone name/);
  });
});
