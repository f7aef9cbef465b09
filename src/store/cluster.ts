// The cluster schema, derived statement by statement from the single-server SQL (clickhouse/*.sql)
// instead of kept as a second hand-made copy. The rules (clickhouse/README.md, "Cluster"):
//
//   CREATE DATABASE d                      -> CREATE DATABASE d ON CLUSTER
//   CREATE TABLE T ... ENGINE = xMergeTree -> T_local ON CLUSTER, ReplicatedxMergeTree('/clickhouse/tables/{shard}/db/T_local', '{replica}'),
//                                             (xMergeTree(args): the args follow, ReplicatedxMergeTree(path, replica, args))
//                                             then T ON CLUSTER AS T_local ENGINE = Distributed(cluster, db, T_local, key)
//                                             (key: cityHash64(Question) for DNS_LOG, rand() for the rest)
//     ... named dict_*, dnslens_migrations, dnslens_imports or dnslens_log_chunks -> T ON CLUSTER, ReplicatedxMergeTree('/clickhouse/tables/all/db/T', '{replica}')
//                                             (a full copy on every node, no Distributed table)
//     ... ENGINE = Null                    -> T ON CLUSTER (a stage: local to each node)
//   CREATE MATERIALIZED VIEW V TO T AS ... FROM S -> V ON CLUSTER TO T_local ... FROM S_local
//                                             (each shard rolls up its own rows; a Null stage keeps its name)
//   CREATE VIEW V AS                        -> V ON CLUSTER AS (reads the Distributed tables)
//   DROP VIEW IF EXISTS V                  -> the same ON CLUSTER (a view is replaced by dropping and creating it)
//   CREATE OR REPLACE DICTIONARY D         -> D ON CLUSTER
//   ALTER TABLE T ADD COLUMN ...           -> T_local ON CLUSTER ..., then T ON CLUSTER ... without CODECs
//   ALTER TABLE T MODIFY COLUMN c t CODEC(...), ... -> T_local ON CLUSTER only (a codec is storage;
//                                             the Distributed table keeps the same type). Every
//                                             MODIFY must name a CODEC: a type change needs a rule of its own.
//   ALTER TABLE T DROP COLUMN IF EXISTS c  -> T ON CLUSTER, then T_local ON CLUSTER
//   DROP TABLE IF EXISTS T                 -> T ON CLUSTER, then T_local ON CLUSTER
//   ALTER TABLE T MODIFY SETTING s = v, ...  -> T_local ON CLUSTER (T for a full copy); non_replicated_*
//                                             settings are left out (replicated tables deduplicate
//                                             inserts by themselves), and with nothing left, so is the statement
//   INSERT INTO T SELECT ...               -> as written (a back-fill, run once, through the Distributed tables)
//
// Any other statement is refused with an error naming the file and statement, so a new kind of
// statement cannot silently yield wrong cluster SQL: add a rule here first.

import { sqlOf, splitStatements } from './statements.js';

export interface SchemaFile {
  name: string; // for messages: 'bootstrap.sql', '0001_dns_log.sql', 'dictionaries/dictionaries.sql'
  sql: string; // the single-server text, placeholders not filled
}

export interface DerivedFile {
  name: string;
  statements: string[]; // cluster statements, placeholders ({{database}}, {{cluster}}, ...) not filled
}

type TableKind = 'sharded' | 'everywhere' | 'stage';

/** Tables that hold a full copy on every node: lookup data, and the records of applied migrations and of imports. */
const EVERYWHERE_RE = /^(dict_\w+|dnslens_migrations|dnslens_imports|dnslens_log_chunks)$/;
/** Sharding keys of the Distributed tables; any table not named here is sharded by rand(). */
const SHARD_KEYS: Record<string, string> = { DNS_LOG: 'cityHash64(Question)' };

const ON_CLUSTER = " ON CLUSTER '{{cluster}}'";
const DB = '{{database}}';

const CREATE_DATABASE_RE = /^(CREATE DATABASE (?:IF NOT EXISTS )?\{\{database\}\})$/;
const CREATE_TABLE_RE = /^(CREATE TABLE (?:IF NOT EXISTS )?)\{\{database\}\}\.(\w+)(\s[\s\S]*)$/;
const ENGINE_RE = /\sENGINE\s*=\s*(\w+)/g;
const CREATE_MV_RE = /^(CREATE MATERIALIZED VIEW (?:IF NOT EXISTS )?\{\{database\}\}\.\w+) TO \{\{database\}\}\.(\w+) AS(\s[\s\S]*)$/;
const CREATE_VIEW_RE = /^(CREATE VIEW (?:IF NOT EXISTS )?\{\{database\}\}\.\w+) AS(\s[\s\S]*)$/;
const DROP_VIEW_RE = /^(DROP VIEW IF EXISTS \{\{database\}\}\.\w+)$/;
const CREATE_DICTIONARY_RE = /^(CREATE OR REPLACE DICTIONARY \{\{database\}\}\.\w+)(\s*\n[\s\S]*)$/;
const ALTER_ADD_RE = /^ALTER TABLE \{\{database\}\}\.(\w+)(\s*\n\s*ADD COLUMN [\s\S]*)$/;
const ALTER_CODEC_RE = /^ALTER TABLE \{\{database\}\}\.(\w+)(\s*\n\s*MODIFY COLUMN [\s\S]*)$/;
const ALTER_DROP_RE = /^ALTER TABLE \{\{database\}\}\.(\w+)(\s*\n\s*DROP COLUMN IF EXISTS \w+(?:,\s*\n\s*DROP COLUMN IF EXISTS \w+)*)$/;
const DROP_TABLE_RE = /^DROP TABLE IF EXISTS \{\{database\}\}\.(\w+)$/;
const ALTER_SETTING_RE = /^ALTER TABLE \{\{database\}\}\.(\w+)\s+MODIFY SETTING ([\s\S]+)$/;
const INSERT_RE = /^INSERT INTO \{\{database\}\}\.(\w+)\s/;
const CODEC_RE = / CODEC\((?:[^()]|\([^()]*\))*\)/g;


/** The text with the inside of '...' literals blanked (same length, so offsets still fit the original). */
function outsideStrings(sql: string): string {
  return sql.replace(/'(?:[^'\\]|\\.)*'/g, (lit) => "'" + '_'.repeat(lit.length - 2) + "'");
}

class Deriver {
  private readonly tables = new Map<string, TableKind>();

  derive(file: SchemaFile): DerivedFile {
    const statements = splitStatements(file.sql).map(sqlOf) // comment lines describe the single-server form;
    const out: string[] = [];
    statements.forEach((st, i) => {
      try {
        out.push(...this.statement(st));
      } catch (err) {
        const first = st.split('\n', 1)[0].slice(0, 80);
        throw new Error(`${file.name}, statement ${i + 1} (${first}): ${(err as Error).message}`);
      }
    });
    return { name: file.name, statements: out };
  }

  private statement(st: string): string[] {
    let m: RegExpMatchArray | null;
    if ((m = st.match(CREATE_DATABASE_RE))) return [m[1] + ON_CLUSTER];
    if ((m = st.match(CREATE_TABLE_RE))) return this.createTable(m[1], m[2], m[3]);
    if ((m = st.match(CREATE_MV_RE))) return [this.materializedView(m[1], m[2], m[3])];
    if ((m = st.match(CREATE_VIEW_RE))) return [`${m[1]}${ON_CLUSTER} AS${m[2]}`];
    if ((m = st.match(DROP_VIEW_RE))) return [m[1] + ON_CLUSTER];
    if ((m = st.match(CREATE_DICTIONARY_RE))) return [m[1] + ON_CLUSTER + m[2]];
    if ((m = st.match(ALTER_ADD_RE))) return this.alterAdd(m[1], m[2]);
    if ((m = st.match(ALTER_CODEC_RE))) return this.alterCodec(m[1], m[2]);
    if ((m = st.match(ALTER_DROP_RE))) return this.alterDrop(m[1], m[2]);
    if ((m = st.match(DROP_TABLE_RE))) return this.dropTable(m[1]);
    if ((m = st.match(ALTER_SETTING_RE))) return this.alterSetting(m[1], m[2]);
    if ((m = st.match(INSERT_RE))) {
      this.known(m[1]);
      return [st];
    }
    throw new Error(
      'no cluster rule for this kind of statement (known: CREATE DATABASE, CREATE TABLE, CREATE [MATERIALIZED] VIEW, DROP VIEW IF EXISTS, ' +
        'CREATE OR REPLACE DICTIONARY, ALTER TABLE ... ADD COLUMN, ALTER TABLE ... MODIFY COLUMN ... CODEC, ALTER TABLE ... DROP COLUMN IF EXISTS, DROP TABLE IF EXISTS, ALTER TABLE ... MODIFY SETTING, INSERT INTO); add one in src/store/cluster.ts',
    );
  }

  private known(table: string): TableKind {
    const kind = this.tables.get(table);
    if (kind === undefined) throw new Error(`table ${table} is not created by an earlier statement, so its cluster form is unknown`);
    return kind;
  }

  private createTable(head: string, table: string, rest: string): string[] {
    if (/\bAS\s+(SELECT|\{\{database\}\})/i.test(outsideStrings(rest))) throw new Error('CREATE TABLE ... AS has no cluster rule: list the columns');
    const engines = [...outsideStrings(rest).matchAll(ENGINE_RE)];
    if (engines.length !== 1) throw new Error(`expected one "ENGINE = <name>", found ${engines.length}`);
    const engine = engines[0][1];
    const at = engines[0].index! + engines[0][0].length - engine.length;
    let after = rest.slice(at + engine.length);
    // Arguments (ReplacingMergeTree(Version)) follow the replicated engine's path and replica.
    let args = '';
    if (after.startsWith('(')) {
      const a = /^\(([^()]*)\)/.exec(after);
      if (!a) throw new Error(`engine ${engine} with nested arguments has no cluster rule`);
      args = a[1].trim() ? `, ${a[1].trim()}` : '';
      after = after.slice(a[0].length);
    }
    const withEngine = (e: string) => rest.slice(0, at) + e + after;

    if (engine === 'Null') {
      this.tables.set(table, 'stage');
      return [`${head}${DB}.${table}${ON_CLUSTER}${rest}`];
    }
    if (!/^\w*MergeTree$/.test(engine)) throw new Error(`engine ${engine} has no cluster rule (MergeTree family or Null)`);
    if (EVERYWHERE_RE.test(table)) {
      this.tables.set(table, 'everywhere');
      return [`${head}${DB}.${table}${ON_CLUSTER}${withEngine(`Replicated${engine}('/clickhouse/tables/all/${DB}/${table}', '{replica}'${args})`)}`];
    }
    this.tables.set(table, 'sharded');
    const local = `${table}_local`;
    return [
      `${head}${DB}.${local}${ON_CLUSTER}${withEngine(`Replicated${engine}('/clickhouse/tables/{shard}/${DB}/${local}', '{replica}'${args})`)}`,
      `${head}${DB}.${table}${ON_CLUSTER}\nAS ${DB}.${local}\n` +
        `ENGINE = Distributed('{{cluster}}', '${DB}', '${local}', ${SHARD_KEYS[table] ?? 'rand()'})`,
    ];
  }

  /** Writes to the target's local table and reads the source's: each node rolls up its own shard. */
  private materializedView(head: string, target: string, body: string): string {
    const refs = [...outsideStrings(body).matchAll(/(\w+\s+)?\{\{database\}\}\.(\w+)/g)];
    if (refs.length !== 1 || !/^FROM\s+$/.test(refs[0][1] ?? '')) {
      throw new Error('a materialized view must read exactly one table, as FROM {{database}}.<table> (no joins or subqueries)');
    }
    const source = refs[0][2];
    const local = (table: string): string => {
      const kind = this.known(table);
      if (kind === 'everywhere') throw new Error(`materialized view on ${table}, a table copied to every node, has no cluster rule`);
      return kind === 'sharded' ? `${table}_local` : table;
    };
    const to = local(target);
    const from = local(source);
    const rewritten = body.replace(new RegExp(`(FROM\\s+)\\{\\{database\\}\\}\\.${source}\\b`), `$1${DB}.${from}`);
    return `${head}${ON_CLUSTER} TO ${DB}.${to} AS${rewritten}`;
  }

  /** Codecs only: the tables that store rows (a Distributed table stores none). */
  private alterCodec(table: string, rest: string): string[] {
    const kind = this.known(table);
    const modifies = rest.split(/,\s*\n\s*(?=MODIFY COLUMN )/);
    if (modifies.some((mc) => !/^\s*MODIFY COLUMN \w+ .+ CODEC\(/s.test(mc))) {
      throw new Error('ALTER TABLE ... MODIFY COLUMN without a CODEC: only codec changes have a cluster rule (add one in src/store/cluster.ts)');
    }
    return [`ALTER TABLE ${DB}.${kind === 'sharded' ? `${table}_local` : table}${ON_CLUSTER}${rest}`];
  }

  /** Table settings are storage: the tables that store rows. */
  private alterSetting(table: string, settings: string): string[] {
    const kind = this.known(table);
    const kept = settings
      .split(',')
      .map((x) => x.trim())
      .filter((x) => !/^non_replicated_\w+\s*=/.test(x));
    if (kept.length === 0) return [];
    return [`ALTER TABLE ${DB}.${kind === 'sharded' ? `${table}_local` : table}${ON_CLUSTER} MODIFY SETTING ${kept.join(', ')}`];
  }

  /** The Distributed table first (it must not name a column its local tables lost), then the local ones. */
  private alterDrop(table: string, rest: string): string[] {
    const kind = this.known(table);
    if (kind !== 'sharded') return [`ALTER TABLE ${DB}.${table}${ON_CLUSTER}${rest}`];
    return [`ALTER TABLE ${DB}.${table}${ON_CLUSTER}${rest}`, `ALTER TABLE ${DB}.${table}_local${ON_CLUSTER}${rest}`];
  }

  private dropTable(table: string): string[] {
    const kind = this.known(table);
    this.tables.delete(table);
    const drop = (t: string) => `DROP TABLE IF EXISTS ${DB}.${t}${ON_CLUSTER}`;
    return kind === 'sharded' ? [drop(table), drop(`${table}_local`)] : [drop(table)];
  }

  /** The local tables first, then the Distributed one (which takes no CODECs). */
  private alterAdd(table: string, rest: string): string[] {
    const kind = this.known(table);
    if (kind !== 'sharded') return [`ALTER TABLE ${DB}.${table}${ON_CLUSTER}${rest}`];
    return [`ALTER TABLE ${DB}.${table}_local${ON_CLUSTER}${rest}`, `ALTER TABLE ${DB}.${table}${ON_CLUSTER}${rest.replace(CODEC_RE, '')}`];
  }
}

/**
 * The cluster statements of a schema, file by file. Pass every file in the order it is applied
 * (bootstrap, migrations by name, then the dictionaries): a view or ALTER in one migration needs
 * to know how the tables of earlier ones were laid out. Throws, naming file and statement, on any
 * statement the rules do not cover.
 */
export function deriveCluster(files: SchemaFile[]): DerivedFile[] {
  const deriver = new Deriver();
  return files.map((f) => deriver.derive(f));
}

/**
 * Checksums the migration table recorded when the cluster schema was a hand-made copy
 * (clickhouse/cluster/migrations, up to 0010; kept in test/fixtures/cluster-v1). Now the single-server
 * file's checksum is recorded for both variants; a cluster deployment that recorded the old copy's
 * checksum (`v1`) is accepted while the single-server file is still the one that copy was made from
 * (`single`).
 */
export const CLUSTER_V1_CHECKSUMS: Readonly<Record<string, { single: string; v1: string }>> = {
  '0001_dns_log.sql': {
    single: '7951167a7cf29507bacf582d4f5ac3a6493a4d8736a1d8c4eaa0b531f5683636',
    v1: '945a28b39b04d0a981b11448ea28574cba5abb0bfdc397ed9c1023ee75472d2d',
  },
  '0002_dictionaries.sql': {
    single: 'e9161891850ec4d380cce310fe6fbe30979f98f3dfeb1c50e151040c57291de2',
    v1: 'de4e4b446c29ee9866a5214f0768bee3ea9f907591e83c12579a9a8e9bf3b25f',
  },
  '0003_traffic_rollups.sql': {
    single: 'e8cd0deaf8fd0948f572b43d3892e257ceebf07473125686a5f2ad050514770d',
    v1: '8789f3086eca607daf9bd18244af0f9d7b59f78b61c289033b21125dd29d6ce9',
  },
  '0004_name_rollups.sql': {
    single: 'f77f5d8d3075261756d6134fce529424da6709227a3edb78acb9418c02d09d6a',
    v1: '4e910fc27003236968595ef37b996e0c5d5103da1d7e185bd9dfdfb31668dd91',
  },
  '0005_client_rollups.sql': {
    single: '91963e98a7313073a750aa792f13c28e3281380cbaee3174be17b862404ca0dd',
    v1: 'cb98289b6ae7c414201ba478658161ab94b016e5485ac603b268d6c082db30ac',
  },
  '0006_domain_rollups.sql': {
    single: '08469925158620e302602f1c7d17de1d20571b86f5a131c44ffc049489db372f',
    v1: '66fd56b52c4d70b8ee23107f5f3ff7006ecbcafd0b25cf7a41f575e130ccb535',
  },
  '0007_report_views.sql': {
    single: 'c304d55e4c1d643d9a3a91f5f365937239eca7206a178d0c7e5805ce25d3a0ef',
    v1: '5f1703a9db34abb6aeec3d80a3745b07bca35e3773cbce5f6a7b2d38b93b795f',
  },
  '0008_event_fields.sql': {
    single: '426cd2b9e046d3b9c4237fdf7eae52bcadef3b44c4a55550e0453a463776accd',
    v1: 'eac572b869bc0e01b68eae8785a1114793e57bcadbd57d5354ab141bcf16f3c2',
  },
  '0009_latency_rollups.sql': {
    single: '0c3e2de2f5d58f3d91c49073812d583814aaee0e1f5d7112c8e0049eb9ceb9ca',
    v1: 'b0fb8974451ef2b4602ce6c5689903fc08a514afb868e170d6ad7d0f631fe60b',
  },
  '0010_health.sql': {
    single: 'f1182d96747e803fc6943d46440bda62087a0256ed6debb4a2e128936d488332',
    v1: 'bb84f7683c7842546101d10fb01ef3f8213820614d3eaa0bea2badeccbeccf4e',
  },
};
