// Local receivers for the HTTP outputs, written from each vendor's API documentation: Splunk HEC,
// Elasticsearch/OpenSearch _bulk, ZincSearch /api/_bulk, VictoriaLogs /insert/jsonline, and the
// Azure Monitor Logs Ingestion API with its Entra ID token endpoint. No server of these can be
// installed here, so this is what the outputs are tested against. Each receiver checks every
// request strictly (method, path, query, headers, auth, framing, JSON), keeps what a vendor would
// have stored (`events`), lists whatever is not as documented (`violations`: a test expects none),
// and answers as the vendor does, including its error bodies. `force()` makes it answer the next
// requests with given statuses (429, 503, 400, ...) after checking them, for the retry paths.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';

export type Json = Record<string, unknown>;

export interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number; // ms since the epoch
}

export interface Answer {
  path?: string; // a forced answer with a path is for the next request whose path starts with it
  status: number;
  headers?: Record<string, string>;
  body?: string | Json;
}

/** The vendor's side: checks a request (rx.violation() for what is not as documented) and answers.
 *  take: false when the answer is forced: the request is checked, nothing is stored. */
export type Vendor = (req: Seen, rx: Receiver, take: boolean) => Answer;

export class Receiver {
  readonly requests: Seen[] = [];
  readonly events: Json[] = [];
  readonly violations: string[] = [];
  private forced: Answer[] = [];
  /** While true, every request is checked and answered 503 (a server in trouble), nothing taken. */
  failing = false;

  private constructor(
    private readonly server: Server,
    private readonly vendor: Vendor,
    readonly scheme: 'http' | 'https',
  ) {}

  /** Listens on 127.0.0.1, a free port unless given; with tls, over HTTPS. */
  static async start(vendor: Vendor, tls?: { key: Buffer; cert: Buffer }, port = 0): Promise<Receiver> {
    let rx!: Receiver;
    const handler = (req: IncomingMessage, res: ServerResponse): void => rx.handle(req, res);
    const server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
    rx = new Receiver(server, vendor, tls ? 'https' : 'http');
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    return rx;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.scheme}://127.0.0.1:${this.port}`;
  }

  /** Answer the next requests with these, in order (each request is still checked). */
  force(...answers: Answer[]): void {
    this.forced.push(...answers);
  }

  violation(what: string): void {
    this.violations.push(what);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const seen: Seen = { method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      this.requests.push(seen);
      const declared = Number(req.headers['content-length']);
      if (declared !== seen.body.length) this.violation(`content-length ${req.headers['content-length']} for a body of ${seen.body.length} bytes`);
      const i = this.forced.findIndex((f) => f.path === undefined || seen.path.startsWith(f.path));
      const forced = this.failing ? { status: 503, body: 'Service Unavailable' } : i >= 0 ? this.forced.splice(i, 1)[0] : undefined;
      // the vendor checks the request either way; a forced answer takes nothing
      const vendor = this.vendor(seen, this, !forced);
      const answer = forced ?? vendor;
      const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      res.writeHead(answer.status, { ...(body !== '' ? { 'content-type': typeof answer.body === 'string' ? 'text/plain' : 'application/json' } : {}), ...answer.headers });
      res.end(body);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

// ------------------------------------------------------------------ shared checks

function header(req: Seen, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

function mediaType(req: Seen): string {
  return header(req, 'content-type').split(';')[0].trim().toLowerCase();
}

function expectPost(req: Seen, rx: Receiver, path: string): boolean {
  if (req.method !== 'POST') rx.violation(`${req.method} ${req.path}: not POST`);
  if (req.path !== path) rx.violation(`POST to ${req.path}, not ${path}`);
  return req.method === 'POST' && req.path === path;
}

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

/** NDJSON: every line a JSON object, the body ending with a newline. */
function ndjson(req: Seen, rx: Receiver, what: string): Json[] | null {
  const text = req.body.toString('utf8');
  if (text === '') {
    rx.violation(`${what}: an empty body`);
    return null;
  }
  if (!text.endsWith('\n')) rx.violation(`${what}: the body does not end with a newline`);
  const out: Json[] = [];
  for (const [i, line] of text.replace(/\n$/, '').split('\n').entries()) {
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      out.push(v as Json);
    } catch (e) {
      rx.violation(`${what}: line ${i + 1} is not a JSON object (${(e as Error).message}): ${line.slice(0, 200)}`);
      return null;
    }
  }
  return out;
}

function isRfc3339(v: unknown): boolean {
  return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v) && !Number.isNaN(Date.parse(v));
}

// ------------------------------------------------------------------ Splunk HEC

export interface HecExpect {
  token: string;
  host: string | RegExp; // a pattern: several sensors
  source: string;
  sourcetype: string;
  index?: string; // absent: no index field expected
  path?: string;
}

/** HEC's /services/collector/event: "Authorization: Splunk <token>", JSON event envelopes one after
 *  the other; answers {"text","code"} as HEC does (code 0 success, 2/3 401, 4 403, 5/6 400). */
export function splunkHec(want: HecExpect): Vendor {
  return (req, rx, take) => {
    if (!expectPost(req, rx, want.path ?? '/services/collector/event')) return { status: 404, body: { text: 'The requested URL was not found on this server.', code: 404 } };
    const auth = header(req, 'authorization');
    if (auth === '') {
      rx.violation('no Authorization header');
      return { status: 401, body: { text: 'Token is required', code: 2 } };
    }
    if (!/^Splunk \S+$/.test(auth)) {
      rx.violation(`Authorization "${auth}" is not "Splunk <token>"`);
      return { status: 401, body: { text: 'Invalid authorization', code: 3 } };
    }
    if (auth !== `Splunk ${want.token}`) return { status: 403, body: { text: 'Invalid token', code: 4 } };
    if (mediaType(req) !== 'application/json') rx.violation(`content-type "${header(req, 'content-type')}"`);
    const lines = ndjson(req, rx, 'HEC');
    if (!lines) return { status: 400, body: req.body.length === 0 ? { text: 'No data', code: 5 } : { text: 'Invalid data format', code: 6 } };
    const events: Json[] = [];
    for (const [i, env] of lines.entries()) {
      const keys = Object.keys(env).sort().join(',');
      const wantKeys = ['event', 'host', 'source', 'sourcetype', 'time', ...(want.index !== undefined ? ['index'] : [])].sort().join(',');
      const bad =
        keys !== wantKeys ? `keys ${keys}, not ${wantKeys}` :
        typeof env.time !== 'number' || !(env.time > 0) ? `time ${String(env.time)} is not epoch seconds` :
        (typeof want.host === 'string' ? env.host !== want.host : !want.host.test(String(env.host))) ? `host ${String(env.host)}` :
        env.source !== want.source ? `source ${String(env.source)}` :
        env.sourcetype !== want.sourcetype ? `sourcetype ${String(env.sourcetype)}` :
        want.index !== undefined && env.index !== want.index ? `index ${String(env.index)}` :
        typeof env.event !== 'object' || env.event === null ? 'event is not an object' :
        Math.abs((env.time as number) - Date.parse((env.event as Json).time as string) / 1000) > 0.001 ? `time ${String(env.time)} is not the event's time` : '';
      if (bad) {
        rx.violation(`HEC event ${i}: ${bad}`);
        return { status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': i } };
      }
      events.push(env.event as Json);
    }
    if (take) rx.events.push(...events);
    return { status: 200, body: { text: 'Success', code: 0 } };
  };
}

// ------------------------------------------------------------------ _bulk (Elasticsearch, OpenSearch, ZincSearch)

export interface ItemFault {
  status: number;
  type: string;
  reason: string;
}

export interface BulkExpect {
  path: string;
  action: 'create' | 'index';
  index: string;
  user?: string; // basic auth
  password?: string;
  zinc?: boolean; // ZincSearch's answer: {"message", "record_count"}
  /** Item faults of the next requests, one list a request (item i of it gets fault i). */
  itemFaults?: (ItemFault | undefined)[][];
}

function esError(status: number, type: string, reason: string): Answer {
  return { status, body: { error: { root_cause: [{ type, reason }], type, reason }, status } };
}

/** NDJSON pairs of an action line and a document; answers per item as Elasticsearch does, or
 *  with ZincSearch's record count. */
export function bulk(want: BulkExpect): Vendor {
  let seq = 0;
  return (req, rx, take) => {
    if (!expectPost(req, rx, want.path)) return esError(404, 'index_not_found_exception', `no handler for ${req.path}`);
    if (want.user !== undefined) {
      const auth = header(req, 'authorization');
      if (!auth.startsWith('Basic ')) rx.violation(`Authorization "${auth}" is not basic auth`);
      if (auth !== basic(want.user, want.password ?? '')) {
        return want.zinc ? { status: 401, body: { auth: 'Unauthorized' } } : esError(401, 'security_exception', 'unable to authenticate user [x] for REST request [/_bulk]');
      }
    }
    if (mediaType(req) !== 'application/x-ndjson') rx.violation(`content-type "${header(req, 'content-type')}", not application/x-ndjson`);
    if (!req.body.toString().endsWith('\n')) return (rx.violation('bulk body not terminated by a newline'), esError(400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline [\\n]'));
    const lines = ndjson(req, rx, '_bulk');
    if (!lines || lines.length % 2 !== 0) {
      if (lines) rx.violation(`_bulk: ${lines.length} lines, not pairs`);
      return esError(400, 'illegal_argument_exception', 'Malformed action/metadata line');
    }
    const faults = (take && want.itemFaults?.shift()) || [];
    const items: Json[] = [];
    let taken = 0;
    for (let i = 0; i < lines.length; i += 2) {
      const action = lines[i];
      const meta = action[want.action] as Json | undefined;
      if (Object.keys(action).length !== 1 || !meta || meta._index !== want.index || Object.keys(meta).length !== 1) {
        rx.violation(`_bulk action line ${JSON.stringify(action)}, not {"${want.action}":{"_index":"${want.index}"}}`);
        return esError(400, 'illegal_argument_exception', `Malformed action/metadata line [${i + 1}]`);
      }
      if (!isRfc3339(lines[i + 1].time)) rx.violation(`_bulk document without an RFC 3339 time: ${JSON.stringify(lines[i + 1]).slice(0, 200)}`);
      const fault = faults[i / 2];
      if (fault) {
        items.push({ [want.action]: { _index: want.index, status: fault.status, error: { type: fault.type, reason: fault.reason } } });
        continue;
      }
      if (take) rx.events.push(lines[i + 1]);
      taken++;
      items.push({ [want.action]: { _index: want.index, _id: `id${++seq}`, _version: 1, result: 'created', status: 201 } });
    }
    if (want.zinc) return { status: 200, body: { message: 'bulk data inserted', record_count: taken } };
    return { status: 200, body: { took: 3, errors: taken < lines.length / 2, items } };
  };
}

// ------------------------------------------------------------------ VictoriaLogs

export interface JsonlineExpect {
  msgField: string;
  timeField: string;
  streamFields: string;
}

/** /insert/jsonline with _msg_field, _time_field and _stream_fields; every line an object with
 *  the message and time fields. Answers 200 with no body; a bad line is a 400. */
export function victoriaLogs(want: JsonlineExpect): Vendor {
  return (req, rx, take) => {
    if (!expectPost(req, rx, '/insert/jsonline')) return { status: 400, body: 'unsupported path requested' };
    for (const [k, v] of [['_msg_field', want.msgField], ['_time_field', want.timeField], ['_stream_fields', want.streamFields]] as const) {
      if (req.query.get(k) !== v) rx.violation(`query ${k}=${String(req.query.get(k))}, not ${v}`);
    }
    if (!['application/stream+json', 'application/x-ndjson', 'application/json'].includes(mediaType(req))) rx.violation(`content-type "${header(req, 'content-type')}"`);
    const lines = ndjson(req, rx, 'jsonline');
    if (!lines) return { status: 400, body: 'cannot read json line' };
    for (const l of lines) {
      if (typeof l[want.msgField] !== 'string' || l[want.msgField] === '') rx.violation(`jsonline: no ${want.msgField} message field`);
      if (!isRfc3339(l[want.timeField])) rx.violation(`jsonline: ${want.timeField} ${String(l[want.timeField])} is not RFC 3339`);
    }
    if (take) rx.events.push(...lines);
    return { status: 200 };
  };
}

// ------------------------------------------------------------------ Sentinel: Entra ID + Logs Ingestion API

export interface IngestionExpect {
  tenant: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  dcr: string;
  stream: string;
}

export const MAX_INGESTION_BYTES = 1024 * 1024;

/** A rule and an app registration as the tests give them to the Sentinel output. */
export const SENTINEL_WANT: IngestionExpect = {
  tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  clientId: '0b5d3a2e-1c4f-4d8e-9a7b-6e5f4d3c2b1a',
  clientSecret: 'k9Q~secret.value',
  scope: 'https://monitor.azure.com//.default',
  dcr: 'dcr-00000000000000000000000000000000',
  stream: 'Custom-dnsmonster_CL',
};

/** The token endpoint (/{tenant}/oauth2/v2.0/token, client credentials form) and the ingestion
 *  endpoint (/dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01, a bearer token it
 *  issued, a JSON array of at most 1 MB) on one port. Answers 204, or Azure's error bodies. */
export class Ingestion {
  readonly tokens = new Set<string>();
  issued = 0;

  constructor(private readonly want: IngestionExpect) {}

  /** Tokens issued so far stop working (a revoked or expired token). */
  revokeAll(): void {
    this.tokens.clear();
  }

  readonly vendor: Vendor = (req, rx, take) => {
    if (req.path === `/${this.want.tenant}/oauth2/v2.0/token`) return this.token(req, rx, take);
    return this.ingest(req, rx, take);
  };

  private token(req: Seen, rx: Receiver, take: boolean): Answer {
    if (req.method !== 'POST') rx.violation(`${req.method} to the token endpoint`);
    if (mediaType(req) !== 'application/x-www-form-urlencoded') rx.violation(`token request content-type "${header(req, 'content-type')}"`);
    const form = new URLSearchParams(req.body.toString());
    if (form.get('grant_type') !== 'client_credentials') rx.violation(`grant_type ${String(form.get('grant_type'))}`);
    if (form.get('scope') !== this.want.scope) rx.violation(`scope ${String(form.get('scope'))}, not ${this.want.scope}`);
    if (form.get('client_id') !== this.want.clientId) {
      return { status: 400, body: { error: 'unauthorized_client', error_description: `AADSTS700016: Application with identifier '${String(form.get('client_id'))}' was not found in the directory.` } };
    }
    if (form.get('client_secret') !== this.want.clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.' } };
    }
    const t = randomBytes(24).toString('base64url');
    if (take) {
      this.tokens.add(t);
      this.issued++;
    }
    return { status: 200, body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: t } };
  }

  private ingest(req: Seen, rx: Receiver, take: boolean): Answer {
    const path = `/dataCollectionRules/${this.want.dcr}/streams/${this.want.stream}`;
    if (!expectPost(req, rx, path)) return { status: 404, body: { error: { code: 'NotFound', message: `no route for ${req.path}` } } };
    if (req.query.get('api-version') !== '2023-01-01') rx.violation(`api-version ${String(req.query.get('api-version'))}`);
    const auth = header(req, 'authorization');
    if (!auth.startsWith('Bearer ')) rx.violation(`Authorization "${auth}" is not a bearer token`);
    if (!this.tokens.has(auth.slice(7))) return { status: 401, body: { error: { code: 'InvalidToken', message: 'The authentication token provided is invalid or expired.' } } };
    if (mediaType(req) !== 'application/json') rx.violation(`content-type "${header(req, 'content-type')}"`);
    if (req.body.length > MAX_INGESTION_BYTES) {
      rx.violation(`a request of ${req.body.length} bytes (over 1 MB)`);
      return { status: 413, body: { error: { code: 'ContentLengthLimitExceeded', message: 'Maximum allowed content length: 1048576 bytes.' } } };
    }
    let records: unknown;
    try {
      records = JSON.parse(req.body.toString('utf8'));
    } catch (e) {
      rx.violation(`the body is not JSON: ${(e as Error).message}`);
      return { status: 400, body: { error: { code: 'InvalidRequest', message: 'Invalid JSON' } } };
    }
    if (!Array.isArray(records) || records.length === 0) {
      rx.violation('the body is not a non-empty JSON array');
      return { status: 400, body: { error: { code: 'InvalidRequest', message: 'The body must be a JSON array' } } };
    }
    for (const r of records as Json[]) {
      if (!isRfc3339(r.TimeGenerated)) rx.violation(`a record whose TimeGenerated is ${String(r.TimeGenerated)}`);
      for (const k of Object.keys(r)) if (!/^[A-Za-z][A-Za-z0-9_]{0,44}$/.test(k)) rx.violation(`column name ${k}`);
    }
    if (take) rx.events.push(...(records as Json[]));
    return { status: 204 };
  }
}

/** InfluxDB 1.x's POST /write?db=<db>&precision=ns, line protocol in the body: each line is kept
 *  as {line}. 204 when taken, InfluxDB's 404 for another database. */
export function influxV1(db: string): Vendor {
  return (req, rx, take) => {
    if (!expectPost(req, rx, '/write')) return { status: 404, body: '404 page not found' };
    if (req.query.get('precision') !== 'ns') rx.violation(`precision ${String(req.query.get('precision'))}`);
    if (req.query.get('db') !== db) return { status: 404, body: { error: `database not found: "${String(req.query.get('db'))}"` } };
    if (mediaType(req) !== 'text/plain') rx.violation(`content-type "${header(req, 'content-type')}"`);
    const lines = req.body.toString('utf8').split('\n').filter((l) => l !== '');
    if (lines.length === 0) rx.violation('an empty write');
    if (take) rx.events.push(...lines.map((line) => ({ line })));
    return { status: 204 };
  };
}

// ------------------------------------------------------------------ a forward proxy

/** An HTTP proxy: absolute-form requests are forwarded, CONNECT opens a tunnel. Counts both. */
export class Proxy {
  forwarded = 0;
  tunnels = 0;
  private readonly sockets = new Set<Socket>(); // tunnels are not the server's connections any more
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Proxy> {
    let p!: Proxy;
    const server = createHttpServer((req, res) => {
      p.forwarded++;
      const target = new URL(req.url ?? '');
      const up = request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
    });
    server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
      p.tunnels++;
      const [host, port] = (req.url ?? '').split(':');
      const up = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
      p.sockets.add(client).add(up);
    });
    p = new Proxy(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
