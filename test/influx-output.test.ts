// The InfluxDB output. Line protocol is read back by a parser written here from InfluxDB's line
// protocol reference (not the encoder's code). The v2 API is checked by a receiver written from
// InfluxDB's v2 API docs (POST /api/v2/write?org=&bucket=&precision=, Authorization: Token,
// answers 204, or 400/401/404 with {"code","message"}, and 429/503 for the retry paths). The
// v1 API runs against a real influxd 1.x (Debian's influxdb), started here on loopback ports
// with its own config and data dir: a real capture's events counted back per tag with InfluxQL,
// hostile names read back exactly, and influxd killed and restarted mid-run with nothing lost.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rcodeName, typeName } from '../src/dnsnames.js';
import { isoTime, newEvent, type DnsEvent } from '../src/event.js';
import { log } from '../src/log.js';
import { Collisions, escapeFieldString, escapeMeasurement, escapeTag, measurementProblem, tagProblem } from '../src/outputs/influx/line.js';
import { influxOutput, writeUrl, type InfluxApi } from '../src/outputs/influx/output.js';
import { Counters, Stats } from '../src/stats.js';
import { dnslensAsync as dnslens, until } from './cli-async.js';
import { PCAP_DIR } from './data.js';
import { describeWithPeers, which } from './peers.js';
import { freePort } from './resolvers.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
// A real capture: queries and responses over UDP and TCP, 149 of them in the same microsecond
// as another of their series (the encoder moves those 1 ns apart).
const CAPTURE = join(PCAP_DIR, 'pktvisor__dns_udp_tcp_random.pcap');
const CAPTURE_EVENTS = 5851;

// ------------------------------------------------------------------ a line protocol reader

interface Point {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string | number | boolean>;
  time: bigint;
}

// Reads s from i up to the first of `stops` that is not escaped. A backslash escapes only the
// characters in `escapable`; before any other it is a backslash (as InfluxDB reads it).
function readPart(s: string, i: number, stops: string, escapable: string): [string, number] {
  let out = '';
  while (i < s.length && !stops.includes(s[i])) {
    if (s[i] === '\\' && i + 1 < s.length && escapable.includes(s[i + 1])) {
      out += s[i + 1];
      i += 2;
    } else {
      out += s[i++];
    }
  }
  return [out, i];
}

/** One line: measurement[,tag=value...] field=value[,...] timestamp. */
function parseLine(line: string): Point {
  let [measurement, i] = readPart(line, 0, ', ', ', ');
  const tags: Record<string, string> = {};
  while (line[i] === ',') {
    const [k, j] = readPart(line, i + 1, '=', ',= ');
    const [v, n] = readPart(line, j + 1, ', ', ',= ');
    if (k === '' || v === '') throw new Error(`empty tag key or value in ${line}`);
    tags[k] = v;
    i = n;
  }
  if (line[i] !== ' ') throw new Error(`no field set in ${line}`);
  const fields: Record<string, string | number | boolean> = {};
  do {
    const [k, j] = readPart(line, i + 1, '=', ',= ');
    i = j + 1;
    if (line[i] === '"') {
      const [v, n] = readPart(line, i + 1, '"', '"\\');
      if (line[n] !== '"') throw new Error(`unterminated string in ${line}`);
      fields[k] = v;
      i = n + 1;
    } else {
      const [raw, n] = readPart(line, i, ', ', '');
      if (/^-?\d+i$/.test(raw)) fields[k] = Number(raw.slice(0, -1));
      else if (raw === 'true' || raw === 'false') fields[k] = raw === 'true';
      else if (/^-?\d+(\.\d+)?$/.test(raw)) fields[k] = Number(raw);
      else throw new Error(`bad field value ${raw} in ${line}`);
      i = n;
    }
  } while (line[i] === ',');
  if (line[i] !== ' ' || !/^\d+$/.test(line.slice(i + 1))) throw new Error(`bad timestamp in ${line}`);
  return { measurement, tags, fields, time: BigInt(line.slice(i + 1)) };
}

// ------------------------------------------------------------------ what each event must become

interface JsonEvent {
  time: string;
  server: string;
  srcIp: string;
  dstIp: string;
  transport: string;
  id: number;
  qr: boolean;
  rcode: number;
  qname: string;
  qtype: number;
  anCount: number;
  size: number;
  responseTimeUs: number | null;
  unanswered: boolean;
}

/** The capture's events as --stdoutOutputFormat json gives them. */
function captureEvents(): JsonEvent[] {
  const r = spawnSync(process.execPath, [MAIN, '--pcapFile', CAPTURE, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonEvent);
}

function nsOf(time: string): bigint {
  const sec = BigInt(Date.parse(time.slice(0, 19) + 'Z') / 1000);
  return sec * 1_000_000_000n + BigInt(time.slice(20, 29));
}

/** An event's point as the README documents it: its tags and fields, time aside. */
function expectedKey(e: JsonEvent): string {
  const tags = { direction: e.qr ? 'response' : 'query', qtype: typeName(e.qtype), rcode: rcodeName(e.rcode), server: e.server, transport: e.transport };
  const fields: Record<string, unknown> = { qname: e.qname, client: e.qr ? e.dstIp : e.srcIp, resolver: e.qr ? e.srcIp : e.dstIp, id: e.id, size: e.size, answers: e.anCount };
  if (e.responseTimeUs !== null) fields.latency_us = e.responseTimeUs;
  if (e.unanswered) fields.unanswered = true;
  return JSON.stringify([sorted(tags), sorted(fields)]);
}

function pointKey(p: Point): string {
  return JSON.stringify([sorted(p.tags), sorted(p.fields)]);
}

function sorted(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

/** Every event became one point with its tags and fields, at its capture time (or at most
 *  999 ns later, when another point of its series had that time), no two of a series at one time. */
function checkPoints(points: Point[], events: JsonEvent[]): void {
  expect(points).toHaveLength(events.length);
  const want = new Map<string, bigint[]>();
  for (const e of events) {
    const k = expectedKey(e);
    want.set(k, [...(want.get(k) ?? []), nsOf(e.time)]);
  }
  const got = new Map<string, bigint[]>();
  for (const p of points) {
    expect(p.measurement).toBe('dns');
    const k = pointKey(p);
    got.set(k, [...(got.get(k) ?? []), p.time]);
  }
  expect(new Set(got.keys())).toEqual(new Set(want.keys()));
  for (const [k, times] of want) {
    const a = [...times].sort((x, y) => (x < y ? -1 : 1));
    const b = [...got.get(k)!].sort((x, y) => (x < y ? -1 : 1));
    expect(b.length, k).toBe(a.length);
    for (let i = 0; i < a.length; i++) {
      const moved = Number(b[i] - a[i]);
      expect(moved, k).toBeGreaterThanOrEqual(0);
      expect(moved, k).toBeLessThan(1000);
    }
  }
  const series = new Set(points.map((p) => `${JSON.stringify(p.tags)} ${p.time}`));
  expect(series.size).toBe(points.length);
}

function events(from: number, count: number, qname = (i: number) => `host${i}.example.com`): DnsEvent[] {
  return Array.from({ length: count }, (_, k) => {
    const i = from + k;
    const ev = newEvent();
    ev.timeSec = 1700000000 + i;
    ev.timeNsec = 123456789;
    ev.srcIp = '192.0.2.7';
    ev.dstIp = '198.51.100.53';
    ev.id = i & 0xffff;
    ev.qtype = 1;
    ev.size = 40 + (i % 20);
    ev.qname = qname(i);
    return ev;
  });
}

// ------------------------------------------------------------------ escaping and configuration

describe('influx output: line protocol and configuration', () => {
  it('escapes as the line protocol reference says', () => {
    expect(escapeMeasurement('dns, x=y')).toBe('dns\\,\\ x=y');
    expect(escapeTag('a,b c=d')).toBe('a\\,b\\ c\\=d');
    expect(escapeFieldString('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(tagProblem('plain')).toBeNull();
    expect(tagProblem('a\\b')).toBeNull(); // a backslash in the middle reads back as it is
    expect(tagProblem('x\\,y')).toBeNull();
    expect(tagProblem('one\\')).toMatch(/ends with a backslash/);
    expect(tagProblem('two\\\\')).toMatch(/ends with a backslash/);
    expect(tagProblem('line\nbreak')).toMatch(/line break/);
    expect(measurementProblem('#dns')).toMatch(/comment/);
    expect(measurementProblem('')).toMatch(/empty/);
    expect(measurementProblem('a=b \\x')).toBeNull();
    expect(measurementProblem('a\\ b')).toMatch(/backslash/);
  });

  it('moves a point of a series 1 ns on while its series has that time, across a second too', () => {
    const c = new Collisions();
    expect(c.stamp('s', 10, 999_999_998)).toBe('10999999998');
    expect(c.stamp('s', 10, 999_999_998)).toBe('10999999999');
    expect(c.stamp('s', 10, 999_999_998)).toBe('11000000000');
    expect(c.stamp('t', 10, 999_999_998)).toBe('10999999998'); // another series
    expect(c.moved).toBe(2);
    // bounded: a stamp is remembered for at least `limit` more stamps
    const small = new Collisions(2);
    for (const sec of [1, 2, 3]) small.stamp('s', sec, 0);
    expect(small.stamp('s', 1, 0)).toBe('1000000001');
  });

  it('builds the v2 and v1 write URLs, keeping a path prefix', () => {
    const v2: InfluxApi = { api: 'v2', server: 'https://influx.example:8086/prefix', org: 'my org', bucket: 'b&1', token: 't' };
    expect(writeUrl(v2).toString()).toBe('https://influx.example:8086/prefix/api/v2/write?org=my+org&bucket=b%261&precision=ns');
    const v1: InfluxApi = { api: 'v1', server: 'http://127.0.0.1:8086', database: 'dns', user: '', password: '' };
    expect(writeUrl(v1).toString()).toBe('http://127.0.0.1:8086/write?db=dns&precision=ns');
  });

  it('stops with exit 2 naming the option for a bad URL, a missing v2 setting, a stray v1 login, a bad measurement or server name', async () => {
    for (const [args, want] of [
      [[], /--influxOutputServer: needed: the InfluxDB server URL/],
      [['--influxOutputServer', 'ftp://127.0.0.1:8086'], /--influxOutputServer: unknown scheme "ftp:"/],
      [['--influxOutputServer', 'localhost:8086'], /--influxOutputServer: unknown scheme "localhost:"/],
      [['--influxOutputServer', 'http://127.0.0.1:8086', '--influxOutputOrg', ''], /--influxOutputOrg: needed: the v2 API asks for it/],
      [['--influxOutputServer', 'http://127.0.0.1:8086', '--influxCACertificatePath', '/etc/hostname'], /--influxCACertificatePath: only for https:\/\/ endpoints/],
      [['--influxOutputServer', 'http://127.0.0.1:8086', '--influxOutputUser', 'u'], /--influxOutputUser: only for --influxOutputApi v1/],
      [['--influxOutputServer', 'http://127.0.0.1:8086', '--influxOutputApi', 'v1', '--influxOutputPassword', 'p'], /--influxOutputPassword: needs --influxOutputUser/],
      [['--influxOutputServer', 'http://127.0.0.1:8086', '--influxOutputMeasurement', '#dns'], /--influxOutputMeasurement: "#dns" cannot be a measurement: a line that starts with # is a comment/],
      [['--influxOutputServer', 'http://127.0.0.1:8086', '--serverName', 'sensor\\'], /--serverName "sensor\\\\" cannot be an InfluxDB tag: it ends with a backslash/],
    ] as const) {
      const r = await dnslens(['--pcapFile', CAPTURE, '--influxOutputType', '1', ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(want);
    }
  });
});

// ------------------------------------------------------------------ v2: a receiver from the docs

const ORG = 'dns org';
const BUCKET = 'dns/bucket';
const TOKEN = 'secret-token==';

/** POST /api/v2/write as InfluxDB's v2 API docs describe it. `script` holds statuses to answer
 *  (429 or 503, with InfluxDB's JSON body) before it takes writes again. */
class V2Receiver {
  readonly points: Point[] = [];
  readonly answered: number[] = [];
  script: number[] = [];
  private server: Server | null = null;
  port = 0;

  private answer(res: ServerResponse, status: number, code?: string, message?: string): void {
    this.answered.push(status);
    if (code === undefined) {
      res.writeHead(status).end();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...(status === 429 ? { 'Retry-After': '1' } : {}) });
    res.end(JSON.stringify({ code, message }));
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'POST' || url.pathname !== '/api/v2/write') return this.answer(res, 404, 'not found', 'path not found');
    if (req.headers.authorization !== `Token ${TOKEN}`) return this.answer(res, 401, 'unauthorized', 'unauthorized access');
    if (url.searchParams.get('org') !== ORG) return this.answer(res, 404, 'not found', `organization name "${url.searchParams.get('org')}" not found`);
    if (url.searchParams.get('bucket') !== BUCKET) return this.answer(res, 404, 'not found', `bucket "${url.searchParams.get('bucket')}" not found`);
    if (url.searchParams.get('precision') !== 'ns') return this.answer(res, 400, 'invalid', 'precision must be ns for this receiver');
    if (!/^text\/plain(;|$)/.test(req.headers['content-type'] ?? '')) return this.answer(res, 400, 'invalid', 'content type is not text/plain');
    const status = this.script.shift();
    if (status === 429) return this.answer(res, 429, 'too many requests', 'org exceeded write limits');
    if (status !== undefined) return this.answer(res, status, 'internal error', 'unexpected error writing points to database');
    const parsed: Point[] = [];
    for (const line of body.split('\n')) {
      if (line === '') continue;
      try {
        parsed.push(parseLine(line));
      } catch (err) {
        return this.answer(res, 400, 'invalid', `unable to parse '${line}': ${(err as Error).message}`);
      }
    }
    this.points.push(...parsed); // all or nothing, as the docs say of a 400
    this.answer(res, 204);
  }

  async listen(port = 0): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = null;
  }
}

describe('influx output: the v2 request format', () => {
  let rx: V2Receiver;
  let expected: JsonEvent[];

  beforeAll(async () => {
    rx = new V2Receiver();
    await rx.listen();
    expected = captureEvents();
    expect(expected).toHaveLength(CAPTURE_EVENTS);
  });

  afterAll(() => rx?.close());

  const v2 = () => ['--influxOutputType', '1', '--influxOutputServer', `http://127.0.0.1:${rx.port}`, '--influxOutputOrg', ORG, '--influxOutputBucket', BUCKET, '--influxOutputToken', TOKEN];

  it('writes every event of a capture as one point, with its tags, fields and time', async () => {
    rx.points.length = 0;
    const r = await dnslens(['--pcapFile', CAPTURE, ...v2()]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/influx\n\s+rows sent\s+5,851\n/);
    expect(rx.answered.every((s) => s === 204)).toBe(true);
    checkPoints(rx.points, expected);
  });

  it('retries 429 and 503 with backoff until the receiver takes the batch', async () => {
    rx.points.length = 0;
    rx.answered.length = 0;
    rx.script = [429, 503, 503];
    const stats = new Stats();
    const counters = new Counters('influx');
    const out = influxOutput({
      api: { api: 'v2', server: `http://127.0.0.1:${rx.port}`, org: ORG, bucket: BUCKET, token: TOKEN },
      line: { measurement: 'dns', server: 'sensor-1', qnameTag: false },
      batchSize: 50,
      delayMs: 10,
      stats,
      counters,
      log,
      retryInitialMs: 20,
      retryMaxMs: 100,
    });
    await out.write(events(0, 50));
    await out.close();
    expect(rx.answered).toEqual([429, 503, 503, 204]);
    expect(rx.points.map((p) => p.fields.qname)).toEqual(events(0, 50).map((e) => e.qname));
    expect(counters.get('failed')).toBe(3);
    expect(counters.get('retried')).toBe(3);
    expect(counters.get('sent')).toBe(50);
    expect(stats.droppedBy.size).toBe(0);
  });

  it('a receiver down at start-up: the events wait and go once it listens', async () => {
    const port = await freePort();
    const late = new V2Receiver();
    const counters = new Counters('influx');
    const out = influxOutput({
      api: { api: 'v2', server: `http://127.0.0.1:${port}`, org: ORG, bucket: BUCKET, token: TOKEN },
      line: { measurement: 'dns', server: 'sensor-1', qnameTag: false },
      batchSize: 20,
      delayMs: 10,
      stats: new Stats(),
      counters,
      log,
      retryInitialMs: 20,
      retryMaxMs: 200,
    });
    try {
      await out.write(events(0, 40));
      await until('connection refused twice', () => counters.get('failed') >= 2);
      await late.listen(port);
      await out.close();
      expect(late.points).toHaveLength(40);
      expect(counters.get('sent')).toBe(40);
      expect(counters.get('dropped')).toBe(0);
    } finally {
      await late.close();
    }
  });

  it('a refusal (401: bad token) drops the batch at once, counted, with the server message logged', async () => {
    rx.answered.length = 0;
    const args = v2().map((a) => (a === TOKEN ? 'wrong' : a));
    const r = await dnslens(['--pcapFile', CAPTURE, ...args, '--influxBatchSize', '5000']);
    expect(r.status, r.stderr).toBe(0);
    expect(rx.answered).toEqual([401, 401]); // two batches, each sent once
    expect(r.stderr).toMatch(/unauthorized access/);
    expect(r.stderr).toMatch(/influx\n\s+rows sent\s+0\n[\s\S]*rows rejected\s+5,851\n/);
    expect(r.stderr).toMatch(/influx:rejected-by-receiver\s+5,851/);
  });
});

// ------------------------------------------------------------------ v1: a real influxd

/** influxd 1.x run by the test (not the system service), with its own config, data dir and loopback ports. */
class Influxd {
  private child: ChildProcess | null = null;
  readonly conf: string;
  output = '';

  constructor(
    readonly dir: string,
    readonly port: number,
    rpcPort: number,
  ) {
    this.conf = join(dir, 'influxdb.conf');
    writeFileSync(
      this.conf,
      `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  unix-socket-enabled = false
`,
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(which('influxd')!, ['run', '-config', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child = child;
    const end = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`influxd exited: ${this.output}`);
      const ok = await fetch(`${this.url}/ping`).then((r) => r.status === 204, () => false);
      if (ok) return;
      if (Date.now() > end) throw new Error(`influxd did not answer /ping: ${this.output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGKILL (no shutdown of its own) or SIGTERM; resolves once it is gone. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** An InfluxQL statement through the HTTP /query API; the first result's series. */
  async query(q: string, db = ''): Promise<{ name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]> {
    const body = new URLSearchParams({ q, db });
    const res = await fetch(`${this.url}/query`, { method: 'POST', body });
    const json = (await res.json()) as { results?: { series?: []; error?: string }[]; error?: string };
    const first = json.results?.[0];
    if (!res.ok || json.error || first?.error) throw new Error(`${q}: ${json.error ?? first?.error ?? res.status}`);
    return first?.series ?? [];
  }
}

describeWithPeers('influx output against a real influxd (v1 API)', ['influxd'], () => {
  let dir: string;
  let db: Influxd;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-influx-'));
    db = new Influxd(dir, await freePort(), await freePort());
    await db.start();
  }, 60_000);

  afterAll(async () => {
    await db?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const v1 = (database: string) => ({ api: 'v1' as const, server: db.url, database, user: '', password: '' });

  it('a capture written through /write reads back through InfluxQL: every event, counted per tag', async () => {
    await db.query('CREATE DATABASE capture');
    const expected = captureEvents();
    const r = await dnslens(['--pcapFile', CAPTURE, '--serverName', 'sensor 1', '--influxOutputType', '1', '--influxOutputApi', 'v1', '--influxOutputServer', db.url, '--influxOutputDatabase', 'capture']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/influx\n\s+rows sent\s+5,851\n/);
    const series = await db.query('SELECT count(qname) FROM dns GROUP BY direction, qtype, rcode, server, transport', 'capture');
    const got = new Map(series.map((s) => [JSON.stringify(s.tags), s.values[0][1] as number]));
    const want = new Map<string, number>();
    for (const e of expected) {
      const k = JSON.stringify({ direction: e.qr ? 'response' : 'query', qtype: typeName(e.qtype), rcode: rcodeName(e.rcode), server: 'sensor 1', transport: e.transport });
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    expect(got).toEqual(want);
    const [total] = await db.query('SELECT count(qname), sum(size), count(latency_us) FROM dns', 'capture');
    expect(total.values[0].slice(1)).toEqual([CAPTURE_EVENTS, expected.reduce((a, e) => a + e.size, 0), expected.filter((e) => e.responseTimeUs !== null).length]);
  });

  const HOSTILE = [
    'a b.example', // space
    'a,b.example', // comma
    'eq=ual.example', // equals sign
    'q"uote.example', // double quote
    'back\\\\slash.example', // an escaped backslash in a label (\\)
    'odd\\', // a lone backslash at the end
    'x\\,y=z "w"', // backslash before a comma
    'ünï.example', // UTF-8
    '', // no name
  ];
  const HOSTILE_SERVER = 'sensor "one", a=b \\\\ x\\,y\\=z\\ end'; // spaces, commas, quotes, equals signs, backslashes before them

  it('hostile names and server name read back exactly, with their nanosecond times', async () => {
    await db.query('CREATE DATABASE hostile');
    const evs = events(0, HOSTILE.length, (i) => HOSTILE[i]);
    const counters = new Counters('influx');
    const out = influxOutput({ api: v1('hostile'), line: { measurement: 'dns\\x, "y"=z', server: HOSTILE_SERVER, qnameTag: false }, batchSize: 100, delayMs: 10, stats: new Stats(), counters, log });
    await out.write(evs);
    await out.close();
    expect(counters.get('sent')).toBe(HOSTILE.length);
    const [s] = await db.query('SELECT qname, server, client, "size" FROM "dns\\\\x, \\"y\\"=z"', 'hostile');
    expect(s.name).toBe('dns\\x, "y"=z');
    expect(s.values.map((v) => v.slice(1))).toEqual(evs.map((e) => [e.qname, HOSTILE_SERVER, '192.0.2.7', e.size]));
    expect(s.values.map((v) => v[0])).toEqual(evs.map((e) => isoTime(e).replace(/0+Z$/, 'Z'))); // InfluxDB drops trailing zeros
  });

  it('with --influxOutputQnameTag, names become tags read back exactly; one a tag cannot carry stays a field', async () => {
    await db.query('CREATE DATABASE hostile_tags');
    const evs = events(0, HOSTILE.length, (i) => HOSTILE[i]);
    const out = influxOutput({ api: v1('hostile_tags'), line: { measurement: 'dns', server: 'sensor-1', qnameTag: true }, batchSize: 100, delayMs: 10, stats: new Stats(), counters: new Counters('influx'), log });
    await out.write(evs);
    await out.close();
    const [tags] = await db.query('SHOW TAG VALUES FROM dns WITH KEY = "qname"', 'hostile_tags');
    const asTags = HOSTILE.filter((q) => q !== '' && tagProblem(q) === null);
    expect(tags.values.map((v) => v[1]).sort()).toEqual([...asTags].sort());
    const [fields] = await db.query('SELECT "qname"::field FROM dns', 'hostile_tags');
    expect(fields.values.map((v) => v[1]).sort()).toEqual(HOSTILE.filter((q) => !asTags.includes(q)).sort());
    expect(HOSTILE.length - asTags.length).toBe(2); // the backslash at the end, and the empty name
  });

  it('a missing database (404) drops the batch, counted, with the server message', async () => {
    const stats = new Stats();
    const counters = new Counters('influx');
    const out = influxOutput({ api: v1('nope'), line: { measurement: 'dns', server: 'sensor-1', qnameTag: false }, batchSize: 100, delayMs: 10, stats, counters, log });
    await out.write(events(0, 10));
    await out.close();
    expect(counters.get('rejected')).toBe(10);
    expect(counters.get('sent')).toBe(0);
    expect(stats.droppedBy.get('influx:rejected-by-receiver')).toBe(10);
  });

  it('a partial write (field type conflict): the batch is counted as rejected; InfluxDB kept the points without the conflict', async () => {
    await db.query('CREATE DATABASE partial');
    // another writer made latency_us a string in this shard (field types are per shard in 1.x)
    const other = await fetch(`${db.url}/write?db=partial&precision=ns`, { method: 'POST', body: 'dns latency_us="slow" 1700000000000000000' });
    expect(other.status).toBe(204);
    const evs = events(0, 10);
    for (const e of evs.slice(0, 4)) e.responseTimeUs = 1500;
    const stats = new Stats();
    const counters = new Counters('influx');
    const out = influxOutput({ api: v1('partial'), line: { measurement: 'dns', server: 'sensor-1', qnameTag: false }, batchSize: 100, delayMs: 10, stats, counters, log });
    await out.write(evs);
    await out.close();
    expect(counters.get('rejected')).toBe(10); // an over-count the README owns up to
    expect(counters.get('sent')).toBe(0);
    expect(stats.droppedBy.get('influx:rejected-by-receiver')).toBe(10);
    const [s] = await db.query('SELECT count(qname) FROM dns', 'partial');
    expect(s.values[0][1]).toBe(6);
  });

  it('influxd killed mid-run and started again: retried, nothing lost', async () => {
    await db.query('CREATE DATABASE restart');
    const stats = new Stats();
    const counters = new Counters('influx');
    const out = influxOutput({
      api: v1('restart'),
      line: { measurement: 'dns', server: 'sensor-1', qnameTag: false },
      batchSize: 20,
      delayMs: 20,
      stats,
      counters,
      log,
      retryInitialMs: 50,
      retryMaxMs: 400,
      closeTimeoutMs: 30_000,
    });
    try {
      await out.write(events(0, 30));
      await until('30 points sent', () => counters.get('sent') >= 30);
      await db.stop('SIGKILL');
      await out.write(events(30, 40));
      await until('a failed write while influxd is down', () => counters.get('failed') >= 2);
      expect(counters.get('sent')).toBe(30);
      await db.start();
      await out.write(events(70, 30));
      await out.close();
      const [s] = await db.query('SELECT count(qname) FROM dns', 'restart');
      expect(s.values[0][1]).toBe(100);
      const names = await db.query('SELECT qname FROM dns', 'restart');
      expect(new Set(names[0].values.map((v) => v[1]))).toEqual(new Set(events(0, 100).map((e) => e.qname)));
      expect(counters.get('sent')).toBe(100);
      expect(counters.get('retried')).toBeGreaterThan(0);
      expect(stats.droppedBy.size).toBe(0);
    } finally {
      await out.close();
    }
  }, 60_000);
});
