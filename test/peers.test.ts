// DNSLENS_REQUIRE_PEERS: any value a user means as "on" enforces the peers, not only 1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { truthy } from './peers.js';

describe('DNSLENS_REQUIRE_PEERS', () => {
  it('reads 1, true, yes and on (any case) as on, anything else as off', () => {
    for (const v of ['1', 'true', 'TRUE', 'yes', 'Yes', 'on', ' 1 ']) expect(truthy(v), v).toBe(true);
    for (const v of [undefined, '', '0', 'false', 'no', 'off', '2', 'enabled']) expect(truthy(v), String(v)).toBe(false);
  });

  it('with "yes", a suite whose peer is missing fails instead of skipping', () => {
    const root = resolve(import.meta.dirname, '..');
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-peers-'));
    try {
      const file = join(dir, 'needs-a-peer.test.ts');
      writeFileSync(join(dir, 'vitest.config.mjs'), 'export default {};\n');
      writeFileSync(
        file,
        `import { expect, it } from 'vitest';\nimport { describeWithPeers } from '${join(root, 'test/peers.ts')}';\n` +
          `describeWithPeers('needs a tool no machine has', ['dnslens-no-such-tool'], () => { it('runs', () => expect(1).toBe(1)); });\n`,
      );
      const run = (value: string) => {
        try {
          return { code: 0, out: execFileSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--root', dir, file], { env: { ...process.env, DNSLENS_REQUIRE_PEERS: value }, encoding: 'utf8', stdio: 'pipe', timeout: 60_000 }) };
        } catch (e) {
          const err = e as { status: number; stdout: string; stderr: string };
          return { code: err.status, out: err.stdout + err.stderr };
        }
      };
      const required = run('yes');
      expect(required.code).not.toBe(0);
      expect(required.out).toContain('DNSLENS_REQUIRE_PEERS=yes and this suite needs dnslens-no-such-tool');
      const optional = run('0');
      expect(optional.code, optional.out).toBe(0);
      expect(optional.out).toMatch(/skipped/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
