// Start-up cost: a run that does not store in ClickHouse must not load the ClickHouse client or
// the embedded engine (they cost tens of milliseconds). Every component's descriptor is loaded
// by every run, so heavy modules are imported inside open(). Checked with Node's module hooks,
// which see every module a run resolves.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'dnslens-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Hooks that append every resolved module URL to the file in DNSLENS_TEST_MODULES.
const HOOKS = join(dir, 'hooks.mjs');
writeFileSync(
  HOOKS,
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.DNSLENS_TEST_MODULES, r.url + '\\n');
  return r;
}
`,
);
const REGISTER = join(dir, 'register.mjs');
writeFileSync(REGISTER, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(HOOKS).href)});\n`);

function modulesOf(args: string[]): string[] {
  const list = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(list, '');
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(REGISTER).href, MAIN, ...args], {
    env: { ...process.env, DNSLENS_TEST_MODULES: list },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(list, 'utf8').split('\n').filter(Boolean);
}

describe('start-up', () => {
  it('a stdout run and --help load neither the ClickHouse client nor chdb', () => {
    for (const args of [['--pcapFile', join(ROOT, 'samples/dns-sample.pcap'), '--stdoutOutputType', '1'], ['--help']]) {
      const loaded = modulesOf(args);
      expect(loaded.some((u) => u.includes('/src/cli/registry.js'))).toBe(true); // the hooks saw the run
      expect(loaded.filter((u) => /@clickhouse|\/chdb\//.test(u)), args.join(' ')).toEqual([]);
    }
  });

  it('a run into the embedded store does load them', () => {
    const loaded = modulesOf(['--pcapFile', join(ROOT, 'samples/dns-sample.pcap'), '--dataDir', join(dir, 'store')]);
    expect(loaded.some((u) => u.includes('@clickhouse/client'))).toBe(true);
  });
});
