// openStore: embedded chdb, HTTP with failover (against a real store process serving the
// endpoint), https with a self-signed certificate (--skipTLSVerification), the bulk insert paths,
// and the error when the optional chdb package is missing.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { addressToUrl, isConnectionError, openStore, type Store } from '../src/store/connection.js';
import { dnsLogColumnNames, insertEvents } from './store-insert.js';
import { encodeRows } from './rowbinary.js';
import { readEndpointInfo } from '../src/store/endpoint.js';
import { startHolder, type Holder } from './holder.js';
import { selfSignedCert } from './certs.js';
import { dnslensAsync } from './cli-async.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema, syntheticEvents } from './store-fixtures.mjs';

const events = (n: number, start: number): DnsEvent[] => syntheticEvents(n, start) as DnsEvent[];

describe('addressToUrl', () => {
  it('turns dnsmonster-style addresses into HTTP URLs', () => {
    expect(addressToUrl('localhost:8123')).toBe('http://localhost:8123/');
    expect(addressToUrl('db.example')).toBe('http://db.example:8123/');
    expect(addressToUrl('db.example', true)).toBe('https://db.example:8443/');
    expect(addressToUrl('db.example:9443', true)).toBe('https://db.example:9443/');
    expect(addressToUrl('https://ch.example:8443')).toBe('https://ch.example:8443/');
    expect(addressToUrl('[2001:db8::1]:8123')).toBe('http://[2001:db8::1]:8123/');
    expect(addressToUrl('2001:db8::1')).toBe('http://[2001:db8::1]:8123/');
  });
});

// Every column the encoder writes, read back as text, for comparing two insert paths.
const ROW_SQL = `SELECT PacketTime, Server, IPVersion, SrcIP, DstIP, SrcPort, DstPort, Protocol, QR, OpCode, Class, Type,
  Edns0Present, DoBit, ResponseCode, Question, Apex, Size, ID, AA, TC, RD, RA, AD, CD, QdCount, AnCount, NsCount, ArCount,
  AnswerName, AnswerType, AnswerClass, AnswerTTL, AnswerData, EdnsUdpSize, EdnsClientSubnet, ResponseTimeUs, InputKind, InputName
  FROM DNS_LOG WHERE Server = {server} ORDER BY PacketTime FORMAT TSV`;

describe('embedded store and HTTP store', () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-conn-test-'));
  let embedded: Store;
  let holder: Holder;
  let token = '';
  let port = 0;

  beforeAll(async () => {
    embedded = await openStore({ dataDir: join(root, 'mine') });
    await prepareSchema(embedded);
    holder = await startHolder(join(root, 'held'));
    const info = (await readEndpointInfo(join(root, 'held')))!;
    token = info.token;
    port = info.port;
  });
  afterAll(async () => {
    await embedded?.close();
    await holder?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('opens chdb in the data dir and stores events through FROM INFILE', async () => {
    expect(embedded.kind).toBe('embedded');
    const evs = events(2000, 0).map((e) => ({ ...e, server: 'embedded-path' }));
    await insertEvents(embedded, evs);
    const rows = await embedded.query<{ n: string | number; q: number }>(
      "SELECT count() AS n, countIf(QR = 0) AS q FROM DNS_LOG WHERE Server = 'embedded-path'",
    );
    expect(Number(rows[0].n)).toBe(2000);
    expect(Number(rows[0].q)).toBe(1000);
  });

  it('fails over to the next address when one does not answer, and inserts Native over HTTP', async () => {
    const dead = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p)); // nothing listens there any more
      });
    });
    const server = await openStore({
      address: [`127.0.0.1:${dead}`, `http://127.0.0.1:${port}`],
      username: 'dnslens',
      password: token,
      database: 'on_server',
      dataDir: join(root, 'unused'),
    });
    try {
      expect(server.kind).toBe('server');
      await server.ping();
      expect(server.where).toContain(`:${port}/`);
      // the database did not exist: the first statement creates it, then the schema goes in
      await prepareSchema(server);
      expect(await server.query('SELECT currentDatabase() AS db')).toEqual([{ db: 'on_server' }]);
      // the same events through both insert paths read back identically
      const evs = events(500, 0);
      await insertEvents(server, evs.map((e) => ({ ...e, server: 'http-path' })));
      await insertEvents(embedded, evs.map((e) => ({ ...e, server: 'http-path' })));
      const viaHttp = await server.client
        .query({ query: ROW_SQL.replace('{server}', "'http-path'").replace(' FORMAT TSV', ''), format: 'TabSeparated' })
        .then((r) => r.text());
      const local = await embedded.queryText(ROW_SQL.replace('{server}', "'http-path'"), 'TSV');
      expect(viaHttp.split('\n').length).toBe(501);
      expect(viaHttp).toBe(local);
    } finally {
      await server.close();
    }
  });

  it('sends compressed inserts with --clickhouseCompress, Native and RowBinary alike', async () => {
    const server = await openStore({
      address: [`127.0.0.1:${port}`],
      username: 'dnslens',
      password: token,
      database: 'compressed',
      compress: true,
      dataDir: join(root, 'unused'),
    });
    try {
      await prepareSchema(server);
      const evs = events(600, 0).map((e) => ({ ...e, server: 'gzip-path' }));
      await insertEvents(server, evs.slice(0, 300)); // Native
      const rows = encodeRows(evs.slice(300), Math.floor(Date.now() / 1000));
      await server.insertBatch({ columns: dnsLogColumnNames(), rows: 300, format: 'RowBinary', data: rows });
      await insertEvents(embedded, evs);
      const viaHttp = await server.queryText(ROW_SQL.replace('{server}', "'gzip-path'"), 'TSV');
      const local = await embedded.queryText(ROW_SQL.replace('{server}', "'gzip-path'"), 'TSV');
      expect(viaHttp.split('\n').length).toBe(601);
      expect(viaHttp).toBe(local);
    } finally {
      await server.close();
    }
  });

  it('reaches a server over https whose certificate no CA signed only with --skipTLSVerification', async () => {
    const dir = join(root, 'tls');
    mkdirSync(dir);
    const cert = selfSignedCert(dir);
    // https in front of the holder's endpoint, as a TLS-terminating proxy puts it before a server
    const front = createTlsServer({ key: cert.key, cert: cert.cert }, (sock) => {
      const up = connect(port, '127.0.0.1');
      sock.pipe(up).pipe(sock);
      up.on('error', () => sock.destroy());
      sock.on('error', () => up.destroy());
    });
    front.on('tlsClientError', () => undefined); // the client that refuses the certificate
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(front.address() as AddressInfo).port}`;
    const open = (skipTlsVerify: boolean) => openStore({ address: [address], secure: true, username: 'dnslens', password: token, dataDir: join(root, 'unused'), skipTlsVerify });
    try {
      const strict = await open(false);
      await expect(strict.query('SELECT 1 AS one')).rejects.toThrow(/self-signed certificate/);
      await strict.close();
      const lax = await open(true);
      try {
        expect(lax.where).toContain(`https://${address}/`);
        expect(await lax.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
      } finally {
        await lax.close();
      }
      // the store commands pass the flag on
      const sql = ['sql', 'SELECT 41 + 1 AS answer', '--clickhouseAddress', address, '--clickhouseSecure', '--clickhouseUsername', 'dnslens', '--clickhousePassword', token];
      const refused = await dnslensAsync(sql);
      expect(refused.status).not.toBe(0);
      expect(refused.stderr).toMatch(/self-signed certificate/);
      const r = await dnslensAsync([...sql, '--skipTLSVerification']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^\s*42\s*$/m);
    } finally {
      await new Promise<void>((r) => front.close(() => r()));
    }
  });

  it('reports a connection failure as one when no address answers', async () => {
    const server = await openStore({ address: ['127.0.0.1:1'], dataDir: join(root, 'unused'), requestTimeoutMs: 5_000 });
    const err = await server.query('SELECT 1').catch((e: unknown) => e);
    expect(isConnectionError(err)).toBe(true);
    await server.close();
  });

  it('passes ClickHouse errors through unchanged', async () => {
    await expect(embedded.exec('SELECT * FROM nowhere')).rejects.toMatchObject({ type: 'UNKNOWN_TABLE' });
  });

  it('keeps unqualified names in the chosen database', async () => {
    const other = await openStore({ dataDir: join(root, 'mine'), database: 'dnslens_other' });
    try {
      await prepareSchema(other);
      await insertEvents(other, events(7, 0));
      const rows = await other.query<{ n: string | number; db: string }>('SELECT count() AS n, currentDatabase() AS db FROM DNS_LOG');
      expect([Number(rows[0].n), rows[0].db]).toEqual([7, 'dnslens_other']);
    } finally {
      await other.close();
    }
  });
});

describe('without the optional chdb package', () => {
  it('says how to install it', () => {
    // A real process in which the package cannot be resolved.
    const hook =
      'data:text/javascript,' +
      encodeURIComponent(
        `export async function resolve(s, c, next) { if (s === 'chdb' || s.startsWith('chdb/')) { const e = new Error("Cannot find package 'chdb'"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }`,
      );
    const register = `import { register } from 'node:module'; register(${JSON.stringify(hook)});`;
    const conn = new URL('../dist/src/store/connection.js', import.meta.url).href;
    const script = `import { openStore } from ${JSON.stringify(conn)};
      try { await openStore({ dataDir: ${JSON.stringify(join(tmpdir(), 'dnslens-no-chdb'))} }); console.log('opened'); }
      catch (e) { console.log(e.message); }`;
    const out = execFileSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    expect(out).toMatch(/optional package "chdb"/);
    expect(out).toMatch(/npm install chdb/);
    expect(out).toMatch(/--clickhouseAddress/);
  });
});
