// The spool across versions: a directory left by a dnslens that spooled RowBinary (meta version
// 1, <seq>.rb) replays into the store next to new Native batches (version 2, <seq>.native); a
// batch whose meta this version does not know is set aside, not replayed nor deleted.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { Stats } from '../src/stats.js';
import { type InsertBatch, type Store } from '../src/store/connection.js';
import { dnsLogColumnNames } from './store-insert.js';
import { encodeRows } from './rowbinary.js';
import { clickhouseWriter, openClickHouseSpool } from '../src/outputs/clickhouse/output.js';
import { embeddedStore } from './embedded-store.js';
import { batchBytes, firstPacketTime } from './batch-bytes.js';
// @ts-expect-error: plain JS shared with the holder process
import { syntheticEvents } from './store-fixtures.mjs';

const events = (n: number, start: number): DnsEvent[] => syntheticEvents(n, start) as DnsEvent[];
const now = () => Math.floor(Date.now() / 1000);

/** A spool entry exactly as dnslens wrote them before the Native encoder. */
function writeV1Entry(dir: string, seq: number, evs: DnsEvent[]): void {
  const base = join(dir, String(seq).padStart(16, '0'));
  writeFileSync(`${base}.json`, JSON.stringify({ version: 1, columns: dnsLogColumnNames(), rows: evs.length, createdAt: new Date().toISOString() }));
  writeFileSync(`${base}.rb`, encodeRows(evs, now()));
}

describe('spool formats', () => {
  let store: Store;
  const root = embeddedStore('dnslens-spool-test-', (s) => (store = s));

  it('replays a version-1 RowBinary spool, then new Native batches after it, in order', async () => {
    const dir = join(root, 'spool-v1');
    mkdirSync(dir, { recursive: true });
    writeV1Entry(dir, 1, events(300, 0));
    writeV1Entry(dir, 2, events(200, 300));
    writeFileSync(join(dir, 'lock'), '999999999'); // left by a process that is gone

    const spool = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    expect(spool.entries).toBe(2);
    expect(spool.oldest()?.meta.format).toBe('RowBinary');
    const seen: [string, bigint][] = [];
    const sink = {
      where: store.where,
      async insertBatch(b: InsertBatch): Promise<void> {
        seen.push([b.format, firstPacketTime(batchBytes(b), b.format)]);
        await store.insertBatch(b);
      },
    };
    const w = clickhouseWriter(sink, { batchSize: 250, delayMs: 60_000, stats: new Stats(), spool });
    await w.write(events(500, 500));
    await w.flush();
    expect(seen.map(([f]) => f)).toEqual(['RowBinary', 'RowBinary', 'Native', 'Native']);
    expect(seen.every(([, t], i) => i === 0 || t > seen[i - 1][1])).toBe(true);
    // new batches queue behind the old ones in the spool while it holds any
    expect(w.counters.get('replayed')).toBe(500 + w.counters.get('spooled'));
    const [r] = await store.query<{ n: string; t: string }>('SELECT count() AS n, uniqExact(PacketTime) AS t FROM DNS_LOG');
    expect([Number(r.n), Number(r.t)]).toEqual([1000, 1000]);
    expect(readdirSync(dir).filter((f) => f !== 'lock')).toEqual([]);
    await w.close();
    await spool.release();
  });

  it('writes version-2 meta naming the format, and reads it back', async () => {
    const dir = join(root, 'spool-v2');
    let spool = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    await spool.append(7, 3, { format: 'Native', columns: dnsLogColumnNames() }, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    await spool.release();
    const meta = JSON.parse(readFileSync(join(dir, '0000000000000007.json'), 'utf8'));
    expect([meta.version, meta.format, meta.rows]).toEqual([2, 'Native', 3]);
    expect([...readFileSync(join(dir, '0000000000000007.native'))]).toEqual([1, 2, 3]);
    spool = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    expect(spool.oldest()).toMatchObject({ seq: 7, rows: 3, bytes: 3, meta: { format: 'Native' } });
    await spool.remove(spool.oldest()!);
    expect(readdirSync(dir).filter((f) => f !== 'lock')).toEqual([]);
    await spool.release();
  });

  it('sets aside a batch in a format it does not know, and drops a meta without data', async () => {
    const dir = join(root, 'spool-future');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '0000000000000001.json'), JSON.stringify({ version: 3, format: 'Parquet', columns: ['x'], rows: 1 }));
    writeFileSync(join(dir, '0000000000000001.parquet'), 'PAR1');
    writeFileSync(join(dir, '0000000000000002.json'), JSON.stringify({ version: 2, format: 'Native', columns: ['x'], rows: 1 }));
    const spool = await openClickHouseSpool(dir, { maxBytes: 1 << 30 });
    expect(spool.entries).toBe(0);
    expect(readdirSync(join(dir, 'rejected')).sort()).toEqual(['0000000000000001.json', '0000000000000001.parquet']);
    expect(existsSync(join(dir, '0000000000000002.json'))).toBe(false);
    await spool.release();
  });
});
