// `dnslens sql`, `report` and `schema`: commands on the ClickHouse store (embedded, a server, or a
// running capture's endpoint), with the ClickHouse output's own store options.
import { readFileSync } from 'node:fs';
import { log } from '../log.js';
import { resolveMemoryLimit } from '../memory.js';
import { ConfigError, loadConfig, settingsOf, type Config } from './config.js';
import { clickhouse, type ClickHouseSettings } from '../outputs/clickhouse/index.js';
import { migrateOptions, openMigrated, storeOptions } from '../outputs/clickhouse/store.js';
import { openStore, type Store } from '../store/connection.js';
import { schemaScript } from '../store/migrate.js';
import { runSql, type SqlFormat } from '../reports/sql.js';
import { summaryReport } from '../reports/summary.js';
import { askedZone } from '../zone.js';

const settings = (cfg: Config): ClickHouseSettings => settingsOf(cfg, clickhouse);
// These commands use the store options only: a capture option's own check does not stop them.
const STORE_ONLY = { checkComponents: false };

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
    const timezone = askedZone(loadConfig(a.rest, process.env, undefined, STORE_ONLY).timezone);
    return withStore(a.rest, async (store) => {
      const [t] = await store.query<{ n: string | number }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'DNS_LOG'");
      if (Number(t?.n ?? 0) === 0) throw new ConfigError('dataDir', `no dnslens store in ${store.where}: nothing is stored there yet (a capture creates it)`);
      process.stdout.write(await summaryReport(store, { top, since: a.own.get('since'), until: a.own.get('until'), timezone }));
    });
  }
  // schema migrate | schema print
  const a = splitArgs(args, []);
  if (a.positional[0] === 'print') {
    // The SQL a migration from an empty store runs (with --clickhouseCluster: the cluster form), without connecting.
    const cfg = loadConfig(a.rest, process.env, undefined, STORE_ONLY);
    process.stdout.write(schemaScript(migrateOptions(settings(cfg), askedZone(cfg.timezone))));
    return 0;
  }
  if (a.positional[0] !== 'migrate') throw new ConfigError('schema', 'usage: dnslens schema migrate|print [store flags]');
  const cfg = loadConfig(a.rest, process.env, undefined, STORE_ONLY);
  const store = await openMigrated(settings(cfg), log, askedZone(cfg.timezone), resolveMemoryLimit(cfg.memoryLimit));
  process.stdout.write(`schema up to date (${store.where})\n`);
  await store.close();
  return 0;
}

// `sql` and `report` only read: they open the store without migrating it, so they never re-apply
// retention (their flags carry none: the defaults would cut a longer retention) and never rewrite
// the dictionaries' login. `schema migrate` and a capture bring the schema up to date.
async function withStore(flags: string[], fn: (store: Store) => Promise<unknown>): Promise<number> {
  const cfg = loadConfig(flags, process.env, undefined, STORE_ONLY);
  const store = await openStore({ ...storeOptions(settings(cfg)), memoryLimit: resolveMemoryLimit(cfg.memoryLimit) });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
  return 0;
}
