// One way in to ClickHouse, whichever engine is behind it:
//  - embedded: chdb in this process (default), data under --dataDir;
//  - server: a ClickHouse server over HTTP, several addresses = failover in order;
//  - endpoint: the embedded store of another dnslens process that holds the data dir,
//    reached through the localhost endpoint it serves (endpoint.ts).
// Queries go through @clickhouse/client in every case. Bulk inserts do not on chdb: the
// client-over-chdb path turns the body into one JS string (corrupting binary formats) and is slow,
// so there a batch (ClickHouse Native, or RowBinary from an old spool) goes to a temp file and
// chdb's own Session reads it with FROM INFILE.
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent as HttpsAgent } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { ClickHouseLogLevel, createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { log } from '../log.js';
import { memoryTier, type MemoryTier } from '../memory.js';
import { makeDirs } from '../mkdirs.js';
import { chunksOf, writeChunks } from '../chunks.js';
import { UNREACHABLE_CODES } from '../unreachable.js';
import { readEndpointInfo, type EndpointInfo } from './endpoint.js';

export interface StoreOptions {
  address?: string[]; // server addresses; none = embedded
  username?: string;
  password?: string;
  database?: string;
  secure?: boolean;
  compress?: boolean;
  dataDir: string;
  requestTimeoutMs?: number; // per HTTP request (server and endpoint), default 60 s
  endpointWaitMs?: number; // how long to wait for a starting holder to publish its endpoint, default 5 s
  memoryLimit?: number; // --memoryLimit in bytes, 0 or none = no limit: sizes the embedded engine
  skipTlsVerify?: boolean; // --skipTLSVerification: an https server's certificate is not checked
}

export type StoreKind = 'embedded' | 'server' | 'endpoint';

/** The binary formats a DNS_LOG batch can be in: Native (what dnslens writes), RowBinary (what
 *  spools of dnslens before the Native encoder hold). */
export type InsertFormat = 'Native' | 'RowBinary';
export const INSERT_FORMATS: readonly InsertFormat[] = ['Native', 'RowBinary'];

/** A batch for DNS_LOG, in memory (as consecutive chunks) or already in a file (the spool). */
export interface InsertBatch {
  columns: readonly string[];
  rows: number;
  format: InsertFormat;
  data?: Uint8Array | readonly Uint8Array[];
  path?: string;
  /** A file import's batch: the store drops a batch whose token it holds, in DNS_LOG and in each
   *  rollup on its own (see dedupSettings). Without one the insert is not checked. */
  token?: string;
}

// The format name goes into SQL, and a spool's comes from disk: only known names pass.
function formatOf(batch: InsertBatch): InsertFormat {
  if (!INSERT_FORMATS.includes(batch.format)) throw new Error(`unknown insert format ${JSON.stringify(batch.format)}`);
  return batch.format;
}

/** What chdb's Session offers that we use (typed here so chdb stays an optional dependency). */
export interface ChdbResult {
  bytes(): Uint8Array;
  text(): string;
  readonly rowsRead: number;
  readonly bytesRead: number;
  readonly elapsed: number;
}
export interface ChdbSession {
  queryAsync(sql: string, opts?: { format?: string }): Promise<ChdbResult>;
  queryBindAsync(sql: string, params: object, opts?: { format?: string }): Promise<ChdbResult>;
  close(): void;
}

export interface Store {
  readonly kind: StoreKind;
  readonly client: ClickHouseClient; // the client in use (after failover, the live one)
  readonly database: string;
  readonly dataDir: string;
  readonly where: string; // for logs and errors
  /** Run a statement, discard any result. ClickHouse errors are thrown with its message. */
  exec(sql: string): Promise<void>;
  /** Run a query and parse its rows (JSONEachRow; 64-bit integers come back as strings). */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Run a query and return its output in a ClickHouse format (unless the SQL names its own). */
  queryText(sql: string, format: string): Promise<string>;
  insertBatch(batch: InsertBatch): Promise<void>;
  ping(): Promise<void>; // throws when the store does not answer
  close(): Promise<void>;
}

export const DNS_LOG_TABLE = 'DNS_LOG';

export function quoteIdent(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

function insertHead(database: string, columns: readonly string[]): string {
  return `INSERT INTO ${quoteIdent(database)}.${DNS_LOG_TABLE} (${columns.map(quoteIdent).join(', ')})`;
}

export function sqlString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

// Insert deduplication (migration 0013 keeps the tokens of the last blocks DNS_LOG and every rollup
// took). A batch with a token is checked in DNS_LOG and in each view's table on its own: sent again
// after a crash, it completes what only partly landed and adds nothing twice. A batch without one
// (live capture) is not checked: hashing it would cost insert CPU (+2.5 CPU-s per million bench
// rows, measured) and push the tokens out of the window. Newer ClickHouse (26.x) switches this with
// deduplicate_insert, which overrides insert_deduplicate; older versions only know the latter.
export function dedupSettings(token: string | undefined, hasDeduplicateInsert: boolean): Record<string, string | number> {
  const on = token !== undefined;
  return {
    ...(hasDeduplicateInsert ? { deduplicate_insert: on ? 'enable' : 'disable' } : { insert_deduplicate: on ? 1 : 0 }),
    ...(on ? { deduplicate_blocks_in_dependent_materialized_views: 1, insert_deduplication_token: token } : {}),
  };
}

const dedupSwitch = new WeakMap<object, Promise<boolean>>();

/** dedupSettings for an insert into this store (which switch it has is asked once). */
async function storeDedup(store: Pick<Store, 'query'>, token: string | undefined): Promise<Record<string, string | number>> {
  let has = dedupSwitch.get(store);
  if (!has) {
    has = store.query<{ n: string | number }>("SELECT count() AS n FROM system.settings WHERE name = 'deduplicate_insert'").then((r) => Number(r[0]?.n ?? 0) > 0);
    has.catch(() => dedupSwitch.delete(store)); // asked again at the next insert
    dedupSwitch.set(store, has);
  }
  return dedupSettings(token, await has);
}

/** Drop trailing semicolons: HTTP ClickHouse takes one statement. */
export function trimStatement(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

// ---------------------------------------------------------------------------------------------
// Shared query helpers over a client.

async function clientExec(client: ClickHouseClient, sql: string): Promise<void> {
  await client.command({ query: trimStatement(sql) });
}

/** Values for ClickHouse query parameters ({name:Type} in the SQL): sent apart from the SQL, never pasted into it. */
export type QueryParams = Record<string, unknown>;

async function clientQuery<T>(client: ClickHouseClient, sql: string, params?: QueryParams): Promise<T[]> {
  const rs = await client.query({ query: trimStatement(sql), format: 'JSONEachRow', query_params: params });
  return (await rs.json()) as T[];
}

async function clientQueryText(client: ClickHouseClient, sql: string, format: string): Promise<string> {
  const res = await client.exec({ query: trimStatement(sql), clickhouse_settings: { default_format: format as 'TabSeparated' } });
  const chunks: Buffer[] = [];
  for await (const c of res.stream as AsyncIterable<Buffer | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Embedded (chdb).

type SessionClass = new (path: string, opts?: { connectionArgs?: string[] }) => ChdbSession;
let chdbModule: { Session: SessionClass } | null = null;
let chdbConnection: { createChdbConnection(opts: { path: string }): unknown } | null = null;

const CHDB_MISSING =
  'the embedded ClickHouse store needs the optional package "chdb" (Linux or macOS, x64 or arm64): ' +
  'install it with `npm install chdb`, or give --clickhouseAddress to use a ClickHouse server';

async function loadChdb(allocator?: string): Promise<void> {
  if (chdbModule && chdbConnection) return;
  // Read once, when the library loads (its jemalloc is built with the je_ prefix); the user's own wins.
  if (allocator && !process.env.JE_MALLOC_CONF) process.env.JE_MALLOC_CONF = allocator;
  // Names in variables: chdb is optional, so neither tsc nor a bundler should insist on it.
  const main = 'chdb';
  const conn = 'chdb/connection';
  try {
    const m = (await import(main)) as { Session?: unknown; default?: { Session?: unknown } };
    const c = (await import(conn)) as { createChdbConnection?: unknown; default?: { createChdbConnection?: unknown } };
    chdbModule = { Session: (m.Session ?? m.default?.Session) as SessionClass };
    chdbConnection = {
      createChdbConnection: (c.createChdbConnection ?? c.default?.createChdbConnection) as (opts: { path: string }) => unknown,
    };
    if (typeof chdbModule.Session !== 'function' || typeof chdbConnection.createChdbConnection !== 'function') {
      throw new Error('unexpected chdb module shape');
    }
  } catch (err) {
    chdbModule = null;
    chdbConnection = null;
    const code = (err as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new Error(CHDB_MISSING);
    throw new Error(`${CHDB_MISSING} (loading it failed: ${(err as Error).message})`);
  }
}

/** PID of the live process that holds a chdb data dir (from ClickHouse's status file), or null. */
export async function dataDirHolder(dataDir: string): Promise<number | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, 'status'), 'utf8');
  } catch {
    return null; // chdb removes the file on a clean close
  }
  const m = /^PID:\s*(\d+)/m.exec(text);
  if (!m) return null;
  const pid = Number(m[1]);
  return pid !== process.pid && processAlive(pid) ? pid : null;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Settings of every bulk insert into the embedded store:
//  - parallel_view_processing: DNS_LOG feeds several materialized views, which chdb otherwise
//    runs one after another while a core may be idle (inserts with all rollups, 500k-row
//    batches, measured earlier on a quieter machine: 255-273k rows/s serially, 314-338k in parallel);
//  - optimize_on_insert = 0: the views already GROUP BY their rollup's key, so pre-merging each
//    inserted rollup part again is wasted work (-7% insert CPU measured); merges and queries
//    that aggregate give the same results.
export const EMBEDDED_INSERT_SETTINGS = 'SETTINGS parallel_view_processing = 1, optimize_on_insert = 0';

// The embedded engine under a memory limit, measured on the bench import (1M and 5M packets).
// chdb 26.7 takes server settings as arguments of the first session (--background_pool_size=1;
// MergeTree defaults only through --config-file) and query defaults per session. What moves peak
// RSS is its allocator (jemalloc), which keeps freed pages for 5 s per CPU arena: returning them
// at once saves 250-300 MB (500k-row inserts: 1.0-1.08 GB -> 0.75-0.82 GB, ~10% more CPU); one
// arena without thread caches saves ~30 MB more with small inserts but costs ~30% CPU with large
// ones. Then, under a tight limit, one merge at a time (-20 to -40 MB: merges of DNS_LOG parts
// hold 100-200 MB each). Smaller compression and read buffers, one thread per query, serial
// views and smaller caches moved nothing beyond the noise (±10-20 MB): the buffers chdb counts are
// mostly allocated, not touched. The allocator reads its options when chdb loads, so they apply
// to the first store a process opens.
const ENGINE: Record<MemoryTier, { allocator?: string; args: string[] }> = {
  tight: {
    allocator: 'dirty_decay_ms:0,narenas:1,percpu_arena:disabled,tcache:false',
    args: ['--background_pool_size=1', '--background_merges_mutations_concurrency_ratio=1'],
  },
  bounded: { allocator: 'dirty_decay_ms:0', args: [] },
  roomy: { args: [] },
};

// What a query may hold for a GROUP BY or a sort before it spills to disk, under a limit: a
// twentieth of it. Measured on the 1M-packet import at 400MB: the end-of-run signals took the
// peak from 472 MB (--signals none) to 600 MB (tunnel alone held 215 MB, query-burst 170); with
// 20 MB, 500-540 MB in three runs, the signals 1.3-1.8x slower.
export function querySpill(memoryLimit: number): number {
  return memoryTier(memoryLimit) === 'roomy' ? 0 : Math.floor(memoryLimit / 20);
}

function spillSettings(memoryLimit: number): string[] {
  const spill = querySpill(memoryLimit);
  return spill > 0 ? ['max_bytes_before_external_group_by', 'max_bytes_before_external_sort'].map((name) => `SET ${name} = ${spill}`) : [];
}

/** The embedded engine's allocator options and start-up arguments under a memory limit (the bench's reference uses them too). */
export function engineSettings(memoryLimit: number): { allocator?: string; args: string[] } {
  return ENGINE[memoryTier(memoryLimit)];
}

export class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly where: string;
  private closed = false;
  private seq = 0;

  private constructor(
    readonly dataDir: string,
    readonly database: string,
    readonly client: ClickHouseClient,
    private readonly session: ChdbSession, // bulk inserts
    private readonly tmpDir: string,
    private readonly querySettings: readonly string[], // SET statements of every query session
  ) {
    this.where = `embedded store ${dataDir}`;
  }

  /** Open chdb on dataDir; throws (with the holder's PID) when another process holds it. */
  static async open(dataDir: string, database: string, memoryLimit = 0): Promise<EmbeddedStore> {
    const engine = engineSettings(memoryLimit);
    await loadChdb(engine.allocator);
    await makeDirs(dataDir);
    let session: ChdbSession;
    try {
      // The first session starts the engine: its arguments hold for the process.
      session = new chdbModule!.Session(dataDir, engine.args.length > 0 ? { connectionArgs: engine.args } : undefined);
    } catch (err) {
      const holder = await dataDirHolder(dataDir);
      if (holder !== null) throw new DataDirLockedError(dataDir, holder);
      throw new Error(`cannot open the embedded store in ${dataDir}: ${(err as Error).message}`);
    }
    let client: ClickHouseClient | null = null;
    try {
      const connection = chdbConnection!.createChdbConnection({ path: dataDir });
      client = createClient({ connection, log: { level: ClickHouseLogLevel.OFF } } as Parameters<typeof createClient>[0]);
      if (database !== 'default') {
        // Unqualified names in ad hoc SQL mean this database. USE sticks to the chdb session
        // behind the client (inserts name the database themselves).
        await session.queryAsync(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(database)}`);
        await client.command({ query: `USE ${quoteIdent(database)}` });
      }
      // Under a limit, queries (signals, reports) spill large GROUP BYs and sorts to disk; SET sticks as USE does.
      const settings = spillSettings(memoryLimit);
      for (const query of settings) await client.command({ query });
      const tmp = await mkdtemp(join(tmpdir(), 'dnslens-insert-'));
      return new EmbeddedStore(dataDir, database, client, session, tmp, settings);
    } catch (err) {
      await client?.close().catch(() => undefined);
      session.close();
      throw err;
    }
  }

  /** A fresh chdb session on the same data dir (the endpoint runs each request in its own). */
  async newSession(): Promise<ChdbSession> {
    if (this.closed) throw new Error('store is closed');
    const session = new chdbModule!.Session(this.dataDir);
    try {
      for (const sql of this.querySettings) await session.queryAsync(sql);
    } catch (err) {
      session.close();
      throw err;
    }
    return session;
  }

  exec(sql: string): Promise<void> {
    return clientExec(this.client, sql);
  }

  /** Several statements in one call, in order, stopping at the first error. While a file is
   *  decoded, each call waits for the event loop: one per migration file, not one per statement,
   *  has a fresh store ready 0.3-0.4 s sooner (bench capture). Statements name their database. */
  async execScript(statements: readonly string[]): Promise<void> {
    // ';' on its own line: a statement may end in a line comment.
    await this.session.queryAsync(statements.join('\n;\n'));
  }

  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    return clientQuery<T>(this.client, sql, params);
  }

  queryText(sql: string, format: string): Promise<string> {
    return clientQueryText(this.client, sql, format);
  }

  async insertBatch(batch: InsertBatch): Promise<void> {
    if (batch.rows === 0) return;
    const format = formatOf(batch);
    let path = batch.path;
    let temp: string | null = null;
    if (!path) {
      temp = join(this.tmpDir, `${++this.seq}.bin`);
      await writeChunks(temp, chunksOf(batch.data));
      path = temp;
    }
    try {
      const dedup = Object.entries(await storeDedup(this, batch.token)).map(([k, v]) => `${k} = ${typeof v === 'string' ? sqlString(v) : v}`);
      await this.session.queryAsync(`${insertHead(this.database, batch.columns)} FROM INFILE ${sqlString(resolve(path))} ${EMBEDDED_INSERT_SETTINGS}, ${dedup.join(', ')} FORMAT ${format}`);
    } finally {
      if (temp) await rm(temp, { force: true });
    }
  }

  async ping(): Promise<void> {
    await this.session.queryAsync('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.close().catch(() => undefined);
    this.session.close();
    await rm(this.tmpDir, { recursive: true, force: true });
  }
}

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded store ${dataDir} is held by process ${pid}, which serves no endpoint for other dnslens commands; ` +
        'stop that process or run it with the endpoint on',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP (a ClickHouse server, or another process' endpoint).

/** "host:port", "host" or "http(s)://host:port" -> URL; default port 8123 (8443 with TLS). */
export function addressToUrl(address: string, secure = false): string {
  const a = address.trim();
  if (/^https?:\/\//i.test(a)) return new URL(a).toString();
  const scheme = secure ? 'https' : 'http';
  const hasPort = /^\[.*\]:\d+$/.test(a) || (/^[^:]+:\d+$/.test(a));
  const url = new URL(`${scheme}://${hasPort ? a : a.includes(':') && !a.startsWith('[') ? `[${a}]` : a}`);
  if (!hasPort) url.port = secure ? '8443' : '8123';
  return url.toString();
}

// Another address may answer, also when this host name is unknown here.
const TRANSIENT_CODES: ReadonlySet<string> = new Set([...UNREACHABLE_CODES, 'ENOTFOUND']);

/** A network-level failure (worth trying another address), not an answer from ClickHouse. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof e?.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  if (/Timeout error|socket hang up|ECONNREFUSED|ECONNRESET|connect ETIMEDOUT/i.test(msg)) return true;
  return e?.cause !== undefined && e.cause !== err ? isConnectionError(e.cause) : false;
}

export class HttpStore implements Store {
  private current = 0;
  private closed = false;

  constructor(
    readonly kind: 'server' | 'endpoint',
    private readonly urls: string[],
    private readonly clients: ClickHouseClient[],
    readonly database: string,
    readonly dataDir: string,
    private readonly label: string,
    // Makes a client for urls[i] without a database, to create a missing one.
    private readonly bootstrap?: (i: number) => ClickHouseClient,
  ) {}

  // The client names the database in every request, so a missing database fails even
  // CREATE DATABASE: create it from a client that names none.
  private async createDatabase(idx: number): Promise<void> {
    const c = this.bootstrap!(idx);
    try {
      await c.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(this.database)}` });
      log.info({ database: this.database, url: this.urls[idx] }, 'created the ClickHouse database');
    } finally {
      await c.close().catch(() => undefined);
    }
  }

  get client(): ClickHouseClient {
    return this.clients[this.current];
  }

  get where(): string {
    return `${this.label} ${this.urls[this.current]}`;
  }

  // Try the live address, then the others in order; only a connection failure moves on.
  private async withFailover<R>(fn: (client: ClickHouseClient) => Promise<R>): Promise<R> {
    let lastErr: unknown;
    for (let i = 0; i < this.clients.length; i++) {
      const idx = (this.current + i) % this.clients.length;
      try {
        let r: R;
        try {
          r = await fn(this.clients[idx]);
        } catch (err) {
          if (!(this.bootstrap && this.database !== 'default' && errorCode(err) === UNKNOWN_DATABASE)) throw err;
          await this.createDatabase(idx);
          r = await fn(this.clients[idx]);
        }
        if (idx !== this.current) {
          log.warn({ from: this.urls[this.current], to: this.urls[idx] }, 'ClickHouse failover');
          this.current = idx;
        }
        return r;
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        lastErr = err;
      }
    }
    throw lastErr;
  }

  exec(sql: string): Promise<void> {
    return this.withFailover((c) => clientExec(c, sql));
  }

  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    return this.withFailover((c) => clientQuery<T>(c, sql, params));
  }

  queryText(sql: string, format: string): Promise<string> {
    return this.withFailover((c) => clientQueryText(c, sql, format));
  }

  async insertBatch(batch: InsertBatch): Promise<void> {
    if (batch.rows === 0) return;
    const format = formatOf(batch);
    const clickhouse_settings = (await storeDedup(this, batch.token)) as ClickHouseSettings;
    return this.withFailover(async (c) => {
      // A fresh body per attempt: a stream cannot be replayed.
      const values = batch.path
        ? createReadStream(batch.path)
        : Readable.from(chunksOf(batch.data).map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
      const res = await c.exec({ query: `${insertHead(this.database, batch.columns)} FORMAT ${format}`, values, clickhouse_settings });
      for await (const _ of res.stream as AsyncIterable<unknown>) {
        // drain, so the socket goes back to the pool
      }
    });
  }

  async ping(): Promise<void> {
    await this.withFailover(async (c) => {
      const r = await c.ping();
      if (!r.success) throw r.error;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }
}

const UNKNOWN_DATABASE = 81;

function errorCode(err: unknown): number | null {
  const e = err as { code?: unknown };
  return typeof e?.code === 'string' && /^\d+$/.test(e.code) ? Number(e.code) : null;
}

function httpClient(url: string, opts: { username?: string; password?: string; database?: string; compress?: boolean; timeoutMs: number; skipTlsVerify?: boolean }): ClickHouseClient {
  // The client has no switch for verification: its own https agent (keep-alive, 10 sockets, as
  // the client's default) that accepts any certificate.
  const skip = opts.skipTlsVerify && new URL(url).protocol === 'https:';
  return createClient({
    url,
    username: opts.username || 'default',
    password: opts.password ?? '',
    ...(opts.database ? { database: opts.database } : {}),
    request_timeout: opts.timeoutMs,
    compression: { request: opts.compress ?? false, response: opts.compress ?? false },
    application: 'dnslens',
    ...(skip ? { http_agent: new HttpsAgent({ keepAlive: true, maxSockets: 10, rejectUnauthorized: false }) } : {}),
    // Failures come back as errors the caller reports; the client's own console logging would repeat them.
    log: { level: ClickHouseLogLevel.OFF },
  });
}

async function openServer(opts: StoreOptions, database: string): Promise<HttpStore> {
  const timeoutMs = opts.requestTimeoutMs ?? 60_000;
  const urls = opts.address!.map((a) => addressToUrl(a, opts.secure));
  for (const u of urls) {
    if (new URL(u).port === '9000' || new URL(u).port === '9440') {
      log.warn({ url: u }, 'port 9000/9440 is ClickHouse\'s native protocol; dnslens speaks HTTP (default port 8123, 8443 with TLS)');
    }
  }
  const clients = urls.map((url) => httpClient(url, { ...opts, database, timeoutMs }));
  const bootstrap = (i: number) => httpClient(urls[i], { ...opts, database: undefined, timeoutMs });
  return new HttpStore('server', urls, clients, database, resolve(opts.dataDir), 'ClickHouse server', bootstrap);
}

async function openEndpoint(info: EndpointInfo, dataDir: string, timeoutMs: number): Promise<HttpStore> {
  const url = `http://127.0.0.1:${info.port}/`;
  const client = httpClient(url, { username: info.user, password: info.token, database: info.database, timeoutMs });
  const store = new HttpStore('endpoint', [url], [client], info.database, dataDir, `endpoint of process ${info.pid}`);
  try {
    await store.ping();
    await store.query('SELECT 1'); // checks the token too (/ping does not)
    return store;
  } catch (err) {
    await store.close();
    throw err;
  }
}


/** Poll for the holder's endpoint until it answers, the holder exits, or waitMs passes. */
async function waitForEndpoint(dataDir: string, holder: number, waitMs: number, timeoutMs: number): Promise<HttpStore | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const viaEndpoint = await tryEndpoint(dataDir, timeoutMs);
    if (viaEndpoint || !processAlive(holder) || Date.now() >= deadline) return viaEndpoint;
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function tryEndpoint(dataDir: string, timeoutMs: number): Promise<HttpStore | null> {
  const info = await readEndpointInfo(dataDir);
  if (!info || info.pid === process.pid || !processAlive(info.pid)) return null;
  try {
    return await openEndpoint(info, dataDir, timeoutMs);
  } catch (err) {
    log.debug({ err: (err as Error).message, port: info.port }, 'endpoint did not answer');
    return null;
  }
}

/**
 * Open the store. With no address: the embedded store in dataDir, or, when another
 * dnslens process holds that directory, that process' local endpoint.
 */
export async function openStore(opts: StoreOptions): Promise<Store> {
  const database = opts.database || 'default';
  if (opts.address && opts.address.length > 0) return openServer(opts, database);

  const dataDir = resolve(opts.dataDir);
  const timeoutMs = opts.requestTimeoutMs ?? 60_000;
  const waitMs = opts.endpointWaitMs ?? 5_000;
  // A live holder: go through its endpoint (it may still be starting and not have published
  // it yet) rather than let chdb fail, which prints ClickHouse's lock error on stderr.
  const holder = await dataDirHolder(dataDir);
  if (holder !== null) {
    const viaEndpoint = await waitForEndpoint(dataDir, holder, waitMs, timeoutMs);
    if (viaEndpoint) return viaEndpoint;
  }
  try {
    return await EmbeddedStore.open(dataDir, database, opts.memoryLimit);
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    // Another process took the directory meanwhile (when we already waited for this one, once more).
    const viaEndpoint = await waitForEndpoint(dataDir, err.pid, holder === err.pid ? 0 : waitMs, timeoutMs);
    if (viaEndpoint) return viaEndpoint;
    throw err;
  }
}
