// The PostgreSQL schema: versioned migrations (postgres/migrations/NNNN_name.sql, {{schema}} =
// --psqlSchema) recorded in <schema>.schema_migrations, so an upgrade never needs a hand-ALTER;
// the schema's time zone; the domain categories; day partitions made ahead and dropped after
// --psqlRetentionDays. Every step is safe to run again, and two writers starting together
// take turns (an advisory lock).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { ConfigError } from '../../options.js';
import { schemaRoot } from '../../store/migrate.js';
import { SCHEMA_RE } from './index.js';
import { hostZone } from '../../zone.js';

const NAME_RE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** The postgres/ directory of this checkout or install (found upward from this module). */
export function pgSchemaRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'postgres', 'migrations'))) return join(dir, 'postgres');
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error('cannot find the postgres/migrations directory above ' + fileURLToPath(import.meta.url));
}

/** --psqlSchema, checked: a plain lower-case identifier (it is written into SQL). */
export function schemaName(s: string): string {
  if (!SCHEMA_RE.test(s)) throw new ConfigError('psqlSchema', `--psqlSchema: "${s}" is not a plain lower-case identifier (letters, digits, _)`);
  return s;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function migrations(schema: string, root = pgSchemaRoot()): Migration[] {
  const dir = join(root, 'migrations');
  return readdirSync(dir)
    .filter((f) => NAME_RE.test(f))
    .sort()
    .map((f) => ({ version: Number(NAME_RE.exec(f)![1]), name: f, sql: readFileSync(join(dir, f), 'utf8').replaceAll('{{schema}}', schema) }));
}

const lockKey = (schema: string) => `hashtext('dnslens migrate ${schema}')`;

/**
 * Brings the schema up to date and returns its time zone: the one recorded when it was made
 * (from `zone`, else the host's). A different --timezone later is refused: the day partitions and
 * rollups already have their boundaries.
 */
export async function migrate(client: pg.Client, schema: string, zone: string | undefined): Promise<string> {
  await client.query(`SELECT pg_advisory_lock(${lockKey(schema)})`);
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${schema}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
    const done = new Set((await client.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations`)).rows.map((r) => r.version));
    for (const m of migrations(schema)) {
      if (done.has(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query(`INSERT INTO ${schema}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name}: ${(err as Error).message}`);
      }
    }
    const tz = await schemaZone(client, schema, zone);
    await loadCategories(client, schema);
    return tz;
  } finally {
    await client.query(`SELECT pg_advisory_unlock(${lockKey(schema)})`);
  }
}

async function schemaZone(client: pg.Client, schema: string, zone: string | undefined): Promise<string> {
  const asked = zone ?? hostZone(); // as a new ClickHouse store: the host's zone
  const { rows } = await client.query<{ value: string }>(
    `INSERT INTO ${schema}.settings (name, value) VALUES ('timezone', $1) ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING value`,
    [asked],
  );
  const tz = rows[0].value;
  if (zone !== undefined && zone !== tz) {
    throw new ConfigError('timezone', `--timezone ${zone}: the PostgreSQL schema ${schema} keeps its days in ${tz}, the zone it was made with; use --timezone ${tz} (or another --psqlSchema)`);
  }
  // PostgreSQL must know the zone too (it has its own copy of the zone database).
  await client.query(`SELECT now() AT TIME ZONE $1`, [tz]).catch(() => {
    throw new ConfigError('timezone', `--timezone ${tz}: PostgreSQL does not know this zone`);
  });
  return tz;
}

/** The categories of clickhouse/dictionaries/domain_categories.tsv (one source for both stores). */
async function loadCategories(client: pg.Client, schema: string): Promise<void> {
  const rows = readFileSync(join(schemaRoot(), 'dictionaries', 'domain_categories.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
  await client.query(
    `INSERT INTO ${schema}.domain_categories (apex_domain, category, provider, cache_priority)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[])
     ON CONFLICT (apex_domain) DO UPDATE SET category = EXCLUDED.category, provider = EXCLUDED.provider, cache_priority = EXCLUDED.cache_priority`,
    [rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2] || null), rows.map((r) => Number(r[3] || 5))],
  );
}

/** Today's partition and the next `ahead` days' (local days in tz). */
export async function makePartitionsAhead(client: pg.Client, schema: string, tz: string, ahead: number): Promise<void> {
  await client.query(
    `SELECT ${schema}.ensure_day(d::date, $1) FROM generate_series((now() AT TIME ZONE $1)::date, (now() AT TIME ZONE $1)::date + $2::int, '1 day') AS d`,
    [tz, ahead],
  );
}

/** Drops the day partitions older than `days` local days (and their clients), returns their names. */
export async function dropOldPartitions(client: pg.Client, schema: string, tz: string, days: number): Promise<string[]> {
  if (days <= 0) return [];
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
     WHERE n.nspname = $1 AND p.relname = 'dns_queries' AND c.relname ~ '^dns_queries_[0-9]{8}$'
       AND to_date(substr(c.relname, 13), 'YYYYMMDD') < (now() AT TIME ZONE $2)::date - $3::int
     ORDER BY 1`,
    [schema, tz, days],
  );
  for (const r of rows) await client.query(`DROP TABLE IF EXISTS ${schema}.${r.name}`);
  await client.query(`DELETE FROM ${schema}.dns_daily_clients WHERE stat_date < (now() AT TIME ZONE $1)::date - $2::int`, [tz, days]);
  return rows.map((r) => r.name);
}
