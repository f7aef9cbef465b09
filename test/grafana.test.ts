// The Grafana side (grafana/): provisioning YAML, dashboard JSON, and every panel query of every
// dashboard run against the embedded store, with the plugin's macros and variables expanded as the
// plugin does (test/grafana-expand.ts). The store holds real captures from ../shared/data/pcap
// (moved in time to the last hours, so one dashboard range shows them all, and matched for
// response times), two weeks of seeded synthetic traffic before them (daily/weekly trends), and
// dnslens' own health snapshots written while the captures went in, and the signals they fire
// (dns_signals). A panel or an annotation query that errors, returns no rows or other columns than
// expected fails. The alert rules are test/grafana-alerts.test.ts'.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { DnsEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { createClickHouseOutput } from '../src/outputs/clickhouse/output.js';
import { runPipeline } from '../src/cli/pipeline.js';
import type { EventTransform } from '../src/component.js';
import { Stats } from '../src/stats.js';
import { openStore, type Store } from '../src/store/connection.js';
import { ALWAYS, HealthReporter, counterTotals } from '../src/outputs/clickhouse/health.js';
import { parseDomainList } from '../src/transforms/domainlist.js';
import { filteredOutput } from '../src/outputs/filter.js';
import { Matcher } from '../src/transforms/match.js';
import { PCAP_DIR } from './data.js';
import { expand, panelIntervalMs, type Selection } from './grafana-expand.js';
import { traffic } from './synthetic.js';
import { parseValue } from '../src/cli/config.js';
import { SIGNALS } from '../src/signals/catalog.js';
import { evaluateSignals } from '../src/signals/evaluate.js';
import { SIGNAL_OPTIONS, type SignalSettings } from '../src/signals/options.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';

const ROOT = join(import.meta.dirname, '..');
const GRAFANA = join(ROOT, 'grafana');
const DS = { type: 'grafana-clickhouse-datasource', uid: 'dnslens-clickhouse' };
const PANEL_TYPES = new Set(['timeseries', 'barchart', 'piechart', 'table', 'stat', 'heatmap', 'bargauge']);

interface Target {
  datasource: unknown;
  rawSql: string;
  refId: string;
  format: number;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: unknown;
  interval?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets: Target[];
  fieldConfig: { defaults: { unit?: string }; overrides: { matcher: { id: string; options: string }; properties: { id: string; value: unknown }[] }[] };
  options: Record<string, unknown>;
}
interface Annotation {
  name: string;
  datasource: unknown;
  enable: boolean;
  target: Target & { editorType: string };
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  time: { from: string; to: string };
  annotations: { list: Annotation[] };
  templating: { list: { name: string; type: string; query: string; multi: boolean; includeAll: boolean; datasource: unknown }[] };
  panels: Panel[];
}

const FILES = readdirSync(join(GRAFANA, 'dashboards')).filter((f) => f.endsWith('.json')).sort();
const DASHBOARDS: [string, Dashboard][] = FILES.map((f) => [f, JSON.parse(readFileSync(join(GRAFANA, 'dashboards', f), 'utf8')) as Dashboard]);

// The columns each panel's query returns, by dashboard file and panel title.
const COLUMNS: Record<string, Record<string, string[]>> = {
  'overview.json': {
    'Queries per second': ['queries_per_second'],
    'Responses per second': ['responses_per_second'],
    'Unique domains': ['unique_domains'],
    'Unique clients': ['unique_clients'],
    'Queries and responses per second': ['time', 'queries', 'responses'],
    'Responses per second by response code': ['time', 'rcode', 'responses'],
    'Response codes': ['rcode', 'responses'],
    'Query types': ['qtype', 'queries'],
    Transports: ['transport', 'messages'],
    'IP versions': ['ip_version', 'messages'],
    'EDNS and DO share of queries': ['edns', 'dnssec_ok'],
    'EDNS and DO share over time': ['time', 'edns', 'dnssec_ok'],
    'Message sizes': ['time', 'avg_query', 'avg_response', 'max_response'],
    'DNS bytes per second': ['time', 'queries', 'responses'],
    'Unique domains and clients': ['time', 'domains', 'clients'],
    'Truncated responses per second': ['time', 'truncated'],
    'Top domains': ['domain', 'queries', 'share', 'nxdomain'],
    'Top client prefixes': ['client_prefix', 'queries', 'share', 'nxdomain', 'servfail'],
  },
  'traffic-intelligence.json': {
    'Top apex domains': ['apex', 'queries', 'share', 'clients', 'nxdomain', 'category', 'provider', 'cache_priority'],
    'Category mix': ['category', 'queries'],
    'Queries by hour of day': ['time', ...Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'))],
    'Daily trend': ['time', 'queries', 'nxdomain', 'names'],
    'Weekly trend': ['time', 'queries', 'nxdomain', 'apexes'],
    'Monthly trend': ['time', 'queries', 'nxdomain', 'apexes'],
    'Monthly ranking': ['year_month', 'rank_in_month', 'apex_domain', 'total_queries', 'unique_clients', 'avg_daily', 'nxdomain_count', 'category'],
    'NXDOMAIN responses': ['time', 'nxdomain', 'nxdomain_share'],
    'NXDOMAIN names': ['domain', 'apex', 'nxdomain', 'responses', 'nxdomain_share', 'clients'],
    'NXDOMAIN by apex': ['apex', 'nxdomain', 'failing_names', 'nxdomain_share', 'category'],
  },
  'latency-qoe.json': {
    'Median response time': ['median_us'],
    'Unanswered queries': ['unanswered_share'],
    'SERVFAIL share': ['servfail_share'],
    'REFUSED share': ['refused_share'],
    'Response time percentiles': ['time', 'p50', 'p90', 'p99'],
    'Response time per DNS server': ['server', 'dns_server', 'answered', 'unanswered', 'unanswered_share', 'mean', 'p50', 'p95', 'p99'],
    'Response time distribution': ['time', '<1 ms', '1-2 ms', '2-5 ms', '5-10 ms', '10-20 ms', '20-50 ms', '50-100 ms', '100-200 ms', '200-500 ms', '>=500 ms'],
    'Unanswered share': ['time', 'server', 'unanswered_share'],
    'SERVFAIL and REFUSED per second': ['time', 'servfail', 'refused'],
    'Slowest client prefixes': ['client_prefix', 'answered', 'unanswered', 'unanswered_share', 'p50', 'p95'],
    'Slowest domains': ['domain', 'responses', 'p50', 'p95', 'max', 'servers'],
    'Unanswered queries by name': ['domain', 'unanswered', 'queries', 'unanswered_share', 'clients'],
  },
  'security-signals.json': {
    Signals: ['signal', 'subject', 'client', 'server', 'score', 'window_start', 'window_end', 'evidence', 'examples', 'evaluated'],
    'Suspicious name shapes over time': ['time', 'long_names', 'random_names'],
    'NXDOMAIN and TXT/NULL over time': ['time', 'nxdomain', 'txt_null_queries'],
    'Long or random-looking names, by apex': ['apex', 'queries', 'long_names', 'random_names', 'suspicious_share', 'distinct_names', 'avg_label_chars', 'max_length', 'clients', 'examples'],
    'NXDOMAIN-heavy clients': ['client', 'responses', 'nxdomain', 'nxdomain_share', 'failing_names', 'examples'],
    'TXT and NULL queries per client': ['client', 'queries', 'txt_null', 'txt_null_share', 'apexes', 'examples'],
    'Apexes with many distinct names': ['apex', 'distinct_names', 'queries', 'names_per_query', 'nxdomain', 'clients', 'category'],
    'Rare TLDs': ['tld', 'queries', 'names', 'clients', 'examples'],
  },
  'health.json': {
    'DNS messages': ['dns_messages'],
    Dropped: ['dropped'],
    'Rows waiting': ['queue_rows'],
    'Last snapshot': ['last_snapshot_age'],
    'Ingest rate': ['time', 'counter', 'per_second'],
    'Drops per stage and reason': ['time', 'stage_reason', 'per_second'],
    'Malformed, unsupported and not DNS': ['time', 'kind', 'per_second'],
    'Writer queue': ['time', 'sensor', 'queue_rows'],
    'Insert latency': ['time', 'sensor', 'insert_latency'],
    'Counts in range': ['counter', 'reason', 'total'],
    Sensors: ['server', 'sensor', 'first_snapshot', 'last_snapshot', 'dns_messages', 'dropped', 'failed_inserts'],
  },
};

// The unit a column must be shown in, by its name.
function unitFor(column: string): string | null {
  if (/(^|_)share$/.test(column) || column === 'edns' || column === 'dnssec_ok' || column === 'names_per_query') return 'percentunit';
  if (/^p\d+$/.test(column) || column === 'mean' || column === 'median_us' || column === 'insert_latency') return 'µs';
  if (/_per_second$|^per_second$/.test(column)) return 'reqps';
  if (/^avg_(query|response)$|^max_response$/.test(column)) return 'bytes';
  return null;
}

function panelUnit(p: Panel, column: string): string | undefined {
  for (const o of p.fieldConfig.overrides) if (o.matcher.id === 'byName' && o.matcher.options === column) return o.properties.find((x) => x.id === 'unit')?.value as string;
  return p.fieldConfig.defaults.unit;
}

// ------------------------------------------------------------------ static checks

describe('Grafana provisioning and dashboard JSON', () => {
  it('provisions the ClickHouse datasource from the environment and a secret file, read-only user, HTTP on 8123', () => {
    const y = parseYaml(readFileSync(join(GRAFANA, 'provisioning/datasources/clickhouse.yaml'), 'utf8')) as {
      apiVersion: number;
      datasources: { uid: string; type: string; jsonData: Record<string, unknown>; secureJsonData: Record<string, unknown> }[];
    };
    expect(y.apiVersion).toBe(1);
    expect(y.datasources).toHaveLength(1);
    const d = y.datasources[0];
    expect({ uid: d.uid, type: d.type }).toEqual(DS);
    expect(d.jsonData).toMatchObject({ host: 'clickhouse', port: 8123, protocol: 'http', username: '${CLICKHOUSE_READER_USER}', defaultDatabase: '${CLICKHOUSE_DATABASE}' });
    expect(d.secureJsonData).toEqual({ password: '$__file{/run/secrets/clickhouse_reader_password}' });
  });

  it('provisions the dashboards from /etc/dnslens/dashboards', () => {
    const y = parseYaml(readFileSync(join(GRAFANA, 'provisioning/dashboards/dnslens.yaml'), 'utf8')) as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    expect(y.apiVersion).toBe(1);
    expect(y.providers).toHaveLength(1);
    expect(y.providers[0].type).toBe('file');
    expect(y.providers[0].options.path).toBe('/etc/dnslens/dashboards');
  });

  it('has the five dashboards and the alert rules (provisioning/alerting), as grafana/build.mjs writes them', () => {
    expect(FILES).toEqual(['health.json', 'latency-qoe.json', 'overview.json', 'security-signals.json', 'traffic-intelligence.json']);
    const r = spawnSync(process.execPath, [join(GRAFANA, 'build.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('gives every dashboard a unique uid, a time range, schema 39+, and a multi-select $server', () => {
    const uids = DASHBOARDS.map(([, d]) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const [f, d] of DASHBOARDS) {
      expect(d.schemaVersion, f).toBeGreaterThanOrEqual(39);
      expect(d.time, f).toEqual({ from: 'now-6h', to: 'now' });
      const server = d.templating.list.find((v) => v.name === 'server');
      expect(server, f).toMatchObject({ type: 'query', multi: true, includeAll: true, datasource: DS });
      expect(server!.query, f).toMatch(/^SELECT DISTINCT Server FROM (dns_traffic_\w+|dnslens_health)\b/);
    }
  });

  it('uses current panel types, the provisioned datasource on every panel and target, unique ids, and a grid without overlaps', () => {
    for (const [f, d] of DASHBOARDS) {
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size, f).toBe(ids.length);
      expect(COLUMNS[f] && Object.keys(COLUMNS[f]).sort(), f).toEqual(d.panels.map((p) => p.title).sort());
      for (const p of d.panels) {
        expect(PANEL_TYPES.has(p.type), `${f}: ${p.title} is a ${p.type}`).toBe(true);
        expect(p.datasource, p.title).toEqual(DS);
        expect(p.targets.length, p.title).toBeGreaterThan(0);
        for (const t of p.targets) expect(t.datasource, p.title).toEqual(DS);
        const g = p.gridPos;
        expect(g.x >= 0 && g.w > 0 && g.h > 0 && g.x + g.w <= 24, `${p.title} ${JSON.stringify(g)}`).toBe(true);
      }
      for (let i = 0; i < d.panels.length; i++) {
        for (let j = i + 1; j < d.panels.length; j++) {
          const a = d.panels[i].gridPos;
          const b = d.panels[j].gridPos;
          const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          expect(overlap, `${f}: "${d.panels[i].title}" overlaps "${d.panels[j].title}"`).toBe(false);
        }
      }
    }
  });

  it('marks the signals on every dashboard: an annotation query on dns_signals through the provisioned datasource, as a table', () => {
    for (const [f, d] of DASHBOARDS) {
      expect(d.annotations.list.map((a) => a.name), f).toEqual(['Signals']);
      const a = d.annotations.list[0];
      expect(a.datasource, f).toEqual(DS);
      expect(a.enable, f).toBe(true);
      expect(a.target, f).toMatchObject({ datasource: DS, editorType: 'sql', format: 1 });
      expect(a.target.rawSql, f).toMatch(/\bFROM dns_signals\b/);
    }
  });

  it('labels columns in their units: shares as percentunit, latencies in µs, rates in reqps, sizes in bytes', () => {
    for (const [f, d] of DASHBOARDS) {
      for (const p of d.panels) {
        for (const c of COLUMNS[f][p.title]) {
          const want = unitFor(c);
          if (want) expect(panelUnit(p, c), `${f}: ${p.title}: ${c}`).toBe(want);
        }
        // an override must name a column the query returns
        for (const o of p.fieldConfig.overrides) expect(COLUMNS[f][p.title], `${f}: ${p.title}`).toContain(o.matcher.options);
      }
    }
  });
});

describe('the macro expansion helper (test/grafana-expand.ts)', () => {
  // Grafana's interval: the range over max data points, rounded by Grafana's table (rangeutil's
  // roundInterval: up to 1.5x a step rounds down to it, e.g. 45 min -> 30m), then at least the
  // panel's minimum. The dashboards choose minute or hour rollups by it ($__interval_s < 3600).
  it('rounds the panel interval as Grafana does', () => {
    const H = 3_600_000;
    const D = 24 * H;
    expect(panelIntervalMs(0, 6 * H, '1m')).toBe(60_000); // 21.6 s -> 20s, at least 1m
    expect(panelIntervalMs(0, H, undefined)).toBe(5_000); // 3.6 s -> 5s
    expect(panelIntervalMs(0, 30 * D, '1m')).toBe(1_800_000); // 43.2 min -> 30m: minute rollups
    expect(panelIntervalMs(0, 60 * D, '1m')).toBe(H); // 86.4 min -> 1h: hour rollups
    expect(panelIntervalMs(0, 7 * D, '1m')).toBe(600_000); // 10.08 min -> 10m
  });

  // The plugin passes its own format to Grafana's template service: a multi-value variable
  // without an explicit format becomes 'a','b' (values joined in quotes, not escaped).
  it('formats a plain multi-value variable as the plugin does', () => {
    const ctx = { fromMs: 0, toMs: 3_600_000, intervalMs: 60_000, vars: { server: { all: false, values: ['ns-a', 'ns-b'] } } };
    expect(expand('Server IN ($server) OR Server IN (${server})', ctx)).toBe("Server IN ('ns-a','ns-b') OR Server IN ('ns-a','ns-b')");
    expect(expand('Server IN (${server:singlequote})', ctx)).toBe("Server IN ('ns-a','ns-b')");
    expect(expand('Server IN ($server)', { ...ctx, vars: { server: { all: false, values: ['ns-a'] } } })).toBe("Server IN ('ns-a')");
  });
});

// ------------------------------------------------------------------ the store, filled

// Captures (all under ../shared/data/pcap), the server they are stored under, and what they bring.
const CAPTURES: [string, string][] = [
  ['pktvisor__dns_udp_tcp_random.pcap', 'ns-lab'], // 5,824 messages, UDP and TCP, 7 qtypes, random names
  ['elastic-examples__dns-tunnel-iodine.pcap', 'ns-lab'], // an iodine tunnel: NULL queries, long random names
  ['arkime__dns-wiresharkrepo.pcap', 'ns-edge'], // NXDOMAIN, many qtypes
  ['dnscap__dns.pcap', 'ns-edge'], // repeated google.com queries: per-name percentiles
  ['dnsjit__pellets.pcap', 'ns-edge'], // IPv6 queries without responses: unanswered
  ['tcpdump__edns-opts.pcap', 'ns-edge'], // EDNS options and DO
  ['tcpdump__dns-badlabel.pcap', 'ns-edge'], // malformed
];

/** Moves a capture's events so its first one is at `startSec` (the rest keep their spacing). */
function shiftTo(startSec: number): EventTransform {
  let offset: number | null = null;
  return {
    name: 'shift',
    apply(events: DnsEvent[]): DnsEvent[] {
      if (offset === null && events.length > 0) offset = startSec - events[0].timeSec;
      for (const e of events) e.timeSec += offset!;
      return events;
    },
  };
}

const NOW_MS = Math.floor(Date.now() / 60_000) * 60_000;
const START = NOW_MS / 1000 - 3 * 3600; // first capture, 3 hours ago

describe('dashboards over the embedded store', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-grafana-test-'));
  let store: Store;
  const stats = new Stats();
  const healthTimes: number[] = [];

  beforeAll(async () => {
    store = await openStore({ dataDir: join(root, 'data'), database: 'dnslens' });
    await prepareSchema(store);
    // Two weeks of synthetic traffic before the captures: the daily and weekly trends get days.
    const earlier = traffic({ seed: 61, queries: 20_000, names: 3_000, clients: 200, startSec: START - 14 * 86400, spanSec: 14 * 86400 - 3600, servers: ['ns-lab', 'ns-edge'] });
    const synth = await createClickHouseOutput(store, { stats: new Stats(), batchSize: 50_000, delayMs: 60_000, spool: false });
    await runPipeline({ sources: [{ kind: 'events', events: (async function* () { yield earlier; })() }], transforms: [new Matcher({ timeoutMs: 2000, stats: new Stats() })], outputs: [synth] });
    await synth.close();

    // The captures through the CLI's path: decode, match, a skip list (drops to count), the writer.
    const ch = await createClickHouseOutput(store, { stats, batchSize: 2000, delayMs: 60_000, spool: false });
    const out = filteredOutput(ch, 2, { skip: parseDomainList('in-addr.arpa,suffix\n', 'test') }, stats);
    const health = new HealthReporter(store, { server: 'ns-lab', intervalMs: 0, stats, sensor: 'test:1', now: () => healthTimes[healthTimes.length - 1] });
    for (let i = 0; i < CAPTURES.length; i++) {
      const [file, server] = CAPTURES[i];
      const at = START + i * 900;
      await runPipeline({
        sources: [{ kind: 'frames', frames: readCapture(join(PCAP_DIR, file), stats), ctx: { stats, ports: new Set([53]), server, inputKind: 'pcap', inputName: file } }],
        transforms: [shiftTo(at), new Matcher({ timeoutMs: 2000, stats })],
        outputs: [out],
      });
      healthTimes.push((at + 60) * 1000);
      await health.snapshot(); // rows still queued: the queue gauge is not 0
      await ch.flush();
      healthTimes.push((at + 120) * 1000);
      await health.snapshot();
    }
    await ch.close();
    healthTimes.push((START + CAPTURES.length * 900) * 1000);
    await health.close();
    expect(health.failures).toBe(0);
    // The signals, as at the end of an import of each server's captures: the iodine tunnel fires
    // tunnel, pktvisor's load generator query-burst (test/signals-captures.test.ts).
    const settings = Object.fromEntries(SIGNAL_OPTIONS.map((o) => [o.name, parseValue(o, o.default)])) as unknown as SignalSettings;
    const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    for (const server of ['ns-lab', 'ns-edge']) {
      await evaluateSignals(store, { signals: SIGNALS, settings, server, from: START * 1000, until: (START + CAPTURES.length * 900) * 1000, log: quiet, sensor: 'test:1' });
    }
  }, 300_000);

  afterAll(async () => {
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function run(sql: string): Promise<{ meta: { name: string; type: string }[]; data: Record<string, unknown>[] }> {
    const text = await store.queryText(sql, 'JSON');
    return JSON.parse(text) as { meta: { name: string; type: string }[]; data: Record<string, unknown>[] };
  }

  async function serverValues(d: Dashboard): Promise<string[]> {
    const v = d.templating.list.find((x) => x.name === 'server')!;
    const r = await run(v.query);
    return r.data.map((row) => String(Object.values(row)[0]));
  }

  // Grafana's interval picks the rollups: 1m over 6 hours and 30m over 30 days read the minute
  // rollups, 1h over 60 days the hour rollups.
  const RANGES: [string, number, number][] = [
    ['the last 6 hours (minute rollups, DNS_LOG)', NOW_MS - 6 * 3600_000, NOW_MS],
    ['the last 30 days (minute rollups at 30m)', NOW_MS - 30 * 86400_000, NOW_MS],
    ['the last 60 days (hour rollups)', NOW_MS - 60 * 86400_000, NOW_MS],
  ];

  for (const [file, d] of DASHBOARDS) {
    for (const [rangeName, fromMs, toMs] of RANGES) {
      it(`${d.title}: every panel returns its columns and rows over ${rangeName}, all servers`, async () => {
        const servers = await serverValues(d);
        expect(servers.length).toBeGreaterThan(0);
        const vars: Record<string, Selection> = { server: { all: true, values: servers } };
        for (const p of d.panels) {
          for (const t of p.targets) {
            const sql = expand(t.rawSql, { fromMs, toMs, intervalMs: panelIntervalMs(fromMs, toMs, p.interval), vars });
            let r;
            try {
              r = await run(sql);
            } catch (err) {
              throw new Error(`${file}: "${p.title}" failed: ${(err as Error).message}\n${sql}`);
            }
            const names = r.meta.map((m) => m.name);
            expect(names, `${file}: ${p.title}`).toEqual(COLUMNS[file][p.title]);
            expect(r.data.length, `${file}: "${p.title}" returned no rows\n${sql}`).toBeGreaterThan(0);
            checkShape(file, p, r.meta);
          }
        }
      }, 120_000);
    }

    it(`${d.title}: every panel runs for one chosen server`, async () => {
      const servers = await serverValues(d);
      const vars: Record<string, Selection> = { server: { all: false, values: [servers[0]] } };
      const [, fromMs, toMs] = RANGES[0];
      for (const p of d.panels) {
        for (const t of p.targets) {
          const sql = expand(t.rawSql, { fromMs, toMs, intervalMs: panelIntervalMs(fromMs, toMs, p.interval), vars });
          expect(sql).toContain(`Server IN ('${servers[0]}')`);
          const r = await run(sql);
          expect(r.meta.map((m) => m.name), `${file}: ${p.title}`).toEqual(COLUMNS[file][p.title]);
        }
      }
    }, 120_000);
  }

  for (const [rangeName, fromMs, toMs] of RANGES) {
    it(`every dashboard's annotation query returns the signals as markers over ${rangeName}`, async () => {
      for (const [file, d] of DASHBOARDS) {
        const servers = await serverValues(d);
        for (const vars of [{ server: { all: true, values: servers } }, { server: { all: false, values: ['ns-lab'] } }]) {
          const a = d.annotations.list[0];
          const sql = expand(a.target.rawSql, { fromMs, toMs, intervalMs: panelIntervalMs(fromMs, toMs, undefined), vars });
          const r = await run(sql);
          expect(r.meta.map((m) => [m.name, m.type]), file).toEqual([
            ['time', "DateTime64(3, 'UTC')"],
            ['timeEnd', "DateTime64(3, 'UTC')"],
            ['text', 'String'],
            ['tags', 'String'],
          ]);
          expect(r.data.map((row) => row.tags).sort(), `${file}\n${sql}`).toEqual(['signal,query-burst,ns-lab', 'signal,tunnel,ns-lab']);
          const tunnel = r.data.find((row) => String(row.tags).includes('tunnel'))!;
          expect(String(tunnel.text)).toMatch(/^tunnel: pirate\.sea \(client 10\.0\.2\.30\), score [\d.]+\. queries 222, names 222, long names 43, .*\. e\.g\. ./);
          // the marker spans the window the signal looked at, on the (moved) capture's time
          expect(Date.parse(`${String(tunnel.time).replace(' ', 'T')}Z`)).toBeLessThanOrEqual((START + 900) * 1000);
          expect(Date.parse(`${String(tunnel.timeEnd).replace(' ', 'T')}Z`)).toBeGreaterThan((START + 900) * 1000);
        }
        const other = expand(d.annotations.list[0].target.rawSql, { fromMs, toMs, intervalMs: 60_000, vars: { server: { all: false, values: ['ns-edge'] } } });
        expect((await run(other)).data, file).toEqual([]);
      }
    });
  }

  it('lists the signals that fired in the Signals panel, highest score first, with their evidence', async () => {
    const d = DASHBOARDS.find(([f]) => f === 'security-signals.json')![1];
    const p = d.panels.find((x) => x.title === 'Signals')!;
    const [, fromMs, toMs] = RANGES[0];
    const rows = (await run(expand(p.targets[0].rawSql, { fromMs, toMs, intervalMs: 60_000, vars: { server: { all: true, values: ['ns-lab', 'ns-edge'] } } }))).data;
    expect(rows.map((r) => [r.signal, r.subject, r.client, r.server]).sort()).toEqual([
      ['query-burst', '192.168.0.189', '', 'ns-lab'],
      ['tunnel', 'pirate.sea', '10.0.2.30', 'ns-lab'],
    ]);
    const scores = rows.map((r) => Number(r.score));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const tunnel = rows.find((r) => r.signal === 'tunnel')!;
    expect(String(tunnel.evidence)).toMatch(/^queries 222, names 222, long names 43, max label \d+, tunnel types 222, bytes \d+$/);
    expect(String(tunnel.examples)).not.toBe('');
  });

  /** Time series start with a DateTime `time`; charts have numbers to draw; stats are numbers. */
  function checkShape(file: string, p: Panel, meta: { name: string; type: string }[]): void {
    const numeric = (t: string) => /^(Nullable\()?(U?Int|Float|Decimal)/.test(t);
    const where = `${file}: ${p.title} ${JSON.stringify(meta)}`;
    if (p.type === 'timeseries' || p.type === 'heatmap') {
      expect(meta[0].name, where).toBe('time');
      expect(meta[0].type, where).toMatch(/^DateTime/);
      const rest = meta.slice(1);
      expect(rest.filter((m) => !numeric(m.type)).length, where).toBeLessThanOrEqual(1); // a series label
      expect(rest.some((m) => numeric(m.type)), where).toBe(true);
    }
    if (p.type === 'stat' || p.type === 'bargauge') expect(meta.every((m) => numeric(m.type)), where).toBe(true);
    if (p.type === 'piechart' || p.type === 'barchart') {
      expect(numeric(meta[0].type), where).toBe(false);
      expect(meta.slice(1).every((m) => numeric(m.type)), where).toBe(true);
    }
  }

  it('finds the iodine tunnel among the security signals', async () => {
    const d = DASHBOARDS.find(([f]) => f === 'security-signals.json')![1];
    const vars = { server: { all: true, values: ['ns-lab', 'ns-edge'] } };
    const [, fromMs, toMs] = RANGES[0];
    const top = async (title: string) => {
      const p = d.panels.find((x) => x.title === title)!;
      return (await run(expand(p.targets[0].rawSql, { fromMs, toMs, intervalMs: 60_000, vars }))).data;
    };
    const shapes = await top('Long or random-looking names, by apex');
    expect(shapes.map((r) => r.apex)).toContain('pirate.sea');
    const txt = await top('TXT and NULL queries per client');
    expect(String(txt[0].examples)).toContain('pirate.sea');
    expect(Number(txt[0].txt_null_share)).toBe(1);
    const many = await top('Apexes with many distinct names');
    expect(many.map((r) => r.apex)).toEqual(expect.arrayContaining(['pirate.sea', 'test.com']));
  });

  it('stores health snapshots that add up to the run\'s counters', async () => {
    const rows = await store.query<{ Counter: string; Reason: string; total: string }>(
      "SELECT Counter, Reason, sum(Value) AS total FROM dnslens_health WHERE Server = 'ns-lab' AND Kind = 'counter' GROUP BY Counter, Reason",
    );
    const stored = new Map(rows.map((r) => [`${r.Counter}\t${r.Reason}`, Number(r.total)]));
    // every counter of the run, by reason, and nothing else
    expect(stored).toEqual(new Map([...counterTotals(stats)].filter(([k, v]) => v > 0 || ALWAYS.some((c) => k === `${c}\t`))));
    expect(stats.droppedBy.get('filter:clickhouse:skip-list')).toBeGreaterThan(0);
    expect(stats.malformed).toBeGreaterThan(0);
    // the gauges: rows waited while a capture was being written, none at the end
    const [q] = await store.query<{ peak: string; last: string }>("SELECT max(Value) AS peak, argMax(Value, Time) AS last FROM dnslens_health WHERE Counter = 'clickhouse.queued'");
    expect(Number(q.peak)).toBeGreaterThan(0);
    expect(Number(q.last)).toBe(0);
    const [l] = await store.query<{ n: string }>("SELECT count() AS n FROM dnslens_health WHERE Counter = 'clickhouse.latencyUs'");
    expect(Number(l.n)).toBeGreaterThan(0);
  });

  it('keeps a refused snapshot\'s increase for the next one', async () => {
    const s = new Stats();
    const h = new HealthReporter(store, { server: 'retry-test', intervalMs: 0, stats: s, sensor: 'test:2' });
    s.packets = 5;
    s.dnsMessages = 4;
    await store.exec('RENAME TABLE dnslens.dnslens_health TO dnslens.dnslens_health_away');
    try {
      await h.snapshot();
    } finally {
      await store.exec('RENAME TABLE dnslens.dnslens_health_away TO dnslens.dnslens_health');
    }
    expect(h.failures).toBe(1);
    s.packets = 7;
    await h.close();
    expect(h.snapshots).toBe(1);
    const rows = await store.query<{ Counter: string; total: string }>("SELECT Counter, sum(Value) AS total FROM dnslens_health WHERE Server = 'retry-test' GROUP BY Counter ORDER BY Counter");
    expect(rows.map((r) => [r.Counter, Number(r.total)])).toEqual([
      ['bytes', 0],
      ['dnsMessages', 4],
      ['malformed', 0],
      ['notDns', 0],
      ['packets', 7],
    ]);
  });
});

describe('the CLI writes dnslens_health', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-grafana-cli-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('stores a final snapshot with the run\'s DNS messages when the capture ends', () => {
    const main = join(ROOT, 'dist/src/cli/main.js');
    const dataDir = join(root, 'data');
    const capture = join(PCAP_DIR, 'arkime__dns-wiresharkrepo.pcap');
    const r1 = spawnSync(process.execPath, [main, '--pcapFile', capture, '--dataDir', dataDir, '--serverName', 'cli-test'], { encoding: 'utf8', timeout: 120_000 });
    expect(r1.status, r1.stderr).toBe(0);
    const r2 = spawnSync(
      process.execPath,
      [main, 'sql', "SELECT Server, Counter, sum(Value) AS total FROM dnslens_health WHERE Counter IN ('packets', 'dnsMessages') GROUP BY Server, Counter ORDER BY Counter", '--format', 'csv', '--dataDir', dataDir],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r2.status, r2.stderr).toBe(0);
    expect(r2.stdout).toBe('"Server","Counter","total"\n"cli-test","dnsMessages",38\n"cli-test","packets",38\n');
  }, 180_000);
});
