// A receiver down when its output opens (issue #17): the shared wait (src/outputs/sink/reachable.ts)
// retries a connection-level failure with backoff until the server answers, throws anything else at
// once, and gives up at once on SIGINT/SIGTERM (the run's signal). No ClickHouse server here: the
// ClickHouse output is checked against a closed port, its store opening and through the CLI.
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Log } from '../src/log.js';
import { loadConfig } from '../src/cli/config.js';
import { registry } from '../src/cli/registry.js';
import type { ClickHouseSettings } from '../src/outputs/clickhouse/index.js';
import { openMigrated } from '../src/outputs/clickhouse/store.js';
import { isUnreachable, StoppedWaiting, untilReachable } from '../src/outputs/sink/reachable.js';
import { PCAP_DIR } from './data.js';
import { freePort } from './resolvers.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const root = mkdtempSync(join(tmpdir(), 'dnslens-reachable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (a: unknown, b?: unknown) => void lines.push({ level, msg: String(typeof a === 'string' ? a : b) });
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Log;
  return { log, lines };
}

/** One TCP connection to the port that gets the server's first bytes: what a client's first request is. */
function hello(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('data', (d) => {
      resolve(d.toString());
      s.destroy();
    });
    s.once('error', reject);
  });
}

function listen(port: number): Promise<Server> {
  const server = createServer((s) => s.end('Ok.\n'));
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** The ClickHouse output's settings as the command line gives them. */
function settings(argv: string[]): ClickHouseSettings {
  return loadConfig(argv, {}, registry) as unknown as ClickHouseSettings;
}

describe('untilReachable', () => {
  it('retries a closed port with backoff (one warning, then debug) until it listens and answers', async () => {
    const port = await freePort();
    const { log, lines } = recordingLog();
    let server: Server | undefined;
    const opening = setTimeout(() => void listen(port).then((s) => (server = s)), 1200);
    try {
      const started = Date.now();
      const got = await untilReachable(`test server at 127.0.0.1:${port}`, () => hello(port), isUnreachable, log, undefined, { initialMs: 100 });
      expect(got).toBe('Ok.\n');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1100);
      const warns = lines.filter((l) => l.level === 'warn');
      expect(warns).toEqual([{ level: 'warn', msg: `test server at 127.0.0.1:${port} cannot be reached; waiting for it, retrying with backoff` }]);
      expect(lines.filter((l) => l.level === 'debug').length).toBeGreaterThan(0);
      expect(lines.at(-1)).toEqual({ level: 'info', msg: `test server at 127.0.0.1:${port} reached` });
    } finally {
      clearTimeout(opening);
      server?.close();
    }
  });

  it('throws an error that waiting cannot mend at once, without retrying', async () => {
    const { log, lines } = recordingLog();
    let attempts = 0;
    const refused = Object.assign(new Error('password authentication failed'), { code: '28P01' });
    await expect(untilReachable('x', async () => (attempts++, Promise.reject(refused)), isUnreachable, log)).rejects.toBe(refused);
    expect(attempts).toBe(1);
    expect(lines).toEqual([]);
  });

  it('gives up at once when the signal aborts, also during an attempt; a late result is discarded', async () => {
    const { log } = recordingLog();
    const stop = new AbortController();
    const closed: string[] = [];
    let attempts = 0;
    // a first attempt refused, a second one that answers only after the stop
    const attempt = () =>
      ++attempts === 1
        ? Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
        : new Promise<string>((r) => setTimeout(() => r('late connection'), 800));
    const waiting = untilReachable('x', attempt, isUnreachable, log, stop.signal, { initialMs: 50, discard: (c) => closed.push(c) });
    setTimeout(() => stop.abort(), 300);
    const started = Date.now();
    await expect(waiting).rejects.toBeInstanceOf(StoppedWaiting);
    expect(Date.now() - started).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 700));
    expect(closed).toEqual(['late connection']);
  });
});

describe('ClickHouse server down at start-up', () => {
  it('the store opening waits for a closed port (instead of failing) until the run is stopped; a store command still fails at once', async () => {
    const port = await freePort();
    const s = settings(['--clickhouseAddress', `127.0.0.1:${port}`, '--dataDir', join(root, 'open')]);
    const { log, lines } = recordingLog();
    await expect(openMigrated(s, log, 'UTC')).rejects.toThrow(/ECONNREFUSED/);
    const stop = new AbortController();
    const opening = openMigrated(s, log, 'UTC', {}, { signal: stop.signal });
    const early = await Promise.race([opening.then(() => 'opened', (e: Error) => e.message), new Promise((r) => setTimeout(() => r('waiting'), 1500))]);
    expect(early).toBe('waiting');
    expect(lines.filter((l) => l.level === 'warn').map((l) => l.msg)).toEqual([`ClickHouse at 127.0.0.1:${port} cannot be reached; waiting for it, retrying with backoff`]);
    stop.abort();
    await expect(opening).rejects.toBeInstanceOf(StoppedWaiting);
  });

  // The built CLI: a closed port no longer exits 1; SIGTERM ends the run at once with its summary.
  const run = async (args: string[], stdin: boolean) => {
    const child = spawn(process.execPath, [MAIN, ...args, '--clickhouseOutputType', '1', '--clickhouseAddress', `127.0.0.1:${await freePort()}`, '--metricFlushInterval', '0'], {
      stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    if (stdin) createReadStream(join(PCAP_DIR, 'dnscap__dns.pcap')).pipe(child.stdin!);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000); // a run that does not end: code null
    for (let i = 0; i < 200 && !/cannot be reached; waiting for it/.test(stderr) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1000)); // a few more attempts; stdin read meanwhile
    expect(child.exitCode, stderr).toBeNull();
    child.kill('SIGTERM');
    const code = await exited;
    clearTimeout(killer);
    return { code, stderr };
  };

  const count = (stderr: string, label: string) => Number(new RegExp(`${label}\\s+([\\d,]+)(?:\\s|$)`).exec(stderr)?.[1].replace(/,/g, '') ?? -1);

  it('through the CLI: the rows read while it waited are counted as dropped at the stop (stdin), or nothing is read (an import)', async () => {
    const [piped, file] = await Promise.all([
      run(['--pcapFile', '-', '--dataDir', join(root, 'stdin')], true),
      run(['--pcapFile', join(PCAP_DIR, 'dnscap__dns.pcap'), '--dataDir', join(root, 'file')], false),
    ]);
    for (const r of [piped, file]) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/ClickHouse at 127\.0\.0\.1:\d+ cannot be reached; waiting for it, retrying with backoff/);
      expect(r.stderr).toMatch(/dnslens summary/);
    }
    expect(piped.stderr).toMatch(/rows sent\s+0\n/);
    // stdin fills the writer while the store is awaited: what was read is dropped at the stop, counted
    const read = count(piped.stderr, 'DNS messages');
    expect(read).toBeGreaterThan(0);
    expect(count(piped.stderr, 'clickhouse:down-at-exit')).toBe(read);
    expect(count(piped.stderr, 'rows dropped')).toBe(read);
    // an import waits at open: a stop then reads nothing
    expect(count(file.stderr, 'packets read')).toBe(0);
    expect(file.stderr).not.toMatch(/rows (sent|dropped)\s+[1-9]/);
  }, 40_000);
});
