// The benchmark runner end to end on a small generated capture (built dist/, real decoder,
// real tshark and tcpdump): rows come out for the selected steps, the decoder's event count
// agrees with the generator's, the capture is cached, and bad arguments are refused.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Row } from '../bench/run.js';
import { describeWithPeers } from './peers.js';

const RUN = join(process.cwd(), 'dist', 'bench', 'run.js');

function bench(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [RUN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describeWithPeers('bench runner', ['tshark', 'tcpdump'], () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-bench-run-'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('measures the selected steps on one cached capture and prints the table', () => {
    const json = join(dir, 'rows.json');
    const first = bench(['--packets', '4000', '--seed', '3', '--only', 'decode,ref', '--cacheDir', dir, '--json', json]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/generated in/);
    const { rows, summary } = JSON.parse(readFileSync(json, 'utf8')) as { rows: Row[]; summary: { packets: number } };
    expect(summary.packets).toBe(4000);
    expect(new Set(rows.map((r) => r.step))).toEqual(new Set(['decode', 'ref']));
    const find = (figure: string): Row => {
      const row = rows.find((r) => r.figure === figure);
      if (!row) throw new Error(`no row "${figure}" in ${JSON.stringify(rows)}`);
      return row;
    };
    const pps = find('packets/s');
    expect(Number(pps.value.replace(/[^0-9]/g, ''))).toBeGreaterThan(0);
    expect(pps.target).toMatch(/1,000,000/);
    expect(typeof pps.pass).toBe('boolean');
    // the decoder turns every UDP DNS message of the generated file into an event, nothing malformed
    const events = find('events');
    expect(events.pass, events.note).toBe(true);
    expect(find('tshark packets/s').value).toMatch(/pkt\/s/);
    expect(find('tcpdump packets/s').value).toMatch(/pkt\/s/);
    expect(find('decode-only / tshark').target).toBe('≥ 25×');
    for (const line of ['packets/s', 'decode-only / tshark', 'tcpdump packets/s']) expect(first.stdout).toContain(line);

    const second = bench(['--packets', '4000', '--seed', '3', '--only', 'decode', '--cacheDir', dir]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/\(cached\)/);
    expect(second.stdout).not.toContain('tshark packets/s');
    expect(readdirSync(dir).filter((f) => f.endsWith('.pcap'))).toHaveLength(1);
  });

  it('refuses unknown steps and out-of-range sizes', () => {
    const step = bench(['--only', 'decode,nosuch', '--cacheDir', dir]);
    expect(step.code).toBe(2);
    expect(step.stderr).toMatch(/unknown step "nosuch"/);
    const size = bench(['--packets', '10', '--cacheDir', dir]);
    expect(size.code).toBe(2);
    expect(size.stderr).toMatch(/--packets must be/);
  });
});
