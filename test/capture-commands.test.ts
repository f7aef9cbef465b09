// What the README says of a running capture, tested as commands against a real
// `dnslens --dnstapSocket ...` process: `dnslens sql` and `dnslens report` answer while it holds
// the embedded store, and SIGTERM reads the frames producers had already sent before it exits.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTROL_START, CONTROL_STOP, controlFrame, dataFrame, DNSTAP_CONTENT_TYPE } from '../src/inputs/dnstap/framestream.js';
import { encodeDnstap } from './dnstap-encode.js';
import { MAIN, produce, runCli } from './dnstap-helpers.js';
import { dnsQuery } from './wire.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslens-capture-cmds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LO = Uint8Array.of(127, 0, 0, 1);

/** n CLIENT_QUERY frames for distinct names, one Frame Streams stream (START ... STOP). */
function stream(n: number, tag: string): Buffer {
  const parts = [controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE])];
  for (let i = 0; i < n; i++) {
    const msg = encodeDnstap({ type: 5, family: 1, protocol: 1, queryAddress: LO, responseAddress: LO, queryPort: 10_000 + (i % 50_000), responsePort: 53, queryTime: [1_700_000_000 + Math.floor(i / 1000), (i % 1000) * 1000], queryMessage: dnsQuery(i & 0xffff, `n${i}.${tag}.test`) });
    parts.push(dataFrame(msg));
  }
  parts.push(controlFrame(CONTROL_STOP));
  return Buffer.concat(parts);
}

function command(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dnslens sql and report while a capture holds the store', () => {
  it('answer through the capturing process, and from the store itself once it has gone', async () => {
    const dataDir = join(dir, 'store');
    const sock = join(dir, 'hold.sock');
    // the README's default: no output flag, so events go to the embedded store
    const run = runCli(['--dnstapSocket', `unix://${sock}`, '--dataDir', dataDir, '--clickhouseDelay', '200ms', '--matchTimeout', '0', '--metricFlushInterval', '1s', '--clickhouseTTL', '90']);
    try {
      await run.waitForLog('dnstap: listening', 20_000);
      const p = await produce({ path: sock });
      p.socket.end(stream(500, 'held'));
      // poll with the command a user would type, bounded
      let count = -1;
      for (let i = 0; i < 60 && count !== 500; i++) {
        const r = command(['sql', '--dataDir', dataDir, '--format', 'csv', "SELECT count() FROM DNS_LOG WHERE Question LIKE '%.held.test'"]);
        expect(r.code, r.stderr).toBe(0);
        count = Number(r.stdout.trim().split('\n').at(-1));
        if (count !== 500) await new Promise((res) => setTimeout(res, 250));
      }
      expect(count).toBe(500);
      const report = command(['report', '--dataDir', dataDir, '--top', '3']);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toMatch(/^messages +500$/m);
      expect(report.stdout).toContain('Top 3 domains');
    } finally {
      expect(await run.stop('SIGTERM')).toBe(0);
    }
    // the capture has gone: the command opens the store itself
    const after = command(['sql', '--dataDir', dataDir, '--format', 'csv', 'SELECT count() FROM DNS_LOG']);
    expect(after.code, after.stderr).toBe(0);
    expect(Number(after.stdout.trim().split('\n').at(-1))).toBe(500);
    // the commands only read: the capture's 90-day retention is still there (they carry no TTL
    // flag; migrating would have put the default 30 days back)
    const ttl = command(['sql', '--dataDir', dataDir, '--format', 'csv', "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'DNS_LOG'"]);
    expect(ttl.stdout).toMatch(/toIntervalDay\(90\)/);
  }, 120_000);

  it('report or sql on a data directory that holds no store says so and exits 2, and makes nothing there', () => {
    for (const cmd of [['report'], ['report', 'top'], ['sql', 'SELECT 1']]) {
      const where = join(dir, 'never-captured');
      const r = command([...cmd, '--dataDir', where]);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr).toContain(`no dnslens store in ${where}`);
      expect(existsSync(where)).toBe(false);
    }
  }, 120_000);

  it('--help lists the commands, one line each; each command has its own --help', () => {
    const help = command(['--help']).stdout;
    for (const c of ['report [NAME]', 'sql QUERY', 'schema migrate', 'psql migrate']) expect(help).toMatch(new RegExp(`^  dnslens ${c.replace(/[[\]]/g, '\\$&')} +\\S`, 'm'));
    for (const [cmd, first] of [['report', 'dnslens report'], ['sql', 'usage: dnslens sql'], ['schema', 'usage: dnslens schema'], ['psql', 'usage: dnslens psql']]) {
      const r = command([cmd, '--help']);
      expect([r.code, r.stdout.includes(first)], cmd).toEqual([0, true]);
    }
  });
});

describe('SIGTERM with frames in flight', () => {
  it('reads what the producers already sent, flushes it and exits 0', async () => {
    const sock = join(dir, 'flight.sock');
    const run = runCli(['--dnstapSocket', `unix://${sock}`, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', '--matchTimeout', '0']);
    await run.waitForLog('dnstap: listening', 20_000);
    const total = 60_000;
    const p = await produce({ path: sock });
    // the whole stream is handed to the kernel; SIGTERM as soon as the write is done, while
    // dnslens is still reading and writing what came before
    await new Promise<void>((res) => p.socket.write(stream(total, 'flight'), () => res()));
    const seenAtSignal = run.events.length;
    const code = await run.stop('SIGTERM');
    expect(seenAtSignal).toBeLessThan(total); // in flight when the signal came
    expect(code).toBe(0);
    expect(run.events.length).toBe(total);
    expect(new Set(run.events.map((e) => e.qname)).size).toBe(total);
    expect(run.stderr()).toMatch(/DNS messages +60,000\n/);
  }, 60_000);
});
