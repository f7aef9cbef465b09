// Latency on real traffic: dig asks a local Unbound (answers) and a black-holed UDP port on
// 127.0.0.1 (a socket that reads and never replies), tcpdump captures it on lo, the dnslens CLI
// reads the capture with matching on, and every response time must agree with tshark's dns.time
// within 1 ms, while the queries to the black hole come out unanswered.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPeers } from './peers.js';
import { UNBOUND_AUTH_ZONE, UNBOUND_ZONE, freePort, startUnbound, type Resolver } from './resolvers.js';

const execFileP = promisify(execFile);
const MAIN = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');

const L = UNBOUND_ZONE;
const A = UNBOUND_AUTH_ZONE;
const ANSWERED: [string, string][] = [
  [`a.${L}`, 'A'], [`a.${L}`, 'AAAA'], [L, 'MX'], [`txt.${L}`, 'TXT'], [`web.${L}`, 'HTTPS'],
  [`alias.${L}`, 'A'], [`c1.${A}`, 'A'], [`nope.${L}`, 'A'], [`missing.${A}`, 'AAAA'], ['example.com', 'A'],
  [`a.${L}`, 'A'], [`c1.${A}`, 'AAAA'], [L, 'SOA'], [L, 'NS'], [`svc.${L}`, 'SVCB'],
];
const BLACKHOLED = ['gone1.example', 'gone2.example', 'gone3.example'];

interface Ev {
  time: string;
  srcPort: number;
  dstPort: number;
  id: number;
  qr: boolean;
  qname: string;
  responseTimeUs: number | null;
  unanswered: boolean;
}

interface Shark {
  time: string; // epoch seconds with 9 decimals
  srcPort: number;
  id: number;
  qr: boolean;
  dnsTime: number | null; // seconds, on a response matched by tshark
  responseIn: number | null; // on a query tshark saw answered
}

// one row per frame: the epoch time as ns text, so both sides compare without float error
const timeKey = (sec: string) => {
  const [s, f = ''] = sec.split('.');
  return `${s}.${f.padEnd(9, '0').slice(0, 9)}`;
};

async function dig(port: number, name: string, type: string, timeSec: number): Promise<string> {
  const args = ['@127.0.0.1', '-p', String(port), `+time=${timeSec}`, '+tries=1', '+nosearch', name, type];
  try {
    const { stdout } = await execFileP('dig', args, { timeout: 10_000 });
    return stdout;
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? ''); // dig exits 9 on a timeout
  }
}

async function tshark(file: string, ports: number[]): Promise<Shark[]> {
  const decode = ports.flatMap((p) => ['-d', `udp.port==${p},dns`]);
  const fields = ['frame.time_epoch', 'udp.srcport', 'dns.id', 'dns.flags.response', 'dns.time', 'dns.response_in'];
  // -2: two passes, so a query's dns.response_in (a forward reference) is filled
  const args = ['-r', file, '-n', '-2', ...decode, '-Y', 'dns', '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])];
  const { stdout } = await execFileP('tshark', args, { timeout: 60_000, maxBuffer: 64 << 20 });
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [time, sport, id, resp, dt, rin] = l.split('\t');
      return {
        time: timeKey(time),
        srcPort: Number(sport),
        id: Number(id),
        qr: resp === '1' || resp === 'True',
        dnsTime: dt ? Number(dt) : null,
        responseIn: rin ? Number(rin) : null,
      };
    });
}

async function runCli(file: string, ports: number[], extra: string[]): Promise<{ events: Ev[]; summary: string }> {
  const args = [MAIN, '--pcapFile', file, '--port', ports.join(','), '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', ...extra];
  const { stdout, stderr } = await execFileP(process.execPath, args, { timeout: 60_000, maxBuffer: 64 << 20 });
  const events = stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const e = JSON.parse(l) as Ev & { time: string };
      return { ...e, time: timeKey(`${Date.parse(e.time.slice(0, 19) + 'Z') / 1000}.${e.time.slice(20, 29)}`) };
    });
  return { events, summary: stderr };
}

const eventKey = (e: { time: string; srcPort: number; id: number; qr: boolean }) => `${e.time} ${e.srcPort} ${e.id} ${e.qr}`;

describeWithPeers('response times on real traffic agree with tshark', ['tshark', 'tcpdump', 'dig', 'unbound'], () => {
  let dir = '';
  let unbound: Resolver | null = null;
  let hole: Socket | null = null;
  let holePort = 0;
  let tcpdump: ChildProcess | null = null;
  let file = '';
  let sharks: Shark[] = [];
  const holeSeen: number[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-match-'));
    unbound = await startUnbound();
    holePort = await freePort();
    hole = createSocket('udp4');
    hole.on('message', (m) => holeSeen.push(m.length)); // read, never answer
    await new Promise<void>((resolve) => hole!.bind(holePort, '127.0.0.1', resolve));

    file = join(dir, 'lo.pcap');
    const expected = 2 * ANSWERED.length + BLACKHOLED.length;
    const child = spawn('tcpdump', ['--immediate-mode', '-U', '-n', '-i', 'lo', '-c', String(expected), '-w', file, `udp and (port ${unbound.port} or port ${holePort})`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    tcpdump = child;
    let err = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`tcpdump not listening after 10 s: ${err}`)), 10_000);
      child.stderr!.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes('listening on')) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    // the black-holed queries first, so a short --matchTimeout gives them up while traffic goes on
    await Promise.all(BLACKHOLED.map((n) => dig(holePort, n, 'A', 1)));
    for (const [name, type] of ANSWERED) {
      const out = await dig(unbound.port, name, type, 2);
      if (!out.includes('->>HEADER<<-')) throw new Error(`dig ${name} ${type}: no answer:\n${out}`);
    }
    const stopper = setTimeout(() => child.kill('SIGINT'), 5000); // -c stops it first, normally
    await exited;
    clearTimeout(stopper);
    tcpdump = null;
    sharks = await tshark(file, [unbound.port, holePort]);
  }, 120_000);

  afterAll(async () => {
    tcpdump?.kill('SIGKILL');
    hole?.close();
    await unbound?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('captured every query and response, as tshark sees them', () => {
    expect(holeSeen.length).toBe(BLACKHOLED.length);
    expect(sharks.length).toBe(2 * ANSWERED.length + BLACKHOLED.length);
    expect(sharks.filter((s) => s.dnsTime !== null).length).toBe(ANSWERED.length);
  });

  for (const timeout of ['5s', '500ms']) {
    it(`--matchTimeout ${timeout}: response times within 1 ms of dns.time, black-holed queries unanswered`, async () => {
      const { events, summary } = await runCli(file, [unbound!.port, holePort], ['--matchTimeout', timeout]);
      expect(events.length).toBe(sharks.length);
      const byKey = new Map(events.map((e) => [eventKey(e), e]));
      expect(byKey.size).toBe(events.length);
      for (const s of sharks) {
        const e = byKey.get(eventKey(s));
        expect(e, eventKey(s)).toBeDefined();
        if (s.qr) {
          expect(s.dnsTime).not.toBeNull();
          expect(e!.responseTimeUs).not.toBeNull();
          expect(Math.abs(e!.responseTimeUs! - s.dnsTime! * 1e6), `${e!.qname}: ours ${e!.responseTimeUs} µs, tshark ${s.dnsTime} s`).toBeLessThanOrEqual(1000);
        } else if (s.responseIn !== null) {
          // the answered query carries its pair's figure
          expect(e!.unanswered).toBe(false);
          expect(e!.responseTimeUs).not.toBeNull();
        } else {
          expect(e!.dstPort).toBe(holePort);
          expect(e!.unanswered).toBe(true);
          expect(e!.responseTimeUs).toBeNull();
        }
      }
      const pairs = new Map<string, number[]>();
      for (const e of events) {
        if (e.responseTimeUs === null) continue;
        const k = `${e.qr ? e.dstPort : e.srcPort} ${e.id}`;
        pairs.set(k, [...(pairs.get(k) ?? []), e.responseTimeUs]);
      }
      for (const [k, v] of pairs) expect(v.length === 2 && v[0] === v[1], k).toBe(true);
      expect(events.filter((e) => e.unanswered).map((e) => e.qname).sort()).toEqual(BLACKHOLED);
      expect(summary).toMatch(new RegExp(`answered queries\\s+${ANSWERED.length}\\n`));
      expect(summary).toMatch(new RegExp(`unanswered queries\\s+${BLACKHOLED.length}\\n`));
      expect(summary).toMatch(/orphan responses\s+0\n/);
    }, 60_000);
  }

  it('--matchTimeout 0 turns matching off: no response times, nothing unanswered, no matching lines', async () => {
    const { events, summary } = await runCli(file, [unbound!.port, holePort], ['--matchTimeout', '0']);
    expect(events.length).toBe(sharks.length);
    expect(events.every((e) => e.responseTimeUs === null && !e.unanswered)).toBe(true);
    expect(summary).not.toMatch(/matching/);
  }, 60_000);
});
