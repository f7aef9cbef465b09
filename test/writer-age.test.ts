// The writer's age rule while an insert is in flight: a partial batch that comes of age then
// is not sealed (it would only queue behind that insert); it keeps filling and goes, whole, as
// soon as the insert ends. The store is the real embedded one; the first insert is held back
// until the test lets it through.
import { describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { Stats } from '../src/stats.js';
import { type InsertBatch, type Store } from '../src/store/connection.js';
import { clickhouseWriter } from '../src/outputs/clickhouse/output.js';
// @ts-expect-error: plain JS shared with the holder process
import { syntheticEvents } from './store-fixtures.mjs';
import { embeddedStore } from './embedded-store.js';

const events = (n: number, start: number): DnsEvent[] => syntheticEvents(n, start) as DnsEvent[];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, tries = 200, everyMs = 25): Promise<boolean> {
  for (let i = 0; i < tries && !cond(); i++) await sleep(everyMs);
  return cond();
}

describe('BatchWriter age rule with an insert in flight', () => {
  let store: Store;
  embeddedStore('dnslens-writer-age-test-', (s) => (store = s));

  it('keeps filling a batch that came of age during an insert and sends it when the insert ends', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sent: number[] = [];
    const sink = {
      where: store.where,
      async insertBatch(b: InsertBatch): Promise<void> {
        sent.push(b.rows);
        if (sent.length === 1) await gate;
        await store.insertBatch(b);
      },
    };
    const w = clickhouseWriter(sink, { batchSize: 1_000_000, delayMs: 30, stats: new Stats() });
    await w.write(events(10, 0));
    expect(await waitFor(() => sent.length === 1)).toBe(true); // sealed by age, insert held
    await w.write(events(20, 10));
    await sleep(150); // five times clickhouseDelay: of age, but the first insert is still running
    expect(sent).toEqual([10]);
    await w.write(events(5, 30)); // still the same batch
    release();
    expect(await waitFor(() => w.counters.get('batches') === 2)).toBe(true);
    expect(sent).toEqual([10, 25]);
    const [r] = await store.query<{ n: string }>('SELECT count() AS n FROM DNS_LOG');
    expect(Number(r.n)).toBe(35);
    await w.close();
  });
});
