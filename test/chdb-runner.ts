// A SqlRunner over chdb's Session for the schema tests (the store's own connection does the same
// for dnslens itself). Each test opens its own data directory under the OS temp directory.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlRunner } from '../src/store/migrate.js';

export interface ChdbSessionLike {
  queryAsync(sql: string, opts?: { format?: string }): Promise<{ text(): string }>;
  close(): void;
}

export interface TestDb extends SqlRunner {
  session: ChdbSessionLike;
  dir: string;
  /** Rows of a query as arrays of strings (TSV), for exact comparisons. */
  rows(sql: string): Promise<string[][]>;
  close(): void;
}

export async function openTestDb(prefix = 'dnslens-schema-'): Promise<TestDb> {
  const { Session } = (await import('chdb')) as unknown as { Session: new (path: string) => ChdbSessionLike };
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const session = new Session(dir);
  return {
    session,
    dir,
    async exec(sql: string): Promise<void> {
      await session.queryAsync(sql);
    },
    async query<T>(sql: string): Promise<T[]> {
      const text = (await session.queryAsync(sql, { format: 'JSONEachRow' })).text();
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as T);
    },
    async rows(sql: string): Promise<string[][]> {
      const text = (await session.queryAsync(sql, { format: 'TSV' })).text();
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t'));
    },
    close(): void {
      session.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { writeFileSync } from 'node:fs';
import type { DnsEvent } from '../src/event.js';
import { DNS_LOG_COLUMNS, DNS_LOG_STRUCTURE } from '../src/outputs/clickhouse/columns.js';
import { encodeRows } from './rowbinary.js';

let batchNo = 0;

/** Inserts events into DNS_LOG the way the store's embedded writer does: RowBinary file + file(). */
export async function insertEvents(db: TestDb, database: string, events: readonly DnsEvent[], indexTimeSec = Date.now() / 1000): Promise<void> {
  const path = join(db.dir, `batch-${process.pid}-${batchNo++}.bin`);
  writeFileSync(path, encodeRows(events, indexTimeSec));
  // A table made by an earlier migration set lacks the newer columns: insert the ones it has.
  const have = new Set((await db.rows(`SELECT name FROM system.columns WHERE database = '${database}' AND table = 'DNS_LOG'`)).map((r) => String(r[0])));
  const cols = DNS_LOG_COLUMNS.filter((c) => have.has(c)).join(', ');
  await db.exec(`INSERT INTO ${database}.DNS_LOG (${cols}) SELECT ${cols} FROM file('${path}', RowBinary, '${DNS_LOG_STRUCTURE}')`);
  rmSync(path);
}

/** Runs the cluster schema on chdb, which has neither ZooKeeper nor clusters: ON CLUSTER is dropped,
 *  Replicated engines become their plain forms, and a Distributed table becomes a Buffer table that
 *  passes every insert straight to its local table (a one-shard Distributed table, in effect). */
export function singleNode(db: SqlRunner): SqlRunner {
  const rewrite = (sql: string) =>
    sql
      .replace(/ ON CLUSTER '[^']*'/g, '')
      .replace(/Replicated(\w*MergeTree)\('[^']*', '[^']*'(?:, ([^)]*))?\)/g, (_, engine: string, args?: string) => (args ? `${engine}(${args})` : engine))
      .replace(/Distributed\('[^']*', '([^']*)', '([^']*)', [^\n]*\)/g, "Buffer('$1', '$2', 1, 0, 0, 0, 0, 0, 0)");
  return { exec: (sql) => db.exec(rewrite(sql)), query: (sql) => db.query(sql) };
}
