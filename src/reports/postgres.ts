// Named reports read from the PostgreSQL output's schema (`dnslens report NAME --psqlEndpoint URI`):
// top, categories, heatmap and nxdomain, the seed guide's chapter 5. The report modules are the
// same as for ClickHouse (their sections, columns and drawings); only each section's SQL is
// PostgreSQL's, from the guide's rollups (dns_daily_stats, dns_hourly_heatmap) when the window is
// whole days in the schema's zone and no filter needs raw rows, else from dns_queries.
// Every value is a bound parameter ($n).
import { isIP } from 'node:net';
import type pg from 'pg';
import { ConfigError } from '../options.js';
import type { Context, NamedReport, Query, ReportArgs, ReportResult, Section, Value } from './named.js';
import { aligned, parseTime } from './time.js';

export const PG_REPORTS = ['top', 'categories', 'heatmap', 'nxdomain'];

// One SQL per report section, for the rollup (null: none answers it) and for the raw rows.
// {s}: the schema; {w}: the conditions; {tz}: the zone; {limit}: the row limit (bound parameters).
const LABELS = "coalesce(dc.category, 'uncategorised') AS category, coalesce(dc.provider, '') AS provider, coalesce(dc.cache_priority, 5) AS cache_priority";
const SQL: Record<string, { rollup: string | null; raw: string }> = {
  'top/apexes': {
    rollup: `SELECT apex_domain AS domain, sum(hit_count) AS queries, sum(hit_count)::float8 / sum(sum(hit_count)) OVER () AS share,
               sum(hit_count)::float8 / count(DISTINCT stat_date) AS per_day, ${LABELS}
             FROM {s}.dns_daily_stats d LEFT JOIN {s}.domain_categories dc USING (apex_domain)
             WHERE hit_count > 0 AND {w} GROUP BY apex_domain, dc.category, dc.provider, dc.cache_priority ORDER BY queries DESC, domain LIMIT {limit}`,
    raw: `SELECT apex_domain AS domain, count(*) AS queries, count(*)::float8 / sum(count(*)) OVER () AS share,
            count(*)::float8 / count(DISTINCT (queried_at AT TIME ZONE {tz})::date) AS per_day, ${LABELS}
          FROM {s}.dns_queries q LEFT JOIN {s}.domain_categories dc USING (apex_domain)
          WHERE NOT qr AND {w} GROUP BY apex_domain, dc.category, dc.provider, dc.cache_priority ORDER BY queries DESC, domain LIMIT {limit}`,
  },
  'top/names': {
    rollup: `SELECT domain, sum(hit_count) AS queries, sum(hit_count)::float8 / sum(sum(hit_count)) OVER () AS share,
               sum(hit_count)::float8 / count(DISTINCT stat_date) AS per_day, ${LABELS}
             FROM {s}.dns_daily_stats d LEFT JOIN {s}.domain_categories dc USING (apex_domain)
             WHERE hit_count > 0 AND {w} GROUP BY domain, apex_domain, dc.category, dc.provider, dc.cache_priority ORDER BY queries DESC, domain LIMIT {limit}`,
    raw: `SELECT domain, count(*) AS queries, count(*)::float8 / sum(count(*)) OVER () AS share,
            count(*)::float8 / count(DISTINCT (queried_at AT TIME ZONE {tz})::date) AS per_day, ${LABELS}
          FROM {s}.dns_queries q LEFT JOIN {s}.domain_categories dc USING (apex_domain)
          WHERE NOT qr AND {w} GROUP BY domain, apex_domain, dc.category, dc.provider, dc.cache_priority ORDER BY queries DESC, domain LIMIT {limit}`,
  },
  'categories/categories': {
    rollup: `SELECT coalesce(dc.category, 'uncategorised') AS category, count(DISTINCT d.apex_domain) AS domains, sum(hit_count) AS queries,
               sum(hit_count)::float8 / sum(sum(hit_count)) OVER () AS share
             FROM {s}.dns_daily_stats d LEFT JOIN {s}.domain_categories dc USING (apex_domain)
             WHERE hit_count > 0 AND {w} GROUP BY 1 ORDER BY queries DESC, category LIMIT {limit}`,
    raw: `SELECT coalesce(dc.category, 'uncategorised') AS category, count(DISTINCT q.apex_domain) AS domains, count(*) AS queries,
            count(*)::float8 / sum(count(*)) OVER () AS share
          FROM {s}.dns_queries q LEFT JOIN {s}.domain_categories dc USING (apex_domain)
          WHERE NOT qr AND {w} GROUP BY 1 ORDER BY queries DESC, category LIMIT {limit}`,
  },
  'heatmap/cells': {
    rollup: `SELECT extract(isodow FROM stat_date)::int AS weekday, hour_of_day AS hour, sum(query_count) AS queries
             FROM {s}.dns_hourly_heatmap WHERE {w} GROUP BY 1, 2 `,
    raw: `SELECT extract(isodow FROM queried_at AT TIME ZONE {tz})::int AS weekday, extract(hour FROM queried_at AT TIME ZONE {tz})::int AS hour, count(*) AS queries
          FROM {s}.dns_queries WHERE NOT qr AND {w} GROUP BY 1, 2 `,
  },
  'nxdomain/apexes': {
    rollup: `SELECT apex_domain AS apex, sum(hit_count) AS queries, sum(nxdomain_count) AS nxdomain, sum(nxdomain_count)::float8 / nullif(sum(hit_count), 0) AS share
             FROM {s}.dns_daily_stats WHERE {w} GROUP BY apex_domain HAVING sum(nxdomain_count) > 0 ORDER BY nxdomain DESC, apex LIMIT {limit}`,
    raw: `SELECT apex_domain AS apex, count(*) FILTER (WHERE NOT qr) AS queries, count(*) FILTER (WHERE qr AND rcode = 3) AS nxdomain,
            (count(*) FILTER (WHERE qr AND rcode = 3))::float8 / nullif(count(*) FILTER (WHERE NOT qr), 0) AS share
          FROM {s}.dns_queries WHERE {w} GROUP BY apex_domain HAVING count(*) FILTER (WHERE qr AND rcode = 3) > 0 ORDER BY nxdomain DESC, apex LIMIT {limit}`,
  },
  'nxdomain/clients': {
    rollup: null,
    raw: `SELECT {client} AS client, count(*) FILTER (WHERE NOT qr) AS queries, count(*) FILTER (WHERE qr AND rcode = 3) AS nxdomain,
            (count(*) FILTER (WHERE qr AND rcode = 3))::float8 / nullif(count(*) FILTER (WHERE NOT qr), 0) AS share
          FROM {s}.dns_queries WHERE client_ip IS NOT NULL AND {w} GROUP BY 1 HAVING count(*) FILTER (WHERE qr AND rcode = 3) > 0 ORDER BY nxdomain DESC, client LIMIT {limit}`,
  },
};

// --by prefix: the prefixes the ClickHouse client rollups keep by default (/24, /48).
const CLIENT = { address: 'host(client_ip)', prefix: "CASE WHEN family(client_ip) = 4 THEN network(set_masklen(client_ip, 24))::text ELSE network(set_masklen(client_ip, 48))::text END" };

/** The schema's zone (recorded when the PostgreSQL output made it). */
async function schemaZone(client: pg.Client, schema: string): Promise<string> {
  const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${schema}.settings WHERE name = 'timezone'`).catch((err: unknown) => {
    throw new ConfigError('psqlEndpoint', `no dnslens schema "${schema}" at this PostgreSQL (${(err as Error).message}): nothing is stored there yet`);
  });
  return rows[0]?.value ?? 'UTC';
}

/** Run a named report (one of PG_REPORTS) on the PostgreSQL output's schema. */
export async function runPgReport(client: pg.Client, schema: string, report: NamedReport, args: ReportArgs): Promise<ReportResult> {
  if (!PG_REPORTS.includes(report.name)) throw new ConfigError('report', `dnslens report ${report.name}: not from PostgreSQL (it answers ${PG_REPORTS.join(', ')}); use the ClickHouse store`);
  const by = args.by ?? report.by?.[0] ?? '';
  if (args.by !== undefined && !report.by?.includes(args.by)) throw new ConfigError('by', `--by: "${args.by}" is not one of ${(report.by ?? []).join(', ')} for ${report.name}`);
  const recorded = await schemaZone(client, schema);
  const zone = args.timezone ?? recorded;
  const now = args.now ?? Date.now();
  const sinceText = args.since ?? report.defaultSince;
  const since = sinceText === undefined ? null : parseTime(sinceText, 'since', zone, now);
  const until = args.until === undefined ? null : parseTime(args.until, 'until', zone, now);

  // The window and filters as conditions on the raw rows, or on a daily rollup, with their parameters.
  // The window and filters as conditions on the raw rows, or on a daily rollup; sql's {w}, {tz} and
  // {limit} filled, with the bound parameters they use.
  const bind = (sql: string, rollup: boolean): { text: string; params: unknown[] } => {
    const params: unknown[] = [];
    const p = (v: unknown) => `$${params.push(v)}`;
    let tz = '';
    const zoneParam = () => (tz ||= p(zone));
    const conds: string[] = [];
    const bound = (ms: number, op: string) => {
      const at = `${p(new Date(ms).toISOString())}::timestamptz`;
      conds.push(rollup ? `stat_date ${op} (${at} AT TIME ZONE ${zoneParam()})::date` : `queried_at ${op} ${at}`);
    };
    if (since !== null) bound(since, '>=');
    if (until !== null) bound(until, '<');
    if (!rollup && args.server !== undefined) conds.push(isIP(args.server) ? `server_ip = ${p(args.server)}::inet` : `server = ${p(args.server)}`);
    if (!rollup && args.client !== undefined) conds.push(`client_ip <<= ${p(args.client)}::inet`);
    let text = sql.replaceAll('{w}', conds.join(' AND ') || 'true');
    if (text.includes('{tz}')) text = text.replaceAll('{tz}', zoneParam());
    if (text.includes('{limit}')) text = text.replaceAll('{limit}', `${p(args.limit ?? 10)}::int`);
    return { text, params };
  };

  const section = async (q: Query): Promise<Section> => {
    const sql = SQL[`${report.name}/${q.name}`];
    const refusal =
      sql.rollup === null ? 'client addresses are only in dns_queries'
      : args.logOnly ? 'asked to read the raw rows'
      : args.server !== undefined || args.client !== undefined ? '--server and --client are only in dns_queries'
      : zone !== recorded ? `the rollups' days are ${recorded}'s, this report's are ${zone}'s`
      : ![since, until].every((b) => b === null || aligned(b, 'day', zone)) ? `the window does not start and end on whole days in ${zone}`
      : null;
    const table = refusal === null ? (report.name === 'heatmap' ? 'dns_hourly_heatmap' : 'dns_daily_stats') : 'dns_queries';
    const { text, params } = bind(
      (refusal === null ? sql.rollup! : sql.raw).replaceAll('{s}', schema).replaceAll('{client}', by === 'prefix' ? CLIENT.prefix : CLIENT.address),
      refusal === null,
    );
    const { rows } = await client.query(text, params);
    const out = rows.map((r: Record<string, unknown>) => Object.fromEntries(q.columns.map((c) => [c.name, value(r[c.name], c.kind)])));
    return { name: q.name, title: q.title, columns: q.columns, rows: out, table, why: refusal ?? `the window is whole days in ${zone}` };
  };

  const ctx: Context = { by, zone, since, until, args, section };
  const sections = await report.run(ctx);
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return { report: report.name, timezone: zone, since: iso(since), until: iso(until), sections };
}

function value(v: unknown, kind: string): Value {
  if (v === null || v === undefined) return null;
  if (kind === 'text') return String(v);
  return Number(v);
}
