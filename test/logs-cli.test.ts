// The log inputs as the CLI takes them: bad options stop the run with exit 2 and a message naming
// the option; a log beside a capture goes into the same store; stdin; a glob followed is its live
// files only.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN } from './dnstap-helpers.js';
import { dnslens, sqlValue } from './import-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslens-logs-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURES = join(import.meta.dirname, 'fixtures', 'logs');
const SAMPLE = join(import.meta.dirname, '..', 'samples', 'dns-sample.pcap');

describe('log inputs on the command line', () => {
  it.each([
    [['--bindLogFile', join(dir, 'nope.log')], /--bindLogFile: .*nope\.log: no such file|no file matches/],
    [['--dnsmasqLogFile', join(dir, 'nothing-*.log')], /--dnsmasqLogFile: .*no file matches/],
    [['--bindLogFile', 'x.log.gz', '--logFollow'], /--logFollow: x\.log\.gz is compressed/],
    [['--bindLogFile', '-', '--dnsmasqLogFile', '-'], /"-" \(stdin\)/],
    [['--pcapFile', '-', '--bindLogFile', '-'], /"-" \(stdin\) is already the input of --pcapFile/],
  ])('refuses %j with exit 2', (args, message) => {
    const r = dnslens([...args, '--stdoutOutputType', '1']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('refuses a capture file beside a log (each is an import of its own), and reads them one after the other', () => {
    const dataDir = join(dir, 'both');
    const log = join(FIXTURES, 'dnsmasq', 'dnsmasq-2.90-plain.log');
    const both = dnslens(['--pcapFile', SAMPLE, '--dnsmasqLogFile', log, '--dataDir', dataDir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--pcapFile: a capture file and resolver logs are read one after the other/);
    for (let run = 0; run < 2; run++) {
      expect(dnslens(['--pcapFile', SAMPLE, '--dataDir', dataDir]).code).toBe(0);
      expect(dnslens(['--dnsmasqLogFile', log, '--dataDir', dataDir, '--timezone', 'UTC']).code).toBe(0);
    }
    const kinds = sqlValue(dataDir, "SELECT arrayStringConcat(groupArray(k), ',') FROM (SELECT InputKind AS k FROM DNS_LOG GROUP BY k ORDER BY k)");
    expect(kinds).toBe('log,pcap');
    expect(Number(sqlValue(dataDir, "SELECT count() FROM DNS_LOG WHERE InputKind = 'pcap'"))).toBe(38); // the second runs stored nothing again
  });

  it('reads a log from stdin into a fresh embedded store (the engine must not take stdin for itself)', () => {
    const dataDir = join(dir, 'stdin-store');
    const r = spawnSync(process.execPath, [MAIN, '--dnsmasqLogFile', '-', '--dataDir', dataDir], {
      input: readFileSync(join(FIXTURES, 'dnsmasq', 'dnsmasq-2.90-plain.log')),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(Number(sqlValue(dataDir, "SELECT countIf(QR = 0) FROM DNS_LOG WHERE InputKind = 'log'"))).toBeGreaterThan(20);
    const pcap = spawnSync(process.execPath, [MAIN, '--pcapFile', '-', '--dataDir', join(dir, 'stdin-pcap')], { input: readFileSync(SAMPLE), encoding: 'utf8', timeout: 60_000 });
    expect(pcap.status, pcap.stderr).toBe(0);
    expect(Number(sqlValue(join(dir, 'stdin-pcap'), 'SELECT count() FROM DNS_LOG'))).toBe(38);
  });

  it('reads stdin to its end, with every field of the seed logger', () => {
    const lines =
      '2026-12-07T11:22:33.120000+01:00 pi dnsmasq[830]: query[A] example.com from 192.168.1.5\n' +
      '2026-12-07T11:22:33.135000+01:00 pi dnsmasq[830]: forwarded example.com to 1.1.1.1\n' +
      '2026-12-07T11:22:33.161000+01:00 pi dnsmasq[830]: reply example.com is 93.184.216.34\n' +
      'Dec  7 11:22:34 pi dnsmasq-dhcp[830]: DHCPACK(eth0) 192.168.1.5 aa:bb:cc:dd:ee:ff laptop\n';
    const r = spawnSync(process.execPath, [MAIN, '--dnsmasqLogFile', '-', '--stdoutOutputType', '1', '--keepRawLine', '--clientIdKey', 'k'.repeat(32)], {
      input: lines,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const [q, a] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(q).toMatchObject({ time: '2026-12-07T10:22:33.120000000Z', qname: 'example.com', qtype: 1, qr: false, responseTimeUs: 41000, upstream: '1.1.1.1', resolution: 'forwarded' });
    expect(a).toMatchObject({ qr: true, rcode: 0, answers: [{ name: 'example.com', type: 1, class: 1, ttl: 0, data: '93.184.216.34' }], rawLine: lines.split('\n')[2] });
    expect(q.rawLine).toBe(lines.split('\n')[0]);
    expect(q.clientId).toMatch(/^[0-9a-f]{16}$/);
    expect(q.eventHash).toMatch(/^[0-9a-f]{16}$/);
    expect(r.stderr).toMatch(/skipped:dhcp\s+1/);
  });

  it('--dedup drops a line read twice in one run (the same file named twice), not a query asked twice', () => {
    const lines =
      'Dec  7 11:22:33 dnsmasq[830]: query[A] example.com from 192.168.1.5\n' +
      'Dec  7 11:22:33 dnsmasq[830]: cached example.com is 93.184.216.34\n' +
      'Dec  7 11:22:34 dnsmasq[830]: query[A] example.com from 192.168.1.5\n' +
      'Dec  7 11:22:34 dnsmasq[830]: cached example.com is 93.184.216.34\n';
    const log = join(dir, 'twice.log');
    writeFileSync(log, lines);
    const r = dnslens(['--dnsmasqLogFile', log, '--dnsmasqLogFile', `${dir}/./twice.log`, '--dedup', '--stdoutOutputType', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(4); // two queries and their answers, once
    expect(r.stderr).toMatch(/dedup:duplicate\s+4/);
  });

  it('follows the live files a glob names, not their rotated siblings', async () => {
    const sub = join(dir, 'glob');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sub);
    const line = (n: string) => `07-Dec-2026 10:00:00.000 client @0x1 10.0.0.1#4000 (${n}): query: ${n} IN A + (127.0.0.1)\n`;
    writeFileSync(join(sub, 'a.log'), line('live-a.test'));
    writeFileSync(join(sub, 'a.log.0'), line('rotated.test'));
    writeFileSync(join(sub, 'b.log'), line('live-b.test'));
    const { runCli } = await import('./dnstap-helpers.js');
    const run = runCli(['--bindLogFile', join(sub, '*.log*'), '--logFollow', '--logPollInterval', '100ms', '--stdoutOutputType', '1', '--timezone', 'UTC']);
    await run.waitFor(() => run.events.length >= 2, 30_000, 'two events');
    await new Promise((r) => setTimeout(r, 500));
    await run.stop('SIGTERM');
    expect(run.events.map((e) => e.qname).sort()).toEqual(['live-a.test', 'live-b.test']);
  }, 60_000);
});
