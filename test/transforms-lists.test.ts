// Skip and allow lists from http(s) URLs with background reload, served by a node:http server on
// 127.0.0.1 that can be slow, fail, serve junk or change; over https with a self-signed
// certificate (--skipTLSVerification); and the CLI reloading on SIGHUP while it reads a capture
// from a pipe, logging its counters every --metricFlushInterval.
import { decodeContext } from './wiring.js';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { openLists } from '../src/cli/open.js';
import type { DnsEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { runPipeline } from '../src/cli/pipeline.js';
import { Stats } from '../src/stats.js';
import { ReloadingList } from '../src/transforms/domainlist.js';
import { filteredOutput } from '../src/outputs/filter.js';
import { PCAP_DIR } from './data.js';
import { selfSignedCert } from './certs.js';
import { dnslensAsync } from './cli-async.js';
import { describeWithPeers } from './peers.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const DNS = join(PCAP_DIR, 'dnscap__dns.pcap'); // 82 messages: 48 google.com (A), 34 reverse lookups (PTR)

// What the server answers at /list.csv; tests change it.
const serve = { status: 200, body: '', delayMs: 0 };
let server: Server;
let base = '';
let requests = 0;
const tmp = mkdtempSync(join(tmpdir(), 'dnslens-lists-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const { status, body, delayMs } = serve;
    const send = () => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'text/csv' });
      res.end(body);
    };
    if (delayMs > 0) setTimeout(send, delayMs).unref();
    else send();
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  server.closeAllConnections();
  await new Promise((ok) => server.close(ok));
});
beforeEach(() => {
  Object.assign(serve, { status: 200, body: 'google.com,suffix\n', delayMs: 0 });
});

async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 20));
  }
}

describe('domain lists from URLs', () => {
  it('loads a list over http and matches suffixes on label boundaries', async () => {
    const list = await ReloadingList.open(`${base}/list.csv`, { intervalMs: 0 });
    expect(list.matches('google.com')).toBe(true);
    expect(list.matches('mail.google.com')).toBe(true);
    expect(list.matches('evilgoogle.com')).toBe(false);
    expect(list.matches('google.com.evil.net')).toBe(false);
  });

  it('takes changed content on reload, and keeps the previous list when the server fails or serves junk', async () => {
    const list = await ReloadingList.open(`${base}/list.csv`, { intervalMs: 0 });
    serve.body = 'example.org,suffix\nads.,prefix\n';
    expect(await list.reload()).toBe(true);
    expect(list.matches('www.example.org')).toBe(true);
    expect(list.matches('ads.tracker.net')).toBe(true);
    expect(list.matches('mail.google.com')).toBe(false);

    serve.status = 500;
    expect(await list.reload()).toBe(false);
    serve.status = 404;
    expect(await list.reload()).toBe(false);
    serve.status = 200;
    serve.body = '<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>\n';
    expect(await list.reload()).toBe(false);
    serve.body = 'example.net,middle\n';
    expect(await list.reload()).toBe(false);
    expect(list.failures).toBe(4);
    expect(list.current.size).toBe(2);
    expect(list.matches('www.example.org')).toBe(true);
  });

  it('gives up on a slow server without holding up capture', async () => {
    const list = await ReloadingList.open(`${base}/list.csv`, { intervalMs: 0, timeoutMs: 500 });
    serve.delayMs = 5_000;
    serve.body = 'in-addr.arpa,suffix\n';
    let settled = false;
    const reload = list.reload().then((ok) => {
      settled = true;
      return ok;
    });
    // A whole capture goes through the skip list while the reload waits.
    const stats = new Stats();
    const cfg = loadConfig(['--pcapFile', DNS, '--stdoutOutputType', '2', '--skipDomainsFile', `${base}/list.csv`, '--matchTimeout', '0'], {});
    const seen: DnsEvent[] = [];
    const sink = { name: 'sink', write: (evs: readonly DnsEvent[]) => void seen.push(...evs), close: async () => {} };
    await runPipeline({
      sources: [{ kind: 'frames', frames: readCapture(DNS, stats), ctx: decodeContext(cfg, stats, 'pcap', DNS) }],
      outputs: [filteredOutput(sink, 2, { skip: list }, stats)],
    });
    expect(settled).toBe(false);
    expect(seen).toHaveLength(34); // the previous list (google.com) applied
    expect(stats.droppedBy.get('filter:sink:skip-list')).toBe(48);
    expect(await reload).toBe(false);
    expect(list.matches('mail.google.com')).toBe(true);
  });

  it('reloads in the background every interval', async () => {
    const list = await ReloadingList.open(`${base}/list.csv`, { intervalMs: 100 });
    list.start();
    serve.body = 'example.com,fqdn\n';
    try {
      await waitFor('a background reload', () => list.matches('example.com'));
      expect(list.matches('google.com')).toBe(false);
    } finally {
      await list.stop();
    }
    const after = requests;
    await new Promise((ok) => setTimeout(ok, 300));
    expect(requests).toBe(after); // stopped
  });

  it('refuses to start when the first load fails (exit code 2)', async () => {
    serve.status = 503;
    const cfg = loadConfig(['--pcapFile', DNS, '--stdoutOutputType', '2', '--skipDomainsFile', `${base}/list.csv`], {});
    await expect(openLists(cfg)).rejects.toThrow(/--skipDomainsFile: HTTP 503/);
    const cfg2 = loadConfig(['--pcapFile', DNS, '--stdoutOutputType', '3', '--skipDomainsFile', `${base}/list.csv`], {});
    await expect(openLists(cfg2)).rejects.toThrow(/--stdoutOutputType=3 applies the allow list, but --allowDomainsFile is not set/);
  });
});

describeWithPeers('domain lists over https', ['openssl'], () => {
  let secure: HttpsServer;
  let redirect: Server;
  let httpsBase = '';
  let redirectBase = '';

  beforeAll(async () => {
    const cert = selfSignedCert(tmp);
    secure = createHttpsServer({ key: cert.key, cert: cert.cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.end('google.com,suffix\n');
    });
    secure.on('tlsClientError', () => undefined); // a client that refuses the certificate
    // plain http that sends every request on to the https server
    redirect = createServer((req, res) => {
      res.writeHead(302, { location: `${httpsBase}${req.url ?? '/'}` });
      res.end();
    });
    await new Promise<void>((ok) => secure.listen(0, '127.0.0.1', ok));
    await new Promise<void>((ok) => redirect.listen(0, '127.0.0.1', ok));
    httpsBase = `https://127.0.0.1:${(secure.address() as AddressInfo).port}`;
    redirectBase = `http://127.0.0.1:${(redirect.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of [secure, redirect]) {
      s.closeAllConnections();
      await new Promise((ok) => s.close(ok));
    }
  });

  it('refuses a certificate no CA signed; with skipTlsVerify loads the list, also after a redirect from http', async () => {
    await expect(ReloadingList.open(`${httpsBase}/list.csv`, { intervalMs: 0 })).rejects.toThrow(/self-signed certificate/);
    await expect(ReloadingList.open(`${redirectBase}/list.csv`, { intervalMs: 0 })).rejects.toThrow(/self-signed certificate/);
    for (const url of [`${httpsBase}/list.csv`, `${redirectBase}/list.csv`]) {
      const list = await ReloadingList.open(url, { intervalMs: 0, skipTlsVerify: true });
      expect(list.matches('mail.google.com')).toBe(true);
      expect(list.matches('example.org')).toBe(false);
    }
  });

  it('the CLI stops with exit 2 without --skipTLSVerification, and skips the listed names with it', async () => {
    const args = ['--pcapFile', DNS, '--stdoutOutputType', '2', '--skipDomainsFile', `${httpsBase}/list.csv`, '--matchTimeout', '0'];
    const refused = await dnslensAsync(args);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/--skipDomainsFile: self-signed certificate/);
    const r = await dnslensAsync([...args, '--skipTLSVerification']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/--skipTLSVerification: server certificates are not verified/);
    const events = lines(r.stdout);
    expect(events).toHaveLength(34); // the 48 google.com messages skipped
    expect(events.every((e) => e.qname.endsWith('in-addr.arpa'))).toBe(true);
  });
});

describe('the CLI with a URL list', () => {
  it('reloads on SIGHUP while reading a pipe, and logs its counters every --metricFlushInterval', async () => {
    // The pcap reader hands on what each read of a pipe brought: feed 8 copies of the capture
    // (1064 frames, each copy 100 s after the previous), wait for all of them to come out, reload,
    // then feed 8 more copies.
    const src = readFileSync(DNS);
    const recs: Buffer[] = [];
    for (let o = 24; o + 16 <= src.length; o += 16 + src.readUInt32LE(o + 8)) recs.push(src.subarray(o, o + 16 + src.readUInt32LE(o + 8)));
    const copies = (from: number, n: number) => {
      const out: Buffer[] = [];
      for (let c = from; c < from + n; c++) {
        for (const r of recs) {
          const b = Buffer.from(r);
          b.writeUInt32LE(b.readUInt32LE(0) + 100 * c, 0);
          out.push(b);
        }
      }
      return out;
    };
    const partA = copies(0, 8);
    const partB = copies(8, 8);
    const header = src.subarray(0, 24);
    // What the first part prints with google.com skipped: its reverse lookups.
    const first = join(tmp, 'first-batch.pcap');
    writeFileSync(first, Buffer.concat([header, ...partA]));
    const all = spawnSync(process.execPath, [MAIN, '--pcapFile', first, '--stdoutOutputType', '1', '--matchTimeout', '0'], { encoding: 'utf8', timeout: 60_000 });
    const firstBatch = lines(all.stdout).filter((e) => e.qname.endsWith('in-addr.arpa')).length;
    expect(firstBatch).toBeGreaterThan(200); // 34 per copy, 8 copies

    const child = spawn(
      process.execPath,
      [MAIN, '--pcapFile', '-', '--stdoutOutputType', '2', '--skipDomainsFile', `${base}/list.csv`, '--skipDomainsRefreshInterval', '0', '--matchTimeout', '0', '--metricFlushInterval', '200ms'],
      { env: { PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((ok) => child.on('close', ok));
    const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      child.stdin.write(Buffer.concat([header, ...partA]));
      await waitFor('a periodic stats line', () => /"msg":"stats"/.test(err));
      await waitFor('the first part on stdout', () => lines(out).length === firstBatch);
      serve.body = 'in-addr.arpa,suffix\n';
      child.kill('SIGHUP');
      await waitFor('the reload', () => /domain list reloaded/.test(err));
      child.stdin.end(Buffer.concat(partB));
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(kill);
    }
    const events = lines(out);
    const before = events.slice(0, firstBatch); // output keeps input order
    const after = events.slice(firstBatch);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect(before.every((e) => e.qname.endsWith('in-addr.arpa'))).toBe(true);
    expect(after.every((e) => e.qname === 'google.com')).toBe(true);
    // Every DNS message is either printed or counted as skipped by the list in force at its time.
    const skipped = Number(/filter:stdout:skip-list\s+(\d+)/.exec(err)?.[1]);
    expect(events.length + skipped).toBe(82 * 16);
    const stats = err.split('\n').filter((l) => l.includes('"msg":"stats"')).map((l) => JSON.parse(l));
    expect(stats.length).toBeGreaterThan(0);
    expect(stats[0]).toMatchObject({ level: 30 });
    expect(typeof stats[0].packets).toBe('number');
  });
});

function lines(text: string): Record<string, any>[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}
