// makeDirs: a bad --dataDir or output path fails with an error instead of hanging (Node's recursive
// mkdir spins forever under /proc).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDirs } from '../src/mkdirs.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const SAMPLE = join(import.meta.dirname, '../samples/dns-sample.pcap');
const root = mkdtempSync(join(tmpdir(), 'dnslens-mkdirs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('makeDirs', () => {
  it('creates missing levels, accepts an existing directory, and races with itself', async () => {
    const deep = join(root, 'a', 'b', 'c');
    await makeDirs(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    await makeDirs(deep);
    await Promise.all([makeDirs(join(root, 'x', 'y')), makeDirs(join(root, 'x', 'y')), makeDirs(join(root, 'x', 'z'))]);
    expect(statSync(join(root, 'x', 'z')).isDirectory()).toBe(true);
  });

  it('fails, not hangs, where a level cannot be made', async () => {
    await expect(makeDirs('/proc/dnslens-test/deeper')).rejects.toThrow(/ENOENT.*\/proc\/dnslens-test/);
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    await expect(makeDirs(join(file, 'sub'))).rejects.toThrow(/ENOTDIR/);
    await expect(makeDirs(file)).rejects.toThrow(/ENOTDIR.*is not a directory/);
  });

  it('gives the CLI a clear error for a data dir or output file under /proc', () => {
    for (const args of [
      ['--pcapFile', SAMPLE, '--dataDir', '/proc/dnslens-test'],
      ['--pcapFile', SAMPLE, '--fileOutputType', '1', '--fileOutputPath', '/proc/dnslens-test/out.json'],
    ]) {
      const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000, cwd: root });
      expect(r.signal).toBeNull(); // not killed by the timeout
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/ENOENT: no such file or directory, mkdir '\/proc\/dnslens-test'/);
    }
  }, 120_000);
});
