// Receiver faults, the same scenarios for every output that sends to a receiver (issue #17): the
// receiver is down at start-up, goes away mid-run, or answers errors for a while (HTTP 503, a
// read-only PostgreSQL), and the run survives: retried, nothing lost, nothing doubled, the summary
// counts the failed sends. A receiver that never comes back: every event read is accounted for at
// exit (sent + dropped + spooled). The scenarios are written once; each output only says how its
// receiver starts, stops, fails and counts what it stored. The outputs come from the registry, so
// a new output that sends somewhere must join the table or say why it cannot.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiscardPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createClient } from '@clickhouse/client';
import { registry } from '../src/cli/registry.js';
import { PCAP_DIR } from './data.js';
import { MAIN } from './dnstap-helpers.js';
import { bulk, influxV1, Ingestion, Receiver, SENTINEL_WANT, splunkHec, victoriaLogs, type Vendor } from './http-receivers.js';
import { describeWithPeers } from './peers.js';
import { summaryCounter } from './cli-async.js';
import { startHolder, type Holder } from './holder.js';
import { NatsServer } from './nats-server.js';
import { pgBin, startPostgres } from './postgres.js';
import { freePort } from './resolvers.js';

const CAPTURE = readFileSync(join(PCAP_DIR, 'dnscap__dns.pcap'));
const EVENTS = 82;
const root = mkdtempSync(join(tmpdir(), 'dnslens-faults-'));
const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const f of cleanups.splice(0).reverse()) await f();
  rmSync(root, { recursive: true, force: true });
});

/** A receiver the scenarios drive. fail: answers errors until fail(false) (none: the protocol has
 *  no answers to give, as plain syslog). */
interface Peer {
  start(): Promise<void>;
  stop(): Promise<void>;
  fail?(on: boolean): Promise<void>;
  stored(): Promise<number>;
}

interface Case {
  /** The flags that send to a receiver on `port`. */
  args(port: number, dir: string): string[];
  /** Its receiver, not started, and its port; none: no server can run here (NO_SERVER).
   *  noErrors: why it has no errors-for-a-while scenario. */
  receiver?: { make(): Promise<{ port: number; peer: Peer }>; peers: string[]; noErrors?: string };
}

// ------------------------------------------------------------------ receivers

/** An HTTP receiver from test/http-receivers.ts, stopped and started again on the same port. */
function http(vendor: () => Vendor): Case['receiver'] {
  const make = async (): Promise<{ port: number; peer: Peer }> => {
    const port = await freePort();
    const v = vendor(); // one vendor across restarts: a token it issued stays good
    let rx: Receiver | null = null;
    let failing = false;
    let earlier = 0;
    const peer: Peer = {
      async start() {
        rx = await Receiver.start(v, undefined, port);
        rx.failing = failing;
      },
      async stop() {
        if (!rx) return;
        earlier += rx.events.length;
        expect(rx.violations).toEqual([]);
        await rx.close();
        rx = null;
      },
      async fail(on) {
        failing = on;
        if (rx) rx.failing = on;
      },
      stored: async () => earlier + (rx?.events.length ?? 0),
    };
    return { port, peer };
  };
  return { make, peers: [] };
}

/** A TCP syslog receiver: octet-counted frames (RFC 6587 3.4.1), counted. */
async function syslogTcp(): Promise<{ port: number; peer: Peer }> {
  const port = await freePort();
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  let frames = 0;
  const peer: Peer = {
    async start() {
      server = createServer((s) => {
        sockets.add(s);
        let buf = Buffer.alloc(0);
        s.on('data', (d: Buffer) => {
          buf = Buffer.concat([buf, d]);
          for (;;) {
            const sp = buf.indexOf(0x20);
            if (sp < 0) break;
            const len = Number(buf.subarray(0, sp).toString());
            if (buf.length < sp + 1 + len) break;
            frames++;
            buf = buf.subarray(sp + 1 + len);
          }
        });
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      });
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      server = null;
    },
    stored: async () => frames,
  };
  return { port, peer };
}

/** A real PostgreSQL; failing = read-only (what a demoted primary answers: SQLSTATE 25006). */
async function postgres(): Promise<{ port: number; peer: Peer }> {
  const pg = await startPostgres();
  cleanups.push(() => pg.close());
  pg.stop(); // started by the first scenario
  let up = false;
  const readOnly = (on: boolean) => pg.psql(`ALTER SYSTEM ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}; SELECT pg_reload_conf();`);
  return {
    port: pg.port,
    peer: {
      async start() {
        if (!up) pg.start();
        up = true;
      },
      async stop() {
        if (up) pg.stop();
        up = false;
      },
      async fail(on) {
        readOnly(on);
      },
      async stored() {
        if (!up) return 0;
        const n = pg.psql("SELECT CASE WHEN to_regclass('dnslens.dns_queries') IS NULL THEN 0 ELSE (SELECT count(*) FROM dnslens.dns_queries) END").trim();
        return Number(n);
      },
    },
  };
}

/** A real nats-server with JetStream; failing = the stream full with discard new (JetStream
 *  answers "maximum messages exceeded"). One event per message (--natsBatchSize 1): counted as
 *  the stream's messages. */
async function nats(): Promise<{ port: number; peer: Peer }> {
  const port = await freePort();
  const server = new NatsServer(join(root, 'nats-server'), port);
  cleanups.push(() => server.stop());
  let up = false;
  let last = 0;
  const manage = async <T>(f: (jsm: JetStreamManager) => Promise<T>): Promise<T> => {
    const nc = await connect({ servers: server.url });
    try {
      return await f(await jetstreamManager(nc));
    } finally {
      await nc.close();
    }
  };
  const peer: Peer = {
    async start() {
      await server.start();
      up = true;
    },
    async stop() {
      await server.stop();
      up = false;
    },
    async fail(on) {
      await manage(async (jsm) => {
        const si = await jsm.streams.info(NATS_STREAM);
        await jsm.streams.update(NATS_STREAM, { ...si.config, max_msgs: on ? si.state.messages : -1, discard: on ? DiscardPolicy.New : DiscardPolicy.Old });
      });
    },
    async stored() {
      if (up) last = await manage(async (jsm) => (await jsm.streams.info(NATS_STREAM)).state.messages).catch(() => last);
      return last;
    },
  };
  return { port, peer };
}

const CH_TOKEN = 'fault-test-token';

/** dnslens' own ClickHouse HTTP endpoint in front of an embedded store (test/store-holder.mjs),
 *  the ClickHouse server protocol as far as this machine has one: stopped and started again. */
async function clickhouseEndpoint(): Promise<{ port: number; peer: Peer }> {
  const port = await freePort();
  const held = join(root, 'clickhouse-held');
  let holder: Holder | null = null;
  let last = 0;
  const peer: Peer = {
    async start() {
      holder = await startHolder(held, ['--port', String(port), '--token', CH_TOKEN]);
    },
    async stop() {
      await holder?.stop();
      holder = null;
    },
    async stored() {
      if (!holder) return last;
      const client = createClient({ url: `http://127.0.0.1:${port}`, username: 'dnslens', password: CH_TOKEN });
      try {
        const r = await client.query({ query: "SELECT count() AS n FROM DNS_LOG WHERE Server LIKE 'sensor-%'", format: 'JSONEachRow' });
        last = Number(((await r.json()) as { n: string }[])[0].n);
      } catch {
        // no table yet
      } finally {
        await client.close();
      }
      return last;
    },
  };
  cleanups.push(() => peer.stop());
  return { port, peer };
}

// ------------------------------------------------------------------ the outputs

const SPLUNK_TOKEN = '3f1c2b7e-8d4a-4e55-9a61-0c2d9b1e7f00';
const SENTINEL = SENTINEL_WANT;
const NATS_STREAM = 'DNSLENS';
const batch = (name: string, delayFlag = `${name}BatchDelay`) => [`--${name}BatchSize`, '10', `--${delayFlag}`, '100ms'];

const CASES: Record<string, Case> = {
  splunk: {
    args: (port) => ['--splunkOutputType', '1', '--splunkOutputEndpoint', `http://127.0.0.1:${port}`, '--splunkOutputToken', SPLUNK_TOKEN, ...batch('splunk')],
    receiver: http(() => splunkHec({ token: SPLUNK_TOKEN, host: /^sensor-\d$/, source: 'dnsmonster', sourcetype: 'json', index: 'temp' })),
  },
  elastic: {
    args: (port) => ['--elasticOutputType', '1', '--elasticOutputEndpoint', `http://127.0.0.1:${port}`, '--elasticOutputIndex', 'dns-events', ...batch('elastic')],
    receiver: http(() => bulk({ path: '/_bulk', action: 'create', index: 'dns-events' })),
  },
  zinc: {
    args: (port) => ['--zincOutputType', '1', '--zincOutputEndpoint', `http://127.0.0.1:${port}`, '--zincOutputUsername', 'admin', '--zincOutputPassword', 'pw', ...batch('zinc')],
    receiver: http(() => bulk({ path: '/api/_bulk', action: 'index', index: 'dnsmonster', user: 'admin', password: 'pw', zinc: true })),
  },
  victoria: {
    args: (port) => ['--victoriaOutputType', '1', '--victoriaOutputEndpoint', `http://127.0.0.1:${port}`, ...batch('victoria')],
    receiver: http(() => victoriaLogs({ msgField: 'qname', timeField: 'time', streamFields: 'server' })),
  },
  sentinel: {
    args: (port) => [
      '--sentinelOutputType', '1',
      '--sentinelOutputEndpoint', `http://127.0.0.1:${port}`,
      '--sentinelOutputDcrImmutableId', SENTINEL.dcr,
      '--sentinelOutputTenantId', SENTINEL.tenant,
      '--sentinelOutputClientId', SENTINEL.clientId,
      '--sentinelOutputClientSecret', SENTINEL.clientSecret,
      '--sentinelOutputTokenEndpoint', `http://127.0.0.1:${port}/{tenant}/oauth2/v2.0/token`,
      ...batch('sentinel'),
    ],
    receiver: http(() => new Ingestion(SENTINEL).vendor),
  },
  influx: {
    args: (port) => ['--influxOutputType', '1', '--influxOutputApi', 'v1', '--influxOutputServer', `http://127.0.0.1:${port}`, '--influxOutputDatabase', 'dns', ...batch('influx')],
    receiver: http(() => influxV1('dns')),
  },
  syslog: {
    args: (port) => ['--syslogOutputType', '1', '--syslogOutputEndpoint', `tcp://127.0.0.1:${port}`, ...batch('syslog')],
    receiver: { make: syslogTcp, peers: [], noErrors: 'plain syslog has no answers to refuse with' },
  },
  psql: {
    receiver: { make: postgres, peers: ['setpriv', ...(pgBin() ? [] : ['postgresql'])] },
    args: (port) => ['--psqlOutputType', '1', '--psqlEndpoint', `postgres://dnslens:lens-secret@127.0.0.1:${port}/dnslens`, '--timezone', 'UTC', ...batch('psql')],
  },
  nats: {
    args: (port) => ['--natsOutputType', '1', '--natsOutputServer', `nats://127.0.0.1:${port}`, '--natsOutputStream', NATS_STREAM, '--natsBatchSize', '1', '--natsBatchDelay', '100ms'],
    receiver: { make: nats, peers: ['nats-server'] },
  },
  clickhouse: {
    args: (port, dir) => ['--clickhouseOutputType', '1', '--clickhouseAddress', `127.0.0.1:${port}`, '--clickhouseUsername', 'dnslens', '--clickhousePassword', CH_TOKEN, '--dataDir', dir, '--clickhouseBatchSize', '10', '--clickhouseDelay', '100ms'],
    receiver: { make: clickhouseEndpoint, peers: [], noErrors: 'the endpoint in front of the embedded store has no way to fail on demand' },
  },
  kafka: {
    args: (port) => ['--kafkaOutputType', '1', '--kafkaOutputBroker', `127.0.0.1:${port}`, ...batch('kafka')],
  },
};

/** Outputs that send to no receiver: their faults are the disk's (file, parquet) or the reader's (stdout). */
const LOCAL = new Set(['stdout', 'file', 'parquet']);
/** Outputs with no server here: only the never-back scenario runs; why, for the README. */
const NO_SERVER: Record<string, string> = {
  kafka: 'no Kafka broker package in Debian',
};

// ------------------------------------------------------------------ dnslens, fed through stdin

class Run {
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[], server = 'sensor-1') {
    this.child = spawn(process.execPath, [MAIN, '--pcapFile', '-', '--serverName', server, '--metricFlushInterval', '0', ...args], { stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    children.add(this.child);
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    void this.exited.then(() => children.delete(this.child));
    this.child.stdin!.on('error', () => undefined); // a run that stopped early
  }

  /** Part `i` of `n` of the capture (cut anywhere: the reader takes a stream). */
  feed(i: number, n: number): void {
    const size = Math.ceil(CAPTURE.length / n);
    this.child.stdin!.write(CAPTURE.subarray(i * size, (i + 1) * size));
  }

  end(): void {
    this.child.stdin!.end();
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }

  /** The summary's counter of `component` (0 when it printed none). */
  counter(component: string, label: string): number {
    return summaryCounter(this.stderr, component, label);
  }

  get messages(): number {
    const m = /^\s+DNS messages\s+([\d,]+)/m.exec(this.stderr);
    return m ? Number(m[1].replace(/,/g, '')) : -1;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until read() gives true, at most timeoutMs. */
async function until(what: string, read: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await read())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Waits until the receiver stored at least one event and then nothing more for 500 ms (no send in flight). */
async function settled(peer: Peer): Promise<void> {
  await until('the first events', async () => (await peer.stored()) > 0);
  let last = -1;
  for (let n = await peer.stored(); n !== last; n = await peer.stored()) {
    last = n;
    await sleep(500);
  }
}

async function finished(run: Run, name: string): Promise<void> {
  const code = await Promise.race([run.exited, sleep(60_000).then(() => 'timeout')]);
  expect(code, run.stderr).toBe(0);
  expect(run.messages, run.stderr).toBe(EVENTS);
  expect(run.counter(name, 'rows dropped'), run.stderr).toBe(0);
}

// ------------------------------------------------------------------ the scenarios

describe('every output that sends somewhere is in this table', () => {
  it('each registry output has a case here, or is local (no receiver); a case without a receiver says why', () => {
    const names = registry.outputs.map((c) => c.name);
    expect(names.filter((n) => !LOCAL.has(n) && !CASES[n])).toEqual([]);
    expect(Object.keys(CASES).filter((n) => !CASES[n].receiver && !NO_SERVER[n])).toEqual([]);
  });
});

describe.concurrent('receiver faults, the same scenarios for every output', () => {
  // Every output at once: each waits 30 s at exit for its receiver (the toolkit's close timeout).
  it('never back: at exit every event read is sent, dropped or spooled, and counted, for every output', async ({ expect }) => {
    const runs = await Promise.all(
      Object.entries(CASES).map(async ([name, c]) => {
        const port = await freePort(); // nothing listens there
        const run = new Run(c.args(port, join(root, `${name}-never`)));
        run.feed(0, 1);
        run.end();
        // Once the output has said its receiver is not there (a failed send, or a wait at start-up):
        await until(`${name} noticing`, async () => /retrying|cannot be reached/.test(run.stderr) || run.messages >= 0);
        run.stop(); // outputs that wait for their server at start-up end here
        const code = await Promise.race([run.exited, sleep(60_000).then(() => 'timeout')]);
        return { name, run, code };
      }),
    );
    for (const { name, run, code } of runs) {
      expect.soft(code, `${name}: ${run.stderr}`).toBe(0);
      const read = Math.max(run.messages, 0);
      const accounted = run.counter(name, 'rows sent') + run.counter(name, 'rows dropped') + run.counter(name, 'rows spooled');
      expect.soft(accounted, `${name}: ${run.stderr}`).toBe(read);
      expect.soft(run.counter(name, 'rows sent'), name).toBe(0);
    }
  }, 90_000);

  for (const [name, c] of Object.entries(CASES)) {
    const dir = join(root, name);
    const rc = c.receiver;
    if (rc) {
      describeWithPeers(name, rc.peers, () => {
        describe.sequential('its receiver', () => {
          let made: { port: number; peer: Peer } | null = null;
          const open = async () => {
            made ??= await rc.make();
            return made;
          };

          // A third of the capture goes through; the receiver fails (down or erring) while the second
          // third is read, and is back for the last. The server name differs per scenario: receivers
          // that store an event once by its identity (PostgreSQL, NATS) would drop a replay.
          const outage = async ({ port, peer }: { port: number; peer: Peer }, fault: (peer: Peer, on: boolean) => Promise<void>, server: string) => {
            const before = await peer.stored();
            const run = new Run(c.args(port, dir), server);
            run.feed(0, 3);
            await settled({ ...peer, stored: async () => (await peer.stored()) - before });
            await fault(peer, true);
            run.feed(1, 3);
            await sleep(1500);
            await fault(peer, false);
            run.feed(2, 3);
            run.end();
            await finished(run, name);
            expect((await peer.stored()) - before).toBe(EVENTS);
            expect(run.counter(name, 'rows sent')).toBe(EVENTS);
            expect(run.counter(name, 'failed sends'), run.stderr).toBeGreaterThan(0);
          };

          it('down at start-up: the events wait, and all of them arrive once it listens', async () => {
            const { port, peer } = await open();
            const run = new Run(c.args(port, dir));
            run.feed(0, 2);
            // once the output has found it down (a failed send, or a wait at start-up)
            await until(`${name} finding its receiver down`, async () => /retrying|cannot be reached/.test(run.stderr));
            await peer.start();
            cleanups.push(() => peer.stop());
            run.feed(1, 2);
            run.end();
            await finished(run, name);
            expect(await peer.stored()).toBe(EVENTS);
            expect(run.counter(name, 'rows sent')).toBe(EVENTS);
          }, 90_000);

          it('gone mid-run: sends fail and are retried, and every event arrives exactly once', async () => {
            await outage(await open(), (peer, down) => (down ? peer.stop() : peer.start()), 'sensor-2');
          }, 90_000);

          if (rc.noErrors) return; // no such scenario: see noErrors
          it('errors for a while: retried until the receiver takes them, nothing lost', async () => {
            await outage(await open(), (peer, failing) => peer.fail!(failing), 'sensor-3');
          }, 90_000);
        });
      });
    }

  }
});
