// The `psql` bench step (issue #15, "Speed"): the bench capture written by the whole process into
// a PostgreSQL server on this machine (`--pcapFile … --psqlOutputType 1`, rollups on), in
// messages/s against the 150,000 messages/s target. In the same run, on the same rows:
// - the physical reference: `psql \copy` of them as CSV into a fresh dns_queries (same
//   partitions and indexes, no rollups);
// - COPY against INSERT: the rows into a plain table by `\copy`, and by the multi-row INSERTs
//   that `pg_dump --rows-per-insert 1000` writes (what a writer without COPY would send).
// The server is Debian's, started here in a temporary directory (bench/pgserver.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pgBin, startPostgres, type Postgres } from './pgserver.js';
import type { Ctx, Row, Step } from './run.js';

const STEP = 'psql';
export const TARGET_MESSAGES_PER_SEC = 150_000;

/** Seconds a psql script takes (psql's own start-up included, a few ms). */
function timedPsql(pg: Postgres, sql: string): number {
  const t0 = process.hrtime.bigint();
  pg.psql(sql);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export const psqlStep: Step = {
  name: STEP,
  title: 'pcap -> PostgreSQL (--psqlOutputType 1, COPY, rollups on, server on this machine), whole process, beside psql \\copy of the same rows and INSERT against COPY',
  async run(ctx: Ctx): Promise<Row[]> {
    const run = await import('./run.js');
    if (!existsSync(run.mainScript(ctx))) return [{ step: STEP, figure: 'messages/s', value: 'not run', note: `${run.mainScript(ctx)} is not built` }];
    if (!pgBin()) return [{ step: STEP, figure: 'messages/s', value: 'not run', note: 'no PostgreSQL server (apt install postgresql)' }];
    const pg = await startPostgres();
    try {
      const rows: Row[] = [];
      const args = [run.mainScript(ctx), '--pcapFile', ctx.capture, '--psqlOutputType', '1', '--psqlEndpoint', pg.url(), '--timezone', 'UTC'];
      const t = await run.runTimed(process.execPath, args, { captureStdout: false, timeoutMs: ctx.timeoutMs, cwd: ctx.root });
      if (t.code !== 0) return [{ step: STEP, figure: 'messages/s', value: 'failed', note: run.failure(t) }];
      const stored = Number(pg.psql('SELECT count(*) FROM dnslens.dns_queries').trim());
      const mps = stored / t.seconds;
      rows.push({
        step: STEP,
        figure: 'pcap -> PostgreSQL',
        value: run.rate(mps, 'messages'),
        target: `>= ${run.rate(TARGET_MESSAGES_PER_SEC, 'messages')}`,
        pass: mps >= TARGET_MESSAGES_PER_SEC,
        note: `${run.int(stored)} messages in ${t.seconds.toFixed(2)} s, cpu ${run.cpu(t.cpuSeconds)} (dnslens only; the server's is apart), max RSS ${run.mb(t.maxRssKb)}`,
      });

      // The same rows as CSV (the server writes and reads the file: it is in its directory).
      const csv = join(pg.dir, 'rows.csv');
      const cols = (pg.psql("SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'dnslens' AND table_name = 'dns_queries' AND column_name NOT IN ('id', 'inserted_at')")).trim();
      pg.psql(`COPY (SELECT ${cols} FROM dnslens.dns_queries) TO '${csv}' CSV`);
      // A second schema made by the output's own migrations, then emptied: the same table, partitions and indexes.
      execFileSync(process.execPath, [run.mainScript(ctx), 'psql', 'migrate', '--psqlEndpoint', pg.url(), '--psqlSchema', 'ref', '--timezone', 'UTC'], { stdio: 'ignore' });
      const days = pg.psql("SELECT DISTINCT to_char((queried_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') FROM dnslens.dns_queries").trim().split('\n');
      pg.psql(`SELECT ref.ensure_day(d::date, 'UTC') FROM unnest('{${days.join(',')}}'::text[]) AS d`);
      const copyRef = timedPsql(pg, `\\copy ref.dns_queries (${cols}) FROM '${csv}' CSV`);
      rows.push({
        step: STEP,
        figure: 'psql \\copy, same rows, same table (reference)',
        value: run.rate(stored / copyRef, 'rows'),
        note: `no rollups; dnslens reaches ${((100 * mps) / (stored / copyRef)).toFixed(0)}% of it with its rollups, decoding included`,
      });

      // COPY against INSERT on a plain table (no partitions, no indexes): the price of the statement form alone.
      const limit = Math.min(stored, 200_000);
      pg.psql(`CREATE TABLE ref.flat AS SELECT ${cols} FROM dnslens.dns_queries LIMIT ${limit}; CREATE TABLE ref.flat_copy (LIKE ref.flat); CREATE TABLE ref.flat_insert (LIKE ref.flat)`);
      const flatCsv = join(pg.dir, 'flat.csv');
      pg.psql(`COPY ref.flat TO '${flatCsv}' CSV`);
      const dump = join(pg.dir, 'flat.sql');
      const bin = pgBin()!;
      const sql = execFileSync(join(bin, 'pg_dump'), ['-h', pg.dir, '-p', String(pg.port), '-U', 'dnslens', '-d', 'dnslens', '--data-only', '--rows-per-insert', '1000', '-t', 'ref.flat'], { encoding: 'utf8', maxBuffer: 1 << 30 });
      writeFileSync(dump, sql.replaceAll('INSERT INTO ref.flat ', 'INSERT INTO ref.flat_insert '));
      execFileSync('chmod', ['644', dump]);
      const copySec = timedPsql(pg, `\\copy ref.flat_copy FROM '${flatCsv}' CSV`);
      const insertSec = timedPsql(pg, `BEGIN;\n\\i ${dump}\nCOMMIT;`);
      rows.push({
        step: STEP,
        figure: 'COPY vs INSERT (1,000 rows per INSERT)',
        value: `${(insertSec / copySec).toFixed(1)}x`,
        note: `${run.int(limit)} rows into a plain table: COPY ${run.rate(limit / copySec, 'rows')}, INSERT ${run.rate(limit / insertSec, 'rows')}`,
      });
      rmSync(dump, { force: true });
      return rows;
    } finally {
      pg.close();
    }
  },
};
