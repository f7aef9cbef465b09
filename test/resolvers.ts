// Local DNS servers for capture tests: Unbound and dnsmasq (resolvers) and BIND named
// (authoritative), on 127.0.0.1 and ::1, on a free high port, serving fixed local data only:
// nothing is ever asked of the internet.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { which } from './peers.js';

const execFileP = promisify(execFile);

export interface Resolver {
  name: string;
  port: number;
  queryLog: string; // the server's query log (dnsmasq, named; "" for Unbound); gone after stop()
  stop(): Promise<void>;
}

// Every server started here, so an exit hook can kill what a failed test left behind.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** Unbound's zones. `lz.test` is local-data (NXDOMAIN for unknown names); `az.test` is an
 * auth-zone the iterator resolves, so CNAME chains are followed and answered with RA, not AA. */
export const UNBOUND_ZONE = 'lz.test';
export const UNBOUND_AUTH_ZONE = 'az.test';
/** dnsmasq's local domain (NXDOMAIN for unknown names). */
export const DNSMASQ_ZONE = 'dm.test';
/** named's zone, served authoritatively (AA, no recursion), with NS and glue in every answer. */
export const NAMED_ZONE = 'bd.test';

/** A port free for UDP and TCP on both 127.0.0.1 and ::1, from the kernel's ephemeral range. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const addr = s.address();
        s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const ok = await Promise.all([
      canBind('tcp', '::1', port),
      canBind('udp', '127.0.0.1', port),
      canBind('udp', '::1', port),
    ]);
    if (port > 1024 && ok.every(Boolean)) return port;
  }
  throw new Error('no free port found in 20 attempts');
}

function canBind(proto: 'tcp' | 'udp', host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (proto === 'tcp') {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, host, () => s.close(() => resolve(true)));
      return;
    }
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, host, () => s.close(() => resolve(true)));
  });
}

function sbin(cmd: string): string {
  const p = which(cmd);
  if (!p) throw new Error(`${cmd} not found (install it: see .ci/run)`);
  return p;
}

/** The `server:` lines every test Unbound starts with: in the foreground, in dir, on 127.0.0.1 and
 *  ::1 at port, one thread, answering loopback clients from its own zones only. */
export function unboundServer(dir: string, port: number): string[] {
  return [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    `  interface: ::1@${port}`,
    '  do-daemonize: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    '  use-syslog: no',
    '  logfile: ""',
    '  num-threads: 1',
    '  access-control: 127.0.0.0/8 allow',
    '  access-control: ::1/128 allow',
    '  module-config: "iterator"',
  ];
}

/** Starts Unbound with the local zones above. */
export function startUnbound(): Promise<Resolver> {
  return startOn('unbound', (dir, port) => {
    const L = UNBOUND_ZONE;
    const A = UNBOUND_AUTH_ZONE;
    const data = [
      `${L}. 3600 IN SOA ns.${L}. admin.${L}. 2024010101 3600 600 86400 300`,
      `${L}. 3600 IN NS ns.${L}.`,
      `ns.${L}. 3600 IN A 192.0.2.53`,
      `a.${L}. 300 IN A 192.0.2.1`,
      `a.${L}. 300 IN A 192.0.2.2`,
      `a.${L}. 300 IN AAAA 2001:db8::1`,
      `a.${L}. 300 IN AAAA 2001:db8::2`,
      `${L}. 300 IN MX 10 mail.${L}.`,
      `${L}. 300 IN MX 20 backup-mail.${L}.`,
      `txt.${L}. 300 IN TXT "hello world" "say \\"hi\\"" "semi;colon" "back\\\\slash"`,
      `txt.${L}. 300 IN TXT "v=spf1 -all"`,
      `web.${L}. 300 IN HTTPS 1 . alpn="h2,h3" ipv4hint=192.0.2.1 ipv6hint=2001:db8::1`,
      `svc.${L}. 300 IN SVCB 1 svc-host.${L}. port=8443 alpn=h2`,
      `_sip._udp.${L}. 300 IN SRV 10 20 5060 sip.${L}.`,
      `${L}. 300 IN CAA 0 issue "letsencrypt.org"`,
      `alias.${L}. 300 IN CNAME a.${L}.`,
      // an answer over 512 bytes: truncated over UDP without EDNS, so dig retries over TCP
      `big.${L}. 300 IN TXT ${Array.from({ length: 6 }, (_, i) => `"${String.fromCharCode(97 + i).repeat(200)}"`).join(' ')}`,
    ];
    const conf = [
      ...unboundServer(dir, port),
      '  verbosity: 0',
      '  so-reuseport: no',
      '  qname-minimisation: no',
      // Everything outside the test zones is refused: no root hints, no internet.
      '  local-zone: "." refuse',
      `  local-zone: "${L}." static`,
      ...data.map((rr) => `  local-data: '${rr}'`),
      `  local-data-ptr: "192.0.2.1 a.${L}."`,
      `  local-zone: "${A}." transparent`,
      'auth-zone:',
      `  name: "${A}."`,
      `  zonefile: "${join(dir, 'az.zone')}"`,
      '  for-upstream: yes',
      '  for-downstream: no',
      '  fallback-enabled: no',
    ];
    const zone = [
      `$ORIGIN ${A}.`,
      '$TTL 600',
      `@ IN SOA ns.${A}. admin.${A}. 7 3600 600 86400 120`,
      '@ IN NS ns',
      'ns IN A 192.0.2.54',
      'c1 IN CNAME c2',
      'c2 IN CNAME c3',
      'c3 IN CNAME target',
      'target 120 IN A 192.0.2.77',
      'target 120 IN AAAA 2001:db8::77',
    ];
    writeFileSync(join(dir, 'unbound.conf'), conf.join('\n') + '\n');
    writeFileSync(join(dir, 'az.zone'), zone.join('\n') + '\n');
    return { bin: sbin('unbound'), args: ['-d', '-c', join(dir, 'unbound.conf')], probe: `a.${L}`, queryLog: '' };
  });
}

/** dnsmasq's configuration shared by the tests' instances: loopback only, no upstream, no
 *  /etc/hosts, its query log in dir, and the records of DNSMASQ_ZONE. */
function dnsmasqConf(dir: string, port: number, logQueries: string): string[] {
  const D = DNSMASQ_ZONE;
  // HTTPS "1 . alpn=h2 ipv4hint=192.0.2.1" as raw rdata: dnsmasq has no HTTPS syntax.
  const https = '0001' + '00' + '0001' + '0003' + '026832' + '0004' + '0004' + 'c0000201';
  return [
    `port=${port}`,
    'listen-address=127.0.0.1',
    'listen-address=::1',
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'keep-in-foreground',
    `log-facility=${join(dir, 'query.log')}`,
    logQueries,
    'user=root',
    `pid-file=${join(dir, 'dnsmasq.pid')}`,
    `local=/${D}/`,
    `address=/addr.${D}/192.0.2.10`,
    `address=/addr.${D}/2001:db8::10`,
    `host-record=host.${D},192.0.2.11,2001:db8::11`,
    `cname=alias.${D},alias2.${D}`,
    `cname=alias2.${D},host.${D}`,
    `txt-record=txt.${D},"hello world","say \\"hi\\"","a;b"`,
    `srv-host=_sip._udp.${D},sip.${D},5060,10,20`,
    `mx-host=${D},mail.${D},10`,
    `ptr-record=11.2.0.192.in-addr.arpa,host.${D}`,
    `dns-rr=web.${D},65,${https}`,
  ];
}

/** Starts dnsmasq (no upstream, no /etc/hosts) with records in DNSMASQ_ZONE. */
export function startDnsmasq(): Promise<Resolver> {
  return startOn('dnsmasq', (dir, port) => {
    const D = DNSMASQ_ZONE;
    const conf = [...dnsmasqConf(dir, port, 'log-queries'), `caa-record=${D},0,issue,letsencrypt.org`];
    writeFileSync(join(dir, 'dnsmasq.conf'), conf.join('\n') + '\n');
    return { bin: sbin('dnsmasq'), args: [`--conf-file=${join(dir, 'dnsmasq.conf')}`], probe: `host.${D}`, queryLog: join(dir, 'query.log') };
  });
}

/** The start of named.conf's options block: files in dir, listening on port at 127.0.0.1 and ::1. */
export function namedOptions(dir: string, port: number): string[] {
  return [
    'options {',
    `  directory "${dir}";`,
    `  pid-file "${join(dir, 'named.pid')}";`,
    `  session-keyfile "${join(dir, 'session.key')}";`,
    `  managed-keys-directory "${dir}";`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    `  listen-on-v6 port ${port} { ::1; };`,
  ];
}

/** Starts named, authoritative for NAMED_ZONE and 2.0.192.in-addr.arpa, logging queries. */
export function startNamed(): Promise<Resolver> {
  return startOn('named', (dir, port) => {
    const Z = NAMED_ZONE;
    const conf = [
      ...namedOptions(dir, port),
      '  recursion no;',
      '  allow-query { any; };',
      '  dnssec-validation no;',
      '  minimal-responses no;', // authority and additional sections filled
      '  querylog yes;',
      '  notify no;',
      '};',
      'controls { };', // no rndc channel
      'logging {',
      `  channel queries_file { file "${join(dir, 'query.log')}"; print-time yes; print-category yes; print-severity yes; };`,
      '  category queries { queries_file; };',
      '  channel errors { stderr; severity warning; };',
      '  category default { errors; };',
      '};',
      ...writeNamedZones(dir),
    ];
    writeFileSync(join(dir, 'named.conf'), conf.join('\n') + '\n');
    return { bin: sbin('named'), args: ['-f', '-c', join(dir, 'named.conf')], probe: `www.${Z}`, queryLog: join(dir, 'query.log') };
  });
}

/** Writes named's zone files for NAMED_ZONE and 2.0.192.in-addr.arpa into dir (names ending in
 *  `suffix`, so that each view has its own) and returns their zone statements. */
function writeNamedZones(dir: string, suffix = ''): string[] {
  const Z = NAMED_ZONE;
  const soa = `@ IN SOA ns1.${Z}. hostmaster.${Z}. 2024010101 3600 600 86400 300`;
  const zone = [
    `$ORIGIN ${Z}.`,
    '$TTL 3600',
    soa,
    '@ IN NS ns1',
    'ns1 IN A 192.0.2.60',
    'ns1 IN AAAA 2001:db8::60',
    'www 300 IN A 192.0.2.61',
    'www 300 IN A 192.0.2.62',
    'www 300 IN AAAA 2001:db8::61',
    '@ IN MX 10 mail',
    'mail IN A 192.0.2.63',
    'txt IN TXT "hello world" "say \\"hi\\"" "tab\\009here"',
    'alias IN CNAME alias2',
    'alias2 IN CNAME www',
    '_imaps._tcp IN SRV 0 1 993 mail',
    '@ IN CAA 0 issue "letsencrypt.org"',
    'web IN HTTPS 1 . alpn="h2,h3" ipv4hint=192.0.2.61',
  ];
  const reverse = ['$ORIGIN 2.0.192.in-addr.arpa.', '$TTL 3600', soa, `@ IN NS ns1.${Z}.`, `61 IN PTR www.${Z}.`];
  writeFileSync(join(dir, `zone${suffix}.db`), zone.join('\n') + '\n');
  writeFileSync(join(dir, `reverse${suffix}.db`), reverse.join('\n') + '\n');
  return [
    `zone "${Z}" { type primary; file "${join(dir, `zone${suffix}.db`)}"; };`,
    `zone "2.0.192.in-addr.arpa" { type primary; file "${join(dir, `reverse${suffix}.db`)}"; };`,
  ];
}

// How to run a server whose config has been written for a given directory and port.
interface Launch {
  bin: string;
  args: string[];
  probe: string; // a name it answers with an A record
  queryLog: string;
}

// Another process may take the port between freePort() and the server's bind: try again.
async function startOn(name: string, configure: (dir: string, port: number) => Launch): Promise<Resolver> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), `dnslens-${name}-`));
    const port = await freePort();
    try {
      return await launch(name, configure(dir, port), dir, port);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      if (attempt >= 3) throw e;
    }
  }
}

async function launch(name: string, how: Launch, dir: string, port: number): Promise<Resolver> {
  const { bin, args, probe, queryLog } = how;
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let output = '';
  const keep = (b: Buffer): void => {
    if (output.length < 20_000) output += b.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    live.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(name, child, port, probe, () => output);
  } catch (e) {
    await stop();
    throw e;
  }
  return { name, port, queryLog, stop };
}

// Bounded readiness probe: up to 50 tries of a one-second dig, 100 ms apart.
async function waitUntilAnswering(name: string, child: ChildProcess, port: number, probe: string, output: () => string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${output()}`);
    }
    try {
      const { stdout } = await execFileP('dig', ['@127.0.0.1', '-p', String(port), '+time=1', '+tries=1', '+short', probe, 'A'], { timeout: 5000 });
      if (stdout.trim() !== '') return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not answer on port ${port}: ${output()}`);
}

// ------------------------------------------------------------- dnsmasq with a fuller query log

/** Names startDnsmasqLogging() answers from its own configuration, besides DNSMASQ_ZONE's. */
export const DNSMASQ_SINKHOLES = {
  blocked: 'blocked.test', // address=/blocked.test/0.0.0.0
  nullRoute: 'null.test', // address=/null.test/# (0.0.0.0 and ::)
  nx: 'nx.test', // address=/nx.test/ (NXDOMAIN)
  hosts: 'hosts.test', // addn-hosts: h1.hosts.test 192.0.2.90, ads.hosts.test 0.0.0.0
} as const;

export interface DnsmasqLogOptions {
  extra?: boolean; // log-queries=extra (serial numbers and client ports) instead of log-queries
  forward?: ReadonlyArray<{ domain: string; port: number }>; // server=/domain/127.0.0.1#port
  conf?: readonly string[]; // more dnsmasq.conf lines
}

/**
 * dnsmasq with the records of startDnsmasq() (local=/dm.test/ and its host-record, cname,
 * txt-record, srv-host, mx-host, ptr-record, dns-rr), sinkholes (DNSMASQ_SINKHOLES), a hosts file,
 * the domains in `forward` sent to an upstream on 127.0.0.1 (e.g. startNamed()'s NAMED_ZONE),
 * and its query log on (log-queries, or log-queries=extra). No /etc/hosts, no resolv.conf: nothing
 * leaves loopback. `queryLog` is gone after stop(): read it before.
 */
export function startDnsmasqLogging(opts: DnsmasqLogOptions = {}): Promise<Resolver> {
  return startOn('dnsmasq', (dir, port) => {
    const D = DNSMASQ_ZONE;
    const S = DNSMASQ_SINKHOLES;
    writeFileSync(join(dir, 'hosts'), `192.0.2.90 h1.${S.hosts}\n0.0.0.0 ads.${S.hosts}\n`);
    const conf = [
      ...dnsmasqConf(dir, port, opts.extra ? 'log-queries=extra' : 'log-queries'),
      `address=/${S.blocked}/0.0.0.0`,
      `address=/${S.nullRoute}/#`,
      `address=/${S.nx}/`,
      `addn-hosts=${join(dir, 'hosts')}`,
      ...(opts.forward ?? []).map((f) => `server=/${f.domain}/127.0.0.1#${f.port}`),
      ...(opts.conf ?? []),
    ];
    writeFileSync(join(dir, 'dnsmasq.conf'), conf.join('\n') + '\n');
    return { bin: sbin('dnsmasq'), args: [`--conf-file=${join(dir, 'dnsmasq.conf')}`], probe: `host.${D}`, queryLog: join(dir, 'query.log') };
  });
}

export interface StubUpstream {
  port: number;
  stop(): Promise<void>;
}

/**
 * A scripted upstream for dnsmasq's forwarded queries (UDP on 127.0.0.1 only), answering by the
 * first label of the name: servfail.* SERVFAIL, refused.* REFUSED, nx.* NXDOMAIN, nodata.* no
 * answer; any other name A 192.0.2.200 or AAAA 2001:db8::200 (other types: no answer), with RA
 * set; a label slowN anywhere in the name delays the answer by N x 100 ms (N up to 9), plus up to
 * 200 ms more at random, so that answers to the same name can overtake each other.
 */
export async function startStubUpstream(): Promise<StubUpstream> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const sock = createSocket('udp4');
    const timers = new Set<NodeJS.Timeout>();
    sock.on('message', (msg, rinfo) => {
      if (msg.length < 17) return;
      let end = 12;
      const labels: string[] = [];
      while (end < msg.length && msg[end] !== 0 && labels.length < 64) {
        labels.push(msg.toString('latin1', end + 1, end + 1 + msg[end]).toLowerCase());
        end += msg[end] + 1;
      }
      end += 5; // root label, type, class
      if (end > msg.length) return;
      const qtype = msg.readUInt16BE(end - 4);
      const first = labels[0] ?? '';
      const rcode = first === 'servfail' ? 2 : first === 'refused' ? 5 : first === 'nx' ? 3 : 0;
      const head = Buffer.from(msg.subarray(0, end));
      head[2] = 0x80 | (msg[2] & 0x01); // QR, RD copied
      head[3] = 0x80 | rcode; // RA
      head.writeUInt16BE(1, 4);
      head.writeUInt16BE(0, 8);
      head.writeUInt16BE(0, 10);
      let reply = head;
      if (rcode === 0 && first !== 'nodata' && (qtype === 1 || qtype === 28)) {
        const rdata = qtype === 1 ? Buffer.from([192, 0, 2, 200]) : Buffer.from('20010db8000000000000000000000200', 'hex');
        const rr = Buffer.concat([Buffer.from([0xc0, 0x0c, 0, qtype, 0, 1, 0, 0, 0, 60, 0, rdata.length]), rdata]);
        reply = Buffer.concat([head, rr]);
        reply.writeUInt16BE(1, 6);
      } else reply.writeUInt16BE(0, 6);
      const slow = labels.find((l) => /^slow[0-9]$/.test(l));
      const delay = slow ? Number(slow[4]) * 100 + Math.floor(Math.random() * 200) : 0;
      const t = setTimeout(() => {
        timers.delete(t);
        sock.send(reply, rinfo.port, rinfo.address);
      }, delay);
      timers.add(t);
    });
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind(port, '127.0.0.1', () => resolve());
      });
    } catch (e) {
      sock.close();
      if (attempt >= 3) throw e;
      continue;
    }
    return {
      port,
      stop: () =>
        new Promise<void>((resolve) => {
          for (const t of timers) clearTimeout(t);
          sock.close(() => resolve());
        }),
    };
  }
}

// ------------------------------------------------------------- named with chosen log channels

/** A zone startNamedLogging()'s named is configured for but cannot load (its file is missing):
 *  its names are answered SERVFAIL, and query-errors logs "query failed (zone not loaded)". */
export const NAMED_BROKEN_ZONE = 'broken.test';

/** The TSIG key startNamedLogging()'s named knows: `dig -y hmac-sha256:NAME:SECRET` signs. */
export const NAMED_TSIG = { name: 'dnslens-tsig', algorithm: 'hmac-sha256', secret: 'ZG5zbGVucy10c2lnLXNlY3JldC1mb3ItdGVzdHMtMTIz' } as const;

/** One logging channel of named.conf, writing to a file of the server's directory. */
export interface NamedChannel {
  file: string; // file name in the server's directory
  printTime: 'yes' | 'no' | 'local' | 'iso8601' | 'iso8601-utc';
  printCategory?: boolean;
  printSeverity?: boolean;
  severity?: string; // "info" unless given
  categories: readonly string[]; // "queries", "query-errors", "default" (every category not named), ...
}

export interface NamedLogOptions {
  channels: readonly NamedChannel[];
  tz?: string; // TZ in named's environment: the zone of its local times
  views?: boolean; // the zones in two views: "inside" for 127.0.0.1, "outside" for the others
}

export interface NamedLogging extends Resolver {
  dir: string; // the server's directory, with the channels' files; gone after stop()
}

/**
 * named as startNamed() (NAMED_ZONE and its reverse zone, authoritative only, querylog on), with
 * the given log channels, the TSIG key NAMED_TSIG, NAMED_BROKEN_ZONE (SERVFAIL), optionally two
 * views and a TZ. `queryLog` is the first channel's file. Read the files before stop().
 */
export async function startNamedLogging(opts: NamedLogOptions): Promise<NamedLogging> {
  let dir = '';
  const r = await startOn('named', (d, port) => {
    dir = d;
    const channels = opts.channels.map((c, i) => {
      const flags = [`print-time ${c.printTime};`, `print-category ${c.printCategory ? 'yes' : 'no'};`, `print-severity ${c.printSeverity ? 'yes' : 'no'};`];
      return `  channel c${i} { file "${join(d, c.file)}"; ${flags.join(' ')} severity ${c.severity ?? 'info'}; };`;
    });
    const byCategory = new Map<string, string[]>();
    opts.channels.forEach((c, i) => {
      for (const cat of c.categories) byCategory.set(cat, [...(byCategory.get(cat) ?? []), `c${i}`]);
    });
    if (!byCategory.has('default')) byCategory.set('default', ['errors']);
    const broken = `zone "${NAMED_BROKEN_ZONE}" { type primary; file "${join(d, 'missing.db')}"; };`;
    const zones = opts.views
      ? [
          'view "inside" {',
          '  match-clients { 127.0.0.1; };',
          ...writeNamedZones(d, '-inside').map((z) => `  ${z}`),
          `  ${broken}`,
          '};',
          'view "outside" {',
          '  match-clients { any; };',
          ...writeNamedZones(d, '-outside').map((z) => `  ${z}`),
          `  ${broken}`,
          '};',
        ]
      : [...writeNamedZones(d), broken];
    const conf = [
      ...namedOptions(d, port),
      '  recursion no;',
      '  allow-query { any; };',
      '  dnssec-validation no;',
      '  querylog yes;',
      '  notify no;',
      '};',
      'controls { };',
      `key "${NAMED_TSIG.name}" { algorithm ${NAMED_TSIG.algorithm}; secret "${NAMED_TSIG.secret}"; };`,
      'logging {',
      ...channels,
      '  channel errors { stderr; severity warning; };',
      ...[...byCategory].map(([cat, names]) => `  category ${cat} { ${names.map((n) => `${n};`).join(' ')} };`),
      '};',
      ...zones,
    ];
    writeFileSync(join(d, 'named.conf'), conf.join('\n') + '\n');
    const named = ['-f', '-c', join(d, 'named.conf')];
    return {
      bin: opts.tz ? sbin('env') : sbin('named'),
      args: opts.tz ? [`TZ=${opts.tz}`, sbin('named'), ...named] : named,
      probe: `www.${NAMED_ZONE}`,
      queryLog: join(d, opts.channels[0]?.file ?? 'query.log'),
    };
  });
  return { ...r, dir };
}
