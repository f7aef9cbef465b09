// The migration runner: from an empty directory, from one left by an earlier set of migrations
// (rollups back-filled from DNS_LOG), idempotent re-runs, changed files refused, dictionary files
// reloaded when they change, and the cluster variant (derived from the same files: test/cluster.test.ts).

import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deriveCluster } from '../src/store/cluster.js';
import { DEFAULT_ROLLUP_TTL, migrate, migrationFiles, placeholders, render, schemaRoot, splitStatements, type MigrateOptions } from '../src/store/migrate.js';
import { insertEvents, openTestDb, singleNode, type TestDb } from './chdb-runner.js';
import { clientPairs, domainPairs, expectPairsEqual, latencyPairs, namesPairs, optimizeAll, trafficPairs } from './rollup-pairs.js';
import { traffic } from './synthetic.js';

const DB = 'mig';
const BASE: MigrateOptions = { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB };
const ALL = readdirSync(join(schemaRoot(), 'migrations')).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort();
const START = Date.UTC(2026, 2, 2) / 1000;

const temps: string[] = [];
/** A copy of clickhouse/ holding only the migrations numbered up to `last`. */
function schemaCopy(last: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnslens-schema-copy-'));
  temps.push(dir);
  const migrations = join(schemaRoot(), 'migrations') + '/';
  // views.sql belongs to 0014 and later (the tables it reads)
  const views = join(schemaRoot(), 'views.sql');
  cpSync(schemaRoot(), dir, {
    recursive: true,
    filter: (src) => (src === views ? last >= 14 : !src.startsWith(migrations) || Number(src.slice(migrations.length, migrations.length + 4)) <= last),
  });
  return dir;
}

afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** Every table and view of database d as created, its name replaced by X, to compare two schemas.
 *  (Zone stamps say from when: an upgraded table was rebuilt from its first period.) */
async function schemaOf(db: TestDb, d: string): Promise<string[][]> {
  return (await db.rows(`SELECT name, engine, create_table_query FROM system.tables WHERE database = '${d}' AND name != 'dnslens_migrations' ORDER BY name`)).map((r) =>
    r.map((c) => c.replace(new RegExp(`\\b${d}\\b`, 'g'), 'X').replace(/; zone (\S+) from [\d:\- ]+/, '; zone $1')),
  );
}

describe('migrations from an empty directory', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db?.close());

  it('apply every file in order, record them, and do nothing the second time', async () => {
    const logs: string[] = [];
    expect(await migrate(db, { ...BASE, log: (m) => logs.push(m) })).toEqual(ALL);
    expect(logs.filter((l) => l.startsWith('applied migration'))).toEqual(ALL.map((f) => `applied migration ${f}`));
    const recorded = await db.rows(`SELECT name, checksum FROM ${DB}.dnslens_migrations WHERE NOT startsWith(name, 'dictionaries/') AND name NOT IN ('views.sql', 'timezone') ORDER BY name`);
    expect(recorded).toEqual(migrationFiles(join(schemaRoot(), 'migrations')).map((f) => [f.name, f.checksum]));
    const tables = await db.rows(`SELECT count() FROM system.tables WHERE database = '${DB}'`);

    expect(await migrate(db, BASE)).toEqual([]);
    expect(await db.rows(`SELECT count() FROM ${DB}.dnslens_migrations WHERE NOT startsWith(name, 'dictionaries/')`)).toEqual([[String(ALL.length + 2)]]); // + views.sql, timezone
    expect(await db.rows(`SELECT count() FROM system.tables WHERE database = '${DB}'`)).toEqual(tables);
    // dictionary files were loaded once each
    const loads = await db.rows(`SELECT name, count() FROM ${DB}.dnslens_migrations WHERE startsWith(name, 'dictionaries/') GROUP BY name ORDER BY name`);
    expect(loads.map((r) => r[1])).toEqual(loads.map(() => '1'));
    expect(loads.length).toBe(readdirSync(join(schemaRoot(), 'dictionaries')).filter((f) => f.endsWith('.tsv')).length);
  }, 120_000);

  it('run a first start cut short before its files were recorded again, and end with the schema of an uncut one', async () => {
    const cut = 'mig_cut';
    await migrate(db, { ...BASE, database: cut });
    // as if stopped after its last numbered file: no views yet, only the dictionary data recorded
    for (const [name] of await db.rows(`SELECT name FROM system.tables WHERE database = '${cut}' AND engine IN ('MaterializedView', 'View')`)) await db.exec(`DROP VIEW ${cut}.${name}`);
    await db.exec(`DELETE FROM ${cut}.dnslens_migrations WHERE NOT startsWith(name, 'dictionaries/')`);
    expect(await db.rows(`SELECT count() > 0 FROM ${cut}.dnslens_migrations`)).toEqual([['1']]);
    // the numbered files run again as on an empty store (0004's view would read a column 0019 dropped)
    expect(await migrate(db, { ...BASE, database: cut })).toEqual(ALL);
    await migrate(db, { ...BASE, database: 'mig_uncut' });
    expect(await schemaOf(db, cut)).toEqual(await schemaOf(db, 'mig_uncut'));
  }, 120_000);
});

describe('migrations from a directory left by an earlier set', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db?.close());

  it('add the later migrations, keep the data, back-fill every rollup from it, and keep counting', async () => {
    const early = schemaCopy(2);
    expect(await migrate(db, { ...BASE, root: early })).toEqual(['0001_dns_log.sql', '0002_dictionaries.sql']);
    // From 2026-06-01 00:00 UTC, a Monday and the 1st: every period holding these rows is backed by
    // DNS_LOG from its start, so 0014's rebuild covers all of them (the latency columns included).
    const june = Date.UTC(2026, 5, 1) / 1000;
    const before = traffic({ seed: 21, queries: 4000, names: 700, clients: 60, startSec: june, spanSec: 20 * 86400, servers: ['a', 'b'] });
    before.unshift({ ...before[0], timeSec: june, timeNsec: 0 });
    await insertEvents(db, DB, before.slice(0, 3000));
    await insertEvents(db, DB, before.slice(3000));

    const later = await migrate(db, BASE);
    expect(later).toEqual(ALL.filter((f) => Number(f.slice(0, 4)) > 2));
    const after = traffic({ seed: 22, queries: 3000, names: 700, clients: 60, startSec: june + 5 * 86400, spanSec: 20 * 86400, servers: ['a', 'b'] });
    await insertEvents(db, DB, after);
    const n = await db.rows(`SELECT count() FROM ${DB}.DNS_LOG`);
    expect(Number(n[0][0])).toBe(before.length + after.length);

    await optimizeAll(db, DB);
    await expectPairsEqual(db, [...trafficPairs(DB), ...namesPairs(DB), ...clientPairs(DB, 24, 48), ...domainPairs(DB), ...latencyPairs(DB, 24, 48)]);
  }, 300_000);
});

describe('migrations from a directory left by 0001-0010 (0011 replaces a view, 0012 changes codecs)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db?.close());

  it('keep the rollups rows, count on through the new view, and end with the schema of a fresh directory', async () => {
    expect((await migrate(db, { ...BASE, root: schemaCopy(10) })).at(-1)).toBe('0010_health.sql');
    const before = traffic({ seed: 31, queries: 3000, names: 500, clients: 40, startSec: START, spanSec: 3 * 86400, servers: ['a'] });
    await insertEvents(db, DB, before);
    expect(await migrate(db, BASE)).toEqual(ALL.filter((f) => Number(f.slice(0, 4)) > 10));
    const after = traffic({ seed: 32, queries: 3000, names: 500, clients: 40, startSec: START + 86400, spanSec: 3 * 86400, servers: ['a'] });
    await insertEvents(db, DB, after);
    await optimizeAll(db, DB);
    await expectPairsEqual(db, domainPairs(DB));

    const fresh = 'mig_fresh';
    await migrate(db, { ...BASE, database: fresh });
    expect(await schemaOf(db, DB)).toEqual(await schemaOf(db, fresh));
  }, 300_000);
});

describe('migrations from a directory left by 0001-0012, holding rows (the rollups of issue #12)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db?.close());

  // What the reports, the seed guide's views and the dashboards read, each as one sorted result.
  // (Not the top-10 lists: among names with equal counts which ten stay depends on merge order;
  // rollups.test.ts checks them against DNS_LOG.)
  const answers = async (): Promise<Record<string, string[][]>> => {
    const q: Record<string, string> = {
      daily: `SELECT * FROM ${DB}.dns_daily_stats ORDER BY stat_date, domain`,
      weekly: `SELECT * FROM ${DB}.dns_weekly_stats ORDER BY week_start, apex_domain`,
      monthly: `SELECT * FROM ${DB}.dns_monthly_stats ORDER BY year_month, apex_domain`,
      heatmap: `SELECT * FROM ${DB}.dns_hourly_heatmap ORDER BY stat_date, hour_of_day, apex_domain`,
    };
    for (const level of ['minute', 'hour', 'day']) {
      q[`latency_clients_${level}`] = `SELECT Time, Server, ClientIPv4, ClientIPv6, sum(Answered), sum(Unanswered), sum(LatencySumUs), sumMap(LatencyBuckets)
        FROM ${DB}.dns_latency_clients_${level} GROUP BY ALL ORDER BY ALL`;
      q[`latency_${level}`] = `SELECT Time, Server, ServerIPv4, ServerIPv6, sum(Answered), sum(Unanswered), sum(LatencySumUs), sumMap(LatencyBuckets)
        FROM ${DB}.dns_latency_${level} GROUP BY ALL ORDER BY ALL`;
    }
    for (const level of ['minute', 'hour', 'day', 'week', 'month']) {
      q[`traffic_${level}`] = `SELECT Time, Server, QR, Protocol, Type, ResponseCode, sum(Messages), sum(Bytes), max(MaxSize) FROM ${DB}.dns_traffic_${level} GROUP BY ALL ORDER BY ALL`;
      q[`names_${level}`] = `SELECT Time, Server, sum(Queries), uniqCombinedMerge(12)(UniqueNames), uniqCombinedMerge(12)(UniqueClients)
        FROM ${DB}.dns_names_${level} GROUP BY ALL ORDER BY ALL`;
      q[`clients_${level}`] = `SELECT Time, Server, ClientIPv4, ClientIPv6, sum(Queries), sum(Responses), sum(NXDomain), sum(ServFail), sum(Refused)
        FROM ${DB}.dns_clients_${level} GROUP BY ALL ORDER BY ALL`;
    }
    q.apex_month = `SELECT Month, Server, Apex, sum(Queries), sum(NXDomain), sum(ServFail), groupBitOr(ActiveDays) FROM ${DB}.dns_apex_month GROUP BY ALL ORDER BY ALL`;
    const out: Record<string, string[][]> = {};
    for (const [name, sql] of Object.entries(q)) out[name] = await db.rows(sql);
    return out;
  };

  it("keep every answer: the seed guide's views, the latency per client and server, every rollup family", async () => {
    expect((await migrate(db, { ...BASE, root: schemaCopy(12) })).at(-1)).toBe('0012_answer_codecs.sql');
    // 10 days from a Thursday across a month's end: partial first week, day and month
    const events = traffic({ seed: 51, queries: 5000, names: 800, clients: 70, startSec: Date.UTC(2026, 3, 23, 13, 17) / 1000, spanSec: 10 * 86400, servers: ['a', 'b'] });
    await insertEvents(db, DB, events.slice(0, 2500));
    await insertEvents(db, DB, events.slice(2500));
    await optimizeAll(db, DB);
    const before = await answers();
    for (const [name, rows] of Object.entries(before)) expect(rows.length, name).toBeGreaterThan(0);

    expect(await migrate(db, BASE)).toEqual(ALL.filter((f) => Number(f.slice(0, 4)) > 12));
    await optimizeAll(db, DB);
    const after = await answers();
    for (const name of Object.keys(before)) {
      const at = after[name].findIndex((r, i) => JSON.stringify(r) !== JSON.stringify(before[name][i]));
      expect(after[name], `${name} at ${at}: ${JSON.stringify(after[name][at])} != ${JSON.stringify(before[name][at])}`).toEqual(before[name]);
    }
    // and the latency columns of the merged client tables equal DNS_LOG aggregated, minute to day
    await expectPairsEqual(db, clientPairs(DB, 24, 48).slice(0, 3));
  }, 300_000);
});

describe('a store held by a running capture (migrated through its endpoint)', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db?.close());

  it('refuses a views.sql change before any file runs, so that no view is dropped meanwhile', async () => {
    // a store at 0018 whose views.sql differs from today's (0019 drops the name views, views.sql re-creates them)
    const root = schemaCopy(18);
    const views = join(root, 'views.sql');
    writeFileSync(views, readFileSync(views, 'utf8').replace(/\n-- Names: distinct[\s\S]*?GROUP BY Time, Server;\n/, '\n'));
    await migrate(db, { ...BASE, root });
    const nameViews = `SELECT count() FROM system.tables WHERE database = '${DB}' AND name LIKE 'dns_names_%_mv'`;
    const before = await db.rows(nameViews);
    await expect(migrate(db, { ...BASE, noRebuild: 'held by a test' })).rejects.toThrow(/rebuilds the rollups, and held by a test/);
    expect(await db.rows(nameViews)).toEqual(before);
    expect(await db.rows(`SELECT count() FROM ${DB}.dnslens_migrations WHERE name = '0019_names_no_top.sql'`)).toEqual([['0']]);
    // once the capture is stopped, the same migration goes through
    expect(await migrate(db, BASE)).toEqual(['0019_names_no_top.sql']);
    expect(await db.rows(nameViews)).toEqual([['5']]);
  }, 120_000);
});

describe('migration rules', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterEach(async () => {
    await db.exec(`DROP DATABASE IF EXISTS ${DB} SYNC`);
  });
  afterAll(() => db?.close());

  it('refuse an applied migration whose file changed, naming it', async () => {
    const root = schemaCopy(1);
    await migrate(db, { ...BASE, root });
    const file = join(root, 'migrations', '0001_dns_log.sql');
    writeFileSync(file, readFileSync(file, 'utf8') + '\n-- edited\n');
    await expect(migrate(db, { ...BASE, root })).rejects.toThrow(/0001_dns_log\.sql changed after it was applied/);
    // line endings alone are not a change
    writeFileSync(file, readFileSync(join(schemaRoot(), 'migrations', '0001_dns_log.sql'), 'utf8').replace(/\n/g, '\r\n'));
    expect(await migrate(db, { ...BASE, root })).toEqual([]);
  }, 120_000);

  it('stop at a failing statement, naming file and statement, and finish after the fix', async () => {
    const root = schemaCopy(1);
    const bad = join(root, 'migrations', '0002_broken.sql');
    writeFileSync(bad, `CREATE TABLE IF NOT EXISTS {{database}}.t1 (a UInt8) ENGINE = MergeTree ORDER BY a;\nCREATE TABLE {{database}}.t2 (a NoSuchType) ENGINE = MergeTree ORDER BY a;\n`);
    await expect(migrate(db, { ...BASE, root })).rejects.toThrow(/0002_broken\.sql, statement 2 \(CREATE TABLE mig\.t2/);
    const recorded = await db.rows(`SELECT name FROM ${DB}.dnslens_migrations ORDER BY name`);
    expect(recorded).toEqual([['0001_dns_log.sql']]);
    writeFileSync(bad, `CREATE TABLE IF NOT EXISTS {{database}}.t1 (a UInt8) ENGINE = MergeTree ORDER BY a;\nCREATE TABLE IF NOT EXISTS {{database}}.t2 (a UInt16) ENGINE = MergeTree ORDER BY a;\n`);
    expect(await migrate(db, { ...BASE, root })).toEqual(['0002_broken.sql']);
  }, 120_000);

  it('reload a dictionary file when it changes, and re-create the dictionaries with the given credentials', async () => {
    const root = schemaCopy(2);
    await migrate(db, { ...BASE, root });
    const tsv = join(root, 'dictionaries', 'domain_categories.tsv');
    writeFileSync(tsv, readFileSync(tsv, 'utf8') + 'example.org\tresearch\tIANA\t7\n');
    const logs: string[] = [];
    await migrate(db, { ...BASE, root, log: (m) => logs.push(m) });
    expect(logs).toContain('loaded dictionary data: domain_categories.tsv');
    expect(await db.rows(`SELECT dictGet('${DB}.domain_categories', 'Category', 'example.org'), dictGet('${DB}.domain_categories', 'Category', 'netflix.com')`)).toEqual([['research', 'streaming']]);

    // chdb's default user has no password: explicit credentials for it must work the same way
    await migrate(db, { ...BASE, root, dictionaryAuth: { user: 'default', password: '' } });
    const ddl = await db.query<{ q: string }>(`SELECT create_table_query AS q FROM system.tables WHERE database = '${DB}' AND name = 'dns_type'`);
    expect(ddl[0].q).toMatch(/USER 'default' PASSWORD '\[HIDDEN\]'/);
    expect(await db.rows(`SELECT dictGet('${DB}.dns_type', 'Name', toUInt64(65))`)).toEqual([['HTTPS']]);

    writeFileSync(tsv, 'Apex\tCategory\n');
    await expect(migrate(db, { ...BASE, root })).rejects.toThrow(/domain_categories\.tsv: header Apex,Category does not match/);
  }, 120_000);

  it('fill placeholders, refusing unknown ones and bad values', () => {
    const values = placeholders({ ...BASE, clientMaskV4: 24 });
    expect(render('a {{database}} {{ttlDays}} {{ttlWeekDays}} {{clientMaskV4}} {{clientMaskV6}} {{dictionaryAuth}}.', values, 'x')).toBe('a mig 30 1825 24 48 .');
    expect(() => render('{{nope}}', values, 'f.sql')).toThrow(/f\.sql: unknown or unset placeholder \{\{nope\}\}/);
    expect(() => render('{{cluster}}', values, 'f.sql')).toThrow(/cluster/);
    expect(() => placeholders({ ...BASE, database: 'a-b; DROP' })).toThrow(/not a plain identifier/);
    expect(() => placeholders({ ...BASE, ttlDays: 0 })).toThrow(/ttlDays/);
    expect(() => placeholders({ ...BASE, clientMaskV6: 129 })).toThrow(/clientMaskV6/);
    const auth = placeholders({ ...BASE, dictionaryAuth: { user: "o'neil", password: 'p\\w' } }).get('dictionaryAuth');
    expect(auth).toBe("USER 'o\\'neil' PASSWORD 'p\\\\w'");
  });

  it('split statements at a semicolon ending a line, never inside comments', () => {
    const sql = "-- a comment;\nCREATE TABLE t (a String DEFAULT 'x;y') ENGINE = Memory;\n\n-- only a comment;\nSELECT 1;  \nSELECT\n  2\n";
    expect(splitStatements(sql)).toEqual([
      "-- a comment;\nCREATE TABLE t (a String DEFAULT 'x;y') ENGINE = Memory",
      '-- only a comment;\nSELECT 1',
      'SELECT\n  2',
    ]);
  });
});

describe('cluster variant', () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(() => db?.close());

  it('has the same migrations, and every statement parses as written', async () => {
    const values = placeholders({ ...BASE, cluster: 'dnslens' });
    const labels = ['bootstrap.sql', ...ALL.map((f) => join('migrations', f)), join('dictionaries', 'dictionaries.sql'), 'views.sql'];
    const derived = deriveCluster(labels.map((l) => ({ name: l, sql: readFileSync(join(schemaRoot(), l), 'utf8') })));
    expect(derived.map((d) => d.name)).toEqual(labels);
    const clustered = derived.flatMap((d) => d.statements.map((st) => render(st, values, d.name)));
    const statements = (root: string) => labels.flatMap((l) => splitStatements(render(readFileSync(join(root, l), 'utf8'), values, l)));
    for (const st of clustered) {
      const lit = "'" + st.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
      const formatted = await db.rows(`SELECT formatQuerySingleLine(${lit})`);
      expect(formatted[0][0].length, st.slice(0, 60)).toBeGreaterThan(0);
      if (/^CREATE /m.test(st)) expect(st).toMatch(/ON CLUSTER 'dnslens'/);
    }
    // the single-server statements, plus one Distributed table per table that keeps data (not the
    // Null stage tables, which keep nothing and stay local)
    const single = statements(schemaRoot());
    const dataTables = single.filter((st) => /CREATE TABLE IF NOT EXISTS \w+\.(?!dict_|dnslens_migrations|dnslens_imports|dnslens_log_chunks)/.test(st) && !/ENGINE = Null/.test(st)).length;
    // and each ALTER ... ADD or DROP COLUMN and DROP TABLE twice: the local tables, then the
    // Distributed one (a codec change goes to the local tables only; tables copied to every node have one)
    const twice = single.filter((st) => (/^ALTER TABLE[\s\S]*(ADD|DROP) COLUMN/m.test(st) && !/^ALTER TABLE \w+\.dnslens_imports\b/m.test(st)) || /^DROP TABLE/m.test(st)).length;
    // and none for a deduplication window of non-replicated tables (replicated ones deduplicate by themselves)
    const none = single.filter((st) => /^ALTER TABLE \S+ MODIFY SETTING non_replicated_deduplication_window = \d+$/m.test(st)).length;
    expect(clustered.length).toBe(single.length + dataTables + twice - none);
    expect(clustered.filter((st) => /ENGINE = Distributed\('dnslens'/.test(st)).length).toBe(dataTables);
  });

  it('creates on one node, with the same columns, and its rollups equal DNS_LOG aggregated', async () => {
    const runner = singleNode(db);
    expect(await migrate(runner, { ...BASE, database: 'clu', variant: 'cluster', cluster: 'dnslens' })).toEqual(ALL);
    expect(await migrate(runner, { ...BASE, database: 'clu', variant: 'cluster', cluster: 'dnslens' })).toEqual([]);
    // the single-server schema beside it, in another database of the same session
    await migrate(db, BASE);
    const cols = (database: string, table: string) =>
      db.rows(`SELECT name, type, default_kind, default_expression FROM system.columns WHERE database = '${database}' AND table = '${table}' ORDER BY position`);
    for (const t of ['DNS_LOG', 'dns_traffic_minute', 'dns_names_hour', 'dns_clients_day', 'dns_domain_day', 'dns_apex_month', 'dns_weekly_stats']) {
      const want = await cols(DB, t);
      expect(await cols('clu', t), t).toEqual(want);
      if (!t.endsWith('_stats')) expect(await cols('clu', `${t}_local`), `${t}_local`).toEqual(want);
    }
    const retained = Number((await db.rows(`SELECT count() FROM system.tables WHERE database = '${DB}' AND startsWith(comment, 'retention:')`))[0][0]);
    const events = traffic({ seed: 5, queries: 3000, names: 400, clients: 50, startSec: START, spanSec: 10 * 86400 });
    await insertEvents(db, 'clu', events.slice(0, 2000));
    await insertEvents(db, 'clu', events.slice(2000));
    await optimizeAll(db, 'clu');
    await expectPairsEqual(db, [...trafficPairs('clu'), ...namesPairs('clu'), ...clientPairs('clu', 24, 48), ...domainPairs('clu'), ...latencyPairs('clu', 24, 48)]);
    // TTLs live on the local tables: as many as the single-server schema has, all of them local
    const retention = await db.rows(
      `SELECT countIf(endsWith(name, '_local')), count() FROM system.tables WHERE database = 'clu' AND engine LIKE '%MergeTree' AND startsWith(comment, 'retention:')`,
    );
    expect(retention[0].map(Number)).toEqual([retained, retained]);
  }, 300_000);
});
