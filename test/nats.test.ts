// NATS between sensors and a collector. The message encodings are checked against the JSON output
// itself (a decoded line written again is the same line) and round-tripped through the binary
// encoding; then, against a real nats-server (Debian's, started here in a temp dir on a loopback
// port with JetStream), dnslens sensors publish the shared captures and a dnslens collector stores
// them in its embedded store: every event exactly once (the same rows as a direct import), through
// a nats-server restart, through a collector killed with SIGKILL mid-run, and a message delivered
// twice is stored once. Bad URLs and refused credentials stop the run at start-up with exit 2; a
// server that is down at start-up is waited for.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createUser } from '@nats-io/nkeys';
import { BinaryEncoder, decodeMessage, eventFromJson } from '../src/bus/codec.js';
import { connectNats, type NatsAuth } from '../src/bus/nats.js';
import { newEvent, type DnsEvent } from '../src/event.js';
import { log } from '../src/log.js';
import { ByteWriter } from '../src/outputs/format/bytes.js';
import { formatJson } from '../src/outputs/format/json.js';
import { framesOf, natsOutput, NatsEncoder, SPOOL_CODEC } from '../src/outputs/nats/output.js';
import { parseSubject } from '../src/outputs/nats/subject.js';
import { Spool } from '../src/outputs/sink/spool.js';
import { Counters, Stats } from '../src/stats.js';
import { dnslensAsync as dnslens, until } from './cli-async.js';
import { PCAP_DIR } from './data.js';
import { describeWithPeers, which } from './peers.js';
import { NatsServer } from './nats-server.js';
import { freePort } from './resolvers.js';
import { pgBin, startPostgres } from './postgres.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const CAPTURE = join(PCAP_DIR, 'pktvisor__dns_udp_tcp_random.pcap'); // UDP and TCP, 5851 events
const CAPTURE_EVENTS = 5851;
const CAPTURES = [CAPTURE, join(PCAP_DIR, 'dnscap__dns.pcap'), join(PCAP_DIR, 'zeek__naptr.pcap')];

/** The events of a capture as the JSON output writes them, one line each. */
function jsonLines(file: string): string[] {
  const out = execFileSync(process.execPath, [MAIN, '--pcapFile', file, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json'], { maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.toString('utf8').split('\n').filter((l) => l !== '');
}

function binaryMessage(events: readonly DnsEvent[]): Buffer {
  const w = new ByteWriter();
  const enc = new BinaryEncoder(new ByteWriter(256));
  enc.start(w);
  for (const ev of events) enc.record(w, ev);
  return Buffer.from(w.buf.subarray(0, w.pos));
}

// Events with what a capture rarely has: every flag, IPv6 and odd address text, answers, UTF-8,
// a negative and a null response time, the largest TTL, empty and repeated strings.
function oddEvents(): DnsEvent[] {
  const a = newEvent();
  Object.assign(a, {
    timeSec: 1_700_000_000, timeNsec: 999_999_999, server: 'ns1.example', ipVersion: 6, srcIp: '2001:db8::1', dstIp: '::ffff:192.0.2.1',
    srcPort: 65535, dstPort: 853, transport: 'dot', id: 65535, qr: true, opcode: 5, aa: true, tc: true, rd: true, ra: true, ad: true, cd: true,
    rcode: 4095, qname: 'xn--bcher-kva.example', qtype: 65535, qclass: 255, qdCount: 1, anCount: 2, nsCount: 3, arCount: 4,
    answers: [{ name: 'a.example', type: 1, class: 1, ttl: 4294967295, data: '192.0.2.7' }, { name: 'a.example', type: 16, class: 1, ttl: 0, data: '"héllo wörld" "€"' }],
    ednsPresent: true, ednsUdpSize: 4096, ednsDo: true, ednsClientSubnet: '198.51.100.0/24', size: 65535, inputKind: 'dnstap', inputName: 'unix:///run/dnstap.sock',
    responseTimeUs: -12, unanswered: false, clientId: 'c0ffee', messageType: 'CLIENT_RESPONSE', resolution: 'forwarded', upstream: '192.0.2.1#53',
    eventHash: '0123456789abcdef', rawLine: 'log line with\ttab and ünïcode',
  });
  const b = { ...newEvent(), srcIp: '010.1.1.1', dstIp: '1.2.3.4', server: 'ns1.example', inputKind: 'log' as const, unanswered: true, responseTimeUs: null };
  const c = { ...a, answers: [], responseTimeUs: 123_456_789_012, srcIp: '', dstIp: '' };
  return [a, b, c, { ...newEvent() }];
}

describe('bus message encodings', () => {
  const lines = jsonLines(CAPTURE);

  it('JSON lines: every line of the JSON output decodes to an event that is written back as the same line', () => {
    expect(lines.length).toBe(CAPTURE_EVENTS);
    const events = decodeMessage(Buffer.from(lines.join('\n') + '\n'));
    expect(events.map(formatJson)).toEqual(lines);
    for (const ev of oddEvents()) expect(formatJson(eventFromJson(JSON.parse(formatJson(ev))))).toBe(formatJson(ev));
  });

  it('binary: a real capture and odd events come back field for field, at about a tenth of the JSON size', () => {
    const events = lines.map((l) => eventFromJson(JSON.parse(l)));
    const message = binaryMessage(events);
    expect(decodeMessage(message)).toEqual(events);
    expect(message.length / events.length).toBeLessThan(100); // bytes per event (JSON: ~700)
    const odd = oddEvents();
    expect(decodeMessage(binaryMessage(odd))).toEqual(odd);
  });

  it('binary: a reader skips fields a newer writer added at the end of a record', () => {
    const ev = oddEvents()[0];
    const one = binaryMessage([ev]);
    // the record's length varint follows the magic; grow the record by 3 unknown bytes
    let p = 4;
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const c = one[p++];
      len += (c & 0x7f) * 2 ** shift;
      if (c < 0x80) break;
    }
    const grown = Buffer.concat([Buffer.from('DLB1'), Buffer.from([((len + 3) & 0x7f) | 0x80, (len + 3) >> 7]), one.subarray(p), Buffer.from([1, 2, 3])]);
    expect(len + 3).toBeGreaterThanOrEqual(128); // two varint bytes, as written above
    expect(decodeMessage(Buffer.concat([grown, one.subarray(4)]))).toEqual([ev, ev]);
  });

  it('a message that is neither, or is cut short, is an error that says so', () => {
    expect(() => decodeMessage(Buffer.from('hello'))).toThrow(/not a dnslens batch/);
    expect(() => decodeMessage(Buffer.alloc(0))).toThrow(/not a dnslens batch/);
    const message = binaryMessage(oddEvents());
    expect(() => decodeMessage(message.subarray(0, message.length - 5))).toThrow(/runs past|cut short/);
    expect(() => decodeMessage(Buffer.from('{"time":"yesterday"}'))).toThrow(/RFC 3339/);
    expect(() => decodeMessage(Buffer.from(lines[0].replace('"qtype":', '"qtype":"1","x":')))).toThrow(/"qtype".*wrong type/);
  });

  it('the subject template: fields as safe tokens, {qr} as query/response, the stream subject from the fixed tokens', () => {
    const t = parseSubject('dns.{server}.{qr}.{qtypeName}');
    const ev = { ...newEvent(), server: 'ns1.example.com', qr: true, qtype: 28 };
    expect(t.render(ev)).toBe('dns.ns1_example_com.response.AAAA');
    expect(t.render({ ...ev, server: '', qr: false })).toBe('dns._.query.AAAA');
    expect(t.streamSubject).toBe('dns.>');
    expect(t.sample).toBe('dns.x.x.x');
    expect(parseSubject('dnslens.events').streamSubject).toBe('dnslens.events');
    expect(parseSubject('{server}.dns').streamSubject).toBeNull();
    expect(() => parseSubject('dns.{nope}')).toThrow(/unknown field \{nope\}/);
    expect(() => parseSubject('dns.>')).toThrow(/"\*" or ">"/);
    expect(() => parseSubject('dns..{server}')).toThrow(/empty token/);
    expect(() => parseSubject('dns {server}')).toThrow(/without spaces/);
  });

  it('the encoder cuts messages at the payload limit and keeps every event in order; one too large alone is dropped, counted', () => {
    const events = lines.slice(0, 500).map((l) => eventFromJson(JSON.parse(l)));
    for (const format of ['binary', 'json'] as const) {
      let dropped = 0;
      const enc = new NatsEncoder(parseSubject('t.{qr}'), format, 4000, (n) => (dropped += n));
      enc.encode(events);
      enc.encode([{ ...events[0], rawLine: 'x'.repeat(5000) }]);
      const frames = framesOf(Buffer.concat(enc.take()));
      expect(dropped).toBe(1);
      expect(frames.length).toBeGreaterThan(4);
      for (const f of frames) expect(f.payload.length).toBeLessThanOrEqual(4000);
      const back = (subject: string) => frames.filter((f) => f.route === subject).flatMap((f) => decodeMessage(f.payload));
      expect(back('t.query')).toEqual(events.filter((e) => !e.qr));
      expect(back('t.response')).toEqual(events.filter((e) => e.qr));
    }
  });
});

// ------------------------------------------------------------------ a real nats-server


const running = new Set<ChildProcess>(); // killed after the tests, should a test fail before it stops them

/** A dnslens process the test stops itself: its output so far, and its exit. */
class Running {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  readonly child: ChildProcess;

  constructor(args: string[], stdin = false) {
    this.child = spawn(process.execPath, [MAIN, ...args], { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    running.add(this.child);
    void this.exited.then(() => running.delete(this.child));
  }

  /** A counter of the summary (printed at exit), by its label. */
  counter(label: string): number {
    const m = new RegExp(`^\\s+${label.replace(/[()]/g, '\\$&')}\\s+([\\d,]+)`, 'm').exec(this.stderr);
    if (!m) throw new Error(`no "${label}" in:\n${this.stderr}`);
    return Number(m[1].replace(/,/g, ''));
  }
}

function sql(dataDir: string, query: string): string[][] {
  const r = spawnSync(process.execPath, [MAIN, 'sql', '--dataDir', dataDir, '--format', 'tsv', query], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sql failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').slice(1).map((l) => l.split('\t')); // after the header
}

// Per server: rows, a hash of every column but IndexTime (when it was stored), and the rollup's count.
const FINGERPRINT = `SELECT Server, count(), sum(cityHash64(* EXCEPT (IndexTime))) FROM DNS_LOG GROUP BY Server ORDER BY Server`;
const ROLLUP = `SELECT Server, sum(Messages) FROM dns_traffic_minute GROUP BY Server ORDER BY Server`;

/** Polls an async read every 100 ms until it gives a value; a read that throws counts as no value yet. */
async function eventually<T>(what: string, read: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await read();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function consumerState(jsm: JetStreamManager, stream: string, durable: string) {
  const ci = await jsm.consumers.info(stream, durable);
  const si = await jsm.streams.info(stream);
  return { acked: ci.ack_floor.stream_seq, pending: ci.num_ack_pending, last: si.state.last_seq };
}

const collectorArgs = (server: NatsServer, dataDir: string, more: string[] = []) => ['--natsInputServer', server.url, '--dataDir', dataDir, '--metricFlushInterval', '0', ...more];

describeWithPeers('NATS between dnslens sensors and a collector (a real nats-server)', ['nats-server'], () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-nats-'));
  let server: NatsServer;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const direct = join(root, 'direct');

  beforeAll(async () => {
    server = new NatsServer(join(root, 'main'), await freePort());
    await server.start();
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    // The reference: the same captures imported directly, under the same server names.
    for (const [i, file] of CAPTURES.entries()) {
      const r = await dnslens(['--pcapFile', file, '--dataDir', direct, '--serverName', `sensor${i + 1}`, '--metricFlushInterval', '0'], 120_000);
      expect(r.status, r.stderr).toBe(0);
    }
  }, 180_000);

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await nc?.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('three sensors publish, one collector stores: every event exactly once, the same rows as a direct import; a message delivered twice is stored once', async () => {
    const sensors = CAPTURES.map((file, i) =>
      dnslens(['--pcapFile', file, '--serverName', `sensor${i + 1}`, '--natsOutputType', '1', '--natsOutputServer', server.url, '--natsOutputFormat', i === 0 ? 'json' : 'binary', '--natsBatchSize', '2000']),
    );
    for (const r of await Promise.all(sensors)) {
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/rows dropped\s+0\n/);
    }
    // The same message twice in the stream (no message id, so the stream keeps both): as a message
    // delivered again is, it is stored under the same token, once.
    const twice = oddEvents().map((e) => ({ ...e, server: 'twice' }));
    const js = jetstream(nc);
    for (let i = 0; i < 2; i++) await js.publish('dnslens.twice', binaryMessage(twice));
    const dataDir = join(root, 'collector');
    const collector = new Running(collectorArgs(server, dataDir));
    const want = (await jsm.streams.info('DNSLENS')).state.last_seq;
    await eventually('every message acknowledged', async () => (await consumerState(jsm, 'DNSLENS', 'dnslens')).acked === want, 120_000);
    collector.child.kill('SIGTERM');
    expect(await collector.exited, collector.stderr).toBe(0);
    expect(collector.counter('messages acknowledged')).toBe(want);
    const stored = sql(dataDir, FINGERPRINT);
    expect(stored.filter((r) => r[0] !== 'twice')).toEqual(sql(direct, FINGERPRINT));
    expect(stored.find((r) => r[0] === 'twice')?.[1]).toBe(String(twice.length));
    expect(sql(dataDir, ROLLUP).filter((r) => r[0] !== 'twice')).toEqual(sql(direct, ROLLUP));
  }, 240_000);

  it('a collector killed (SIGKILL) mid-run loses nothing: the next run is given again only what was not acknowledged, and stores it once', async () => {
    const r = await dnslens(['--pcapFile', CAPTURE, '--serverName', 'sensor1', '--natsOutputType', '1', '--natsOutputServer', server.url, '--natsOutputSubject', 'kill.{server}', '--natsOutputStream', 'KILL', '--natsBatchSize', '250']);
    expect(r.status, r.stderr).toBe(0);
    const total = (await jsm.streams.info('KILL')).state.last_seq;
    expect(total).toBe(Math.ceil(CAPTURE_EVENTS / 250));
    const dataDir = join(root, 'killed');
    const args = collectorArgs(server, dataDir, ['--natsInputSubject', 'kill.>', '--natsInputDurable', 'kill', '--natsInputAckWait', '3s']);
    const first = new Running(args);
    // Part way: some messages acknowledged, others delivered and waiting for the store.
    await eventually('a run part way', async () => {
      const s = await consumerState(jsm, 'KILL', 'kill');
      return s.acked >= 3 && s.pending > 0;
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const atKill = await consumerState(jsm, 'KILL', 'kill');
    expect(atKill.acked).toBeLessThan(total);
    expect(atKill.pending).toBeGreaterThan(0);
    const second = new Running(args);
    await eventually('every message acknowledged', async () => (await consumerState(jsm, 'KILL', 'kill')).acked === total, 120_000);
    second.child.kill('SIGTERM');
    expect(await second.exited, second.stderr).toBe(0);
    // What was acknowledged is not given again; what was delivered and not acknowledged is, once.
    expect(second.counter('messages received')).toBe(total - atKill.acked);
    expect(second.counter('messages delivered again')).toBe(atKill.pending);
    const reference = sql(direct, FINGERPRINT).filter((row) => row[0] === 'sensor1');
    expect(sql(dataDir, FINGERPRINT)).toEqual(reference);
    expect(sql(dataDir, ROLLUP)).toEqual(sql(direct, ROLLUP).filter((row) => row[0] === 'sensor1'));
  }, 240_000);

  it('nats-server stopped mid-run and started again: the sensor retries, the collector reconnects, nothing is lost', async () => {
    const own = new NatsServer(join(root, 'restart'), await freePort());
    await own.start();
    const client = await connect({ servers: own.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const m = await jetstreamManager(client);
    try {
      const pcap = readFileSync(CAPTURE);
      const third = Math.floor(pcap.length / 3);
      const sensor = new Running(['--pcapFile', '-', '--serverName', 'sensor1', '--natsOutputType', '1', '--natsOutputServer', own.url, '--natsBatchSize', '500', '--natsBatchDelay', '100ms', '--metricFlushInterval', '0'], true);
      sensor.child.stdin!.write(pcap.subarray(0, third));
      await eventually('the first messages', async () => (await m.streams.info('DNSLENS')).state.messages >= 2);
      const dataDir = join(root, 'restarted');
      const collector = new Running(collectorArgs(own, dataDir, ['--natsInputAckWait', '5s']));
      await eventually('the collector acknowledging', async () => (await consumerState(m, 'DNSLENS', 'dnslens')).acked >= 1);
      await own.stop();
      sensor.child.stdin!.end(pcap.subarray(third));
      await new Promise((res) => setTimeout(res, 3000)); // the sensor fails and retries meanwhile
      await own.start();
      expect(await sensor.exited, sensor.stderr).toBe(0);
      expect(sensor.counter('failed sends')).toBeGreaterThan(0);
      expect(sensor.counter('rows sent')).toBe(CAPTURE_EVENTS);
      expect(sensor.counter('rows dropped')).toBe(0);
      const last = (await m.streams.info('DNSLENS')).state.last_seq;
      await eventually('every message acknowledged', async () => (await consumerState(m, 'DNSLENS', 'dnslens')).acked === last, 120_000);
      collector.child.kill('SIGTERM');
      expect(await collector.exited, collector.stderr).toBe(0);
      // stdin is the input's name here: compared without it
      const noName = FINGERPRINT.replace('EXCEPT (IndexTime)', 'EXCEPT (IndexTime, InputName)');
      expect(sql(dataDir, noName)).toEqual(sql(direct, noName).filter((row) => row[0] === 'sensor1'));
    } finally {
      await own.stop();
      await client.close();
    }
  }, 240_000);

  it('with --natsSpoolDir, batches the server did not take before the end wait on disk, and the next run sends them', async () => {
    const own = new NatsServer(join(root, 'spool'), await freePort());
    await own.start();
    const admin = await connect({ servers: own.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    const noAuth = { credsFile: '', nkeySeedFile: '', user: '', password: '', token: '', caFile: '', certFile: '', keyFile: '' } satisfies NatsAuth;
    const dir = join(root, 'spool-dir');
    const events = jsonLines(join(PCAP_DIR, 'dnscap__dns.pcap')).map((l) => eventFromJson(JSON.parse(l)));
    const open = async () => {
      const conn = await connectNats({ option: 'natsOutputServer', servers: [own.url], auth: noAuth, name: 'test', log, skipTlsVerify: false });
      const spool = await Spool.open(dir, { maxBytes: 1 << 30, codec: SPOOL_CODEC });
      const counters = new Counters('nats');
      const release = async () => {
        await conn.close();
        await spool.release();
      };
      const out = await natsOutput({ nc: conn, where: own.url, subject: parseSubject('spool.{server}'), format: 'binary', maxPayload: 1 << 19, batchSize: 20, delayMs: 20, spool, stats: new Stats(), counters, log, retryInitialMs: 50, retryMaxMs: 200, closeTimeoutMs: 500 }, release);
      return { out, counters };
    };
    try {
      await (await jetstreamManager(admin)).streams.add({ name: 'SPOOL', subjects: ['spool.>'] });
      const a = await open();
      await own.stop();
      await a.out.write(events);
      await a.out.close();
      expect([a.counters.get('spooled'), a.counters.get('sent'), a.counters.get('dropped')]).toEqual([events.length, 0, 0]);
      await own.start();
      const b = await open();
      await b.out.close();
      expect([b.counters.get('replayed'), b.counters.get('sent')]).toEqual([events.length, events.length]);
      // what the stream holds, in order
      const reader = await connect({ servers: own.url });
      const consumer = await jetstream(reader).consumers.get('SPOOL');
      const got: DnsEvent[] = [];
      for (let n = 0; n < b.counters.get('messages'); n++) got.push(...decodeMessage((await consumer.next())!.data));
      await reader.close();
      expect(got).toEqual(events);
    } finally {
      await own.stop();
      await admin.close();
    }
  }, 60_000);

  it('a server down at start-up is waited for, retried with backoff: once it is up, every event is published (issue #17)', async () => {
    const late = new NatsServer(join(root, 'late'), await freePort());
    const run = dnslens(['--pcapFile', CAPTURE, '--natsOutputType', '1', '--natsOutputServer', late.url, '--natsOutputStream', 'LATE', '--natsOutputSubject', 'late.{server}', '--metricFlushInterval', '0'], 60_000);
    await new Promise((r) => setTimeout(r, 2500)); // a few failed attempts
    await late.start();
    try {
      const r = await run;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/NATS at nats:\/\/127\.0\.0\.1:\d+ cannot be reached; waiting for it, retrying with backoff/);
      expect(r.stderr).toMatch(/rows sent\s+5,851\n/);
      expect(r.stderr).toMatch(/rows dropped\s+0\n/);
      expect(r.stderr).not.toMatch(/dropped or filtered\n\s+nats:/);
    } finally {
      await late.stop();
    }
  }, 60_000);

  it('SIGTERM while waiting for a server that is down ends the run at once, with its summary (exit 0)', async () => {
    const waiting = new Running(['--pcapFile', CAPTURE, '--natsOutputType', '1', '--natsOutputServer', `nats://127.0.0.1:${await freePort()}`, '--metricFlushInterval', '0']);
    await until('the first failed attempt', () => /cannot be reached; waiting for it/.test(waiting.stderr), 10_000);
    const sent = Date.now();
    waiting.child.kill('SIGTERM');
    expect(await waiting.exited, waiting.stderr).toBe(0);
    expect(Date.now() - sent).toBeLessThan(5000);
    expect(waiting.stderr).toMatch(/dnslens summary/);
    expect(waiting.stderr).not.toMatch(/rows sent\s+[1-9]/);
  }, 30_000);

  it('a bad URL or refused credentials stop the run at start-up (exit 2), naming the option', async () => {
    const run = async (args: string[]) => dnslens(['--pcapFile', CAPTURE, '--natsOutputType', '1', '--metricFlushInterval', '0', ...args]);
    let r = await run(['--natsOutputServer', 'http://127.0.0.1:4222']);
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/--natsOutputServer: http:\/\/127\.0\.0\.1:4222: the scheme must be nats:\/\/ or tls:\/\//)]);
    r = await run(['--natsOutputServer', server.url, '--natsOutputPassword', 'x']);
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/--natsOutputPassword: needs --natsOutputUser/)]);
    const users = new NatsServer(join(root, 'users'), await freePort(), ['--user', 'sensor', '--pass', 'right']);
    const tokens = new NatsServer(join(root, 'tokens'), await freePort(), ['--auth', 's3cret']);
    await Promise.all([users.start(), tokens.start()]);
    try {
      r = await run(['--natsOutputServer', users.url, '--natsOutputUser', 'sensor', '--natsOutputPassword', 'wrong']);
      expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/--natsOutputServer .*cannot connect: .*authorization violation/i)]);
      r = await run(['--natsOutputServer', tokens.url, '--natsOutputToken', 'wrong']);
      expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/authorization violation/i)]);
      r = await dnslens(['--natsInputServer', tokens.url, '--natsInputToken', 'wrong', '--dataDir', join(root, 'refused'), '--metricFlushInterval', '0']);
      expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/--natsInputServer .*cannot connect: .*authorization violation/i)]);
      // the right ones
      r = await run(['--natsOutputServer', users.url, '--natsOutputUser', 'sensor', '--natsOutputPassword', 'right']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/rows sent\s+5,851\n/);
      r = await run(['--natsOutputServer', tokens.url, '--natsOutputToken', 's3cret']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/rows sent\s+5,851\n/);
    } finally {
      await Promise.all([users.stop(), tokens.stop()]);
    }
  }, 120_000);
});

describeWithPeers('NATS over TLS with an nkey (a real nats-server)', ['nats-server', 'openssl'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnslens-nats-tls-'));
  let server: NatsServer;

  beforeAll(async () => {
    execFileSync('sh', ['-c', `openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dnslens-test-ca -keyout ca.key -out ca.pem 2>/dev/null &&
      openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null &&
      printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext &&
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem 2>/dev/null &&
      openssl req -newkey rsa:2048 -nodes -subj /CN=sensor -keyout client.key -out client.csr 2>/dev/null &&
      openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out client.pem 2>/dev/null`], { cwd: dir, stdio: 'pipe' });
    const user = createUser();
    writeFileSync(join(dir, 'sensor.nk'), new TextDecoder().decode(user.getSeed()) + '\n');
    writeFileSync(
      join(dir, 'server.conf'),
      `tls { cert_file: "${dir}/server.pem", key_file: "${dir}/server.key", ca_file: "${dir}/ca.pem", verify: true }\n` +
        `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n`,
    );
    // by name: the client checks the certificate against the URL's host name (an IP address is
    // checked as "localhost": the client library passes no name then)
    server = new NatsServer(dir, await freePort(), ['-c', join(dir, 'server.conf')], 'tls://localhost');
    await server.start();
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[]) => dnslens(['--pcapFile', CAPTURE, '--natsOutputType', '1', '--natsOutputServer', server.url, '--metricFlushInterval', '0', ...args]);
  const tls = () => ['--natsOutputCACertificatePath', join(dir, 'ca.pem'), '--natsOutputTLSCertificatePath', join(dir, 'client.pem'), '--natsOutputTLSKeyPath', join(dir, 'client.key')];

  it('publishes with the CA, a client certificate and the nkey seed', async () => {
    const r = await run([...tls(), '--natsOutputNkeySeedFile', join(dir, 'sensor.nk')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rows sent\s+5,851\n/);
  });

  it('without the client certificate, without the seed, or with another CA: exit 2 at start-up', async () => {
    let r = await run(['--natsOutputCACertificatePath', join(dir, 'ca.pem'), '--natsOutputNkeySeedFile', join(dir, 'sensor.nk')]);
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/--natsOutputServer tls:.*cannot connect/)]);
    r = await run(tls());
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/--natsOutputServer tls:.*cannot connect: .*authorization violation/i)]);
    r = await run([...tls().slice(2), '--natsOutputNkeySeedFile', join(dir, 'sensor.nk')]); // the system CAs do not know this one
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/--natsOutputServer tls:.*cannot connect/)]);
  });
});

describeWithPeers('NATS into PostgreSQL: acknowledged only once the transaction committed (real nats-server and PostgreSQL)', ['nats-server', 'setpriv', ...(pgBin() ? [] : ['postgresql'])], () => {
  it('PostgreSQL stopped while the collector runs: nothing acknowledged meanwhile, nothing lost, nothing doubled', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dnslens-nats-pg-'));
    const server = new NatsServer(join(root, 'nats'), await freePort());
    const pg = await startPostgres();
    let nc: NatsConnection | undefined;
    try {
      await server.start();
      nc = await connect({ servers: server.url });
      const jsm = await jetstreamManager(nc);
      const r = await dnslens(['--pcapFile', CAPTURE, '--natsOutputType', '1', '--natsOutputServer', server.url, '--natsOutputStream', 'PG', '--natsOutputSubject', 'pg.{server}', '--natsBatchSize', '100']);
      expect(r.status, r.stderr).toBe(0);
      const total = (await jsm.streams.info('PG')).state.last_seq;
      pg.stop(); // the store is down when the collector starts taking messages
      const again = new Running(['--natsInputServer', server.url, '--natsInputSubject', 'pg.>', '--natsInputDurable', 'pg', '--natsInputAckWait', '3s',
        '--psqlOutputType', '1', '--psqlEndpoint', pg.url(), '--timezone', 'UTC', '--metricFlushInterval', '0', '--psqlBatchDelay', '200ms']);
      // it cannot open its output while PostgreSQL is down: it waits for it (retrying) and acknowledges nothing
      await new Promise((res) => setTimeout(res, 4000));
      expect(again.child.exitCode, again.stderr).toBeNull();
      expect(again.stderr).toMatch(/PostgreSQL at .* cannot be reached; waiting for it/);
      const none = await consumerState(jsm, 'PG', 'pg').catch(() => ({ acked: 0 })); // (no consumer made yet is none acknowledged too)
      expect(none.acked).toBe(0);
      pg.start();
      await eventually('a message acknowledged', async () => (await consumerState(jsm, 'PG', 'pg')).acked > 0);
      pg.stop(); // now mid-run: what is in flight waits, unacknowledged
      const held = (await consumerState(jsm, 'PG', 'pg')).acked;
      expect(held).toBeLessThan(total); // stopped part way
      await new Promise((res) => setTimeout(res, 4000));
      expect((await consumerState(jsm, 'PG', 'pg')).acked - held).toBeLessThanOrEqual(1); // at most the one committing as it stopped
      pg.start();
      await eventually('every message acknowledged', async () => (await consumerState(jsm, 'PG', 'pg')).acked === total, 120_000);
      again.child.kill('SIGTERM');
      expect(await again.exited, again.stderr).toBe(0);
      expect(pg.psql('SELECT count(*) FROM dnslens.dns_queries').trim()).toBe(String(CAPTURE_EVENTS));
    } finally {
      await nc?.close();
      await server.stop();
      pg.close();
      rmSync(root, { recursive: true, force: true });
    }
  }, 240_000);
});
