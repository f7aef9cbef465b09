// The chunked RowBinary encoder (the reference the Native encoder is compared with, and the
// format of spools older dnslens versions left): whatever the chunk size and wherever take()
// cuts, the chunks joined are byte for byte what encodeRows gives in one buffer, no chunk is
// empty, and a RowBinary batch handed to chdb as chunks stores every event of a real capture.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrame, type DecodeContext } from '../src/decode/packet.js';
import type { DnsEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { Stats } from '../src/stats.js';
import { openStore, type Store } from '../src/store/connection.js';
import { dnsLogColumnNames } from './store-insert.js';
import { encodeRows, RowEncoder } from './rowbinary.js';
import { PCAP_DIR } from './data.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';

async function decodeAll(): Promise<DnsEvent[]> {
  const events: DnsEvent[] = [];
  for (const file of readdirSync(PCAP_DIR).filter((f) => f.endsWith('.pcap')).sort()) {
    const stats = new Stats();
    const path = join(PCAP_DIR, file);
    const ctx: DecodeContext = { stats, ports: new Set([53]), server: 'test', inputKind: 'pcap', inputName: file };
    for await (const batch of readCapture(path, stats)) for (const f of batch) decodeFrame(f, ctx, events);
  }
  return events;
}

describe('RowEncoder', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-rowencoder-test-'));
  let events: DnsEvent[] = [];
  let store: Store;
  const now = Math.floor(Date.now() / 1000); // IndexTime: retention counts from it

  beforeAll(async () => {
    events = await decodeAll();
    store = await openStore({ dataDir: join(root, 'data') });
    await prepareSchema(store);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('gives the same bytes in chunks as in one buffer, for any chunk size and cut', () => {
    expect(events.length).toBeGreaterThan(1000); // the shared captures hold thousands of messages
    const whole = Buffer.from(encodeRows(events, now));
    for (const [chunk, step] of [[64, 1], [1000, 7], [65_536, 333], [1 << 22, 5000]] as const) {
      const enc = new RowEncoder(chunk);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < events.length; i += step) {
        enc.encode(events.slice(i, i + step), now);
        if ((i / step) % 3 === 0) {
          const pending = enc.bytes;
          const taken = enc.take();
          expect(taken.reduce((n, c) => n + c.byteLength, 0)).toBe(pending);
          parts.push(...taken);
        }
      }
      parts.push(...enc.take());
      expect(enc.take()).toEqual([]);
      expect(parts.every((p) => p.byteLength > 0)).toBe(true);
      if (chunk < whole.length) expect(parts.length).toBeGreaterThan(1);
      expect(Buffer.concat(parts).equals(whole)).toBe(true);
    }
  });

  it('stores every event when a batch goes in as chunks', async () => {
    const enc = new RowEncoder(4096);
    for (let i = 0; i < events.length; i += 100) enc.encode(events.slice(i, i + 100), now);
    const data = enc.take();
    await store.insertBatch({ columns: dnsLogColumnNames(), rows: events.length, format: 'RowBinary', data });
    const [r] = await store.query<{ n: string; q: string; size: string }>(
      'SELECT count() AS n, uniqExact(Question) AS q, sum(Size) AS size FROM DNS_LOG',
    );
    expect(Number(r.n)).toBe(events.length);
    expect(Number(r.q)).toBe(new Set(events.map((e) => e.qname)).size);
    expect(Number(r.size)).toBe(events.reduce((n, e) => n + e.size, 0));
  });
});
