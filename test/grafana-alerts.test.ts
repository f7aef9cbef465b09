// The alert rules Grafana provisions on dns_signals (grafana/provisioning/alerting/, written by
// grafana/build.mjs): the file as Grafana's file provisioning reads it (apiVersion 1, groups of
// rules with uid, title, condition, data, states, for, labels, annotations), and every rule's query
// run, with the plugin's macros expanded as Grafana expands them for an alert (its relative time
// range back from now), against a store the CLI filled from the iodine capture, which fires
// `tunnel` (test/signals-captures.test.ts). The dashboards' annotations and Signals panel are run by
// test/grafana.test.ts; here they run once more over the CLI's store, on the capture's own time.
import { readdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SIGNALS } from '../src/signals/catalog.js';
import { openStore, type Store } from '../src/store/connection.js';
import { PCAP_DIR } from './data.js';
import { expand } from './grafana-expand.js';
import { dnslens } from './import-helpers.js';

const ROOT = join(import.meta.dirname, '..');
const GRAFANA = join(ROOT, 'grafana');
const ALERTING = join(GRAFANA, 'provisioning/alerting');

interface Query {
  refId: string;
  queryType?: string;
  relativeTimeRange?: { from: number; to: number };
  datasourceUid: string;
  model: Record<string, unknown> & { refId: string; rawSql?: string; type?: string; expression?: string; conditions?: { evaluator: { type: string; params: number[] } }[] };
}
interface Rule {
  uid: string;
  title: string;
  condition: string;
  data: Query[];
  noDataState: string;
  execErrState: string;
  for: string;
  isPaused?: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface Group {
  orgId: number;
  name: string;
  folder: string;
  interval: string;
  rules: Rule[];
}

const FILES = readdirSync(ALERTING).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
const PARSED = FILES.map((f) => [f, parseYaml(readFileSync(join(ALERTING, f), 'utf8'))] as [string, { apiVersion: number; groups: Group[] }]);
const GROUPS = PARSED.flatMap(([, y]) => y.groups);
const RULES = GROUPS.flatMap((g) => g.rules);

// The provisioned datasources, by uid.
const DATASOURCES = new Set(
  readdirSync(join(GRAFANA, 'provisioning/datasources')).flatMap((f) => (parseYaml(readFileSync(join(GRAFANA, 'provisioning/datasources', f), 'utf8')) as { datasources: { uid: string }[] }).datasources.map((d) => d.uid)),
);

/** A Prometheus-style duration as Grafana's provisioning parses it (model.ParseDuration), in seconds. */
function seconds(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  return (Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 }[m[2] as 's']);
}

// ------------------------------------------------------------------ the file

describe('the alert rules file, as Grafana provisions it', () => {
  it('is one YAML file of rule groups, apiVersion 1, in the folder "dnslens alerts"', () => {
    expect(FILES).toEqual(['dnslens-signals.yaml']);
    for (const [f, y] of PARSED) {
      expect(y.apiVersion, f).toBe(1);
      expect(Object.keys(y).sort(), f).toEqual(['apiVersion', 'groups']);
    }
    expect(GROUPS.map((g) => g.name)).toEqual(['signals-security', 'signals-qoe']);
    for (const g of GROUPS) {
      expect(g.orgId).toBe(1);
      // not the dashboards' folder: Grafana provisions alerting first and would make a second "dnslens"
      const dashboards = parseYaml(readFileSync(join(GRAFANA, 'provisioning/dashboards/dnslens.yaml'), 'utf8')) as { providers: { folder: string }[] };
      expect(g.folder).toBe('dnslens alerts');
      expect(dashboards.providers.map((p) => p.folder)).not.toContain(g.folder);
      expect(seconds(g.interval) % 10, 'a multiple of the scheduler base interval (10s)').toBe(0);
      expect(g.rules.length).toBeGreaterThan(0);
    }
  });

  it('has one rule per signal of the catalog, each with a unique uid and a unique title', () => {
    const uids = RULES.map((r) => r.uid);
    expect(new Set(uids).size).toBe(uids.length);
    for (const u of uids) expect(u, 'Grafana uids: at most 40 letters, digits, - and _').toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    const titles = RULES.map((r) => r.title);
    expect(new Set(titles).size, 'titles are unique within a folder').toBe(titles.length);
    expect(RULES.map((r) => r.uid).sort()).toEqual(SIGNALS.map((s) => `dnslens-signal-${s.name}`).sort());
    for (const r of RULES) {
      const signal = r.uid.replace('dnslens-signal-', '');
      const sql = r.data.find((q) => q.datasourceUid !== '__expr__')!.model.rawSql!;
      expect(sql, r.uid).toContain(`Signal = '${signal}'`);
    }
  });

  it('gives every rule a condition that names one of its queries, datasources that exist, and valid states', () => {
    for (const r of RULES) {
      const refIds = r.data.map((q) => q.refId);
      expect(new Set(refIds).size, r.uid).toBe(refIds.length);
      expect(refIds, r.uid).toContain(r.condition);
      expect(['NoData', 'Alerting', 'OK', 'KeepLast'], r.uid).toContain(r.noDataState);
      expect(['Error', 'Alerting', 'OK', 'KeepLast'], r.uid).toContain(r.execErrState);
      expect(seconds(r.for), r.uid).toBeGreaterThanOrEqual(0);
      expect(r.isPaused ?? false, r.uid).toBe(false);
      for (const q of r.data) {
        expect(q.model.refId, `${r.uid} ${q.refId}`).toBe(q.refId);
        if (q.datasourceUid === '__expr__') {
          expect(q.model.datasource, r.uid).toEqual({ type: '__expr__', uid: '__expr__' });
          // an expression reads queries of the same rule
          expect(refIds, r.uid).toContain(q.model.expression);
          expect(q.model.expression, r.uid).not.toBe(q.refId);
        } else {
          expect(DATASOURCES.has(q.datasourceUid), `${r.uid}: datasource ${q.datasourceUid}`).toBe(true);
          expect(q.model.datasource, r.uid).toEqual({ type: 'grafana-clickhouse-datasource', uid: q.datasourceUid });
          // the plugin's query: raw SQL as a table (format 1), read by Grafana as labelled numbers
          expect(q.model, r.uid).toMatchObject({ editorType: 'sql', format: 1, queryType: 'table' });
          expect(q.relativeTimeRange!.from, r.uid).toBeGreaterThan(q.relativeTimeRange!.to);
          expect(q.relativeTimeRange!.to, r.uid).toBeGreaterThanOrEqual(0);
          expect(q.model.rawSql, r.uid).toMatch(/\$__timeFilter\(Time\)/);
        }
      }
      // the condition: a threshold on the query, firing on any row
      const cond = r.data.find((q) => q.refId === r.condition)!;
      expect(cond.model.type, r.uid).toBe('threshold');
      expect(cond.model.conditions, r.uid).toEqual([{ evaluator: { type: 'gt', params: [0] } }]);
    }
  });

  it('labels the rules statically (Grafana fills $VAR in labels) and templates annotations only from the query\'s labels', () => {
    for (const r of RULES) {
      expect(Object.keys(r.labels).sort(), r.uid).toEqual(['family', 'source']);
      for (const v of Object.values(r.labels)) expect(v, r.uid).toMatch(/^[\w.-]+$/);
      expect(Object.keys(r.annotations).sort(), r.uid).toEqual(['description', 'summary']);
      for (const text of Object.values(r.annotations)) {
        expect(text, 'no ${VAR}: newer Grafana fills braced variables in annotations').not.toContain('${');
        // balanced Go template actions
        expect((text.match(/\{\{/g) ?? []).length, r.uid).toBe((text.match(/\}\}/g) ?? []).length);
      }
    }
  });

  it('is what grafana/build.mjs writes, and the compose stack mounts it where Grafana reads alerting provisioning', () => {
    // build.mjs --check is run by test/grafana.test.ts over every file it writes; here the mount
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: { grafana: { volumes: string[] } } };
    expect(compose.services.grafana.volumes).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
    expect(readFileSync(join(ALERTING, FILES[0]), 'utf8')).toMatch(/^# Grafana alert rules on the signals/);
  });
});

// ------------------------------------------------------------------ the queries, on a store that holds a signal

describe('the alert rules, annotations and Signals panel over a store the CLI filled from the iodine tunnel', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-grafana-alerts-'));
  const dataDir = join(root, 'data');
  let store: Store;
  let importedAt = 0; // wall clock before the import: no signal was stored before it

  beforeAll(async () => {
    importedAt = Date.now();
    const r = dnslens(['--pcapFile', join(PCAP_DIR, 'elastic-examples__dns-tunnel-iodine.pcap'), '--dataDir', dataDir, '--serverName', 'iodine', '--timezone', 'UTC']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('"msg":"signal tunnel: pirate.sea (client 10.0.2.30)');
    // Grafana's time filter has whole seconds: evaluate in a later second than the row's
    await new Promise((done) => setTimeout(done, 1100));
    store = await openStore({ dataDir, database: 'default' }); // the CLI's default database (the datasource names it: tables unqualified)
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function run(sql: string): Promise<{ meta: { name: string; type: string }[]; data: Record<string, unknown>[] }> {
    return JSON.parse(await store.queryText(sql, 'JSON')) as { meta: { name: string; type: string }[]; data: Record<string, unknown>[] };
  }

  /** A rule's query as Grafana runs it at `nowMs`: over its relative time range, no variables. */
  function ruleSql(r: Rule, nowMs: number): { sql: string; query: Query } {
    const query = r.data.find((q) => q.datasourceUid !== '__expr__')!;
    const { from, to } = query.relativeTimeRange!;
    const sql = expand(query.model.rawSql!, { fromMs: nowMs - from * 1000, toMs: nowMs - to * 1000, intervalMs: Number(query.model.intervalMs ?? 1000), vars: {} });
    return { sql, query };
  }

  /** What the rule fires now: Grafana's reading of a table (one number, text columns as labels), through the threshold. */
  async function firing(r: Rule, nowMs: number): Promise<Record<string, string>[]> {
    const { sql } = ruleSql(r, nowMs);
    const res = await run(sql);
    const numeric = res.meta.filter((m) => /^(Nullable\()?(U?Int|Float|Decimal)/.test(m.type));
    expect(numeric.map((m) => m.name), `${r.uid}: one number`).toEqual(['fired']);
    for (const m of res.meta) if (m.name !== 'fired') expect(m.type, `${r.uid}: ${m.name} becomes a label`).toMatch(/^(LowCardinality\()?String\)?$/);
    const labelSets = res.data.map((row) => JSON.stringify(Object.entries(row).filter(([k]) => k !== 'fired')));
    expect(new Set(labelSets).size, `${r.uid}: each alert instance has its own labels`).toBe(labelSets.length);
    const cond = r.data.find((q) => q.refId === r.condition)!.model.conditions![0].evaluator;
    return res.data.filter((row) => Number(row.fired) > cond.params[0]).map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, String(v)])));
  }

  it('fires the tunnel rule on pirate.sea for its client, with the evidence, and no other rule', async () => {
    const now = Date.now();
    const fired: [string, Record<string, string>[]][] = [];
    for (const r of RULES) fired.push([r.uid, await firing(r, now)]);
    expect(fired.filter(([, rows]) => rows.length > 0).map(([uid]) => uid)).toEqual(['dnslens-signal-tunnel']);
    const [alert] = fired.find(([uid]) => uid === 'dnslens-signal-tunnel')![1];
    expect(alert).toMatchObject({ signal: 'tunnel', subject: 'pirate.sea', client: '10.0.2.30', server: 'iodine', fired: '1' });
    expect(alert.evidence).toMatch(/^queries 222, names 222, long names 43, max label 192, tunnel types 222, bytes 52024$/);
    expect(alert.examples).not.toBe(''); // iodine's names, cut to 60 characters (before their apex)
    expect(alert.window_utc).toBe('2010-08-21 02:00:00 - 2010-08-21 03:00:00');
    expect(Number(alert.score)).toBeGreaterThan(1);
    // every label an annotation names is one the query returns
    const rule = RULES.find((r) => r.uid === 'dnslens-signal-tunnel')!;
    for (const text of Object.values(rule.annotations)) {
      for (const [, label] of text.matchAll(/\$labels\.(\w+)/g)) expect(Object.keys(alert), `${rule.uid}: $labels.${label}`).toContain(label);
    }
  });

  it('reads the rows stored in its range of wall clock only: nothing before the import, nothing once the range has passed', async () => {
    const tunnel = RULES.find((r) => r.uid === 'dnslens-signal-tunnel')!;
    expect(await firing(tunnel, importedAt - 1000)).toEqual([]);
    const range = tunnel.data.find((q) => q.refId === 'A')!.relativeTimeRange!.from * 1000;
    expect(await firing(tunnel, Date.now() + range + 2000)).toEqual([]);
  });

  it('marks the signal on the dashboards over the capture\'s own time, and lists it in the Signals panel', async () => {
    const security = JSON.parse(readFileSync(join(GRAFANA, 'dashboards/security-signals.json'), 'utf8')) as {
      annotations: { list: { target: { rawSql: string } }[] };
      panels: { title: string; targets: { rawSql: string }[] }[];
    };
    const fromMs = Date.parse('2010-08-21T00:00:00Z');
    const toMs = Date.parse('2010-08-21T06:00:00Z');
    for (const [values, all] of [[['iodine'], true], [['iodine'], false]] as [string[], boolean][]) {
      const ctx = { fromMs, toMs, intervalMs: 60_000, vars: { server: { all, values } } };
      const marks = (await run(expand(security.annotations.list[0].target.rawSql, ctx))).data;
      expect(marks.map((m) => [m.time, m.timeEnd, m.tags])).toEqual([['2010-08-21 02:00:00.000', '2010-08-21 03:00:00.000', 'signal,tunnel,iodine']]);
      expect(String(marks[0].text)).toMatch(/^tunnel: pirate\.sea \(client 10\.0\.2\.30\), score [\d.]+\. queries 222, names 222, long names 43, max label 192, tunnel types 222, bytes 52024\. e\.g\. /);
      const panel = security.panels.find((p) => p.title === 'Signals')!;
      const rows = (await run(expand(panel.targets[0].rawSql, ctx))).data;
      expect(rows.map((x) => [x.signal, x.subject, x.client, x.server])).toEqual([['tunnel', 'pirate.sea', '10.0.2.30', 'iodine']]);
    }
    // another server chosen, or a range that misses the window: nothing
    const other = { fromMs, toMs, intervalMs: 60_000, vars: { server: { all: false, values: ['elsewhere'] } } };
    expect((await run(expand(security.annotations.list[0].target.rawSql, other))).data).toEqual([]);
    const later = { fromMs: Date.parse('2010-08-21T03:00:01Z'), toMs: Date.parse('2010-08-21T09:00:00Z'), intervalMs: 60_000, vars: { server: { all: true, values: ['iodine'] } } };
    expect((await run(expand(security.annotations.list[0].target.rawSql, later))).data).toEqual([]);
  });
});
