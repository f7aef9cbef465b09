// The HTTP log-store and SIEM outputs (Splunk HEC, Elasticsearch _bulk, VictoriaLogs jsonline,
// ZincSearch, Microsoft Sentinel through the Logs Ingestion API), each run as a user runs it (the
// built CLI on a real capture) against a local receiver that checks the vendor's documented
// request format and answers as the vendor does (test/http-receivers.ts): every event arrives
// exactly once; 429 and 503 are retried (Retry-After honoured) and nothing is lost; 400/401 are
// counted drops with the server's message logged; bad configuration stops the run with exit 2.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { newEvent } from '../src/event.js';
import { bulkTaken } from '../src/outputs/sink/bulk.js';
import { classify, retryAfterMs } from '../src/outputs/sink/http.js';
import { arrayLength, JsonArrayEncoder } from '../src/outputs/sink/json-bodies.js';
import { sentinelRecord } from '../src/outputs/sentinel/output.js';
import { PCAP_DIR } from './data.js';
import { summaryCounter as counter } from './cli-async.js';
import { MAIN, runCli } from './dnstap-helpers.js';
import { bulk, Ingestion, MAX_INGESTION_BYTES, Proxy, Receiver, SENTINEL_WANT, splunkHec, victoriaLogs, type Json } from './http-receivers.js';
import { describeWithPeers } from './peers.js';
import { selfSignedCert, type Cert } from './certs.js';

const CAPTURE = join(PCAP_DIR, 'dnscap__dns.pcap'); // 82 DNS messages
const EVENTS = 82;
const SERVER = 'sensor-7';

/** The capture's events as the stdout JSON output gives them, each as its JSON text, sorted. */
function expectedEvents(file = CAPTURE, type = '1', extra: string[] = []): string[] {
  const r = spawnSync(process.execPath, [MAIN, '--pcapFile', file, '--serverName', SERVER, '--stdoutOutputType', type, '--stdoutOutputFormat', 'json', ...extra], { encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '').sort();
}

function sortedJson(events: readonly Json[]): string[] {
  return events.map((e) => JSON.stringify(e)).sort();
}

async function dnslens(args: string[], file = CAPTURE): Promise<{ code: number | null; stderr: string }> {
  const r = runCli(['--pcapFile', file, '--serverName', SERVER, ...args]);
  const code = await r.exited;
  return { code, stderr: r.stderr() };
}

/** Each set of flags stops the run at start-up: exit 2 and a message matching the pattern. */
async function refusedAtStart(cases: readonly (readonly [readonly string[], RegExp])[]): Promise<void> {
  for (const [args, want] of cases) {
    const r = await dnslens([...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(want);
  }
}

/** Stops at the first violation of the vendor's format, with all of them in the message. */
function conforming(rx: Receiver): void {
  expect(rx.violations, rx.violations.join('\n')).toEqual([]);
}

let expected: string[];
const receivers: Receiver[] = [];

async function receiver(...a: Parameters<typeof Receiver.start>): Promise<Receiver> {
  const rx = await Receiver.start(...a);
  receivers.push(rx);
  return rx;
}

beforeAll(() => {
  expected = expectedEvents();
  expect(expected).toHaveLength(EVENTS);
});

afterEach(async () => {
  for (const rx of receivers.splice(0)) await rx.close();
});

// ------------------------------------------------------------------ the shared pieces

describe('the HTTP sink toolkit', () => {
  it('sorts answers: 2xx taken, 429/408/5xx retried, other statuses refused', () => {
    expect([200, 201, 204].map(classify)).toEqual(['ok', 'ok', 'ok']);
    expect([429, 408, 500, 502, 503].map(classify)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry']);
    expect([301, 400, 401, 403, 404, 413].map(classify)).toEqual(['refuse', 'refuse', 'refuse', 'refuse', 'refuse', 'refuse']);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(10_000);
    expect(retryAfterMs(undefined)).toBeUndefined();
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('cuts JSON arrays at the byte limit, each a valid array, no event lost', () => {
    const enc = new JsonArrayEncoder(sentinelRecord, 2000);
    const evs = Array.from({ length: 40 }, (_, i) => Object.assign(newEvent(), { qname: `host${i}.example`, timeSec: 1700000000 + i }));
    enc.encode(evs);
    const parts = enc.take();
    expect(parts.length).toBeGreaterThan(5);
    let n = 0;
    for (const p of parts) {
      expect(p.length).toBeLessThanOrEqual(2000);
      const arr = JSON.parse(Buffer.from(p).toString()) as Json[];
      expect(arrayLength(p)).toBe(arr.length);
      for (const r of arr) expect(r.TimeGenerated).toBe((r.time as string).replace(/(\.\d{6})\d{3}Z$/, '$1Z')); // microseconds
      n += arr.length;
    }
    expect(n).toBe(40);
    expect(enc.take()).toEqual([]);
  });

  it('reads a bulk answer: 429 items go again alone, the others are refused with a reason', () => {
    const body = Buffer.from(['a', 'b', 'c', 'd'].map((x) => `{"create":{"_index":"i"}}\n{"q":"${x}"}\n`).join(''));
    const reply = (items: Json[]) => ({ status: 200, headers: {}, body: JSON.stringify({ errors: true, items }) });
    const t = bulkTaken(
      reply([
        { create: { status: 201 } },
        { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } } },
        { create: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [time]' } } },
        { create: { status: 201 } },
      ]),
      body,
    );
    expect(t.refused).toBe(1);
    expect(t.why).toBe('400 mapper_parsing_exception: failed to parse field [time]');
    expect(Buffer.from(t.again!).toString()).toBe('{"create":{"_index":"i"}}\n{"q":"b"}\n');
    expect(bulkTaken({ status: 200, headers: {}, body: '{"message":"bulk data inserted","record_count":3}' }, body)).toEqual({ refused: 1, why: 'the receiver took 3 of 4 records' });
  });
});

// ------------------------------------------------------------------ Splunk HEC

describe('splunk output (HEC)', () => {
  const TOKEN = '3f1c2b7e-8d4a-4e55-9a61-0c2d9b1e7f00';
  const hec = (over: Partial<Parameters<typeof splunkHec>[0]> = {}) => splunkHec({ token: TOKEN, host: SERVER, source: 'dnsmonster', sourcetype: 'json', index: 'temp', ...over });
  const args = (rx: Receiver | string, more: string[] = []) => ['--splunkOutputType', '1', '--splunkOutputEndpoint', typeof rx === 'string' ? rx : rx.url, '--splunkOutputToken', TOKEN, '--splunkBatchSize', '25', ...more];

  it('every event of a capture arrives once, in HEC envelopes with the token', async () => {
    const rx = await receiver(hec());
    const r = await dnslens(args(rx));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    expect(rx.requests).toHaveLength(4); // 25 + 25 + 25 + 7
    expect(counter(r.stderr, 'splunk', 'rows sent')).toBe(EVENTS);
  });

  it('429 (Retry-After honoured) and 503 are retried; nothing is lost or sent twice', async () => {
    const rx = await receiver(hec());
    rx.force({ status: 429, headers: { 'retry-after': '1' }, body: { text: 'Server is busy', code: 9 } }, { status: 503, body: { text: 'Server is busy', code: 9 } });
    const r = await dnslens(args(rx));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    expect(rx.requests[1].at - rx.requests[0].at).toBeGreaterThanOrEqual(950); // waited for Retry-After
    expect(counter(r.stderr, 'splunk', 'rows sent')).toBe(EVENTS);
    expect(counter(r.stderr, 'splunk', 'failed sends')).toBe(2);
    expect(counter(r.stderr, 'splunk', 'retries')).toBe(2);
    expect(r.stderr).toContain('HTTP 429 from');
  });

  it('a 400 drops that batch, counted, with HEC\'s message logged; the other batches arrive', async () => {
    const rx = await receiver(hec());
    rx.force({ status: 400, body: { text: 'Incorrect index', code: 7, 'invalid-event-number': 0 } });
    const r = await dnslens(args(rx));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(rx.events).toHaveLength(EVENTS - 25);
    expect(new Set(sortedJson(rx.events)).size).toBe(EVENTS - 25);
    expect(counter(r.stderr, 'splunk', 'rows sent')).toBe(EVENTS - 25);
    expect(counter(r.stderr, 'splunk', 'rows rejected')).toBe(25);
    expect(r.stderr).toMatch(/splunk:rejected-by-receiver\s+25/);
    expect(r.stderr).toContain('HTTP 400 from');
    expect(r.stderr).toContain('Incorrect index');
  });

  it('a wrong token (403 Invalid token): every event is a counted drop, the reason logged', async () => {
    const rx = await receiver(hec({ token: 'another-token' }));
    const r = await dnslens(args(rx));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(rx.events).toHaveLength(0);
    expect(rx.requests).toHaveLength(4); // each batch tried once
    expect(counter(r.stderr, 'splunk', 'rows rejected')).toBe(EVENTS);
    expect(r.stderr).toContain('Invalid token');
    expect(r.stderr).toContain('check --splunkOutputToken');
  });

  it('output type 2 applies --skipDomainsFile, as for every output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-http-skip-'));
    try {
      const skip = join(dir, 'skip.csv');
      writeFileSync(skip, 'google.com,suffix\n');
      const want = expectedEvents(CAPTURE, '2', ['--skipDomainsFile', skip]);
      expect(want.length).toBeGreaterThan(0);
      expect(want.length).toBeLessThan(EVENTS);
      const rx = await receiver(hec());
      const r = await dnslens([...args(rx), '--splunkOutputType', '2', '--skipDomainsFile', skip]);
      expect(r.code, r.stderr).toBe(0);
      conforming(rx);
      expect(sortedJson(rx.events)).toEqual(want);
      expect(r.stderr).toMatch(new RegExp(`filter:splunk:skip-list\\s+${EVENTS - want.length}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('several endpoints: one that is down is passed over for the next (failover)', async () => {
    const down = await receiver(hec());
    const downUrl = down.url;
    await down.close();
    const rx = await receiver(hec());
    const r = await dnslens(args(downUrl, ['--splunkOutputEndpoint', rx.url]));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    expect(r.stderr).toContain('trying the next endpoint');
  });

  it('through an HTTP proxy (--splunkOutputProxy), index left to the token', async () => {
    const proxy = await Proxy.start();
    try {
      const rx = await receiver(hec({ index: undefined }));
      const r = await dnslens(args(rx, ['--splunkOutputProxy', proxy.url, '--splunkOutputIndex', '']));
      expect(r.code, r.stderr).toBe(0);
      conforming(rx);
      expect(sortedJson(rx.events)).toEqual(expected);
      expect(proxy.forwarded).toBe(4);
    } finally {
      await proxy.close();
    }
  });

  it('stops with exit 2 at start-up: no endpoint, a bad URL, the placeholder token, a bad proxy', async () => {
    await refusedAtStart([
      [['--splunkOutputType', '1', '--splunkOutputToken', TOKEN], /--splunkOutputEndpoint: needed/],
      [['--splunkOutputType', '1', '--splunkOutputEndpoint', 'splunk:8088', '--splunkOutputToken', TOKEN], /--splunkOutputEndpoint: unknown scheme "splunk:"/],
      [['--splunkOutputType', '1', '--splunkOutputEndpoint', 'http://[bad', '--splunkOutputToken', TOKEN], /--splunkOutputEndpoint: "http:\/\/\[bad" is not a URL/],
      [['--splunkOutputType', '1', '--splunkOutputEndpoint', 'http://127.0.0.1:8088'], /--splunkOutputToken: needed: the HEC token/],
      [['--splunkOutputType', '1', '--splunkOutputEndpoint', 'http://127.0.0.1:8088', '--splunkOutputToken', TOKEN, '--splunkOutputProxy', 'socks5://p:1080'], /--splunkOutputProxy: unknown scheme/],
      [['--splunkOutputType', '1', '--splunkOutputEndpoint', 'http://127.0.0.1:8088', '--splunkOutputToken', TOKEN, '--splunkCACertificatePath', '/nonexistent.pem'], /--splunkCACertificatePath: only for https:\/\/ endpoints/],
    ]);
  });
});

describeWithPeers('splunk output over HTTPS', ['openssl'], () => {
  let dir: string;
  let tls: Cert;
  const TOKEN = 'hec-token-tls';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-http-tls-'));
    tls = selfSignedCert(dir);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const hecArgs = (url: string, more: string[]) => ['--splunkOutputType', '1', '--splunkOutputEndpoint', url, '--splunkOutputToken', TOKEN, '--splunkOutputIndex', 'dns', ...more];

  const hec = () => splunkHec({ token: TOKEN, host: SERVER, source: 'dnsmonster', sourcetype: 'json', index: 'dns' });

  // Verified against the CA given, or not verified at all: the same events arrive.
  const trusting: [string, () => string[]][] = [
    ['verified against --splunkCACertificatePath', () => ['--splunkCACertificatePath', tls.certPath]],
    ['with --skipTLSVerification and no CA', () => ['--skipTLSVerification']],
  ];
  for (const [how, flags] of trusting) {
    it(`${how}: every event arrives, directly and through a proxy (CONNECT)`, async () => {
      const proxy = await Proxy.start();
      try {
        for (const via of [[], ['--splunkOutputProxy', proxy.url]]) {
          const rx = await receiver(hec(), tls);
          const r = await dnslens(hecArgs(rx.url, [...flags(), ...via]));
          expect(r.code, r.stderr).toBe(0);
          conforming(rx);
          expect(sortedJson(rx.events)).toEqual(expected);
        }
        expect(proxy.tunnels).toBeGreaterThan(0);
      } finally {
        await proxy.close();
      }
    });
  }

  it('without the CA the certificate is refused: nothing is sent, the sends wait and are retried', async () => {
    const rx = await receiver(hec(), tls);
    const r = runCli(['--pcapFile', CAPTURE, '--serverName', SERVER, ...hecArgs(rx.url, [])]);
    try {
      await r.waitForLog('self-signed certificate', 20_000);
      expect(r.stderr()).toContain('send failed; retrying with backoff');
      expect(rx.requests).toHaveLength(0); // no request got past the handshake
    } finally {
      await r.stop('SIGKILL'); // at exit it would wait 30 s for the receiver (see the writer tests)
    }
  });
});

// ------------------------------------------------------------------ Elasticsearch / OpenSearch

describe('elastic output (_bulk)', () => {
  const want = (over: Partial<Parameters<typeof bulk>[0]> = {}) => bulk({ path: '/_bulk', action: 'create', index: 'dns-events', ...over });
  const args = (url: string, more: string[] = []) => ['--elasticOutputType', '1', '--elasticOutputEndpoint', url, '--elasticOutputIndex', 'dns-events', '--elasticBatchSize', '30', ...more];

  it('every event of a capture arrives once, as NDJSON create/document pairs', async () => {
    const rx = await receiver(want({ user: 'elastic', password: 'p@ss:word' }));
    const u = new URL(rx.url);
    u.username = 'elastic';
    u.password = encodeURIComponent('p@ss:word');
    const r = await dnslens(args(u.href));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    expect(rx.requests).toHaveLength(3);
    expect(r.stderr).not.toMatch(/p@ss|p%40ss/); // the password is never logged
  });

  it('429 and 503 answers are retried; items refused with 429 inside a bulk answer go again alone', async () => {
    const fault = (status: number, type: string) => ({ status, type, reason: `${type} (test)` });
    const rx = await receiver(want({ itemFaults: [[undefined, fault(429, 'es_rejected_execution_exception'), fault(429, 'es_rejected_execution_exception')]] }));
    rx.force({ status: 429, headers: { 'retry-after': '1' }, body: { error: { type: 'es_rejected_execution_exception', reason: 'rejected' }, status: 429 } }, { status: 503, body: { error: 'unavailable' } });
    const r = await dnslens(args(rx.url));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    const resent = rx.requests.find((q) => q.body.toString().split('\n').length === 5); // the 2 items again: 4 lines and the end
    expect(resent, 'a request with the two 429 items alone').toBeDefined();
    expect(counter(r.stderr, 'elastic', 'rows sent')).toBe(EVENTS);
    expect(counter(r.stderr, 'elastic', 'failed sends')).toBe(3);
  });

  it('a 400 and a 401 are counted drops with the reason logged; the other batch arrives', async () => {
    const rx = await receiver(want());
    rx.force({ status: 400, body: { error: { type: 'illegal_argument_exception', reason: 'The bulk request must be terminated by a newline [\\n]' }, status: 400 } });
    rx.force({ status: 401, body: { error: { type: 'security_exception', reason: 'missing authentication credentials for REST request [/_bulk]' }, status: 401 } });
    const r = await dnslens(args(rx.url));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(rx.events).toHaveLength(EVENTS - 60);
    expect(counter(r.stderr, 'elastic', 'rows rejected')).toBe(60);
    expect(counter(r.stderr, 'elastic', 'rows sent')).toBe(EVENTS - 60);
    expect(r.stderr).toContain('terminated by a newline');
    expect(r.stderr).toContain('missing authentication credentials');
    expect(r.stderr).toContain('check the user:password@ of --elasticOutputEndpoint');
  });

  it('a bulk answer whose item is refused counts just that item', async () => {
    const rx = await receiver(want({ itemFaults: [[{ status: 400, type: 'mapper_parsing_exception', reason: 'failed to parse field [qname]' }]] }));
    const r = await dnslens(args(rx.url));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(rx.events).toHaveLength(EVENTS - 1);
    expect(counter(r.stderr, 'elastic', 'rows rejected')).toBe(1);
    expect(counter(r.stderr, 'elastic', 'rows sent')).toBe(EVENTS - 1);
    expect(r.stderr).toContain('mapper_parsing_exception');
  });

  it('stops with exit 2 at start-up without an endpoint or with a bad one', async () => {
    await refusedAtStart([
      [['--elasticOutputType', '1'], /--elasticOutputEndpoint: needed/],
      [['--elasticOutputType', '1', '--elasticOutputEndpoint', '127.0.0.1:9200'], /--elasticOutputEndpoint: "127.0.0.1:9200" is not a URL/],
      [['--elasticOutputType', '1', '--elasticOutputEndpoint', 'es://127.0.0.1:9200'], /--elasticOutputEndpoint: unknown scheme "es:"/],
      [['--elasticOutputType', '1', '--elasticOutputEndpoint', 'http://127.0.0.1:9200', '--elasticOutputIndex', ''], /--elasticOutputIndex: needed/],
    ]);
  });
});

// ------------------------------------------------------------------ ZincSearch

describe('zinc output (bulk with basic auth)', () => {
  const want = () => bulk({ path: '/api/_bulk', action: 'index', index: 'dnsmonster', user: 'admin', password: 'Complexpass#123', zinc: true });
  const args = (url: string, password = 'Complexpass#123') => ['--zincOutputType', '1', '--zincOutputEndpoint', url, '--zincOutputUsername', 'admin', '--zincOutputPassword', password, '--zincBatchSize', '40'];

  it('every event of a capture arrives once, index action lines, basic auth', async () => {
    const rx = await receiver(want());
    const r = await dnslens(args(rx.url));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    expect(rx.requests).toHaveLength(3);
  });

  it('429 and 503 are retried; nothing is lost', async () => {
    const rx = await receiver(want());
    rx.force({ status: 429, headers: { 'retry-after': '1' }, body: { error: 'too many requests' } }, { status: 503, body: { error: 'unavailable' } });
    const r = await dnslens(args(`${rx.url}/api/_bulk`));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    expect(rx.requests[1].at - rx.requests[0].at).toBeGreaterThanOrEqual(950);
  });

  it('a wrong password (401) and a 400 are counted drops with the reason logged', async () => {
    const rx = await receiver(want());
    const r = await dnslens(args(rx.url, 'wrong'));
    expect(r.code, r.stderr).toBe(0);
    expect(rx.events).toHaveLength(0);
    expect(counter(r.stderr, 'zinc', 'rows rejected')).toBe(EVENTS);
    expect(r.stderr).toContain('HTTP 401');
    expect(r.stderr).toContain('check --zincOutputUsername and --zincOutputPassword');
    const rx2 = await receiver(want());
    rx2.force({ status: 400, body: { error: 'index name [dnsmonster] is reserved' } });
    const r2 = await dnslens(args(rx2.url));
    expect(counter(r2.stderr, 'zinc', 'rows rejected')).toBe(40);
    expect(rx2.events).toHaveLength(EVENTS - 40);
    expect(r2.stderr).toContain('is reserved');
  });

  it('stops with exit 2 at start-up without an endpoint or the credentials', async () => {
    await refusedAtStart([
      [['--zincOutputType', '1', '--zincOutputUsername', 'admin', '--zincOutputPassword', 'x'], /--zincOutputEndpoint: needed/],
      [['--zincOutputType', '1', '--zincOutputEndpoint', 'http://127.0.0.1:4080', '--zincOutputPassword', 'x'], /--zincOutputUsername: needed/],
      [['--zincOutputType', '1', '--zincOutputEndpoint', 'http://127.0.0.1:4080', '--zincOutputUsername', 'admin'], /--zincOutputPassword: needed/],
    ]);
  });
});

// ------------------------------------------------------------------ VictoriaLogs

describe('victoria output (jsonline)', () => {
  const args = (url: string, more: string[] = []) => ['--victoriaOutputType', '1', '--victoriaOutputEndpoint', url, '--victoriaBatchSize', '50', ...more];

  it('every event of a capture arrives once, with the field parameters; the rest of a partial batch goes at exit', async () => {
    const rx = await receiver(victoriaLogs({ msgField: 'qname', timeField: 'time', streamFields: 'server' }));
    const r = await dnslens(args(rx.url));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    expect(rx.requests.map((q) => q.body.toString().split('\n').length - 1)).toEqual([50, 32]);
  });

  it('parameters in the endpoint URL win over the flags (a dnsmonster endpoint)', async () => {
    const rx = await receiver(victoriaLogs({ msgField: 'rcode', timeField: 'time', streamFields: 'server,transport' }));
    const r = await dnslens(args(`${rx.url}/insert/jsonline?_msg_field=rcode`, ['--victoriaOutputStreamFields', 'server,transport', '--victoriaBatchDelay', '100ms']));
    expect(r.code, r.stderr).toBe(0);
    // rcode is a number, not the string a message is: the receiver says so for each event
    expect(new Set(rx.violations)).toEqual(new Set(['jsonline: no rcode message field']));
    expect(rx.events).toHaveLength(EVENTS);
  });

  it('429 and 503 are retried, nothing lost; a 400 is a counted drop with the message logged', async () => {
    const rx = await receiver(victoriaLogs({ msgField: 'qname', timeField: 'time', streamFields: 'server' }));
    rx.force({ status: 429, headers: { 'retry-after': '1' }, body: 'too many requests' }, { status: 503, body: 'service unavailable' });
    const r = await dnslens(args(rx.url));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(rx.events)).toEqual(expected);
    expect(rx.requests[1].at - rx.requests[0].at).toBeGreaterThanOrEqual(950);
    const rx2 = await receiver(victoriaLogs({ msgField: 'qname', timeField: 'time', streamFields: 'server' }));
    rx2.force({ status: 400, body: 'cannot parse json line: unexpected end of JSON' });
    const r2 = await dnslens(args(rx2.url));
    expect(counter(r2.stderr, 'victoria', 'rows rejected')).toBe(50);
    expect(rx2.events).toHaveLength(EVENTS - 50);
    expect(r2.stderr).toContain('cannot parse json line');
  });

  it('stops with exit 2 at start-up without an endpoint or with a bad one', async () => {
    await refusedAtStart([
      [['--victoriaOutputType', '1'], /--victoriaOutputEndpoint: needed/],
      [['--victoriaOutputType', '1', '--victoriaOutputEndpoint', 'ftp://127.0.0.1:9428'], /--victoriaOutputEndpoint: unknown scheme "ftp:"/],
      [['--victoriaOutputType', '1', '--victoriaOutputEndpoint', 'http://127.0.0.1:9428', '--victoriaOutputMsgField', ''], /--victoriaOutputMsgField: needed/],
    ]);
  });
});

// ------------------------------------------------------------------ Microsoft Sentinel (Logs Ingestion API)

describe('sentinel output (Logs Ingestion API)', () => {
  const WANT = SENTINEL_WANT;
  const args = (rx: Receiver, more: string[] = []) => [
    '--sentinelOutputType', '1',
    '--sentinelOutputEndpoint', rx.url,
    '--sentinelOutputDcrImmutableId', WANT.dcr,
    '--sentinelOutputTenantId', WANT.tenant,
    '--sentinelOutputClientId', WANT.clientId,
    '--sentinelOutputClientSecret', WANT.clientSecret,
    '--sentinelOutputTokenEndpoint', `${rx.url}/{tenant}/oauth2/v2.0/token`,
    '--sentinelBatchSize', '30',
    ...more,
  ];
  const withoutTime = (events: Json[]) => events.map(({ TimeGenerated: _, ...rest }) => rest);

  it('every event of a capture arrives once, with a bearer token from the token endpoint', async () => {
    const az = new Ingestion(WANT);
    const rx = await receiver(az.vendor);
    const r = await dnslens(args(rx));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(withoutTime(rx.events))).toEqual(expected);
    expect(az.issued).toBe(1); // fetched once, kept for the other requests
    expect(rx.requests.filter((q) => q.path.startsWith('/dataCollectionRules/'))).toHaveLength(3);
    expect(counter(r.stderr, 'sentinel', 'rows sent')).toBe(EVENTS);
  });

  it('a batch over 1 MB goes as several requests, each under the limit', async () => {
    const big = join(PCAP_DIR, 'pktvisor__dns_udp_tcp_random.pcap');
    const all = expectedEvents(big);
    const az = new Ingestion(WANT);
    const rx = await receiver(az.vendor);
    const r = await dnslens(args(rx, ['--sentinelBatchSize', '100000', '--sentinelBatchDelay', '1h']), big);
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    const posts = rx.requests.filter((q) => q.path.startsWith('/dataCollectionRules/'));
    expect(posts.length).toBeGreaterThan(3);
    for (const q of posts) expect(q.body.length).toBeLessThanOrEqual(MAX_INGESTION_BYTES);
    expect(sortedJson(withoutTime(rx.events))).toEqual(all);
  }, 60_000);

  it('429 and 503 are retried; a token that stops working is replaced; nothing is lost', async () => {
    const az = new Ingestion(WANT);
    const rx = await receiver((req, r, take) => {
      // after the first batch, the token is revoked: the next request gets a 401
      if (req.path.startsWith('/dataCollectionRules/') && rx.events.length === 30 && az.issued === 1) az.revokeAll();
      return az.vendor(req, r, take);
    });
    const ingest = '/dataCollectionRules/';
    rx.force({ path: ingest, status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'TooManyRequests', message: 'throttled' } } }, { path: ingest, status: 503, body: { error: { code: 'ServiceUnavailable', message: 'try later' } } });
    const r = await dnslens(args(rx));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(sortedJson(withoutTime(rx.events))).toEqual(expected);
    expect(az.issued).toBe(2);
    expect(r.stderr).toContain('trying again with a new token');
  });

  it('a wrong client secret (Entra 401) is a counted drop with the reason logged', async () => {
    const az = new Ingestion(WANT);
    const rx = await receiver(az.vendor);
    const r = await dnslens(args(rx, ['--sentinelOutputClientSecret', 'not-the-secret']));
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(rx.events).toHaveLength(0);
    expect(counter(r.stderr, 'sentinel', 'rows rejected')).toBe(EVENTS);
    expect(r.stderr).toContain('AADSTS7000215');
    expect(r.stderr).toContain('check --sentinelOutputTenantId, --sentinelOutputClientId and --sentinelOutputClientSecret');
  });

  it('an ingestion 400 drops that request only', async () => {
    const az = new Ingestion(WANT);
    const rx = await receiver(az.vendor);
    rx.force({ path: '/dataCollectionRules/', status: 400, body: { error: { code: 'InvalidStream', message: 'Stream Custom-dnsmonster_CL is not declared in the rule' } } });
    const r = await dnslens(args(rx, ['--sentinelOutputEndpoint', `${rx.url}/`])); // a trailing slash is fine
    expect(r.code, r.stderr).toBe(0);
    conforming(rx);
    expect(rx.events).toHaveLength(EVENTS - 30);
    expect(counter(r.stderr, 'sentinel', 'rows rejected')).toBe(30);
    expect(r.stderr).toContain('is not declared in the rule');
  });

  it('stops with exit 2 at start-up: a retired Data Collector flag, no endpoint, no secret, a bad token endpoint', async () => {
    const base = ['--sentinelOutputType', '1', '--sentinelOutputEndpoint', 'https://dce.westeurope-1.ingest.monitor.azure.com', '--sentinelOutputDcrImmutableId', 'dcr-1', '--sentinelOutputTenantId', 't', '--sentinelOutputClientId', 'c', '--sentinelOutputClientSecret', 's'];
    await refusedAtStart([
      [[...base, '--sentinelOutputSharedKey', 'c2VjcmV0'], /--sentinelOutputSharedKey: the HTTP Data Collector API it was for is retired by Microsoft in 2026; .*--sentinelOutputClientSecret instead/],
      [[...base, '--sentinelOutputCustomerId', 'c0ffee'], /--sentinelOutputCustomerId: the HTTP Data Collector API/],
      [['--sentinelOutputType', '1'], /--sentinelOutputEndpoint: needed/],
      [[...base.slice(0, -2)], /--sentinelOutputClientSecret: needed/],
      [[...base, '--sentinelOutputTokenEndpoint', 'login/{tenant}'], /--sentinelOutputTokenEndpoint: "login\/t" is not a URL/],
      [[...base, '--sentinelOutputLogType', ''], /--sentinelOutputLogType: needed/],
    ]);
  });

  describeWithPeers('over HTTPS', ['openssl'], () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'dnslens-sentinel-tls-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('with --skipTLSVerification, the token endpoint and the ingestion endpoint answer with a certificate no CA signed', async () => {
      const az = new Ingestion(WANT);
      const rx = await receiver(az.vendor, selfSignedCert(dir));
      const r = await dnslens(args(rx, ['--skipTLSVerification']));
      expect(r.code, r.stderr).toBe(0);
      conforming(rx);
      expect(sortedJson(withoutTime(rx.events))).toEqual(expected);
      expect(az.issued).toBe(1);
    });
  });
});
