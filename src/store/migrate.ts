// Schema migrations: plain .sql files in clickhouse/migrations, applied in name order and recorded
// in <database>.dnslens_migrations (name, checksum, applied_at).
//
// File rules (clickhouse/README.md has the long form):
// - named NNNN_name.sql; a semicolon at the end of a line ends a statement (comment lines never do),
//   so keep SQL free of a ";" that ends a line inside a string;
// - {{placeholders}} are filled at apply time: database, ttlDays, ttlMinuteDays ... ttlMonthDays,
//   clientMaskV4, clientMaskV6, cluster, dictionaryAuth; an unknown one is an error;
// - once applied, a file never changes (a changed file is an error naming it): changes go in a new
//   file; every statement must be safe to run again (IF NOT EXISTS), since a migration that fails
//   half way is re-run from its start.
// The cluster variant runs the same files, rewritten statement by statement (src/store/cluster.ts),
// and records the same checksums.
// Every view lives in views.sql, applied after the numbered files when its rendered text changed
// (src/store/views.ts rebuilds the rollups then); on an empty store the numbered files' own views and
// back-fills are skipped.
// Besides the numbered files, every run (re)loads the dict_* tables from clickhouse/dictionaries/*.tsv
// when a file changed, re-creates the dictionaries (dictionaries/dictionaries.sql, with the current
// credentials) as soon as their tables exist, and re-applies retention (retention.ts).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLUSTER_V1_CHECKSUMS, deriveCluster } from './cluster.js';
import { applyRetention } from './retention.js';
import { selectRows, sqlOf, splitStatements } from './statements.js';
import { parseViews, rebuildRollups } from './views.js';

export { splitStatements };

/** What the runner needs from a connection; the store's embedded and server clients both fit. */
export interface SqlRunner {
  exec(sql: string): Promise<void>;
  /** Optional: a file's statements in one call, stopping at the first error (the embedded store). */
  execScript?(statements: readonly string[]): Promise<void>;
  /** Rows as objects (JSONEachRow: 64-bit integers may come back as strings). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
}

export interface RollupTtl {
  minute: number;
  hour: number;
  day: number;
  week: number;
  month: number;
}

export const DEFAULT_TTL_DAYS = 30;
export const DEFAULT_ROLLUP_TTL: RollupTtl = { minute: 90, hour: 730, day: 730, week: 1825, month: 1825 };

export interface MigrateOptions {
  ttlDays: number; // DNS_LOG retention, counted from ingestion
  rollupTtl: RollupTtl;
  database?: string; // default 'default' (dnsmonster's --clickhouseDatabase default)
  variant?: 'single' | 'cluster'; // the files as written, or derived for a cluster (src/store/cluster.ts)
  cluster?: string; // the cluster name, for the cluster variant's ON CLUSTER
  clientMaskV4?: number; // prefix kept by the per-client rollups (default 24)
  clientMaskV6?: number; // (default 48)
  timezone?: string; // IANA zone of the rollups' hours, days, weeks and months; unset: the store's own
  defaultTimezone?: string; // the zone of a store that has none yet (default UTC)
  noRebuild?: string; // why views.sql may not be applied again now (the views are dropped meanwhile)
  /** Credentials the dictionaries use to read their tables; needed when the server's user has a password. */
  dictionaryAuth?: { user: string; password: string };
  root?: string; // schema directory (single-server files, for either variant); default clickhouse/
  tsvDir?: string; // dictionary data files; default root/dictionaries
  log?: (message: string) => void;
}

interface MigrationFile {
  name: string;
  path: string;
  checksum: string;
}

const NAME_RE = /^\d{4}_[A-Za-z0-9_-]+\.sql$/;
const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DICT_PREFIX = 'dictionaries/';

/** The clickhouse/ directory of this checkout or install (found upward from this module). */
export function schemaRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'clickhouse', 'migrations'))) return join(dir, 'clickhouse');
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error('cannot find the clickhouse/migrations directory above ' + fileURLToPath(import.meta.url));
}

export function checksum(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

function sqlString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

function days(name: string, v: number): string {
  if (!Number.isInteger(v) || v < 1 || v > 36500) throw new Error(`${name} must be a whole number of days from 1 to 36500, not ${v}`);
  return String(v);
}

function prefix(name: string, v: number, max: number): string {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new Error(`${name} must be a prefix length from 0 to ${max}, not ${v}`);
  return String(v);
}

function zoneName(z: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(z)) throw new Error(`time zone ${JSON.stringify(z)} is not an IANA zone name`);
  return z;
}

/** Placeholder values for these options (validated). */
export function placeholders(opts: MigrateOptions): Map<string, string> {
  const database = opts.database ?? 'default';
  if (!IDENT_RE.test(database)) throw new Error(`database name ${JSON.stringify(database)} is not a plain identifier`);
  const r = opts.rollupTtl;
  const values = new Map<string, string>([
    ['database', database],
    ['ttlDays', days('ttlDays', opts.ttlDays)],
    ['ttlMinuteDays', days('rollupTtl.minute', r.minute)],
    ['ttlHourDays', days('rollupTtl.hour', r.hour)],
    ['ttlDayDays', days('rollupTtl.day', r.day)],
    ['ttlWeekDays', days('rollupTtl.week', r.week)],
    ['ttlMonthDays', days('rollupTtl.month', r.month)],
    ['clientMaskV4', prefix('clientMaskV4', opts.clientMaskV4 ?? 24, 32)],
    ['clientMaskV6', prefix('clientMaskV6', opts.clientMaskV6 ?? 48, 128)],
    ['timezone', zoneName(opts.timezone ?? opts.defaultTimezone ?? 'UTC')],
    ['dictionaryAuth', opts.dictionaryAuth ? `USER ${sqlString(opts.dictionaryAuth.user)} PASSWORD ${sqlString(opts.dictionaryAuth.password)}` : ''],
  ]);
  if (opts.cluster !== undefined) {
    if (!/^[A-Za-z0-9_.-]+$/.test(opts.cluster)) throw new Error(`cluster name ${JSON.stringify(opts.cluster)} is not a plain name`);
    values.set('cluster', opts.cluster);
  }
  return values;
}

export function render(sql: string, values: Map<string, string>, where: string): string {
  return sql.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const v = values.get(key);
    if (v === undefined) throw new Error(`${where}: unknown or unset placeholder {{${key}}}`);
    return v;
  });
}

export function migrationFiles(dir: string): MigrationFile[] {
  return readdirSync(dir)
    .filter((f) => NAME_RE.test(f))
    .sort()
    .map((name) => {
      const path = join(dir, name);
      return { name, path, checksum: checksum(readFileSync(path, 'utf8')) };
    });
}

/** Statements of one schema file, placeholders filled: as written, or derived for the cluster. */
type StatementSource = (path: string, label: string) => string[];

function singleStatements(values: Map<string, string>): StatementSource {
  return (path, label) => splitStatements(render(readFileSync(path, 'utf8'), values, label));
}

/** Derives every file at once: a migration's cluster form depends on the tables of earlier ones. */
function clusterStatements(values: Map<string, string>, paths: { path: string; label: string }[]): StatementSource {
  const derived = deriveCluster(paths.map((p) => ({ name: p.label, sql: readFileSync(p.path, 'utf8') })));
  const byPath = new Map(paths.map((p, i) => [p.path, derived[i].statements]));
  return (path, label) => {
    const statements = byPath.get(path);
    if (statements === undefined) throw new Error(`${label}: not part of the derived cluster schema`);
    return statements.map((st) => render(st, values, label));
  };
}

async function runFile(db: SqlRunner, source: StatementSource, path: string, label: string): Promise<void> {
  const statements = source(path, label);
  if (db.execScript && statements.length > 1) {
    try {
      await db.execScript(statements);
    } catch (err) {
      throw new Error(`${label}: ${(err as Error).message}`);
    }
    return;
  }
  for (let i = 0; i < statements.length; i++) {
    try {
      await db.exec(statements[i]);
    } catch (err) {
      const first = statements[i].split('\n').find((l) => l.trim() && !l.trim().startsWith('--')) ?? '';
      throw new Error(`${label}, statement ${i + 1} (${first.trim().slice(0, 80)}): ${(err as Error).message}`);
    }
  }
}

async function record(db: SqlRunner, database: string, ...rows: [name: string, sum: string][]): Promise<void> {
  await db.exec(`INSERT INTO ${database}.dnslens_migrations (name, checksum) ${selectRows(rows.map(([name, sum]) => [sqlString(name), sqlString(sum)]))}`);
}

async function tableColumns(db: SqlRunner, database: string, table: string): Promise<{ name: string; type: string }[]> {
  return db.query<{ name: string; type: string }>(
    `SELECT name, type FROM system.columns WHERE database = ${sqlString(database)} AND table = ${sqlString(table)} ORDER BY position`,
  );
}

const VIEW_OR_FILL_RE = /^(CREATE (MATERIALIZED )?VIEW|DROP VIEW|INSERT INTO) /;

const VIEWS_KEY = 'views.sql';
const ZONE_KEY = 'timezone';

// an edited comment changes nothing
const viewsChecksum = (statements: readonly string[]): string => checksum(statements.map(sqlOf).join('\n;\n'));

/**
 * (Re)creates the views of views.sql when its rendered text differs from the one applied last:
 * drops them, rebuilds the rollups from DNS_LOG (single server), creates them again.
 */
async function applyViews(
  db: SqlRunner,
  source: StatementSource,
  path: string,
  o: { database: string; variant: string; values: Map<string, string>; applied: Map<string, string>; hadRollups: boolean; fresh: boolean; log: (m: string) => void },
): Promise<void> {
  const statements = source(path, 'views.sql');
  const sum = viewsChecksum(statements);
  if (o.applied.get(VIEWS_KEY) === sum) return;
  const zone = o.values.get('timezone')!;
  const oldZone = o.applied.get(ZONE_KEY) ?? 'UTC'; // every view before views.sql was in UTC
  // a zone ClickHouse does not know must stop us before anything is dropped
  await db.query(`SELECT toTimeZone(now(), ${sqlString(zone)}) AS t`).catch((e: unknown) => {
    throw new Error(`time zone ${zone}: ClickHouse does not know it (${(e as Error).message.split('\n')[0]})`);
  });
  const single = o.variant === 'single';
  const defs = parseViews(single ? statements : splitStatements(render(readFileSync(path, 'utf8'), o.values, 'views.sql')));
  const onCluster = single ? '' : ` ON CLUSTER ${sqlString(o.values.get('cluster')!)}`;
  // an empty store has no views to drop (its rollups still get their zone stamp below)
  if (!o.fresh) for (const v of defs) await db.exec(`DROP VIEW IF EXISTS ${o.database}.${v.name}${onCluster}`);
  if (single) {
    const [s] = await db.query<{ n: string | number }>("SELECT count() AS n FROM system.settings WHERE name = 'deduplicate_insert'");
    const dedupOff = Number(s?.n ?? 0) > 0 ? "SETTINGS deduplicate_insert = 'disable'" : 'SETTINGS insert_deduplicate = 0';
    await rebuildRollups(db, defs, { database: o.database, zone, dedupOff, log: o.log });
  } else if (o.applied.has(VIEWS_KEY)) o.log('views re-created on the cluster; rollup rows written before keep their old boundaries (not rebuilt)');
  await runFile(db, () => statements, path, 'views.sql');
  // both in one insert: the zone recorded is the one the views use
  await db.exec(
    `INSERT INTO ${o.database}.dnslens_migrations (name, checksum) ${selectRows([[sqlString(VIEWS_KEY), sqlString(sum)], [sqlString(ZONE_KEY), sqlString(zone)]])}`,
  );
  o.applied.set(VIEWS_KEY, sum);
  o.applied.set(ZONE_KEY, zone);
  if (oldZone !== zone && o.hadRollups) o.log(`rollups now in time zone ${zone} (were ${oldZone})`);
}

/** Reloads every dict_<name> table whose clickhouse/dictionaries/<name>.tsv changed. Returns the files
 *  loaded. A file whose table does not exist yet waits (into `waiting`, when given: a migration still
 *  to run creates it), is passed over when no migration of `creates` makes its table (a schema
 *  directory of an earlier set), and is an error otherwise. */
async function loadTsvFiles(
  db: SqlRunner,
  database: string,
  tsvDir: string,
  applied: Map<string, string>,
  creates: ReadonlySet<string>,
  waiting: string[] | null = null,
): Promise<string[]> {
  const loaded: string[] = [];
  for (const file of readdirSync(tsvDir).filter((f) => f.endsWith('.tsv')).sort()) {
    const text = readFileSync(join(tsvDir, file), 'utf8').replace(/\r\n/g, '\n');
    const sum = checksum(text);
    const key = DICT_PREFIX + file;
    if (applied.get(key) === sum) continue;
    const table = 'dict_' + file.slice(0, -4);
    const cols = await tableColumns(db, database, table);
    if (cols.length === 0 && !creates.has(table)) continue;
    if (cols.length === 0 && waiting) {
      waiting.push(file);
      continue;
    }
    if (cols.length === 0) throw new Error(`clickhouse/dictionaries/${file}: no table ${database}.${table} to load it into`);
    const header = text.split('\n', 1)[0].split('\t');
    const want = cols.map((c) => c.name);
    if (header.join('\t') !== want.join('\t')) {
      throw new Error(`clickhouse/dictionaries/${file}: header ${header.join(',')} does not match ${table} columns ${want.join(',')}`);
    }
    const structure = cols.map((c) => `${c.name} ${c.type}`).join(', ');
    await db.exec(`TRUNCATE TABLE ${database}.${table}`);
    await db.exec(`INSERT INTO ${database}.${table} SELECT * FROM format(TSVWithNames, ${sqlString(structure)}, ${sqlString(text)})`);
    await record(db, database, [key, sum]);
    applied.set(key, sum);
    loaded.push(file);
  }
  return loaded;
}

/** The schema's files and how to turn each into statements, for the variant opts asks for. */
function schemaSource(opts: MigrateOptions, values: Map<string, string>, root: string) {
  const files = migrationFiles(join(root, 'migrations'));
  const bootstrap = join(root, 'bootstrap.sql');
  const ddl = join(root, 'dictionaries', 'dictionaries.sql');
  const views = join(root, 'views.sql');
  const source =
    (opts.variant ?? 'single') === 'cluster'
      ? clusterStatements(values, [
          { path: bootstrap, label: 'bootstrap.sql' },
          ...files.map((f) => ({ path: f.path, label: f.name })),
          ...(existsSync(ddl) ? [{ path: ddl, label: 'dictionaries/dictionaries.sql' }] : []),
          ...(existsSync(views) ? [{ path: views, label: 'views.sql' }] : []),
        ])
      : singleStatements(values);
  return { files, bootstrap, ddl, views, source };
}

/** Every statement a migration from an empty store runs, as one script (`dnslens schema print`):
 *  for review, e.g. of the cluster form. Dictionary data is loaded from the TSV files, not shown. */
export function schemaScript(opts: MigrateOptions): string {
  const values = placeholders(opts);
  if (opts.variant === 'cluster' && !values.has('cluster')) throw new Error('the cluster schema needs a cluster name');
  const { files, bootstrap, ddl, views, source } = schemaSource(opts, values, opts.root ?? schemaRoot());
  const block = (path: string, label: string) => `-- ${label}\n` + source(path, label).map((st) => st.trim() + ';\n').join('\n');
  const out = [block(bootstrap, 'bootstrap.sql')];
  // As migrate() does: the dictionaries right after the migration that creates their tables.
  let dictionaries = !existsSync(ddl);
  for (const f of files) {
    out.push(block(f.path, f.name));
    if (!dictionaries && /CREATE TABLE IF NOT EXISTS \S+\.dict_/.test(readFileSync(f.path, 'utf8'))) {
      out.push(block(ddl, 'dictionaries/dictionaries.sql'));
      dictionaries = true;
    }
  }
  if (existsSync(views)) out.push(block(views, 'views.sql'));
  return out.join('\n');
}

/**
 * Applies pending migrations, loads changed dictionary files, re-creates the dictionaries and
 * re-applies retention. Returns the names of the migrations applied by this call (none when the
 * schema was up to date).
 */
export async function migrate(db: SqlRunner, opts: MigrateOptions): Promise<string[]> {
  const values = placeholders(opts);
  const database = values.get('database')!;
  const variant = opts.variant ?? 'single';
  if (variant === 'cluster' && !values.has('cluster')) throw new Error('the cluster schema needs a cluster name');
  const root = opts.root ?? schemaRoot();
  const tsvDir = opts.tsvDir ?? join(root, 'dictionaries');
  const log = opts.log ?? (() => {});
  const { files, bootstrap, ddl, views, source } = schemaSource(opts, values, root);

  await runFile(db, source, bootstrap, 'bootstrap.sql');
  const rows = await db.query<{ name: string; checksum: string }>(
    `SELECT name, argMax(checksum, applied_at) AS checksum FROM ${database}.dnslens_migrations GROUP BY name`,
  );
  const applied = new Map(rows.map((r) => [r.name, r.checksum]));
  // On an empty store the numbered files' views and back-fills are skipped: views.sql creates every
  // view, and there is nothing to back-fill (about half the statements of a first start).
  // Dictionary data recorded alone is a first start cut short (its files are recorded at its end).
  const fresh = rows.every((r) => r.name.startsWith(DICT_PREFIX)) && existsSync(views);
  const fileSource: StatementSource = fresh ? (path, label) => source(path, label).filter((st) => !VIEW_OR_FILL_RE.test(sqlOf(st))) : source;
  const hadRollups = applied.has('0003_traffic_rollups.sql'); // before this pass: were there rollups?
  // Without --timezone a store keeps the zone it has.
  if (opts.timezone === undefined && applied.has(ZONE_KEY)) values.set('timezone', zoneName(applied.get(ZONE_KEY)!));

  const known = new Set(files.map((f) => f.name));
  for (const f of files) {
    const was = applied.get(f.name);
    // a cluster that applied the hand-made copy (before src/store/cluster.ts) recorded that copy's checksum
    const v1 = variant === 'cluster' ? CLUSTER_V1_CHECKSUMS[f.name] : undefined;
    const v1Applied = v1 !== undefined && was === v1.v1 && f.checksum === v1.single;
    if (was !== undefined && was !== f.checksum && !v1Applied) {
      throw new Error(
        `migration ${f.name} changed after it was applied (checksum ${was.slice(0, 12)}, file now ${f.checksum.slice(0, 12)}); ` +
          'an applied migration must stay as it is: put the change in a new migration file',
      );
    }
  }
  for (const name of applied.keys()) {
    if (!name.startsWith(DICT_PREFIX) && name !== VIEWS_KEY && name !== ZONE_KEY && !known.has(name)) {
      log(`migration ${name} is recorded in ${database}.dnslens_migrations but not known here (written by a newer dnslens?)`);
    }
  }

  // Dictionaries go in as soon as their tables exist: views created by later migrations use them.
  const dictTablesOf = new Map(files.map((f) => [f.name, [...readFileSync(f.path, 'utf8').matchAll(/CREATE TABLE IF NOT EXISTS \{\{database\}\}\.(dict_\w+)/g)].map((m) => m[1])]));
  const dictTables = new Set([...dictTablesOf.values()].flat());
  let dictionariesDone = false;
  const dictionaries = async (): Promise<void> => {
    if (dictionariesDone) return;
    const present = await db.query<{ n: string }>(
      `SELECT count() AS n FROM system.tables WHERE database = ${sqlString(database)} AND startsWith(name, 'dict_')`,
    );
    if (Number(present[0]?.n ?? 0) === 0) return;
    // a file whose table a migration still to run creates waits for it
    const waiting: string[] = [];
    const loaded = await loadTsvFiles(db, database, tsvDir, applied, dictTables, files.some((f) => !applied.has(f.name)) ? waiting : null);
    if (loaded.length > 0) log(`loaded dictionary data: ${loaded.join(', ')}`);
    if (existsSync(ddl)) await runFile(db, source, ddl, 'dictionaries/dictionaries.sql');
    dictionariesDone = waiting.length === 0;
  };

  // A views.sql change (or a new zone) drops and rebuilds the views: where it may not run, it is
  // refused before any numbered file runs, since one may drop views that views.sql re-creates (0019).
  if (opts.noRebuild && existsSync(views) && applied.get(VIEWS_KEY) !== viewsChecksum(source(views, 'views.sql'))) {
    const oldZone = applied.get(ZONE_KEY) ?? 'UTC'; // every view before views.sql was in UTC
    throw new Error(`the views (time zone ${oldZone} -> ${values.get('timezone')}, or views.sql) change, which rebuilds the rollups, and ${opts.noRebuild}`);
  }
  await dictionaries();
  const done: string[] = [];
  // An empty store records its files in one insert at the end (an insert costs ~10 ms): if this is
  // cut short, the next start runs them again as a first start (without views and back-fills,
  // every statement is idempotent).
  const unrecorded: [string, string][] = [];
  for (const f of files) {
    if (applied.has(f.name)) continue;
    await runFile(db, fileSource, f.path, f.name);
    if (fresh) unrecorded.push([f.name, f.checksum]);
    else await record(db, database, [f.name, f.checksum]);
    applied.set(f.name, f.checksum);
    done.push(f.name);
    log(`applied migration ${f.name}`);
    // dictionary data waits only for the files that create its tables
    if (dictTablesOf.get(f.name)!.length > 0) await dictionaries();
  }
  if (unrecorded.length > 0) await record(db, database, ...unrecorded);

  if (existsSync(views)) await applyViews(db, source, views, { database, variant, values, applied, hadRollups, fresh, log });

  const altered = await applyRetention(db, { ttlDays: opts.ttlDays, rollupTtl: opts.rollupTtl, database, cluster: values.get('cluster') });
  if (altered.length > 0) log(`retention re-applied to ${altered.join(', ')}`);
  return done;
}
