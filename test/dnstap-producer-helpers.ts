// Helpers for the tests that run real dnstap producers (test/dnstap-producers.test.ts): temp dirs,
// servers started as children (and killed however the test ends), a local authoritative Unbound
// to forward to, a bounded set of dig questions, and the check that every dnstap message of those
// questions arrived once with its type, identity, addresses, ports, transport and rcode.
// Everything stays on 127.0.0.1 and ::1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import type { CliRun } from './dnstap-helpers.js';
import { which } from './peers.js';
import { freePort, unboundServer } from './resolvers.js';

const execFileP = promisify(execFile);
const dirs: string[] = [];
const children = new Set<ChildProcess>();

process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Kills every server still running and removes the temp dirs (the test file's afterAll). */
export function cleanup(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `dnslens-dnstap-${tag}-`));
  dirs.push(d);
  return d;
}

/** An absolute path for a command that describeWithPeers already found. */
export function bin(cmd: string): string {
  const p = which(cmd);
  if (!p) throw new Error(`${cmd} not found`);
  return p;
}

export interface Asked {
  qname: string;
  server: '127.0.0.1' | '::1';
  transport: 'udp' | 'tcp';
  rcode: number;
}

/** n questions with unique names: 1 in 10 over TCP, 1 in 10 to ::1, every other one NXDOMAIN. */
export function questions(zone: string, n: number): Asked[] {
  const out: Asked[] = [];
  for (let i = 0; i < n; i++) {
    const exists = i % 2 === 0;
    out.push({
      qname: exists ? `q${i}.w.${zone}` : `q${i}.nx.${zone}`,
      server: i % 10 === 8 ? '::1' : '127.0.0.1',
      transport: i % 10 === 9 ? 'tcp' : 'udp',
      rcode: exists ? 0 : 3,
    });
  }
  return out;
}

/** dig in batch mode (-f), one line per question; one run per transport (dig applies +tcp
 * only from its command line, not from batch lines). Every question must get an answer. */
export async function ask(port: number, list: Asked[], dir: string): Promise<void> {
  for (const transport of ['udp', 'tcp'] as const) {
    const mine = list.filter((q) => q.transport === transport);
    const file = join(dir, `batch-${transport}.txt`);
    writeFileSync(file, mine.map((q) => `@${q.server} -p ${port} ${q.qname} A`).join('\n') + '\n');
    const args = ['+tries=1', '+time=3', ...(transport === 'tcp' ? ['+tcp'] : []), '-f', file];
    const { stdout } = await execFileP('dig', args, { timeout: 60_000 });
    expect(stdout.match(/->>HEADER<<-/g)?.length).toBe(mine.length);
    expect(stdout.match(new RegExp(`\\(${transport.toUpperCase()}\\)`, 'g'))?.length).toBe(mine.length);
  }
}

/** Bounded readiness probe (50 one-second digs, 100 ms apart) for `probe.w.ZONE`, without RD. Any
 * answer counts, even REFUSED: the server is up. */
export async function waitAnswering(port: number, zone: string, server: Server): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(`${server.name} exited (${server.child.exitCode ?? server.child.signalCode}): ${server.log()}`);
    }
    try {
      const { stdout } = await execFileP('dig', ['@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', '+norec', `probe.w.${zone}`, 'A'], { timeout: 5000 });
      if (stdout.includes('->>HEADER<<-')) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${server.name} did not answer on port ${port}: ${server.log()}`);
}

export interface Server {
  name: string;
  child: ChildProcess;
  log: () => string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process is gone. */
  stop: () => Promise<void>;
}

/** Starts a server in the foreground in dir (its working directory), keeping its output. */
export function start(name: string, binPath: string, args: string[], dir: string): Server {
  const child = spawn(binPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (b: Buffer) => {
    if (out.length < 20_000) out += b.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (e) => keep(Buffer.from(`spawn error: ${e.message}\n`)));
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  return {
    name,
    child,
    log: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      children.delete(child);
    },
  };
}

/** The zone every producer serves or forwards to: `*.w.ZONE` answers 192.0.2.99, anything
 * else below `ZONE` is NXDOMAIN. */
export function zoneFile(zone: string): string {
  return [
    `$ORIGIN ${zone}.`,
    '$TTL 300',
    `@ IN SOA ns1 hostmaster 1 3600 600 86400 300`,
    '@ IN NS ns1',
    'ns1 IN A 192.0.2.60',
    '*.w IN A 192.0.2.99',
  ].join('\n') + '\n';
}

/** Unbound's configuration (server: ... auth-zone:) answering zone from dir/file, which it
 *  writes, and refusing everything else. */
export function unboundAuthZone(dir: string, port: number, zone: string, file: string): string[] {
  writeFileSync(join(dir, file), zoneFile(zone));
  return [
    ...unboundServer(dir, port),
    '  local-zone: "." refuse',
    `  local-zone: "${zone}." transparent`,
    'auth-zone:',
    `  name: "${zone}."`,
    `  zonefile: "${join(dir, file)}"`,
    '  for-downstream: yes',
    '  for-upstream: yes',
  ];
}

/** An Unbound authoritative for zone (an auth-zone answered to clients, AA), refusing everything
 * else, on 127.0.0.1 and ::1 at a free port: the upstream of the forwarders under test. No dnstap. */
export async function startAuthUnbound(dir: string, zone: string): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const conf = unboundAuthZone(dir, port, zone, 'auth.zone');
  writeFileSync(join(dir, 'auth-unbound.conf'), conf.join('\n') + '\n');
  const server = start('unbound (upstream)', bin('unbound'), ['-d', '-c', join(dir, 'auth-unbound.conf')], dir);
  try {
    await waitAnswering(port, zone, server);
  } catch (e) {
    await server.stop();
    throw e;
  }
  return { port, server };
}

/** A dnslens collector on a TCP port the kernel chose, with --useDnstapIdentity: the port. */
export async function tcpTapPort(cli: CliRun): Promise<number> {
  await cli.waitForLog('dnstap: listening', 20_000);
  const port = Number(/"address":"tcp:\/\/127\.0\.0\.1:(\d+)"/.exec(cli.stderr())?.[1]);
  expect(port).toBeGreaterThan(0);
  return port;
}

/** Resolves once every question has its query and its response (bounded). */
export function waitAll(cli: CliRun, asked: Asked[], ms = 20_000): Promise<void> {
  return cli.waitFor((ev) => asked.every((q) => ev.filter((e) => e.qname === q.qname).length >= 2), ms, 'every query and response');
}

/** Where the dnstap messages of a question say it went: the producer logs the client's question
 * (CLIENT_* or AUTH_*, at the address dig asked) or its own question upstream (RESOLVER_*). */
export interface Expected {
  queryType: string;
  responseType: string;
  identity: string;
  /** Address, port and transport the query went to, and the address it came from. */
  path: (q: Asked) => { transport: 'udp' | 'tcp'; from: string; to: string; toPort: number };
  /** Checks of what only this producer does (flags it sets, ...). */
  also?: (query: DnsEvent, response: DnsEvent, q: Asked) => void;
}

/** Every question exactly once as a query and once as a response, with the right fields; nothing
 * else but readiness probes. */
export function checkEvents(events: DnsEvent[], asked: Asked[], want: Expected): void {
  for (const q of asked) {
    const mine = events.filter((e) => e.qname === q.qname);
    const query = mine.filter((e) => e.messageType === want.queryType);
    const response = mine.filter((e) => e.messageType === want.responseType);
    expect(query, `${q.qname} ${JSON.stringify(mine)}`).toHaveLength(1);
    expect(response, `${q.qname} ${JSON.stringify(mine)}`).toHaveLength(1);
    expect(mine).toHaveLength(2);
    const [qe] = query;
    const [re] = response;
    const p = want.path(q);
    for (const e of [qe, re]) {
      expect(e.inputKind).toBe('dnstap');
      expect(e.server).toBe(want.identity); // --useDnstapIdentity
      expect(e.transport, q.qname).toBe(p.transport);
      expect(e.ipVersion).toBe(p.to.includes(':') ? 6 : 4);
      expect(e.qtype).toBe(1);
      expect(e.qclass).toBe(1);
    }
    expect(qe.qr).toBe(false);
    expect(qe.srcIp).toBe(p.from);
    expect(qe.dstIp).toBe(p.to);
    expect(qe.dstPort).toBe(p.toPort);
    expect(qe.srcPort).toBeGreaterThan(0);
    expect(re.qr).toBe(true);
    expect(re.srcIp).toBe(p.to);
    expect(re.dstIp).toBe(p.from);
    expect(re.srcPort).toBe(p.toPort);
    expect(re.dstPort).toBe(qe.srcPort);
    expect(re.id).toBe(qe.id);
    expect(re.rcode, q.qname).toBe(q.rcode);
    if (q.rcode === 0) {
      expect(re.answers.map((a) => a.data)).toEqual(['192.0.2.99']);
    } else {
      expect(re.answers).toHaveLength(0);
      expect(re.nsCount).toBe(1); // the SOA
    }
    expect(typeof re.responseTimeUs).toBe('number');
    expect(re.responseTimeUs as number).toBeGreaterThanOrEqual(0);
    expect(re.responseTimeUs as number).toBeLessThan(10_000_000);
    const t = (e: DnsEvent) => (e as unknown as { time: string }).time;
    expect(t(re) >= t(qe), `${t(re)} after ${t(qe)}`).toBe(true);
    want.also?.(qe, re, q);
  }
  const others = events.filter((e) => !asked.some((q) => q.qname === e.qname));
  expect(others.filter((e) => !e.qname.startsWith('probe.')), 'only probes besides the questions').toEqual([]);
  expect(events.length - others.length).toBe(2 * asked.length);
}
