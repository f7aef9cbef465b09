// --maskSize4/--maskSize6 and keyed client ids: the text functions, the CLI, and the rows that
// end up in the embedded ClickHouse store after the whole pipeline (decode, matching, privacy).
import { decodeContext, openTransforms } from './wiring.js';
import { spawnSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { BlockList } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { ipv6Text } from '../src/addr.js';
import { newEvent, type DnsEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { createClickHouseOutput } from '../src/outputs/clickhouse/output.js';
import { runPipeline } from '../src/cli/pipeline.js';
import { Stats } from '../src/stats.js';
import { openStore, type Store } from '../src/store/connection.js';
import { ClientIds, readClientIdKey } from '../src/transforms/clientid.js';
import { AddressMasker, ipv6Bytes, maskIpv4Text, maskIpv6Text } from '../src/transforms/mask.js';
import { privacyTransform } from '../src/transforms/privacy.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';
import { PCAP_DIR } from './data.js';

const EDNS = join(PCAP_DIR, 'tcpdump__edns-opts.pcap'); // 42 messages, IPv4
const PELLETS = join(PCAP_DIR, 'dnsjit__pellets.pcap'); // 91 queries, IPv6
const ARKIME = join(PCAP_DIR, 'arkime__dns-wiresharkrepo.pcap'); // 38 messages, IPv4
const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const KEY = 'test-key-0123456789abcdef';

const tmp = mkdtempSync(join(tmpdir(), 'dnslens-privacy-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, events: r.status === 0 ? r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [] };
}

describe('address masks', () => {
  it('keeps the leading bits of IPv4 addresses', () => {
    expect(maskIpv4Text('192.0.2.77', 24)).toBe('192.0.2.0');
    expect(maskIpv4Text('192.0.2.77', 32)).toBe('192.0.2.77');
    expect(maskIpv4Text('192.168.255.77', 17)).toBe('192.168.128.0');
    expect(maskIpv4Text('203.0.113.255', 31)).toBe('203.0.113.254');
    expect(maskIpv4Text('203.0.113.255', 7)).toBe('202.0.0.0');
    expect(maskIpv4Text('203.0.113.255', 0)).toBe('0.0.0.0');
    expect(maskIpv4Text('not.an.ip.addr', 8)).toBe('not.an.ip.addr');
    expect(maskIpv4Text('300.1.1.1', 8)).toBe('300.1.1.1');
  });

  it('keeps the leading bits of IPv6 addresses, in the decoder\'s RFC 5952 form', () => {
    expect(maskIpv6Text('2001:db8:1:2:3:4:5:6', 48)).toBe('2001:db8:1::');
    expect(maskIpv6Text('2001:db8:1:2:3:4:5:6', 56)).toBe('2001:db8:1::');
    expect(maskIpv6Text('2001:db8:1:2ff:3:4:5:6', 56)).toBe('2001:db8:1:200::');
    expect(maskIpv6Text('2001:DB8::1', 128)).toBe('2001:db8::1');
    expect(maskIpv6Text('::ffff:192.0.2.77', 120)).toBe('::ffff:192.0.2.0');
    expect(maskIpv6Text('fe80::1%eth0', 64)).toBe('fe80::');
    expect(maskIpv6Text('1::2::3', 64)).toBe('1::2::3');
    expect(maskIpv6Text('1.2.3.4::', 64)).toBe('1.2.3.4::');
    expect(maskIpv6Text('2001:db8::g', 64)).toBe('2001:db8::g');
  });

  it('parses IPv6 text to the bytes the decoder prints back', () => {
    for (const a of ['::', '::1', '2001:db8::', '2001:db8:0:1::1', '1:2:3:4:5:6:7:8', 'fe80::1:0:0:1', '::ffff:10.0.0.1', '64:ff9b::c000:201']) {
      expect(ipv6Text(ipv6Bytes(a)!, 0)).toBe(a);
    }
    expect(ipv6Bytes('1:2:3:4:5:6:7')).toBeNull();
    expect(ipv6Bytes('1:2:3:4:5:6:7:8:9')).toBeNull();
  });

  it('masks an EDNS client subnet and cuts its length to the mask', () => {
    const m = new AddressMasker(16, 32);
    expect(m.maskSubnet('192.0.2.0/24')).toBe('192.0.0.0/16');
    expect(m.maskSubnet('10.1.0.0/8')).toBe('10.0.0.0/8');
    expect(m.maskSubnet('2001:db8:aa::/56')).toBe('2001:db8::/32');
    expect(new AddressMasker(32, 128).active).toBe(false);
  });
});

describe('keyed client ids', () => {
  it('is HMAC-SHA256 of the address under the key, 64 bits in hex, stable and key dependent', () => {
    const ids = new ClientIds(Buffer.from(KEY));
    const id = ids.idOf('192.0.2.1');
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(id).toBe(createHmac('sha256', KEY).update('192.0.2.1').digest('hex').slice(0, 16));
    expect(ids.idOf('192.0.2.1')).toBe(id);
    expect(ids.idOf('192.0.2.2')).not.toBe(id);
    expect(new ClientIds(Buffer.from(KEY + 'x')).idOf('192.0.2.1')).not.toBe(id);
    // Not a plain hash: hashing every IPv4 address does not find it.
    expect(createHash('sha256').update('192.0.2.1').digest('hex').slice(0, 16)).not.toBe(id);
    expect(ids.idOf('')).toBe('');
  });

  it('reads the key from the flag or a file, and refuses short keys or both', () => {
    const file = join(tmp, 'key');
    writeFileSync(file, `${KEY}\n`);
    expect(readClientIdKey('', file)!.toString()).toBe(KEY);
    expect(readClientIdKey(KEY, '')!.toString()).toBe(KEY);
    expect(readClientIdKey('', '')).toBeNull();
    expect(() => readClientIdKey('short', '')).toThrow(/at least 16/);
    expect(() => readClientIdKey(KEY, file)).toThrow(/not both/);
  });

  it('names the client side by direction, and blanks it unless asked to keep it masked', () => {
    const q = Object.assign(newEvent(), { qr: false, srcIp: '192.0.2.10', dstIp: '198.51.100.53', ednsClientSubnet: '192.0.2.0/24' });
    const r = Object.assign(newEvent(), { qr: true, srcIp: '198.51.100.53', dstIp: '192.0.2.10' });
    const ids = new ClientIds(Buffer.from(KEY));
    const out = privacyTransform({ ids }).apply([{ ...q }, { ...r }]);
    expect(out.map((e) => [e.srcIp, e.dstIp, e.clientId, e.ednsClientSubnet])).toEqual([
      ['', '198.51.100.53', ids.idOf('192.0.2.10'), ''],
      ['198.51.100.53', '', ids.idOf('192.0.2.10'), ''],
    ]);
    const kept = privacyTransform({ ids, masker: new AddressMasker(24, 48), keepClientAddress: true }).apply([{ ...q }]);
    expect([kept[0].srcIp, kept[0].dstIp, kept[0].ednsClientSubnet]).toEqual(['192.0.2.0', '198.51.100.0', '192.0.2.0/24']);
  });
});

describe('privacy options on the command line', () => {
  it('refuses a short key and two keys, with exit code 2', () => {
    const short = cli(['--pcapFile', ARKIME, '--stdoutOutputType', '1', '--clientIdKey', 'abc']);
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/--clientIdKey: the key is 3 bytes/);
    const file = join(tmp, 'cli-key');
    writeFileSync(file, KEY);
    const both = cli(['--pcapFile', ARKIME, '--stdoutOutputType', '1', '--clientIdKey', KEY, '--clientIdKeyFile', file]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/not both/);
  });

  it('writes client ids without client addresses; with an explicit mask, the masked address too', () => {
    const plain = cli(['--pcapFile', ARKIME, '--stdoutOutputType', '1']);
    const ids = cli(['--pcapFile', ARKIME, '--stdoutOutputType', '1', '--clientIdKey', KEY]);
    expect(ids.code).toBe(0);
    expect(ids.events).toHaveLength(38);
    const hmac = (a: string) => createHmac('sha256', KEY).update(a).digest('hex').slice(0, 16);
    for (let i = 0; i < 38; i++) {
      const p = plain.events[i];
      const e = ids.events[i];
      const client = p.qr ? p.dstIp : p.srcIp;
      expect(e.clientId).toBe(hmac(client));
      expect(e.qr ? e.dstIp : e.srcIp).toBe('');
      expect(e.qr ? e.srcIp : e.dstIp).toBe(p.qr ? p.srcIp : p.dstIp);
    }
    const masked = cli(['--pcapFile', ARKIME, '--stdoutOutputType', '1', '--clientIdKey', KEY, '--maskSize4', '16']);
    for (let i = 0; i < 38; i++) {
      const p = plain.events[i];
      expect(masked.events[i].srcIp).toBe(p.srcIp.split('.').slice(0, 2).concat(['0', '0']).join('.'));
      expect(masked.events[i].clientId).toBe(ids.events[i].clientId);
    }
  });
});

describe('masks on stored rows (embedded ClickHouse)', () => {
  let store: Store;
  const unmasked: DnsEvent[] = [];

  beforeAll(async () => {
    store = await openStore({ dataDir: join(tmp, 'store') });
    await prepareSchema(store);
    for (const [file, server] of [
      [EDNS, 'v4'],
      [PELLETS, 'v6'],
    ]) {
      const flags = ['--pcapFile', file, '--clickhouseOutputType', '1', '--serverName', server, '--maskSize4', '24', '--maskSize6', '48', '--clientIdKey', KEY];
      const cfg = loadConfig(flags, {});
      const stats = new Stats();
      const out = await createClickHouseOutput(store, { stats, batchSize: 1000, delayMs: 1000 });
      await runPipeline({
        sources: [{ kind: 'frames', frames: readCapture(file, stats), ctx: decodeContext(cfg, stats, 'pcap', file) }],
        transforms: openTransforms(cfg, stats),
        outputs: [out],
      });
      await out.close();
      // The same capture without privacy options, to compare with.
      const plainStats = new Stats();
      const plainCfg = loadConfig(['--pcapFile', file, '--stdoutOutputType', '1'], {});
      await runPipeline({
        sources: [{ kind: 'frames', frames: readCapture(file, plainStats), ctx: decodeContext(plainCfg, plainStats, 'pcap', file) }],
        outputs: [{ name: 'sink', write: (evs) => void unmasked.push(...evs), close: async () => {} }],
      });
    }
  });
  afterAll(async () => {
    await store?.close();
  });

  const rows = async (sql: string) =>
    (await store.queryText(sql, 'TabSeparated'))
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));

  it('stores IPv4 addresses cut to /24 and keeps the masked client next to its id', async () => {
    const got = await rows(
      "SELECT toString(ClientIPv4), toString(ServerIPv4), ClientId, count() FROM DNS_LOG WHERE Server = 'v4' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    );
    const want = new Map<string, number>();
    for (const e of unmasked.filter((e) => e.ipVersion === 4)) {
      const client = e.qr ? e.dstIp : e.srcIp;
      const server = e.qr ? e.srcIp : e.dstIp;
      const cut = (a: string) => a.split('.').slice(0, 3).join('.') + '.0';
      const key = [cut(client), cut(server), createHmac('sha256', KEY).update(client).digest('hex').slice(0, 16)].join('\t');
      want.set(key, (want.get(key) ?? 0) + 1);
    }
    expect(new Map(got.map((r) => [r.slice(0, 3).join('\t'), Number(r[3])]))).toEqual(want);
    expect(got.reduce((n, r) => n + Number(r[3]), 0)).toBe(42);
  });

  it('stores IPv6 addresses cut to /48', async () => {
    const got = await rows("SELECT toString(ClientIPv6), toString(ServerIPv6), ClientId FROM DNS_LOG WHERE Server = 'v6'");
    expect(got).toHaveLength(91);
    const v6 = unmasked.filter((e) => e.ipVersion === 6);
    expect(v6).toHaveLength(91);
    // Rows come back in the table's order: find each row's client by its id.
    const byId = new Map(v6.map((e) => [createHmac('sha256', KEY).update(e.srcIp).digest('hex').slice(0, 16), e.srcIp]));
    const servers = new BlockList();
    for (const e of v6) servers.addSubnet(e.dstIp, 48, 'ipv6');
    for (const [client, server, id] of got) {
      const net = new BlockList();
      net.addSubnet(byId.get(id)!, 48, 'ipv6');
      expect(net.check(client, 'ipv6')).toBe(true);
      expect(servers.check(server, 'ipv6')).toBe(true);
      for (const masked of [client, server]) expect(ipv6Bytes(masked)!.subarray(6).every((b) => b === 0)).toBe(true);
    }
    const ids = new Set(got.map((r) => r[2]));
    const clients = new Set(v6.map((e) => e.srcIp));
    expect(ids.size).toBe(clients.size); // one id per client address
  });
});
