// The signals on real captures and on the bench's generated resolver traffic, imported with the CLI
// as a user would (issue #14's proof): the iodine tunnel fires tunnel, the benign captures and logs
// fire nothing at the default thresholds, and neither does a day of generated traffic.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCapture } from '../bench/gen.js';
import { EXIT_DAMAGED_INPUT } from '../src/cli/run.js';
import { LOGS_DIR, PCAP_DIR, SHARED_DIR } from './data.js';
import { dnslens } from './import-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'dnslens-signals-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const IODINE = 'elastic-examples__dns-tunnel-iodine.pcap';
// pktvisor's fixture is a load generator's run, not a network's traffic: 2,930 queries in 31 s from
// one host, for random names under test.com. The query-burst signal is meant to fire on that.
const LOAD_TEST = 'pktvisor__dns_udp_tcp_random.pcap';

function signals(dataDir: string): string[][] {
  const r = dnslens(['report', 'signals', '--dataDir', dataDir, '--format', 'csv', '--limit', '100']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').slice(1).filter(Boolean).map((l) => l.split(',').slice(0, 3));
}

function importFile(dataDir: string, flag: string, path: string, server: string): string {
  const r = dnslens([flag, path, '--dataDir', dataDir, '--serverName', server, '--timezone', 'UTC']);
  // pktvisor's dnstap fixture ends in a truncated frame: stored all the same, exit code 3 (EXIT_DAMAGED_INPUT)
  expect(r.code, r.stderr).toBe(/INPUT DAMAGED/.test(r.stderr) ? EXIT_DAMAGED_INPUT : 0);
  // they ran at the end of the import, when it stored anything (tcpdump's badlabel file holds no DNS message)
  if (!/DNS messages +0\n/.test(r.stderr)) expect(r.stderr, path).toMatch(/"msg":"signals evaluated"/);
  return r.stderr;
}

describe('signals on real captures', () => {
  it('the iodine tunnel fires tunnel on pirate.sea, and nothing else', () => {
    const dataDir = join(root, 'iodine');
    const stderr = importFile(dataDir, '--pcapFile', join(PCAP_DIR, IODINE), 'iodine');
    expect(stderr).toContain('"msg":"signal tunnel: pirate.sea (client 10.0.2.30): queries 222, names 222, long names 43');
    expect(signals(dataDir)).toEqual([['tunnel', 'pirate.sea', '10.0.2.30']]);
  });

  it('the benign captures, dnstap files and resolver logs fire nothing', () => {
    const dataDir = join(root, 'benign');
    const pcaps = readdirSync(PCAP_DIR).filter((f) => f.endsWith('.pcap') && f !== IODINE && f !== LOAD_TEST);
    expect(pcaps.length).toBeGreaterThanOrEqual(13);
    for (const f of pcaps) importFile(dataDir, '--pcapFile', join(PCAP_DIR, f), f);
    const dnstap = join(SHARED_DIR, 'data/dnstap');
    for (const f of readdirSync(dnstap)) importFile(dataDir, '--dnstapFile', join(dnstap, f), f);
    for (const f of readdirSync(LOGS_DIR).filter((x) => x.startsWith('dnsmasq'))) importFile(dataDir, '--dnsmasqLogFile', join(LOGS_DIR, f), f);
    expect(signals(dataDir)).toEqual([]);
  }, 300_000);

  it("a load generator's flood fires query-burst on its one client", () => {
    const dataDir = join(root, 'load');
    importFile(dataDir, '--pcapFile', join(PCAP_DIR, LOAD_TEST), 'pktvisor');
    expect(signals(dataDir)).toEqual([['query-burst', '192.168.0.189', '']]);
  });
});

describe("signals on the bench's generated resolver traffic", () => {
  it('a day of it (2,000 clients, 1 query/s on average, daily cycle) fires nothing', async () => {
    const pcap = join(root, 'gen-day.pcap');
    const summary = await generateCapture(pcap, { days: 1, rate: 1, seed: 3 });
    expect(summary.distinctClients).toBeGreaterThan(1000);
    const dataDir = join(root, 'gen');
    importFile(dataDir, '--pcapFile', pcap, 'gen');
    expect(signals(dataDir)).toEqual([]);
  }, 300_000);
});
