// --metricEndpointType statsd, run as a user would (the built CLI in a child process) against a UDP
// listener started here on a loopback port: every datagram is parsed as statsd lines
// (name:value|c or |g, "\n" between lines), and the counters' increments, summed over every flush,
// must equal the run's totals in its summary. No statsd daemon is packaged in Debian (no `statsd`
// package), so the listener checks the line format itself.
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAgent } from '../src/metrics/statsd.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const SAMPLE = join(import.meta.dirname, '../samples/dns-sample.pcap');
const LINE = /^([A-Za-z0-9_.-]+):(-?\d+(?:\.\d+)?)\|(c|g)$/;

interface Received {
  port: number;
  datagrams: string[];
  lines: { name: string; value: number; type: 'c' | 'g' }[];
  bad: string[];
  close(): Promise<void>;
}

const sockets: Socket[] = [];
afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

async function listen(): Promise<Received> {
  const sock = createSocket('udp4');
  sockets.push(sock);
  const r: Received = {
    port: 0,
    datagrams: [],
    lines: [],
    bad: [],
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  };
  sock.on('message', (msg) => {
    const text = msg.toString('utf8');
    r.datagrams.push(text);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const m = LINE.exec(line);
      if (m) r.lines.push({ name: m[1], value: Number(m[2]), type: m[3] as 'c' | 'g' });
      else r.bad.push(line);
    }
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()));
  r.port = sock.address().port;
  return r;
}

const counter = (r: Received, name: string) => r.lines.filter((l) => l.type === 'c' && l.name === name).reduce((a, l) => a + l.value, 0);
const gauges = (r: Received, name: string) => r.lines.filter((l) => l.type === 'g' && l.name === name).map((l) => l.value);

interface Run {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  write(b: Buffer): void;
  end(): void;
}

/** The CLI in a child process, killed if it runs past ms. */
function cli(args: string[], ms: number, env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  return {
    code: new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      }),
    ),
    stdout: () => out,
    stderr: () => err,
    write: (b) => child.stdin.write(b),
    end: () => child.stdin.end(),
  };
}

async function until(what: string, ms: number, ok: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A figure of the summary on stderr, e.g. "packets read     38 (3,706 bytes)". */
function summary(stderr: string, label: RegExp): number {
  const m = new RegExp(`${label.source}\\s+([\\d,]+)`).exec(stderr);
  if (!m) throw new Error(`no ${label} in the summary:\n${stderr}`);
  return Number(m[1].replace(/,/g, ''));
}

/** copies: how many times the sample's 38 messages (3,706 bytes) were read. */
function expectTotalsMatchSummary(r: Received, run: Run, copies = 1): void {
  expect(r.bad).toEqual([]);
  const packets = summary(run.stderr(), /packets read/);
  const messages = summary(run.stderr(), /DNS messages/);
  const written = summary(run.stderr(), /events written/);
  expect([packets, messages, written]).toEqual([38 * copies, 38 * copies, 38 * copies]);
  expect(run.stdout().trim().split('\n')).toHaveLength(written);
  expect(counter(r, 'dnslens.packets')).toBe(packets);
  expect(counter(r, 'dnslens.bytes')).toBe(3706 * copies);
  expect(counter(r, 'dnslens.dns_messages')).toBe(messages);
  expect(counter(r, 'dnslens.malformed')).toBe(0);
  expect(counter(r, 'dnslens.component.stdout.written')).toBe(written);
  expect(counter(r, 'dnslens.component.match.answered')).toBe(summary(run.stderr(), /answered queries/));
  // the process metrics, as gauges and counters
  expect(gauges(r, 'dnslens.process.rss_bytes').every((v) => v > 1e6)).toBe(true);
  expect(gauges(r, 'dnslens.process.heap_used_bytes').length).toBeGreaterThan(0);
  expect(counter(r, 'dnslens.process.cpu_user_us')).toBeGreaterThan(0);
}

describe('metrics to statsd', () => {
  it("sends the counters' increments, which sum to the summary's totals, gauges, and a last flush at exit", async () => {
    const r = await listen();
    // DD_* in the environment must not turn the lines into Datadog's dialect (|#tags)
    const run = cli(
      ['--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--metricEndpointType', 'statsd', '--metricStatsdAgent', `127.0.0.1:${r.port}`, '--metricFlushInterval', '200ms'],
      20_000,
      { DD_ENV: 'prod', DD_TAGS: 'team:dns' },
    );
    expect(await run.code).toBe(0);
    // the last flush left before the process exited; let the listener read it
    await until('the last flush', 5_000, () => counter(r, 'dnslens.component.stdout.written') >= 38);
    expect(r.datagrams.every((d) => Buffer.byteLength(d) <= 1432)).toBe(true);
    expect(r.datagrams.join('\n')).not.toContain('|#');
    expectTotalsMatchSummary(r, run);
    // the stderr stats line is replaced, not doubled
    expect(run.stderr()).not.toContain('"msg":"stats"');
  });

  it('sums increments over several flushes to the totals (a capture read from stdin in two parts)', async () => {
    const r = await listen();
    const run = cli(
      ['--pcapFile', '-', '--stdoutOutputType', '1', '--metricEndpointType', 'statsd', '--metricStatsdAgent', `127.0.0.1:${r.port}`, '--metricFlushInterval', '100ms'],
      30_000,
    );
    // the sample's 38 packet records 30 times over: a file read from stdin is decoded in batches of
    // 1,024 frames, so the first part (28 copies) moves the counters before the rest is written
    const pcap = readFileSync(SAMPLE);
    const header = pcap.subarray(0, 24);
    const records = pcap.subarray(24);
    run.write(Buffer.concat([header, ...Array<Buffer>(28).fill(records)]));
    await until('a flush with the first part', 15_000, () => counter(r, 'dnslens.packets') > 0);
    const early = counter(r, 'dnslens.packets');
    expect(early).toBeGreaterThanOrEqual(1024);
    expect(early).toBeLessThan(30 * 38);
    // an idle flush or more meanwhile: the counter sent as 0, not as the total again
    const seen = r.lines.length;
    await until('an idle flush', 5_000, () => r.lines.slice(seen).some((l) => l.name === 'dnslens.packets'));
    expect(r.lines.slice(seen).filter((l) => l.name === 'dnslens.packets').map((l) => l.value)).toContain(0);
    expect(counter(r, 'dnslens.packets')).toBe(early);
    run.write(Buffer.concat([records, records]));
    run.end();
    expect(await run.code).toBe(0);
    await until('the last flush', 5_000, () => counter(r, 'dnslens.packets') >= 30 * 38 && counter(r, 'dnslens.component.stdout.written') >= 30 * 38);
    const packetLines = r.lines.filter((l) => l.name === 'dnslens.packets');
    expect(packetLines.filter((l) => l.value > 0).length).toBeGreaterThanOrEqual(2);
    expect(packetLines.filter((l) => l.value === 0).length).toBeGreaterThanOrEqual(1);
    expectTotalsMatchSummary(r, run, 30);
  });

  it('runs to the end when nothing listens at the agent (UDP, nothing to wait for)', async () => {
    const r = await listen();
    const port = r.port;
    await r.close();
    sockets.length = 0;
    const run = cli(['--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--metricEndpointType', 'statsd', '--metricStatsdAgent', `127.0.0.1:${port}`, '--metricFlushInterval', '50ms'], 20_000);
    expect(await run.code).toBe(0);
    expect(run.stdout().trim().split('\n')).toHaveLength(38);
  });

  it('refuses a bad agent address with exit 2, naming the option', async () => {
    for (const agent of ['127.0.0.1:99999', 'not a host:8125', '::1::x', 'udp://127.0.0.1:8125', 'no-such-host.invalid:8125']) {
      const run = cli(['--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--metricEndpointType', 'statsd', '--metricStatsdAgent', agent], 20_000);
      expect(await run.code, agent).toBe(2);
      expect(run.stderr(), agent).toMatch(/^dnslens: --metricStatsdAgent: /m);
      expect(run.stdout(), agent).toBe(''); // refused before anything was read
    }
  });
});

describe('parseAgent', () => {
  it('reads HOST:PORT, [IPv6]:PORT, an IPv6 address or a host alone (port 8125)', () => {
    expect(parseAgent('127.0.0.1:8125')).toEqual({ host: '127.0.0.1', port: 8125 });
    expect(parseAgent('statsd.example.org:9125')).toEqual({ host: 'statsd.example.org', port: 9125 });
    expect(parseAgent('localhost')).toEqual({ host: 'localhost', port: 8125 });
    expect(parseAgent('[::1]:8126')).toEqual({ host: '::1', port: 8126 });
    expect(parseAgent('[::1]')).toEqual({ host: '::1', port: 8125 });
    expect(parseAgent('fe80::1')).toEqual({ host: 'fe80::1', port: 8125 });
    for (const bad of ['', ':8125', 'host:', 'host:0', 'host:abc', '[zz]:1', 'a b:1', 'http://x:1', '1::2::3:8125']) expect(() => parseAgent(bad), bad).toThrow();
  });
});
