// A named report's result as text: aligned tables (or the report's own picture) for a terminal,
// CSV, or one JSON document.
import type { Column, ReportResult, Section, Value } from './named.js';
import { count, formatPairs, formatTable, micros } from './table.js';
import { localTime } from './time.js';

export type Format = 'table' | 'csv' | 'json';
export const FORMATS: readonly Format[] = ['table', 'csv', 'json'];

/** A value as a table shows it; times in the report's zone. */
export function cell(v: Value, c: Column, tz: string): string {
  if (v === null || v === '') return '-';
  switch (c.kind) {
    case 'count':
      return count(Number(v));
    case 'share':
      return `${(100 * Number(v)).toFixed(1)}%`;
    case 'number':
      return Number(v).toLocaleString('en-US', { maximumFractionDigits: 1 });
    case 'micros':
      return micros(v);
    case 'time':
      return localTime(String(v).replace('T', ' ').replace('Z', ''), tz);
    default:
      return String(v);
  }
}

function table(s: Section, tz: string): string {
  if (s.rows.length === 0) return `${s.title}\n(none)\n`;
  return `${s.title}\n` + formatTable(
    s.columns.map((c) => ({ title: c.title, right: c.kind !== 'text' && c.kind !== 'time' })),
    s.rows.map((r) => s.columns.map((c) => cell(r[c.name], c, tz))),
  );
}

/** An ISO UTC time ('2024-03-12T08:00:00.000Z') as wall-clock time in zone tz. */
export function zoned(iso: string, tz: string): string {
  return localTime(iso.replace('T', ' ').replace(/(\.000)?Z$/, ''), tz);
}

/** The window's ends as wall-clock times in the report's zone, or what an open end means. */
export function windowPairs(r: ReportResult): [string, string][] {
  const at = (iso: string | null, open: string) => (iso === null ? open : zoned(iso, r.timezone));
  return [
    ['since', at(r.since, '(the first message stored)')],
    ['until', at(r.until, '(the last message stored)')],
  ];
}

/** The window and zone, as the first lines of a table report. */
export function header(r: ReportResult): string {
  return formatPairs([['report', r.report], ['time zone', r.timezone], ...windowPairs(r)]);
}

function csvField(v: Value): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// One block per section (header row, then rows); with several, each starts with "# name".
function csv(r: ReportResult): string {
  return r.sections
    .map((s) => {
      const lines = [s.columns.map((c) => c.name).join(','), ...s.rows.map((row) => s.columns.map((c) => csvField(row[c.name])).join(','))];
      return (r.sections.length > 1 ? `# ${s.name}\n` : '') + lines.join('\n') + '\n';
    })
    .join('\n');
}

/** The result in a format; draw: the report's own picture for a terminal, instead of tables. */
export function render(r: ReportResult, format: Format, draw?: (r: ReportResult) => string): string {
  if (format === 'json') return JSON.stringify(r) + '\n';
  if (format === 'csv') return csv(r);
  return [header(r), draw ? draw(r) : r.sections.map((s) => table(s, r.timezone)).join('\n')].join('\n');
}
