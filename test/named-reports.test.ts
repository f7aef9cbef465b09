// `dnslens report <name>` (issue #14): real captures imported with the CLI as a user would, into a
// store in Europe/Berlin, then every named report run on it. The command line first (help, errors,
// formats, hostile values), then the rollup path against the DNS_LOG path: the same report on the
// same stored capture must give the same rows whichever table answered it, for open, day-, hour-
// and minute-aligned windows, filters and another zone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findReport, REPORTS } from '../src/reports/catalog.js';
import { runReport, type ReportArgs, type ReportResult } from '../src/reports/named.js';
import { aligned, daysBefore, parseTime } from '../src/reports/time.js';
import { openStore, type Store } from '../src/store/connection.js';
import { dnslens, sqlValue } from './import-helpers.js';
import { importCaptures, ODD_SERVER, ZONE } from './report-store.js';

const root = mkdtempSync(join(tmpdir(), 'dnslens-named-reports-'));
const dataDir = join(root, 'data');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function report(args: string[]) {
  return dnslens(['report', '--dataDir', dataDir, ...args]);
}

beforeAll(() => importCaptures(dataDir), 120_000);

describe('dnslens report on the command line', () => {
  it('--help lists every report, one line each', () => {
    const r = dnslens(['report', '--help']);
    expect(r.code).toBe(0);
    const w = Math.max(...REPORTS.map((x) => x.name.length));
    for (const x of REPORTS) expect(r.stdout.split('\n')).toContain(`  ${x.name.padEnd(w)}  ${x.description}`);
  });

  it('no name is still the summary; an unknown name, a wrong --by or no store is a clear error with exit 2', () => {
    const summary = report(['--top', '3']);
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stdout).toContain('Top 3 domains');
    const unknown = report(['tops']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no report "tops"');
    const by = report(['top', '--by', 'client']);
    expect(by.code).toBe(2);
    expect(by.stderr).toContain('--by: "client" is not one of apex, name');
    const none = dnslens(['report', 'latency', '--dataDir', join(root, 'never-captured')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no dnslens store in');
  });

  it('prints a table, CSV or JSON, and --explain says on stderr which table each part read', () => {
    const table = report(['rcodes', '--server', 'arkime', '--explain']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^time zone +Europe\/Berlin$/m);
    expect(table.stdout).toMatch(/^NXDOMAIN +6 +31\.6%$/m); // 6 of arkime's 19 responses
    expect(table.stderr).toBe('rcodes rcodes: read dns_traffic_day: the window is whole days in Europe/Berlin\n');
    const csv = report(['rcodes', '--server', 'arkime', '--format', 'csv']);
    expect(csv.stdout.split('\n').slice(0, 3)).toEqual(['rcode,responses,share', 'NOERROR,13,0.6842105263157895', 'NXDOMAIN,6,0.3157894736842105']);
    const json = JSON.parse(report(['nxdomain', '--server', 'arkime', '--format', 'json', '--since', '2005-03-30 10:00']).stdout) as ReportResult;
    expect(json.since).toBe('2005-03-30T08:00:00.000Z'); // 10:00 in Berlin (summer time)
    expect(json.sections.map((s) => [s.name, s.table])).toEqual([['apexes', 'DNS_LOG'], ['clients', 'DNS_LOG']]);
    expect(json.sections[1].rows).toEqual([{ client: '192.168.170.56', queries: 5, nxdomain: 5, share: 1 }, { client: '192.168.170.8', queries: 14, nxdomain: 1, share: 1 / 14 }]);
  });

  it('draws the heatmap with block characters; csv gives its numbers', () => {
    const drawn = report(['heatmap', '--server', 'arkime']);
    expect(drawn.stdout).toMatch(/^10 {2}█{40} +19$/m); // arkime's 19 queries, 10:47-10:52 Berlin time
    expect(drawn.stdout).toMatch(/^Wed {2}(· {2}){10}██/m); // 2005-03-30 was a Wednesday
    const csv = report(['heatmap', '--server', 'arkime', '--format', 'csv']).stdout;
    expect(csv).toContain('# hours\nhour,queries,share\n');
    expect(csv).toMatch(/^10,19,1$/m);
    expect(csv).toMatch(/^10,0,0,19,0,0,0,0$/m); // the weekday grid: hour, mon..sun
  });

  it('treats hostile --server, --client and --since values as data', () => {
    const before = sqlValue(dataDir, 'SELECT count() FROM DNS_LOG');
    const hostile = ["'; DROP TABLE DNS_LOG; --", "x\\' OR 1=1 --", '\\', "')) OR ((1=1", '{server:String}'];
    for (const v of hostile) {
      for (const name of ['clients', 'top', 'latency']) {
        for (const flag of ['--server', '--client']) {
          const r = report([name, flag, v, '--format', 'json']);
          expect(r.code, `${name} ${flag} ${v}: ${r.stderr}`).toBe(0);
          const out = JSON.parse(r.stdout) as ReportResult;
          // nothing matches such a value: every list is empty (latency's totals row counts 0)
          const [first, ...rest] = out.sections;
          if (name === 'latency') expect(first.rows).toEqual([{ answered: 0, unanswered: 0, unanswered_share: null, p50: null, p95: null, p99: null }]);
          else expect(first.rows).toEqual([]);
          expect(rest.flatMap((x) => x.rows)).toEqual([]);
        }
      }
      const since = report(['top', '--since', v]);
      expect(since.code).toBe(2);
      expect(since.stderr).toBe(`dnslens: since: not a time: ${v}\n`);
    }
    // the capture stored under a server name full of quotes is found by that very name
    const odd = JSON.parse(report(['qtypes', '--server', ODD_SERVER, '--format', 'json']).stdout) as ReportResult;
    expect(odd.sections[0].rows.reduce((n, r) => n + Number(r.messages), 0)).toBe(Number(sqlValue(dataDir, "SELECT count() FROM DNS_LOG WHERE InputName LIKE '%pktvisor%'")));
    expect(sqlValue(dataDir, "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'DNS_LOG'")).toBe('1');
    expect(sqlValue(dataDir, 'SELECT count() FROM DNS_LOG')).toBe(before);
  }, 300_000);
});

describe('the rollups answer as DNS_LOG does', () => {
  let store: Store;
  beforeAll(async () => {
    store = await openStore({ dataDir });
  });
  afterAll(async () => {
    await store?.close();
  });

  /** The report as chosen, and again from DNS_LOG only: the same rows; returns the tables read. */
  async function same(name: string, args: ReportArgs): Promise<string[]> {
    const full = { limit: 1000, ...args };
    const chosen = await runReport(store, findReport(name), full);
    const raw = await runReport(store, findReport(name), { ...full, logOnly: true });
    expect(raw.sections.map((s) => s.table).every((t) => t === 'DNS_LOG')).toBe(true);
    expect(chosen.sections.map((s) => [s.name, s.rows]), `${name} ${JSON.stringify(args)}`).toEqual(raw.sections.map((s) => [s.name, s.rows]));
    expect(chosen.sections.some((s) => s.rows.length > 0), `${name} ${JSON.stringify(args)} found nothing`).toBe(true);
    return chosen.sections.map((s) => s.table);
  }

  // [report, --by, the tables for the whole store, for whole hours, for whole minutes]
  const CASES: [string, string | undefined, string[], string[], string[]][] = [
    ['top', 'apex', ['dns_apex_week'], ['dns_apex_hour'], ['DNS_LOG']],
    ['top', 'name', ['dns_domain_day'], ['DNS_LOG'], ['DNS_LOG']],
    ['categories', undefined, ['dns_apex_week'], ['dns_apex_hour'], ['DNS_LOG']],
    ['heatmap', undefined, ['dns_names_hour', 'dns_names_hour'], ['dns_names_hour', 'dns_names_hour'], ['dns_names_minute', 'dns_names_minute']],
    ['nxdomain', 'address', ['dns_domain_day', 'DNS_LOG'], ['DNS_LOG', 'DNS_LOG'], ['DNS_LOG', 'DNS_LOG']],
    ['nxdomain', 'prefix', ['dns_domain_day', 'dns_clients_day'], ['DNS_LOG', 'dns_clients_hour'], ['DNS_LOG', 'dns_clients_minute']],
    ['latency', 'prefix', ['dns_latency_day', 'dns_latency_day', 'dns_clients_day', 'DNS_LOG'], ['dns_latency_hour', 'dns_latency_hour', 'dns_clients_hour', 'DNS_LOG'], ['dns_latency_minute', 'dns_latency_minute', 'dns_clients_minute', 'DNS_LOG']],
    ['latency', 'address', ['dns_latency_day', 'dns_latency_day', 'DNS_LOG', 'DNS_LOG'], ['dns_latency_hour', 'dns_latency_hour', 'DNS_LOG', 'DNS_LOG'], ['dns_latency_minute', 'dns_latency_minute', 'DNS_LOG', 'DNS_LOG']],
    ['clients', 'address', ['DNS_LOG'], ['DNS_LOG'], ['DNS_LOG']],
    ['clients', 'prefix', ['dns_clients_day'], ['dns_clients_hour'], ['dns_clients_minute']],
    ['qtypes', undefined, ['dns_traffic_day'], ['dns_traffic_hour'], ['dns_traffic_minute']],
    ['rcodes', undefined, ['dns_traffic_day'], ['dns_traffic_hour'], ['dns_traffic_minute']],
  ];
  // arkime's capture (NXDOMAIN) in Berlin time: 10:47:46-10:52:25 on 2005-03-30
  const HOUR = { since: '2005-03-30 10:00', until: '2005-03-30 11:00' };
  const MINUTES = { since: '2005-03-30 10:47', until: '2005-03-30 10:53' };

  for (const [name, by, whole, hour, minute] of CASES) {
    it(`${name}${by ? ` --by ${by}` : ''}: the same rows from ${whole.join(', ')}, from ${hour.join(', ')} and from ${minute.join(', ')}`, async () => {
      expect(await same(name, { by })).toEqual(whole);
      expect(await same(name, { by, ...HOUR })).toEqual(hour);
      expect(await same(name, { by, ...MINUTES })).toEqual(minute);
      // a window that cuts a minute, and a filter no rollup keeps, read DNS_LOG
      expect(new Set(await same(name, { by, since: '2005-03-30 10:47:50', until: '2005-03-30 10:52' }))).toEqual(new Set(['DNS_LOG']));
      expect(new Set(await same(name, { by, client: '192.168.170.0/24' }))).toEqual(new Set(['DNS_LOG']));
      // a server by name is in every rollup; by address only in the latency ones
      expect(await same(name, { by, server: 'arkime' })).toEqual(whole);
      expect(await same(name, { by, server: 'arkime', ...MINUTES })).toEqual(minute);
      expect(await same(name, { by, server: '217.13.4.24' })).toEqual(whole.map((t) => (t.startsWith('dns_latency_') ? t : 'DNS_LOG')));
    });
  }

  it('new-domains: the same rows from dns_domain_day and DNS_LOG, from the look-back on', async () => {
    // pellets (2019-10-11) is new against the 7 days before; with 6000 days' look-back the apexes it shares with arkime's 2005 capture are not
    const week = { since: '2019-10-11', until: '2019-10-12' };
    expect(await same('new-domains', week)).toEqual(['dns_domain_day']);
    expect(await same('new-domains', { ...week, by: 'name' })).toEqual(['dns_domain_day']);
    const r = await runReport(store, findReport('new-domains'), { ...week, limit: 1000 });
    const long = await runReport(store, findReport('new-domains'), { ...week, limit: 1000, lookback: '6000d' });
    expect(await same('new-domains', { ...week, lookback: '6000d' })).toEqual(['dns_domain_day']);
    const apexes = (x: ReportResult) => x.sections[0].rows.map((row) => row.domain);
    expect(apexes(r)).toContain('google.com');
    expect(apexes(long)).not.toContain('google.com'); // queried in arkime's capture in 2005
    expect(apexes(long).length).toBe(apexes(r).length - 1);
    expect(new Set(await same('new-domains', { since: '2019-10-11 14:28', until: '2019-10-11 14:29' }))).toEqual(new Set(['DNS_LOG']));
  });

  it("in another zone than the store's, only the minute rollups and DNS_LOG answer, with the same rows", async () => {
    expect(await same('heatmap', { timezone: 'UTC' })).toEqual(['dns_names_minute', 'dns_names_minute']);
    expect(await same('qtypes', { timezone: 'Asia/Kolkata', since: '2005-03-30 14:17', until: '2005-03-30 14:23' })).toEqual(['dns_traffic_minute']);
    expect(await same('top', { timezone: 'UTC' })).toEqual(['DNS_LOG']);
    const r = await runReport(store, findReport('top'), { timezone: 'UTC' });
    expect(r.sections[0].why).toBe("the rollups' hours and days are Europe/Berlin's, this report's are UTC's");
  });

  it('counts what the capture holds (PROVENANCE.md: arkime has 19 queries, 6 NXDOMAIN)', async () => {
    const run = async (name: string, args: ReportArgs = {}) => (await runReport(store, findReport(name), { server: 'arkime', limit: 100, ...args })).sections;
    const [rcodes] = await run('rcodes');
    expect(rcodes.rows.map((r) => [r.rcode, r.responses])).toEqual([['NOERROR', 13], ['NXDOMAIN', 6]]);
    const [apexes] = await run('top');
    expect(apexes.rows.reduce((n, r) => n + Number(r.queries), 0)).toBe(19);
    expect(apexes.rows.find((r) => r.domain === 'google.com')).toMatchObject({ category: 'search', provider: 'Google', cache_priority: 3 });
    const [hours] = await run('heatmap');
    expect(hours.rows.filter((r) => Number(r.queries) > 0)).toEqual([{ hour: '10', queries: 19, share: 1 }]);
    const [nxApexes, nxClients] = await run('nxdomain');
    expect(nxApexes.rows.reduce((n, r) => n + Number(r.nxdomain), 0)).toBe(6);
    expect(nxClients.rows.reduce((n, r) => n + Number(r.nxdomain), 0)).toBe(6);
  });
});

describe('report times', () => {
  const now = Date.parse('2024-03-31T12:00:00Z'); // Berlin moved to summer time at 01:00 UTC that day
  it('read relative times back to the start of their minute, hour or day, across a DST change', () => {
    expect(new Date(parseTime('90m', 'since', ZONE, now)).toISOString()).toBe('2024-03-31T10:30:00.000Z');
    expect(new Date(parseTime('24h', 'since', ZONE, now)).toISOString()).toBe('2024-03-30T12:00:00.000Z'); // 13:00 CET
    expect(new Date(parseTime('1d', 'since', ZONE, now)).toISOString()).toBe('2024-03-29T23:00:00.000Z'); // midnight CET
    expect(new Date(parseTime('1w', 'since', ZONE, now)).toISOString()).toBe('2024-03-23T23:00:00.000Z');
    expect(new Date(parseTime('2024-04-01 00:00', 'until', ZONE, now)).toISOString()).toBe('2024-03-31T22:00:00.000Z'); // midnight CEST
    expect(new Date(daysBefore(Date.parse('2024-03-31T22:00:00Z'), 7, ZONE)).toISOString()).toBe('2024-03-24T23:00:00.000Z');
    expect(() => parseTime('yesterday', 'since', ZONE, now)).toThrow('since: not a time: yesterday');
  });

  it("tell whether a bound starts a rollup's minute, hour or day in a zone", () => {
    const at = (iso: string) => Date.parse(iso);
    expect(aligned(at('2024-03-29T23:00:00Z'), 'day', ZONE)).toBe(true);
    expect(aligned(at('2024-03-29T23:00:00Z'), 'day', 'UTC')).toBe(false);
    expect(aligned(at('2024-03-29T12:30:00Z'), 'hour', 'Asia/Kolkata')).toBe(true); // 18:00 there
    expect(aligned(at('2024-03-29T12:00:00Z'), 'hour', 'Asia/Kolkata')).toBe(false);
    expect(aligned(at('2024-03-29T12:01:00Z'), 'minute', ZONE)).toBe(true);
    expect(aligned(at('2024-03-29T12:01:00.5Z'), 'minute', ZONE)).toBe(false);
  });
});
