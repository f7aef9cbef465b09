// The `memory` bench step (issue #12): what --memoryLimit trades. The 1M-packet capture imported
// into a fresh embedded store at 400MB (what a 2 GB Raspberry Pi 4 gets by default), 1GB and
// unlimited, then the 400MB run on a 5M-packet capture: peak RSS must not grow with the input.
// Per run: peak RSS (the whole process, from /usr/bin/time), packets/s and the rows stored.
import { existsSync } from 'node:fs';
import { parseBytes } from '../src/cli/config.js';
import { engineAlone, engineRow } from './engine.js';
import { cachedCapture, type Summary } from './gen.js';
import { chdbRun, cpu, expectedMessages, failure, freshDir, int, mainScript, mb, rate, runTimed, type Ctx, type Row, type Step } from './run.js';

const STEP = 'memory';
const MB = 1024; // KB in a MB, as /usr/bin/time reports

interface Variant {
  label: string; // the figure's name
  limit: string; // --memoryLimit
  packets: number; // capture size
  targetMb?: number; // peak RSS allowed
}

const VARIANTS: Variant[] = [
  { label: '1M, 400MB', limit: '400MB', packets: 1_000_000, targetMb: 400 },
  { label: '1M, 1GB', limit: '1GB', packets: 1_000_000, targetMb: 1000 },
  { label: '1M, unlimited', limit: 'unlimited', packets: 1_000_000 },
  { label: '5M, 400MB', limit: '400MB', packets: 5_000_000, targetMb: 400 },
];

interface Measured {
  seconds: number; // fastest run
  cpuSeconds: number | null;
  maxRssKb: number | null; // highest of the runs
  rows: number;
  summary: Summary;
  dir: string; // the fastest run's data dir
}

/** ctx.repeat imports into fresh data dirs: the fastest counts, and the highest peak RSS. */
async function measure(ctx: Ctx, v: Variant): Promise<Measured | string> {
  const { path, summary } = await cachedCapture(ctx.cacheDir, { packets: v.packets, seed: ctx.seed });
  const runs: Measured[] = [];
  for (let i = 0; i < ctx.repeat; i++) {
    const dir = freshDir(`${STEP}-${v.limit}`);
    const args = [mainScript(ctx), '--pcapFile', path, '--clickhouseOutputType', '1', '--dataDir', dir, '--memoryLimit', v.limit];
    const t = await runTimed(process.execPath, args, { captureStdout: false, timeoutMs: ctx.timeoutMs, cwd: ctx.root });
    if (t.code !== 0) return failure(t);
    const [[{ n }]] = await chdbRun(ctx, dir, ['SELECT count() AS n FROM DNS_LOG']);
    runs.push({ seconds: t.seconds, cpuSeconds: t.cpuSeconds, maxRssKb: t.maxRssKb, rows: Number(n), summary, dir });
  }
  const fastest = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const rss = runs.map((r) => r.maxRssKb ?? 0).reduce((a, b) => Math.max(a, b));
  return { ...fastest, maxRssKb: rss > 0 ? rss : null };
}

export const memoryStep: Step = {
  name: STEP,
  title: 'pcap -> embedded ClickHouse under --memoryLimit 400MB, 1GB and unlimited (1M packets), and 400MB on 5M packets: peak RSS and packets/s',
  async run(ctx: Ctx): Promise<Row[]> {
    if (!existsSync(mainScript(ctx))) return [{ step: STEP, figure: 'peak RSS', value: 'not run', note: `${mainScript(ctx)} is not built` }];
    const rows: Row[] = [];
    const peaks = new Map<string, number>();
    for (const v of VARIANTS) {
      const m = await measure(ctx, v);
      if (typeof m === 'string') {
        rows.push({ step: STEP, figure: `${v.label}: peak RSS`, value: 'failed', pass: false, note: m });
        continue;
      }
      const expected = expectedMessages(m.summary, m.rows);
      const rssMb = m.maxRssKb === null ? null : m.maxRssKb / MB;
      if (rssMb !== null) peaks.set(v.label, rssMb);
      rows.push({
        step: STEP,
        figure: `${v.label}: peak RSS`,
        value: mb(m.maxRssKb),
        ...(v.targetMb !== undefined ? { target: `≤ ${v.targetMb} MB`, pass: rssMb !== null && rssMb <= v.targetMb } : {}),
        note: `${int(m.rows)} rows stored${m.rows === expected.count ? '' : ` (expected ${int(expected.count)} ${expected.what})`}`,
      });
      rows.push({
        step: STEP,
        figure: `${v.label}: packets/s`,
        value: rate(m.summary.packets / m.seconds, 'pkt'),
        note: `${m.seconds.toFixed(2)} s, CPU ${cpu(m.cpuSeconds)}`,
        ...(m.rows === expected.count ? {} : { pass: false }),
      });
      if (v.label === '1M, 400MB') {
        // what the engine alone needs for the same rows under the same limit
        const e = await engineAlone(ctx, STEP, m.dir, parseBytes(v.limit));
        rows.push(engineRow(STEP, `${v.label}: engine alone, peak RSS`, e, (r) => mb(r.maxRssKb)));
      }
    }
    const small = peaks.get('1M, 400MB');
    const large = peaks.get('5M, 400MB');
    if (small !== undefined && large !== undefined) {
      // Side by side: five times the input, the same bound (10% for run-to-run noise).
      rows.push({ step: STEP, figure: '400MB: peak RSS 5M / 1M', value: `${(large / small).toFixed(2)}×`, target: '≤ 1.10×', pass: large <= small * 1.1, note: `${large.toFixed(0)} MB vs ${small.toFixed(0)} MB` });
    }
    return rows;
  },
};
