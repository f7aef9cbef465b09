// The seed guide's rollups, kept by dnslens instead of cron.
// - With every batch, in its transaction: the rows that went into dns_queries (a replayed batch's
//   rows are already there and go nowhere, ON CONFLICT DO NOTHING) are added to dns_daily_stats and
//   dns_hourly_heatmap; a client counts in unique_clients only when dns_daily_clients did not hold
//   it yet. A crash before COMMIT keeps nothing, a replay after it adds nothing: never twice.
// - On a schedule (--psqlRollupInterval, and at the end): the weeks and months whose days changed
//   (rollup_pending) are computed again from dns_daily_stats and replaced.
// - `dnslens psql rollup --since --until` computes the days of a range again from dns_queries.
// Rollup statements of concurrent writers take turns (an advisory lock): upserts of the same
// keys in two transactions would otherwise deadlock. The scheduled job does not take it.
import type pg from 'pg';

export const rollupLock = (schema: string) => `SELECT pg_advisory_xact_lock(hashtext('dnslens rollup ${schema}'))`;

/** The rows a batch added (filled from dns_queries' RETURNING), per connection. */
export const FRESH_TABLE = `CREATE TEMP TABLE IF NOT EXISTS fresh (
  stat_date DATE, hour_of_day SMALLINT, queried_at TIMESTAMPTZ, qr BOOLEAN, client_ip INET,
  domain TEXT, apex_domain TEXT, qtype TEXT, response_rcode TEXT) ON COMMIT DELETE ROWS`;

/** Moves the staged rows into dns_queries; the ones that went in are copied to fresh. */
export function insertStaged(schema: string, columns: readonly string[]): string {
  const cols = columns.join(', ');
  return `WITH ins AS (
    INSERT INTO ${schema}.dns_queries (${cols}) SELECT ${cols} FROM stage ON CONFLICT DO NOTHING
    RETURNING queried_at, qr, client_ip, domain, apex_domain, qtype, response_rcode)
  INSERT INTO fresh SELECT (queried_at AT TIME ZONE $1)::date, extract(hour FROM queried_at AT TIME ZONE $1)::smallint,
    queried_at, qr, client_ip, domain, apex_domain, qtype, response_rcode FROM ins`;
}

/** The statements that add fresh's rows to the daily tables and mark their weeks and months. */
export function addFresh(schema: string): string[] {
  return [
    rollupLock(schema),
    `INSERT INTO ${schema}.dns_daily_stats AS d (stat_date, domain, apex_domain, qtype, hit_count, nxdomain_count, servfail_count, first_seen, last_seen)
     SELECT stat_date, domain, min(apex_domain), qtype, count(*) FILTER (WHERE NOT qr),
            count(*) FILTER (WHERE qr AND response_rcode = 'NXDOMAIN'), count(*) FILTER (WHERE qr AND response_rcode = 'SERVFAIL'),
            min(queried_at), max(queried_at)
     FROM fresh GROUP BY stat_date, domain, qtype ORDER BY stat_date, domain, qtype
     ON CONFLICT (stat_date, domain, qtype) DO UPDATE SET
       hit_count = d.hit_count + EXCLUDED.hit_count, nxdomain_count = d.nxdomain_count + EXCLUDED.nxdomain_count,
       servfail_count = d.servfail_count + EXCLUDED.servfail_count,
       first_seen = least(d.first_seen, EXCLUDED.first_seen), last_seen = greatest(d.last_seen, EXCLUDED.last_seen)`,
    `WITH c AS (
       INSERT INTO ${schema}.dns_daily_clients (stat_date, domain, qtype, client_ip, apex_domain)
       SELECT DISTINCT ON (stat_date, domain, qtype, client_ip) stat_date, domain, qtype, client_ip, apex_domain
       FROM fresh WHERE client_ip IS NOT NULL ORDER BY 1, 2, 3, 4
       ON CONFLICT DO NOTHING RETURNING stat_date, domain, qtype)
     UPDATE ${schema}.dns_daily_stats d SET unique_clients = d.unique_clients + x.n
     FROM (SELECT stat_date, domain, qtype, count(*) AS n FROM c GROUP BY 1, 2, 3) x
     WHERE d.stat_date = x.stat_date AND d.domain = x.domain AND d.qtype = x.qtype`,
    `INSERT INTO ${schema}.dns_hourly_heatmap AS h (stat_date, hour_of_day, apex_domain, query_count)
     SELECT stat_date, hour_of_day, apex_domain, count(*) FROM fresh WHERE NOT qr GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
     ON CONFLICT (stat_date, hour_of_day, apex_domain) DO UPDATE SET query_count = h.query_count + EXCLUDED.query_count`,
    markPending(schema, 'SELECT DISTINCT stat_date FROM fresh'),
  ];
}

function markPending(schema: string, days: string): string {
  return `INSERT INTO ${schema}.rollup_pending (kind, period_start)
    SELECT DISTINCT 'week', date_trunc('week', d.stat_date)::date FROM (${days}) d
    UNION SELECT DISTINCT 'month', date_trunc('month', d.stat_date)::date FROM (${days}) d
    ON CONFLICT DO NOTHING`;
}

// Distinct clients per apex over a set of weeks or months, from dns_daily_clients (exact while it holds them).
function apexClients(schema: string, period: string): string {
  return `SELECT ${period} AS p, apex_domain, count(DISTINCT client_ip) AS clients
    FROM ${schema}.dns_daily_clients WHERE ${period} = ANY($1::date[]) GROUP BY 1, 2`;
}

/** Replaces the pending weeks and months from dns_daily_stats; returns how many of each. */
export async function rollPending(client: pg.Client, schema: string): Promise<{ weeks: number; months: number }> {
  // Without the writers' lock: a batch that commits meanwhile marks its weeks and months again
  // (its insert into rollup_pending waits for this DELETE to commit), so the next run takes them.
  await client.query('BEGIN');
  try {
    const take = async (kind: string) =>
      (await client.query<{ p: string }>(`DELETE FROM ${schema}.rollup_pending WHERE kind = $1 RETURNING to_char(period_start, 'YYYY-MM-DD') AS p`, [kind])).rows.map((r) => r.p);
    const weeks = await take('week');
    if (weeks.length) {
      await client.query(`DELETE FROM ${schema}.dns_weekly_stats WHERE week_start = ANY($1::date[])`, [weeks]);
      await client.query(
        `INSERT INTO ${schema}.dns_weekly_stats (week_start, week_end, apex_domain, total_queries, unique_clients, peak_day, peak_day_count, category)
         WITH days AS MATERIALIZED (
           SELECT date_trunc('week', stat_date)::date AS week_start, apex_domain, stat_date, sum(hit_count) AS n
           FROM ${schema}.dns_daily_stats WHERE date_trunc('week', stat_date)::date = ANY($1::date[]) GROUP BY 1, 2, 3
         ), totals AS (
           SELECT week_start, apex_domain, sum(n) AS total FROM days GROUP BY 1, 2
         ), peaks AS (
           SELECT DISTINCT ON (week_start, apex_domain) week_start, apex_domain, stat_date, n FROM days ORDER BY week_start, apex_domain, n DESC, stat_date
         ), clients AS MATERIALIZED (${apexClients(schema, "date_trunc('week', stat_date)::date")})
         SELECT t.week_start, t.week_start + 6, t.apex_domain, t.total, coalesce(cl.clients, 0), p.stat_date, p.n, dc.category
         FROM totals t JOIN peaks p USING (week_start, apex_domain)
         LEFT JOIN clients cl ON cl.p = t.week_start AND cl.apex_domain = t.apex_domain
         LEFT JOIN ${schema}.domain_categories dc ON dc.apex_domain = t.apex_domain`,
        [weeks],
      );
    }
    const months = await take('month');
    if (months.length) {
      await client.query(`DELETE FROM ${schema}.dns_monthly_stats WHERE year_month = ANY(SELECT to_char(m, 'YYYY-MM') FROM unnest($1::date[]) AS m)`, [months]);
      await client.query(
        `INSERT INTO ${schema}.dns_monthly_stats (year_month, apex_domain, total_queries, unique_clients, avg_daily, rank_in_month, category)
         WITH m AS MATERIALIZED (
           SELECT date_trunc('month', stat_date)::date AS month, apex_domain, sum(hit_count) AS total,
                  count(DISTINCT stat_date) FILTER (WHERE hit_count > 0) AS active_days
           FROM ${schema}.dns_daily_stats WHERE date_trunc('month', stat_date)::date = ANY($1::date[]) GROUP BY 1, 2
         ), clients AS MATERIALIZED (${apexClients(schema, "date_trunc('month', stat_date)::date")})
         SELECT to_char(m.month, 'YYYY-MM'), m.apex_domain, m.total, coalesce(cl.clients, 0),
                round(m.total::numeric / nullif(m.active_days, 0), 2),
                rank() OVER (PARTITION BY m.month ORDER BY m.total DESC), dc.category
         FROM m LEFT JOIN clients cl ON cl.p = m.month AND cl.apex_domain = m.apex_domain
         LEFT JOIN ${schema}.domain_categories dc ON dc.apex_domain = m.apex_domain`,
        [months],
      );
    }
    await client.query('COMMIT');
    return { weeks: weeks.length, months: months.length };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Computes the local days [since, until) again from dns_queries (then their weeks and months).
 * Days whose raw rows are gone (no partition: retention) keep their rollups. Returns the days rebuilt.
 */
export async function rebuildDays(client: pg.Client, schema: string, tz: string, since: string, until: string): Promise<string[]> {
  await client.query('BEGIN');
  try {
    await client.query(rollupLock(schema));
    const { rows } = await client.query<{ d: string }>(
      `SELECT to_char(to_date(substr(c.relname, 13), 'YYYYMMDD'), 'YYYY-MM-DD') AS d FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
       WHERE n.nspname = $1 AND p.relname = 'dns_queries' AND c.relname ~ '^dns_queries_[0-9]{8}$'
         AND to_date(substr(c.relname, 13), 'YYYYMMDD') >= $2::date AND to_date(substr(c.relname, 13), 'YYYYMMDD') < $3::date ORDER BY 1`,
      [schema, since, until],
    );
    const days = rows.map((r) => r.d);
    if (days.length) {
      for (const t of ['dns_daily_stats', 'dns_daily_clients', 'dns_hourly_heatmap']) {
        await client.query(`DELETE FROM ${schema}.${t} WHERE stat_date = ANY($1::date[])`, [days]);
      }
      await client.query('TRUNCATE fresh');
      await client.query(
        `INSERT INTO fresh SELECT (queried_at AT TIME ZONE $1)::date, extract(hour FROM queried_at AT TIME ZONE $1)::smallint,
           queried_at, qr, client_ip, domain, apex_domain, qtype, response_rcode
         FROM ${schema}.dns_queries
         WHERE queried_at >= ($3::date::timestamp AT TIME ZONE $1) AND queried_at < ($4::date::timestamp AT TIME ZONE $1)
           AND (queried_at AT TIME ZONE $1)::date = ANY($2::date[])`,
        [tz, days, since, until],
      );
      for (const sql of addFresh(schema).slice(1)) await client.query(sql);
    }
    await client.query('COMMIT');
    return days;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
