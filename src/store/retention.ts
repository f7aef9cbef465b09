// Retention: every table that keeps data carries COMMENT 'retention:<class>' and a TTL on IndexTime
// (ingestion time), so an imported old capture stays for the whole period. When the configured days
// differ from what a table's TTL says, the TTL is re-applied with ALTER TABLE ... MODIFY TTL; nothing
// is rewritten by hand.

import type { RollupTtl, SqlRunner } from './migrate.js';

/** The retention part of migrate()'s options. */
export interface RetentionOptions {
  ttlDays: number; // DNS_LOG (--clickhouseTTL)
  rollupTtl: RollupTtl;
  database?: string; // default 'default'
  cluster?: string; // cluster schema: ALTER ... ON CLUSTER
}

interface RetentionDays extends RollupTtl {
  raw: number;
}

export type RetentionClass = keyof RetentionDays;
const CLASSES: readonly RetentionClass[] = ['raw', 'minute', 'hour', 'day', 'week', 'month'];

export interface TableRetention {
  table: string;
  class: RetentionClass;
  days: number | null; // what the table's TTL says now; null when it has none we recognise
}

function sqlString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

/** "TTL IndexTime + toIntervalDay(30)" (ClickHouse's normal form) or "... INTERVAL 30 DAY" -> 30. */
export function ttlDays(engineFull: string): number | null {
  const m = /TTL\s+IndexTime\s*\+\s*(?:toIntervalDay\((\d+)\)|INTERVAL\s+(\d+)\s+DAY)/i.exec(engineFull);
  return m ? Number(m[1] ?? m[2]) : null;
}

/** The tables of a database that declare a retention class, with their current TTL. */
export async function tableRetention(db: SqlRunner, database: string): Promise<TableRetention[]> {
  const rows = await db.query<{ name: string; comment: string; engine_full: string }>(
    `SELECT name, comment, engine_full FROM system.tables WHERE database = ${sqlString(database)} AND engine LIKE '%MergeTree' AND startsWith(comment, 'retention:') ORDER BY name`,
  );
  const out: TableRetention[] = [];
  for (const r of rows) {
    // 'retention:<class>', then maybe '; ...' (a rollup's zone stamp, src/store/views.ts)
    const cls = r.comment.slice('retention:'.length).split(';')[0].trim() as RetentionClass;
    if (!CLASSES.includes(cls)) throw new Error(`table ${database}.${r.name} has an unknown retention class in its comment: ${r.comment}`);
    out.push({ table: r.name, class: cls, days: ttlDays(r.engine_full) });
  }
  return out;
}

/**
 * Makes every table's TTL match the configured days; migrate() calls it after migrating. Returns
 * the tables altered. With a cluster name the ALTER runs ON CLUSTER (the cluster schema's local tables).
 */
export async function applyRetention(db: SqlRunner, opts: RetentionOptions): Promise<string[]> {
  const database = opts.database ?? 'default';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error(`database name ${JSON.stringify(database)} is not a plain identifier`);
  const days: RetentionDays = { raw: opts.ttlDays, ...opts.rollupTtl };
  const cluster = opts.cluster;
  for (const c of CLASSES) {
    const v = days[c];
    if (!Number.isInteger(v) || v < 1 || v > 36500) throw new Error(`retention for ${c} must be a whole number of days from 1 to 36500, not ${v}`);
  }
  const onCluster = cluster ? ` ON CLUSTER ${sqlString(cluster)}` : '';
  const altered: string[] = [];
  for (const t of await tableRetention(db, database)) {
    const want = days[t.class];
    if (t.days === want) continue;
    await db.exec(`ALTER TABLE ${database}.\`${t.table}\`${onCluster} MODIFY TTL IndexTime + INTERVAL ${want} DAY`);
    altered.push(t.table);
  }
  return altered;
}
