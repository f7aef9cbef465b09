// Tests that run the CLI as a user would need dist/: build once before the suite.
// Type errors are `npm run build`'s job to fail on (CI runs it first); tsc still emits.
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  // A vitest run started by a test (test/shared-dir.test.ts) must not rebuild dist/ while other
  // tests import it: a file being rewritten failed an ESM import in CI.
  if (process.env.DNSLENS_TEST_BUILT === '1') return;
  const r = spawnSync('npx', ['--no-install', 'tsc', '-p', '.'], { encoding: 'utf8' });
  if (r.status !== 0) console.warn(`[global-setup] tsc reported errors:\n${(r.stdout + r.stderr).slice(0, 2000)}`);
}
