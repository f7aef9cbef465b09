// Real producers: Debian's BIND 9 (dnstap to a unix socket) and Unbound (dnstap over TCP) send
// to a dnslens listener while dig asks each of them a bounded set of questions; every query and
// every response must arrive with its type, addresses, ports, transport and a latency.
// Both Debian builds have dnstap compiled in (`named -V` shows --enable-dnstap, `unbound -V` too).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { describeWithPeers, which } from './peers.js';
import { freePort, unboundServer } from './resolvers.js';
import { runCli } from './dnstap-helpers.js';

const execFileP = promisify(execFile);
const QUERIES = 50;
const dirs: string[] = [];
const children = new Set<ChildProcess>();

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `dnslens-dnstap-${tag}-`));
  dirs.push(d);
  return d;
}

interface Asked {
  qname: string;
  server: '127.0.0.1' | '::1';
  transport: 'udp' | 'tcp';
  rcode: number;
}

/** The questions: unique names, 1 in 10 over TCP, 1 in 10 to ::1, every other one NXDOMAIN. */
function questions(zone: string): Asked[] {
  const out: Asked[] = [];
  for (let i = 0; i < QUERIES; i++) {
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
 * only from its command line, not from batch lines). */
async function ask(port: number, list: Asked[], dir: string): Promise<void> {
  for (const transport of ['udp', 'tcp'] as const) {
    const mine = list.filter((q) => q.transport === transport);
    const file = join(dir, `batch-${transport}.txt`);
    writeFileSync(file, mine.map((q) => `@${q.server} -p ${port} ${q.qname} A`).join('\n') + '\n');
    const args = ['+tries=1', '+time=3', ...(transport === 'tcp' ? ['+tcp'] : []), '-f', file];
    const { stdout } = await execFileP('dig', args, { timeout: 60_000 });
    // dig prints one ->>HEADER<<- per answer it got: every question must have been answered.
    expect(stdout.match(/->>HEADER<<-/g)?.length).toBe(mine.length);
    expect(stdout.match(new RegExp(`\\(${transport.toUpperCase()}\\)`, 'g'))?.length).toBe(mine.length);
  }
}

async function waitAnswering(port: number, name: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${log()}`);
    try {
      const { stdout } = await execFileP('dig', ['@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', '+norec', `probe.w.${name}.test`, 'A'], { timeout: 5000 });
      if (stdout.includes('->>HEADER<<-')) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer: ${log()}`);
}

function start(bin: string, args: string[]): { child: ChildProcess; log: () => string; stop: () => Promise<void> } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const keep = (b: Buffer) => {
    if (out.length < 20_000) out += b.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
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

/** Every question once as a CLIENT_QUERY and once as a CLIENT_RESPONSE, with the right fields. */
function checkEvents(events: DnsEvent[], asked: Asked[], port: number, identity: string): void {
  for (const q of asked) {
    const mine = events.filter((e) => e.qname === q.qname);
    const query = mine.filter((e) => e.messageType === 'CLIENT_QUERY');
    const response = mine.filter((e) => e.messageType === 'CLIENT_RESPONSE');
    expect(query, q.qname).toHaveLength(1);
    expect(response, q.qname).toHaveLength(1);
    const [qe] = query;
    const [re] = response;
    for (const e of [qe, re]) {
      expect(e.inputKind).toBe('dnstap');
      expect(e.server).toBe(identity); // --useDnstapIdentity
      expect(e.transport).toBe(q.transport);
      expect(e.ipVersion).toBe(q.server === '::1' ? 6 : 4);
      expect(e.srcIp).toBe(q.server);
      expect(e.dstIp).toBe(q.server);
      expect(e.qtype).toBe(1);
    }
    expect(qe.qr).toBe(false);
    expect(qe.dstPort).toBe(port);
    expect(re.qr).toBe(true);
    expect(re.srcPort).toBe(port);
    expect(re.dstPort).toBe(qe.srcPort);
    expect(re.id).toBe(qe.id);
    expect(re.rcode).toBe(q.rcode);
    if (q.rcode === 0) expect(re.answers[0]?.data).toBe('192.0.2.99');
    // The response carries its query's time: latency straight from the producer.
    expect(typeof re.responseTimeUs).toBe('number');
    expect(re.responseTimeUs as number).toBeGreaterThanOrEqual(0);
    expect(re.responseTimeUs as number).toBeLessThan(10_000_000);
    // JSON lines carry RFC 3339 times with nanoseconds: same width, so text order is time order.
    const t = (e: DnsEvent) => (e as unknown as { time: string }).time;
    expect(t(re) >= t(qe), `${t(re)} after ${t(qe)}`).toBe(true);
  }
  // Nothing else arrived but the readiness probes (Unbound logs them; BIND does not log +norec queries).
  const others = events.filter((e) => !asked.some((q) => q.qname === e.qname));
  expect(others.every((e) => e.qname.startsWith('probe.'))).toBe(true);
  expect(events.length - others.length).toBe(2 * asked.length);
}

function zoneFile(zone: string): string {
  return [
    `$ORIGIN ${zone}.`,
    '$TTL 300',
    `@ IN SOA ns1 hostmaster 1 3600 600 86400 300`,
    '@ IN NS ns1',
    'ns1 IN A 192.0.2.60',
    '*.w IN A 192.0.2.99',
  ].join('\n') + '\n';
}

describeWithPeers('dnstap from BIND 9 over a unix socket', ['named', 'dig'], () => {
  it('delivers every client query and response of 50 dig questions', async () => {
    const dir = tempDir('named');
    const sock = join(dir, 'dnstap.sock');
    const port = await freePort();
    const zone = 'bd.test';
    const cli = runCli(['--dnstapSocket', `unix://${sock}`, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', '--useDnstapIdentity']);
    await cli.waitForLog('dnstap: listening', 20_000);
    writeFileSync(join(dir, 'zone.db'), zoneFile(zone));
    writeFileSync(
      join(dir, 'named.conf'),
      [
        'options {',
        `  directory "${dir}";`,
        `  pid-file "${join(dir, 'named.pid')}";`,
        `  session-keyfile "${join(dir, 'session.key')}";`,
        `  managed-keys-directory "${dir}";`,
        `  listen-on port ${port} { 127.0.0.1; };`,
        `  listen-on-v6 port ${port} { ::1; };`,
        // BIND reports queries with RD as CLIENT_QUERY only when it offers recursion; it only
        // ever answers from its own zone here (no forwarders, no root hints reachable).
        '  recursion yes;',
        '  allow-recursion { 127.0.0.1; ::1; };',
        '  dnssec-validation no;',
        '  notify no;',
        '  dnstap { client; resolver; };',
        `  dnstap-output unix "${sock}";`,
        '  dnstap-identity "bind-test";',
        '};',
        'controls { };',
        `zone "${zone}" { type primary; file "${join(dir, 'zone.db')}"; };`,
      ].join('\n') + '\n',
    );
    const named = start(which('named') as string, ['-f', '-c', join(dir, 'named.conf')]);
    try {
      await waitAnswering(port, 'bd', named.child, named.log);
      const asked = questions(zone);
      await ask(port, asked, dir);
      // named flushes its dnstap buffer about once a second.
      await cli.waitFor((ev) => asked.every((q) => ev.filter((e) => e.qname === q.qname).length >= 2), 20_000, 'every query and response');
    } finally {
      await named.stop();
    }
    const code = await cli.stop('SIGTERM');
    expect(code).toBe(0);
    checkEvents(cli.events, questions(zone), port, 'bind-test');
    expect(cli.stderr()).toMatch(/malformed\s+0\n/);
  });
});

describeWithPeers('dnstap from Unbound over TCP', ['unbound', 'dig'], () => {
  it('delivers every client query and response of 50 dig questions', async () => {
    const dir = tempDir('unbound');
    const port = await freePort();
    const zone = 'ub.test';
    const cli = runCli(['--dnstapSocket', 'tcp://127.0.0.1:0', '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', '--useDnstapIdentity']);
    await cli.waitForLog('dnstap: listening', 20_000);
    const tapPort = Number(/"address":"tcp:\/\/127\.0\.0\.1:(\d+)"/.exec(cli.stderr())?.[1]);
    expect(tapPort).toBeGreaterThan(0);
    writeFileSync(join(dir, 'zone.db'), zoneFile(zone));
    const conf = [
      ...unboundServer(dir, port),
      '  local-zone: "." refuse',
      `  local-zone: "${zone}." transparent`,
      'auth-zone:',
      `  name: "${zone}."`,
      `  zonefile: "${join(dir, 'zone.db')}"`,
      '  for-downstream: yes',
      '  for-upstream: yes',
      'dnstap:',
      '  dnstap-enable: yes',
      `  dnstap-ip: 127.0.0.1@${tapPort}`,
      '  dnstap-tls: no',
      '  dnstap-send-identity: yes',
      '  dnstap-identity: "unbound-test"',
      '  dnstap-log-client-query-messages: yes',
      '  dnstap-log-client-response-messages: yes',
    ];
    writeFileSync(join(dir, 'unbound.conf'), conf.join('\n') + '\n');
    const unbound = start(which('unbound') as string, ['-d', '-c', join(dir, 'unbound.conf')]);
    try {
      await waitAnswering(port, 'ub', unbound.child, unbound.log);
      const asked = questions(zone);
      await ask(port, asked, dir);
      await cli.waitFor((ev) => asked.every((q) => ev.filter((e) => e.qname === q.qname).length >= 2), 20_000, 'every query and response');
    } finally {
      await unbound.stop();
    }
    const code = await cli.stop('SIGINT');
    expect(code).toBe(0);
    checkEvents(cli.events, questions(zone), port, 'unbound-test');
    expect(cli.stderr()).toMatch(/malformed\s+0\n/);
  });
});
