// Live capture end to end: dnslens runs tcpdump on lo and on a veth pair into a network
// namespace made here, while real servers answer a bounded load; every query and response must
// arrive, with zero kernel drops, and SIGTERM must flush everything and exit 0.
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFilter, missingCapabilities, tcpdumpArgs } from '../src/inputs/live/capture.js';
import { describeWithPeers, which } from './peers.js';
import { UNBOUND_ZONE, startUnbound, type Resolver } from './resolvers.js';
import { PCAP_DIR } from './data.js';

const execFileP = promisify(execFile);
const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const DATA = PCAP_DIR;

interface Run {
  code: number | null;
  events: Record<string, unknown>[];
  stderr: string;
  logs: Record<string, unknown>[];
}

/** dnslens as a user runs it, stopped with SIGTERM once `load` is done. `ready` is how many
 * interfaces must report "capturing" before the load starts. */
async function capture(args: string[], ready: number, load: () => Promise<void>, wrap: string[] = []): Promise<Run> {
  const argv = [...wrap, process.execPath, MAIN, '--stdoutOutputType', '1', ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  try {
    // Bounded wait for every interface to be capturing (or for the process to give up).
    for (let i = 0; i < 200 && child.exitCode === null && (stderr.match(/"msg":"capturing"/g) ?? []).length < ready; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (child.exitCode === null && ready > 0) {
      await load();
      child.kill('SIGTERM');
    }
    const code = await exited;
    const events = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const logs = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    return { code, events, stderr, logs };
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

/** The 'capture ended' log line of one interface. */
function ended(run: Run, iface: string): Record<string, number> {
  const line = run.logs.find((l) => l.msg === 'capture ended' && l.iface === iface);
  expect(line, `no "capture ended" line for ${iface} in ${run.stderr}`).toBeDefined();
  return line as Record<string, number>;
}

/** One dig per query: exactly one query each (no retries), over UDP unless opts say +tcp. */
async function digs(server: string, port: number, names: string[], opts: string[] = []): Promise<void> {
  for (const name of names) {
    await execFileP('dig', [`@${server}`, '-p', String(port), '+time=2', '+tries=1', '+norec', ...opts, name, 'A'], { timeout: 10_000 });
  }
}

describe('live capture helpers', () => {
  it('builds the tcpdump command line from the options', () => {
    expect(tcpdumpArgs('eth0', { filter: '', ports: [53, 5353], promiscuous: false, bufferMb: 8 })).toEqual([
      '-U', '-w', '-', '-s', '0', '-i', 'eth0', '-B', '8192', '-p', defaultFilter([53, 5353]),
    ]);
    expect(tcpdumpArgs('lo', { filter: 'udp port 1', ports: [53], promiscuous: true, bufferMb: 64 }).slice(-2)).toEqual(['65536', 'udp port 1']);
  });

  it('reads the missing capabilities from CapEff', () => {
    expect(missingCapabilities('CapEff:\t000001fffeffffff\n')).toEqual([]);
    expect(missingCapabilities('CapEff:\t000001fffeffcfff\n')).toEqual(['CAP_NET_RAW', 'CAP_NET_ADMIN']);
    expect(missingCapabilities('CapEff:\t0000000000001000\n')).toEqual(['CAP_NET_RAW']);
  });
});

describeWithPeers('default live filter (tcpdump offline on real captures)', ['tcpdump'], () => {
  // The kernel runs the same BPF program tcpdump applies to a file.
  const count = (file: string, filter: string): number =>
    execFileSync('tcpdump', ['-n', '-r', join(DATA, file), filter], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length;

  it('keeps every IPv4 fragment, including those without ports', () => {
    expect(count('dnscap__frags.pcap', defaultFilter([53]))).toBe(495);
    expect(count('dns-collector__dnsdump_ip4_fragmented+udp.pcap', defaultFilter([53]))).toBe(3);
  });

  it('keeps DNS over UDP and TCP on the given ports only', () => {
    // dnscap__dns.pcap: 41 query/response pairs plus 41 ICMP and 10 ARP frames
    expect(count('dnscap__dns.pcap', defaultFilter([53]))).toBe(82);
    expect(count('dnscap__dns.pcap', defaultFilter([5353]))).toBe(0);
    const tcp = count('dnscap__dnso1tcp.pcap', 'tcp port 53');
    expect(tcp).toBeGreaterThan(0);
    expect(count('dnscap__dnso1tcp.pcap', defaultFilter([53]))).toBe(tcp);
  });
});

describeWithPeers('live capture on lo', ['tcpdump', 'dig', 'dnsperf', 'unbound'], () => {
  let unbound: Resolver;
  let dir: string;
  beforeAll(async () => {
    unbound = await startUnbound();
    dir = mkdtempSync(join(tmpdir(), 'dnslens-live-'));
  });
  afterAll(async () => {
    await unbound?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores every query and response of a bounded dnsperf load, with zero kernel drops; SIGTERM flushes and exits 0', async () => {
    const queries = join(dir, 'queries.txt');
    writeFileSync(queries, [`a.${UNBOUND_ZONE} A`, `a.${UNBOUND_ZONE} AAAA`, `txt.${UNBOUND_ZONE} TXT`, `nope.${UNBOUND_ZONE} A`].join('\n') + '\n');
    let report = '';
    const run = await capture(['--devName', 'lo', '--port', String(unbound.port)], 1, async () => {
      // 4 names x 500 passes = 2,000 queries, at most 5,000 per second
      const r = await execFileP('dnsperf', ['-s', '127.0.0.1', '-p', String(unbound.port), '-d', queries, '-n', '500', '-Q', '5000', '-t', '5'], { timeout: 30_000 });
      report = r.stdout;
    });
    expect(run.code, run.stderr).toBe(0);
    const sent = Number(/Queries sent:\s+(\d+)/.exec(report)?.[1]);
    const completed = Number(/Queries completed:\s+(\d+)/.exec(report)?.[1]);
    expect(sent).toBe(2000);
    const q = run.events.filter((e) => e.dstPort === unbound.port && e.qr === false);
    const r = run.events.filter((e) => e.srcPort === unbound.port && e.qr === true);
    expect(q.length).toBe(sent);
    expect(r.length).toBe(completed);
    expect(run.events.length).toBe(sent + completed);
    expect(run.events.every((e) => e.inputKind === 'live' && e.inputName === 'lo')).toBe(true);
    const lo = ended(run, 'lo');
    expect(lo.kernelDrops).toBe(0);
    expect(lo.read).toBe(lo.captured);
    expect(lo.read).toBe(sent + completed);
    expect(run.stderr).toMatch(/kernel:lo +0\n/); // the summary shows the drop count
  });

  it('applies --filter in the kernel (only the queries), and exits 0 on SIGTERM', async () => {
    const names = Array.from({ length: 10 }, (_, i) => (i % 2 ? `a.${UNBOUND_ZONE}` : `n${i}.${UNBOUND_ZONE}`));
    const run = await capture(['--devName', 'lo', '--port', String(unbound.port), '--filter', `udp and dst port ${unbound.port}`], 1, () =>
      digs('127.0.0.1', unbound.port, names),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.events.length).toBe(10);
    expect(run.events.every((e) => e.qr === false)).toBe(true);
    expect(ended(run, 'lo').captured).toBe(10);
  });

  it('captures DNS over TCP (the default filter keeps TCP on the DNS ports)', async () => {
    const run = await capture(['--devName', 'lo', '--port', String(unbound.port)], 1, () =>
      digs('127.0.0.1', unbound.port, [`a.${UNBOUND_ZONE}`, `txt.${UNBOUND_ZONE}`, `nope.${UNBOUND_ZONE}`], ['+tcp']),
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.events.length).toBe(6);
    expect(run.events.every((e) => e.transport === 'tcp')).toBe(true);
    expect(run.events.filter((e) => e.qr === true).map((e) => e.qname).sort()).toEqual([`a.${UNBOUND_ZONE}`, `nope.${UNBOUND_ZONE}`, `txt.${UNBOUND_ZONE}`]);
    expect(ended(run, 'lo').kernelDrops).toBe(0);
  });

  it('exits 0 on SIGTERM when nothing was captured, with --noPromiscuous', async () => {
    const run = await capture(['--devName', 'lo', '--port', String(unbound.port), '--noPromiscuous'], 1, async () => undefined);
    expect(run.code, run.stderr).toBe(0);
    expect(run.events).toEqual([]);
    expect(run.stderr).toMatch(/packets read +0/);
  });
});

describeWithPeers('live capture errors', ['tcpdump'], () => {
  it('flushes and exits 1 naming tcpdump when the capture dies under it', async () => {
    const argv = [MAIN, '--devName', 'lo', '--port', '9', '--stdoutOutputType', '1'];
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.resume();
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      for (let i = 0; i < 200 && child.exitCode === null && !stderr.includes('"msg":"capturing"'); i++) await new Promise((r) => setTimeout(r, 50));
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      expect(kids.length).toBe(1);
      process.kill(kids[0], 'SIGKILL'); // our own tcpdump child, by its id
      expect(await closed).toBe(1);
      expect(stderr).toMatch(/dnslens: tcpdump on lo stopped \(SIGKILL\)/);
      expect(stderr).toMatch(/dnslens summary/);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('names an unknown interface and lists the real ones (exit 2)', async () => {
    const r = spawnSync(process.execPath, [MAIN, '--devName', 'nosuch0', '--stdoutOutputType', '1'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--devName: no such network interface: nosuch0 \(interfaces here: .*\blo\b/);
    expect(r.stdout).toBe('');
  });

  it('says when --filter is not tcpdump syntax (exit 2)', async () => {
    const r = spawnSync(process.execPath, [MAIN, '--devName', 'lo', '--filter', 'udp prt 53', '--stdoutOutputType', '1'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--filter: not a filter tcpdump can compile: .*syntax error/);
  });
});

// Without the capabilities, even root cannot capture: drop them from the bounding set.
const dropCaps: string[] | null = which('capsh')
  ? [which('capsh')!, '--drop=cap_net_raw,cap_net_admin', '--', '-c', 'exec "$0" "$@"']
  : which('setpriv')
    ? [which('setpriv')!, '--bounding-set', '-net_raw,-net_admin', '--inh-caps', '-net_raw,-net_admin']
    : null;

describeWithPeers('live capture without CAP_NET_RAW', ['tcpdump', dropCaps ? 'true' : 'capsh'], () => {
  it('says which capability is missing and how to grant it (exit 1)', async () => {
    const run = await capture(['--devName', 'lo'], 0, async () => undefined, dropCaps!);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot capture on lo: this process lacks CAP_NET_RAW and CAP_NET_ADMIN/);
    expect(run.stderr).toMatch(/setcap cap_net_raw,cap_net_admin\+eip \S*tcpdump/);
  });
}, { root: true });

// ---------------------------------------------------------------- network namespace

const NS = `dnslens-test-${process.pid}`;
const HOST_IF = `dlh${process.pid % 100000}`; // interface names have at most 15 bytes
const NS_IF = `dln${process.pid % 100000}`;
const SUBNET = 1 + (process.pid % 250); // 198.18.SUBNET.0/30, the benchmarking range (RFC 2544)
const HOST4 = `198.18.${SUBNET}.1`;
const NS4 = `198.18.${SUBNET}.2`;
const NS6 = `fd53:${SUBNET.toString(16)}::2`;
const HOST6 = `fd53:${SUBNET.toString(16)}::1`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

describeWithPeers('live capture on a veth pair into a network namespace', ['tcpdump', 'dig', 'dnsmasq', 'ip'], () => {
  let dnsmasq: ChildProcess | null = null;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-netns-'));
    ip('netns', 'add', NS);
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
    ip('link', 'set', NS_IF, 'netns', NS);
    // A small MTU, so a 3,000-byte datagram crosses in fragments.
    ip('link', 'set', HOST_IF, 'mtu', '1280', 'up');
    ip('addr', 'add', `${HOST4}/30`, 'dev', HOST_IF);
    ip('-6', 'addr', 'add', `${HOST6}/64`, 'dev', HOST_IF, 'nodad');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'mtu', '1280', 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${NS4}/30`, 'dev', NS_IF);
    ip('netns', 'exec', NS, 'ip', '-6', 'addr', 'add', `${NS6}/64`, 'dev', NS_IF, 'nodad');
    const conf = [
      'port=53',
      `listen-address=${NS4}`,
      'bind-interfaces',
      'no-resolv',
      'no-hosts',
      'no-poll',
      'keep-in-foreground',
      'user=root',
      `pid-file=${join(dir, 'dnsmasq.pid')}`,
      'local=/ns.test/',
      'address=/v.ns.test/192.0.2.99',
    ];
    writeFileSync(join(dir, 'dnsmasq.conf'), conf.join('\n') + '\n');
    dnsmasq = spawn('ip', ['netns', 'exec', NS, which('dnsmasq')!, `--conf-file=${join(dir, 'dnsmasq.conf')}`], { stdio: 'ignore' });
    for (let i = 0; i < 50; i++) {
      try {
        const { stdout } = await execFileP('dig', [`@${NS4}`, '+time=1', '+tries=1', '+short', 'v.ns.test', 'A'], { timeout: 5000 });
        if (stdout.trim() === '192.0.2.99') return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`dnsmasq in ${NS} did not answer`);
  });
  afterAll(async () => {
    if (dnsmasq && dnsmasq.exitCode === null) {
      const gone = new Promise((r) => dnsmasq!.once('exit', r));
      dnsmasq.kill('SIGTERM');
      await gone;
    }
    // Deleting the namespace deletes its end of the pair, and so the pair.
    spawnSync('ip', ['netns', 'del', NS]);
    spawnSync('ip', ['link', 'del', HOST_IF], { stdio: 'ignore' });
    if (dir) rmSync(dir, { recursive: true, force: true });
    // The CapEff parser must agree with this process (root in CI).
    expect(missingCapabilities(readFileSync('/proc/self/status', 'utf8'))).toEqual([]);
  });

  /** One UDP datagram of 3,000 bytes to port 53: three fragments at MTU 1280. Its header says
   * "response" (QR set), so the server ignores it. */
  async function bigDatagram(to: string, family: 'udp4' | 'udp6'): Promise<void> {
    const s = createSocket(family);
    await new Promise<void>((resolve, reject) => s.send(Buffer.alloc(3000, 0x80), 53, to, (e) => (e ? reject(e) : resolve())));
    s.close();
  }

  it('captures queries and responses on the host veth, and IPv4 and IPv6 fragments', async () => {
    const names = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? `nx${i}.ns.test` : 'v.ns.test'));
    const run = await capture(['--devName', HOST_IF], 1, async () => {
      await digs(NS4, 53, names);
      await bigDatagram(NS4, 'udp4');
      await bigDatagram(NS6, 'udp6');
    });
    expect(run.code, run.stderr).toBe(0);
    const dns = run.events.filter((e) => e.inputName === HOST_IF && (e.srcPort === 53 || e.dstPort === 53) && e.qname !== undefined);
    expect(dns.filter((e) => e.qr === false && e.srcIp === HOST4).length).toBe(20);
    expect(dns.filter((e) => e.qr === true && e.srcIp === NS4).length).toBe(20);
    const veth = ended(run, HOST_IF);
    expect(veth.kernelDrops).toBe(0);
    // 40 DNS messages and 3 + 3 fragments reach the capture; nothing else passes the filter.
    expect(veth.captured).toBe(46);
    expect(veth.read).toBe(46);
  });

  it('captures two interfaces in one process (lo and the veth), each event named by its interface', async () => {
    let unbound: Resolver | null = null;
    try {
      unbound = await startUnbound();
      const port = unbound.port;
      const run = await capture(['--devName', `lo,${HOST_IF}`, '--port', `53,${port}`], 2, async () => {
        await digs(NS4, 53, ['v.ns.test', 'v.ns.test', 'v.ns.test']);
        await digs('127.0.0.1', port, [`a.${UNBOUND_ZONE}`, `a.${UNBOUND_ZONE}`]);
      });
      expect(run.code, run.stderr).toBe(0);
      const byIface = (name: string) => run.events.filter((e) => e.inputName === name && e.inputKind === 'live');
      expect(byIface(HOST_IF).length).toBe(6);
      expect(byIface('lo').filter((e) => e.srcPort === port || e.dstPort === port).length).toBe(4);
      expect(ended(run, 'lo').kernelDrops).toBe(0);
      expect(ended(run, HOST_IF).kernelDrops).toBe(0);
      // repeated flags mean the same
      const again = await capture(['--devName', 'lo', '--devName', HOST_IF, '--port', '53'], 2, () => digs(NS4, 53, ['v.ns.test']));
      expect(again.code, again.stderr).toBe(0);
      expect(again.events.filter((e) => e.inputName === HOST_IF).length).toBe(2);
    } finally {
      await unbound?.stop();
    }
  });
}, { root: true });

describeWithPeers('live capture as an unprivileged user', ['tcpdump', 'dig', 'unbound', 'setcap', 'setpriv'], () => {
  let unbound: Resolver;
  let dir = '';
  beforeAll(async () => {
    unbound = await startUnbound();
    // A copy of tcpdump with the file capabilities, first on the user's PATH.
    dir = mkdtempSync(join(tmpdir(), 'dnslens-setcap-'));
    chmodSync(dir, 0o755);
    copyFileSync(which('tcpdump')!, join(dir, 'tcpdump'));
    execFileSync(which('setcap')!, ['cap_net_raw,cap_net_admin+eip', join(dir, 'tcpdump')]);
  });
  afterAll(async () => {
    await unbound?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('captures as nobody when tcpdump has cap_net_raw,cap_net_admin+eip', async () => {
    const asNobody = [which('setpriv')!, '--reuid=65534', '--regid=65534', '--clear-groups', 'env', `PATH=${dir}:/usr/bin:/bin`];
    const run = await capture(['--devName', 'lo', '--port', String(unbound.port)], 1, () => digs('127.0.0.1', unbound.port, [`a.${UNBOUND_ZONE}`, `a.${UNBOUND_ZONE}`]), asNobody);
    expect(run.code, run.stderr).toBe(0);
    expect(run.events.length).toBe(4);
    expect(ended(run, 'lo').kernelDrops).toBe(0);
  });
}, { root: true });
