// Back-pressure (issue #17): an output whose receiver is slow slows the pipeline (policy 'wait',
// the default); memory stays bounded by the writer's queue bound. The built CLI imports a
// generated capture (~195,000 events, ~160 MB as HEC lines: three times the queue bound) into the
// Splunk HEC output under --memoryLimit 400MB (queue bound 50 MB) against a receiver that sleeps
// before answering each request. The child's RSS is read every 250 ms from /proc, the writer's
// `queued` gauge from the periodic stats log line. No wall-clock speed is asserted: only what the
// receiver's pace and the bound imply. The 2-minute version with figures is the bench's
// `backpressure` step.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { onLoopback, rssKb } from '../bench/proc.js';
import { generateCapture } from '../bench/gen.js';
import { resolveMemoryLimit } from '../src/memory.js';
import { queueBound } from '../src/outputs/sink/writer.js';
import { summaryCounter } from './cli-async.js';
import { MAIN } from './dnstap-helpers.js';

const PACKETS = 200_000; // ~195,000 DNS messages
const SEED = 3;
const LIMIT = '400MB';
const BOUND = queueBound(resolveMemoryLimit(400e6)); // 50 MB (47.7 MiB) of encoded batches
const BATCH = 5000; // --splunkBatchSize
const SLEEP_MS = 250; // per request: the receiver takes at most 20,000 events/s
const RSS_EVERY_MS = 250;
const RSS_MARGIN_KB = 24 * 1024; // second half's peak over the first half's, at most
const CHILD_CAP_MS = 60_000; // the run is killed past this (it takes ~12 s)
const TOKEN = '3f1c2b7e-8d4a-4e55-9a61-0c2d9b1e7f00';

let dir: string;
let capture: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dnslens-backpressure-'));
  capture = join(dir, 'capture.pcap');
  await generateCapture(capture, { packets: PACKETS, seed: SEED });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const digest = (b: Buffer): string => createHash('sha1').update(b).digest('base64');

/** Counts the hash of each line's event (eventOf; null: not an event) into `into`; returns the events. */
function hashLines(buf: Buffer, into: Map<string, number>, eventOf: (line: Buffer) => Buffer | null): number {
  let n = 0;
  for (let start = 0, end = buf.indexOf(10); end >= 0; start = end + 1, end = buf.indexOf(10, start)) {
    const part = eventOf(buf.subarray(start, end));
    if (part === null) continue;
    const h = digest(part);
    into.set(h, (into.get(h) ?? 0) + 1);
    n++;
  }
  return n;
}

const HEC_EVENT = Buffer.from(',"event":');

/** The event of an HEC envelope line: `{"time":..,"host":..,...,"event":<event>}`. */
function hecEvent(line: Buffer): Buffer | null {
  const i = line.indexOf(HEC_EVENT);
  return i < 0 ? null : line.subarray(i + HEC_EVENT.length, line.length - 1);
}

/** The capture's events as `--stdoutOutputFormat json` writes them (one line each), hashed. */
function expectedEvents(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const child = spawn(process.execPath, [MAIN, '--pcapFile', capture, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', '--serverName', 'sensor-7'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let rest: Buffer = Buffer.alloc(0);
  child.stdout.on('data', (d: Buffer) => {
    const buf = rest.length ? Buffer.concat([rest, d]) : d;
    const last = buf.lastIndexOf(10);
    if (last < 0) {
      rest = buf;
      return;
    }
    hashLines(buf.subarray(0, last + 1), out, (l) => l);
    rest = Buffer.from(buf.subarray(last + 1));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_CAP_MS);
  return new Promise((resolve, reject) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`the stdout run exited ${code}`));
    }),
  );
}

/** A Splunk HEC endpoint that waits SLEEP_MS before answering each request. */
interface SlowRx {
  url: string;
  got: Map<string, number>; // event hashes, counted when answered
  events: number;
  bytes: number;
  requests: number;
  inFlightMax: number;
  close(): Promise<void>;
}

async function slowReceiver(): Promise<SlowRx> {
  let inFlight = 0;
  const rx = { got: new Map<string, number>(), events: 0, bytes: 0, requests: 0, inFlightMax: 0 } as SlowRx;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    inFlight++;
    rx.inFlightMax = Math.max(rx.inFlightMax, inFlight);
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      rx.requests++;
      setTimeout(() => {
        rx.events += hashLines(body, rx.got, hecEvent);
        rx.bytes += body.length;
        inFlight--;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"text":"Success","code":0}');
      }, SLEEP_MS);
    });
  });
  Object.assign(rx, await onLoopback(server));
  return rx;
}

interface StatsLine {
  packets: number;
  dnsMessages: number;
  splunk?: { sent: number; queued: number };
}

it('a slow receiver slows the import; the queue stays within its bound, RSS flat; every event arrives once, none dropped', async () => {
  const rx = await slowReceiver();
  try {
    const args = ['--pcapFile', capture, '--serverName', 'sensor-7', '--splunkOutputType', '1', '--splunkOutputEndpoint', rx.url, '--splunkOutputToken', TOKEN,
      '--splunkBatchSize', String(BATCH), '--memoryLimit', LIMIT, '--metricFlushInterval', '500ms'];
    const started = Date.now();
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 4 << 20) stderr += d;
    });
    const rss: number[] = [];
    const sampler = setInterval(() => {
      const kb = rssKb(child.pid!);
      if (kb !== null) rss.push(kb);
    }, RSS_EVERY_MS);
    const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_CAP_MS);
    const code = await new Promise<number | null>((r) => child.once('close', r));
    clearInterval(sampler);
    clearTimeout(killer);
    const seconds = (Date.now() - started) / 1000;
    expect(code, stderr.slice(-3000)).toBe(0);

    const expected = await expectedEvents();
    const total = [...expected.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(190_000);

    // Every event once, nothing dropped.
    let missing = 0;
    let extra = 0;
    for (const [h, n] of expected) missing += Math.max(0, n - (rx.got.get(h) ?? 0));
    for (const [h, n] of rx.got) extra += Math.max(0, n - (expected.get(h) ?? 0));
    expect({ received: rx.events, missing, extra }).toEqual({ received: total, missing: 0, extra: 0 });
    expect(summaryCounter(stderr, 'splunk', 'rows sent', NaN)).toBe(total);
    expect(summaryCounter(stderr, 'splunk', 'rows dropped', NaN)).toBe(0);
    expect(stderr).not.toContain('dropped or filtered');

    // The receiver's pace: one request at a time, each answered after SLEEP_MS.
    expect(rx.inFlightMax).toBe(1);
    expect(rx.requests).toBe(Math.ceil(total / BATCH));
    expect(seconds).toBeGreaterThanOrEqual((rx.requests * SLEEP_MS) / 1000);

    // The writer's queue (rows being filled + sealed batches waiting) never held more than the
    // bound allows: BOUND bytes, exceeded by at most the batch sealed last, plus the batch being
    // filled. Rows are converted with the average encoded size the receiver saw (5% slack).
    const stats = stderr.split('\n').filter((l) => l.includes('"msg":"stats"')).map((l) => JSON.parse(l) as StatsLine).filter((s) => s.splunk);
    expect(stats.length).toBeGreaterThan(5);
    const bytesPerRow = rx.bytes / rx.events;
    const boundRows = BOUND / bytesPerRow;
    const allowed = boundRows * 1.05 + 2 * BATCH;
    const queuedMax = Math.max(...stats.map((s) => s.splunk!.queued));
    expect(queuedMax, `queued rows peaked at ${queuedMax}; ${bytesPerRow.toFixed(0)} B/row`).toBeLessThanOrEqual(allowed);
    // ... and the queue did fill: the receiver held the pipeline back.
    expect(queuedMax).toBeGreaterThan(boundRows / 2);
    // The input waited: decoded but not yet taken by the receiver never exceeded the queue (plus
    // the batch in flight and the match table's few queries), although the capture is three
    // times that: with no back-pressure the input would have read it all at once.
    expect(total).toBeGreaterThan(2 * (allowed + BATCH));
    const aheadMax = Math.max(...stats.map((s) => s.dnsMessages - s.splunk!.sent));
    expect(aheadMax).toBeLessThanOrEqual(allowed + BATCH + 2000);

    // RSS: the second half of the run stays within the first half's peak plus a margin (and
    // under the limit).
    expect(rss.length).toBeGreaterThan(10);
    const half = Math.floor(rss.length / 2);
    const first = Math.max(...rss.slice(0, half));
    const second = Math.max(...rss.slice(half));
    expect(second, `RSS peaks ${first} kB then ${second} kB`).toBeLessThanOrEqual(first + RSS_MARGIN_KB);
    expect(Math.max(first, second)).toBeLessThan(400e6 / 1024);
    console.log(
      `backpressure: ${total} events in ${seconds.toFixed(1)} s, ${rx.requests} requests; queued peak ${queuedMax} rows (allowed ${Math.round(allowed)}), ` +
        `ahead peak ${aheadMax}; RSS peak ${(first / 1024).toFixed(0)} MB first half, ${(second / 1024).toFixed(0)} MB second half`,
    );
  } finally {
    await rx.close();
  }
}, 90_000);
