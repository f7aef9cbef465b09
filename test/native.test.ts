// The Native encoder against chdb: events of every shared capture, and hostile ones, stored
// through Native give exactly the rows the RowBinary path gives (every column, sorted), and
// chdb's own Native output of those rows stores the same again. A call that throws half way
// leaves nothing behind; blocks may be cut anywhere; LowCardinality dictionaries of any size.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeFrame, finishDecode, type DecodeContext } from '../src/decode/packet.js';
import { newEvent, type DnsAnswer, type DnsEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { Stats } from '../src/stats.js';
import { openStore, type EmbeddedStore, type InsertFormat, type Store } from '../src/store/connection.js';
import { dnsLogColumnNames } from './store-insert.js';
import { encodeNative, NativeEncoder } from '../src/outputs/clickhouse/native.js';
import { encodeRows } from './rowbinary.js';
import { Matcher } from '../src/transforms/match.js';
import { PCAP_DIR } from './data.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';

const INDEX_TIME = Math.floor(Date.now() / 1000); // retention counts from it: an old one is deleted at insert

/** Every message of every shared capture, matched (so some carry a response time, most not). */
async function decodeShared(): Promise<DnsEvent[]> {
  const events: DnsEvent[] = [];
  const files = readdirSync(PCAP_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort();
  for (const file of files) {
    const stats = new Stats();
    const ctx: DecodeContext = { stats, ports: new Set([53]), server: 'shared', inputKind: 'pcap', inputName: file };
    const matcher = new Matcher({ timeoutMs: 5000, stats });
    for await (const batch of readCapture(join(PCAP_DIR, file), stats)) {
      const out: DnsEvent[] = [];
      for (const f of batch) decodeFrame(f, ctx, out);
      events.push(...matcher.apply(out));
    }
    const tail: DnsEvent[] = [];
    finishDecode(ctx, tail);
    events.push(...matcher.apply(tail), ...matcher.flush());
  }
  return events;
}

function event(i: number, patch: Partial<DnsEvent> = {}): DnsEvent {
  const e = newEvent();
  e.timeSec = 1_700_000_000 + i;
  e.timeNsec = 123_456_789;
  e.server = 'hostile';
  e.ipVersion = 4;
  e.srcIp = `192.0.2.${i % 250}`;
  e.dstIp = '198.51.100.53';
  e.srcPort = 40000 + i;
  e.dstPort = 53;
  e.id = i;
  e.qname = `n${i}.example.com`;
  e.qtype = 1;
  e.qclass = 1;
  e.qdCount = 1;
  e.size = 40;
  e.inputName = 'hostile.pcap';
  return Object.assign(e, patch);
}

const manyAnswers: DnsAnswer[] = Array.from({ length: 65_535 }, (_, k) => ({
  name: 'x.example',
  type: k % 3 === 0 ? 28 : 1,
  class: 1,
  ttl: k,
  data: k % 1000 === 0 ? 'dönüş ✓' : `10.${(k >> 8) & 255}.${k & 255}.1`,
}));

/** Messages built to hurt: huge strings and answer lists, non-ASCII and broken UTF-16, values
 *  out of their column's range, bad addresses, between ordinary neighbours. */
function hostileEvents(): DnsEvent[] {
  return [
    event(0),
    event(1, { qname: 'a'.repeat(70_000) }),
    event(2),
    event(3, { qr: true, answers: manyAnswers, anCount: 65_535, srcIp: '198.51.100.53', dstIp: '192.0.2.3', srcPort: 53, dstPort: 40003 }),
    event(4),
    event(5, { qname: 'bücher.例え.テスト', answers: [{ name: 'ü', type: 16, class: 1, ttl: 1, data: '"\u{1F600} \\"quoted\\" \\010"' }] }),
    event(6, { qname: 'lone\ud800surrogate.example', clientId: 'é'.repeat(200), ednsClientSubnet: '2001:db8::/56' }),
    event(7, { ipVersion: 6, srcIp: '2001:db8::1%eth0', dstIp: '::ffff:192.0.2.1' }),
    event(8, { ipVersion: 6, srcIp: 'not an address', dstIp: '' }),
    event(9, { id: 70_000, srcPort: -1, size: 1e6, rcode: 5000, opcode: 300, responseTimeUs: 1e13 }),
    event(10, { responseTimeUs: -5, timeSec: 0, timeNsec: 999 }),
    event(11, { responseTimeUs: 2.6, timeSec: 4_102_444_800, qname: '.' }),
    event(12, { qname: '', server: '', inputName: '', messageType: 'CLIENT_QUERY', transport: 'tcp' }),
    event(13),
  ];
}

describe('Native encoder', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-native-test-'));
  const dataDir = join(root, 'data');
  const stores: Record<'r' | 'n' | 'c', Store> = {} as Record<'r' | 'n' | 'c', Store>;
  let shared: DnsEvent[] = [];

  beforeAll(async () => {
    shared = await decodeShared();
    for (const db of ['r', 'n', 'c'] as const) {
      stores[db] = await openStore({ dataDir, database: `native_${db}` });
      await prepareSchema(stores[db]);
    }
  });
  beforeEach(async () => {
    for (const s of Object.values(stores)) await s.exec(`TRUNCATE TABLE ${s.database}.DNS_LOG`);
  });
  afterAll(async () => {
    for (const s of Object.values(stores)) await s?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const insert = (store: Store, format: InsertFormat, data: Uint8Array | Uint8Array[], rows: number) =>
    store.insertBatch({ columns: dnsLogColumnNames(), rows, format, data });

  // Every stored column, rows in a fixed order: the text two insert paths must agree on.
  // (Table names are qualified: the sessions on one data dir share the current database.)
  const rowsOf = (store: Store) => store.queryText(`SELECT * FROM ${store.database}.DNS_LOG ORDER BY ALL`, 'TSV');

  it('stores the shared captures exactly as RowBinary does, and as chdb\'s own Native does', async () => {
    const evs = shared;
    expect(evs.length).toBeGreaterThan(1000);
    // the captures cover what the columns must carry
    expect(evs.some((e) => e.ipVersion === 6)).toBe(true);
    expect(evs.some((e) => e.transport === 'tcp')).toBe(true);
    expect(evs.some((e) => e.answers.length === 0 && e.qr)).toBe(true);
    expect(evs.some((e) => e.responseTimeUs === null)).toBe(true);
    expect(evs.some((e) => e.responseTimeUs !== null)).toBe(true);
    expect(evs.some((e) => e.answers.some((a) => a.data.includes('\\') || a.name.includes('\\')) || e.qname.includes('\\'))).toBe(true);

    await insert(stores.r, 'RowBinary', encodeRows(evs, INDEX_TIME), evs.length);
    await insert(stores.n, 'Native', encodeNative(evs, INDEX_TIME), evs.length);
    const viaRowBinary = await rowsOf(stores.r);
    expect(viaRowBinary.trimEnd().split('\n').length).toBe(evs.length);
    expect(await rowsOf(stores.n)).toBe(viaRowBinary);

    // chdb's Native output of the same rows is the reference for the format itself
    const session = await (stores.r as EmbeddedStore).newSession();
    try {
      const cols = dnsLogColumnNames().join(', ');
      const res = await session.queryAsync(`SELECT ${cols} FROM native_r.DNS_LOG FORMAT Native`);
      await insert(stores.c, 'Native', Buffer.from(res.bytes()), evs.length);
    } finally {
      session.close();
    }
    expect(await rowsOf(stores.c)).toBe(viaRowBinary);
  });

  it('keeps hostile values whole and their neighbours intact', async () => {
    const evs = hostileEvents();
    await insert(stores.r, 'RowBinary', encodeRows(evs, INDEX_TIME), evs.length);
    await insert(stores.n, 'Native', encodeNative(evs, INDEX_TIME), evs.length);
    expect(await rowsOf(stores.n)).toBe(await rowsOf(stores.r));
    const rows = await stores.n.query<{ ID: number; q: number; a: number; Question: string; ClientIPv6: string; ResponseTimeUs: number | null }>(
      'SELECT ID, length(Question) AS q, length(AnswerData) AS a, Question, ClientIPv6, ResponseTimeUs FROM native_n.DNS_LOG ORDER BY PacketTime, ID',
    );
    const byId = new Map(rows.map((r) => [Number(r.ID), r]));
    expect(rows.length).toBe(evs.length);
    expect(Number(byId.get(1)!.q)).toBe(70_000);
    expect(Number(byId.get(3)!.a)).toBe(65_535);
    for (const i of [0, 2, 4, 13]) expect(byId.get(i)!.Question).toBe(`n${i}.example.com`);
    expect(byId.get(5)!.Question).toBe('bücher.例え.テスト');
    expect(byId.get(6)!.Question).toBe('lone\ufffdsurrogate.example'); // as Buffer.from encodes it
    expect(byId.get(7)!.ClientIPv6).toBe('2001:db8::1');
    expect(byId.get(8)!.ClientIPv6).toBe('::');
    expect(Number(byId.get(70_000 & 0xffff)!.ResponseTimeUs)).toBe(0xffffffff);
    expect(Number(byId.get(10)!.ResponseTimeUs)).toBe(0);
    const [t] = await stores.n.query<{ d: string }>('SELECT AnswerData[1001] AS d FROM native_n.DNS_LOG WHERE ID = 3');
    expect(t.d).toBe('dönüş ✓');
  });

  it('drops all of a call that throws, zeroes what it wrote, and goes on', async () => {
    const enc = new NativeEncoder();
    enc.encode([event(0), event(1)], INDEX_TIME);
    const bad = event(3, { ipVersion: 6, srcIp: '2001:db8::3', responseTimeUs: 77 });
    const broken = { ...event(4), answers: null } as unknown as DnsEvent; // fails mid-row
    expect(() => enc.encode([bad, broken, event(5)], INDEX_TIME)).toThrow();
    expect(enc.rows).toBe(2);
    enc.encode([event(6)], INDEX_TIME); // the row the IPv6 client and response time were written to
    const data = enc.take();
    expect(enc.take()).toEqual([]);
    await insert(stores.n, 'Native', data, 3);
    const got = await stores.n.query<{ ID: number; ClientIPv6: string; ClientIPv4: string; r: number | null }>(
      'SELECT ID, ClientIPv6, ClientIPv4, ResponseTimeUs AS r FROM native_n.DNS_LOG ORDER BY ID',
    );
    expect(got.map((r) => [Number(r.ID), r.ClientIPv4, r.ClientIPv6, r.r])).toEqual([
      [0, '192.0.2.0', '::', null],
      [1, '192.0.2.1', '::', null],
      [6, '192.0.2.6', '::', null],
    ]);
  });

  it('gives the same rows whatever the calls and blocks the events are cut into', async () => {
    const evs = shared.slice(0, 3000);
    await insert(stores.r, 'Native', encodeNative(evs, INDEX_TIME), evs.length);
    const enc = new NativeEncoder();
    for (let i = 0, step = 1; i < evs.length; i += step, step = (step * 7) % 500 + 1) {
      enc.encode(evs.slice(i, i + step), INDEX_TIME);
      if (step % 3 === 0) enc.endBlock();
    }
    const chunks = enc.take();
    expect(chunks.every((c) => c.byteLength > 0)).toBe(true);
    await insert(stores.n, 'Native', chunks, evs.length);
    const whole = await rowsOf(stores.r);
    expect(whole.trimEnd().split('\n').length).toBe(evs.length);
    expect(await rowsOf(stores.n)).toBe(whole);
  });

  it('writes LowCardinality indexes wide enough for any number of distinct values', async () => {
    for (const distinct of [300, 70_000]) {
      await stores.n.exec('TRUNCATE TABLE native_n.DNS_LOG');
      const evs = Array.from({ length: distinct + 10 }, (_, i) => event(i, { inputName: `file-${i % distinct}`, server: i % 2 ? 'a' : 'b' }));
      await insert(stores.n, 'Native', encodeNative(evs, INDEX_TIME), evs.length);
      const [r] = await stores.n.query<{ n: number; u: number; ok: number }>(
        `SELECT count() AS n, uniqExact(InputName) AS u,
           countIf(InputName = concat('file-', toString((toUnixTimestamp(PacketTime) - 1700000000) % ${distinct}))) AS ok FROM native_n.DNS_LOG`,
      );
      expect([Number(r.n), Number(r.u), Number(r.ok)]).toEqual([distinct + 10, distinct, distinct + 10]);
    }
  });
});
