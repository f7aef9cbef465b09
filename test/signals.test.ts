// The signals (issue #14), each on labelled traffic stored in an embedded store: the scenarios of
// test/signal-traffic.ts over a benign background must fire exactly what they are labelled with,
// at the default thresholds, and nothing else; then the schedule, the table and the report.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseValue } from '../src/cli/config.js';
import type { Output } from '../src/component.js';
import type { DnsEvent } from '../src/event.js';
import { findReport } from '../src/reports/catalog.js';
import { runReport } from '../src/reports/named.js';
import { chosenSignals, SIGNALS } from '../src/signals/catalog.js';
import { evaluateSignals, newOnes, type Fired } from '../src/signals/evaluate.js';
import { SIGNAL_OPTIONS, type SignalSettings } from '../src/signals/options.js';
import { SignalRunner } from '../src/signals/runner.js';
import { trainModel, trainingLabels } from '../src/signals/train-ngrams.js';
import { openStore, type Store } from '../src/store/connection.js';
import { background, EXPECTED, events, scenarios, T0, type Exchange } from './signal-traffic.js';
import { insertEvents } from './store-insert.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';

const DEFAULTS = Object.fromEntries(SIGNAL_OPTIONS.map((o) => [o.name, parseValue(o, o.default)])) as unknown as SignalSettings;
const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const root = mkdtempSync(join(tmpdir(), 'dnslens-signals-'));
let store: Store;

async function store_(exchanges: readonly Exchange[], server: string): Promise<void> {
  const all = exchanges.flatMap((x) => events(x, server)).sort((a, b) => a.timeSec - b.timeSec || a.timeNsec - b.timeNsec);
  for (let i = 0; i < all.length; i += 100_000) await insertEvents(store, all.slice(i, i + 100_000));
}

const evaluate = (server: string, from: number, until: number, settings = DEFAULTS, log = quiet, signals = SIGNALS) =>
  evaluateSignals(store, { signals, settings, server, from: from * 1000, until: until * 1000, log, sensor: 'test:1' });

const keys = (fired: readonly Fired[]) => fired.map((f) => [f.signal, f.subject, f.client]).sort();

beforeAll(async () => {
  store = await openStore({ dataDir: join(root, 'data') });
  await prepareSchema(store);
  // 200 clients at 2 lookups a minute for 3 hours, and the scenarios within them
  await store_([...background(7, 200, 3, 2), ...scenarios(11)], 'lab');
}, 120_000);

afterAll(async () => {
  await store?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('signals on labelled traffic, default thresholds', () => {
  let fired: Fired[];
  const warned: { fields: Record<string, unknown>; msg: string }[] = [];

  beforeAll(async () => {
    const log = { ...quiet, warn: (fields: Record<string, unknown>, msg: string) => void warned.push({ fields, msg }) };
    fired = await evaluate('lab', T0, T0 + 3 * 3600, DEFAULTS, log as typeof quiet);
  }, 120_000);

  it('fires each scenario on its client, domain or server, and nothing else', () => {
    expect(keys(fired)).toEqual([...EXPECTED].map((e) => [...e]).sort());
  });

  it('says why: the evidence and examples of each', () => {
    const one = (signal: string) => fired.find((f) => f.signal === signal)!;
    expect(one('nxdomain-client').evidence).toMatchObject({ nxdomain: 300, apexes: 20 });
    expect(one('nxdomain-client').evidence.share).toBeGreaterThan(0.9);
    expect(one('nxdomain-apex').evidence).toMatchObject({ nxdomain: 400, clients: 50 });
    expect(one('tunnel').evidence).toMatchObject({ names: 400, long_names: 400, tunnel_types: 400, max_label: 52 });
    expect(one('tunnel').examples[0]).toMatch(/^[a-z2-7]{52}\.[a-z2-7]{52}\.t\.exfil-example\.net$/);
    const failures = one('resolution-failures').evidence;
    expect(failures.servfail + failures.refused + failures.unanswered).toBeGreaterThanOrEqual(50);
    expect(failures.share).toBeGreaterThan(0.3);
    expect(one('latency-regression').evidence.p95_ms).toBeGreaterThan(3 * one('latency-regression').evidence.baseline_p95_ms);
    expect(one('beacon').evidence).toMatchObject({ queries: 120, name_clients: 1 });
    expect(one('beacon').evidence.period_s).toBeCloseTo(60, 0);
    expect(one('beacon').evidence.jitter).toBeLessThan(0.1);
    expect(one('dga').evidence).toMatchObject({ dga_names: 40, nxdomain_names: 40 });
    expect(one('dga').examples.every((n) => /^[a-z0-9]{12,18}\.(com|net|info)$/.test(n))).toBe(true);
    const bursts = fired.filter((f) => f.signal === 'query-burst').sort((a, b) => a.subject.localeCompare(b.subject));
    expect(bursts[0].evidence.peak_minute).toBe(1500);
    expect(bursts[1].evidence).toMatchObject({ queries: 400, repeats: 399 });
    for (const f of fired) expect(f.score, f.signal).toBeGreaterThanOrEqual(1);
  });

  it('stores them in dns_signals and logs each as a warning', async () => {
    const rows = await store.query<{ Signal: string; Subject: string; Client: string; Server: string; n: string }>(
      'SELECT Signal, Subject, Client, Server, count() AS n FROM dns_signals GROUP BY Signal, Subject, Client, Server ORDER BY Signal, Subject',
    );
    expect(rows.map((r) => [r.Signal, r.Subject, r.Client]).sort()).toEqual([...EXPECTED].map((e) => [...e]).sort());
    expect(rows.every((r) => r.Server === 'lab' && Number(r.n) === 1)).toBe(true);
    expect(warned.map((w) => w.fields.signal).sort()).toEqual(EXPECTED.map((e) => e[0]).sort());
    expect(warned.find((w) => w.fields.signal === 'tunnel')!.msg).toMatch(/^signal tunnel: exfil-example\.net \(client 10\.66\.1\.1\): queries 400, names 400, long names 400/);
  });

  it('fires a subject once per window: evaluating again stores nothing new', async () => {
    expect(await evaluate('lab', T0, T0 + 3 * 3600)).toEqual([]);
    const [{ n }] = await store.query<{ n: string }>('SELECT count() AS n FROM dns_signals');
    expect(Number(n)).toBe(EXPECTED.length);
  });

  it('stays quiet on the background alone at half the thresholds; each threshold is what decides', async () => {
    await store_(background(8, 200, 1, 2), 'quiet');
    const half: SignalSettings = {
      ...DEFAULTS,
      signalNxdomainCount: 100,
      signalTunnelNames: 50,
      signalFailureMin: 25,
      signalBurstPerMinute: 500,
      signalBurstRepeats: 150,
      signalBeaconMinQueries: 5,
      signalDgaMinNames: 10,
    };
    expect(await evaluate('quiet', T0, T0 + 3600, half)).toEqual([]);
    // its NXDOMAIN apexes (printer3.lan, www.gooogle1.com) never resolve: not a storm at any count
    const only = (name: string) => chosenSignals([name]) as typeof SIGNALS;
    expect(await evaluate('quiet', T0, T0 + 3600, { ...DEFAULTS, signalNxdomainCount: 1, signalNxdomainShare: 0 }, quiet, only('nxdomain-apex'))).toEqual([]);
    // while a count of 1 in 15 minutes makes ordinary clients "storm"
    const low = await evaluate('quiet', T0, T0 + 3600, { ...DEFAULTS, signalNxdomainCount: 1, signalNxdomainShare: 0 }, quiet, only('nxdomain-client'));
    expect(low.length).toBeGreaterThan(0);
    expect(low.every((f) => f.subject.startsWith('10.1.'))).toBe(true);
  });
});

describe('new-domains', () => {
  it('fires on the day that brings many more new apex domains than the days before, not on ordinary days', async () => {
    const day0 = Date.UTC(2024, 0, 1) / 1000;
    const x: Exchange[] = [];
    const r = (() => {
      let s = 5;
      return () => ((s = (s * 16807) % 2147483647) / 2147483647);
    })();
    for (let d = 0; d < 12; d++) {
      const t = () => day0 + d * 86400 + r() * 86000;
      for (let i = 0; i < 60; i++) x.push({ t: t(), client: `10.9.0.${(i % 20) + 1}`, qname: `www.stable${i}.com` }); // the same every day
      const fresh = d === 11 ? 80 : 5; // day 12 (2024-01-12): 80 new apexes, the others 5
      for (let i = 0; i < fresh; i++) x.push({ t: t(), client: `10.9.0.${(i % 20) + 1}`, qname: `www.day${d}-new${i}.org` });
    }
    await store_(x, 'nod-lab');
    const fired = await evaluate('nod-lab', day0, day0 + 12 * 86400);
    expect(keys(fired)).toEqual([['new-domains', '2024-01-12', '']]);
    expect(fired[0].evidence).toMatchObject({ new_apexes: 80, apexes: 140, baseline: 5, baseline_days: 4 });
    expect(fired[0].examples).toHaveLength(5);
  }, 60_000);
});

describe('the schedule and the record', () => {
  it('evaluates every interval while events come in (a live input), reaching back from the newest event', async () => {
    // an NXDOMAIN storm as a live capture would deliver it, through the output the runner watches
    const t1 = T0 + 86400; // a day later: nothing stored there yet
    const storm = Array.from({ length: 250 }, (_, i): Exchange => ({ t: t1 + i, client: '10.77.0.1', qname: `x${i}.storm-example.net`, rcode: 3 }));
    const runner = new SignalRunner(Promise.resolve(store), { signals: chosenSignals(['nxdomain-client']) as typeof SIGNALS, settings: DEFAULTS, server: 'live', whole: false, log: quiet });
    const sink: Output = { name: 'test', write: (e: readonly DnsEvent[]) => insertEvents(store, [...e]), close: async () => undefined };
    const out = runner.watch(sink);
    await out.write(storm.flatMap((x) => events(x, 'live')));
    runner.start(100);
    for (let i = 0; i < 100 && runner.fired === 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(runner.fired).toBe(1);
    await runner.close(); // the last evaluation finds it stored already
    expect(runner.fired).toBe(1);
    const [row] = await store.query<{ Subject: string; Server: string }>("SELECT Subject, Server FROM dns_signals WHERE Server = 'live'");
    expect(row).toEqual({ Subject: '10.77.0.1', Server: 'live' });
  });

  it('keeps the best window of overlapping candidates, and takes none that overlaps a stored one', () => {
    const f = (start: string, end: string, score: number): Fired => ({ signal: 's', subject: 'a', client: '', windowStart: start, windowEnd: end, score, evidence: {}, examples: [] });
    const got = newOnes([f('10:00', '10:15', 2), f('10:10', '10:25', 3), f('10:25', '10:40', 1), f('11:00', '11:15', 1)], [f('10:50', '11:05', 1)]);
    expect(got.map((g) => g.windowStart)).toEqual(['10:10', '10:25']);
  });

  it('reads decimal thresholds as numbers, and names a bad one', () => {
    const score = SIGNAL_OPTIONS.find((o) => o.name === 'signalDgaScore')!;
    expect(parseValue(score, '3.25')).toBe(3.25);
    expect(() => parseValue(score, '3,6')).toThrow('"3,6" is not a number');
    expect(() => parseValue(score, '-1')).toThrow('-1 is below the minimum 0');
    const entropy = SIGNAL_OPTIONS.find((o) => o.name === 'signalDgaEntropy')!;
    expect(() => parseValue(entropy, '7')).toThrow('7 is out of range 0..6');
  });

  it('--signals picks them by name; none turns them off; a wrong name is an error', () => {
    expect(chosenSignals([])).toHaveLength(SIGNALS.length);
    expect(chosenSignals(['none'])).toEqual([]);
    expect((chosenSignals(['dga', 'beacon']) as typeof SIGNALS).map((s) => s.name)).toEqual(['dga', 'beacon']);
    expect(chosenSignals(['dgaa'])).toMatch(/^--signals: no signal "dgaa" \(nxdomain-client, .*, or none\)$/);
  });

  it('`dnslens report signals` ranks them by score, filters by client and server, and treats hostile values as data', async () => {
    const report = findReport('signals');
    const all = await runReport(store, report, { limit: 100 });
    const scores = all.sections[0].rows.map((r) => Number(r.score));
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(all.sections[0].table).toBe('dns_signals');
    const byClient = await runReport(store, report, { client: '10.66.1.1' });
    expect(byClient.sections[0].rows.map((r) => [r.signal, r.subject])).toEqual([['tunnel', 'exfil-example.net']]);
    const byPrefix = await runReport(store, report, { client: '10.66.2.0/24', limit: 100 });
    expect(byPrefix.sections[0].rows.map((r) => r.subject).sort()).toEqual(['10.66.2.1', '10.66.2.2']);
    const byServer = await runReport(store, report, { server: '10.0.0.55' });
    expect(byServer.sections[0].rows.map((r) => r.signal)).toEqual(['latency-regression']);
    const window = await runReport(store, report, { since: new Date((T0 + 7200) * 1000).toISOString(), until: new Date((T0 + 3 * 3600) * 1000).toISOString(), limit: 100 });
    expect(window.sections[0].rows.map((r) => r.signal).sort()).toEqual(['dga', 'latency-regression']);
    const hostile = await runReport(store, report, { server: "lab'; DROP TABLE dns_signals; --", client: "\\'" });
    expect(hostile.sections[0].rows).toEqual([]);
    const [{ n }] = await store.query<{ n: string }>("SELECT count() AS n FROM dns_signals WHERE Server = 'lab'");
    expect(Number(n)).toBe(EXPECTED.length);
  });
});

describe('the DGA character model', () => {
  it('is trained on words and suffix labels, and tells English-like labels from random ones', () => {
    const tsv = trainModel(trainingLabels('apple\nbanana\nBerlin\ncat\'s\n', '// comment\n*.kawasaki.jp\ncom\nco.uk\n', 'Apex\tCategory\ngoogle.com\tsearch\n'));
    const rows = tsv.trim().split('\n');
    expect(rows[0]).toBe('Gram\tLogP');
    const grams = new Map(rows.slice(1).map((l) => l.split('\t') as [string, string]));
    expect(grams.has('^^a')).toBe(true); // apple
    expect(grams.has('^^b')).toBe(true); // banana
    expect(grams.has('^^k')).toBe(true); // kawasaki
    expect(grams.has('^^g')).toBe(true); // google
    expect(grams.has('^^B')).toBe(false); // names with capitals are left out
    expect(Number(grams.get('ana'))).toBeGreaterThan(Number(grams.get('an')));
  });

  it('scores labels in the store as dga.sql does', async () => {
    const score = async (label: string) => {
      const [{ s }] = await store.query<{ s: number }>(
        `WITH {l:String} AS label, concat('^^', label, '$') AS framed
         SELECT -arrayAvg(arrayMap(i -> dictGetOrDefault('dga_ngrams', 'LogP', tuple(substring(framed, i, 3)), dictGetOrDefault('dga_ngrams', 'LogP', tuple(substring(framed, i, 2)), toFloat32(-log(38)))), range(1, length(framed) - 1))) AS s`,
        { l: label },
      );
      return s;
    };
    for (const benign of ['google', 'facebook', 'wikipedia', 'cloudfront', 'googlesyndication']) expect(await score(benign), benign).toBeLessThan(3.2);
    for (const dga of ['xjw3kq9z1m', 'kqjdfksljq', 'ypuqhzndkwlsoe']) expect(await score(dga), dga).toBeGreaterThan(3.6);
  });
});
