// The cluster schema derived from the single-server SQL (src/store/cluster.ts): statement for
// statement the hand-made copy it replaces (test/fixtures/cluster-v1), unknown statement kinds
// refused, and clusters that applied the hand-made copy keep migrating.

import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_V1_CHECKSUMS, deriveCluster, type SchemaFile } from '../src/store/cluster.js';
import { checksum, DEFAULT_ROLLUP_TTL, migrate, schemaRoot, splitStatements, type MigrateOptions, type SqlRunner } from '../src/store/migrate.js';
import { openTestDb, singleNode, type TestDb } from './chdb-runner.js';

const V1 = join(import.meta.dirname, 'fixtures', 'cluster-v1');
const ALL = readdirSync(join(schemaRoot(), 'migrations')).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort();
const LABELS = ['bootstrap.sql', ...ALL.map((f) => `migrations/${f}`), 'dictionaries/dictionaries.sql'];
/** The migrations the hand-made copy covered (0001-0010); later ones only ever had the derived form. */
const V1_ALL = ALL.filter((f) => Number(f.slice(0, 4)) <= 10);

function schemaFiles(root: string): SchemaFile[] {
  return LABELS.map((l) => ({ name: l, sql: readFileSync(join(root, l), 'utf8') }));
}

/** A statement without comment lines, with every run of whitespace one space. */
function normal(statement: string): string {
  return statement
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('derived cluster schema', () => {
  it('equals the hand-made copy, file by file and statement by statement', () => {
    expect(readdirSync(join(V1, 'migrations')).sort()).toEqual(V1_ALL);
    const derived = deriveCluster(schemaFiles(schemaRoot()));
    expect(derived.map((d) => d.name)).toEqual(LABELS);
    let count = 0;
    for (const d of derived.filter((x) => !/^migrations\//.test(x.name) || V1_ALL.includes(x.name.slice('migrations/'.length)))) {
      const want = splitStatements(readFileSync(join(V1, d.name), 'utf8')).map(normal);
      // dictionaries.sql is no migration: it gains the dictionaries of later migrations (dga_ngrams, 0018) after the copy's
      const got = d.name === 'dictionaries/dictionaries.sql' ? d.statements.slice(0, want.length) : d.statements;
      expect(got.map(normal), d.name).toEqual(want);
      count += want.length;
    }
    expect(count).toBeGreaterThan(100);
  });

  it('refuses a statement kind it has no rule for, naming file and statement', () => {
    const base = schemaFiles(schemaRoot()).slice(0, 2); // bootstrap and DNS_LOG
    const extra = (sql: string) => deriveCluster([...base, { name: 'migrations/0099_new.sql', sql }]);
    expect(() => extra('CREATE TABLE IF NOT EXISTS {{database}}.t1 (a UInt8) ENGINE = MergeTree ORDER BY a;\nRENAME TABLE {{database}}.t1 TO {{database}}.t2;\n')).toThrow(
      /migrations\/0099_new\.sql, statement 2 \(RENAME TABLE \{\{database\}\}\.t1 TO.*no cluster rule for this kind of statement/,
    );
    expect(() => extra('CREATE TABLE {{database}}.t (a UInt8)\nENGINE = SummingMergeTree((a, b))\nORDER BY a;')).toThrow(/statement 1 .*SummingMergeTree with nested arguments/);
    expect(() => extra('CREATE TABLE {{database}}.t (a UInt8)\nENGINE = Memory;')).toThrow(/engine Memory has no cluster rule/);
    expect(() => extra('CREATE TABLE {{database}}.t\nENGINE = MergeTree ORDER BY ID AS SELECT * FROM {{database}}.DNS_LOG;')).toThrow(/CREATE TABLE \.\.\. AS has no cluster rule/);
    expect(() => extra('ALTER TABLE {{database}}.DNS_LOG\n    DROP COLUMN Unanswered;')).toThrow(/no cluster rule/); // only DROP COLUMN IF EXISTS has one
    // DROP COLUMN IF EXISTS and DROP TABLE IF EXISTS: the Distributed table first, then the local one
    const [, , dropped] = extra('ALTER TABLE {{database}}.DNS_LOG\n    DROP COLUMN IF EXISTS Unanswered;\nDROP TABLE IF EXISTS {{database}}.DNS_LOG;\n');
    expect(dropped.statements.map((st) => st.split('\n')[0])).toEqual([
      "ALTER TABLE {{database}}.DNS_LOG ON CLUSTER '{{cluster}}'",
      "ALTER TABLE {{database}}.DNS_LOG_local ON CLUSTER '{{cluster}}'",
      "DROP TABLE IF EXISTS {{database}}.DNS_LOG ON CLUSTER '{{cluster}}'",
      "DROP TABLE IF EXISTS {{database}}.DNS_LOG_local ON CLUSTER '{{cluster}}'",
    ]);
    expect(() => extra('ALTER TABLE {{database}}.nope\n    ADD COLUMN IF NOT EXISTS a UInt8;')).toThrow(/table nope is not created by an earlier statement/);
    expect(() => extra('ALTER TABLE {{database}}.DNS_LOG\n    MODIFY COLUMN Size UInt32 CODEC(ZSTD(1)),\n    MODIFY COLUMN ID UInt32;')).toThrow(/MODIFY COLUMN without a CODEC/);
    expect(() =>
      extra('CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.v TO {{database}}.DNS_LOG AS\nSELECT * FROM {{database}}.DNS_LOG AS a JOIN {{database}}.DNS_LOG AS b USING ID;'),
    ).toThrow(/must read exactly one table/);
    // the rules that apply: a new sharded table with its MV, an ALTER of both its tables
    const [, , added] = extra(
      'CREATE TABLE IF NOT EXISTS {{database}}.x\n(\n    a UInt8 CODEC(ZSTD(3))\n)\nENGINE = SummingMergeTree\nORDER BY a;\n' +
        'CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.x_mv TO {{database}}.x AS\nSELECT toUInt8(1) AS a\nFROM {{database}}.DNS_LOG AS log;\n' +
        'ALTER TABLE {{database}}.x\n    ADD COLUMN IF NOT EXISTS b UInt8 CODEC(Delta, ZSTD(3));\n' +
        'DROP VIEW IF EXISTS {{database}}.x_mv;\n' +
        'ALTER TABLE {{database}}.x\n    MODIFY COLUMN a UInt8 CODEC(ZSTD(1)),\n    MODIFY COLUMN b UInt8 CODEC(ZSTD(1));\n',
    );
    expect(added.statements.map(normal)).toEqual([
      "CREATE TABLE IF NOT EXISTS {{database}}.x_local ON CLUSTER '{{cluster}}' ( a UInt8 CODEC(ZSTD(3)) ) ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{{database}}/x_local', '{replica}') ORDER BY a",
      "CREATE TABLE IF NOT EXISTS {{database}}.x ON CLUSTER '{{cluster}}' AS {{database}}.x_local ENGINE = Distributed('{{cluster}}', '{{database}}', 'x_local', rand())",
      "CREATE MATERIALIZED VIEW IF NOT EXISTS {{database}}.x_mv ON CLUSTER '{{cluster}}' TO {{database}}.x_local AS SELECT toUInt8(1) AS a FROM {{database}}.DNS_LOG_local AS log",
      "ALTER TABLE {{database}}.x_local ON CLUSTER '{{cluster}}' ADD COLUMN IF NOT EXISTS b UInt8 CODEC(Delta, ZSTD(3))",
      "ALTER TABLE {{database}}.x ON CLUSTER '{{cluster}}' ADD COLUMN IF NOT EXISTS b UInt8",
      "DROP VIEW IF EXISTS {{database}}.x_mv ON CLUSTER '{{cluster}}'",
      "ALTER TABLE {{database}}.x_local ON CLUSTER '{{cluster}}' MODIFY COLUMN a UInt8 CODEC(ZSTD(1)), MODIFY COLUMN b UInt8 CODEC(ZSTD(1))",
    ]);
    // engine arguments follow the replica; a deduplication window of non-replicated tables has no
    // cluster form (replicated tables deduplicate inserts by themselves); other settings go to the local table
    const [, , more] = extra(
      'CREATE TABLE IF NOT EXISTS {{database}}.r\n(\n    a UInt8,\n    v UInt64\n)\nENGINE = ReplacingMergeTree(v)\nORDER BY a;\n' +
        'ALTER TABLE {{database}}.r MODIFY SETTING non_replicated_deduplication_window = 1000;\n' +
        'ALTER TABLE {{database}}.r MODIFY SETTING non_replicated_deduplication_window = 1000, merge_with_ttl_timeout = 3600;\n',
    );
    expect(more.statements.map(normal)).toEqual([
      "CREATE TABLE IF NOT EXISTS {{database}}.r_local ON CLUSTER '{{cluster}}' ( a UInt8, v UInt64 ) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{{database}}/r_local', '{replica}', v) ORDER BY a",
      "CREATE TABLE IF NOT EXISTS {{database}}.r ON CLUSTER '{{cluster}}' AS {{database}}.r_local ENGINE = Distributed('{{cluster}}', '{{database}}', 'r_local', rand())",
      "ALTER TABLE {{database}}.r_local ON CLUSTER '{{cluster}}' MODIFY SETTING merge_with_ttl_timeout = 3600",
    ]);
  });

  it('knows the checksums of the hand-made copy and of the files it was made from', () => {
    const want = Object.fromEntries(
      V1_ALL.map((f) => [f, { single: checksum(readFileSync(join(schemaRoot(), 'migrations', f), 'utf8')), v1: checksum(readFileSync(join(V1, 'migrations', f), 'utf8')) }]),
    );
    expect(CLUSTER_V1_CHECKSUMS).toEqual(want);
  });
});

describe('a cluster that applied the hand-made copy', () => {
  const DB = 'oldclu';
  const BASE: MigrateOptions = { ttlDays: 30, rollupTtl: DEFAULT_ROLLUP_TTL, database: DB, cluster: 'dnslens' };
  let db: TestDb;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterEach(async () => {
    await db.exec(`DROP DATABASE IF EXISTS ${DB} SYNC`);
  });
  afterAll(() => db?.close());

  /** Applies the hand-made files as dnslens did before: each file as written, its checksum recorded. */
  async function applyV1(runner: SqlRunner, upTo: number): Promise<string[]> {
    const root = mkdtempSync(join(tmpdir(), 'dnslens-cluster-v1-'));
    temps.push(root);
    const numbered = (src: string) => /\/(\d{4})_[^/]*\.sql$/.exec(src);
    cpSync(V1, root, { recursive: true, filter: (src) => Number(numbered(src)?.[1] ?? 0) <= upTo });
    return migrate(runner, { ...BASE, root, tsvDir: join(schemaRoot(), 'dictionaries') });
  }

  it('migrates on with the derived schema: nothing re-applied, the later files derived', async () => {
    const runner = singleNode(db);
    expect(await applyV1(runner, 7)).toEqual(ALL.slice(0, 7));
    const recorded = await db.rows(`SELECT name, checksum FROM ${DB}.dnslens_migrations WHERE NOT startsWith(name, 'dictionaries/') ORDER BY name`);
    expect(recorded).toEqual(ALL.slice(0, 7).map((f) => [f, CLUSTER_V1_CHECKSUMS[f].v1]));

    const logs: string[] = [];
    expect(await migrate(runner, { ...BASE, variant: 'cluster', log: (m) => logs.push(m) })).toEqual(ALL.slice(7));
    expect(logs.filter((l) => /changed|not known/.test(l))).toEqual([]);
    // the files applied now record the single-server checksum; the old ones keep theirs
    const after = new Map((await db.rows(`SELECT name, checksum FROM ${DB}.dnslens_migrations WHERE NOT startsWith(name, 'dictionaries/')`)).map((r) => [r[0], r[1]]));
    const single = (f: string) => checksum(readFileSync(join(schemaRoot(), 'migrations', f), 'utf8'));
    for (const f of ALL) expect(after.get(f), f).toBe(Number(f.slice(0, 4)) <= 7 ? CLUSTER_V1_CHECKSUMS[f].v1 : single(f));
    // 0008 (ALTER of DNS_LOG) reached both the local and the Distributed table
    for (const t of ['DNS_LOG', 'DNS_LOG_local']) {
      expect(await db.rows(`SELECT count() FROM system.columns WHERE database = '${DB}' AND table = '${t}' AND name IN ('Unanswered', 'ClientId', 'MessageType')`), t).toEqual([['3']]);
    }
    expect(await migrate(runner, { ...BASE, variant: 'cluster' })).toEqual([]);
  }, 180_000);

  it('still refuses a recorded checksum that is neither the file nor its hand-made copy, and an old one once the file changed', async () => {
    const runner = singleNode(db);
    await applyV1(runner, 2);
    await db.exec(`INSERT INTO ${DB}.dnslens_migrations (name, checksum) VALUES ('0002_dictionaries.sql', 'abc123')`);
    await expect(migrate(runner, { ...BASE, variant: 'cluster' })).rejects.toThrow(/0002_dictionaries\.sql changed after it was applied/);

    await db.exec(`DROP DATABASE IF EXISTS ${DB} SYNC`);
    await applyV1(runner, 1);
    const root = mkdtempSync(join(tmpdir(), 'dnslens-cluster-schema-'));
    temps.push(root);
    cpSync(schemaRoot(), root, { recursive: true });
    const file = join(root, 'migrations', '0001_dns_log.sql');
    writeFileSync(file, readFileSync(file, 'utf8') + '\n-- edited\n');
    await expect(migrate(runner, { ...BASE, variant: 'cluster', root })).rejects.toThrow(/0001_dns_log\.sql changed after it was applied/);
  }, 180_000);
});
