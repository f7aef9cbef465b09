// The store side of the CLI: opening ClickHouse for a capture, and the `sql`, `report` and
// `schema` commands, which work on the embedded store, a server, or a running capture's endpoint.
import { readFileSync } from 'node:fs';
import type { Config } from './config.js';
import { ConfigError, loadConfig, sourceOf } from './config.js';
import type { Stats } from '../stats.js';
import type { Output } from '../outputs/output.js';
import { openingClickHouseOutput } from '../outputs/clickhouse.js';
import { EmbeddedStore, openStore, type Store } from '../store/connection.js';
import { startEndpoint } from '../store/endpoint.js';
import { HealthReporter } from '../store/health.js';
import { migrate, schemaScript, type MigrateOptions, type SqlRunner } from '../store/migrate.js';
import { report, runSql, type SqlFormat } from '../store/report.js';
import { log } from '../log.js';

/** --clickhousePassword, or the first line of a file given as @path (keeps it out of `ps`). */
function passwordOf(cfg: Config): string {
  const p = cfg.clickhousePassword;
  return p.startsWith('@') ? readFileSync(p.slice(1), 'utf8').split('\n')[0].trim() : p;
}

function storeOptions(cfg: Config) {
  const address = cfg.clickhouseAddress
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const password = passwordOf(cfg);
  return {
    address,
    username: cfg.clickhouseUsername || undefined,
    password: password || undefined,
    database: cfg.clickhouseDatabase,
    secure: cfg.clickhouseSecure,
    compress: cfg.clickhouseCompress,
    dataDir: cfg.dataDir,
  };
}

function migrateOptions(cfg: Config): MigrateOptions {
  return {
    ttlDays: cfg.clickhouseTTL,
    rollupTtl: {
      minute: cfg.clickhouseRollupTTLMinute,
      hour: cfg.clickhouseRollupTTLHour,
      day: cfg.clickhouseRollupTTLDay,
      week: cfg.clickhouseRollupTTLWeek,
      month: cfg.clickhouseRollupTTLMonth,
    },
    database: cfg.clickhouseDatabase,
    variant: cfg.clickhouseCluster ? 'cluster' : 'single',
    cluster: cfg.clickhouseCluster || undefined,
    // On a server whose user has a password, dictionaries read their tables with the same login.
    dictionaryAuth: cfg.clickhouseUsername ? { user: cfg.clickhouseUsername, password: passwordOf(cfg) } : undefined,
  };
}

/** Opens the store, brings its schema up to date and applies the configured retention. */
async function openMigrated(cfg: Config): Promise<Store> {
  const store = await openStore(storeOptions(cfg));
  try {
    const runner: SqlRunner = { exec: (sql) => store.exec(sql), query: <T>(sql: string) => store.query<T>(sql) };
    if (store instanceof EmbeddedStore) runner.execScript = (statements) => store.execScript(statements);
    // migrate() also re-applies the configured retention (ALTER ... MODIFY TTL) where it changed.
    const applied = await migrate(runner, migrateOptions(cfg));
    if (applied.length) log.info({ applied, store: store.where }, 'schema migrated');
    return store;
  } catch (e) {
    await store.close();
    throw e;
  }
}

export interface StoreOutput {
  output: Output;
  report: () => Promise<string>;
  dispose: () => Promise<void>; // after output.close(): stop the endpoint, close the store
}

// Rows per insert into the embedded store when --clickhouseBatchSize is not given. Every insert
// also writes a part into each rollup table, so on chdb fewer, larger inserts cost far less CPU
// per row (measured on the bench capture: 100k-row inserts 7.3 CPU-s, 500k-row 3.8-4.2 CPU-s per
// 968k rows with all rollups). A server keeps dnsmonster's default (100k).
export const EMBEDDED_BATCH_SIZE = 500_000;

// With no insert in flight, an embedded-store batch goes once it has this many rows instead of
// filling up: the first insert starts as soon as the store opens, and a file's last insert is
// smaller, so less of the store's work is left when decoding ends.
export const EMBEDDED_MIN_BATCH = 125_000;

function batchSizes(cfg: Config, embedded: boolean): { batchSize: number; minBatchRows?: number } {
  if (embedded && sourceOf(cfg, 'clickhouseBatchSize').kind === 'default') return { batchSize: EMBEDDED_BATCH_SIZE, minBatchRows: EMBEDDED_MIN_BATCH };
  return { batchSize: cfg.clickhouseBatchSize };
}

/** Opens the ClickHouse output. With defer (file inputs), opening (chdb load, migrations) overlaps
 *  decoding: the writer encodes events meanwhile. Live inputs open it first, so a store that
 *  cannot be reached stops the run before capture starts. */
export async function openDefaultStoreOutput(cfg: Config, stats: Stats, defer: boolean): Promise<StoreOutput> {
  const storeOpening = openMigrated(cfg);
  // No address: the embedded store, unless another process holds it (then its endpoint). Until
  // the store is open, batches only fill (an early one would wait for the store anyway).
  const guess = batchSizes(cfg, storeOptions(cfg).address.length === 0).batchSize;
  const { output, opened } = openingClickHouseOutput(storeOpening, { stats, delayMs: cfg.clickhouseDelay, batchSize: guess }, (store) =>
    batchSizes(cfg, store instanceof EmbeddedStore),
  );
  const opening = (async () => {
    const store = await storeOpening;
    try {
      const out = await opened;
      // While this process holds the embedded store, `dnslens sql|report` reach it through here.
      const endpoint = store instanceof EmbeddedStore ? await startEndpoint(store) : undefined;
      // dnslens' own counters go to dnslens_health in the same store (src/store/health.ts).
      const health = new HealthReporter(store, { server: cfg.serverName, intervalMs: cfg.metricFlushInterval, stats, writer: out.writer });
      health.start();
      return { store, endpoint, health };
    } catch (e) {
      await store.close();
      throw e;
    }
  })();
  if (!defer) await opening;
  else opening.catch((e: unknown) => log.error({ err: (e as Error).message }, 'the ClickHouse store could not be opened'));
  return {
    output,
    report: async () => report((await opening).store),
    dispose: async () => {
      const o = await opening.catch(() => null);
      await o?.health.close(); // the final snapshot, after the writer closed
      await o?.endpoint?.close();
      await o?.store.close();
    },
  };
}

// ------------------------------------------------------------------ commands

interface CommandArgs {
  positional: string[];
  own: Map<string, string>;
  rest: string[]; // everything else: dnslens' own flags (store address, dataDir, ...)
}

/** Splits a command's own flags (given in `names`) from the shared configuration flags. */
function splitArgs(args: string[], names: string[]): CommandArgs {
  const out: CommandArgs = { positional: [], own: new Map(), rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--?([A-Za-z]+)(?:=(.*))?$/.exec(a);
    if (m && names.includes(m[1])) {
      const value = m[2] ?? args[++i];
      if (value === undefined) throw new ConfigError(m[1], `${a}: needs a value`);
      out.own.set(m[1], value);
    } else if (a.startsWith('-') && a !== '-') {
      out.rest.push(a);
      if (!a.includes('=') && args[i + 1] !== undefined && !args[i + 1].startsWith('--')) out.rest.push(args[++i]);
    } else out.positional.push(a);
  }
  return out;
}

const SQL_FORMATS = ['table', 'csv', 'json', 'tsv'];

export async function storeCommand(cmd: string, args: string[]): Promise<number> {
  if (cmd === 'sql') {
    const a = splitArgs(args, ['f', 'file', 'format']);
    const file = a.own.get('f') ?? a.own.get('file');
    const sql = file ? readFileSync(file, 'utf8') : a.positional.join(' ');
    if (!sql.trim()) throw new ConfigError('sql', 'dnslens sql: give a query ("SELECT ...") or -f FILE');
    const format = (a.own.get('format') ?? 'table') as SqlFormat;
    if (!SQL_FORMATS.includes(format)) throw new ConfigError('format', `--format: "${format}" is not one of ${SQL_FORMATS.join(', ')}`);
    return withStore(a.rest, async (store) => process.stdout.write(await runSql(store, sql, format)));
  }
  if (cmd === 'report') {
    const a = splitArgs(args, ['top', 'since', 'until']);
    const top = Number(a.own.get('top') ?? 10);
    if (!Number.isInteger(top) || top < 1) throw new ConfigError('top', `--top: "${a.own.get('top')}" is not a positive integer`);
    return withStore(a.rest, async (store) =>
      process.stdout.write(await report(store, { top, since: a.own.get('since'), until: a.own.get('until') })),
    );
  }
  // schema migrate | schema print
  const a = splitArgs(args, []);
  if (a.positional[0] === 'print') {
    // The SQL a migration from an empty store runs (with --clickhouseCluster: the cluster form), without connecting.
    process.stdout.write(schemaScript(migrateOptions(loadConfig(a.rest, process.env))));
    return 0;
  }
  if (a.positional[0] !== 'migrate') throw new ConfigError('schema', 'usage: dnslens schema migrate|print [store flags]');
  const cfg = loadConfig(a.rest, process.env);
  const store = await openMigrated(cfg);
  process.stdout.write(`schema up to date (${store.where})\n`);
  await store.close();
  return 0;
}

async function withStore(flags: string[], fn: (store: Store) => Promise<unknown>): Promise<number> {
  const cfg = loadConfig(flags, process.env);
  const store = await openMigrated(cfg);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
  return 0;
}
