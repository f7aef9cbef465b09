// Importing the same data twice never counts twice (issue #12), as a user meets it: a file already
// imported is skipped, --reimport imports it again, a capture that overlaps an earlier one is
// imported with a warning. Below, the store side: a batch sent again under its token is stored
// once in DNS_LOG and in every rollup (and completes a rollup it missed), also after a spool; a
// stopped import stores whole batches only. (test/imports-resume.test.ts: SIGKILL, then resume.)
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { fileIdentity, importOutput, planImport, type FileImport, type ImportOptions } from '../src/outputs/clickhouse/imports.js';
import { clickhouseWriter, createClickHouseOutput, openClickHouseSpool } from '../src/outputs/clickhouse/output.js';
import type { Log } from '../src/log.js';
import { Stats } from '../src/stats.js';
import type { Store } from '../src/store/connection.js';
import { embeddedStore } from './embedded-store.js';
import { allPairs, asTestDb, dnslens, sqlValue } from './import-helpers.js';
import { expectPairsEqual, optimizeAll, rollupTables } from './rollup-pairs.js';
import { traffic } from './synthetic.js';
// @ts-expect-error: plain JS shared with the holder process
import { syntheticEvents } from './store-fixtures.mjs';

const SAMPLE = join(import.meta.dirname, '..', 'samples', 'dns-sample.pcap'); // 38 messages, 2005-03-30 08:47:46 to 08:52:25

/** The first n records of a classic pcap: a shorter capture of the same traffic. */
function pcapHead(from: string, to: string, n: number): void {
  const b = readFileSync(from);
  let at = 24;
  for (let i = 0; i < n; i++) at += 16 + b.readUInt32LE(at + 8);
  writeFileSync(to, b.subarray(0, at));
}

describe('importing a capture file into the store', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-imports-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('a second import of the same file is skipped (exit 0, counts unchanged); --reimport imports it again on purpose', () => {
    const dataDir = join(root, 'twice');
    // DNS_LOG, a rollup, and the imports recorded complete
    const counts = () =>
      sqlValue(dataDir, "SELECT concat(toString((SELECT count() FROM DNS_LOG)), ' ', toString((SELECT sum(Messages) FROM dns_traffic_minute)), ' ', toString((SELECT groupArray(Rows) FROM dnslens_imports FINAL WHERE State = 'complete')))");
    const first = dnslens(['--pcapFile', SAMPLE, '--dataDir', dataDir]);
    expect(first.code, first.stderr).toBe(0);
    expect(counts()).toBe('38 38 [38]');

    const again = dnslens(['--pcapFile', SAMPLE, '--dataDir', dataDir]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/dns-sample\.pcap: already imported into this store on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(38 rows, server default, packets 2005-03-30 08:47:46\.496046 to 2005-03-30 08:52:25\.375359 UTC\); skipped\. --reimport imports it again/);
    expect(again.stderr).toMatch(/packets read +0 /);
    expect(counts()).toBe('38 38 [38]');

    const re = dnslens(['--pcapFile', SAMPLE, '--dataDir', dataDir, '--reimport']);
    expect(re.code, re.stderr).toBe(0);
    expect(re.stderr).toMatch(/importing it again \(--reimport\): its messages are stored twice/);
    expect(counts()).toBe('76 76 [38,38]');
  }, 120_000);

  it('a capture that overlaps an earlier one in part is imported, with a warning naming the earlier import', () => {
    const dataDir = join(root, 'overlap');
    const head = join(root, 'first-20.pcap');
    pcapHead(SAMPLE, head, 20);
    const first = dnslens(['--pcapFile', head, '--dataDir', dataDir]);
    expect(first.code, first.stderr).toBe(0);
    const longer = dnslens(['--pcapFile', SAMPLE, '--dataDir', dataDir]);
    expect(longer.code, longer.stderr).toBe(0);
    expect(longer.stderr).toMatch(
      /dns-sample\.pcap overlaps \S*first-20\.pcap, imported on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC as server default \(packets 2005-03-30 08:47:46\.496046 to 2005-03-30 08:\d\d:\d\d\.\d{6} UTC\): messages captured in both are now stored twice/,
    );
    expect(sqlValue(dataDir, 'SELECT count() FROM DNS_LOG')).toBe(String(20 + 38));
    // another server's capture of the same time is no overlap
    const b = dnslens(['--pcapFile', SAMPLE, '--dataDir', dataDir, '--serverName', 'b', '--reimport']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).not.toMatch(/overlaps/);
  }, 120_000);
});

const events = (n: number, start: number): DnsEvent[] => syntheticEvents(n, start) as DnsEvent[];
const count = async (store: Store) => Number((await store.query<{ n: string | number }>('SELECT count() AS n FROM DNS_LOG'))[0].n);

describe('the store side', () => {
  let store: Store;
  const root = embeddedStore('dnslens-import-tokens-', (s) => (store = s));

  it('a batch sent again under its token is stored once in DNS_LOG and in every rollup, and completes the rollups that missed it', async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    // two days of queries and responses (answered, unanswered, NXDOMAIN...), in two batches
    const all = traffic({ seed: 12, queries: 3000, names: 400, clients: 60, startSec: Date.UTC(2026, 0, 5) / 1000, spanSec: 2 * 86400 });
    const batches = { 'a:0': all.slice(0, 3500), 'a:1': all.slice(3500) };
    const send = async (token: keyof typeof batches) => {
      const w = clickhouseWriter(store, { batchSize: 1, delayMs: 60_000, stats: new Stats() });
      w.cut({ rows: batches[token].length, skipRows: 0, nowSec, token: () => token });
      await w.write(batches[token]);
      await w.close();
    };
    await send('a:0');
    await send('a:0'); // landed already: dropped everywhere
    // a crash after DNS_LOG and some rollups took batch a:1: the others never saw it
    const views = (await store.query<{ name: string }>("SELECT name FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView' ORDER BY name")).map((r) => r.name);
    expect(views.length).toBeGreaterThan(4);
    const missed = views.filter((_, i) => i % 2 === 0);
    for (const v of missed) await store.exec(`DETACH TABLE \`${v}\``);
    await send('a:1');
    for (const v of missed) await store.exec(`ATTACH TABLE \`${v}\``);
    expect(await count(store)).toBe(all.length);
    await send('a:1');
    await send('a:1');
    expect(await count(store)).toBe(all.length);
    // without a token, the same rows are stored again (a live capture's inserts are not checked)
    const plain = clickhouseWriter(store, { batchSize: 1000, delayMs: 60_000, stats: new Stats() });
    await plain.write(all.slice(0, 1000));
    await plain.close();
    expect(await count(store)).toBe(all.length + 1000);
    const db = asTestDb(store);
    await optimizeAll(db, store.database);
    await expectPairsEqual(db, allPairs(store.database));
    const covered = new Set(allPairs(store.database).map((p) => p.table));
    expect((await rollupTables(db, store.database)).filter((t) => !covered.has(t))).toEqual([]);
  }, 120_000);

  it('a batch keeps its token through the spool: replayed after an outage, it is not stored again when a resumed import sends it', async () => {
    await store.exec('TRUNCATE TABLE DNS_LOG');
    const dir = join(root, 'spool');
    const nowSec = Math.floor(Date.now() / 1000);
    const cuts = { rows: 1000, skipRows: 0, nowSec, token: (i: number) => `spooled:${i}` };
    // the store goes away: both batches end in the spool at close
    await store.exec('RENAME TABLE DNS_LOG TO DNS_LOG_away');
    const spool = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    const w = clickhouseWriter(store, { batchSize: 1, delayMs: 60_000, stats: new Stats(), spool, closeTimeoutMs: 300, retryInitialMs: 50 });
    w.cut(cuts);
    await w.write(events(2000, 0));
    await w.close();
    await spool.release();
    expect(w.counters.get('spooled')).toBe(2000);
    await store.exec('RENAME TABLE DNS_LOG_away TO DNS_LOG');
    // the next start replays the spool, tokens and all
    const again = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    expect([again.oldest()?.token]).toEqual(['spooled:0']);
    const tokens: (string | undefined)[] = [];
    const replay = clickhouseWriter(store, { batchSize: 1000, delayMs: 60_000, stats: new Stats(), spool: again, onSent: (b) => tokens.push(b.token) });
    await replay.flush();
    await replay.close();
    await again.release();
    expect(tokens).toEqual(['spooled:0', 'spooled:1']);
    // the resumed import sends the same batches: nothing more is stored
    const resumed = clickhouseWriter(store, { batchSize: 1, delayMs: 60_000, stats: new Stats() });
    resumed.cut(cuts);
    await resumed.write(events(2000, 0));
    await resumed.close();
    expect(await count(store)).toBe(2000);
  }, 120_000);

  it('a file import stopped (Ctrl-C, SIGTERM) stores whole batches only, not what transforms flushed at the stop; the next run passes over them and completes it', async () => {
    await store.exec('TRUNCATE TABLE DNS_LOG');
    const path = join(root, 'capture.pcap');
    writeFileSync(path, 'the file identifies the import; its events are given below');
    const warnings: string[] = [];
    const log = { debug: () => undefined, info: () => undefined, error: () => undefined, warn: (_: unknown, msg: string) => warnings.push(msg) } as unknown as Log;
    const opts: ImportOptions = { file: { path, input: 'pcap' }, identity: await fileIdentity(path), server: 'test', packetLimit: 0, batchRows: 1000, reimport: false, log };
    const all = events(3500, 0);
    /** One run of the import: the events it gets, then the end of the input or a stop. */
    const run = async (given: DnsEvent[], stop: boolean) => {
      const plan = await planImport(store, opts);
      if (plan.skip) throw new Error('skipped');
      const imp: FileImport = plan.import;
      const stats = new Stats();
      const ch = await createClickHouseOutput(store, { stats, batchSize: 1, delayMs: 60_000, spool: false, onSent: (b) => imp.sent(b) });
      ch.writer.cut(imp.cuts);
      const signal = new AbortController();
      const out = importOutput(ch, imp, signal.signal);
      await out.write(given);
      if (stop) {
        signal.abort();
        await out.write(events(10, 90_000)); // queries a transform held, flushed at the stop
      } else out.inputEnded?.();
      await out.close();
      return { counters: ch.counters, stats };
    };
    const record = async () => (await store.query<{ s: string }>("SELECT concat(toString(State), ' ', toString(Rows), ' ', toString(Batches)) AS s FROM dnslens_imports FINAL"))[0].s;

    const first = await run(all.slice(0, 2500), true);
    expect(await count(store)).toBe(2000);
    expect(await record()).toBe('partial 2000 2');
    expect(first.counters.get('dropped')).toBe(510);
    expect(warnings.at(-1)).toMatch(/capture\.pcap: import interrupted with 2,000 rows stored; run the same command again to finish it/);

    const second = await run(all, false);
    expect(second.counters.get('resumed')).toBe(2000);
    expect(second.counters.get('sent')).toBe(1500);
    expect(await count(store)).toBe(3500);
    expect(await record()).toBe('complete 3500 4');
    expect((await planImport(store, opts)).skip).toBe(true);
  }, 120_000);

  it('the schema gives DNS_LOG and every table a view writes to a deduplication window (tokens are checked there)', async () => {
    const rows = await store.query<{ name: string; window: string }>(
      `SELECT name, extract(engine_full, 'non_replicated_deduplication_window = (\\\\d+)') AS window FROM system.tables
       WHERE database = currentDatabase() AND engine LIKE '%MergeTree' AND (name = 'DNS_LOG' OR name IN (
         SELECT extract(create_table_query, ' TO [^ ]+?\\\\.(\\\\w+)') FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'))
       ORDER BY name`,
    );
    expect(rows.length).toBeGreaterThan(10);
    // a table created by a later migration that a view writes to carries SETTINGS non_replicated_deduplication_window = 1000 itself
    expect(rows.filter((r) => !(Number(r.window) >= 1000))).toEqual([]);
  });
});
