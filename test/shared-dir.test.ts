// DNSLENS_SHARED_DIR: every test that reads the shared captures and logs finds them through
// test/data.ts, which honours it; no test file names ../shared itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SHARED_DIR } from './data.js';

const ROOT = resolve(import.meta.dirname, '..');

describe('DNSLENS_SHARED_DIR', () => {
  it('no test file but test/data.ts names the shared directory', () => {
    const offenders = readdirSync(join(ROOT, 'test'))
      .filter((f) => /\.(ts|mjs)$/.test(f) && f !== 'data.ts' && f !== 'shared-dir.test.ts')
      .filter((f) => /\.\.\/\.\.\/shared|'\.\.',\s*'\.\.',\s*'shared'|\.\.\/shared\/data/.test(readFileSync(join(ROOT, 'test', f), 'utf8').replace(/^\s*\/\/.*$/gm, '')));
    expect(offenders).toEqual([]);
  });

  it('a suite reading shared files follows it to another place', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-shared-'));
    try {
      symlinkSync(SHARED_DIR, join(dir, 'elsewhere'));
      const run = (shared: string) => {
        try {
          execFileSync(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', 'test/dnstap-files.test.ts', '-t', 'pktvisor'], {
            cwd: ROOT,
            // dist/ is built already: a second build while the suite runs would rewrite it under other tests' feet
            env: { ...process.env, DNSLENS_SHARED_DIR: shared, DNSLENS_TEST_BUILT: '1' },
            stdio: 'pipe',
            timeout: 120_000,
          });
          return 0;
        } catch (e) {
          return (e as { status: number }).status;
        }
      };
      expect(run(join(dir, 'elsewhere'))).toBe(0);
      expect(run(join(dir, 'nothing-here'))).not.toBe(0); // it did look there
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
