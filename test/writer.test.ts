// The batching writer against real stores. Outages are real too: DNS_LOG is renamed away and
// back in the embedded store (every insert fails with UNKNOWN_TABLE meanwhile), and a store
// holder process serving the endpoint is stopped and restarted mid-stream.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { Stats } from '../src/stats.js';
import { openStore, type InsertBatch, type Store } from '../src/store/connection.js';
import { clickhouseWriter, openClickHouseSpool } from '../src/outputs/clickhouse/output.js';
import { BatchWriter, queueBound } from '../src/outputs/sink/writer.js';
import { log } from '../src/log.js';
import { embeddedStore } from './embedded-store.js';
import { batchBytes, firstPacketTime } from './batch-bytes.js';
import { startHolder } from './holder.js';
// @ts-expect-error: plain JS shared with the holder process
import { syntheticEvents } from './store-fixtures.mjs';

const events = (n: number, start: number): DnsEvent[] => syntheticEvents(n, start) as DnsEvent[];

async function count(store: Store, where = ''): Promise<number> {
  const r = await store.query<{ n: string | number }>(`SELECT count() AS n FROM DNS_LOG ${where}`);
  return Number(r[0].n);
}

async function distinctTimes(store: Store): Promise<number> {
  const r = await store.query<{ n: string | number }>('SELECT uniqExact(PacketTime) AS n FROM DNS_LOG');
  return Number(r[0].n);
}

// Forwards to the real store and notes the first PacketTime of every batch that went in, to
// check batches arrive in the order they were sealed. With cutShort, the batch with that
// ordinal (0-based, in order first seen) arrives 3 bytes short.
function recording(store: Store, cutShort?: number) {
  const firsts: bigint[] = [];
  const seen: bigint[] = [];
  const sink = {
    where: store.where,
    async insertBatch(b: InsertBatch): Promise<void> {
      const bytes = batchBytes(b);
      const head = firstPacketTime(bytes, b.format);
      if (!seen.includes(head)) seen.push(head);
      const bad = cutShort !== undefined && seen.indexOf(head) === cutShort;
      // the final bytes go missing: the last column (or row) is cut short
      await store.insertBatch(bad ? { ...b, path: undefined, data: bytes.subarray(0, bytes.length - 3) } : b);
      firsts.push(head);
    },
  };
  return { sink, firsts };
}

function increasing(xs: bigint[]): boolean {
  return xs.every((x, i) => i === 0 || x > xs[i - 1]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => Promise<boolean>, tries = 200, everyMs = 50): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return true;
    await sleep(everyMs);
  }
  return false;
}

describe('the queue bound of every sink', () => {
  it('is an eighth of --memoryLimit, between 4 MiB and 256 MiB; 256 MiB without a limit', () => {
    expect(queueBound(0)).toBe(256 << 20);
    expect(queueBound(400e6)).toBe(50e6);
    expect(queueBound(16 << 20)).toBe(4 << 20);
    expect(queueBound(8e9)).toBe(256 << 20);
  });
});

describe('BatchWriter after a stop (SIGINT/SIGTERM)', () => {
  // One byte per event; a receiver that takes a batch every 100 ms.
  const encoder = () => {
    let n = 0;
    return { encode: (events: readonly unknown[]) => void (n += events.length), take: () => [new Uint8Array(n - (n = 0))] };
  };
  const slow = () => {
    let taken = 0;
    return { target: { where: 'slow', send: async (b: { rows: number }) => { await new Promise((r) => setTimeout(r, 100)); taken += b.rows; } }, taken: () => taken };
  };
  const events = Array.from({ length: 10 }, () => ({}) as DnsEvent);

  it('gives a slow receiver closeTimeoutMs in all, then counts the rest as slow-at-exit', async () => {
    const stop = new AbortController();
    const rx = slow();
    const stats = new Stats();
    const w = new BatchWriter(rx.target, { name: 'slowsink', encoder: encoder(), meta: null, stats, log, batchSize: 10, delayMs: 60_000, closeTimeoutMs: 300, stop: stop.signal });
    for (let i = 0; i < 30; i++) void w.write(events); // 300 rows: 3 s at this receiver's pace
    stop.abort();
    await w.close();
    const dropped = stats.droppedBy.get('slowsink:slow-at-exit') ?? 0;
    expect(rx.taken()).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(rx.taken() + dropped).toBe(300);
    expect(w.counters.get('sent')).toBe(rx.taken());
  });

  it('without a stop, the input having ended, sends the whole backlog however slowly', async () => {
    const rx = slow();
    const stats = new Stats();
    const w = new BatchWriter(rx.target, { name: 'slowsink', encoder: encoder(), meta: null, stats, log, batchSize: 10, delayMs: 60_000, closeTimeoutMs: 300 });
    for (let i = 0; i < 8; i++) void w.write(events);
    await w.close();
    expect(rx.taken()).toBe(80);
    expect(stats.droppedBy.size).toBe(0);
  });
});

describe('BatchWriter on the embedded store', () => {
  let store: Store;
  const root = embeddedStore('dnslens-writer-test-', (s) => (store = s));
  let spoolN = 0;
  const takeDown = () => store.exec('RENAME TABLE DNS_LOG TO DNS_LOG_away');
  const bringBack = () => store.exec('RENAME TABLE DNS_LOG_away TO DNS_LOG');
  const newSpool = () => openClickHouseSpool(join(root, `spool-${++spoolN}`), { maxBytes: 1 << 30 });
  beforeEach(async () => {
    await store.exec('TRUNCATE TABLE DNS_LOG');
  });

  it('batches by size, in order, one insert at a time', async () => {
    const rec = recording(store);
    const w = clickhouseWriter(rec.sink, { batchSize: 1000, delayMs: 60_000, stats: new Stats() });
    for (let i = 0; i < 2500; i += 100) await w.write(events(100, i));
    await w.flush();
    expect(await count(store)).toBe(2500);
    expect(await count(store, 'WHERE QR = 1')).toBe(1250);
    expect(w.counters.get('batches')).toBe(3); // 1000 + 1000 + the 500 flush sealed
    expect(increasing(rec.firsts)).toBe(true);
    await w.close();
  });

  it('seals a partial batch when it is clickhouseDelay old', async () => {
    const w = clickhouseWriter(store, { batchSize: 1_000_000, delayMs: 100, stats: new Stats() });
    await w.write(events(10, 0));
    expect(await waitFor(async () => w.counters.get('batches') === 1)).toBe(true);
    expect(await count(store)).toBe(10);
    await w.close();
  });

  it('bridges an outage through memory and the spool, then replays in order without loss', async () => {
    const stats = new Stats();
    const spool = await newSpool();
    const rec = recording(store);
    const w = clickhouseWriter(rec.sink, {
      batchSize: 500,
      delayMs: 60_000,
      stats,
      spool,
      maxQueueBytes: 100_000, // about one batch: the rest must go to disk
      retryInitialMs: 20,
      retryMaxMs: 200,
    });
    await takeDown();
    for (let i = 0; i < 5000; i += 250) await w.write(events(250, i));
    await spool.settled();
    expect(w.counters.get('failed')).toBeGreaterThan(0);
    expect(spool.entries).toBeGreaterThan(0);
    expect(readdirSync(spool.dir).some((f) => f.endsWith('.native'))).toBe(true);
    await bringBack();
    await w.flush();
    expect(await count(store)).toBe(5000);
    expect(await distinctTimes(store)).toBe(5000); // nothing twice
    expect(w.counters.get('replayed')).toBe(w.counters.get('spooled'));
    expect(w.counters.get('spooled')).toBeGreaterThan(0);
    expect(increasing(rec.firsts)).toBe(true);
    expect(rec.firsts.length).toBe(10);
    expect([...stats.droppedBy]).toEqual([]);
    await w.close();
    await spool.release();
  });

  it('keeps what it could not insert at exit in the spool and replays it at the next start', async () => {
    const dir = join(root, 'spool-restart');
    let spool = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    const w1 = clickhouseWriter(store, { batchSize: 500, delayMs: 60_000, stats: new Stats(), spool, retryInitialMs: 20, closeTimeoutMs: 300 });
    await takeDown();
    await w1.write(events(1200, 0));
    await w1.close();
    await spool.release();
    expect(w1.counters.get('spooled')).toBe(1200);
    expect(readdirSync(dir).filter((f) => f.endsWith('.native')).length).toBe(3);
    await bringBack();
    expect(await count(store)).toBe(0);

    spool = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    expect(spool.entries).toBe(3);
    const w2 = clickhouseWriter(store, { batchSize: 500, delayMs: 60_000, stats: new Stats(), spool });
    await w2.flush(); // the replay started with the writer
    expect(await count(store)).toBe(1200);
    expect(await distinctTimes(store)).toBe(1200);
    expect(w2.counters.get('replayed')).toBe(1200);
    expect(readdirSync(dir).filter((f) => f.endsWith('.native'))).toEqual([]);
    await w2.close();
    await spool.release();
  });

  it('makes the caller wait while the store is down and the queue is full', async () => {
    const w = clickhouseWriter(store, { batchSize: 100, delayMs: 60_000, stats: new Stats(), maxQueueBytes: 1, retryInitialMs: 20, retryMaxMs: 100 });
    await takeDown();
    const p = w.write(events(100, 0));
    expect(p).toBeInstanceOf(Promise);
    let resolved = false;
    void (p as Promise<void>).then(() => (resolved = true));
    // several failed attempts later it still waits: the store is down and there is no room
    expect(await waitFor(async () => w.counters.get('failed') >= 3)).toBe(true);
    expect(resolved).toBe(false);
    await bringBack();
    await p;
    await w.flush();
    expect(await count(store)).toBe(100);
    await w.close();
  });

  it("counts what whenFull='drop' drops", async () => {
    const stats = new Stats();
    const w = clickhouseWriter(store, {
      batchSize: 100,
      delayMs: 60_000,
      stats,
      maxQueueBytes: 1,
      whenFull: 'drop',
      retryInitialMs: 20,
      retryMaxMs: 100,
    });
    await takeDown();
    expect(w.write(events(100, 0))).toBeUndefined(); // queued: the first batch fits
    expect(w.write(events(100, 100))).toBeUndefined(); // dropped, not waited for
    expect(w.write(events(100, 200))).toBeUndefined();
    expect(stats.droppedBy.get('clickhouse:queue-full')).toBe(200);
    await bringBack();
    await w.flush();
    expect(await count(store)).toBe(100);
    expect(w.counters.get('dropped')).toBe(200);
    await w.close();
  });

  it('without a spool, counts what a store still down at exit loses', async () => {
    const stats = new Stats();
    const w = clickhouseWriter(store, { batchSize: 1000, delayMs: 60_000, stats, retryInitialMs: 20, closeTimeoutMs: 200 });
    await takeDown();
    await w.write(events(50, 0));
    await w.close();
    await bringBack();
    expect(stats.droppedBy.get('clickhouse:down-at-exit')).toBe(50);
    expect(await count(store)).toBe(0);
  });

  it('sets aside a batch the store refuses for its content and goes on', async () => {
    const stats = new Stats();
    const spool = await newSpool();
    const rec = recording(store, 1); // the second batch arrives cut short
    const w = clickhouseWriter(rec.sink, { batchSize: 100, delayMs: 60_000, stats, spool, retryInitialMs: 10, rejectAfter: 2 });
    for (let i = 0; i < 300; i += 100) await w.write(events(100, i));
    await w.flush();
    expect(stats.droppedBy.get('clickhouse:rejected-by-receiver')).toBe(100);
    expect(await count(store)).toBe(200);
    const rejected = join(spool.dir, 'rejected');
    expect(existsSync(rejected) && readdirSync(rejected).some((f) => f.endsWith('.native'))).toBe(true);
    await w.close();
    await spool.release();
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('BatchWriter across a restart of the store process', () => {
  it('loses nothing when the store goes away mid-stream and comes back', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dnslens-writer-restart-'));
    const dataDir = join(root, 'data');
    const port = await freePort();
    const token = 'a'.repeat(32) + 'b'.repeat(32);
    let holder = await startHolder(dataDir, ['--port', String(port), '--token', token]);
    const store = await openStore({ dataDir, requestTimeoutMs: 10_000 });
    const stats = new Stats();
    const spool = await openClickHouseSpool(join(root, 'spool'), { maxBytes: 1 << 30 });
    try {
      expect(store.kind).toBe('endpoint');
      const rec = recording(store);
      const w = clickhouseWriter(rec.sink, { batchSize: 500, delayMs: 60_000, stats, spool, maxQueueBytes: 150_000, retryInitialMs: 50, retryMaxMs: 500 });
      for (let i = 0; i < 3000; i += 100) {
        if (i === 1000) expect(await holder.stop()).toBe(0);
        if (i === 2000) holder = await startHolder(dataDir, ['--port', String(port), '--token', token]);
        await w.write(events(100, i));
      }
      await w.flush();
      expect(await count(store)).toBe(3000);
      expect(await distinctTimes(store)).toBe(3000);
      expect(increasing(rec.firsts)).toBe(true);
      expect(w.counters.get('failed')).toBeGreaterThan(0);
      expect([...stats.droppedBy]).toEqual([]);
      await w.close();
    } finally {
      await spool.release();
      await store.close();
      await holder.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
