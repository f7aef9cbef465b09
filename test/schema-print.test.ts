// `dnslens schema print`: the SQL a migration from an empty store runs, for review.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitStatements } from '../src/store/migrate.js';
import { openTestDb, type TestDb } from './chdb-runner.js';

const MAIN = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
const print = (...flags: string[]) => execFileSync(process.execPath, [MAIN, 'schema', 'print', ...flags], { encoding: 'utf8' });

describe('schema print', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db?.close());

  it('prints a script that builds the whole single-server schema when run in order', async () => {
    const script = print('--clickhouseDatabase', 'printed', '--clickhouseTTL', '7');
    const statements = splitStatements(script);
    expect(statements.length).toBeGreaterThan(50);
    for (const st of statements) await db.exec(st);
    const tables = (await db.rows("SELECT name FROM system.tables WHERE database = 'printed' ORDER BY name")).map((r) => r[0]);
    for (const t of ['DNS_LOG', 'dns_traffic_minute', 'dns_domain_day', 'dns_latency_minute', 'dnslens_health', 'dns_type', 'dns_daily_stats']) {
      expect(tables).toContain(t);
    }
    const ttl = await db.rows("SELECT engine_full FROM system.tables WHERE database = 'printed' AND name = 'DNS_LOG'");
    expect(ttl[0][0]).toMatch(/toIntervalDay\(7\)/);
  });

  it('prints the cluster form with --clickhouseCluster: every CREATE on the cluster, local tables replicated', () => {
    const statements = splitStatements(print('--clickhouseCluster', 'lab'));
    const creates = statements.filter((st) => /^\s*CREATE /m.test(st));
    expect(creates.length).toBeGreaterThan(50);
    for (const st of creates) expect(st).toMatch(/ON CLUSTER 'lab'/);
    expect(statements.some((st) => /DNS_LOG_local[\s\S]*ReplicatedMergeTree/.test(st))).toBe(true);
    expect(statements.some((st) => /ENGINE = Distributed\('lab', 'default', 'DNS_LOG_local', cityHash64\(Question\)\)/.test(st))).toBe(true);
  });

  it('refuses an unknown schema command', () => {
    expect(() => execFileSync(process.execPath, [MAIN, 'schema', 'drop'], { stdio: 'pipe' })).toThrow(/migrate\|print/);
  });
});
