// Adding a component touches one place: an output and a transform declared here, in the test,
// and registered with registry.with(), show up with no edit elsewhere in --help, the README
// reference, --writeConfig (and the INI and environment readers), the summary's counters, the
// stats log line and the dnslens_health table.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defineOutput, defineTransform } from '../src/component.js';
import { bool, outputType, str } from '../src/options.js';
import { helpText, loadConfig } from '../src/cli/config.js';
import { cliReference } from '../src/cli/reference.js';
import { registry } from '../src/cli/registry.js';
import { runCapture } from '../src/cli/run.js';
import { statsRecord } from '../src/cli/summary.js';
import { Stats } from '../src/stats.js';
import { openStore } from '../src/store/connection.js';

const SAMPLE = resolve(import.meta.dirname, '..', 'samples', 'dns-sample.pcap'); // 38 DNS messages

const tee = defineOutput({
  kind: 'output',
  name: 'tee',
  section: 'tee_output',
  options: [outputType('tee', 'tee_output', 'the test sink'), str('teeOutputLabel', 'tee_output', 'plain', 'A label the test sink keeps')],
  typeOption: 'teeOutputType',
  counters: { seen: 'events seen' },
  async open({ counters, settings }) {
    expect(settings.teeOutputLabel).toBeTypeOf('string'); // its own settings, typed
    return { output: { name: 'tee', write: (events) => counters.add('seen', events.length), close: async () => undefined } };
  },
});

const tag = defineTransform({
  kind: 'transform',
  name: 'tag',
  section: 'tag',
  options: [bool('tagEvents', 'tag', 'Count every event in the test transform')],
  counters: { tagged: 'events tagged' },
  open: ({ settings, counters }) =>
    settings.tagEvents
      ? {
          event: {
            name: 'tag',
            apply(events) {
              counters.add('tagged', events.length);
              return events;
            },
          },
        }
      : null,
});

const withBoth = registry.with(tee, tag);

describe('a component declared in one place', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnslens-registry-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is in --help', () => {
    const help = helpText(withBoth);
    expect(help).toContain('--teeOutputType');
    expect(help).toContain('--teeOutputLabel');
    expect(help).toContain('--tagEvents');
    expect(help).toContain('tee_output:');
    expect(helpText()).not.toContain('--tagEvents'); // the built-in registry is unchanged
  });

  it('is in the generated reference, with its section and environment variable', () => {
    const ref = cliReference(withBoth);
    expect(ref).toContain('### [tee_output]');
    expect(ref).toContain('`--teeOutputLabel` | `DNSLENS_TEEOUTPUTLABEL`');
    expect(ref).toContain('### [tag]');
  });

  it('is written by --writeConfig and read back from the INI file and the environment', async () => {
    const ini = join(dir, 'with-both.ini');
    const err: string[] = [];
    const code = await runCapture(['--pcapFile', SAMPLE, '--teeOutputType', '1', '--tagEvents', '--writeConfig', ini], { registry: withBoth, env: {}, stderr: (t) => err.push(t) });
    expect(code).toBe(0);
    const text = readFileSync(ini, 'utf8');
    expect(text).toContain('[tee_output]');
    expect(text).toContain('teeOutputType = 1');
    expect(text).toContain('[tag]');
    expect(text).toContain('tagEvents = true');
    const back = loadConfig(['--config', ini], { DNSLENS_TEEOUTPUTLABEL: 'from-env' }, withBoth);
    expect([back.teeOutputType, back.tagEvents, back.teeOutputLabel]).toEqual([1, true, 'from-env']);
    // the built-in registry does not know its keys
    expect(() => loadConfig(['--config', ini], {})).toThrow(/unknown section \[(tag|tee_output)\]/);
  });

  it('has its counters in the summary and the stats log line', async () => {
    const err: string[] = [];
    const code = await runCapture(['--pcapFile', SAMPLE, '--teeOutputType', '1', '--tagEvents'], { registry: withBoth, env: {}, stderr: (t) => err.push(t) });
    expect(code).toBe(0);
    const summary = err.join('');
    expect(summary).toMatch(/\n {2}tee\n {4}events seen +38\n/);
    expect(summary).toMatch(/\n {2}tag\n {4}events tagged +38\n/);
    const stats = new Stats();
    stats.counters('tee', tee.counters).add('seen', 5);
    expect(statsRecord(stats).tee).toEqual({ seen: 5 });
  });

  it('has its counters in the dnslens_health table', async () => {
    const dataDir = join(dir, 'store');
    const code = await runCapture(['--pcapFile', SAMPLE, '--teeOutputType', '1', '--clickhouseOutputType', '1', '--tagEvents', '--dataDir', dataDir, '--serverName', 'reg'], {
      registry: withBoth,
      env: {},
      stderr: () => undefined,
    });
    expect(code).toBe(0);
    const store = await openStore({ dataDir, database: 'default' });
    try {
      const rows = await store.query<{ Counter: string; total: string }>(
        "SELECT Counter, sum(Value) AS total FROM dnslens_health WHERE Server = 'reg' AND Kind = 'counter' AND Counter IN ('tee.seen', 'tag.tagged', 'clickhouse.sent') GROUP BY Counter ORDER BY Counter",
      );
      expect(rows.map((r) => [r.Counter, Number(r.total)])).toEqual([
        ['clickhouse.sent', 38],
        ['tag.tagged', 38],
        ['tee.seen', 38],
      ]);
    } finally {
      await store.close();
    }
  });
});
