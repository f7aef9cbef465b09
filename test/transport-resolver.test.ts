// DNS over TCP from a real resolver: dig asks Unbound over TCP (one query per connection, and
// two on one kept-open connection), and asks for an answer too big for UDP, so Unbound sets TC
// and dig retries over TCP. tcpdump captures it on lo; every message dnslens finds must equal
// tshark's with stream reassembly, and the truncated answer and its retry must both be there.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { describeWithPeers } from './peers.js';
import { startUnbound, UNBOUND_ZONE, type Resolver } from './resolvers.js';
import { dnsPortArgs, tsharkDns } from './tshark.js';
import { decodeFrames, droppedOf, messageView, REASSEMBLY_PREFS } from './wire.js';
import type { Frame } from '../src/frame.js';
import { Stats } from '../src/stats.js';

const execFileP = promisify(execFile);
const L = UNBOUND_ZONE;

// Each dig: its arguments and the DNS messages it makes on the wire.
const DIGS: { args: string[]; messages: number }[] = [
  { args: ['@127.0.0.1', '+tcp', `a.${L}`, 'A'], messages: 2 },
  { args: ['@127.0.0.1', '+tcp', '+keepopen', `a.${L}`, 'A', `a.${L}`, 'AAAA'], messages: 4 }, // one connection
  { args: ['@127.0.0.1', '+noedns', `big.${L}`, 'TXT'], messages: 4 }, // UDP query, TC answer, then TCP
  { args: ['@::1', '+tcp', `a.${L}`, 'AAAA'], messages: 2 },
  { args: ['@::1', '+bufsize=512', `big.${L}`, 'TXT'], messages: 4 },
];
const MESSAGES = DIGS.reduce((n, d) => n + d.messages, 0);

describeWithPeers('TCP and TC retries from a real resolver, against tshark', ['tshark', 'tcpdump', 'dig', 'unbound'], () => {
  let resolver: Resolver;
  let dir: string;
  let tcpdump: ChildProcess | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-tcp-resolver-'));
    resolver = await startUnbound();
  }, 60_000);

  afterAll(async () => {
    tcpdump?.kill('SIGKILL');
    await resolver?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every message, TCP and truncated UDP, as tshark sees it', async () => {
    const file = join(dir, 'tcp.pcap');
    const port = resolver.port;
    const child = spawn('tcpdump', ['--immediate-mode', '-U', '-n', '-i', 'lo', '-w', file, 'port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    tcpdump = child;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const t = setTimeout(() => reject(new Error(`tcpdump not listening after 10 s: ${err}`)), 10_000);
      child.stderr?.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes('listening on')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    try {
      for (const d of DIGS) {
        const { stdout } = await execFileP('dig', ['-p', String(port), '+time=2', '+tries=1', '+nosearch', ...d.args], { timeout: 10_000 });
        expect(stdout).toContain('->>HEADER<<-');
      }
      // Bounded wait until tshark finds every message in the file, then stop tcpdump.
      for (let i = 0; i < 50; i++) {
        const seen = await tsharkDns(file, [...REASSEMBLY_PREFS, ...dnsPortArgs([port])]).catch(() => []);
        if (seen.length >= MESSAGES) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      child.kill('SIGINT');
      await exited;
      tcpdump = null;
    }

    const frames: Frame[] = [];
    for await (const batch of readCapture(file, new Stats())) for (const f of batch) frames.push({ ...f, data: Uint8Array.from(f.data) });
    const { events, stats } = decodeFrames(frames, [port]);
    const theirs = (await tsharkDns(file, [...REASSEMBLY_PREFS, ...dnsPortArgs([port])])).map(messageView);
    expect(theirs.length).toBe(MESSAGES);
    expect(events.map(messageView)).toEqual(theirs);

    const ev = events.map((e) => e.ev);
    expect(ev.filter((e) => e.transport === 'tcp').length).toBe(12);
    expect(ev.filter((e) => e.transport === 'udp').length).toBe(4);
    // Both truncated answers are recorded, and each is followed by its full answer over TCP.
    const truncated = ev.filter((e) => e.tc);
    expect(truncated.map((e) => [e.transport, e.qname, e.ipVersion])).toEqual([
      ['udp', `big.${L}`, 4],
      ['udp', `big.${L}`, 6],
    ]);
    const full = ev.filter((e) => e.qr && e.transport === 'tcp' && e.qname === `big.${L}`);
    expect(full.map((e) => [e.anCount, e.size > 1200])).toEqual([
      [1, true],
      [1, true],
    ]);
    expect(stats.balanced()).toBe(true);
    expect(droppedOf(stats)).toEqual({});
  });
});
