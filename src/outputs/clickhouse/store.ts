// The ClickHouse output's store side, loaded only when the output opens or a store command runs
// (@clickhouse/client and chdb cost start-up time a run without ClickHouse should not pay):
// store and migration options, the batch policy, and opening the output.
import { readFileSync } from 'node:fs';
import type { Context, OpenedOutput } from '../../component.js';
import type { Log } from '../../log.js';
import { memoryTier } from '../../memory.js';
import { EmbeddedStore, isConnectionError, openStore, type Store, type StoreOptions } from '../../store/connection.js';
import { debugStore } from '../../store/debug.js';
import { startEndpoint } from '../../store/endpoint.js';
import { migrate, type MigrateOptions, type SqlRunner } from '../../store/migrate.js';
import { hostZone } from '../../zone.js';
import { StoppedWaiting, stoppedOutput, untilReachable } from '../sink/reachable.js';
import { confirming, Receipts } from '../sink/writer.js';
import { HealthReporter } from './health.js';
import type { ClickHouseSettings, OPTIONS } from './index.js';
import { fileIdentity, importedFile, importOutput, planImport, skippedOutput, type FileImport } from './imports.js';
import { ClickHouseLogLedger, logChunkOutput } from './logledger.js';
import { openingClickHouseOutput } from './output.js';
import { chosenSignals, type SignalDef } from '../../signals/catalog.js';
import { SignalRunner } from '../../signals/runner.js';

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

export function migrateOptions(s: ClickHouseSettings, timezone: string | undefined): MigrateOptions {
  return {
    timezone,
    defaultTimezone: hostZone(),
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

/** Opens the store, brings its schema up to date and applies the configured retention.
 *  run: what the run's options add (--memoryLimit sizes an embedded engine, --skipTLSVerification).
 *  wait (a capture's output): a server that cannot be reached is waited for, retried with backoff,
 *  until wait.signal aborts (then StoppedWaiting); without it (a store command) its error is thrown. */
export async function openMigrated(
  s: ClickHouseSettings,
  log: Log,
  timezone: string | undefined,
  run: Pick<StoreOptions, 'memoryLimit' | 'skipTlsVerify'> = {},
  wait?: { signal?: AbortSignal },
): Promise<Store> {
  const address = storeOptions(s).address ?? [];
  const once = () => openMigratedOnce(s, log, timezone, run);
  if (!wait || address.length === 0) return once();
  return untilReachable(`ClickHouse at ${address.join(',')}`, once, isStartupRetry, log, wait.signal, { discard: (late) => late.close() });
}

// Waited out at start-up: the server not there (yet); not a host name that does not exist (ENOTFOUND).
function isStartupRetry(err: unknown): boolean {
  if (!isConnectionError(err)) return false;
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (e.code === 'ENOTFOUND' || (typeof e.message === 'string' && /ENOTFOUND/.test(e.message))) return false;
  }
  return true;
}

async function openMigratedOnce(s: ClickHouseSettings, log: Log, timezone: string | undefined, run: Pick<StoreOptions, 'memoryLimit' | 'skipTlsVerify'>): Promise<Store> {
  const opened = await openStore({ ...storeOptions(s), ...run });
  const store = s.clickhouseDebug ? debugStore(opened, log) : opened;
  try {
    const runner: SqlRunner = { exec: (sql) => store.exec(sql), query: <T>(sql: string) => store.query<T>(sql) };
    if (store instanceof EmbeddedStore) runner.execScript = (statements) => store.execScript(statements);
    // migrate() also re-applies the configured retention (ALTER ... MODIFY TTL) where it changed.
    // each applied file is in the 'schema migrated' line; a rebuild or a zone change is news of its own
    const started = Date.now();
    const applied = await migrate(runner, {
      ...migrateOptions(s, timezone),
      log: (m) => (/^(rollups|views)/.test(m) ? log.info(m) : log.debug(m)),
      // through a running capture's endpoint: that capture would write while the rollups are rebuilt
      noRebuild: store.kind === 'endpoint' ? `the store is held by a running capture (${store.where}), which would write meanwhile: stop it first` : undefined,
    });
    if (applied.length) log.info({ applied, store: store.where, ms: Date.now() - started }, 'schema migrated');
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

export function batchSizes(batchSize: number, batchSizeSet: boolean, embedded: boolean, memoryLimit = 0): { batchSize: number; minBatchRows?: number } {
  if (!embedded || batchSizeSet) return { batchSize };
  const rows = embeddedRows(memoryLimit);
  return { batchSize: rows, minBatchRows: Math.min(rows, EMBEDDED_MIN_BATCH) };
}

// Rows per embedded insert under --memoryLimit, measured on the bench import (1M packets): under
// a tight limit 25,000 (chdb's own peak is lowest there: 10,000-row parts cost more in merges,
// 100,000 ~60 MB more; each batch also waits encoded in memory, ~200 bytes a row, more while it
// fills); then 250,000 (peak 0.62 GB) and from 1 GB the full 500,000 (0.74 GB), one batch waiting
// behind the one being inserted (the insert is the slower side: a longer queue only holds memory).
export const TIGHT_BATCH = 25_000;
const BOUNDED_BATCH = 250_000;

export function embeddedRows(memoryLimit: number): number {
  const tier = memoryTier(memoryLimit);
  if (tier === 'tight') return TIGHT_BATCH;
  return tier === 'bounded' && memoryLimit < 1e9 ? BOUNDED_BATCH : EMBEDDED_BATCH_SIZE;
}

/** The writer's bound on sealed batches in memory: under a limit one batch waits behind the one
 *  being sent, and the pipeline waits for room (undefined: the writer's default). */
export function queueBytes(memoryLimit: number): number | undefined {
  return memoryTier(memoryLimit) === 'roomy' ? undefined : 1;
}

export async function openClickHouse({ settings, isSet, log, counters, stats, run }: Context<typeof OPTIONS>): Promise<OpenedOutput> {
  // A server that cannot be reached is waited for (until SIGINT/SIGTERM: StoppedWaiting).
  const storeOpening = openMigrated(settings, log, run.timezone, { memoryLimit: run.memoryLimit, skipTlsVerify: run.skipTlsVerify }, { signal: run.signal });
  const sizes = (embedded: boolean) => batchSizes(settings.clickhouseBatchSize, isSet('clickhouseBatchSize'), embedded, run.memoryLimit);
  // No address: the embedded store, unless another process holds it (then its endpoint). Until
  // the store is open, batches only fill (an early one would wait for the store anyway).
  const guess = sizes(storeOptions(settings).address?.length === 0).batchSize;
  // A file read from start to end is an import the store records (imports.ts); hashed while the store opens.
  const file = importedFile(run.files);
  const identity = file ? fileIdentity(file.path) : undefined;
  identity?.catch(() => undefined); // reported where it is awaited
  let fileImport: FileImport | undefined;
  let logLedger: ClickHouseLogLedger | undefined;
  const receipts = new Receipts(); // batches an input acknowledges upstream once stored (NATS)
  const onSent = (b: { rows: number; token?: string }) => {
    fileImport?.sent(b);
    logLedger?.sent(b);
    receipts.done(b);
  };
  const writerOpts = { stats, counters, log, delayMs: settings.clickhouseDelay, batchSize: guess, maxQueueBytes: queueBytes(run.memoryLimit), stop: run.signal, onSent, onSetAside: receipts.done.bind(receipts), fullQuery: settings.clickhouseSaveFullQuery };
  const { output, opened } = openingClickHouseOutput(storeOpening, writerOpts, (store) =>
    sizes(store instanceof EmbeddedStore),
  );
  // The signals (src/signals/) read what this run stored: once at its end, and on a schedule while a live input runs.
  const signals = new SignalRunner(storeOpening, { signals: chosenSignals(settings.signals) as SignalDef[], settings, server: run.server, whole: run.fileInput, log });
  const opening = (async () => {
    const store = await storeOpening;
    try {
      await opened;
      // While this process holds the embedded store, `dnslens sql|report` reach it through here.
      const endpoint = store instanceof EmbeddedStore ? await startEndpoint(store) : undefined;
      // dnslens' own counters go to dnslens_health in the same store.
      const health = new HealthReporter(store, { server: run.server, intervalMs: run.metricIntervalMs, stats });
      health.start();
      // Live inputs: the signals every --signalInterval too, not only at the end.
      if (!run.fileInput) signals.start(settings.signalInterval);
      return { store, endpoint, health };
    } catch (e) {
      await store.close();
      throw e;
    }
  })();
  // An import waits for the store's record of its file: batches are cut, and every row's IndexTime
  // set, as that record says before the first row is encoded.
  // Stopped while the server could not be reached: nothing was read (the run ends with its summary).
  const stopped = async (): Promise<OpenedOutput> => {
    await output.close();
    return { output: stoppedOutput(output.name, stats, counters) };
  };
  try {
    if (!run.fileInput || file) await opening;
    else opening.catch((e: unknown) => e instanceof StoppedWaiting || log.error({ err: (e as Error).message }, 'the ClickHouse store could not be opened'));
  } catch (e) {
    if (e instanceof StoppedWaiting) return stopped();
    throw e;
  }
  const dispose = async () => {
    const o = await opening.catch(() => null);
    if (o) await signals.close(); // after the writer closed: everything is stored
    await o?.health.close(); // the final snapshot, after the writer closed
    await o?.endpoint?.close();
    await o?.store.close();
  };
  let out = output;
  if (file && identity) {
    try {
      const { store } = await opening;
      const batchRows = sizes(store instanceof EmbeddedStore).batchSize;
      const plan = await planImport(store, { file, identity: await identity, server: run.server, packetLimit: run.packetLimit ?? 0, batchRows, reimport: settings.reimport, log });
      const ch = await opened;
      if (plan.skip) out = skippedOutput(ch);
      else {
        fileImport = plan.import;
        ch.writer.cut(plan.import.cuts);
        out = importOutput(ch, plan.import, run.signal);
      }
    } catch (e) {
      await output.close().catch(() => undefined);
      await dispose();
      throw e;
    }
  }
  // Resolver logs: each chunk of lines is one insert, and the read positions live in this store.
  if (run.logs && !file) {
    let store: Store;
    try {
      ({ store } = await opening);
    } catch (e) {
      if (e instanceof StoppedWaiting) return stopped();
      throw e;
    }
    logLedger = new ClickHouseLogLedger(store, run.server, log, run.signal);
    out = logChunkOutput(await opened, logLedger);
  }
  // A batch with a receipt is one insert under its token: delivered again, it is stored once.
  // (A live run awaited the opening above; a file run has no receipts.)
  if (!run.fileInput) out = confirming(out, (await opened).writer, receipts);
  return { output: signals.watch(out), reader: async () => (await opening).store, dispose, logLedger };
}
