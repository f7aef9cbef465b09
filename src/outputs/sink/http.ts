// The HTTP target of the sink toolkit, shared by the log-store and SIEM outputs (Splunk HEC,
// Elasticsearch/OpenSearch and Zinc _bulk, VictoriaLogs jsonline, Sentinel's Logs Ingestion API).
// A batch is one or more request bodies (the encoder's chunks), POSTed in order. Every vendor's
// answers are sorted the same way:
//  - 2xx: taken. The output may still find items refused inside (counted), or items the server
//    asks for again (_bulk's 429 items): those alone go in the next try;
//  - 429, 408, 5xx, a timeout, a connection error: thrown, so the writer tries the batch again
//    with backoff, waiting at least the server's Retry-After; with several endpoints the next one
//    is tried. Bodies of the batch already taken are not sent again;
//  - any other status (400, 401, 403, 404, 413, a redirect): the body's events are counted as
//    rejected and the server's message is logged. Sending them again would get the same answer.
// Built on node:http(s) (no dependency): keep-alive connections, a timeout per request, an
// http:// proxy (absolute-form requests; CONNECT for https:// targets), CA certificates.
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Output } from '../../component.js';
import type { Log } from '../../log.js';
import type { Counters } from '../../stats.js';
import { writerOutput, type BatchWriter, type RetryHint, type SinkBatch, type SinkTarget, type WriterOptions } from './writer.js';

const MAX_REPLY_BYTES = 8 << 20; // a _bulk answer lists every item; beyond this it is read and dropped
const SHOWN_REPLY_CHARS = 500; // of a server's message, in logs
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface HttpOptions {
  timeoutMs: number; // per request, from connecting to the end of the answer
  proxy?: URL; // http:// only (checked at start-up)
  ca?: Buffer; // for https:// (default: the system CAs)
  rejectUnauthorized?: boolean; // default true; false with --skipTLSVerification
}

/** A client from the option values (check() vetted the proxy URI and the CA file); skipTlsVerify: --skipTLSVerification. */
export function httpClient(o: { timeoutMs?: number; proxy?: string; caPath?: string; skipTlsVerify: boolean }): HttpClient {
  return new HttpClient({
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    proxy: o.proxy ? new URL(o.proxy.trim()) : undefined,
    ca: o.caPath ? readFileSync(o.caPath) : undefined,
    rejectUnauthorized: !o.skipTlsVerify,
  });
}

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request that failed. retry: worth sending again later (429, 5xx, no answer). */
export class HttpError extends Error implements RetryHint {
  constructor(
    message: string,
    readonly retry: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** What the sink does with an answer of this status. */
export function classify(status: number): 'ok' | 'retry' | 'refuse' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429 || status === 408 || status >= 500) return 'retry';
  return 'refuse';
}

/** Retry-After in ms: delay-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** The URL as logged: without user name and password. */
export function shown(u: URL): string {
  if (!u.username && !u.password) return u.href;
  const c = new URL(u.href);
  c.username = '';
  c.password = '';
  return c.href;
}

export function basicAuth(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

// user:password@ in a URL (percent-encoded there) is basic auth.
function userinfoAuth(u: URL): string | undefined {
  return u.username || u.password ? basicAuth(decodeURIComponent(u.username), decodeURIComponent(u.password)) : undefined;
}

function hostOf(u: URL): string {
  return u.hostname.replace(/^\[(.*)\]$/, '$1');
}

function portOf(u: URL): number {
  return Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
}

/** A server's message, on one line and cut, for logs. */
export function excerpt(body: string): string {
  const b = body.trim().replace(/\s+/g, ' ');
  return b === '' ? '(no message)' : b.length > SHOWN_REPLY_CHARS ? b.slice(0, SHOWN_REPLY_CHARS) + '...' : b;
}

/** POSTs bodies and reads the answers. */
export class HttpClient {
  private readonly plain = new HttpAgent({ keepAlive: true, maxSockets: 4 });
  private readonly secure = new HttpsAgent({ keepAlive: true, maxSockets: 4 });

  constructor(private readonly o: HttpOptions) {}

  /** Resolves with whatever the server answered; rejects with a retryable HttpError when no answer came
   *  (and a permanent one when a proxy refuses a tunnel for good). */
  async post(url: URL, headers: Readonly<Record<string, string>>, body: Uint8Array): Promise<HttpReply> {
    const h: Record<string, string> = { 'user-agent': 'dnslens', ...headers, 'content-length': String(body.byteLength) };
    const auth = userinfoAuth(url);
    if (auth && !h.authorization) h.authorization = auth;
    const host = hostOf(url);
    const secure = url.protocol === 'https:';
    const tls = { ca: this.o.ca, rejectUnauthorized: this.o.rejectUnauthorized ?? true, servername: isIP(host) ? undefined : host };
    const proxy = this.o.proxy;
    let send = httpRequest;
    let opts: RequestOptions;
    if (!proxy) {
      opts = { host, port: portOf(url), path: url.pathname + url.search, headers: h, agent: secure ? this.secure : this.plain, ...(secure ? tls : {}) };
      if (secure) send = httpsRequest;
    } else if (!secure) {
      // through the proxy in absolute form (RFC 9112 3.2.2)
      const ph = userinfoAuth(proxy);
      opts = { host: hostOf(proxy), port: portOf(proxy), path: shown(url), headers: { ...h, host: url.host, ...(ph ? { 'proxy-authorization': ph } : {}) }, agent: this.plain };
    } else {
      const socket = await this.tunnel(url, proxy);
      opts = { host, port: portOf(url), path: url.pathname + url.search, headers: h, createConnection: () => tlsConnect({ socket, host, ...tls }) };
    }
    return new Promise<HttpReply>((resolve, reject) => {
      const req = send({ ...opts, method: 'POST' });
      const fail = (err: Error): void => {
        clearTimeout(timer);
        reject(new HttpError(`${shown(url)}: ${err.message}`, true));
      };
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
      req.once('error', fail);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let n = 0;
        res.on('data', (c: Buffer) => {
          if (n < MAX_REPLY_BYTES) chunks.push(c);
          n += c.length;
        });
        res.once('error', fail);
        res.once('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(body);
    });
  }

  // A CONNECT tunnel through the proxy to an https:// target (a new one per request).
  private tunnel(url: URL, proxy: URL): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const target = `${url.hostname}:${portOf(url)}`; // IPv6 keeps its brackets here
      const ph = userinfoAuth(proxy);
      const req = httpRequest({ host: hostOf(proxy), port: portOf(proxy), method: 'CONNECT', path: target, headers: { host: target, ...(ph ? { 'proxy-authorization': ph } : {}) }, agent: false });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.o.timeoutMs} ms`)), this.o.timeoutMs);
      req.once('connect', (res, socket) => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        if (status === 200) return resolve(socket);
        socket.destroy();
        reject(new HttpError(`proxy ${shown(proxy)} answered ${status} to CONNECT ${target}`, classify(status) === 'retry'));
      });
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(new HttpError(`proxy ${shown(proxy)}: ${err.message}`, true));
      });
      req.end();
    });
  }

  close(): void {
    this.plain.destroy();
    this.secure.destroy();
  }
}

/** An Authorization header that changes (a bearer token that expires). */
export interface HttpAuth {
  header(): Promise<string>;
  /** After a 401: true when the credential was an old one (dropped now), so one more try is worth it. */
  stale(): boolean;
}

/** What a 2xx answer says about the body: events refused one by one, and items to send again. */
export interface Taken {
  refused: number;
  again?: Uint8Array; // the body to send next instead (the items the server asks for again)
  why?: string; // the first refusal's reason, for the log
}

/** What differs between vendors. */
export interface HttpProtocol {
  readonly urls: readonly URL[]; // after a failure the next one is tried (failover)
  readonly headers: Readonly<Record<string, string>>; // content-type, a fixed authorization
  readonly auth?: HttpAuth;
  readonly authHint: string; // which options hold the credentials, for 401/403 messages
  /** Events in one body (to count a refused body). */
  rows(body: Uint8Array): number;
  /** Reads a 2xx answer (default: everything was taken). */
  taken?(reply: HttpReply, body: Uint8Array): Taken;
}

interface Progress {
  data: readonly Uint8Array[]; // the batch being sent (the same array on every try)
  next: number; // its first body not taken yet
  again?: Uint8Array; // what is left of that body
  refused: number;
}

export class HttpTarget implements SinkTarget<null> {
  private current = 0;
  private progress: Progress | null = null;

  constructor(
    private readonly client: HttpClient,
    private readonly p: HttpProtocol,
    private readonly log: Log,
  ) {
    if (p.urls.length === 0) throw new Error('an HTTP output without an endpoint');
  }

  get where(): string {
    return shown(this.p.urls[this.current]);
  }

  async send(batch: SinkBatch<null>): Promise<{ refused: number }> {
    if (!batch.data) throw new Error(`${this.where}: a batch without data (HTTP outputs keep no spool)`);
    let st = this.progress;
    if (!st || st.data !== batch.data) st = this.progress = { data: batch.data, next: 0, refused: 0 };
    while (st.next < st.data.length) {
      const t = await this.exchange(st.again ?? st.data[st.next]);
      st.refused += t.refused;
      if (t.again) {
        st.again = t.again;
        throw new HttpError(`${this.where}: the receiver asks for ${this.p.rows(t.again)} events again${t.why ? ` (${t.why})` : ''}`, true);
      }
      st.again = undefined;
      st.next++;
    }
    this.progress = null;
    return { refused: st.refused };
  }

  private async exchange(body: Uint8Array): Promise<Taken> {
    const url = this.p.urls[this.current];
    let reply: HttpReply;
    try {
      const headers = { ...this.p.headers };
      if (this.p.auth) headers.authorization = await this.p.auth.header();
      reply = await this.client.post(url, headers, body);
    } catch (err) {
      if (err instanceof HttpError && !err.retry) return this.refuse(body, err.message);
      this.failover();
      throw err;
    }
    const verdict = classify(reply.status);
    if (verdict === 'ok') {
      const t = this.p.taken?.(reply, body) ?? { refused: 0 };
      if (t.refused > 0) this.log.error({ to: shown(url), refused: t.refused, why: t.why }, 'the receiver refused events of a request; counted as rejected');
      return t;
    }
    let message = `HTTP ${reply.status} from ${shown(url)}: ${excerpt(reply.body)}`;
    if (reply.status === 401 && this.p.auth?.stale()) throw new HttpError(`${message} (trying again with a new token)`, true);
    if (verdict === 'retry') {
      this.failover();
      throw new HttpError(message, true, retryAfterMs(reply.headers['retry-after']));
    }
    if (reply.status === 401 || reply.status === 403) message += ` (check ${this.p.authHint})`;
    else if (reply.status >= 300 && reply.status < 400) message += ` (redirected to ${reply.headers.location ?? '?'}: give that URL instead)`;
    return this.refuse(body, message);
  }

  private refuse(body: Uint8Array, message: string): Taken {
    const rows = this.p.rows(body);
    this.log.error({ rows, err: message }, 'the receiver refused a request; its events are counted as rejected, not sent again');
    return { refused: rows };
  }

  private failover(): void {
    if (this.p.urls.length < 2) return;
    this.current = (this.current + 1) % this.p.urls.length;
    this.log.warn({ to: this.where }, 'trying the next endpoint');
  }
}

export interface HttpOutputOptions extends Omit<WriterOptions<null>, 'meta' | 'counters'> {
  counters: Counters;
  protocol: HttpProtocol;
  client: HttpClient; // closed with the output
}

/** An output that POSTs its batches: the sink toolkit's writer over an HttpTarget. */
export function httpOutput(o: HttpOutputOptions): Output & { readonly writer: BatchWriter<null> } {
  const { protocol, client, ...writer } = o;
  return writerOutput(new HttpTarget(client, protocol, o.log), { ...writer, meta: null }, () => client.close());
}
