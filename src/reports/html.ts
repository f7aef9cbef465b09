// `dnslens report [NAME] --html FILE`: named reports as one self-contained page, for users without
// Grafana. Apache ECharts (the installed package's minified build) is inlined, so viewing it needs
// no network. The reports' rows go into the page as JSON, with each cell also as the terminal's
// table shows it (render.ts); the page's own script draws charts where a chart says more, and
// tables for everything.
//
// Names in DNS data are anyone's text: they reach the page only inside that JSON, with every '<'
// escaped (so no name can close the script element), and the DOM only as textContent. Tooltips
// are drawn on the canvas (richText), not as HTML.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ReportResult } from './named.js';
import { cell, windowPairs, zoned } from './render.js';

/** How a section is charted; a section with none is a table only. */
export type Chart =
  | { type: 'bars'; label: string; values: string[] } // a horizontal bar per row: names read best down the side
  | { type: 'columns'; label: string; values: string[] } // vertical bars along an axis (the hours of a day)
  | { type: 'pie'; label: string; value: string }
  | { type: 'grid'; label: string; values: string[] }; // a heatmap: a column per row, a line per value

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const PERCENTILES = ['p50', 'p95', 'p99'];

// Keyed report.section; the rest (latency's totals, the slowest names, new domains) read best as tables.
const CHARTS: Record<string, Chart> = {
  'top.apexes': { type: 'bars', label: 'domain', values: ['queries'] },
  'top.names': { type: 'bars', label: 'domain', values: ['queries'] },
  'categories.categories': { type: 'bars', label: 'category', values: ['queries'] }, // one category often has nearly all: a pie hides the rest
  'heatmap.hours': { type: 'columns', label: 'hour', values: ['queries'] },
  'heatmap.weekdays': { type: 'grid', label: 'hour', values: DAYS },
  'nxdomain.apexes': { type: 'bars', label: 'apex', values: ['queries', 'nxdomain'] },
  'nxdomain.clients': { type: 'bars', label: 'client', values: ['queries', 'nxdomain'] },
  'latency.servers': { type: 'bars', label: 'server', values: PERCENTILES },
  'latency.clients': { type: 'bars', label: 'client', values: PERCENTILES },
  'clients.clients': { type: 'bars', label: 'client', values: ['queries'] },
  'qtypes.qtypes': { type: 'pie', label: 'qtype', value: 'messages' },
  'rcodes.rcodes': { type: 'pie', label: 'rcode', value: 'responses' },
};

/** The chart a report's section gets, if any. */
export function chartOf(report: string, section: string): Chart | undefined {
  return CHARTS[`${report}.${section}`];
}

export interface PageReport {
  description: string; // the report's line in --help
  result: ReportResult;
}

export interface PageInfo {
  source: string; // the store read: 'embedded store DIR' or the server's address
  filters: [string, string][]; // --server, --client, --by, --limit ... as given
  generated: Date;
}

/** The page's data, as the page's script reads it. */
export function pageData(reports: PageReport[], info: PageInfo) {
  const zone = reports[0]?.result.timezone ?? 'UTC';
  const windows = new Set(reports.map((r) => JSON.stringify(windowPairs(r.result))));
  const window = windows.size === 1 ? windowPairs(reports[0].result) : [['time range', 'each report its own: see below']];
  return {
    title: reports.length === 1 ? `dnslens report: ${reports[0].result.report}` : 'dnslens reports',
    pairs: [
      ...window,
      ['time zone', zone],
      ['data source', info.source],
      ...info.filters,
      ['generated', `${zoned(info.generated.toISOString().replace(/\.\d+Z$/, 'Z'), zone)} (${zone})`],
    ],
    reports: reports.map(({ description, result: r }) => ({
      name: r.report,
      description,
      pairs: windowPairs(r),
      sections: r.sections.map((s) => ({
        part: `${r.report}.${s.name}`,
        title: s.title,
        read: `read ${s.table}` + (s.why ? `: ${s.why}` : ''),
        columns: s.columns,
        rows: s.rows,
        cells: s.rows.map((row) => s.columns.map((c) => cell(row[c.name], c, r.timezone))),
        chart: chartOf(r.report, s.name) ?? null,
      })),
    })),
  };
}

/** Text for a script element: no '</script' or '<!--' may appear in it, so every '<' is escaped. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

const require = createRequire(import.meta.url);

// The minified build as shipped; in JavaScript '<\/' means '</' wherever such text can occur
// (strings, regular expressions, comments), so this keeps it from ending the script element.
function echartsSource(): string {
  return readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8').replace(/<(\/script|!--)/gi, '<\\$1');
}

/** The whole page. */
export function htmlPage(reports: PageReport[], info: PageInfo): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>dnslens report</title>
<style>${STYLE}</style>
</head>
<body>
<header id="head"></header>
<nav id="toc"></nav>
<main id="reports"></main>
<noscript>This page draws its reports with JavaScript.</noscript>
<script type="application/json" id="dnslens-data">${scriptJson(pageData(reports, info))}</script>
<script>${echartsSource()}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const STYLE = `
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: #1d2330; background: #f4f6f9; margin: 0; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 0; }
h3 { font-size: 15px; margin: 0 0 2px; }
dl.pairs { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.pairs dt { color: #5b6474; }
dl.pairs dd { margin: 0; overflow-wrap: anywhere; }
#toc { margin: 8px 0 16px; display: flex; flex-wrap: wrap; gap: 6px 14px; }
#toc a { color: #2457c5; }
section.report { background: #fff; border: 1px solid #dde2ea; border-radius: 6px; padding: 14px 16px; margin: 0 0 18px; }
p.about { color: #5b6474; margin: 2px 0 6px; }
.parts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 560px), 1fr)); gap: 16px; margin-top: 10px; }
article.part { border-top: 1px solid #e6e9ef; padding-top: 10px; min-width: 0; }
article.part.wide { grid-column: 1 / -1; }
p.read { color: #5b6474; font-size: 12px; margin: 0 0 6px; }
p.none { color: #5b6474; font-style: italic; }
.body { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 440px), 1fr)); gap: 8px 24px; align-items: start; }
.chart { width: 100%; min-width: 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px 3px 0; text-align: left; white-space: nowrap; }
th { white-space: normal; vertical-align: bottom; } /* 'unanswered share' on two lines keeps a table in its half */
td { max-width: 420px; overflow: hidden; text-overflow: ellipsis; }
th { color: #5b6474; font-weight: 600; border-bottom: 1px solid #dde2ea; }
.num { text-align: right; }
tr:nth-child(even) td { background: #f8f9fb; }
summary { cursor: pointer; color: #2457c5; margin: 4px 0; }
`;

// The page's own script: it builds the DOM from the JSON above with textContent only, then draws
// every chart once the boxes have their size. Response times (microseconds) are charted in ms.
const SCRIPT = `
'use strict';
(function () {
  var page = JSON.parse(document.getElementById('dnslens-data').textContent);
  var charts = [];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function pairs(list) {
    var dl = el('dl', 'pairs');
    list.forEach(function (p) { dl.append(el('dt', '', p[0]), el('dd', '', p[1])); });
    return dl;
  }

  function numeric(c) { return c.kind !== 'text' && c.kind !== 'time'; }

  function table(s) {
    var t = el('table'), head = el('tr'), body = el('tbody');
    s.columns.forEach(function (c) { head.append(el('th', numeric(c) ? 'num' : '', c.title)); });
    s.cells.forEach(function (row) {
      var tr = el('tr');
      row.forEach(function (v, i) {
        var td = el('td', numeric(s.columns[i]) ? 'num' : '', v);
        td.title = v; // the whole name where the cell cuts it
        tr.append(td);
      });
      body.append(tr);
    });
    var thead = el('thead');
    thead.append(head);
    t.append(thead, body);
    var box = el('div', 'scroll');
    box.append(t);
    return box;
  }

  // A chart's height: bars grow with their rows, the rest are fixed.
  function height(s) {
    var c = s.chart;
    if (c.type === 'bars') return Math.max(140, 50 + s.rows.length * (12 + 8 * c.values.length));
    if (c.type === 'grid') return 260;
    return 280;
  }

  function part(s) {
    var card = el('article', s.chart ? 'part' : 'part wide'); // a table alone gets the whole width for its columns
    card.append(el('h3', '', s.title), el('p', 'read', s.read));
    if (s.rows.length === 0) {
      card.append(el('p', 'none', 'none in this window'));
      return card;
    }
    // the chart, and beside it (or below, where the page is narrow) its numbers
    var body = el('div', 'body');
    if (s.chart) {
      var box = el('div', 'chart');
      box.style.height = height(s) + 'px';
      box.dataset.part = s.part;
      body.append(box);
      charts.push({ box: box, section: s });
    }
    if (s.chart && s.rows.length > 12) {
      var d = el('details');
      d.append(el('summary', '', 'the numbers (' + s.rows.length + ' rows)'), table(s));
      body.append(d);
    } else body.append(table(s));
    card.append(body);
    return card;
  }

  function option(s) {
    var c = s.chart;
    var col = function (name) { return s.columns.find(function (x) { return x.name === name; }); };
    var ms = c.values !== undefined && col(c.values[0]).kind === 'micros';
    var value = function (v) { return v === null || v === undefined ? null : ms ? v / 1000 : v; };
    var text = function (v) { return v === null || v === undefined || v === '' ? '-' : String(v); };
    var format = function (v) {
      if (v === null || v === undefined || isNaN(v)) return '-';
      return ms ? Number(v).toFixed(1) + ' ms' : Number(v).toLocaleString('en-US');
    };
    var labels = s.rows.map(function (r) { return text(r[c.label]); });
    var base = {
      animation: false,
      // a dozen distinct colours, so a pie of ten query types repeats none
      color: ['#5470c6', '#91cc75', '#fac858', '#ee6666', '#73c0de', '#3ba272', '#fc8452', '#9a60b4', '#ea7ccc', '#2f4554', '#b8860b', '#7f7f7f'],
      textStyle: { fontFamily: 'system-ui, sans-serif' },
      tooltip: { renderMode: 'richText', valueFormatter: format, trigger: c.type === 'pie' || c.type === 'grid' ? 'item' : 'axis' },
    };
    if (c.type === 'pie') {
      return Object.assign(base, {
        legend: { type: 'scroll', orient: 'vertical', left: '58%', top: 'middle', formatter: function (n) { return n.length > 32 ? n.slice(0, 31) + '…' : n; } },
        series: [{
          type: 'pie', radius: ['38%', '72%'], center: ['28%', '50%'], label: { show: false },
          data: s.rows.map(function (r) { return { name: text(r[c.label]), value: r[c.value] }; }),
        }],
      });
    }
    if (c.type === 'grid') {
      // hours along, weekdays down, as the terminal draws it
      var cells = [], max = 0;
      s.rows.forEach(function (r, x) {
        c.values.forEach(function (v, y) { cells.push([x, y, r[v] || '-']); max = Math.max(max, r[v] || 0); }); // '-': an empty cell
      });
      return Object.assign(base, {
        grid: { left: 44, right: 16, top: 8, bottom: 72 },
        xAxis: { type: 'category', data: labels, splitArea: { show: true } },
        yAxis: { type: 'category', data: c.values.map(function (v) { return col(v).title; }), inverse: true, splitArea: { show: true } },
        visualMap: { min: 0, max: Math.max(1, max), orient: 'horizontal', left: 'center', bottom: 0, itemHeight: 180, text: [format(max), '0'] },
        series: [{ type: 'heatmap', name: s.title, data: cells }],
      });
    }
    var series = c.values.map(function (v) {
      var label = { show: c.values.length === 1 && c.type === 'bars', position: 'right', formatter: function (p) { return format(p.value); } };
      return { type: 'bar', name: col(v).title, label: label, data: s.rows.map(function (r) { return value(r[v]); }) };
    });
    var legend = c.values.length > 1 ? { top: 0 } : undefined;
    var axisName = ms ? { name: 'ms', nameLocation: 'middle', nameGap: 24 } : { minInterval: 1 };
    if (c.type === 'columns') {
      return Object.assign(base, {
        legend: legend, grid: { left: 56, right: 16, top: legend ? 32 : 16, bottom: 28 },
        xAxis: { type: 'category', data: labels }, yAxis: Object.assign({ type: 'value' }, axisName), series: series,
      });
    }
    // bars: the first row at the top, names cut to fit beside them
    return Object.assign(base, {
      legend: legend, grid: { left: 8, right: 56, top: legend ? 32 : 8, bottom: ms ? 36 : 24, containLabel: true },
      xAxis: Object.assign({ type: 'value' }, axisName), series: series,
      yAxis: { type: 'category', data: labels, inverse: true, axisLabel: { width: 220, overflow: 'truncate' } },
    });
  }

  document.title = page.title;
  var head = document.getElementById('head');
  head.append(el('h1', '', page.title), pairs(page.pairs));
  var toc = document.getElementById('toc');
  var main = document.getElementById('reports');
  page.reports.forEach(function (r, i) {
    var sec = el('section', 'report');
    sec.id = 'report-' + i;
    var link = el('a', '', r.name);
    link.href = '#report-' + i;
    if (page.reports.length > 1) toc.append(link);
    var parts = el('div', 'parts');
    r.sections.forEach(function (s) { parts.append(part(s)); });
    sec.append(el('h2', '', r.name), el('p', 'about', r.description), pairs(r.pairs), parts);
    main.append(sec);
  });
  charts.forEach(function (x) {
    echarts.init(x.box).setOption(option(x.section));
  });
  window.addEventListener('resize', function () {
    charts.forEach(function (x) { echarts.getInstanceByDom(x.box).resize(); });
  });
})();
`;
