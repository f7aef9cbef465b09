// The import directions of src/ (.dependency-cruiser.cjs), checked by dependency-cruiser: the
// tree as it is passes, and each rule catches a planted violation in a scratch tree.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const BIN = join(ROOT, 'node_modules', '.bin', 'depcruise');

function cruise(cwd: string): { status: number | null; output: string } {
  const r = spawnSync(BIN, ['src', '--config', CONFIG, '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, output: r.stdout + r.stderr };
}

describe('import directions', () => {
  it('src/ follows them', () => {
    const r = cruise(ROOT);
    expect(r.output).toContain('no dependency violations found');
    expect(r.output).toMatch(/\((\d{2,}) modules/); // it read the tree, not nothing
    expect(r.status).toBe(0);
  });

  const scratch = mkdtempSync(join(tmpdir(), 'dnslens-layers-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  // file -> the files it imports, one scratch tree per rule
  const CASES: [string, Record<string, string[]>][] = [
    ['shared-is-the-bottom', { 'src/event.ts': ['./decode/dns.js'], 'src/decode/dns.ts': [] }],
    ['lower-imports-only-shared', { 'src/decode/dns.ts': ['../store/connection.js'], 'src/store/connection.ts': [] }],
    ['components-never-import-cli', { 'src/outputs/stdout.ts': ['../cli/config.js'], 'src/cli/config.ts': [] }],
    ['components-of-one-kind-only', { 'src/outputs/stdout.ts': ['../transforms/mask.js'], 'src/transforms/mask.ts': [] }],
    ['sink-toolkit-is-generic', { 'src/outputs/sink/writer.ts': ['../clickhouse/native.js'], 'src/outputs/clickhouse/native.ts': [] }],
    ['no-cycles-between-folders', { 'src/outputs/a/x.ts': ['../b/y.js'], 'src/outputs/b/y.ts': ['../a/x.js'] }],
    ['src-never-imports-tests', { 'src/event.ts': ['../test/helper.js'], 'test/helper.ts': [] }],
  ];
  for (const [rule, files] of CASES) {
    it(`catches a break of ${rule}`, () => {
      const dir = join(scratch, rule);
      for (const [file, imports] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), imports.map((i, n) => `import { x${n} } from '${i}';\n`).join('') + 'export const x0 = 1;\n');
      }
      const r = cruise(dir);
      expect(r.output).toContain(rule);
      expect(r.status).not.toBe(0);
    });
  }
});
