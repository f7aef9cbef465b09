// A live BIND query log followed into the embedded store while it is written, rotated by rename and
// by copy-truncate, and dnslens killed (SIGKILL) and started again mid-load: every line is stored
// once, none lost, none doubled, in DNS_LOG and in the rollups. Also: a file read once is not read
// twice, and a run after a kill finishes the rotated file it was reading.
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/connection.js';
import { runCli } from './dnstap-helpers.js';
import { allPairs, asTestDb, dnslens, sqlValue } from './import-helpers.js';
import { expectPairsEqual, optimizeAll } from './rollup-pairs.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslens-logs-follow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// BIND 9.18 with print-time (local time; the runs read it as UTC), one unique name per line.
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function bindLine(i: number): string {
  const t = new Date(Date.UTC(2026, 11, 7, 10, 0, 0) + i * 10);
  const time = `${pad(t.getUTCDate())}-Dec-2026 ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}.${pad(t.getUTCMilliseconds(), 3)}`;
  const client = `10.0.${(i >> 8) & 255}.${i & 255}`;
  const name = `n${i}.follow.test`;
  return `${time} client @0x7f3a2c00a2b8 ${client}#${40000 + (i % 20000)} (${name}): query: ${name} IN ${i % 3 ? 'A' : 'AAAA'} +E(0)K (127.0.0.1)\n`;
}
const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => bindLine(from + k)).join('');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const count = (dataDir: string, sql = 'SELECT count() FROM DNS_LOG') => Number(sqlValue(dataDir, sql));

describe('following a BIND query log', () => {
  it('through rotation by rename, copy-truncate and a SIGKILL mid-load: every line stored once', async () => {
    const log = join(dir, 'queries.log');
    const dataDir = join(dir, 'follow-data');
    const args = ['--bindLogFile', log, '--logFollow', '--logPollInterval', '100ms', '--dataDir', dataDir, '--timezone', 'UTC', '--logLevel', '3'];
    const N = 12_000;
    let written = 0;
    const write = async (to: number) => {
      // in bursts of 200 lines every 25 ms: the reader meets the file's end often
      while (written < to) {
        const next = Math.min(to, written + 200);
        appendFileSync(log, lines(written, next));
        written = next;
        await sleep(25);
      }
    };
    writeFileSync(log, '');
    let run = runCli(args);
    await write(3000);
    const stored = () => {
      try {
        return count(dataDir);
      } catch {
        return 0; // not created yet
      }
    };
    for (let i = 0; i < 120 && stored() < 3000; i++) await sleep(500); // the store is open and reading
    // BIND's own rotation (versions N): the file is renamed, a new one started
    renameSync(log, `${log}.0`);
    await write(5000);
    await sleep(300);
    expect(run.stop).toBeDefined();
    await run.stop('SIGKILL'); // mid-load, with a rotated file beside the live one
    await write(6000); // written while dnslens is down
    renameSync(log, `${log}.1`); // and rotated while it is down
    await write(7000);
    run = runCli(args);
    await write(9000);
    // logrotate's copytruncate
    copyFileSync(log, `${log}.2`);
    truncateSync(log, 0);
    await write(N);
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (count(dataDir) >= N) break;
      await sleep(500);
    }
    await sleep(1000); // anything more would show now
    const code = await run.stop('SIGTERM');
    if (count(dataDir) !== N) writeFileSync('/tmp/fl/run2.err', run.stderr());
    expect(code).toBe(0);
    expect(count(dataDir)).toBe(N);
    expect(count(dataDir, 'SELECT uniqExact(Question) FROM DNS_LOG')).toBe(N);
    expect(count(dataDir, "SELECT countIf(InputKind = 'log' AND QR = 0 AND ResponseCode = 0 AND EventHash != '') FROM DNS_LOG")).toBe(N);
    const store = await openStore({ dataDir });
    try {
      const db = asTestDb(store);
      await optimizeAll(db, store.database);
      // a query log has no responses: no latency rollups to compare
      await expectPairsEqual(db, allPairs(store.database).filter((p) => !p.table.startsWith('dns_latency')));
    } finally {
      await store.close();
    }
  }, 180_000);

  it('reads rotated files once, oldest first (.gz too), and skips them the second time', async () => {
    const sub = join(dir, 'once');
    const dataDir = join(dir, 'once-data');
    const { mkdirSync, utimesSync } = await import('node:fs');
    const { gzipSync } = await import('node:zlib');
    mkdirSync(sub);
    writeFileSync(join(sub, 'queries.log.2.gz'), gzipSync(lines(0, 500)));
    writeFileSync(join(sub, 'queries.log.1'), lines(500, 1000));
    writeFileSync(join(sub, 'queries.log'), lines(1000, 1500));
    const day = (d: number) => new Date(Date.UTC(2026, 11, d));
    utimesSync(join(sub, 'queries.log.2.gz'), day(5), day(5));
    utimesSync(join(sub, 'queries.log.1'), day(6), day(6));
    const first = dnslens(['--bindLogFile', join(sub, 'queries.log*'), '--dataDir', dataDir, '--timezone', 'UTC']);
    expect(first.code, first.stderr).toBe(0);
    expect(count(dataDir)).toBe(1500);
    // read oldest first: the ledger records them in that order
    const order = sqlValue(dataDir, "SELECT arrayStringConcat(groupArray(Path), ' ') FROM (SELECT Path FROM dnslens_imports FINAL ORDER BY StartedAt)");
    expect(order.split(' ').map((p) => p.slice(sub.length + 1))).toEqual(['queries.log.2.gz', 'queries.log.1', 'queries.log']);
    const again = dnslens(['--bindLogFile', join(sub, 'queries.log*'), '--dataDir', dataDir, '--timezone', 'UTC']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/queries\.log\.1: read to its end before/);
    expect(count(dataDir)).toBe(1500);
    // the live file grew: only its new lines are read
    appendFileSync(join(sub, 'queries.log'), lines(1500, 1600));
    const grown = dnslens(['--bindLogFile', join(sub, 'queries.log'), '--dataDir', dataDir, '--timezone', 'UTC']);
    expect(grown.code, grown.stderr).toBe(0);
    expect(count(dataDir)).toBe(1600);
    expect(count(dataDir, 'SELECT uniqExact(Question) FROM DNS_LOG')).toBe(1600);
  }, 120_000);
});
