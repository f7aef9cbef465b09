// The benchmark's storage steps on a small generated capture, through the built CLI and chdb:
// every decoded message ends up in DNS_LOG, the run without views stores the same count, and the
// size step reads real figures from system.parts for ours, dnsmonster's table and the rollups.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Row } from '../bench/run.js';

const RUN = join(process.cwd(), 'dist', 'bench', 'run.js');

describe('bench store and size steps', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-bench-store-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores the capture, compares with the engine alone and without views, and sizes the tables', () => {
    const json = join(dir, 'rows.json');
    const r = spawnSync(process.execPath, [RUN, '--packets', '5000', '--seed', '4', '--only', 'decode,store,size', '--cacheDir', dir, '--json', json], {
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const { rows } = JSON.parse(readFileSync(json, 'utf8')) as { rows: Row[] };
    const find = (step: string, figure: string): Row => {
      const row = rows.find((x) => x.step === step && x.figure === figure);
      if (!row) throw new Error(`no row ${step}/${figure} in ${JSON.stringify(rows)}`);
      return row;
    };
    const decoded = Number(find('decode', 'events').value.replace(/,/g, ''));
    expect(decoded).toBeGreaterThan(0);
    const stored = find('store', 'rows in DNS_LOG');
    expect(stored.pass, stored.note).toBe(true);
    expect(Number(stored.value.replace(/,/g, ''))).toBe(decoded);
    expect(find('store', 'packets/s').value).toMatch(/pkt\/s$/);
    expect(find('store', 'packets/s, no views').note).toContain(`${decoded.toLocaleString('en-US')} rows`);
    // the reference: the engine alone stored the same rows again
    const engine = find('store', 'packets/s, engine alone');
    expect(engine.value).toMatch(/pkt\/s$/);
    expect(engine.note).toContain(`the ${decoded.toLocaleString('en-US')} rows stored`);
    expect(engine.note).toMatch(/dnslens reaches \d+% of it/);
    const perMessage = Number(find('size', 'bytes/message').value);
    const theirs = Number(find('size', 'dnsmonster bytes/message').value);
    expect(perMessage).toBeGreaterThan(0);
    expect(theirs).toBeGreaterThan(0);
    expect(Number(find('size', 'ours / dnsmonster').value)).toBeCloseTo(perMessage / theirs, 1);
    expect(find('size', 'rollups / DNS_LOG, 31 minutes').value).toMatch(/^\d+\.\d\d %$/);
    // bytes per message per column group: the groups add up to the whole
    const groups = rows.filter((x) => x.step === 'size' && x.figure.startsWith('  '));
    expect(groups.map((g) => g.figure.trim())).toContain('answers');
    expect(groups.reduce((n, g) => n + Number(g.value), 0)).toBeCloseTo(perMessage, 1);
    for (const line of ['rows in DNS_LOG', 'bytes/message', 'rollups / DNS_LOG']) expect(r.stdout).toContain(line);
  });
});
