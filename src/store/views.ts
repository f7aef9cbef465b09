// clickhouse/views.sql: every view of the schema, applied again whenever its rendered text changes
// (a new --timezone, other client prefixes, an edited view). Then the views are dropped, each rollup
// table is rebuilt for the periods DNS_LOG backs, and the views are created again.
//
// Each rollup table carries in its comment the zone its newest rows follow and the instant from
// which they do: 'retention:day; zone Asia/Jakarta from 2026-06-05 00:00:00' (no stamp: UTC, all
// rows; every view before views.sql was in UTC). Rows with events from that instant on all follow
// that zone; older rows hold only older events. The rebuild of a table T keeps this true:
//   cut C = the first start of one of T's periods, in T's stamped zone, at or after both the stamp's
//           instant and the time from which DNS_LOG backs the rollups (its first message, or later
//           where dns_traffic_minute counts messages DNS_LOG no longer holds: raw retention counts
//           from ingestion, so an old import's rows can be gone);
//   T's rows starting before C are kept (they hold only events before C), DNS_LOG's messages from C
//   on are aggregated through T's chain of views (composed into one query) in the new zone, and the
//   result replaces T in one step (EXCHANGE TABLES), stamped with the new zone from C.
// A failure leaves T as it was, or replaced and stamped: running again is safe. Writers must not
// insert while this runs (the views are gone meanwhile): the embedded store allows one process.

import type { SqlRunner } from './migrate.js';
import { sqlOf } from './statements.js';

export interface ViewDef {
  name: string;
  materialized: boolean;
  target?: string; // materialized: the table it fills
  source?: string; // materialized: the table it reads
  alias?: string; // the source's alias in the SELECT
  select: string;
}

const MV_RE = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+)\.(\w+) TO \w+\.(\w+) AS\s+(SELECT[\s\S]*)$/;
const VIEW_RE = /^CREATE VIEW IF NOT EXISTS (\w+)\.(\w+) AS\s+(SELECT[\s\S]*)$/;
const FROM_RE = /\nFROM (\w+)\.(\w+) AS (\w+)\n/;

/** The views of views.sql's statements (rendered, single-server form), in file order. */
export function parseViews(statements: readonly string[]): ViewDef[] {
  return statements.map((raw) => {
    const st = sqlOf(raw);
    let m = MV_RE.exec(st);
    if (m) {
      const from = FROM_RE.exec(m[4]);
      if (!from) throw new Error(`views.sql: ${m[2]} has no "FROM <table> AS <alias>" line`);
      return { name: m[2], materialized: true, target: m[3], source: from[2], alias: from[3], select: m[4] };
    }
    m = VIEW_RE.exec(st);
    if (m) return { name: m[2], materialized: false, select: m[3] };
    throw new Error(`views.sql: not a CREATE [MATERIALIZED] VIEW IF NOT EXISTS statement: ${st.slice(0, 80)}`);
  });
}

const PERIODS = ['minute', 'hour', 'day', 'week', 'month'] as const;
type Period = (typeof PERIODS)[number];

/** Start of x's period in zone tz, as DateTime (SQL). */
function periodStart(p: Period, x: string, tz: string): string {
  switch (p) {
    case 'minute': return `toStartOfMinute(${x})`;
    case 'hour': return `toStartOfHour(${x}, ${tz})`;
    case 'day': return `toStartOfDay(${x}, ${tz})`;
    case 'week': return `toDateTime(toStartOfWeek(${x}, 1, ${tz}), ${tz})`;
    case 'month': return `toDateTime(toStartOfMonth(${x}, ${tz}), ${tz})`;
  }
}

function sqlString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

const STAMP_RE = /;\s*zone (\S+) from (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)/;

/** The zone a table's newest rows follow, and from when (its comment's stamp; none: UTC, always). */
export function zoneStamp(comment: string): { zone: string; from: string } {
  const m = STAMP_RE.exec(comment);
  return m ? { zone: m[1], from: m[2] } : { zone: 'UTC', from: '1970-01-01 00:00:00' };
}

function stamped(comment: string, zone: string, from: string): string {
  return `${comment.replace(STAMP_RE, '').trim()}; zone ${zone} from ${from}`;
}

interface RebuildOptions {
  database: string;
  zone: string; // the new views' zone
  dedupOff: string; // SETTINGS that turn insert deduplication off (the rebuild's inserts are new data)
  log: (message: string) => void;
}

/**
 * Rebuilds every rollup table that a materialized view of `views` fills (see the top of this file).
 * The views must not exist while this runs: an insert here would otherwise flow on into the coarser
 * tables. Returns the tables rebuilt.
 */
export async function rebuildRollups(db: SqlRunner, views: readonly ViewDef[], opts: RebuildOptions): Promise<string[]> {
  const d = opts.database;
  const tables = await db.query<{ name: string; engine: string; comment: string }>(
    `SELECT name, engine, comment FROM system.tables WHERE database = ${sqlString(d)}`,
  );
  const byName = new Map(tables.map((t) => [t.name, t]));
  for (const t of tables) if (t.name.endsWith('_rebuild')) await db.exec(`DROP TABLE IF EXISTS ${d}.${t.name}`); // left by a failed run

  // From when DNS_LOG backs the rollups: the minute after the last one whose message count in the
  // traffic rollup differs from DNS_LOG's (with DNS_LOG empty: after the rollup's last minute).
  const [backed] = await db.query<{ from: string; n: string }>(
    `SELECT toString(if(countIf(raw > 0) = 0, maxOrNull(m) + 60, greatest(minIf(m, raw > 0), ifNull(maxIf(m, raw != rolled) + 60, toDateTime(0, 'UTC'))))) AS from,
            sum(raw) AS n
     FROM (
       SELECT m, sum(raw) AS raw, sum(rolled) AS rolled FROM (
         SELECT toDateTime(toStartOfMinute(PacketTime), 'UTC') AS m, count() AS raw, toUInt64(0) AS rolled FROM ${d}.DNS_LOG GROUP BY m
         UNION ALL
         SELECT Time AS m, toUInt64(0) AS raw, sum(Messages) AS rolled FROM ${d}.dns_traffic_minute GROUP BY m
       ) GROUP BY m
     )`,
  );

  // A view may read a source's ALIAS columns (DNS_LOG's Apex, dns_domain_day's): the subquery standing
  // in for the source computes them too.
  const aliases = new Map<string, string>();
  for (const c of await db.query<{ table: string; name: string; expr: string }>(
    `SELECT table, name, default_expression AS expr FROM system.columns WHERE database = ${sqlString(d)} AND default_kind = 'ALIAS'`,
  )) {
    aliases.set(c.table, (aliases.has(c.table) ? aliases.get(c.table) + ', ' : '') + `${c.expr} AS ${c.name}`);
  }
  const withAliases = (table: string, inner: string): string => {
    const a = aliases.get(table);
    return a ? `(SELECT *, ${a} FROM ${inner})` : inner;
  };
  const feeding = new Map(views.filter((v) => v.materialized).map((v) => [v.target!, v]));
  // T's query over DNS_LOG from `cut` on: its view's SELECT, its source replaced by the source's own query.
  const composed = (table: string, cut: string): string => {
    const v = feeding.get(table);
    if (!v) throw new Error(`views.sql: no materialized view fills ${table}`);
    const from =
      v.source === 'DNS_LOG'
        ? withAliases('DNS_LOG', `(SELECT * FROM ${d}.DNS_LOG WHERE PacketTime >= toDateTime64(${cut}, 6, 'UTC'))`)
        : withAliases(v.source!, `(${composed(v.source!, cut)})`);
    const line = `\nFROM ${d}.${v.source} AS ${v.alias}\n`;
    if (!v.select.includes(line)) throw new Error(`views.sql: ${v.name} does not read "${line.trim()}"`);
    return v.select.replace(line, () => `\nFROM ${from} AS ${v.alias}\n`);
  };

  const backedFrom = `toDateTime(${sqlString(backed?.from ?? '1970-01-01 00:00:00')}, 'UTC')`;
  const done: string[] = [];
  for (const v of views) {
    const t = v.materialized ? byName.get(v.target!) : undefined;
    if (!t || !t.engine.endsWith('MergeTree')) continue; // a Null stage stores nothing
    const period = /^retention:(\w+)/.exec(t.comment)?.[1] as Period | undefined;
    if (!period || !PERIODS.includes(period)) throw new Error(`${t.name}: no retention:<period> comment to rebuild it by`);
    const stamp = zoneStamp(t.comment);
    const [{ n }] = await db.query<{ n: string | number }>(`SELECT count() AS n FROM ${d}.${t.name}`);
    if (Number(n) === 0 && Number(backed?.n ?? 0) === 0) {
      // nothing to rebuild (a new store): only the stamp, all rows to come follow the new zone
      await db.exec(`ALTER TABLE ${d}.${t.name} MODIFY COMMENT ${sqlString(stamped(t.comment, opts.zone, '1970-01-01 00:00:00'))}`);
      continue;
    }
    const old = sqlString(stamp.zone);
    const unit = period.toUpperCase();
    const after = `greatest(${backedFrom}, toDateTime(${sqlString(stamp.from)}, 'UTC'))`;
    const [c] = await db.query<{ cut: string }>(
      `SELECT toString(toDateTime(if(${periodStart(period, `toDateTime(${after}, ${old})`, old)} = ${after}, ${after}, ` +
        `${periodStart(period, `toDateTime(${after}, ${old}) + INTERVAL 1 ${unit}`, old)}), 'UTC')) AS cut`,
    );
    const cut = `toDateTime(${sqlString(c.cut)}, 'UTC')`;
    const [col] = await db.query<{ name: string; type: string }>(
      `SELECT name, type FROM system.columns WHERE database = ${sqlString(d)} AND table = ${sqlString(t.name)} AND position = 1`,
    );
    const start = '`' + col.name + '`';
    const bound = col.type === 'Date' ? `toDate(${cut}, ${old})` : cut;
    const query = composed(t.name, cut);
    const out = await db.query<{ name: string }>(`DESCRIBE (${query})`);
    const columns = out.map((o) => '`' + o.name + '`').join(', ');

    // The new table: T's partitions wholly before the cut as they are, the rows before it from the
    // partition holding it, then the rebuilt rows; swapped in with its stamp.
    const tmp = `${d}.${t.name}_rebuild`;
    await db.exec(`CREATE TABLE ${tmp} AS ${d}.${t.name}`);
    const parts = await db.query<{ id: string; first: string; last: string }>(
      `SELECT _partition_id AS id, toString(min(${start} < ${bound})) AS first, toString(max(${start} < ${bound})) AS last FROM ${d}.${t.name} GROUP BY id`,
    );
    for (const p of parts) {
      if (p.first === '1') await db.exec(`ALTER TABLE ${tmp} ATTACH PARTITION ID ${sqlString(p.id)} FROM ${d}.${t.name}`);
      else if (p.last === '1') {
        await db.exec(`INSERT INTO ${tmp} SELECT * FROM ${d}.${t.name} WHERE _partition_id = ${sqlString(p.id)} AND ${start} < ${bound} ${opts.dedupOff}`);
      }
    }
    await db.exec(`INSERT INTO ${tmp} (${columns}) SELECT ${columns} FROM (${query}) ${opts.dedupOff}`);
    await db.exec(`ALTER TABLE ${tmp} MODIFY COMMENT ${sqlString(stamped(t.comment, opts.zone, c.cut))}`);
    await db.exec(`EXCHANGE TABLES ${tmp} AND ${d}.${t.name}`);
    await db.exec(`DROP TABLE ${tmp}`);
    done.push(t.name);
  }
  if (Number(backed?.n ?? 0) > 0) opts.log(`rollups rebuilt from DNS_LOG (${backed.n} messages, periods from ${backed.from} UTC on): ${done.join(', ')}`);
  return done;
}
