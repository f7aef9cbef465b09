// The local access path to an embedded store held by a running dnslens process.
// chdb locks its data dir to one process, so the holder serves a localhost-only HTTP
// endpoint speaking the part of ClickHouse's HTTP interface that @clickhouse/client and
// Grafana's ClickHouse plugin use. Another dnslens process finds the port and a random token
// in <dataDir>/endpoint.json (mode 0600) and connects to it as to a ClickHouse server.
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliCompress, createBrotliDecompress, createDeflate, createGunzip, createGzip, createInflate } from 'node:zlib';
import type { Readable, Transform } from 'node:stream';
import type { ChdbResult, ChdbSession, EmbeddedStore } from './connection.js';
import { log } from '../log.js';
import { makeDirs } from '../mkdirs.js';

export const ENDPOINT_FILE = 'endpoint.json';
export const ENDPOINT_USER = 'dnslens';

export interface EndpointInfo {
  pid: number;
  port: number;
  user: string;
  token: string;
  database: string;
  startedAt: string;
}

export interface EndpointOptions {
  port?: number; // 0 (default) = any free port
  token?: string; // default: a new random one; a fixed one lets e.g. Grafana keep its password
  maxConcurrent?: number; // requests run at once; the rest wait (protects the capture)
  maxBodyBytes?: number; // cap on a query text or insert body
}

export interface Endpoint {
  readonly port: number;
  readonly info: EndpointInfo;
  close(): Promise<void>;
}

/** The endpoint published in dataDir, or null when there is none (or it is unreadable). */
export async function readEndpointInfo(dataDir: string): Promise<EndpointInfo | null> {
  let text: string;
  try {
    text = await readFile(join(dataDir, ENDPOINT_FILE), 'utf8');
  } catch {
    return null;
  }
  try {
    const v = JSON.parse(text) as Partial<EndpointInfo>;
    if (typeof v.pid !== 'number' || typeof v.port !== 'number' || typeof v.token !== 'string') return null;
    return {
      pid: v.pid,
      port: v.port,
      user: typeof v.user === 'string' ? v.user : ENDPOINT_USER,
      token: v.token,
      database: typeof v.database === 'string' ? v.database : 'default',
      startedAt: typeof v.startedAt === 'string' ? v.startedAt : '',
    };
  } catch {
    return null;
  }
}

// URL parameters that belong to the HTTP layer; every other one is a ClickHouse setting.
const HTTP_PARAMS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'user',
  'password',
  'session_id',
  'session_timeout',
  'session_check',
  'compress',
  'decompress',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_native_compression_disable_checksumming_on_decompress',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'http_response_buffer_size',
  'buffer_size',
  'role',
  'quota_key',
  'stacktrace',
]);

const ERROR_STATUS: Record<number, number> = {
  62: 400, // SYNTAX_ERROR
  60: 404, // UNKNOWN_TABLE
  81: 404, // UNKNOWN_DATABASE
  164: 403, // READONLY
  497: 403, // ACCESS_DENIED
  516: 403, // AUTHENTICATION_FAILED
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly chCode: number,
    readonly chName: string,
    message: string,
  ) {
    super(message);
  }
}

function contentType(format: string): string {
  const f = format.toLowerCase();
  if (f.startsWith('json')) return 'application/json; charset=UTF-8';
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return 'text/csv; charset=UTF-8; header=absent';
  if (f.startsWith('pretty') || f === 'vertical' || f === 'markdown') return 'text/plain; charset=UTF-8';
  return 'application/octet-stream';
}

function sqlString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

function isLoopback(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** User and password from Basic auth, X-ClickHouse-User/Key headers or user/password params. */
function credentials(req: IncomingMessage, params: URLSearchParams): { user: string; password: string } {
  const auth = req.headers.authorization;
  if (auth && /^basic /i.test(auth)) {
    const text = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i < 0 ? { user: text, password: '' } : { user: text.slice(0, i), password: text.slice(i + 1) };
  }
  const hUser = req.headers['x-clickhouse-user'];
  const hKey = req.headers['x-clickhouse-key'];
  if (typeof hUser === 'string' || typeof hKey === 'string') {
    return { user: typeof hUser === 'string' ? hUser : 'default', password: typeof hKey === 'string' ? hKey : '' };
  }
  return { user: params.get('user') ?? 'default', password: params.get('password') ?? '' };
}

/** The request body, decompressed per Content-Encoding. */
function bodyStream(req: IncomingMessage): Readable {
  const enc = (req.headers['content-encoding'] ?? '').toString().toLowerCase().trim();
  let dec: Transform | null = null;
  if (enc === 'gzip' || enc === 'x-gzip') dec = createGunzip();
  else if (enc === 'deflate') dec = createInflate();
  else if (enc === 'br') dec = createBrotliDecompress();
  else if (enc !== '' && enc !== 'identity') throw new HttpError(400, 0, 'BAD_ARGUMENTS', `unsupported Content-Encoding: ${enc}`);
  if (!dec) return req;
  req.on('error', (e) => dec!.destroy(e));
  return req.pipe(dec);
}

async function readText(stream: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) throw new HttpError(413, 0, 'TOO_LARGE', `request body larger than ${max} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function saveBody(stream: Readable, path: string, max: number): Promise<void> {
  let n = 0;
  await pipeline(
    stream,
    async function* (src: AsyncIterable<Buffer>) {
      for await (const c of src) {
        n += c.length;
        if (n > max) throw new HttpError(413, 0, 'TOO_LARGE', `request body larger than ${max} bytes`);
        yield c;
      }
    },
    createWriteStream(path),
  );
}

// INSERT INTO <target> [SETTINGS ...] FORMAT <fmt>, with the data in the body.
const INSERT_FORMAT = /^\s*INSERT\s+INTO\s+([\s\S]+?)(\s+SETTINGS\s+[\s\S]+?)?\s+FORMAT\s+(\w+)\s*;?\s*$/i;
const FORMAT_CLAUSE = /\bFORMAT\s+(\w+)\s*;?\s*$/i;

function chdbError(err: unknown): HttpError {
  const e = err as { message?: string; clickhouseCode?: number };
  const msg = (e?.message ?? String(err)).trim();
  const m = /Code:\s*(\d+)\./.exec(msg);
  const code = typeof e?.clickhouseCode === 'number' ? e.clickhouseCode : m ? Number(m[1]) : 0;
  const name = /\(([A-Z0-9_]{3,})\)\s*$/.exec(msg)?.[1] ?? 'UNKNOWN_EXCEPTION';
  // Keep ClickHouse's "Code: N. DB::Exception: ... (NAME)" shape: clients parse it.
  const text = /Code:\s*\d+\./.test(msg) ? msg : `Code: ${code}. DB::Exception: ${msg}. (${name})`;
  return new HttpError(ERROR_STATUS[code] ?? 500, code, name, text);
}

/** Run the query of one request on its own chdb session (settings and USE stay in it). */
async function runRequest(
  session: ChdbSession,
  req: IncomingMessage,
  params: URLSearchParams,
  insertDir: string,
  maxBody: number,
  defaultDatabase: string,
): Promise<{ result: ChdbResult; format: string }> {
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return typeof v === 'string' ? v : undefined;
  };
  const format = params.get('default_format') ?? header('x-clickhouse-format') ?? 'TabSeparated';
  if (params.get('decompress') === '1' || params.get('compress') === '1') {
    // ClickHouse's own block compression (LZ4/ZSTD): refuse rather than send what the client cannot read.
    throw new HttpError(400, 0, 'BAD_ARGUMENTS', 'ClickHouse native HTTP compression (compress/decompress=1) is not supported by the dnslens endpoint; use gzip, deflate or br');
  }
  const ctype = header('content-type') ?? '';
  if (/^multipart\//i.test(ctype)) {
    throw new HttpError(400, 0, 'BAD_ARGUMENTS', 'multipart request bodies are not supported by the dnslens endpoint');
  }

  const run = async (sql: string): Promise<ChdbResult> => {
    try {
      return await session.queryAsync(sql, { format });
    } catch (err) {
      throw chdbError(err);
    }
  };

  const database = params.get('database') ?? header('x-clickhouse-database') ?? defaultDatabase;
  if (database && database !== 'default') await run(`USE \`${database.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``);
  for (const [k, v] of params) {
    if (HTTP_PARAMS.has(k) || k.startsWith('param_') || k.startsWith('http_')) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new HttpError(400, 115, 'UNKNOWN_SETTING', `Code: 115. DB::Exception: Unknown setting ${k}. (UNKNOWN_SETTING)`);
    await run(`SET ${k} = ${sqlString(v)}`);
  }
  // ClickHouse treats GET as read-only; readonly=2 still lets a client change settings.
  if (req.method === 'GET' && !params.has('readonly')) await run('SET readonly = 2');

  const bind: Record<string, string | null> = {};
  let hasBind = false;
  for (const [k, v] of params) {
    if (k.startsWith('param_')) {
      bind[k.slice(6)] = paramValue(v);
      hasBind = true;
    }
  }

  const urlQuery = params.get('query') ?? '';
  const hasBody = req.method === 'POST';
  const insert = urlQuery ? INSERT_FORMAT.exec(urlQuery) : null;
  if (insert && hasBody) {
    // Data in the body: a file chdb reads itself, so binary formats arrive intact.
    const path = join(insertDir, `${randomUUID()}.body`);
    try {
      await saveBody(bodyStream(req), path, maxBody);
      const sql = `INSERT INTO ${insert[1]} FROM INFILE ${sqlString(path)}${insert[2] ?? ''} FORMAT ${insert[3]}`;
      return { result: await run(sql), format };
    } finally {
      await rm(path, { force: true });
    }
  }
  const body = hasBody ? await readText(bodyStream(req), maxBody) : '';
  const sql = urlQuery && body ? `${urlQuery}\n${body}` : urlQuery || body;
  if (sql.trim() === '') throw new HttpError(400, 0, 'BAD_ARGUMENTS', 'empty query');
  if (hasBind) {
    try {
      return { result: await session.queryBindAsync(sql, bind, { format }), format: FORMAT_CLAUSE.exec(sql)?.[1] ?? format };
    } catch (err) {
      throw chdbError(err);
    }
  }
  return { result: await run(sql), format: FORMAT_CLAUSE.exec(sql)?.[1] ?? format };
}

// The HTTP interface takes a parameter's value in ClickHouse's escaped text form, as
// @clickhouse/client sends it: \N alone is NULL, a backslash escapes the next character. chdb's
// queryBind takes values as they are, so they are unescaped here.
const ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', r: '\r', n: '\n', t: '\t', '0': '\0', a: '\x07', v: '\v' };

export function paramValue(text: string): string | null {
  if (text === '\\N') return null;
  return text.replace(/\\([\s\S])/g, (_, c: string) => ESCAPES[c] ?? c);
}

function send(req: IncomingMessage, res: ServerResponse, status: number, body: Buffer, headers: Record<string, string>, compress: boolean): void {
  const accept = (req.headers['accept-encoding'] ?? '').toString().toLowerCase();
  let enc: 'gzip' | 'deflate' | 'br' | null = null;
  if (compress) enc = /\bgzip\b/.test(accept) ? 'gzip' : /\bbr\b/.test(accept) ? 'br' : /\bdeflate\b/.test(accept) ? 'deflate' : null;
  if (!enc) {
    res.writeHead(status, { ...headers, 'Content-Length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Encoding': enc });
  const z = enc === 'gzip' ? createGzip() : enc === 'br' ? createBrotliCompress() : createDeflate();
  pipeline(z, res).catch(() => undefined); // a client that hangs up is not our error
  z.end(body);
}

/** A small FIFO semaphore. */
class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async enter(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  leave(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** Serve the embedded store on 127.0.0.1 and publish the port and token in <dataDir>/endpoint.json. */
export async function startEndpoint(store: EmbeddedStore, opts: EndpointOptions = {}): Promise<Endpoint> {
  const token = opts.token ?? randomBytes(32).toString('hex');
  if (token.length < 16) throw new Error('endpoint token: at least 16 characters');
  const maxBody = opts.maxBodyBytes ?? 1 << 30;
  const gate = new Gate(opts.maxConcurrent ?? 4);
  const insertDir = await mkdtemp(join(tmpdir(), 'dnslens-endpoint-'));
  const file = join(store.dataDir, ENDPOINT_FILE);

  let closed = false;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const base: Record<string, string> = {
      'X-ClickHouse-Server-Display-Name': 'dnslens',
      'X-ClickHouse-Timezone': 'UTC',
    };
    const fail = (e: HttpError): void => {
      const body = Buffer.from(`${e.message}\n`);
      const headers = { ...base, 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': String(e.chCode) };
      if (!res.headersSent) send(req, res, e.status, body, headers, false);
      else res.destroy();
    };
    if (!isLoopback(req.socket.remoteAddress)) {
      req.socket.destroy();
      return;
    }
    if (url.pathname === '/ping' || url.pathname === '/replicas_status') {
      send(req, res, 200, Buffer.from('Ok.\n'), { ...base, 'Content-Type': 'text/plain; charset=UTF-8' }, false);
      return;
    }
    if (url.pathname !== '/') {
      fail(new HttpError(404, 0, 'UNKNOWN', `There is no handle ${url.pathname}`));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') {
      fail(new HttpError(405, 0, 'UNKNOWN', `method ${req.method} not allowed`));
      return;
    }
    const params = url.searchParams;
    if ((req.method === 'GET' || req.method === 'HEAD') && !params.has('query')) {
      send(req, res, 200, Buffer.from('Ok.\n'), { ...base, 'Content-Type': 'text/plain; charset=UTF-8' }, false);
      return;
    }
    const { user, password } = credentials(req, params);
    if (!sameSecret(password, token)) {
      fail(
        new HttpError(
          403,
          516,
          'AUTHENTICATION_FAILED',
          `Code: 516. DB::Exception: ${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
        ),
      );
      return;
    }
    const queryId = params.get('query_id') || randomUUID();
    await gate.enter();
    let session: ChdbSession | null = null;
    try {
      session = await store.newSession();
      const { result, format } = await runRequest(session, req, params, insertDir, maxBody, store.database);
      const summary = {
        read_rows: String(result.rowsRead),
        read_bytes: String(result.bytesRead),
        written_rows: '0',
        written_bytes: '0',
        total_rows_to_read: String(result.rowsRead),
        result_rows: String(result.rowsRead),
        result_bytes: String(result.bytesRead),
        elapsed_ns: String(Math.round(result.elapsed * 1e9)),
      };
      const bytes = result.bytes();
      send(
        req,
        res,
        200,
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        {
          ...base,
          'Content-Type': contentType(format),
          'X-ClickHouse-Format': format,
          'X-ClickHouse-Query-Id': queryId,
          'X-ClickHouse-Summary': JSON.stringify(summary),
        },
        params.get('enable_http_compression') === '1',
      );
    } catch (err) {
      fail(err instanceof HttpError ? err : chdbError(err));
    } finally {
      session?.close();
      gate.leave();
      if (closed) res.once('finish', () => server.closeIdleConnections());
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.warn({ err: (err as Error).message }, 'endpoint request failed');
      res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const info: EndpointInfo = {
    pid: process.pid,
    port,
    user: ENDPOINT_USER,
    token,
    database: store.database,
    startedAt: new Date().toISOString(),
  };
  // Written under another name with mode 0600, then renamed: readers never see a partial
  // file, and the token is never readable by other users.
  await makeDirs(store.dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  log.debug({ port }, 'local endpoint serving the embedded store');

  return {
    port,
    info,
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Remove the file only if it is still ours.
      const current = await readEndpointInfo(store.dataDir);
      if (current && current.pid === process.pid && current.token === token) await rm(file, { force: true });
      // Let requests in progress finish (an insert cut off after it committed would be
      // retried by its client and stored twice), then cut what is left.
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), 10_000);
      await done;
      clearTimeout(cut);
      await rm(insertDir, { recursive: true, force: true });
    },
  };
}
