// `dnslens psql migrate` and `dnslens psql rollup --since DAY --until DAY`: the PostgreSQL schema
// brought up to date, and the rollups of a range of days computed again from dns_queries, with
// the PostgreSQL output's own connection options (--psqlEndpoint, --psqlSchema, ...).
import { log } from '../log.js';
import { psql } from '../outputs/postgres/index.js';
import { askedZone } from '../zone.js';
import { splitArgs } from './args.js';
import { ConfigError, loadConfig, settingsOf, type Config } from './config.js';
import type { NamedReport, ReportArgs, ReportResult } from '../reports/named.js';

const USAGE = 'usage: dnslens psql migrate | rollup --since YYYY-MM-DD --until YYYY-MM-DD [--psqlEndpoint URI ...]';
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

export async function psqlCommand(args: string[]): Promise<number> {
  const a = splitArgs(args, ['since', 'until'], ['help', 'h']);
  const what = a.positional[0];
  if (a.switches.size || (what !== 'migrate' && what !== 'rollup')) {
    if (a.switches.size) {
      process.stdout.write(`${USAGE}\n  migrate  create or upgrade the schema (as the output does when it starts)\n  rollup   compute the daily, hourly, weekly and monthly rollups of local days [since, until) again from dns_queries\n`);
      return 0;
    }
    throw new ConfigError('psql', USAGE);
  }
  const cfg = loadConfig(a.rest, process.env, undefined, { checkComponents: false });
  const { migrate, makePartitionsAhead } = await import('../outputs/postgres/schema.js');
  const { FRESH_TABLE, rebuildDays, rollPending } = await import('../outputs/postgres/rollup.js');
  let since = '';
  let until = '';
  if (what === 'rollup') {
    since = a.own.get('since') ?? '';
    until = a.own.get('until') ?? '';
    if (!DAY_RE.test(since) || !DAY_RE.test(until)) throw new ConfigError('since', `dnslens psql rollup: --since and --until are local days (YYYY-MM-DD); ${USAGE}`);
    if (until <= since) throw new ConfigError('until', `--until ${until}: must be after --since ${since}`);
  }
  const { s, client, schema, failed } = await openPg(cfg);
  try {
    const tz = await migrate(client, schema, askedZone(cfg.timezone)).catch((err: unknown) => {
      throw failed(err);
    });
    if (what === 'migrate') {
      await makePartitionsAhead(client, schema, tz, s.psqlPartitionsAhead);
      process.stdout.write(`schema ${schema} up to date (days in ${tz})\n`);
      return 0;
    }
    await client.query(FRESH_TABLE);
    const days = await rebuildDays(client, schema, tz, since, until);
    const { weeks, months } = await rollPending(client, schema);
    process.stdout.write(`rebuilt ${days.length} day(s) with raw rows in [${since}, ${until}) (days in ${tz}), then ${weeks} week(s) and ${months} month(s)\n`);
    return 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The PostgreSQL output's connection and schema from the configuration, connected; a failure
 *  retrying cannot fix is a ConfigError (exit 2). */
async function openPg(cfg: Config) {
  const s = settingsOf(cfg, psql);
  const { connect, startupError, where } = await import('../outputs/postgres/connect.js');
  const { schemaName } = await import('../outputs/postgres/schema.js');
  const conn = { endpoint: s.psqlEndpoint, passwordFile: s.psqlPasswordFile, timeoutMs: s.psqlBatchTimeout, skipTlsVerify: cfg.skipTLSVerification };
  const schema = schemaName(s.psqlSchema);
  try {
    const client = await connect(conn, (err) => log.warn({ err: err.message }, 'PostgreSQL connection lost'));
    return { s, client, schema, where: where(conn), failed: (err: unknown) => startupError(err, conn) };
  } catch (err) {
    throw startupError(err, conn);
  }
}

/** `dnslens report NAME --psqlEndpoint URI`: the reports, read from the PostgreSQL output's schema. */
export async function psqlReports(cfg: Config, reports: readonly NamedReport[], argsOf: (r: NamedReport) => ReportArgs): Promise<{ results: ReportResult[]; source: string }> {
  const { runPgReport } = await import('../reports/postgres.js');
  const { client, schema, where } = await openPg(cfg);
  try {
    const results: ReportResult[] = [];
    for (const r of reports) results.push(await runPgReport(client, schema, r, argsOf(r)));
    return { results, source: `${where} (schema ${schema})` };
  } finally {
    await client.end().catch(() => undefined);
  }
}
