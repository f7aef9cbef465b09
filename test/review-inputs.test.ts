// Review of the live and dnstap inputs: one test per defect found, each failing before its fix.
import { lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { Stats } from '../src/stats.js';
import { CONTROL_START, CONTROL_STOP, controlFrame, dataFrame, DNSTAP_CONTENT_TYPE, FrameReader } from '../src/inputs/dnstap/framestream.js';
import { encodeDnstap } from './dnstap-encode.js';
import { listenDnstap } from '../src/inputs/dnstap/socket.js';

const tmp = mkdtempSync(join(tmpdir(), 'dnslens-review-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A full collection on demand, so retained memory can be measured rather than guessed.
setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;
// V8 frees array buffer memory concurrently: collect, let it finish, collect again.
async function gc(): Promise<void> {
  fullGc();
  await new Promise((r) => setTimeout(r, 20));
  fullGc();
}

describe('Frame Streams reader memory', () => {
  it('a frame dripped in tiny chunks holds about its own size, not every chunk the socket delivered', async () => {
    const frames: number[] = [];
    const reader = new FrameReader({ data: (_b, s, e) => void frames.push(e - s), control: () => null });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(4000);
    expect(reader.push(header)).toBeNull();
    await gc();
    const before = process.memoryUsage().arrayBuffers;
    // Each socket read is its own allocation (Node sizes it to the read); a slowloris producer
    // sends one byte per read. 64 KiB backing stores make any retention plain to see.
    for (let i = 0; i < 2000; i++) expect(reader.push(Buffer.from(new ArrayBuffer(65536), 0, 1))).toBeNull();
    await gc();
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(reader.pending).toBe(2004);
    expect(grown).toBeLessThan(16 << 20); // retaining the reads would be 2000 x 64 KiB = 131 MB
    for (let i = 0; i < 2000; i++) reader.push(Buffer.alloc(1));
    expect(frames).toEqual([4000]);
    expect(reader.pending).toBe(0);
  });

  it('a frame cut across chunks is copied: the caller may reuse its read buffer', () => {
    const got: string[] = [];
    const reader = new FrameReader({ data: (b, s, e) => void got.push(Buffer.from(b.subarray(s, e)).toString()), control: () => null });
    const whole = Buffer.concat([Buffer.from([0, 0, 0, 6]), Buffer.from('abcdef')]);
    const scratch = Buffer.alloc(5);
    whole.copy(scratch, 0, 0, 5); // header and 'a'
    reader.push(scratch);
    scratch.fill(0x7a); // reused for the next read
    reader.push(whole.subarray(5));
    expect(got).toEqual(['abcdef']);
  });
});

describe('dnstap unix socket permission', () => {
  it('the socket file never has more permission bits than --dnstapPermission, even right after bind', async () => {
    const path = join(tmp, 'perm.sock');
    const listen = Server.prototype.listen;
    let modeAtBind = -1;
    // Node binds and listens synchronously inside listen(): the file's mode just after it is the
    // mode any local process could connect through before the listener applies its permission.
    Server.prototype.listen = function (this: Server, ...args: unknown[]) {
      const r = (listen as (...a: unknown[]) => Server).apply(this, args);
      if (args[0] === path) modeAtBind = lstatSync(path).mode & 0o777;
      return r;
    } as typeof listen;
    const umask = process.umask(0); // a permissive umask, as some service managers and containers set
    let listener;
    try {
      listener = await listenDnstap({ address: `unix://${path}`, stats: new Stats(), server: 's', useIdentity: false, permission: 0o600 });
    } finally {
      Server.prototype.listen = listen;
      process.umask(umask);
    }
    expect(modeAtBind & ~0o600).toBe(0);
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    await listener.close();
  });
});

describe('dnstap listener connection cap', () => {
  it('producers beyond maxConnections are refused and counted; those connected go on', async () => {
    const stats = new Stats();
    const listener = await listenDnstap({ address: 'tcp://127.0.0.1:0', stats, server: 's', useIdentity: false, maxConnections: 2 });
    const port = Number(/:(\d+)$/.exec(listener.address)?.[1]);
    const events: number[] = [];
    const reading = (async () => {
      for await (const b of listener.events) events.push(b.length);
    })();
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const c = connect(port, '127.0.0.1', () => resolve(c));
        c.once('error', reject);
      });
    const a = await open();
    const b = await open();
    // Without a cap every connection is kept, each holding up to a frame's worth of memory.
    const c = await open();
    c.on('error', () => {});
    const closedBy = await new Promise<string>((resolve) => {
      const t = setTimeout(() => resolve('still open after 3 s'), 3000);
      c.once('close', () => {
        clearTimeout(t);
        resolve('closed');
      });
    });
    c.destroy();
    expect(closedBy).toBe('closed');
    expect(listener.connections.refused).toBe(1);
    const frame = dataFrame(
      encodeDnstap({
        type: 5,
        family: 1,
        protocol: 1,
        queryAddress: Uint8Array.from([127, 0, 0, 1]),
        responseAddress: Uint8Array.from([127, 0, 0, 53]),
        queryPort: 1000,
        responsePort: 53,
        queryTime: [1_700_000_000, 0],
        queryMessage: Uint8Array.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 97, 0, 0, 1, 0, 1]),
      }),
    );
    for (const s of [a, b]) s.end(Buffer.concat([controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE]), frame, controlFrame(CONTROL_STOP)]));
    await Promise.all([a, b].map((s) => new Promise((r) => s.once('close', r))));
    await listener.close();
    await reading;
    expect(events.reduce((x, y) => x + y, 0)).toBe(2);
    expect(stats.dnsMessages).toBe(2);
  });
});
