// Pairs of queries for the rollup tests: each rollup table read row by row, and the same
// aggregation computed directly over DNS_LOG. Shared by rollups.test.ts and migrations.test.ts.

import { expect } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import type { TestDb } from './chdb-runner.js';
import { rng } from './synthetic.js';

/** Each period's start, computed from PacketTime in zone tz (hours, days, weeks and months are local). */
export function levels(tz = 'UTC'): Record<string, string> {
  const z = `'${tz}'`;
  return {
    minute: "toDateTime(toStartOfMinute(PacketTime), 'UTC')",
    hour: `toDateTime(toStartOfHour(PacketTime, ${z}), 'UTC')`,
    day: `toDateTime(toStartOfDay(PacketTime, ${z}), 'UTC')`,
    week: `toDateTime(toDateTime(toStartOfWeek(PacketTime, 1, ${z}), ${z}), 'UTC')`,
    month: `toDateTime(toDateTime(toStartOfMonth(PacketTime, ${z}), ${z}), 'UTC')`,
  };
}
export const LEVELS = levels();

export interface Pair {
  table: string;
  rollup: string;
  raw: string;
}

export function trafficPairs(db: string, tz = 'UTC'): Pair[] {
  const keys = 'Server, QR, Protocol, IPVersion, OpCode, Class, Type, ResponseCode, Edns0Present, DoBit';
  return Object.entries(levels(tz)).map(([level, t]) => ({
    table: `dns_traffic_${level}`,
    rollup: `SELECT Time, ${keys}, Messages, Bytes, MaxSize, Truncated, IndexTime FROM ${db}.dns_traffic_${level} ORDER BY Time, ${keys}`,
    raw: `SELECT ${t} AS Time, ${keys}, count(), sum(Size), max(Size), countIf(TC), max(IndexTime)
          FROM ${db}.DNS_LOG GROUP BY Time, ${keys} ORDER BY Time, ${keys}`,
  }));
}

export function namesPairs(db: string, tz = 'UTC'): Pair[] {
  return Object.entries(levels(tz)).map(([level, t]) => ({
    table: `dns_names_${level}`,
    rollup: `SELECT Time, Server, Queries, Responses, finalizeAggregation(UniqueNames), finalizeAggregation(UniqueClients), IndexTime
             FROM ${db}.dns_names_${level} ORDER BY Time, Server`,
    raw: `SELECT ${t} AS Time, Server, countIf(QR = 0), countIf(QR = 1), uniqCombined(12)(Question),
                 uniqCombined(12)(ClientIPv4, ClientIPv6), max(IndexTime)
          FROM ${db}.DNS_LOG GROUP BY Time, Server ORDER BY Time, Server`,
  }));
}

const ANSWERED = 'QR = 1 AND ResponseTimeUs IS NOT NULL';
const UNANSWERED = 'QR = 0 AND Unanswered = 1';
const BUCKET = 'toUInt8(least(255, floor(4 * log2(greatest(assumeNotNull(ResponseTimeUs), 1)))))';
const LATENCY = `countIf(${ANSWERED}), countIf(${UNANSWERED}), sumIf(toUInt64(assumeNotNull(ResponseTimeUs)), ${ANSWERED}),
                 sumMapIf(map(${BUCKET}, toUInt64(1)), ${ANSWERED})`;

/** Per client prefix (0005, with the latency columns of 0009 since 0014). */
export function clientPairs(db: string, mask4: number, mask6: number, tz = 'UTC'): Pair[] {
  return Object.entries(levels(tz)).map(([level, t]) => ({
    table: `dns_clients_${level}`,
    rollup: `SELECT Time, Server, ClientIPv4, ClientIPv6, Queries, Responses, NXDomain, ServFail, Refused,
                    Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime
             FROM ${db}.dns_clients_${level} ORDER BY Time, Server, ClientIPv4, ClientIPv6`,
    raw: `SELECT ${t} AS Time, Server, tupleElement(IPv4CIDRToRange(ClientIPv4, ${mask4}), 1) AS C4,
                 tupleElement(IPv6CIDRToRange(ClientIPv6, ${mask6}), 1) AS C6,
                 countIf(QR = 0), countIf(QR = 1), countIf(QR = 1 AND ResponseCode = 3), countIf(QR = 1 AND ResponseCode = 2),
                 countIf(QR = 1 AND ResponseCode = 5), ${LATENCY}, max(IndexTime)
          FROM ${db}.DNS_LOG GROUP BY Time, Server, C4, C6 ORDER BY Time, Server, C4, C6`,
  }));
}

export function domainPairs(db: string, tz = 'UTC'): Pair[] {
  const perDay = `SELECT toDate(PacketTime, '${tz}') AS Day, Server, Apex, countIf(QR = 0) AS q, countIf(QR = 1 AND ResponseCode = 3) AS nx,
                         countIf(QR = 1 AND ResponseCode = 2) AS sf, uniqCombinedState(12)(ClientIPv4, ClientIPv6) AS c, max(IndexTime) AS it
                  FROM ${db}.DNS_LOG GROUP BY Day, Server, Apex`;
  // the week keeps queries per day (its peak day); the month only which days had queries (a bit per day)
  const days = {
    week: { column: 'DayQueries', raw: 'sumMap(map(Day, q))' },
    month: { column: 'ActiveDays', raw: 'groupBitOr(if(q > 0, bitShiftLeft(toUInt32(1), toDayOfMonth(Day) - 1), toUInt32(0)))' },
  };
  // the month has no client sketch (0015)
  const period = (name: string, table: string, start: string, d: { column: string; raw: string }, clients: boolean): Pair => ({
    table,
    rollup: `SELECT ${name}, Server, Apex, Queries, NXDomain, ServFail${clients ? ', finalizeAggregation(Clients)' : ''}, ${d.column}, IndexTime
             FROM ${db}.${table} ORDER BY ${name}, Server, Apex`,
    raw: `SELECT ${start} AS P, Server, Apex, sum(q), sum(nx), sum(sf)${clients ? ', uniqCombinedMerge(12)(c)' : ''}, ${d.raw}, max(it)
          FROM (${perDay}) GROUP BY P, Server, Apex ORDER BY P, Server, Apex`,
  });
  return [
    {
      table: 'dns_domain_day',
      rollup: `SELECT Day, Server, Apex, Question, Queries, Responses, NXDomain, ServFail, TypeQueries, finalizeAggregation(Clients),
                      FirstSeen, LastSeen, IndexTime
               FROM ${db}.dns_domain_day ORDER BY Day, Server, Apex, Question`,
      raw: `SELECT toDate(PacketTime, '${tz}') AS Day, Server, Apex, Question, countIf(QR = 0), countIf(QR = 1),
                   countIf(QR = 1 AND ResponseCode = 3), countIf(QR = 1 AND ResponseCode = 2), sumMapIf(map(Type, toUInt64(1)), QR = 0),
                   uniqCombined(12)(ClientIPv4, ClientIPv6), min(toDateTime(PacketTime)), max(toDateTime(PacketTime)), max(IndexTime)
            FROM ${db}.DNS_LOG GROUP BY Day, Server, Apex, Question ORDER BY Day, Server, Apex, Question`,
    },
    {
      table: 'dns_apex_hour',
      rollup: `SELECT Time, Server, Apex, Queries, IndexTime FROM ${db}.dns_apex_hour ORDER BY Time, Server, Apex`,
      raw: `SELECT ${levels(tz).hour} AS Time, Server, Apex, count(), max(IndexTime)
            FROM ${db}.DNS_LOG WHERE QR = 0 GROUP BY Time, Server, Apex ORDER BY Time, Server, Apex`,
    },
    period('Week', 'dns_apex_week', 'toStartOfWeek(Day, 1)', days.week, true),
    period('Month', 'dns_apex_month', 'toStartOfMonth(Day)', days.month, false),
  ];
}

/** Latency rollups (0009): per DNS server address (tables), and per client prefix (since 0014
 *  views over dns_clients_*: their groups with an answer or an unanswered query, IndexTime of all). */
export function latencyPairs(db: string, mask4: number, mask6: number, tz = 'UTC'): Pair[] {
  const latency = `${ANSWERED}) OR (${UNANSWERED}`;
  const kinds = [
    { prefix: 'dns_latency', keys: 'ServerIPv4, ServerIPv6', raw: 'ServerIPv4 AS K4, ServerIPv6 AS K6', where: `WHERE (${latency})`, having: '' },
    {
      prefix: 'dns_latency_clients',
      keys: 'ClientIPv4, ClientIPv6',
      raw: `tupleElement(IPv4CIDRToRange(ClientIPv4, ${mask4}), 1) AS K4, tupleElement(IPv6CIDRToRange(ClientIPv6, ${mask6}), 1) AS K6`,
      where: '',
      having: `HAVING countIf((${latency})) > 0`,
    },
  ];
  return kinds.flatMap((k) =>
    ['minute', 'hour', 'day'].map((level) => ({
      table: `${k.prefix}_${level}`,
      rollup: `SELECT Time, Server, ${k.keys}, Answered, Unanswered, LatencySumUs, LatencyBuckets, IndexTime
               FROM ${db}.${k.prefix}_${level} ORDER BY Time, Server, ${k.keys}`,
      raw: `SELECT ${levels(tz)[level]} AS Time, Server, ${k.raw}, ${LATENCY}, max(IndexTime)
            FROM ${db}.DNS_LOG ${k.where} GROUP BY Time, Server, K4, K6 ${k.having} ORDER BY Time, Server, K4, K6`,
    })),
  );
}

export async function optimizeAll(db: TestDb, database: string): Promise<void> {
  const tables = await db.query<{ name: string }>(
    `SELECT name FROM system.tables WHERE database = '${database}' AND engine LIKE '%MergeTree' AND NOT startsWith(name, 'dict_')`,
  );
  for (const t of tables) await db.exec(`OPTIMIZE TABLE ${database}.\`${t.name}\` FINAL`);
}

export async function rollupTables(db: TestDb, database: string): Promise<string[]> {
  const rows = await db.query<{ name: string }>(
    `SELECT name FROM system.tables WHERE database = '${database}' AND engine = 'AggregatingMergeTree' ORDER BY name`,
  );
  return rows.map((r) => r.name);
}

export async function expectPairsEqual(db: TestDb, pairs: Pair[]): Promise<void> {
  for (const p of pairs) {
    const rollup = await db.rows(p.rollup);
    const raw = await db.rows(p.raw);
    expect(rollup.length, `${p.table}: rows`).toBe(raw.length);
    expect(rollup.length, `${p.table}: has data`).toBeGreaterThan(0);
    const at = rollup.findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(raw[i]));
    expect(rollup, `${p.table}, first difference at row ${at}: ${JSON.stringify(rollup[at])} != ${JSON.stringify(raw[at])}`).toEqual(raw);
  }
}

/** Splits events into n batches in a shuffled order, so a group's rows arrive in several inserts. */
export function shuffledBatches(events: DnsEvent[], n: number, seed: number): DnsEvent[][] {
  const r = rng(seed);
  const batches: DnsEvent[][] = Array.from({ length: n }, () => []);
  for (const e of events) batches[Math.floor(r() * n)].push(e);
  return batches;
}

