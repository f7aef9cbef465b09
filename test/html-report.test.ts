// `dnslens report --html FILE` (issue #14): the page of the named reports, written by the CLI from
// real captures (test/report-store.ts) and one capture of hostile names, then opened from disk in
// Debian's headless Chromium (driven by playwright-core) with every request that is not the file
// itself cut off. Every chart must draw, with no console or page error and no network request;
// the page must hold the very rows `--format json` gives; names built to break out of the page must
// show as text. The first page's screenshot is left in /tmp/dnslens-report.png to look at.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ReportResult } from '../src/reports/named.js';
import { dnslens } from './import-helpers.js';
import { describeWithPeers, which } from './peers.js';
import { importCapture, importCaptures, ZONE } from './report-store.js';
import { dnsQuery, dnsResponse, frameAt, ipv4, reverse, udp, V4, writePcap } from './wire.js';

const SCREENSHOT = '/tmp/dnslens-report.png';
// Each tries to end the data's script element, or to become markup that runs code.
const HOSTILE_SERVER = `</script><img/src=x/onerror=window.pwned=1>"'lab`;
const HOSTILE_NAMES = [
  '</script><script>window.pwned=2</script>.evil.example',
  `www.</script><b>"'.example`, // its apex is the hostile part: </script><b>"'.example
  `"'<img/src=x/onerror=window.pwned=3>.x.example`,
];
// The sections drawn as charts, when each has rows; the rest are tables.
const CHARTED = [
  'top.apexes', 'categories.categories', 'heatmap.hours', 'heatmap.weekdays', 'nxdomain.apexes', 'nxdomain.clients',
  'latency.servers', 'latency.clients', 'clients.clients', 'qtypes.qtypes', 'rcodes.rcodes',
];

interface PageSection {
  part: string;
  title: string;
  read: string;
  rows: Record<string, unknown>[];
  chart: unknown;
}
interface PageData {
  title: string;
  pairs: [string, string][];
  reports: { name: string; sections: PageSection[] }[];
}

/** What a page showed: its data, its charts as drawn, its tables, and what went wrong. */
interface Seen {
  data: PageData;
  charts: { part: string; drawn: boolean; width: number; height: number; points: number }[];
  tables: number[]; // rows in each table
  header: string[][]; // the page's label/value pairs, as shown
  errors: string[];
  requests: string[]; // anything but the page's own file
  page: Page;
}

describeWithPeers('dnslens report --html in headless Chromium', ['chromium'], () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-html-report-'));
  const dataDir = join(root, 'data');
  let browser: Browser;

  beforeAll(async () => {
    importCaptures(dataDir);
    // each hostile name queried and answered NXDOMAIN, on 2023-11-14 at 23:13 in Berlin
    const pcap = join(root, 'hostile.pcap');
    writePcap(pcap, HOSTILE_NAMES.flatMap((name, i) => [
      frameAt(1_700_000_000 + i, ipv4(V4, 17, udp(40_000 + i, 53, dnsQuery(i + 1, name)))),
      frameAt(1_700_000_000 + i + 0.012, ipv4(reverse(V4), 17, udp(53, 40_000 + i, dnsResponse(i + 1, name, 3)))),
    ]));
    importCapture(dataDir, pcap, HOSTILE_SERVER);
    browser = await chromium.launch({ executablePath: which('chromium')! });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Writes a page with the CLI; returns its file and the --explain lines. */
  function write(file: string, args: string[]): { path: string; explain: string[] } {
    const path = join(root, file);
    const r = dnslens(['report', ...args, '--html', path, '--explain', '--dataDir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(new RegExp(`^dnslens report: wrote ${path} \\(.+, \\d+ KiB\\)$`));
    return { path, explain: lines.slice(0, -1) };
  }

  async function open(path: string): Promise<Seen> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    // the network is cut off: anything but the file itself is refused, and noted
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requests.push(url);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    const seen = await page.evaluate(() => {
      /* eslint-disable @typescript-eslint/no-explicit-any */
      const w = window as any;
      const charts = [...document.querySelectorAll<HTMLElement>('.chart')].map((box) => {
        const chart = w.echarts.getInstanceByDom(box);
        const canvas = box.querySelector('canvas');
        const series: { data: unknown[] }[] = chart?.getOption().series ?? [];
        return {
          part: box.dataset.part ?? '',
          drawn: chart !== undefined && canvas !== null,
          width: canvas?.width ?? 0,
          height: canvas?.height ?? 0,
          points: series.reduce((n, s) => n + s.data.length, 0),
        };
      });
      return {
        data: JSON.parse(document.getElementById('dnslens-data')!.textContent!),
        charts,
        tables: [...document.querySelectorAll('table')].map((t) => t.querySelectorAll('tbody tr').length),
        header: [...document.querySelectorAll('#head dt')].map((dt) => [dt.textContent ?? '', dt.nextElementSibling?.textContent ?? '']),
      };
    });
    return { ...seen, errors, requests, page };
  }

  /** Every charted section with rows drew, with a point per row (per cell for the weekday grid). */
  function expectChartsDrawn(seen: Seen): void {
    const sections = seen.data.reports.flatMap((r) => r.sections);
    const withRows = sections.filter((s) => s.rows.length > 0);
    expect(seen.charts.map((c) => c.part)).toEqual(withRows.filter((s) => s.chart !== null).map((s) => s.part));
    for (const c of seen.charts) {
      const s = sections.find((x) => x.part === c.part)!;
      expect(c.drawn, c.part).toBe(true);
      expect(c.width, c.part).toBeGreaterThan(0);
      expect(c.height, c.part).toBeGreaterThan(0);
      const perRow = c.part === 'heatmap.weekdays' ? 7 : c.part.startsWith('latency.') ? 3 : c.part.startsWith('nxdomain.') ? 2 : 1;
      expect(c.points, c.part).toBe(s.rows.length * perRow);
    }
    // a table for each section with rows, a row for each of its rows
    expect(seen.tables).toEqual(withRows.map((s) => s.rows.length));
    expect(seen.errors).toEqual([]);
    expect(seen.requests).toEqual([]);
  }

  it('every report on one page: each chart drew, with the rows --format json gives, offline and without errors', async () => {
    const { path, explain } = write('all.html', []);
    const seen = await open(path);
    expectChartsDrawn(seen);
    expect(seen.charts.map((c) => c.part)).toEqual(CHARTED);
    // the time range, the zone, the data source; and which table each part read, as --explain says
    expect(seen.data.title).toBe('dnslens reports');
    expect(seen.header).toContainEqual(['time zone', ZONE]);
    expect(seen.header).toContainEqual(['data source', `embedded store ${dataDir}`]);
    expect(seen.header).toContainEqual(['time range', 'each report its own: see below']); // new-domains defaults to the last day
    expect(seen.header).toContainEqual(['rows per list', '10 (--limit)']);
    const reads = seen.data.reports.flatMap((r) => r.sections.map((s) => `${s.part.replace('.', ' ')}: ${s.read}`));
    expect(reads).toEqual(explain);
    // the rows are the report modules' own: the same as each report printed as JSON
    for (const r of seen.data.reports) {
      const json = dnslens(['report', r.name, '--format', 'json', '--dataDir', dataDir]);
      expect(json.code, json.stderr).toBe(0);
      const printed = JSON.parse(json.stdout) as ReportResult;
      expect(r.sections.map((s) => [s.title, s.rows])).toEqual(printed.sections.map((s) => [s.title, s.rows]));
    }
    const text = await seen.page.locator('#reports').innerText();
    expect(text).toContain('read dns_domain_day: the window is whole days in Europe/Berlin');
    expect(text).toContain('none in this window'); // new-domains over the last day of a store of old captures
    await seen.page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('names and a --server made to break out of the page show as text, and run nothing', async () => {
    const args = ['--server', HOSTILE_SERVER, '--by', 'name', '--since', '2023-11-14', '--until', '2023-11-16'];
    const { path } = write('hostile.html', args);
    // the only script elements are the page's own three
    expect(readFileSync(path, 'utf8').match(/<\/script/gi)).toHaveLength(3);
    const seen = await open(path);
    expectChartsDrawn(seen);
    expect(seen.charts.map((c) => c.part)).toEqual(CHARTED.map((p) => (p === 'top.apexes' ? 'top.names' : p)));
    expect(await seen.page.evaluate(() => ({
      pwned: (window as unknown as { pwned?: number }).pwned,
      scripts: document.scripts.length,
      markup: document.querySelectorAll('img, b').length,
    }))).toEqual({ pwned: undefined, scripts: 3, markup: 0 });
    expect(seen.header).toContainEqual(['--server', HOSTILE_SERVER]);
    expect(seen.header).toContainEqual(['--by', 'name']);
    expect(seen.header.slice(0, 2)).toEqual([['since', '2023-11-14 00:00:00'], ['until', '2023-11-16 00:00:00']]);
    const cells = await seen.page.locator('td').allTextContents();
    for (const name of HOSTILE_NAMES) expect(cells).toContain(name); // top, latency's slowest, new-domains
    expect(cells).toContain(`</script><b>"'.example`); // the apex, in nxdomain's
  });

  it('one report alone; `all` only as a page; --html and --format do not mix', async () => {
    const { path } = write('heatmap.html', ['heatmap', '--server', 'arkime']);
    const seen = await open(path);
    expectChartsDrawn(seen);
    expect(seen.data.title).toBe('dnslens report: heatmap');
    expect(seen.charts.map((c) => c.part)).toEqual(['heatmap.hours', 'heatmap.weekdays']);
    expect(seen.header.slice(0, 2)).toEqual([['since', '(the first message stored)'], ['until', '(the last message stored)']]);
    const all = dnslens(['report', 'all', '--dataDir', dataDir]);
    expect([all.code, all.stderr]).toEqual([2, 'dnslens: dnslens report all: only with --html FILE (one page of every report); name a report to print it\n']);
    const mixed = dnslens(['report', 'top', '--html', join(root, 'x.html'), '--format', 'json', '--dataDir', dataDir]);
    expect([mixed.code, mixed.stderr]).toEqual([2, 'dnslens: --format is for printing a report; --html FILE writes a page instead\n']);
  });
});
