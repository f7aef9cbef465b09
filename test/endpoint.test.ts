// Two real processes: test/store-holder.mjs holds the embedded store and serves the endpoint;
// this process reaches the store through it (as `dnslens sql` / `report` do during a capture),
// and opens the store itself once the holder is gone.
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { insertEvents } from './store-insert.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, openStore, type Store } from '../src/store/connection.js';
import { readEndpointInfo, type EndpointInfo } from '../src/store/endpoint.js';
import { runSql } from '../src/reports/sql.js';
import { summaryReport as report } from '../src/reports/summary.js';
import { startHolder, type Holder } from './holder.js';
// @ts-expect-error: plain JS shared with the holder process
import { syntheticEvents } from './store-fixtures.mjs';

const EVENTS = 1000;

describe('local endpoint to a held embedded store', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-endpoint-test-'));
  const dataDir = join(root, 'data');
  let holder: Holder;
  let info: EndpointInfo;
  let store: Store;

  beforeAll(async () => {
    holder = await startHolder(dataDir, ['--events', String(EVENTS)]);
    info = (await readEndpointInfo(dataDir))!;
    store = await openStore({ dataDir });
  });

  afterAll(async () => {
    await store?.close();
    if (holder) await holder.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('publishes port and token in a file only its owner can read', () => {
    expect(info.pid).toBe(holder.pid);
    expect(info.port).toBe(holder.port);
    expect(info.token).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dataDir, 'endpoint.json')).mode & 0o777).toBe(0o600);
  });

  it('lets a second process query the held store', async () => {
    expect(store.kind).toBe('endpoint');
    const rows = await store.query<{ n: string }>('SELECT count() AS n FROM DNS_LOG');
    expect(Number(rows[0].n)).toBe(EVENTS);
    const table = await runSql(store, 'SELECT QR, count() AS n FROM DNS_LOG GROUP BY QR ORDER BY QR');
    expect(table.split('\n').slice(0, 4)).toEqual(['QR    n', '--  ---', ' 0  500', ' 1  500']);
    const text = await report(store, { top: 3 });
    expect(text).toMatch(/messages\s+1,000/);
    const nx = syntheticEvents(EVENTS, 0).filter((e: { qr: boolean; rcode: number }) => e.qr && e.rcode === 3).length;
    expect(text).toMatch(new RegExp(`^NXDOMAIN\\s+${nx}\\s`, 'm'));
  });

  it('passes ClickHouse errors back with their message', async () => {
    await expect(runSql(store, 'SELECT * FROM no_such_table')).rejects.toThrow(/UNKNOWN_TABLE/);
  });

  it('refuses a wrong or missing token', async () => {
    const wrong = createClient({
      url: `http://127.0.0.1:${info.port}`,
      username: 'dnslens',
      password: 'x'.repeat(64),
      log: { level: ClickHouseLogLevel.OFF },
    });
    await expect(wrong.query({ query: 'SELECT 1', format: 'JSONEachRow' })).rejects.toThrow(/Authentication failed/);
    await wrong.close();
    const res = await fetch(`http://127.0.0.1:${info.port}/?query=SELECT%201`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('516');
  });

  it('speaks the ClickHouse HTTP interface', async () => {
    const base = `http://127.0.0.1:${info.port}`;
    const auth = { 'X-ClickHouse-User': 'dnslens', 'X-ClickHouse-Key': info.token };

    const ping = await fetch(`${base}/ping`);
    expect(await ping.text()).toBe('Ok.\n');

    // GET with the query in the URL, TabSeparated by default
    const get = await fetch(`${base}/?query=${encodeURIComponent('SELECT count() FROM DNS_LOG WHERE QR = 1')}`, { headers: auth });
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('500\n');

    // GET is read-only, as on a server
    const ddl = await fetch(`${base}/?query=${encodeURIComponent('CREATE TABLE t_get (x UInt8) ENGINE = Memory')}`, { headers: auth });
    expect(ddl.status).toBe(403);
    expect(await ddl.text()).toMatch(/^Code: 164\./);

    // POST body, default_format, a setting, gzip both ways
    const post = await fetch(`${base}/?default_format=JSONEachRow&enable_http_compression=1&max_threads=1`, {
      method: 'POST',
      headers: { ...auth, 'Content-Encoding': 'gzip', 'Accept-Encoding': 'gzip' },
      body: gzipSync("SELECT getSetting('max_threads') AS t, count() AS n FROM DNS_LOG"),
    });
    expect(post.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
    // fetch decompresses transparently; the header shows the body was compressed
    expect(post.headers.get('content-encoding')).toBe('gzip');
    const got = JSON.parse(await post.text()) as { t: number; n: number | string };
    expect([got.t, Number(got.n)]).toEqual([1, EVENTS]);

    // Basic auth, an error status and code header
    const basic = 'Basic ' + Buffer.from(`dnslens:${info.token}`).toString('base64');
    const bad = await fetch(`${base}/`, { method: 'POST', headers: { Authorization: basic }, body: 'SELECT * FROM nowhere' });
    expect(bad.status).toBe(404);
    expect(bad.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(await bad.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\)/);

    // a binary output format (Grafana's plugin reads Native) arrives byte for byte
    const nat = await fetch(`${base}/?default_format=RowBinary`, { method: 'POST', headers: auth, body: 'SELECT toUInt32(258) AS x' });
    expect(Buffer.from(await nat.arrayBuffer())).toEqual(Buffer.from([2, 1, 0, 0]));
    // Native, as clickhouse-go sends it (default_format in the URL, Basic auth, query in the body):
    // 1 column, 1 row, name "x", type "UInt32", the value
    const native = await fetch(`${base}/?default_format=Native`, { method: 'POST', headers: { Authorization: basic }, body: 'SELECT toUInt32(258) AS x' });
    expect(native.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await native.arrayBuffer())).toEqual(Buffer.from([1, 1, 1, 0x78, 6, ...Buffer.from('UInt32'), 2, 1, 0, 0]));
    // ClickHouse's own LZ4/ZSTD block compression is refused, not silently ignored
    const lz4 = await fetch(`${base}/?compress=1`, { method: 'POST', headers: auth, body: 'SELECT 1' });
    expect(lz4.status).toBe(400);
  });

  it('binds query parameters the way @clickhouse/client sends them', async () => {
    const rows = await store.client
      .query({
        query: 'SELECT count() AS n FROM DNS_LOG WHERE Question = {q:String} AND QR = {qr:UInt8}',
        query_params: { q: 'host7.example0.co.uk', qr: 1 },
        format: 'JSONEachRow',
      })
      .then((r) => r.json<{ n: string }>());
    // host7 is i % 50 == 7, i.e. 20 of 1000 names, all odd i (responses), of which i % 7 == 0
    const expected = syntheticEvents(EVENTS, 0).filter((e: { qname: string; qr: boolean }) => e.qname === 'host7.example0.co.uk' && e.qr).length;
    expect(Number(rows[0].n)).toBe(expected);
  });

  it('binds NULL and hostile strings as data, as ClickHouse itself would', async () => {
    const values = ["'; DROP TABLE DNS_LOG; --", 'back\\slash', 'tab\there', 'line\nbreak', 'quote\'s "double"', '\\N', 'ünïcödé'];
    for (const v of values) {
      const [r] = await store.query<{ v: string; n: number }>('SELECT {v:String} AS v, length({v:String}) AS n', { v });
      expect(r.v, JSON.stringify(v)).toBe(v);
    }
    const [n] = await store.query<{ isNull: number }>('SELECT {x:Nullable(String)} IS NULL AS isNull', { x: null });
    expect(Number(n.isNull)).toBe(1);
    const [count] = await store.query<{ n: string }>('SELECT count() AS n FROM DNS_LOG');
    expect(Number(count.n)).toBeGreaterThan(0); // the table is still there
  });

  it('stores RowBinary inserts sent through it intact', async () => {
    const more = syntheticEvents(300, EVENTS);
    await insertEvents(store, more);
    const rows = await store.query<{ n: string; q: string; ip: string; ans: string[] }>(
      `SELECT count() AS n, any(Question) AS q, any(SrcIP) AS ip, any(AnswerData) AS ans FROM DNS_LOG WHERE ID = ${more[7].id}`,
    );
    expect(Number(rows[0].n)).toBe(1);
    expect(rows[0].q).toBe(more[7].qname);
    expect(rows[0].ip).toBe(`::ffff:${more[7].srcIp}`);
    expect(rows[0].ans).toEqual(more[7].answers.map((a: { data: string }) => a.data));
  });

  it('opens the store itself once the holder is gone', async () => {
    await store.close();
    expect(await holder.stop()).toBe(0);
    expect(existsSync(join(dataDir, 'endpoint.json'))).toBe(false);
    store = await openStore({ dataDir });
    expect(store.kind).toBe('embedded');
    const rows = await store.query<{ n: string }>('SELECT count() AS n FROM DNS_LOG');
    expect(Number(rows[0].n)).toBe(EVENTS + 300);
  });
});

describe('a held store without an endpoint', () => {
  it('names the process that holds it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'dnslens-endpoint-lock-'));
    const holder = await startHolder(join(root, 'data'), ['--no-endpoint']);
    try {
      const err = await openStore({ dataDir: join(root, 'data'), endpointWaitMs: 500 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataDirLockedError);
      expect((err as DataDirLockedError).pid).toBe(holder.pid);
      expect((err as Error).message).toContain(String(holder.pid));
    } finally {
      await holder.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
