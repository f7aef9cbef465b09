// The syslog output against a real rsyslogd (started here on free loopback ports, with its own
// config, writing what it receives to files), a local TLS server with a self-signed certificate,
// and the receiver going away and coming back mid-run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { Counters, Stats } from '../src/stats.js';
import { log } from '../src/log.js';
import { cutUtf8, structuredData } from '../src/outputs/syslog/message.js';
import { syslogOutput } from '../src/outputs/syslog/output.js';
import { parseEndpoint } from '../src/outputs/syslog/transport.js';
import { dnslensAsync as dnslens, until } from './cli-async.js';
import { describeWithPeers, which } from './peers.js';
import { selfSignedCert, type Cert } from './certs.js';
import { runCli } from './dnstap-helpers.js';

const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const SAMPLE = join(ROOT, 'samples/dns-sample.pcap');
const SAMPLE_EVENTS = 38;

// ------------------------------------------------------------------ helpers

/** A loopback port free for both TCP and UDP right now. */
async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as AddressInfo).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    udp.close();
    if (ok) return port;
  }
  throw new Error('no free loopback port');
}

function lines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(port);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** One rsyslogd: imudp and imtcp on loopback, each input writing the raw message (udp.raw,
 *  tcp.raw) and rsyslog's own parse of it as JSON (udp.parsed, tcp.parsed) into dir. */
class Rsyslog {
  private child: ChildProcess | null = null;
  readonly conf: string;
  stderr = '';

  constructor(
    readonly dir: string,
    readonly udpPort: number,
    readonly tcpPort: number,
  ) {
    this.conf = join(dir, 'rsyslog.conf');
    const fields = ['protocol-version', 'hostname', 'app-name', 'procid', 'msgid', 'syslogfacility-text', 'syslogseverity-text', 'structured-data', 'msg'];
    const parsed = fields.map((f) => `  property(name="${f}" format="jsonf") constant(value=",")`).join('\n');
    // Running as root, it drops to nobody once its ports are open (the files are in a dir nobody may write).
    const drop = process.getuid?.() === 0 ? '$PrivDropToUser nobody\n$PrivDropToGroup nogroup\n' : '';
    const out = (name: string) => `
ruleset(name="${name}") {
  action(type="omfile" file="${join(dir, `${name}.raw`)}" template="raw")
  action(type="omfile" file="${join(dir, `${name}.parsed`)}" template="parsed")
}`;
    writeFileSync(
      this.conf,
      `global(workDirectory="${dir}" maxMessageSize="64k")
${drop}module(load="imudp")
module(load="imtcp")
template(name="raw" type="string" string="%rawmsg%\\n")
template(name="parsed" type="list") {
  constant(value="{")
${parsed}
  property(name="timereported" dateFormat="rfc3339" format="jsonf")
  constant(value="}\\n")
}
${out('udp')}
${out('tcp')}
input(type="imudp" address="127.0.0.1" port="${udpPort}" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="${tcpPort}" ruleset="tcp")
`,
    );
  }

  async start(): Promise<void> {
    const bin = which('rsyslogd')!;
    const child = spawn(bin, ['-n', '-f', this.conf, '-i', join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child = child;
    let exited = false;
    child.once('exit', () => (exited = true));
    const end = Date.now() + 15_000;
    while (!(await tcpAccepts(this.tcpPort))) {
      if (exited) throw new Error(`rsyslogd exited: ${this.stderr}`);
      if (Date.now() > end) throw new Error(`rsyslogd did not open tcp ${this.tcpPort}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 200)); // imudp opens beside imtcp
    // a config rsyslogd does not understand is reported on stderr, not by an exit
    if (/error during parsing|not known|could not/i.test(this.stderr)) throw new Error(`rsyslogd complained: ${this.stderr}`);
  }

  /** SIGTERM, and wait for it to exit (it closes its connections). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}

/** What stdout's JSON format gives for the sample: the bodies the syslog output must carry. */
function expectedJsonLines(extra: string[] = []): string[] {
  const r = spawnSync(process.execPath, [MAIN, '--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', ...extra], { cwd: ROOT, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((l) => l !== '');
}

// <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG
const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[.*?\](?=\s|$)) ?(.*)$/s;

function checkJsonMessages(raw: string[], expected: string[], host: string, pid: number): void {
  expect(raw).toHaveLength(SAMPLE_EVENTS);
  const bodies: string[] = [];
  for (const line of raw) {
    const m = RFC5424.exec(line);
    expect(m, line).not.toBeNull();
    const [, pri, ts, hostname, app, procid, msgid, sd, msg] = m!;
    expect(pri).toBe('30'); // daemon.info
    expect(hostname).toBe(host);
    expect(app).toBe('dnslens');
    expect(procid).toBe(String(pid));
    expect(sd).toBe('-');
    const ev = JSON.parse(msg) as { time: string; qr: boolean; qname: string };
    expect(msgid).toBe(ev.qr ? 'response' : 'query');
    // the capture time, to the microsecond
    expect(ts).toBe(ev.time.replace(/(\.\d{6})\d{3}Z$/, '$1Z'));
    bodies.push(msg);
  }
  // every event arrived, with all its fields, once
  expect([...bodies].sort()).toEqual([...expected].sort());
  const qnames = new Set(bodies.map((b) => (JSON.parse(b) as { qname: string }).qname));
  expect(qnames.size).toBeGreaterThan(5);
}

function checkParsed(parsed: string[], host: string, pid: number, sd: boolean): Record<string, string>[] {
  expect(parsed).toHaveLength(SAMPLE_EVENTS);
  const rows = parsed.map((l) => JSON.parse(l) as Record<string, string>);
  for (const r of rows) {
    expect(r['protocol-version']).toBe('1');
    expect(r.hostname).toBe(host);
    expect(r['app-name']).toBe('dnslens');
    expect(r.procid).toBe(String(pid));
    expect(['query', 'response']).toContain(r.msgid);
    expect(r['syslogfacility-text']).toBe('daemon');
    expect(r['syslogseverity-text']).toBe('info');
    expect(r.timereported).toMatch(/^2005-03-30T\d\d:\d\d:\d\d\.\d{6}Z$/);
    if (!sd) expect(r['structured-data']).toBe('-');
  }
  return rows;
}

function events(from: number, count: number): DnsEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const ev = newEvent();
    ev.timeSec = 1700000000 + from + i;
    ev.timeNsec = 123456789;
    ev.id = (from + i) & 0xffff;
    ev.qname = `host${from + i}.example.com`;
    return ev;
  });
}

// ------------------------------------------------------------------ tests without peers

describe('syslog output: configuration and encoding', () => {
  it('stops with exit 2 naming the option for a bad endpoint, a stray TLS option, sd with rfc3164', async () => {
    for (const [args, want] of [
      [['--syslogOutputEndpoint', 'tcp://127.0.0.1'], /--syslogOutputEndpoint: .*scheme:\/\/host:port/],
      [['--syslogOutputEndpoint', 'http://127.0.0.1:514'], /--syslogOutputEndpoint: unknown scheme "http"/],
      [['--syslogOutputEndpoint', 'udp://127.0.0.1:70000'], /--syslogOutputEndpoint: port 70000/],
      [['--syslogOutputEndpoint', 'udp://127.0.0.1:514', '--syslogCACertificatePath', SAMPLE], /--syslogCACertificatePath: only for a tls:\/\/ endpoint/],
      [['--syslogOutputEndpoint', 'tls://127.0.0.1:6514', '--syslogCACertificatePath', '/nonexistent/ca.pem'], /--syslogCACertificatePath: cannot read/],
      [['--syslogOutputBody', 'sd', '--syslogOutputFormat', 'rfc3164'], /--syslogOutputBody sd: structured data needs --syslogOutputFormat rfc5424/],
    ] as const) {
      const r = await dnslens(['--pcapFile', SAMPLE, '--syslogOutputType', '1', ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(want);
    }
  });

  it('parses endpoints, IPv6 included', () => {
    expect(parseEndpoint('udp://127.0.0.1:514')).toEqual({ scheme: 'udp', host: '127.0.0.1', port: 514 });
    expect(parseEndpoint('TLS://[::1]:6514')).toEqual({ scheme: 'tls', host: '::1', port: 6514 });
    expect(parseEndpoint('tcp://logs.example.net:601')).toEqual({ scheme: 'tcp', host: 'logs.example.net', port: 601 });
    expect(() => parseEndpoint('[::1]:514')).toThrow();
  });

  it('escapes structured data values and cuts UTF-8 at a character boundary', () => {
    const ev = newEvent();
    ev.qname = 'a"b]c\\d.example';
    expect(structuredData(ev)).toContain('qname="a\\"b\\]c\\\\d.example"');
    const b = Buffer.from('ab\u00e9\u20ac', 'utf8'); // a b é(2) €(3)
    expect(Buffer.from(cutUtf8(b, 4)).toString()).toBe('ab\u00e9');
    expect(Buffer.from(cutUtf8(b, 5)).toString()).toBe('ab\u00e9');
    expect(cutUtf8(b, 7)).toHaveLength(7);
  });

  it('UDP: one message per datagram, an over-long one cut to the size and counted', async () => {
    const rx = createSocket('udp4');
    const got: Buffer[] = [];
    rx.on('message', (m) => got.push(m));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
    const port = (rx.address() as AddressInfo).port;
    const stats = new Stats();
    const counters = new Counters('syslog');
    const out = syslogOutput({
      endpoint: { scheme: 'udp', host: '127.0.0.1', port },
      format: 'rfc5424',
      body: 'json',
      facility: 16,
      hostname: 'sensor-1',
      appName: 'dnslens',
      maxDatagram: 1024,
      batchSize: 10,
      delayMs: 10,
      stats,
      counters,
      log,
    });
    const evs = events(0, 5);
    evs[2].qname = 'x'.repeat(600) + '.' + 'y'.repeat(600) + '.example';
    await out.write(evs);
    await out.close();
    await until('5 datagrams', () => got.length >= 5, 5000);
    rx.close();
    expect(got).toHaveLength(5);
    expect(counters.get('sent')).toBe(5);
    expect(counters.get('truncated')).toBe(1);
    const long = got.find((g) => g.includes('xxxx'))!;
    expect(long.length).toBe(1024);
    for (const g of got.filter((x) => x !== long)) {
      expect(g.toString()).toMatch(/^<134>1 \S+ sensor-1 dnslens \d+ query - \{.*\}$/);
    }
  });
});

// ------------------------------------------------------------------ against rsyslog

describeWithPeers('syslog output against rsyslog', ['rsyslogd'], () => {
  let dir: string;
  let rs: Rsyslog;
  let expected: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-syslog-'));
    chmodSync(dir, 0o777); // rsyslogd may drop to nobody
    rs = new Rsyslog(dir, await freePort(), await freePort());
    await rs.start();
    expected = expectedJsonLines(['--serverName', 'sensor-1']);
    expect(expected).toHaveLength(SAMPLE_EVENTS);
  });

  afterAll(async () => {
    await rs?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('UDP: every event arrives as an RFC 5424 message with its JSON line', async () => {
    const r = await dnslens(['--pcapFile', SAMPLE, '--serverName', 'sensor-1', '--syslogOutputType', '1', '--syslogOutputEndpoint', `udp://127.0.0.1:${rs.udpPort}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/syslog\n\s+rows sent\s+38\n/);
    const raw = await until('38 messages over UDP', () => lines(join(dir, 'udp.raw')).length >= SAMPLE_EVENTS && lines(join(dir, 'udp.raw')));
    await new Promise((res) => setTimeout(res, 300)); // nothing more comes
    checkJsonMessages(lines(join(dir, 'udp.raw')), expected, 'sensor-1', r.pid);
    checkParsed(await until('parsed', () => lines(join(dir, 'udp.parsed')).length >= SAMPLE_EVENTS && lines(join(dir, 'udp.parsed'))), 'sensor-1', r.pid, false);
    expect(raw.length).toBe(SAMPLE_EVENTS);
  });

  it('TCP: octet-counted RFC 5424 messages, rsyslog parses every header field', async () => {
    const r = await dnslens(['--pcapFile', SAMPLE, '--serverName', 'sensor-1', '--syslogOutputType', '1', '--syslogOutputEndpoint', `tcp://127.0.0.1:${rs.tcpPort}`]);
    expect(r.status, r.stderr).toBe(0);
    await until('38 messages over TCP', () => lines(join(dir, 'tcp.parsed')).length >= SAMPLE_EVENTS);
    await new Promise((res) => setTimeout(res, 300));
    checkJsonMessages(lines(join(dir, 'tcp.raw')), expected, 'sensor-1', r.pid);
    const rows = checkParsed(lines(join(dir, 'tcp.parsed')), 'sensor-1', r.pid, false);
    expect([...rows.map((x) => x.msg)].sort()).toEqual([...expected].sort());
    expect(rows.filter((x) => x.msgid === 'query')).toHaveLength(19);
  });

  it('TCP with structured data bodies: rsyslog reads the SD element of each message', async () => {
    // rsyslogd keeps its files open: read what this run adds
    const before = lines(join(dir, 'tcp.parsed')).length;
    const beforeRaw = lines(join(dir, 'tcp.raw')).length;
    const r = await dnslens(['--pcapFile', SAMPLE, '--serverName', 'sensor-1', '--syslogOutputType', '1', '--syslogOutputBody', 'sd', '--syslogOutputEndpoint', `tcp://127.0.0.1:${rs.tcpPort}`]);
    expect(r.status, r.stderr).toBe(0);
    const parsed = await until('38 SD messages', () => lines(join(dir, 'tcp.parsed')).length >= before + SAMPLE_EVENTS && lines(join(dir, 'tcp.parsed')).slice(before));
    await new Promise((res) => setTimeout(res, 300)); // nothing more comes
    const rows = checkParsed(lines(join(dir, 'tcp.parsed')).slice(before), 'sensor-1', r.pid, true);
    void beforeRaw;
    const want = expected.map((l) => JSON.parse(l) as { qname: string; qtype: number; rcode: number; srcIp: string; qr: boolean });
    const got = rows.map((x) => {
      const sd = x['structured-data'];
      expect(sd).toMatch(/^\[dns@32473 server="sensor-1" srcIp="[^"]+" /);
      const p = (k: string) => new RegExp(` ${k}="([^"]*)"`).exec(sd)?.[1];
      return `${p('qr')} ${p('srcIp')} ${p('qname')} ${p('qtype')} ${p('rcode')}`;
    });
    expect(got.sort()).toEqual(want.map((e) => `${e.qr ? 1 : 0} ${e.srcIp} ${e.qname} ${e.qtype} ${e.rcode}`).sort());
  });

  it('TCP, RFC 3164: rsyslog reads the host and tag, the JSON line is the message', async () => {
    // rsyslogd keeps its files open: read what this run adds
    const before = lines(join(dir, 'tcp.parsed')).length;
    const beforeRaw = lines(join(dir, 'tcp.raw')).length;
    const r = await dnslens(['--pcapFile', SAMPLE, '--serverName', 'sensor-1', '--syslogOutputType', '1', '--syslogOutputFormat', 'rfc3164', '--syslogOutputEndpoint', `tcp://127.0.0.1:${rs.tcpPort}`]);
    expect(r.status, r.stderr).toBe(0);
    const parsed = await until('38 RFC 3164 messages', () => lines(join(dir, 'tcp.parsed')).length >= before + SAMPLE_EVENTS && lines(join(dir, 'tcp.parsed')).slice(before));
    await until('38 raw RFC 3164 messages', () => lines(join(dir, 'tcp.raw')).length >= beforeRaw + SAMPLE_EVENTS);
    expect(parsed).toHaveLength(SAMPLE_EVENTS);
    const rows = parsed.map((l) => JSON.parse(l) as Record<string, string>);
    for (const x of rows) {
      expect(x.hostname).toBe('sensor-1');
      expect(x['app-name']).toBe('dnslens');
      expect(x.procid).toBe(String(r.pid));
    }
    expect(rows.map((x) => x.msg.trim()).sort()).toEqual([...expected].sort());
    const raws = lines(join(dir, 'tcp.raw')).slice(beforeRaw);
    expect(raws).toHaveLength(SAMPLE_EVENTS);
    for (const raw of raws) expect(raw).toMatch(/^<30>Mar 30 08:\d\d:\d\d sensor-1 dnslens\[\d+\]: \{/);
  });

  it('TCP: a receiver down at start-up, then stopped and restarted mid-run: retried, nothing lost', async () => {
    // a receiver of its own, so the others' files stay as they are
    const dir2 = mkdtempSync(join(tmpdir(), 'dnslens-syslog-restart-'));
    chmodSync(dir2, 0o777);
    const rs2 = new Rsyslog(dir2, await freePort(), await freePort());
    const stats = new Stats();
    const counters = new Counters('syslog');
    const out = syslogOutput({
      endpoint: { scheme: 'tcp', host: '127.0.0.1', port: rs2.tcpPort },
      format: 'rfc5424',
      body: 'json',
      facility: 3,
      hostname: 'sensor-2',
      appName: 'dnslens',
      maxDatagram: 2048,
      batchSize: 20,
      delayMs: 20,
      stats,
      counters,
      log,
      retryInitialMs: 50,
      retryMaxMs: 400,
      closeTimeoutMs: 20_000,
    });
    const raw = (): string[] => lines(join(dir2, 'tcp.raw'));
    try {
      // 1. nobody listens yet: the sends fail and are retried, the events wait
      await out.write(events(0, 30));
      await until('a failed send while the receiver is down', () => counters.get('failed') >= 2);
      expect(counters.get('sent')).toBe(0);
      // 2. the receiver starts: what waited goes
      await rs2.start();
      await until('30 messages', () => raw().length >= 30);
      expect(counters.get('sent')).toBe(30);
      // 3. the receiver stops (closing our connection); events written meanwhile wait
      await rs2.stop();
      const failedBefore = counters.get('failed');
      await out.write(events(30, 40));
      await until('a failed send after the receiver stopped', () => counters.get('failed') > failedBefore);
      // 4. it comes back on the same port: the output reconnects and sends the rest
      await rs2.start();
      await out.write(events(70, 30));
      await out.close();
      await until('100 messages', () => raw().length >= 100);
      await new Promise((res) => setTimeout(res, 300));
      const qnames = raw().map((l) => (JSON.parse(RFC5424.exec(l)![8]) as { qname: string }).qname);
      expect(qnames).toHaveLength(100);
      expect(new Set(qnames)).toEqual(new Set(events(0, 100).map((e) => e.qname)));
      expect(counters.get('sent')).toBe(100);
      expect(counters.get('dropped')).toBe(0);
      expect(counters.get('retried')).toBeGreaterThan(0);
      expect(stats.droppedBy.size).toBe(0);
    } finally {
      await out.close();
      await rs2.stop();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});

// ------------------------------------------------------------------ TLS

describeWithPeers('syslog output over TLS', ['openssl'], () => {
  let dir: string;
  let cert: Cert;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-syslog-tls-'));
    cert = selfSignedCert(dir);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A TLS receiver with the self-signed certificate on a loopback port: what it read, its TLS sessions. */
  async function tlsReceiver(): Promise<{ port: number; data: () => Buffer; sessions: () => number; close: () => Promise<void> }> {
    const chunks: Buffer[] = [];
    let sessions = 0;
    const server = createTlsServer({ key: cert.key, cert: cert.cert }, (sock) => {
      sessions++;
      sock.on('data', (d: Buffer) => chunks.push(d));
      sock.on('error', () => undefined);
    });
    server.on('tlsClientError', () => undefined); // a client that refuses the certificate
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      port: (server.address() as AddressInfo).port,
      data: () => Buffer.concat(chunks),
      sessions: () => sessions,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  }

  /** RFC 6587 3.4.1: MSG-LEN SP SYSLOG-MSG, MSG-LEN in bytes, repeated. */
  function octetCounted(data: Buffer): string[] {
    const msgs: string[] = [];
    let off = 0;
    for (let guard = 0; off < data.length && guard < 1000; guard++) {
      const sp = data.indexOf(0x20, off);
      const lenText = data.toString('ascii', off, sp);
      expect(lenText).toMatch(/^[1-9]\d*$/);
      const len = Number(lenText);
      expect(sp + 1 + len).toBeLessThanOrEqual(data.length);
      msgs.push(data.toString('utf8', sp + 1, sp + 1 + len));
      off = sp + 1 + len;
    }
    expect(off).toBe(data.length);
    return msgs;
  }

  const host = () => hostname().replace(/[^\x21-\x7e]/g, '_');

  it('sends octet-counted RFC 5424 messages over TLS, verified against the given CA', async () => {
    const rx = await tlsReceiver();
    try {
      const expected = expectedJsonLines();
      const r = await dnslens(['--pcapFile', SAMPLE, '--syslogOutputType', '1', '--syslogOutputEndpoint', `tls://127.0.0.1:${rx.port}`, '--syslogCACertificatePath', cert.certPath]);
      expect(r.status, r.stderr).toBe(0);
      expect(rx.sessions()).toBe(1);
      checkJsonMessages(octetCounted(rx.data()), expected, host(), r.pid);
    } finally {
      await rx.close();
    }
  });

  it('without the CA the receiver is refused and gets nothing; with --skipTLSVerification every message arrives', async () => {
    const rx = await tlsReceiver();
    const args = ['--pcapFile', SAMPLE, '--syslogOutputType', '1', '--syslogOutputEndpoint', `tls://127.0.0.1:${rx.port}`];
    try {
      const refused = runCli(args);
      try {
        await refused.waitForLog('self-signed certificate', 20_000);
        expect(refused.stderr()).toContain('send failed; retrying with backoff');
      } finally {
        await refused.stop('SIGKILL'); // at exit it would wait 30 s for the receiver
      }
      expect(rx.sessions()).toBe(0);
      expect(rx.data().length).toBe(0);

      const expected = expectedJsonLines();
      const r = await dnslens([...args, '--skipTLSVerification']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/--skipTLSVerification: server certificates are not verified/);
      expect(rx.sessions()).toBe(1);
      checkJsonMessages(octetCounted(rx.data()), expected, host(), r.pid);
    } finally {
      await rx.close();
    }
  });
});
