// How a file input reaches the embedded store without waiting for it: the writer encodes while
// the store opens and starts a batch early when the store is idle (minBatchRows), the opening
// output reports a failed opening, migrations run one script per file, and a long in-memory
// input still lets I/O callbacks run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { openingClickHouseOutput } from '../src/outputs/clickhouse/output.js';
import { runPipeline } from '../src/cli/pipeline.js';
import { Stats } from '../src/stats.js';
import { type InsertBatch, type Store } from '../src/store/connection.js';
import { DEFAULT_ROLLUP_TTL, migrate, type MigrateOptions, type SqlRunner } from '../src/store/migrate.js';
import { clickhouseWriter, openClickHouseSpool } from '../src/outputs/clickhouse/output.js';
import { openTestDb, type TestDb } from './chdb-runner.js';
// @ts-expect-error: plain JS shared with the holder process
import { syntheticEvents } from './store-fixtures.mjs';
import { embeddedStore } from './embedded-store.js';

const events = (n: number, start: number): DnsEvent[] => syntheticEvents(n, start) as DnsEvent[];

async function count(store: Store): Promise<number> {
  const r = await store.query<{ n: string | number }>('SELECT count() AS n FROM DNS_LOG');
  return Number(r[0].n);
}

/** Passes inserts to the store once open() is called; notes each batch's row count. */
function gated(store: Store) {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const rows: number[] = [];
  const sink = {
    where: store.where,
    async insertBatch(b: InsertBatch): Promise<void> {
      await opened;
      await store.insertBatch(b);
      rows.push(b.rows);
    },
  };
  return { sink, rows, open };
}

describe('writer and output while the store opens', () => {
  let store: Store;
  const root = embeddedStore('dnslens-opening-test-', (s) => (store = s));
  beforeEach(async () => {
    await store.exec('TRUNCATE TABLE DNS_LOG');
  });

  it('starts a batch at minBatchRows when nothing is in flight, and fills the next one meanwhile', async () => {
    const g = gated(store);
    const w = clickhouseWriter(g.sink, { batchSize: 1000, minBatchRows: 300, delayMs: 60_000, stats: new Stats() });
    for (let i = 0; i < 900; i += 100) await w.write(events(100, i));
    // 300 went at once (the store was idle); the other 600 wait while that insert is in flight
    expect(w.counters.get('batches')).toBe(0);
    g.open();
    await w.flush();
    expect(g.rows).toEqual([300, 600]);
    expect(await count(store)).toBe(900);
    await w.close();
  });

  it('keeps filling up to batchSize by default', async () => {
    const g = gated(store);
    g.open();
    const w = clickhouseWriter(g.sink, { batchSize: 1000, delayMs: 60_000, stats: new Stats() });
    for (let i = 0; i < 900; i += 100) await w.write(events(100, i));
    await w.flush();
    expect(g.rows).toEqual([900]); // sealed by flush, not early
    await w.close();
  });

  it('attach() sets batch sizes and a spool whose leftovers, as at start-up, go in first', async () => {
    // a spool left by an earlier run: 200 rows the store never got
    const dir = join(root, 'spool-attach');
    const earlier = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    const down = { where: 'down', insertBatch: () => Promise.reject(new Error('down')) };
    const w0 = clickhouseWriter(down, { batchSize: 100, delayMs: 60_000, stats: new Stats(), spool: earlier, closeTimeoutMs: 50, retryInitialMs: 10 });
    await w0.write(events(200, 10_000));
    await w0.close();
    await earlier.release();

    const g = gated(store);
    g.open();
    const w = clickhouseWriter(g.sink, { batchSize: 100_000, delayMs: 60_000, stats: new Stats() });
    await w.write(events(250, 0));
    const spool = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    expect(spool.rows).toBe(200);
    w.attach(spool, 100, 100); // the 250 waiting are sealed now, as one batch, behind the leftovers
    await w.write(events(150, 1000));
    await w.flush();
    expect(g.rows.slice(0, 3)).toEqual([100, 100, 250]);
    expect(g.rows.reduce((a, b) => a + b, 0)).toBe(600);
    expect(w.counters.get('replayed')).toBe(600); // once the spool holds anything, new batches queue there
    expect(await count(store)).toBe(600);
    await w.close();
    await spool.release();
  });

  it('the opening output encodes before the store is open and inserts after', async () => {
    let resolve!: (s: Store) => void;
    const opening = new Promise<Store>((r) => (resolve = r));
    const sizes: number[] = [];
    const { output, opened } = openingClickHouseOutput(opening, { stats: new Stats(), batchSize: 1_000_000, delayMs: 60_000, spool: false }, () => {
      sizes.push(1);
      return { batchSize: 400, minBatchRows: 400 };
    });
    for (let i = 0; i < 1000; i += 250) await output.write(events(250, i));
    expect(await count(store)).toBe(0);
    resolve(store);
    const out = await opened;
    expect(sizes).toEqual([1]);
    await output.write(events(100, 5000));
    await output.close();
    expect(await count(store)).toBe(1100);
    expect(out.counters.get('batches')).toBeGreaterThanOrEqual(2); // the 1000 held, then the rest
  });

  it('the opening output fails the next write and the close when the store cannot be opened', async () => {
    let reject!: (e: Error) => void;
    const opening = new Promise<Store>((_, r) => (reject = r));
    const { output, opened } = openingClickHouseOutput(opening, { stats: new Stats(), batchSize: 1000, delayMs: 60_000, spool: false }, () => ({ batchSize: 1000 }));
    await output.write(events(10, 0)); // accepted while opening
    reject(new Error('cannot open the store: disk full'));
    await expect(opened).rejects.toThrow(/disk full/);
    expect(() => output.write(events(10, 10))).toThrow(/disk full/);
    await expect(output.close()).rejects.toThrow(/disk full/);
  });
});

describe('migrations as one script per file', () => {
  // chdb allows one data directory per process: both runners share it, in two databases.
  const BASE: MigrateOptions = { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: 'scr' };
  let db: TestDb;
  let scripted: SqlRunner;
  beforeAll(async () => {
    db = await openTestDb();
    scripted = {
      exec: (sql) => db.exec(sql),
      query: (sql) => db.query(sql),
      execScript: async (statements) => {
        await db.session.queryAsync(statements.join('\n;\n'));
      },
    };
  });
  afterAll(() => db?.close());

  it('build the same schema as statement by statement', async () => {
    const a = await migrate(db, { ...BASE, database: 'stm' });
    const b = await migrate(scripted, BASE);
    expect(b).toEqual(a);
    const schema = async (database: string) =>
      (await db.rows(`SELECT name, engine, create_table_query FROM system.tables WHERE database = '${database}' ORDER BY name`)).map((r) => r.join(' ').replaceAll(`${database}.`, 'D.').replaceAll(`DB \\'${database}\\'`, 'DB D'));
    expect(await schema('scr')).toEqual(await schema('stm'));
    expect(await migrate(scripted, BASE)).toEqual([]);
  }, 120_000);

  it('name the file whose script fails, and record nothing for it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dnslens-script-schema-'));
    try {
      const { cpSync } = await import('node:fs');
      const { schemaRoot } = await import('../src/store/migrate.js');
      cpSync(schemaRoot(), root, { recursive: true });
      // a statement ending in a line comment, then a bad one
      writeFileSync(
        join(root, 'migrations', '9999_broken.sql'),
        'CREATE TABLE IF NOT EXISTS {{database}}.s1 (a UInt8) ENGINE = MergeTree ORDER BY a -- note\n;\nCREATE TABLE {{database}}.s2 (a NoSuchType) ENGINE = MergeTree ORDER BY a;\n',
      );
      await expect(migrate(scripted, { ...BASE, root })).rejects.toThrow(/^9999_broken\.sql: .*NoSuchType/s);
      expect(await db.rows("SELECT name FROM system.tables WHERE database = 'scr' AND name = 's1'")).toEqual([['s1']]);
      expect(await db.rows("SELECT count() FROM scr.dnslens_migrations WHERE name = '9999_broken.sql'")).toEqual([['0']]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('pipeline turns', () => {
  it('lets I/O callbacks run while an input is decoded from memory', async () => {
    // 200 batches that each take ~1 ms and never wait for I/O
    async function* busy(): AsyncGenerator<DnsEvent[]> {
      for (let i = 0; i < 200; i++) {
        const until = performance.now() + 1;
        while (performance.now() < until);
        yield [newEvent()];
      }
    }
    let batches = 0;
    let ranAt = -1;
    setImmediate(() => (ranAt = batches));
    await runPipeline({
      sources: [{ kind: 'events', events: busy() }],
      outputs: [{ name: 'count', write: () => void batches++, close: async () => undefined }],
    });
    expect(batches).toBe(200);
    expect(ranAt).toBeGreaterThanOrEqual(0);
    expect(ranAt).toBeLessThan(20); // a turn comes every few milliseconds, not at the end
  });
});
