// The limits the README documents, at their documented values, through the CLI (no injected
// small caps): 200,000 waiting queries in the matcher, 500,000 packets remembered by dedup, the
// 1 MiB dnstap frame, and the 30 s limit on a domain list reload. In each, what goes over is
// counted and nothing else is lost. The traffic is made in memory, so each run stays short.
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTROL_START, controlFrame, dataFrame, DNSTAP_CONTENT_TYPE } from '../src/inputs/dnstap/framestream.js';
import { DEDUP_MAX_ENTRIES } from '../src/transforms/dedup.js';
import { DEFAULT_MAX_PENDING } from '../src/transforms/match.js';
import { DEFAULT_MAX_FRAME_SIZE } from '../src/inputs/dnstap/framestream.js';
import { LIST_TIMEOUT_MS } from '../src/transforms/domainlist.js';
import { encodeDnstap } from './dnstap-encode.js';
import { MAIN, produce, runCli } from './dnstap-helpers.js';
import { dnsQuery, frameAt, ipv4, udp, V4, writePcap } from './wire.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslens-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The README's numbers. A change of a default must change the README and this test together.
const README = { matchPending: 200_000, dedupPackets: 500_000, frameBytes: 1 << 20, listTimeoutMs: 30_000 };

/** n distinct queries from one client: (port, DNS id) pairs never repeat; capture times 1 µs apart. */
function queries(path: string, n: number, extra: (i: number) => number[] = () => []): void {
  const frames = [];
  const order: number[] = [];
  for (let i = 0; i < n; i++) order.push(i, ...extra(i));
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    const port = 1024 + (i % 50_000);
    const id = Math.floor(i / 50_000);
    frames.push(frameAt(1_700_000_000 + k / 1e6, ipv4(V4, 17, udp(port, 53, dnsQuery(id, 'limit.test')))));
  }
  writePcap(path, frames);
}

function cli(args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args, '--fileOutputType', '1', '--fileOutputPath', '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stderr: r.stderr };
}

/** A summary line's number: "    label     1,234". */
function summaryNumber(stderr: string, label: string): number {
  const m = new RegExp(`^ +${label.replace(/[().,]/g, '\\$&')} +([\\d,]+)`, 'm').exec(stderr);
  if (!m) throw new Error(`no "${label}" in the summary:\n${stderr}`);
  return Number(m[1].replace(/,/g, ''));
}

describe('documented limits, at their defaults', () => {
  it('the defaults are the README values', () => {
    expect(DEFAULT_MAX_PENDING).toBe(README.matchPending);
    expect(DEDUP_MAX_ENTRIES).toBe(README.dedupPackets);
    expect(DEFAULT_MAX_FRAME_SIZE).toBe(README.frameBytes);
    expect(LIST_TIMEOUT_MS).toBe(README.listTimeoutMs);
  });

  it('matching holds 200,000 waiting queries: the 10 beyond go out unmatched and counted, none lost', () => {
    const file = join(dir, 'pending.pcap');
    const n = README.matchPending + 10;
    queries(file, n); // all within 0.2 s of capture time: none times out (5 s) before the end
    const r = cli(['--pcapFile', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryNumber(r.stderr, 'DNS messages')).toBe(n);
    expect(summaryNumber(r.stderr, 'released, table full')).toBe(10);
    expect(summaryNumber(r.stderr, 'unanswered queries')).toBe(README.matchPending); // the rest, at the end of input
    expect(summaryNumber(r.stderr, 'events written')).toBe(n); // every event went out
  }, 120_000);

  it('dedup remembers 500,000 packets: the oldest beyond are forgotten and counted, a repeat of the newest is still caught', () => {
    const file = join(dir, 'dedup.pcap');
    const n = README.dedupPackets + 10;
    // after all n: the first packet again (forgotten: passes) and the last one again (remembered: dropped)
    queries(file, n, (i) => (i === n - 1 ? [0, n - 1] : []));
    const r = cli(['--pcapFile', file, '--dedup', '--matchTimeout', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(summaryNumber(r.stderr, 'forgotten early, table full')).toBe(11); // 10, and the first packet's return evicts one more
    expect(summaryNumber(r.stderr, 'dedup:duplicate')).toBe(1);
    expect(summaryNumber(r.stderr, 'DNS messages')).toBe(n + 1);
    expect(summaryNumber(r.stderr, 'events written')).toBe(n + 1);
  }, 120_000);
});

/** A dnstap data frame whose protobuf is exactly `size` bytes: a CLIENT_QUERY padded with the
 *  Dnstap message's `extra` field (3), which readers skip. */
function frameOfSize(size: number, name: string): Uint8Array {
  const base = encodeDnstap({ type: 5, family: 1, protocol: 1, queryAddress: Uint8Array.of(127, 0, 0, 1), responseAddress: Uint8Array.of(127, 0, 0, 1), queryPort: 40000, responsePort: 53, queryTime: [1_700_000_000, 0], queryMessage: dnsQuery(7, name) });
  const pad = size - base.length - 1 - 3; // tag byte, a 3-byte length varint
  expect(pad).toBeGreaterThan(16_383); // so the varint is 3 bytes
  const varint = [(pad & 0x7f) | 0x80, ((pad >> 7) & 0x7f) | 0x80, pad >> 14];
  const out = Buffer.concat([Buffer.from([0x1a, ...varint]), Buffer.alloc(pad, 0x61), Buffer.from(base)]);
  expect(out.length).toBe(size);
  return out;
}

describe('the 1 MiB dnstap frame, at its default', () => {
  it('takes a frame of exactly 1 MiB; one byte more closes that producer only, counted; the other producer loses nothing', async () => {
    const sock = join(dir, 'frames.sock');
    const run = runCli(['--dnstapSocket', `unix://${sock}`, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', '--matchTimeout', '0']);
    await run.waitForLog('dnstap: listening', 20_000);
    const good = await produce({ path: sock });
    const bad = await produce({ path: sock });
    const start = controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE]);
    good.socket.write(Buffer.concat([start, dataFrame(frameOfSize(README.frameBytes, 'big.limit.test')), dataFrame(frameOfSize(200_000, 'small.limit.test'))]));
    bad.socket.write(Buffer.concat([start, dataFrame(frameOfSize(README.frameBytes + 1, 'over.limit.test'))]));
    await bad.closed; // the receiver closed the oversize producer
    await run.waitFor((ev) => ev.some((e) => e.qname === 'small.limit.test'), 20_000, 'the good producer\'s frames');
    good.socket.end();
    expect(await run.stop('SIGTERM')).toBe(0);
    expect(run.events.map((e) => e.qname).sort()).toEqual(['big.limit.test', 'small.limit.test']);
    expect(run.stderr()).toMatch(/framestream:oversize-frame +1\n/);
  }, 60_000);
});

describe('the 30 s limit on a domain list reload, at its default', () => {
  it('a reload that hangs is given up after 30 s and the previous list stays in force', async () => {
    let requests = 0;
    let hungAt = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      requests++;
      if (requests === 1) {
        res.end('skipme.test,suffix\n');
        return;
      }
      // every reload: headers, part of a body, then nothing
      if (hungAt === 0) hungAt = Date.now();
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('other.test,suffix\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const sock = join(dir, 'lists.sock');
    const run = runCli([
      '--dnstapSocket', `unix://${sock}`,
      '--stdoutOutputType', '2', '--stdoutOutputFormat', 'json',
      '--skipDomainsFile', `http://127.0.0.1:${port}/skip.csv`,
      '--skipDomainsRefreshInterval', '1s',
      '--matchTimeout', '0',
    ]);
    try {
      await run.waitForLog('dnstap: listening', 20_000);
      await run.waitForLog(`not read completely within ${README.listTimeoutMs} ms`, README.listTimeoutMs + 15_000);
      const gaveUpAfter = Date.now() - hungAt;
      expect(gaveUpAfter).toBeGreaterThanOrEqual(README.listTimeoutMs - 1000);
      // still filtering with the first list
      const p = await produce({ path: sock });
      const msg = (name: string) => encodeDnstap({ type: 5, family: 1, protocol: 1, queryAddress: Uint8Array.of(127, 0, 0, 1), responseAddress: Uint8Array.of(127, 0, 0, 1), queryPort: 40001, responsePort: 53, queryTime: [1_700_000_000, 0], queryMessage: dnsQuery(9, name) });
      p.socket.write(Buffer.concat([controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE]), dataFrame(msg('a.skipme.test')), dataFrame(msg('kept.test'))]));
      await run.waitFor((ev) => ev.some((e) => e.qname === 'kept.test'), 20_000, 'the kept name');
      p.socket.end();
      // a reload hangs again right now: SIGTERM does not wait for it
      const stopping = Date.now();
      expect(await run.stop('SIGTERM')).toBe(0);
      expect(Date.now() - stopping).toBeLessThan(10_000);
      expect(run.events.map((e) => e.qname)).toEqual(['kept.test']);
      expect(run.stderr()).toMatch(/filter:stdout:skip-list +1\n/);
    } finally {
      await run.stop('SIGKILL');
      server.closeAllConnections();
      server.close();
    }
  }, README.listTimeoutMs + 60_000);
});
