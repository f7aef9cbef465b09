// The `reports` bench step's store (bench/reports.ts): rows generated inside ClickHouse by
// INSERT INTO DNS_LOG SELECT ... FROM numbers(), into a store made by `dnslens schema migrate`.
// The rows are what the writer would store (the apex is the public suffix list's, as apexOf gives
// it), the same for a seed however they are cut into chunks, spread over the 30 days, and the
// views fill the rollups so that the reports give the same rows from them as from DNS_LOG.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAYS, fillSql, FIRST_DAY, knownApexes, STORE_TTL_FLAGS, UNTIL_DAY } from '../bench/reports.js';
import { apexOf } from '../src/outputs/clickhouse/columns.js';
import { findReport } from '../src/reports/catalog.js';
import { runReport } from '../src/reports/named.js';
import { openStore, type Store } from '../src/store/connection.js';
import { dnslens, FINGERPRINT, sqlValue } from './import-helpers.js';

const MESSAGES = 40_000;
const SEED = 7;
const root = mkdtempSync(join(tmpdir(), 'dnslens-bench-reports-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A migrated store in UTC filled with MESSAGES messages, in chunks of chunk. */
async function filled(name: string, chunk: number): Promise<string> {
  const dir = join(root, name);
  const r = dnslens(['schema', 'migrate', '--dataDir', dir, '--timezone', 'UTC', ...STORE_TTL_FLAGS]);
  expect(r.code, r.stderr).toBe(0);
  const s = new Session(dir);
  try {
    for (let from = 0; from < MESSAGES; from += chunk) {
      const count = Math.min(chunk, MESSAGES - from);
      await s.queryAsync(fillSql({ seed: SEED, messages: MESSAGES, from, count, apexes: knownApexes(process.cwd()) }));
    }
  } finally {
    s.close();
  }
  return dir;
}

describe('the reports bench store', () => {
  let whole: string;
  let chunked: string;
  beforeAll(async () => {
    whole = await filled('whole', MESSAGES);
    chunked = await filled('chunked', 15_000);
  }, 120_000);

  it('holds every message once, over the 30 days, the same for a seed in chunks or at once', () => {
    expect(sqlValue(whole, 'SELECT count() FROM DNS_LOG')).toBe(String(MESSAGES));
    expect(sqlValue(chunked, FINGERPRINT)).toBe(sqlValue(whole, FINGERPRINT));
    expect(sqlValue(whole, 'SELECT uniqExact(toDate(PacketTime)) FROM DNS_LOG')).toBe(String(DAYS));
    expect(sqlValue(whole, 'SELECT toString(min(toDate(PacketTime))) FROM DNS_LOG')).toBe(FIRST_DAY);
    expect(sqlValue(whole, 'SELECT toString(max(toDate(PacketTime)) + 1) FROM DNS_LOG')).toBe(UNTIL_DAY);
    // every response follows its query, with the same client, ID and name, by its response time
    const unmatched = `SELECT count() FROM DNS_LOG AS r LEFT ANTI JOIN (SELECT * FROM DNS_LOG WHERE QR = 0) AS q
      ON q.ClientIPv4 = r.ClientIPv4 AND q.ClientIPv6 = r.ClientIPv6 AND q.ID = r.ID AND q.Question = r.Question
         AND dateDiff('microsecond', q.PacketTime, r.PacketTime) = r.ResponseTimeUs
      WHERE r.QR = 1`;
    expect(sqlValue(whole, unmatched)).toBe('0');
  });

  it('stores the apex the writer would: the public suffix list\'s registrable domain', () => {
    const pairs = sqlValue(whole, "SELECT arrayStringConcat(groupUniqArray(concat(Question, ' ', Apex)), ',') FROM DNS_LOG").split(',');
    expect(pairs.length).toBeGreaterThan(1000);
    const wrong = pairs.map((p) => p.split(' ')).filter(([q, a]) => apexOf(q) !== a);
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  describe('the rollups answer as DNS_LOG does', () => {
    let store: Store;
    beforeAll(async () => {
      store = await openStore({ dataDir: whole });
    });
    afterAll(async () => {
      await store?.close();
    });

    // the 30 days, and a week from a Wednesday (weekly rollups cut at both ends)
    const windows = [[FIRST_DAY, UNTIL_DAY], ['2025-03-05', '2025-03-12']];
    const names = ['top', 'categories', 'qtypes', 'rcodes', 'heatmap', 'new-domains'];
    it.each(windows.flatMap(([since, until]) => names.map((name) => [name, since, until])))('%s from %s until %s', async (name, since, until) => {
      const args = { since, until, limit: 1000 };
      const chosen = await runReport(store, findReport(name), args);
      const raw = await runReport(store, findReport(name), { ...args, logOnly: true });
      expect(chosen.sections.map((s) => s.table).some((t) => t !== 'DNS_LOG')).toBe(true);
      expect(chosen.sections.map((s) => [s.name, s.rows])).toEqual(raw.sections.map((s) => [s.name, s.rows]));
      expect(chosen.sections.some((s) => s.rows.length > 0)).toBe(true);
    });
  });
});
