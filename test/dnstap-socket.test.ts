// The dnstap listener's protocol handling: bidirectional handshake, unidirectional streams,
// concurrent producers, a broken stream closing only its own connection, the unix socket file
// (stale file replaced, live one refused, permission bits), and the CLI with golang-dnstap as a
// real producer and SIGTERM/SIGINT shutdown.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { Stats } from '../src/stats.js';
import { listenDnstap, parseDnstapAddress, type DnstapListener } from '../src/inputs/dnstap/socket.js';
import { encodeDnstap } from './dnstap-encode.js';
import {
  CONTROL_ACCEPT,
  CONTROL_FINISH,
  CONTROL_READY,
  CONTROL_START,
  CONTROL_STOP,
  controlFrame,
  dataFrame,
  DNSTAP_CONTENT_TYPE,
} from '../src/inputs/dnstap/framestream.js';
import { describeWithPeers } from './peers.js';
import { produce, runCli } from './dnstap-helpers.js';
import { SHARED_DIR } from './data.js';

const tmp = mkdtempSync(join(tmpdir(), 'dnslens-dnstap-sock-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const sockPath = () => join(tmp, `s${n++}.sock`);

function frame(i: number, qname = `q${i}.example`): Buffer {
  return dataFrame(
    encodeDnstap({
      type: 5,
      identity: 'prod',
      family: 1,
      protocol: 1,
      queryAddress: Uint8Array.from([127, 0, 0, 1]),
      responseAddress: Uint8Array.from([127, 0, 0, 53]),
      queryPort: 10000 + i,
      responsePort: 53,
      queryTime: [1_700_000_000, i],
      queryMessage: dnsPacket.encode({ type: 'query', id: i, questions: [{ type: 'A', name: qname, class: 'IN' }] }),
    }),
  );
}

const READY = controlFrame(CONTROL_READY, [DNSTAP_CONTENT_TYPE]);
const START = controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE]);
const STOP = controlFrame(CONTROL_STOP);
const ACCEPT = controlFrame(CONTROL_ACCEPT, [DNSTAP_CONTENT_TYPE]);
const FINISH = controlFrame(CONTROL_FINISH);

/** A listener plus a background reader of its events. */
async function listening(address: string, extra: { permission?: number; maxFrameSize?: number } = {}) {
  const stats = new Stats();
  const listener = await listenDnstap({ address, stats, server: 'sensor', useIdentity: false, ...extra });
  const events: DnsEvent[] = [];
  const done = (async () => {
    for await (const b of listener.events) events.push(...b);
  })();
  const waitEvents = async (count: number, ms = 10_000) => {
    const until = Date.now() + ms;
    while (events.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(events.length).toBe(count);
  };
  return { stats, listener, events, done, waitEvents };
}

async function finish(l: { listener: DnstapListener; done: Promise<void> }): Promise<void> {
  await l.listener.close();
  await l.done;
}

describe('dnstap listener', () => {
  it('bidirectional: READY -> ACCEPT, START, data, STOP -> FINISH', async () => {
    const path = sockPath();
    const l = await listening(`unix://${path}`);
    const p = await produce({ path });
    p.socket.write(READY);
    await p.waitForBytes(ACCEPT.length, 5000);
    expect(p.received().equals(ACCEPT)).toBe(true);
    p.socket.write(Buffer.concat([START, frame(1), frame(2), frame(3), STOP]));
    await p.waitForBytes(ACCEPT.length + FINISH.length, 5000);
    expect(p.received().subarray(ACCEPT.length).equals(FINISH)).toBe(true);
    p.socket.end();
    await l.waitEvents(3);
    expect(l.events.map((e) => e.qname)).toEqual(['q1.example', 'q2.example', 'q3.example']);
    expect(l.events[0]).toMatchObject({ messageType: 'CLIENT_QUERY', srcIp: '127.0.0.1', dstIp: '127.0.0.53', srcPort: 10001, dstPort: 53, inputKind: 'dnstap', server: 'sensor' });
    await finish(l);
    expect(l.stats.malformed).toBe(0);
    expect(l.listener.connections).toMatchObject({ accepted: 1, open: 0, broken: 0 });
    expect(existsSync(path)).toBe(false); // the socket file goes with the listener
  });

  it('unidirectional over TCP: START, data, STOP, no replies', async () => {
    const l = await listening('tcp://127.0.0.1:0');
    const { host, port } = parseDnstapAddress(l.listener.address) as { host: string; port: number };
    const p = await produce({ host, port });
    p.socket.end(Buffer.concat([START, ...Array.from({ length: 50 }, (_, i) => frame(i)), STOP]));
    await p.closed;
    await l.waitEvents(50);
    expect(p.received().length).toBe(0);
    await finish(l);
  });

  it('refuses a READY without the dnstap content type, counted', async () => {
    const path = sockPath();
    const l = await listening(`unix://${path}`);
    const p = await produce({ path });
    p.socket.write(controlFrame(CONTROL_READY, ['protobuf:other.Thing']));
    await p.closed;
    expect(l.stats.unsupportedBy.get('framestream:content-type')).toBe(1);
    await finish(l);
  });

  it('two concurrent producers; an oversize frame, then garbage, close only their own connections', async () => {
    const path = sockPath();
    const l = await listening(`unix://${path}`, { maxFrameSize: 4096 });
    const good = await produce({ path });
    const big = await produce({ path });
    const junk = await produce({ path });
    good.socket.write(READY);
    await good.waitForBytes(ACCEPT.length, 5000);
    good.socket.write(Buffer.concat([START, ...Array.from({ length: 100 }, (_, i) => frame(i, `good${i}.example`))]));
    big.socket.write(Buffer.concat([START, frame(1, 'big-before.example'), dataFrame(Buffer.alloc(5000, 7)), frame(2, 'big-after.example')]));
    await big.closed;
    // Garbage without any Frame Streams start: a length that points past a START-less stream.
    junk.socket.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await junk.closed;
    // The good producer goes on after both were cut off.
    good.socket.write(Buffer.concat([...Array.from({ length: 100 }, (_, i) => frame(i, `good${100 + i}.example`)), STOP]));
    await good.waitForBytes(ACCEPT.length + FINISH.length, 5000);
    good.socket.end();
    await l.waitEvents(201);
    await finish(l);
    const names = l.events.map((e) => e.qname);
    expect(names.filter((q) => q.startsWith('good'))).toHaveLength(200);
    expect(names).toContain('big-before.example');
    expect(names).not.toContain('big-after.example');
    // The oversize frame, and the garbage, whose first four bytes read as a 1.2 GB frame length.
    expect(l.stats.malformedBy.get('framestream:oversize-frame')).toBe(2);
    expect(l.stats.malformed).toBe(2);
    expect(l.listener.connections).toMatchObject({ accepted: 3, broken: 2, open: 0 });
  });

  it('a connection cut inside a frame is counted; close() ends an idle connection and the events', async () => {
    const path = sockPath();
    const l = await listening(`unix://${path}`);
    const cut = await produce({ path });
    cut.socket.end(Buffer.concat([START, frame(1), frame(2).subarray(0, 10)]));
    await cut.closed;
    const idle = await produce({ path });
    idle.socket.write(START);
    await l.waitEvents(1);
    await finish(l); // must not wait for the idle producer
    await idle.closed;
    expect(l.stats.malformedBy.get('framestream:truncated-frame')).toBe(1);
  });

  it('unix socket file: permission bits, a stale file replaced, a live one or a plain file refused', async () => {
    const path = sockPath();
    const l = await listening(`unix://${path}`, { permission: 0o660 });
    expect(statSync(path).mode & 0o777).toBe(0o660);
    // A second listener on the same path while the first is alive: refused, the first unharmed.
    await expect(listenDnstap({ address: `unix://${path}`, stats: new Stats(), server: '', useIdentity: false })).rejects.toThrow(/another process is listening/);
    expect(statSync(path).isSocket()).toBe(true);
    await finish(l);

    // A stale socket: a process bound it and was killed, leaving the file behind.
    const stale = sockPath();
    const killed = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stale)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    expect(killed.signal).toBe('SIGKILL');
    expect(statSync(stale).isSocket()).toBe(true);
    const l2 = await listening(`unix://${stale}`, { permission: 0o600 });
    expect(statSync(stale).mode & 0o777).toBe(0o600);
    const p = await produce({ path: stale });
    p.socket.end(Buffer.concat([START, frame(7), STOP]));
    await l2.waitEvents(1);
    await finish(l2);

    const plain = join(tmp, 'plain-file');
    writeFileSync(plain, 'keep me');
    await expect(listenDnstap({ address: `unix://${plain}`, stats: new Stats(), server: '', useIdentity: false })).rejects.toThrow(/not a socket/);
    expect(existsSync(plain)).toBe(true);
  });

  it('parses addresses', () => {
    expect(parseDnstapAddress('unix:///run/dnstap.sock')).toEqual({ kind: 'unix', path: '/run/dnstap.sock' });
    expect(parseDnstapAddress('tcp://0.0.0.0:6000')).toEqual({ kind: 'tcp', host: '0.0.0.0', port: 6000 });
    expect(parseDnstapAddress('tcp://[::1]:6000')).toEqual({ kind: 'tcp', host: '::1', port: 6000 });
    expect(() => parseDnstapAddress('unix://relative')).toThrow(/absolute/);
    expect(() => parseDnstapAddress('udp://1.2.3.4:5')).toThrow(/expected/);
    expect(() => parseDnstapAddress('tcp://1.2.3.4:70000')).toThrow(/range/);
  });
});

describe('dnstap CLI', () => {
  it('refuses a bad socket address or permission with exit 2', async () => {
    for (const [args, msg] of [
      [['--dnstapSocket', 'udp://x:1'], /--dnstapSocket: udp:\/\/x:1: expected/],
      [['--dnstapSocket', `unix://${sockPath()}`, '--dnstapPermission', '999'], /--dnstapPermission: 999: expected an octal mode/],
    ] as const) {
      const cli = runCli([...args, '--stdoutOutputType', '1']);
      expect(await cli.exited).toBe(2);
      expect(cli.stderr()).toMatch(msg);
    }
  });
});

describeWithPeers('dnstap CLI with golang-dnstap as producer', ['dnstap'], () => {
  it('receives a file replayed by `dnstap -U`, then SIGTERM flushes and exits 0', async () => {
    const path = sockPath();
    const cli = runCli(['--dnstapSocket', `unix://${path}`, '--dnstapPermission', '0600', '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json']);
    await cli.waitForLog('dnstap: listening', 20_000);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = join(SHARED_DIR, 'data/dnstap/pktvisor__fixture.dnstap');
    // The file's last frame is cut short: golang-dnstap replays the 153 whole ones.
    // It waits for FINISH, which dnslens sends once every frame before STOP is decoded.
    const replay = await new Promise<Error | null>((resolve) => execFile('dnstap', ['-r', file, '-U', path], { timeout: 30_000 }, (e) => resolve(e)));
    expect(replay?.message ?? '').not.toMatch(/timed out|connect/i);
    // A few queries are held by query/response matching until the end of input: SIGTERM flushes them.
    expect(await cli.stop('SIGTERM')).toBe(0);
    expect(cli.events).toHaveLength(153);
    expect(cli.stderr()).toMatch(/DNS messages\s+153\n/);
    expect(cli.stderr()).toMatch(/malformed\s+0\n/);
    expect(existsSync(path)).toBe(false);
  });

  it('an idle listener stops on SIGINT with exit 0', async () => {
    const path = sockPath();
    const cli = runCli(['--dnstapSocket', `unix://${path}`, '--stdoutOutputType', '1']);
    await cli.waitForLog('dnstap: listening', 20_000);
    expect(await cli.stop('SIGINT')).toBe(0);
    expect(cli.stderr()).toMatch(/DNS messages\s+0\n/);
  });
});
