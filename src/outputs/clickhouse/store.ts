// The ClickHouse output's store side, loaded only when the output opens or a store command runs
// (@clickhouse/client and chdb cost start-up time a run without ClickHouse should not pay):
// store and migration options, the batch policy, and opening the output.
import { readFileSync } from 'node:fs';
import type { Context, OpenedOutput } from '../../component.js';
import type { Log } from '../../log.js';
import { EmbeddedStore, openStore, type Store, type StoreOptions } from '../../store/connection.js';
import { startEndpoint } from '../../store/endpoint.js';
import { migrate, type MigrateOptions, type SqlRunner } from '../../store/migrate.js';
import { HealthReporter } from './health.js';
import type { ClickHouseSettings, OPTIONS } from './index.js';
import { openingClickHouseOutput } from './output.js';

/** --clickhousePassword, or the first line of a file given as @path (keeps it out of `ps`). */
function passwordOf(s: ClickHouseSettings): string {
  const p = s.clickhousePassword;
  return p.startsWith('@') ? readFileSync(p.slice(1), 'utf8').split('\n')[0].trim() : p;
}

export function storeOptions(s: ClickHouseSettings): StoreOptions {
  const password = passwordOf(s);
  return {
    address: s.clickhouseAddress
      .split(',')
      .map((a) => a.trim())
      .filter(Boolean),
    username: s.clickhouseUsername || undefined,
    password: password || undefined,
    database: s.clickhouseDatabase,
    secure: s.clickhouseSecure,
    compress: s.clickhouseCompress,
    dataDir: s.dataDir,
  };
}

export function migrateOptions(s: ClickHouseSettings): MigrateOptions {
  return {
    ttlDays: s.clickhouseTTL,
    rollupTtl: {
      minute: s.clickhouseRollupTTLMinute,
      hour: s.clickhouseRollupTTLHour,
      day: s.clickhouseRollupTTLDay,
      week: s.clickhouseRollupTTLWeek,
      month: s.clickhouseRollupTTLMonth,
    },
    database: s.clickhouseDatabase,
    variant: s.clickhouseCluster ? 'cluster' : 'single',
    cluster: s.clickhouseCluster || undefined,
    // Dictionaries log in to read their tables: as a local-only user without a password when one
    // is named (nothing secret in their DDL), else with this run's login.
    dictionaryAuth: s.clickhouseDictionaryUser
      ? { user: s.clickhouseDictionaryUser, password: '' }
      : s.clickhouseUsername
        ? { user: s.clickhouseUsername, password: passwordOf(s) }
        : undefined,
  };
}

/** Opens the store, brings its schema up to date and applies the configured retention. */
export async function openMigrated(s: ClickHouseSettings, log: Log): Promise<Store> {
  const store = await openStore(storeOptions(s));
  try {
    const runner: SqlRunner = { exec: (sql) => store.exec(sql), query: <T>(sql: string) => store.query<T>(sql) };
    if (store instanceof EmbeddedStore) runner.execScript = (statements) => store.execScript(statements);
    // migrate() also re-applies the configured retention (ALTER ... MODIFY TTL) where it changed.
    const applied = await migrate(runner, migrateOptions(s));
    if (applied.length) log.info({ applied, store: store.where }, 'schema migrated');
    return store;
  } catch (e) {
    await store.close();
    throw e;
  }
}

// The batch policy, in one place. Rows per insert into the embedded store when
// --clickhouseBatchSize is not given: every insert also writes a part into each rollup table, so
// on chdb fewer, larger inserts cost far less CPU per row (measured on the bench capture:
// 100k-row inserts 7.3 CPU-s, 500k-row 3.8-4.2 CPU-s per 968k rows with all rollups). A server
// keeps dnsmonster's default (100k).
export const EMBEDDED_BATCH_SIZE = 500_000;
// With no insert in flight, an embedded-store batch goes once it has this many rows instead of
// filling up: the first insert starts as soon as the store opens, and a file's last insert is
// smaller, so less of the store's work is left when decoding ends.
export const EMBEDDED_MIN_BATCH = 125_000;

export function batchSizes(batchSize: number, batchSizeSet: boolean, embedded: boolean): { batchSize: number; minBatchRows?: number } {
  if (embedded && !batchSizeSet) return { batchSize: EMBEDDED_BATCH_SIZE, minBatchRows: EMBEDDED_MIN_BATCH };
  return { batchSize };
}


export async function openClickHouse({ settings, isSet, log, counters, stats, run }: Context<typeof OPTIONS>): Promise<OpenedOutput> {
  const storeOpening = openMigrated(settings, log);
  const sizes = (embedded: boolean) => batchSizes(settings.clickhouseBatchSize, isSet('clickhouseBatchSize'), embedded);
  // No address: the embedded store, unless another process holds it (then its endpoint). Until
  // the store is open, batches only fill (an early one would wait for the store anyway).
  const guess = sizes(storeOptions(settings).address?.length === 0).batchSize;
  const { output, opened } = openingClickHouseOutput(storeOpening, { stats, counters, log, delayMs: settings.clickhouseDelay, batchSize: guess }, (store) =>
    sizes(store instanceof EmbeddedStore),
  );
  const opening = (async () => {
    const store = await storeOpening;
    try {
      await opened;
      // While this process holds the embedded store, `dnslens sql|report` reach it through here.
      const endpoint = store instanceof EmbeddedStore ? await startEndpoint(store) : undefined;
      // dnslens' own counters go to dnslens_health in the same store.
      const health = new HealthReporter(store, { server: run.server, intervalMs: run.metricIntervalMs, stats });
      health.start();
      return { store, endpoint, health };
    } catch (e) {
      await store.close();
      throw e;
    }
  })();
  if (!run.fileInput) await opening;
  else opening.catch((e: unknown) => log.error({ err: (e as Error).message }, 'the ClickHouse store could not be opened'));
  return {
    output,
    reader: async () => (await opening).store,
    dispose: async () => {
      const o = await opening.catch(() => null);
      await o?.health.close(); // the final snapshot, after the writer closed
      await o?.endpoint?.close();
      await o?.store.close();
    },
  };
}
