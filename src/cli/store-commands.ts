// `dnslens sql`, `report` and `schema`: commands on the ClickHouse store (embedded, a server, or a
// running capture's endpoint), with the ClickHouse output's own store options.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { log } from '../log.js';
import { resolveMemoryLimit } from '../memory.js';
import { splitArgs } from './args.js';
import { ConfigError, loadConfig, settingsOf, type Config } from './config.js';
import { clickhouse, type ClickHouseSettings } from '../outputs/clickhouse/index.js';
import { migrateOptions, openMigrated, storeOptions } from '../outputs/clickhouse/store.js';
import { openStore, type Store } from '../store/connection.js';
import { schemaScript } from '../store/migrate.js';
import { runSql, type SqlFormat } from '../reports/sql.js';
import { summaryReport } from '../reports/summary.js';
import { findReport, REPORTS, reportHelp } from '../reports/catalog.js';
import { htmlPage } from '../reports/html.js';
import { runReport, type NamedReport, type ReportArgs, type ReportResult } from '../reports/named.js';
import { PG_REPORTS } from '../reports/postgres.js';
import { FORMATS, render, type Format } from '../reports/render.js';
import { askedZone } from '../zone.js';

const settings = (cfg: Config): ClickHouseSettings => settingsOf(cfg, clickhouse);
// These commands use the store options only: a capture option's own check does not stop them.
const STORE_ONLY = { checkComponents: false };

// ------------------------------------------------------------------ commands


const SQL_FORMATS = ['table', 'csv', 'json', 'tsv'];

const SQL_HELP = `usage: dnslens sql "SELECT ..." | -f FILE [--format table|csv|json|tsv] [store flags: --dataDir, --clickhouseAddress, ...]
  Runs ad hoc SQL on the store (unqualified table names are dnslens' own: DNS_LOG, the rollups)
  and prints an aligned table, or CSV, JSON lines or TSV with a header.
`;
const SCHEMA_HELP = `usage: dnslens schema migrate|print [store flags: --dataDir, --clickhouseAddress, --clickhouseCluster, --timezone, ...]
  migrate  brings the store's schema up to date (a capture does this when it starts)
  print    prints the SQL a migration from an empty store runs, without connecting
`;

function help(text: string): number {
  process.stdout.write(text);
  return 0;
}

export async function storeCommand(cmd: string, args: string[]): Promise<number> {
  if (cmd === 'sql') {
    const a = splitArgs(args, ['f', 'file', 'format'], ['help', 'h']);
    if (a.switches.size) return help(SQL_HELP);
    const file = a.own.get('f') ?? a.own.get('file');
    const sql = file ? readFileSync(file, 'utf8') : a.positional.join(' ');
    if (!sql.trim()) throw new ConfigError('sql', 'dnslens sql: give a query ("SELECT ...") or -f FILE');
    const format = (a.own.get('format') ?? 'table') as SqlFormat;
    if (!SQL_FORMATS.includes(format)) throw new ConfigError('format', `--format: "${format}" is not one of ${SQL_FORMATS.join(', ')}`);
    return withStore(a.rest, async (store) => process.stdout.write(await runSql(store, sql, format)));
  }
  if (cmd === 'report') return reportCommand(args);
  // schema migrate | schema print
  const a = splitArgs(args, [], ['help', 'h']);
  if (a.switches.size) return help(SCHEMA_HELP);
  if (a.positional[0] === 'print') {
    // The SQL a migration from an empty store runs (with --clickhouseCluster: the cluster form), without connecting.
    const cfg = loadConfig(a.rest, process.env, undefined, STORE_ONLY);
    process.stdout.write(schemaScript(migrateOptions(settings(cfg), askedZone(cfg.timezone))));
    return 0;
  }
  if (a.positional[0] !== 'migrate') throw new ConfigError('schema', 'usage: dnslens schema migrate|print [store flags]');
  const cfg = loadConfig(a.rest, process.env, undefined, STORE_ONLY);
  const store = await openMigrated(settings(cfg), log, askedZone(cfg.timezone), { memoryLimit: resolveMemoryLimit(cfg.memoryLimit), skipTlsVerify: cfg.skipTLSVerification });
  process.stdout.write(`schema up to date (${store.where})\n`);
  await store.close();
  return 0;
}

// `dnslens report [NAME]`: the summary, or a named report (src/reports/catalog.ts).
const REPORT_FLAGS = ['top', 'limit', 'since', 'until', 'server', 'client', 'by', 'lookback', 'format', 'html'];
const NAMED_ONLY = ['server', 'client', 'by', 'lookback', 'format'];

async function reportCommand(args: string[]): Promise<number> {
  const a = splitArgs(args, REPORT_FLAGS, ['explain', 'help', 'h']);
  if (a.switches.has('help') || a.switches.has('h')) {
    process.stdout.write(reportHelp());
    return 0;
  }
  if (a.positional.length > 1) throw new ConfigError('report', `dnslens report: one report at a time, not ${a.positional.join(' ')} (--html with no name: all of them)`);
  const given = (f: string) => a.own.get(f);
  const name = a.positional[0];
  const html = given('html');
  if (name === 'all' && html === undefined) throw new ConfigError('report', 'dnslens report all: only with --html FILE (one page of every report); name a report to print it');
  if (html !== undefined && a.own.has('format')) throw new ConfigError('format', '--format is for printing a report; --html FILE writes a page instead');
  // --html with no name, or `all`: every report, on one page
  const reports: readonly NamedReport[] = name === 'all' || (name === undefined && html !== undefined) ? REPORTS : name === undefined ? [] : [findReport(name)];
  const by = given('by');
  if (by !== undefined && reports.length > 1 && !reports.some((r) => r.by?.includes(by))) throw new ConfigError('by', `--by: no report takes "${by}"`);
  const limit = Number(given('limit') ?? given('top') ?? 10);
  if (!Number.isInteger(limit) || limit < 1) throw new ConfigError('limit', `--limit: "${given('limit') ?? given('top')}" is not a positive integer`);
  const format = (given('format') ?? 'table') as Format;
  if (!FORMATS.includes(format)) throw new ConfigError('format', `--format: "${format}" is not one of ${FORMATS.join(', ')}`);
  const unused = NAMED_ONLY.find((f) => a.own.has(f));
  if (reports.length === 0 && unused) throw new ConfigError(unused, `--${unused} is for a named report (dnslens report --help); the summary takes --top, --since and --until`);
  const cfg = loadConfig(a.rest, process.env, undefined, STORE_ONLY);
  const timezone = askedZone(cfg.timezone);
  const argsOf = (report: NamedReport): ReportArgs => ({
    since: given('since'),
    until: given('until'),
    server: given('server'),
    client: given('client'),
    by: reports.length === 1 || (by !== undefined && report.by?.includes(by)) ? by : undefined, // on a page of all: where it applies
    lookback: given('lookback'),
    limit,
    timezone,
  });
  // Print the reports, or write them as one page.
  const show = (results: ReportResult[], source: string) => {
    if (a.switches.has('explain')) for (const r of results) for (const s of r.sections) process.stderr.write(`${r.report} ${s.name}: read ${s.table}: ${s.why}\n`);
    if (html === undefined) {
      process.stdout.write(render(results[0], format, reports[0].draw));
      return;
    }
    const filters = ['server', 'client', 'by', 'lookback'].filter((f) => a.own.has(f)).map((f): [string, string] => [`--${f}`, given(f)!]);
    const page = htmlPage(
      results.map((result, i) => ({ description: reports[i].description, result })),
      { source, filters: [...filters, ['rows per list', `${limit} (--limit)`]], generated: new Date() },
    );
    writeFileSync(html, page);
    process.stderr.write(`dnslens report: wrote ${html} (${results.length === 1 ? results[0].report : `${results.length} reports`}, ${Math.round(page.length / 1024)} KiB)\n`);
  };
  // --psqlEndpoint: the PostgreSQL output's schema answers instead of a ClickHouse store.
  if (cfg.psqlEndpoint !== '') {
    if (reports.length === 0) throw new ConfigError('report', `dnslens report with --psqlEndpoint: name a report (${PG_REPORTS.join(', ')}); the summary is ClickHouse's`);
    const { results, source } = await (await import('./psql-commands.js')).psqlReports(cfg, reports, argsOf);
    show(results, source);
    return 0;
  }
  return withStore(a.rest, async (store) => {
    const [t] = await store.query<{ n: string | number }>("SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = 'DNS_LOG'");
    if (Number(t?.n ?? 0) === 0) throw new ConfigError('dataDir', `no dnslens store in ${store.where}: nothing is stored there yet (a capture creates it)`);
    if (reports.length === 0) {
      if (a.switches.has('explain')) process.stderr.write('summary: DNS_LOG, every part\n');
      process.stdout.write(await summaryReport(store, { top: limit, since: given('since'), until: given('until'), timezone }));
      return;
    }
    const results: ReportResult[] = [];
    for (const report of reports) results.push(await runReport(store, report, argsOf(report)));
    show(results, store.where);
  });
}

// `sql` and `report` only read: they open the store without migrating it, so they never re-apply
// retention (their flags carry none: the defaults would cut a longer retention) and never rewrite
// the dictionaries' login. `schema migrate` and a capture bring the schema up to date.
async function withStore(flags: string[], fn: (store: Store) => Promise<unknown>): Promise<number> {
  const cfg = loadConfig(flags, process.env, undefined, STORE_ONLY);
  const s = settings(cfg);
  // An embedded store that is not there is not made here (it would be empty).
  if (s.clickhouseAddress === '' && (!existsSync(s.dataDir) || readdirSync(s.dataDir).length === 0)) {
    throw new ConfigError('dataDir', `no dnslens store in ${s.dataDir}: nothing is stored there yet (a capture creates it)`);
  }
  const store = await openStore({ ...storeOptions(s), memoryLimit: resolveMemoryLimit(cfg.memoryLimit), skipTlsVerify: cfg.skipTLSVerification });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
  return 0;
}
