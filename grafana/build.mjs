// Writes grafana/dashboards/*.json from the panel definitions below, and the alert rules on the
// signals, grafana/provisioning/alerting/dnslens-signals.yaml (`node grafana/build.mjs`; `--check`
// only compares, exit 1 on drift; test/grafana.test.ts runs it). Generating keeps the boilerplate
// (datasource on every target, grid positions, units) the same on every panel and rule, so the
// SQL is what one reads and edits here.
//
// SQL conventions (the plugin's macros, expanded by Grafana, see grafana/README.md):
// - every query filters on $server with $__conditionalAll, so "All" costs no IN list;
// - time series over rollups read the minute table while Grafana's interval is under an hour and
//   the hour table above it (minute rows are kept 90 days by default, hours 2 years); rollup
//   panels have a 1m minimum interval;
// - DNS_LOG is read only where a rollup has no such column (response times, names' shapes,
//   per-client evidence), always within the dashboard range;
// - numbers become names through the dictionaries (dns_type, dns_response, domain_categories),
//   named without a database: the datasource's default database is dnslens'.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The expressions that turn numbers into names are the reports' (clickhouse/reports/names.sql),
// read through the compiled loader: run `npm run build` first.
import { names, section } from '../dist/src/reports/sql-files.js';
// One alert rule per signal of the catalog (src/signals/catalog.ts), and the YAML they are written in.
import { SIGNALS } from '../dist/src/signals/catalog.js';
import { stringify } from 'yaml';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DATASOURCE = { type: 'grafana-clickhouse-datasource', uid: 'dnslens-clickhouse' };
export const PLUGIN_VERSION = '4.20.0';
const SRV = '$__conditionalAll(Server IN (${server:singlequote}), $server)';

// ------------------------------------------------------------------ SQL pieces

/** Rows of <base>_minute or <base>_hour (by Grafana's interval) in range and for $server. */
function rollup(base, cols) {
  return `(
    SELECT ${cols} FROM ${base}_minute WHERE $__timeFilter(Time) AND ${SRV} AND $__interval_s < 3600
    UNION ALL
    SELECT ${cols} FROM ${base}_hour WHERE $__timeFilter(Time) AND ${SRV} AND $__interval_s >= 3600
  )`;
}

const RANGE_S = 'greatest(1, dateDiff(\'second\', $__fromTime, $__toTime))';
const LOG = `DNS_LOG WHERE $__timeFilter(PacketTime) AND ${SRV}`;
const DAYS = `dns_domain_day WHERE $__dateFilter(Day) AND ${SRV}`;
const NAMES = names();
const QTYPE = NAMES.qtype;
const RCODE = NAMES.rcode;
const CATEGORY = NAMES.category;
const CLIENT_PREFIX = NAMES.client;
// The part of a name left of its apex (www.example.co.uk -> www), and its shape.
const SUB = 'substring(Question, 1, greatest(0, toInt64(length(Question)) - ApexLength - 1))';
// Named once per query with WITH (ClickHouse evaluates each alias once per row).
const WITH_SUB = `WITH ${SUB} AS sub, length(sub) AS sub_chars, arrayReduce('entropy', splitByString('', sub)) AS sub_entropy`;
const SUB_LEN = 'sub_chars';
const SUB_ENTROPY = 'sub_entropy';
export const LONG_NAME = 40; // characters left of the apex
export const HIGH_ENTROPY = 3.5; // bits per character, over names with at least 16 such characters
const IS_LONG = `${SUB_LEN} > ${LONG_NAME}`;
const IS_RANDOM = `(${SUB_LEN} >= 16 AND ${SUB_ENTROPY} >= ${HIGH_ENTROPY})`;
const TXT_NULL = 'Type IN (10, 16)';
/** Up to 3 sample values as one string, each cut to 80 characters (tunnel names run to hundreds). */
const examples = (agg) => `arrayStringConcat(arrayMap(x -> substring(x, 1, 80), ${agg}), ' ')`;

// What the signals stored (dns_signals, src/signals/): evidence and examples in words, as
// `dnslens report signals` shows them (clickhouse/reports/signals.sql).
const EVIDENCE = section('signals', 'evidence_text');
const EXAMPLES = section('signals', 'examples_text');
// A signal's window is DNS time (what it looked at), so the panel and the markers sit on the
// traffic that made it fire; rows of an evaluation over every server (Server '') always show.
const SIGNALS_IN_RANGE = `dns_signals WHERE WindowEnd >= $__fromTime AND WindowStart <= $__toTime AND (Server = '' OR ${SRV})`;
// The subject, and the client when the subject is a domain: "pirate.sea (client 10.0.2.30)".
const SIGNAL_SUBJECT = "concat(Subject, if(Client != '', concat(' (client ', Client, ')'), ''))";

/** The dashboards' annotation: each signal as a region over its window on every time series. */
const SIGNAL_ANNOTATION = {
  name: 'Signals',
  datasource: DATASOURCE,
  enable: true,
  hide: false,
  iconColor: 'red',
  target: {
    ...target(`
    SELECT WindowStart AS time, WindowEnd AS timeEnd,
           concat(Signal, ': ', ${SIGNAL_SUBJECT}, ', score ', toString(round(Score, 2)), '. ', ${EVIDENCE},
                  if(empty(Examples), '', concat('. e.g. ', ${EXAMPLES}))) AS text,
           arrayStringConcat(arrayFilter(x -> x != '', ['signal', Signal, Server]), ',') AS tags
    FROM ${SIGNALS_IN_RANGE}
    ORDER BY time, Signal, Subject LIMIT 1000`, 'table'),
    refId: 'annotation',
  },
};

// ------------------------------------------------------------------ panel builders

function target(sql, format) {
  const ts = format === 'timeseries';
  return {
    datasource: DATASOURCE,
    editorType: 'sql',
    format: ts ? 0 : 1, // the plugin's Format: 0 time series (long rows become series), 1 table
    queryType: ts ? 'timeseries' : 'table',
    pluginVersion: PLUGIN_VERSION,
    rawSql: sql.trim().replace(/\n {4}/g, '\n'),
    refId: 'A',
  };
}

function fieldConfig(unit, extra = {}, overrides = []) {
  return { defaults: { unit, ...extra }, overrides };
}

/** An override giving one column its own unit (and optionally the right axis). */
function unitOf(name, unit, right = false) {
  const properties = [{ id: 'unit', value: unit }];
  if (right) properties.push({ id: 'custom.axisPlacement', value: 'right' });
  return { matcher: { id: 'byName', options: name }, properties };
}

function base(type, title, description, sql, format, size) {
  return { type, title, description, datasource: DATASOURCE, targets: [target(sql, format)], gridPos: { w: size[0], h: size[1] } };
}

function timeseries(title, description, sql, unit, o = {}) {
  const p = base('timeseries', title, description, sql, 'timeseries', o.size ?? [12, 8]);
  p.fieldConfig = fieldConfig(unit, {
    custom: { drawStyle: o.bars ? 'bars' : 'line', fillOpacity: o.bars ? 80 : 10, stacking: { mode: o.stack ? 'normal' : 'none', group: 'A' }, lineWidth: 1, showPoints: 'never' },
    ...(o.max !== undefined ? { max: o.max, min: 0 } : {}),
  }, o.overrides ?? []);
  p.options = { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } };
  if (o.minInterval !== null) p.interval = o.minInterval ?? '1m';
  return p;
}

function stat(title, description, sql, unit, o = {}) {
  const p = base('stat', title, description, sql, 'table', o.size ?? [6, 4]);
  p.fieldConfig = fieldConfig(unit, { decimals: o.decimals, color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] } });
  p.options = { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none', textMode: 'auto', justifyMode: 'auto', orientation: 'auto' };
  p.interval = '1m';
  return p;
}

function table(title, description, sql, overrides, o = {}) {
  const p = base('table', title, description, sql, 'table', o.size ?? [12, 9]);
  p.fieldConfig = fieldConfig('short', { custom: { align: 'auto', cellOptions: { type: 'auto' } } }, overrides);
  p.options = { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } };
  p.interval = '1m';
  return p;
}

function pie(title, description, sql, unit, o = {}) {
  const p = base('piechart', title, description, sql, 'table', o.size ?? [6, 8]);
  p.fieldConfig = fieldConfig(unit);
  p.options = { pieType: 'donut', reduceOptions: { calcs: [], fields: '', values: true }, legend: { displayMode: 'table', placement: 'right', showLegend: true, values: ['percent'] }, tooltip: { mode: 'single' } };
  p.interval = '1m';
  return p;
}

function barchart(title, description, sql, unit, o = {}) {
  const p = base('barchart', title, description, sql, 'table', o.size ?? [6, 8]);
  p.fieldConfig = fieldConfig(unit, { custom: { fillOpacity: 80, lineWidth: 1 } });
  p.options = { orientation: 'horizontal', xField: o.xField, showValue: 'auto', legend: { showLegend: false, displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'single' } };
  p.interval = '1m';
  return p;
}

function bargauge(title, description, sql, unit, o = {}) {
  const p = base('bargauge', title, description, sql, 'table', o.size ?? [6, 8]);
  p.fieldConfig = fieldConfig(unit, { min: o.min, max: o.max, color: { mode: 'continuous-GrYlRd' } });
  p.options = { orientation: 'horizontal', displayMode: 'gradient', reduceOptions: { calcs: ['lastNotNull'], fields: '', values: o.values ?? false }, showUnfilled: true };
  p.interval = '1m';
  return p;
}

function heatmap(title, description, sql, o = {}) {
  const p = base('heatmap', title, description, sql, 'table', o.size ?? [12, 9]);
  p.fieldConfig = fieldConfig('short');
  p.options = { calculate: false, cellGap: 1, color: { mode: 'scheme', scheme: 'Oranges', steps: 64 }, yAxis: { axisPlacement: 'left', unit: o.yUnit ?? '' }, rowsFrame: { layout: 'auto' }, tooltip: { mode: 'single', yHistogram: false }, legend: { show: true } };
  p.interval = o.minInterval ?? '1m';
  return p;
}

/** Ids and grid positions: panels fill rows of 24 columns left to right, in the order given. */
function layout(panels) {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return panels.map((p, i) => {
    const { w, h } = p.gridPos;
    if (x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const out = { id: i + 1, ...p, gridPos: { h, w, x, y } };
    x += w;
    rowH = Math.max(rowH, h);
    return out;
  });
}

function serverVariable(sql) {
  return {
    name: 'server',
    label: 'Server',
    type: 'query',
    datasource: DATASOURCE,
    query: sql,
    definition: sql,
    refresh: 2, // on time range change: servers come and go
    multi: true,
    includeAll: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
  };
}

function dashboard(uid, title, description, tags, variableSql, panels) {
  return {
    uid,
    title,
    description,
    tags: ['dnslens', ...tags],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    timezone: 'utc',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    refresh: '1m',
    liveNow: false,
    fiscalYearStartMonth: 0,
    annotations: { list: [SIGNAL_ANNOTATION] },
    links: [{ title: 'dnslens', type: 'dashboards', tags: ['dnslens'], asDropdown: true, includeVars: true, keepTime: true }],
    templating: { list: [serverVariable(variableSql)] },
    panels: layout(panels),
  };
}

const SERVERS = 'SELECT DISTINCT Server FROM dns_traffic_day ORDER BY Server';

// ------------------------------------------------------------------ 1. overview

const TRAFFIC = (cols) => rollup('dns_traffic', cols);

const overview = dashboard('dnslens-overview', 'dnslens: overview', 'Queries and responses, codes, types, transports, sizes, top names and clients (rollups).', ['overview'], SERVERS, [
  stat('Queries per second', 'Average over the range (dns_traffic rollups).', `
    SELECT sumIf(Messages, QR = 0) / ${RANGE_S} AS queries_per_second
    FROM ${TRAFFIC('QR, Messages')}`, 'reqps', { decimals: 2 }),
  stat('Responses per second', 'Average over the range (dns_traffic rollups).', `
    SELECT sumIf(Messages, QR = 1) / ${RANGE_S} AS responses_per_second
    FROM ${TRAFFIC('QR, Messages')}`, 'reqps', { decimals: 2 }),
  stat('Unique domains', 'Distinct query names in the range (HyperLogLog, dns_names rollups).', `
    SELECT uniqCombinedMerge(12)(UniqueNames) AS unique_domains
    FROM ${rollup('dns_names', 'UniqueNames')}`, 'short'),
  stat('Unique clients', 'Distinct client addresses in the range (HyperLogLog, dns_names rollups).', `
    SELECT uniqCombinedMerge(12)(UniqueClients) AS unique_clients
    FROM ${rollup('dns_names', 'UniqueClients')}`, 'short'),
  timeseries('Queries and responses per second', '', `
    SELECT $__timeInterval(Time) AS time, sumIf(Messages, QR = 0) / $__interval_s AS queries, sumIf(Messages, QR = 1) / $__interval_s AS responses
    FROM ${TRAFFIC('Time, QR, Messages')}
    GROUP BY time ORDER BY time`, 'reqps'),
  timeseries('Responses per second by response code', 'Extended rcodes included (BADVERS = 16).', `
    SELECT $__timeInterval(Time) AS time, ${RCODE} AS rcode, sum(Messages) / $__interval_s AS responses
    FROM ${TRAFFIC('Time, QR, ResponseCode, Messages')}
    WHERE QR = 1
    GROUP BY time, rcode ORDER BY time`, 'reqps', { stack: true }),
  pie('Response codes', 'Responses in the range by rcode.', `
    SELECT ${RCODE} AS rcode, sum(Messages) AS responses
    FROM ${TRAFFIC('QR, ResponseCode, Messages')}
    WHERE QR = 1
    GROUP BY rcode ORDER BY responses DESC`, 'short'),
  barchart('Query types', 'Queries in the range by qtype (top 15).', `
    SELECT ${QTYPE} AS qtype, sum(Messages) AS queries
    FROM ${TRAFFIC('QR, Type, Messages')}
    WHERE QR = 0
    GROUP BY qtype ORDER BY queries DESC LIMIT 15`, 'short', { xField: 'qtype' }),
  pie('Transports', 'Messages by transport.', `
    SELECT Protocol AS transport, sum(Messages) AS messages
    FROM ${TRAFFIC('Protocol, Messages')}
    GROUP BY transport ORDER BY messages DESC`, 'short'),
  pie('IP versions', 'Messages by IP version.', `
    SELECT concat('IPv', toString(IPVersion)) AS ip_version, sum(Messages) AS messages
    FROM ${TRAFFIC('IPVersion, Messages')}
    GROUP BY ip_version ORDER BY messages DESC`, 'short'),
  bargauge('EDNS and DO share of queries', 'Queries carrying an OPT record, and those asking for DNSSEC (DO bit).', `
    SELECT sumIf(Messages, Edns0Present = 1) / greatest(1, sum(Messages)) AS edns, sumIf(Messages, DoBit = 1) / greatest(1, sum(Messages)) AS dnssec_ok
    FROM ${TRAFFIC('QR, Edns0Present, DoBit, Messages')}
    WHERE QR = 0`, 'percentunit', { min: 0, max: 1 }),
  timeseries('EDNS and DO share over time', 'Share of queries with EDNS, and with the DO bit.', `
    SELECT $__timeInterval(Time) AS time, sumIf(Messages, Edns0Present = 1) / greatest(1, sum(Messages)) AS edns, sumIf(Messages, DoBit = 1) / greatest(1, sum(Messages)) AS dnssec_ok
    FROM ${TRAFFIC('Time, QR, Edns0Present, DoBit, Messages')}
    WHERE QR = 0
    GROUP BY time ORDER BY time`, 'percentunit', { max: 1 }),
  timeseries('Message sizes', 'Average query and response size, and the largest response (DNS message bytes, no headers).', `
    SELECT $__timeInterval(Time) AS time,
           sumIf(Bytes, QR = 0) / greatest(1, sumIf(Messages, QR = 0)) AS avg_query,
           sumIf(Bytes, QR = 1) / greatest(1, sumIf(Messages, QR = 1)) AS avg_response,
           maxIf(MaxSize, QR = 1) AS max_response
    FROM ${TRAFFIC('Time, QR, Bytes, Messages, MaxSize')}
    GROUP BY time ORDER BY time`, 'bytes'),
  timeseries('DNS bytes per second', 'DNS message bytes per second, queries and responses.', `
    SELECT $__timeInterval(Time) AS time, sumIf(Bytes, QR = 0) / $__interval_s AS queries, sumIf(Bytes, QR = 1) / $__interval_s AS responses
    FROM ${TRAFFIC('Time, QR, Bytes')}
    GROUP BY time ORDER BY time`, 'Bps'),
  timeseries('Unique domains and clients', 'Distinct names and client addresses per interval (dns_names rollups).', `
    SELECT $__timeInterval(Time) AS time, uniqCombinedMerge(12)(UniqueNames) AS domains, uniqCombinedMerge(12)(UniqueClients) AS clients
    FROM ${rollup('dns_names', 'Time, UniqueNames, UniqueClients')}
    GROUP BY time ORDER BY time`, 'short'),
  timeseries('Truncated responses per second', 'Responses with TC set (the client retries over TCP).', `
    SELECT $__timeInterval(Time) AS time, sum(Truncated) / $__interval_s AS truncated
    FROM ${TRAFFIC('Time, QR, Truncated')}
    WHERE QR = 1
    GROUP BY time ORDER BY time`, 'reqps'),
  table('Top domains', 'Most queried names: up to 6 hours from DNS_LOG, longer ranges from the daily rollup (whole days).', `
    SELECT Question AS domain, sum(Queries) AS queries, sum(Queries) / sum(sum(Queries)) OVER () AS share, sum(NXDomain) AS nxdomain
    FROM (
        SELECT Question, toUInt64(QR = 0) AS Queries, toUInt64(QR = 1 AND ResponseCode = 3) AS NXDomain FROM ${LOG} AND dateDiff('second', $__fromTime, $__toTime) <= 21600
        UNION ALL
        SELECT Question, Queries, NXDomain FROM ${DAYS} AND dateDiff('second', $__fromTime, $__toTime) > 21600
    )
    GROUP BY domain ORDER BY queries DESC, domain LIMIT 20`, [unitOf('share', 'percentunit')]),
  table('Top client prefixes', 'Clients by prefix (the dns_clients rollups keep /24 and /48 by default).', `
    SELECT ${CLIENT_PREFIX} AS client_prefix, sum(Queries) AS queries, sum(Queries) / sum(sum(Queries)) OVER () AS share, sum(NXDomain) AS nxdomain, sum(ServFail) AS servfail
    FROM ${rollup('dns_clients', 'ClientIPv4, ClientIPv6, Queries, NXDomain, ServFail')}
    GROUP BY client_prefix ORDER BY queries DESC, client_prefix LIMIT 20`, [unitOf('share', 'percentunit')]),
]);

// ------------------------------------------------------------------ 2. traffic intelligence

const HOURS = Array.from({ length: 24 }, (_, h) => `sumIf(Queries, toHour(Time) = ${h}) AS \`${String(h).padStart(2, '0')}\``).join(', ');

const traffic = dashboard('dnslens-traffic', 'dnslens: traffic intelligence', 'The seed BIND9 guide\'s chapter 5: top apex domains with category, provider and cache priority, category mix, hour-of-day heatmap, daily/weekly/monthly trends, NXDOMAIN analysis.', ['traffic'], SERVERS, [
  table('Top apex domains', 'Registrable domains by queries, with their share, distinct clients, category, provider and cache priority (clickhouse/dictionaries/domain_categories.tsv). Daily rollup: whole days.', `
    SELECT Apex AS apex, sum(Queries) AS queries, sum(Queries) / sum(sum(Queries)) OVER () AS share,
           uniqCombinedMerge(12)(Clients) AS clients, sum(NXDomain) AS nxdomain,
           ${CATEGORY} AS category,
           dictGetOrDefault('domain_categories', 'Provider', Apex, '') AS provider,
           dictGetOrDefault('domain_categories', 'CachePriority', Apex, toUInt8(5)) AS cache_priority
    FROM ${DAYS}
    GROUP BY apex ORDER BY queries DESC, apex LIMIT 25`, [unitOf('share', 'percentunit')], { size: [16, 10] }),
  pie('Category mix', 'Queries by the category of their apex domain.', `
    SELECT ${CATEGORY} AS category, sum(Queries) AS queries
    FROM ${DAYS}
    GROUP BY category ORDER BY queries DESC`, 'short', { size: [8, 10] }),
  heatmap('Queries by hour of day', 'Each column a day, each row an hour (UTC): when the network asks (dns_apex_hour).', `
    SELECT toDateTime(toDate(Time)) AS time, ${HOURS}
    FROM dns_apex_hour WHERE $__timeFilter(Time) AND ${SRV}
    GROUP BY time ORDER BY time`, { size: [24, 9], minInterval: '1h' }),
  timeseries('Daily trend', 'Queries, NXDOMAIN responses and distinct names per day (dns_domain_day).', `
    SELECT toDateTime(Day) AS time, sum(Queries) AS queries, sum(NXDomain) AS nxdomain, count(DISTINCT Question) AS names
    FROM ${DAYS}
    GROUP BY time ORDER BY time`, 'short', { bars: true, size: [8, 8], minInterval: null }),
  timeseries('Weekly trend', 'Queries, NXDOMAIN responses and distinct apexes per week, Monday first (dns_apex_week).', `
    SELECT toDateTime(Week) AS time, sum(Queries) AS queries, sum(NXDomain) AS nxdomain, count(DISTINCT Apex) AS apexes
    FROM dns_apex_week WHERE Week >= toMonday(toDate($__fromTime)) AND Week <= toDate($__toTime) AND ${SRV}
    GROUP BY time ORDER BY time`, 'short', { bars: true, size: [8, 8], minInterval: null }),
  timeseries('Monthly trend', 'Queries, NXDOMAIN responses and distinct apexes per month (dns_apex_month).', `
    SELECT toDateTime(Month) AS time, sum(Queries) AS queries, sum(NXDomain) AS nxdomain, count(DISTINCT Apex) AS apexes
    FROM dns_apex_month WHERE Month >= toStartOfMonth(toDate($__fromTime)) AND Month <= toDate($__toTime) AND ${SRV}
    GROUP BY time ORDER BY time`, 'short', { bars: true, size: [8, 8], minInterval: null }),
  table('Monthly ranking', 'The guide\'s monthly report (dns_monthly_stats, per server here): the ten busiest apexes of each month in range, with the average per day on which they were queried (dns_apex_month), and distinct clients over the month\'s days (dns_domain_day, while it keeps them).', `
    SELECT m.year_month AS year_month, m.rank_in_month AS rank_in_month, m.apex_domain AS apex_domain, m.total_queries AS total_queries,
           c.unique_clients AS unique_clients, m.avg_daily AS avg_daily, m.nxdomain_count AS nxdomain_count, m.category AS category
    FROM (
      SELECT Month, formatDateTime(Month, '%Y-%m') AS year_month, rank() OVER (PARTITION BY Month ORDER BY sum(Queries) DESC) AS rank_in_month, Apex AS apex_domain,
             sum(Queries) AS total_queries, round(total_queries / greatest(1, bitCount(groupBitOr(ActiveDays))), 2) AS avg_daily,
             sum(NXDomain) AS nxdomain_count, ${CATEGORY} AS category
      FROM dns_apex_month WHERE Month >= toStartOfMonth(toDate($__fromTime)) AND Month <= toDate($__toTime) AND ${SRV}
      GROUP BY Month, Apex
      ORDER BY year_month DESC, rank_in_month, apex_domain LIMIT 10 BY year_month
    ) AS m
    LEFT JOIN (
      SELECT toStartOfMonth(Day) AS Month, Apex, uniqCombinedMerge(12)(Clients) AS unique_clients
      FROM dns_domain_day WHERE Day >= toStartOfMonth(toDate($__fromTime)) AND Day < addMonths(toStartOfMonth(toDate($__toTime)), 1) AND ${SRV}
      GROUP BY Month, Apex
    ) AS c ON c.Month = m.Month AND c.Apex = m.apex_domain
    ORDER BY year_month DESC, rank_in_month, apex_domain`, [], { size: [24, 8] }),
  timeseries('NXDOMAIN responses', 'NXDOMAIN responses per second, and their share of all responses (right axis).', `
    SELECT $__timeInterval(Time) AS time, sumIf(Messages, ResponseCode = 3) / $__interval_s AS nxdomain, sumIf(Messages, ResponseCode = 3) / greatest(1, sum(Messages)) AS nxdomain_share
    FROM ${TRAFFIC('Time, QR, ResponseCode, Messages')}
    WHERE QR = 1
    GROUP BY time ORDER BY time`, 'reqps', { size: [24, 8], overrides: [unitOf('nxdomain_share', 'percentunit', true)] }),
  table('NXDOMAIN names', 'Names answered NXDOMAIN most often, with their share of that name\'s responses.', `
    SELECT Question AS domain, Apex AS apex, sum(NXDomain) AS nxdomain, sum(Responses) AS responses, sum(NXDomain) / greatest(1, sum(Responses)) AS nxdomain_share, uniqCombinedMerge(12)(Clients) AS clients
    FROM ${DAYS}
    GROUP BY domain, apex HAVING nxdomain > 0 ORDER BY nxdomain DESC, domain LIMIT 25`, [unitOf('nxdomain_share', 'percentunit')]),
  table('NXDOMAIN by apex', 'Apex domains by NXDOMAIN responses: many distinct failing names under one apex is typical of typos, stale configuration, or DGA-like malware.', `
    SELECT Apex AS apex, sum(NXDomain) AS nxdomain, uniqExactIf(Question, NXDomain > 0) AS failing_names, sum(NXDomain) / greatest(1, sum(Responses)) AS nxdomain_share, ${CATEGORY} AS category
    FROM ${DAYS}
    GROUP BY apex HAVING nxdomain > 0 ORDER BY nxdomain DESC, apex LIMIT 25`, [unitOf('nxdomain_share', 'percentunit')]),
]);

// ------------------------------------------------------------------ 3. latency and QoE

const ANSWERED = `${LOG} AND QR = 1 AND ResponseTimeUs IS NOT NULL`;
// The latency rollups (migration 0009) keep a histogram per minute/hour: bucket b counts responses
// of 2^(b/4) to 2^((b+1)/4) µs; a bucket stands for its geometric middle (percentiles within ~9%).
const BUCKET_US = 'pow(2, (b + 0.5) / 4)';
const LATENCY = (cols) => rollup('dns_latency', cols);
/** Rows of `keys` with their merged histogram `buckets`, one row per bucket as (b, c). */
const perBucket = (keys, from) => `(
        SELECT ${keys}, sumMap(LatencyBuckets) AS buckets FROM ${from} GROUP BY ${keys}
    ) ARRAY JOIN mapKeys(buckets) AS b, mapValues(buckets) AS c`;
const BANDS = [
  [0, 1000, '<1 ms'], [1000, 2000, '1-2 ms'], [2000, 5000, '2-5 ms'], [5000, 10000, '5-10 ms'], [10000, 20000, '10-20 ms'], [20000, 50000, '20-50 ms'],
  [50000, 100000, '50-100 ms'], [100000, 200000, '100-200 ms'], [200000, 500000, '200-500 ms'], [500000, null, '>=500 ms'],
].map(([lo, hi, name]) => `sumIf(c, ${BUCKET_US} >= ${lo}${hi ? ` AND ${BUCKET_US} < ${hi}` : ''}) AS \`${name}\``).join(', ');
const DNS_SERVER = "if(ServerIPv6 = toIPv6('::'), IPv4NumToString(ServerIPv4), IPv6NumToString(ServerIPv6))";
const LATENCY_COLUMNS = ['mean', 'p50', 'p95', 'p99'];

const latency = dashboard('dnslens-latency', 'dnslens: latency and QoE', 'Response times of matched queries (query/response matching, --matchTimeout) and unanswered queries from the latency rollups (dns_latency_*, a histogram per minute: percentiles within about 9%), slowest names from DNS_LOG, SERVFAIL and REFUSED rates.', ['latency'], SERVERS, [
  stat('Median response time', 'Over matched responses in the range.', `
    SELECT quantileExactWeighted(0.5)(${BUCKET_US}, c) AS median_us
    FROM ${perBucket('1 AS k', LATENCY('LatencyBuckets'))}`, 'µs'),
  stat('Unanswered queries', 'Share of queries with no response within --matchTimeout.', `
    SELECT sum(Unanswered) / greatest(1, sum(Answered) + sum(Unanswered)) AS unanswered_share
    FROM ${LATENCY('Answered, Unanswered')}`, 'percentunit', { decimals: 2 }),
  stat('SERVFAIL share', 'Of all responses (dns_traffic rollups).', `
    SELECT sumIf(Messages, ResponseCode = 2) / greatest(1, sum(Messages)) AS servfail_share
    FROM ${TRAFFIC('QR, ResponseCode, Messages')}
    WHERE QR = 1`, 'percentunit', { decimals: 2 }),
  stat('REFUSED share', 'Of all responses (dns_traffic rollups).', `
    SELECT sumIf(Messages, ResponseCode = 5) / greatest(1, sum(Messages)) AS refused_share
    FROM ${TRAFFIC('QR, ResponseCode, Messages')}
    WHERE QR = 1`, 'percentunit', { decimals: 2 }),
  timeseries('Response time percentiles', 'p50, p90 and p99 of matched responses per interval.', `
    SELECT time, q[1] AS p50, q[2] AS p90, q[3] AS p99 FROM (
        SELECT time, quantilesExactWeighted(0.5, 0.9, 0.99)(${BUCKET_US}, c) AS q
        FROM ${perBucket('$__timeInterval(Time) AS time', LATENCY('Time, LatencyBuckets'))}
        GROUP BY time
    ) ORDER BY time`, 'µs'),
  table('Response time per DNS server', 'Per sensor (Server) and DNS server address: answered and unanswered queries, mean and percentiles over the range.', `
    SELECT server, dns_server, any(n_answered) AS answered, any(n_unanswered) AS unanswered, unanswered / greatest(1, answered + unanswered) AS unanswered_share,
           any(n_sum_us) / greatest(1, answered) AS mean, quantileExactWeighted(0.5)(${BUCKET_US}, c) AS p50, quantileExactWeighted(0.95)(${BUCKET_US}, c) AS p95, quantileExactWeighted(0.99)(${BUCKET_US}, c) AS p99
    FROM (
        SELECT Server AS server, ${DNS_SERVER} AS dns_server, sum(Answered) AS n_answered, sum(Unanswered) AS n_unanswered, sum(LatencySumUs) AS n_sum_us, sumMap(LatencyBuckets) AS buckets
        FROM ${LATENCY('Server, ServerIPv4, ServerIPv6, Answered, Unanswered, LatencySumUs, LatencyBuckets')}
        GROUP BY server, dns_server
    ) LEFT ARRAY JOIN mapKeys(buckets) AS b, mapValues(buckets) AS c
    GROUP BY server, dns_server ORDER BY answered + unanswered DESC, server, dns_server LIMIT 50`, [...LATENCY_COLUMNS.map((c) => unitOf(c, 'µs')), unitOf('unanswered_share', 'percentunit')], { size: [24, 8] }),
  heatmap('Response time distribution', 'Matched responses per interval by response-time band.', `
    SELECT time, ${BANDS}
    FROM ${perBucket('$__timeInterval(Time) AS time', LATENCY('Time, LatencyBuckets'))}
    GROUP BY time ORDER BY time`, { size: [24, 9] }),
  timeseries('Unanswered share', 'Share of queries per interval that got no response within --matchTimeout, by sensor.', `
    SELECT $__timeInterval(Time) AS time, Server AS server, sum(Unanswered) / greatest(1, sum(Answered) + sum(Unanswered)) AS unanswered_share
    FROM ${LATENCY('Time, Server, Answered, Unanswered')}
    GROUP BY time, server ORDER BY time`, 'percentunit', { max: 1 }),
  timeseries('SERVFAIL and REFUSED per second', 'Failing responses per second (dns_traffic rollups).', `
    SELECT $__timeInterval(Time) AS time, sumIf(Messages, ResponseCode = 2) / $__interval_s AS servfail, sumIf(Messages, ResponseCode = 5) / $__interval_s AS refused
    FROM ${TRAFFIC('Time, QR, ResponseCode, Messages')}
    WHERE QR = 1
    GROUP BY time ORDER BY time`, 'reqps'),
  table('Slowest client prefixes', 'Client prefixes by p95 response time (at least 10 answered), with their unanswered share (dns_latency_clients rollups).', `
    SELECT client_prefix, any(n_answered) AS answered, any(n_unanswered) AS unanswered, unanswered / greatest(1, answered + unanswered) AS unanswered_share,
           quantileExactWeighted(0.5)(${BUCKET_US}, c) AS p50, quantileExactWeighted(0.95)(${BUCKET_US}, c) AS p95
    FROM (
        SELECT ${CLIENT_PREFIX} AS client_prefix, sum(Answered) AS n_answered, sum(Unanswered) AS n_unanswered, sumMap(LatencyBuckets) AS buckets
        FROM ${rollup('dns_latency_clients', 'ClientIPv4, ClientIPv6, Answered, Unanswered, LatencyBuckets')}
        GROUP BY client_prefix
    ) LEFT ARRAY JOIN mapKeys(buckets) AS b, mapValues(buckets) AS c
    GROUP BY client_prefix HAVING answered >= 10 ORDER BY p95 DESC, client_prefix LIMIT 25`, [unitOf('p50', 'µs'), unitOf('p95', 'µs'), unitOf('unanswered_share', 'percentunit')]),
  table('Slowest domains', 'Names by p95 response time (at least 3 matched responses in range), with the evidence: count, median, worst (DNS_LOG).', `
    SELECT Question AS domain, count() AS responses, quantileTDigest(0.5)(ResponseTimeUs) AS p50, quantileTDigest(0.95)(ResponseTimeUs) AS p95, max(ResponseTimeUs) AS max, uniqExact(Server) AS servers
    FROM ${ANSWERED}
    GROUP BY domain HAVING responses >= 3 ORDER BY p95 DESC, domain LIMIT 25`, ['p50', 'p95', 'max'].map((c) => unitOf(c, 'µs'))),
  table('Unanswered queries by name', 'Names whose queries most often went unanswered (DNS_LOG).', `
    SELECT Question AS domain, countIf(Unanswered = 1) AS unanswered, count() AS queries, countIf(Unanswered = 1) / count() AS unanswered_share, uniqExact(Client) AS clients
    FROM ${LOG} AND QR = 0
    GROUP BY domain HAVING unanswered > 0 ORDER BY unanswered DESC, domain LIMIT 25`, [unitOf('unanswered_share', 'percentunit')]),
]);

// ------------------------------------------------------------------ 4. security signals

const security = dashboard('dnslens-security', 'dnslens: security signals', `The signals dnslens fired (dns_signals, README "Signals"), ranked by score, then views computable in SQL, each a ranked table with its evidence: long or random-looking names (tunnelling, DGA), NXDOMAIN-heavy clients, TXT/NULL use, apexes with many distinct names, rare TLDs. Long: more than ${LONG_NAME} characters left of the apex; random-looking: 16 or more such characters at ${HIGH_ENTROPY} bits per character or more.`, ['security'], SERVERS, [
  table('Signals', 'What the signals fired (table dns_signals) whose window of DNS time meets the range, highest score first (1: at its threshold), with the evidence and example names that made each fire. The same rows mark every time series as annotations, and the alert rules (folder "dnslens alerts") notify them.', `
    SELECT Signal AS signal, Subject AS subject, Client AS client, Server AS server, round(Score, 2) AS score,
           WindowStart AS window_start, WindowEnd AS window_end, ${EVIDENCE} AS evidence, ${EXAMPLES} AS examples, Time AS evaluated
    FROM ${SIGNALS_IN_RANGE}
    ORDER BY Score DESC, WindowStart DESC, Signal, Subject, Client LIMIT 50`, [], { size: [24, 8] }),
  timeseries('Suspicious name shapes over time', 'Queries per interval for long names and random-looking names (DNS_LOG).', `
    ${WITH_SUB}
    SELECT $__timeInterval(PacketTime) AS time, countIf(${IS_LONG}) AS long_names, countIf(${IS_RANDOM}) AS random_names
    FROM ${LOG} AND QR = 0
    GROUP BY time ORDER BY time`, 'short', { minInterval: '10s' }),
  timeseries('NXDOMAIN and TXT/NULL over time', 'NXDOMAIN responses and TXT/NULL queries per interval (dns_traffic rollups).', `
    SELECT $__timeInterval(Time) AS time, sumIf(Messages, QR = 1 AND ResponseCode = 3) AS nxdomain, sumIf(Messages, QR = 0 AND ${TXT_NULL}) AS txt_null_queries
    FROM ${TRAFFIC('Time, QR, ResponseCode, Type, Messages')}
    GROUP BY time ORDER BY time`, 'short'),
  table('Long or random-looking names, by apex', 'Apexes whose names are long or high-entropy left of the apex: DNS tunnels (iodine, dnscat) and DGA look like this. Ranked by the number of such queries, then their share.', `
    ${WITH_SUB}
    SELECT Apex AS apex, count() AS queries, countIf(${IS_LONG}) AS long_names, countIf(${IS_RANDOM}) AS random_names,
           (long_names + random_names) / (2 * count()) AS suspicious_share,
           uniqExact(Question) AS distinct_names, round(avg(${SUB_LEN}), 1) AS avg_label_chars, max(length(Question)) AS max_length,
           uniqExact(Client) AS clients, ${examples(`groupUniqArrayIf(3)(Question, ${IS_LONG} OR ${IS_RANDOM})`)} AS examples
    FROM ${LOG} AND QR = 0
    GROUP BY apex HAVING long_names + random_names > 0
    ORDER BY long_names + random_names DESC, suspicious_share DESC, apex LIMIT 25`, [unitOf('suspicious_share', 'percentunit')], { size: [24, 9] }),
  table('NXDOMAIN-heavy clients', 'Clients receiving many NXDOMAIN responses (at least 3), by share then count, with the names that failed.', `
    SELECT Client AS client, count() AS responses, countIf(ResponseCode = 3) AS nxdomain, nxdomain / responses AS nxdomain_share, uniqExactIf(Question, ResponseCode = 3) AS failing_names,
           ${examples(`groupUniqArrayIf(3)(Question, ResponseCode = 3)`)} AS examples
    FROM ${LOG} AND QR = 1
    GROUP BY client HAVING nxdomain >= 3
    ORDER BY nxdomain_share DESC, nxdomain DESC, client LIMIT 25`, [unitOf('nxdomain_share', 'percentunit')]),
  table('TXT and NULL queries per client', 'Clients by the share of their queries that ask for TXT or NULL records (data channels of tunnels), with the apexes asked.', `
    SELECT Client AS client, count() AS queries, countIf(${TXT_NULL}) AS txt_null, txt_null / queries AS txt_null_share, uniqExactIf(Apex, ${TXT_NULL}) AS apexes,
           ${examples(`groupUniqArrayIf(3)(Apex, ${TXT_NULL})`)} AS examples
    FROM ${LOG} AND QR = 0
    GROUP BY client HAVING txt_null > 0
    ORDER BY txt_null_share DESC, txt_null DESC, client LIMIT 25`, [unitOf('txt_null_share', 'percentunit')]),
  table('Apexes with many distinct names', 'Apex domains by distinct names queried under them (at least 10): tunnels and DGA make a new name per query (dns_domain_day).', `
    SELECT Apex AS apex, uniqExact(Question) AS distinct_names, sum(Queries) AS queries, uniqExact(Question) / greatest(1, sum(Queries)) AS names_per_query,
           sum(NXDomain) AS nxdomain, uniqCombinedMerge(12)(Clients) AS clients, ${CATEGORY} AS category
    FROM ${DAYS}
    GROUP BY apex HAVING distinct_names >= 10
    ORDER BY distinct_names DESC, apex LIMIT 25`, [unitOf('names_per_query', 'percentunit')]),
  table('Rare TLDs', 'The least queried top-level domains in range, with examples (dns_domain_day).', `
    SELECT splitByChar('.', Question)[-1] AS tld, sum(Queries) AS queries, uniqExact(Question) AS names, uniqCombinedMerge(12)(Clients) AS clients,
           ${examples(`groupUniqArray(3)(Question)`)} AS examples
    FROM ${DAYS} AND Queries > 0
    GROUP BY tld ORDER BY queries, tld LIMIT 20`, []),
]);

// ------------------------------------------------------------------ 5. health

const HEALTH = `dnslens_health WHERE $__timeFilter(Time) AND ${SRV}`;
const SENSOR = "concat(Server, ' ', Sensor)";

// Component counters are <component>.<counter> (clickhouse.sent, clickhouse.queued, ...); the
// older names written before the component registry (insertedRows, queueRows, insertLatencyUs,
// failedInserts) are read too, so a store keeps its history across the upgrade.
const SENT = "Counter IN ('clickhouse.sent', 'insertedRows')";
const QUEUED = "Counter IN ('clickhouse.queued', 'queueRows')";
const SEND_LATENCY = "Counter IN ('clickhouse.latencyUs', 'insertLatencyUs')";
const FAILED = "Counter IN ('clickhouse.failed', 'failedInserts')";

const health = dashboard('dnslens-health', 'dnslens: health', 'dnslens\' own counters (table dnslens_health, a snapshot every --metricFlushInterval): ingest rate, drops per stage and reason, malformed and unsupported input, the ClickHouse writer\'s queue and insert latency.', ['health'], 'SELECT DISTINCT Server FROM dnslens_health ORDER BY Server', [
  stat('DNS messages', 'Decoded in the range.', `
    SELECT sumIf(Value, Counter = 'dnsMessages') AS dns_messages
    FROM ${HEALTH} AND Kind = 'counter'`, 'short'),
  stat('Dropped', 'Events dropped by any stage in the range (the table below says where and why).', `
    SELECT sumIf(Value, Counter = 'dropped') AS dropped
    FROM ${HEALTH} AND Kind = 'counter'`, 'short'),
  stat('Rows waiting', 'Rows accepted by the ClickHouse writer but not yet stored, at the last snapshot of each sensor, summed.', `
    SELECT sum(last) AS queue_rows FROM (
        SELECT argMax(Value, Time) AS last FROM ${HEALTH} AND ${QUEUED} GROUP BY Server, Sensor
    )`, 'short'),
  stat('Last snapshot', 'Age of the newest snapshot in the range.', `
    SELECT dateDiff('second', max(Time), $__toTime) AS last_snapshot_age
    FROM ${HEALTH}`, 's'),
  timeseries('Ingest rate', 'Packets read, DNS messages decoded and rows stored per second.', `
    SELECT $__timeInterval(Time) AS time, if(${SENT}, 'clickhouse.sent', Counter) AS counter, sum(Value) / $__interval_s AS per_second
    FROM ${HEALTH} AND Kind = 'counter' AND Reason = '' AND (Counter IN ('packets', 'dnsMessages') OR ${SENT})
    GROUP BY time, counter ORDER BY time`, 'reqps'),
  timeseries('Drops per stage and reason', 'Events dropped per second, by stage:reason.', `
    SELECT $__timeInterval(Time) AS time, Reason AS stage_reason, sum(Value) / $__interval_s AS per_second
    FROM ${HEALTH} AND Kind = 'counter' AND Counter = 'dropped'
    GROUP BY time, stage_reason ORDER BY time`, 'reqps', { stack: true }),
  timeseries('Malformed, unsupported and not DNS', 'Packets per second that did not become events, by reason.', `
    SELECT $__timeInterval(Time) AS time, if(Reason = '', Counter, concat(Counter, ': ', Reason)) AS kind, sum(Value) / $__interval_s AS per_second
    FROM ${HEALTH} AND Kind = 'counter' AND ((Counter IN ('malformed', 'unsupported') AND Reason != '') OR Counter = 'notDns')
    GROUP BY time, kind ORDER BY time`, 'reqps', { stack: true }),
  timeseries('Writer queue', 'Rows waiting in the ClickHouse writer (memory and spool), per sensor.', `
    SELECT $__timeInterval(Time) AS time, ${SENSOR} AS sensor, max(Value) AS queue_rows
    FROM ${HEALTH} AND ${QUEUED}
    GROUP BY time, sensor ORDER BY time`, 'short'),
  timeseries('Insert latency', 'Duration of the last ClickHouse insert at each snapshot, per sensor (the largest in the interval).', `
    SELECT $__timeInterval(Time) AS time, ${SENSOR} AS sensor, max(Value) AS insert_latency
    FROM ${HEALTH} AND ${SEND_LATENCY}
    GROUP BY time, sensor ORDER BY time`, 'µs'),
  table('Counts in range', 'Every counter and reason, summed over the range.', `
    SELECT Counter AS counter, Reason AS reason, sum(Value) AS total
    FROM ${HEALTH} AND Kind = 'counter'
    GROUP BY counter, reason HAVING total > 0 ORDER BY counter, total DESC, reason`, []),
  table('Sensors', 'Each dnslens process (host:pid) that reported in the range.', `
    SELECT Server AS server, Sensor AS sensor, min(Time) AS first_snapshot, max(Time) AS last_snapshot,
           sumIf(Value, Counter = 'dnsMessages') AS dns_messages, sumIf(Value, Counter = 'dropped') AS dropped, sumIf(Value, ${FAILED}) AS failed_inserts
    FROM ${HEALTH}
    GROUP BY server, sensor ORDER BY last_snapshot DESC, server, sensor`, []),
]);

export const DASHBOARDS = { overview, 'traffic-intelligence': traffic, 'latency-qoe': latency, 'security-signals': security, health };

// ------------------------------------------------------------------ 6. alert rules on the signals

// Grafana-managed rules, provisioned from grafana/provisioning/alerting/ (Grafana's file format,
// apiVersion 1). One rule per signal, in a group per family, evaluated every minute: each reads the
// rows dnslens stored in dns_signals in the last ALERT_RANGE_S seconds of wall clock (Time: when
// dnslens evaluated, so a file import of old traffic alerts too) and makes one alert instance per
// signal, subject, client and server. Its query is a table with one number (the rows) and text
// columns, which Grafana reads as numbers labelled by the text columns; the threshold fires on any
// row. The labels carry the evidence for the annotations' templates ($labels.evidence, ...).
// The folder is not the dashboards' "dnslens": Grafana provisions alerting before dashboards and
// would make a second folder of that title (grafana/grafana#125079).
export const ALERT_FOLDER = 'dnslens alerts';
export const ALERT_RANGE_S = 300; // an alert fires at the evaluation after a row is stored, and resolves about 5 minutes later
const ALERT_INTERVAL = '1m';
const FAMILIES = {
  security: ['nxdomain-client', 'nxdomain-apex', 'tunnel', 'dga', 'beacon', 'new-domains'],
  qoe: ['resolution-failures', 'query-burst', 'latency-regression'],
};

function alertSql(signal) {
  if (!/^[a-z][a-z0-9-]*$/.test(signal)) throw new Error(`signal name ${signal} is not a plain word`);
  return `
    SELECT Signal AS signal, Subject AS subject, Client AS client, Server AS server, toString(round(max(Score), 2)) AS score,
           argMax(concat(toString(toDateTime(WindowStart)), ' - ', toString(toDateTime(WindowEnd))), Score) AS window_utc,
           argMax(${EVIDENCE}, Score) AS evidence, argMax(${EXAMPLES}, Score) AS examples, count() AS fired
    FROM dns_signals
    WHERE $__timeFilter(Time) AND Signal = '${signal}'
    GROUP BY signal, subject, client, server
    ORDER BY fired DESC, signal, subject, client, server`;
}

function alertRule(def, family) {
  if (/\$|\{\{/.test(def.about)) throw new Error(`signal ${def.name}: its description would be read as a template`);
  return {
    uid: `dnslens-signal-${def.name}`,
    title: `dnslens signal ${def.name}`,
    condition: 'B',
    data: [
      {
        refId: 'A',
        relativeTimeRange: { from: ALERT_RANGE_S, to: 0 },
        datasourceUid: DATASOURCE.uid,
        model: { ...target(alertSql(def.name), 'table'), intervalMs: 60_000, maxDataPoints: 43_200 },
      },
      {
        refId: 'B',
        datasourceUid: '__expr__',
        model: { type: 'threshold', expression: 'A', conditions: [{ evaluator: { type: 'gt', params: [0] } }], datasource: { type: '__expr__', uid: '__expr__' }, refId: 'B' },
      },
    ],
    noDataState: 'OK', // no row: nothing fired
    execErrState: 'Error',
    for: '0s',
    isPaused: false,
    // static only: Grafana fills $VAR in provisioned labels from its environment
    labels: { source: 'dnslens', family },
    annotations: {
      summary: '{{ $labels.signal }}: {{ $labels.subject }}{{ if $labels.client }} (client {{ $labels.client }}){{ end }}, score {{ $labels.score }}',
      description:
        `${def.about[0].toUpperCase()}${def.about.slice(1)}. Evidence: {{ $labels.evidence }}.{{ if $labels.examples }} Examples: {{ $labels.examples }}.{{ end }}` +
        ' DNS time (UTC): {{ $labels.window_utc }}{{ if $labels.server }}, server {{ $labels.server }}{{ end }}.' +
        ' All signals: dashboard "dnslens: security signals", panel Signals, or `dnslens report signals`.',
    },
  };
}

const familyOf = new Map(Object.entries(FAMILIES).flatMap(([f, names]) => names.map((n) => [n, f])));
for (const def of SIGNALS) if (!familyOf.has(def.name)) throw new Error(`signal ${def.name} has no family in grafana/build.mjs FAMILIES`);
for (const n of familyOf.keys()) if (!SIGNALS.some((d) => d.name === n)) throw new Error(`FAMILIES names ${n}, which is no signal`);

export const ALERT_RULES = {
  apiVersion: 1,
  groups: Object.keys(FAMILIES).map((family) => ({
    orgId: 1,
    name: `signals-${family}`,
    folder: ALERT_FOLDER,
    interval: ALERT_INTERVAL,
    rules: SIGNALS.filter((d) => familyOf.get(d.name) === family).map((d) => alertRule(d, family)),
  })),
};

const ALERT_HEADER = `# Grafana alert rules on the signals dnslens stores in dns_signals (README "Signals"): one rule per
# signal, one alert per signal, subject, client and server that fired in the last ${ALERT_RANGE_S / 60} minutes.
# Generated by grafana/build.mjs (run \`node grafana/build.mjs\`); test/grafana-alerts.test.ts runs every
# query. Notifications follow Grafana's notification policies (labels source=dnslens, family).
`;

// ------------------------------------------------------------------ write or check

function render(d) {
  return JSON.stringify(d, null, 2) + '\n';
}

/** Every generated file: [path, text]. */
function outputs() {
  const files = Object.entries(DASHBOARDS).map(([name, d]) => [join(HERE, 'dashboards', `${name}.json`), render(d)]);
  files.push([join(HERE, 'provisioning', 'alerting', 'dnslens-signals.yaml'), ALERT_HEADER + stringify(ALERT_RULES, { lineWidth: 0, aliasDuplicateObjects: false })]);
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  let drift = 0;
  for (const [path, text] of outputs()) {
    let old = '';
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      /* new file */
    }
    if (old === text) continue;
    if (check) {
      drift++;
      process.stderr.write(`${path} differs from grafana/build.mjs; run node grafana/build.mjs\n`);
    } else {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      process.stdout.write(`wrote ${path}\n`);
    }
  }
  process.exitCode = drift ? 1 : 0;
}
