// --logFormat: JSON lines for collectors, readable text for a person, and by default text on a
// terminal and JSON otherwise (a pseudo-terminal from util-linux's `script` stands for the person).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeWithPeers } from './peers.js';

const ROOT = resolve(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const SAMPLE = join(ROOT, 'samples/dns-sample.pcap');
const dir = mkdtempSync(join(tmpdir(), 'dnslens-logformat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A run that logs: the store's first opening logs the migrations it applied (info).
const logged = (extra: string[], name: string) => {
  const r = spawnSync(process.execPath, [MAIN, '--pcapFile', SAMPLE, '--dataDir', join(dir, name), ...extra], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr.split('\n').filter((l) => l.includes('schema migrated'));
};

describe('--logFormat', () => {
  it('json: one JSON object a line', () => {
    const [line] = logged(['--logFormat', 'json'], 'json');
    expect(JSON.parse(line)).toMatchObject({ level: 30, msg: 'schema migrated', component: 'clickhouse' });
  });

  it('text: a readable line, no JSON', () => {
    const [line] = logged(['--logFormat', 'text'], 'text');
    expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: schema migrated$/);
  });

  it('auto (the default) is JSON when stderr is not a terminal', () => {
    const [line] = logged([], 'auto');
    expect(JSON.parse(line).msg).toBe('schema migrated');
  });
});

describeWithPeers('--logFormat auto on a terminal', ['script'], () => {
  it('is readable text', () => {
    const cmd = [process.execPath, MAIN, '--pcapFile', SAMPLE, '--dataDir', join(dir, 'tty')].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stdout).toBe(0);
    const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).toMatch(/\] INFO: schema migrated\r?\n/);
    expect(plain).not.toContain('"msg":');
  });
});
