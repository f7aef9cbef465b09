// --memoryLimit (issue #12): the option's values and errors, the default from the machine's
// memory, what each part of the process is given under a limit, and a real import into the
// embedded store under a low limit that stores every row. Peak RSS is measured by the bench
// (`npm run bench -- --only memory`), not here: it depends on the machine and its load.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCapture } from '../bench/gen.js';
import { ConfigError, formatIni, loadConfig } from '../src/cli/config.js';
import { runInfo } from '../src/cli/open.js';
import { autoMemoryLimit, budget, memoryTier, resolveMemoryLimit } from '../src/memory.js';
import { batchSizes, EMBEDDED_BATCH_SIZE, queueBytes, TIGHT_BATCH } from '../src/outputs/clickhouse/store.js';
import { openStore, querySpill } from '../src/store/connection.js';
import { startHolder } from './holder.js';
import { DEFAULT_MAX_PENDING, maxPendingFor } from '../src/transforms/match.js';
import { MAIN } from './dnstap-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslens-memory-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GiB = 2 ** 30;
const limitOf = (args: string[], env: NodeJS.ProcessEnv = {}) => loadConfig(['--pcapFile', '-', ...args], env).memoryLimit;

/** What loadConfig throws for a bad value: a ConfigError naming the option, saying `says`. */
const rejected = (says: string) => expect.objectContaining({ name: 'ConfigError', option: 'memoryLimit', message: expect.stringContaining(says) }) as ConfigError;

describe('--memoryLimit values', () => {
  it('takes sizes with units, 0 or unlimited for none, and auto (the default)', () => {
    expect(limitOf([])).toBe('auto');
    expect(limitOf(['--memoryLimit', '400MB'])).toBe(400e6);
    expect(limitOf(['--memoryLimit', '1GiB'])).toBe(GiB);
    expect(limitOf(['--memoryLimit=1.5GB'])).toBe(1.5e9);
    expect(limitOf(['--memoryLimit', '0'])).toBe(0);
    expect(limitOf(['--memoryLimit', 'Unlimited'])).toBe(0);
    expect(limitOf(['--memoryLimit', 'AUTO'])).toBe('auto');
    expect(limitOf([], { DNSLENS_MEMORYLIMIT: '600MB' })).toBe(600e6);
  });

  it('rejects what is not a size, and sizes too small to run, naming the option', () => {
    for (const [value, says] of [
      ['lots', '--memoryLimit: "lots" is not a memory size (e.g. 400MB, 1GB, 0 or unlimited, auto)'],
      ['-400MB', 'is not a memory size'],
      ['400XB', 'is not a memory size'],
      ['', 'is not a memory size'],
      ['100MB', '--memoryLimit: 100MB is below the minimum 256MB (0 or unlimited for no limit)'],
      ['1', 'below the minimum 256MB'],
    ]) {
      expect(() => limitOf(['--memoryLimit', value])).toThrowError(rejected(says));
    }
    expect(() => limitOf([], { DNSLENS_MEMORYLIMIT: 'huge' })).toThrowError(rejected('(from DNSLENS_MEMORYLIMIT)'));
  });

  it('is written back as given by --writeConfig (auto stays auto, not this machine\'s figure)', () => {
    const ini = (args: string[]) => formatIni(loadConfig(['--pcapFile', '-', ...args], {}));
    expect(ini([])).toMatch(/^memoryLimit = auto$/m);
    expect(ini(['--memoryLimit', '0'])).toMatch(/^memoryLimit = unlimited$/m);
    expect(ini(['--memoryLimit', '400MB'])).toMatch(/^memoryLimit = 400MB$/m);
  });
});

describe('the default follows the machine\'s memory', () => {
  it('auto is a fifth of it, at least 400MB', () => {
    expect(autoMemoryLimit(1.8 * GiB)).toBe(400e6); // a 2 GB Raspberry Pi 4 (what the kernel reports)
    expect(autoMemoryLimit(1 * GiB)).toBe(400e6);
    expect(autoMemoryLimit(4 * GiB)).toBe(858e6);
    expect(autoMemoryLimit(24 * GiB)).toBe(5153e6);
    expect(resolveMemoryLimit('auto', 2 * GiB)).toBe(429e6);
    expect(resolveMemoryLimit(600e6, 2 * GiB)).toBe(600e6); // given: kept
    expect(resolveMemoryLimit(0, 2 * GiB)).toBe(0);
  });

  it('the run resolves it once, for every component', () => {
    const cfg = loadConfig(['--pcapFile', '-'], {});
    expect(runInfo(cfg, {}, 1.8 * GiB).memoryLimit).toBe(400e6);
    expect(runInfo(cfg, {}, 16 * GiB).memoryLimit).toBe(3435e6);
    expect(runInfo(loadConfig(['--pcapFile', '-', '--memoryLimit', 'unlimited'], {}), {}, 1.8 * GiB).memoryLimit).toBe(0);
  });
});

describe('what a limit gives each part of the process', () => {
  it('tiers: tight below 700MB, roomy from 1.5GB and without a limit', () => {
    expect(memoryTier(400e6)).toBe('tight');
    expect(memoryTier(700e6)).toBe('bounded');
    expect(memoryTier(1e9)).toBe('bounded');
    expect(memoryTier(1.5e9)).toBe('roomy');
    expect(memoryTier(0)).toBe('roomy');
    expect(budget(0, 0.1, 1, 50)).toBe(50);
    expect(budget(100, 0.1, 1, 50)).toBe(10);
    expect(budget(100, 0.1, 20, 50)).toBe(20);
  });

  it('embedded inserts: 25,000 rows under a tight limit, 250,000 below 1GB, else as without a limit; an explicit batch size wins', () => {
    expect(batchSizes(100_000, false, true, 400e6)).toEqual({ batchSize: TIGHT_BATCH, minBatchRows: TIGHT_BATCH });
    expect(batchSizes(100_000, false, true, 800e6).batchSize).toBe(250_000);
    expect(batchSizes(100_000, false, true, 1e9).batchSize).toBe(EMBEDDED_BATCH_SIZE);
    expect(batchSizes(100_000, false, true, 0)).toEqual(batchSizes(100_000, false, true));
    expect(batchSizes(100_000, true, true, 400e6)).toEqual({ batchSize: 100_000 }); // --clickhouseBatchSize given
    expect(batchSizes(100_000, false, false, 400e6)).toEqual({ batchSize: 100_000 }); // a server
    expect(queueBytes(400e6)).toBe(1); // one batch waits behind the one being sent
    expect(queueBytes(0)).toBeUndefined(); // the writer's own default
  });

  it('queries spill GROUP BYs and sorts past a twentieth of a limit below 1.5GB, never without one', () => {
    expect(querySpill(400e6)).toBe(20e6);
    expect(querySpill(1e9)).toBe(50e6);
    expect(querySpill(2e9)).toBe(0);
    expect(querySpill(0)).toBe(0);
  });

  it('the matcher holds a tenth of the limit in waiting queries, at most its default', () => {
    expect(maxPendingFor(0)).toBe(DEFAULT_MAX_PENDING);
    expect(maxPendingFor(400e6)).toBe(40_000);
    expect(maxPendingFor(1e9)).toBe(100_000);
    expect(maxPendingFor(8e9)).toBe(DEFAULT_MAX_PENDING);
    expect(maxPendingFor(256e6)).toBe(25_600);
  });
});

describe('an import into the embedded store under a low limit', () => {
  it('stores every message, in batches sized to the limit', async () => {
    const pcap = join(dir, 'small.pcap');
    const summary = await generateCapture(pcap, { packets: 60_000, seed: 12 });
    const dataDir = join(dir, 'store');
    // The limit's levers are process-wide (the allocator, V8's young generation): a child process.
    const r = spawnSync(process.execPath, [MAIN, '--pcapFile', pcap, '--clickhouseOutputType', '1', '--dataDir', dataDir, '--memoryLimit', '300MB', '--logLevel', '4'], {
      encoding: 'utf8',
      timeout: 180_000,
      env: { ...process.env, JE_MALLOC_CONF: '' },
    });
    expect(r.status, r.stderr).toBe(0);
    const messages = summary.queries + summary.responses;
    const sent = [...r.stderr.matchAll(/"rows":(\d+),"ms":\d+[^\n]*"batch sent"/g)].map((m) => Number(m[1]));
    expect(Math.max(...sent)).toBe(TIGHT_BATCH);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(messages);
    const count = spawnSync(process.execPath, [MAIN, 'sql', '--dataDir', dataDir, '--format', 'csv', 'SELECT count() FROM DNS_LOG'], { encoding: 'utf8', timeout: 60_000 });
    expect(count.status, count.stderr).toBe(0);
    expect(Number(count.stdout.trim().split('\n').pop())).toBe(messages); // under the CSV header
    // queries on the store (signals, reports, sql) spill their GROUP BYs and sorts under the limit
    const spill = (limit: string[]) => {
      const q = "SELECT getSetting('max_bytes_before_external_group_by'), getSetting('max_bytes_before_external_sort')";
      const r = spawnSync(process.execPath, [MAIN, 'sql', '--dataDir', dataDir, '--format', 'csv', ...limit, q], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').pop();
    };
    expect(spill(['--memoryLimit', '300MB'])).toBe(`${querySpill(300e6)},${querySpill(300e6)}`);
    expect(spill(['--memoryLimit', 'unlimited'])).toBe('0,0');
  }, 240_000);

  it('queries through the endpoint of a process holding the store spill as its own do', async () => {
    const dataDir = join(dir, 'held');
    const holder = await startHolder(dataDir, ['--memoryLimit', '300000000']);
    try {
      const store = await openStore({ dataDir });
      try {
        expect(store.kind).toBe('endpoint');
        const [r] = await store.query<{ g: string | number; s: string | number }>(
          "SELECT getSetting('max_bytes_before_external_group_by') AS g, getSetting('max_bytes_before_external_sort') AS s",
        );
        expect([Number(r.g), Number(r.s)]).toEqual([querySpill(300e6), querySpill(300e6)]);
      } finally {
        await store.close();
      }
    } finally {
      await holder.stop();
    }
  }, 120_000);
});
