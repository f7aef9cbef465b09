// The production write path into the embedded store (BatchWriter -> Native block ->
// EmbeddedStore's INSERT ... FROM INFILE with its insert settings: views in parallel, no
// pre-merge of inserted rollup parts) gives rollups equal to DNS_LOG aggregated, after several
// out-of-order batches and OPTIMIZE ... FINAL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { Stats } from '../src/stats.js';
import { openStore, type Store } from '../src/store/connection.js';
import { clickhouseWriter } from '../src/outputs/clickhouse/output.js';
import type { TestDb } from './chdb-runner.js';
import { clientPairs, domainPairs, expectPairsEqual, latencyPairs, namesPairs, optimizeAll, shuffledBatches, trafficPairs } from './rollup-pairs.js';
import { traffic } from './synthetic.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';

const MONDAY = Date.UTC(2026, 0, 5) / 1000;

// The rollup-pairs helpers need exec, query and TSV rows; the store gives all three.
function asTestDb(store: Store): TestDb {
  return {
    exec: (sql: string) => store.exec(sql),
    query: <T>(sql: string) => store.query<T>(sql),
    async rows(sql: string): Promise<string[][]> {
      const text = await store.queryText(sql, 'TSV');
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t'));
    },
  } as unknown as TestDb;
}

describe('rollups filled through the embedded store write path', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-insert-rollups-'));
  let store: Store;
  let events: DnsEvent[];

  beforeAll(async () => {
    store = await openStore({ dataDir: join(root, 'data') });
    await prepareSchema(store);
    events = traffic({ seed: 5, queries: 20_000, names: 4_000, clients: 300, startSec: MONDAY - 2 * 86400, spanSec: 40 * 86400, servers: ['ns1', 'ns2'] });
    const w = clickhouseWriter(store, { batchSize: 6_000, delayMs: 60_000, stats: new Stats() });
    for (const batch of shuffledBatches(events, 4, 3)) {
      for (let i = 0; i < batch.length; i += 1000) await w.write(batch.slice(i, i + 1000));
    }
    await w.close();
    await optimizeAll(asTestDb(store), store.database);
  }, 300_000);
  afterAll(async () => {
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('stores every event in several inserts', async () => {
    const [r] = await store.query<{ n: string }>('SELECT count() AS n FROM DNS_LOG');
    expect(Number(r.n)).toBe(events.length);
  });

  it('fills every rollup like DNS_LOG aggregated', async () => {
    const db = store.database;
    await expectPairsEqual(asTestDb(store), [...trafficPairs(db), ...namesPairs(db), ...clientPairs(db, 24, 48), ...domainPairs(db), ...latencyPairs(db, 24, 48)]);
  });
});
