// The `week` bench step (issue #12): rollups as a share of DNS_LOG on a generated capture of whole
// days (--days, 7 by default) at a mean 20 queries/s from 2,000 clients with a daily cycle. On the
// 31-minute capture of the size step, every day-level rollup row is paid for by 31 minutes of raw
// data; here by whole days, as in a store that has run for a while. The more queries per second,
// the more raw rows per rollup row, so the rate is named beside the figure.
import { existsSync } from 'node:fs';
import { cachedCapture, dailyCycle } from './gen.js';
import {
  cpu,
  expectedMessages,
  failure,
  freshDir,
  int,
  isRollup,
  mainScript,
  mb,
  megabytes,
  optimizedSizes,
  rate,
  rollupShareRow,
  storeRun,
  type Ctx,
  type Row,
  type Step,
} from './run.js';

const STEP = 'week';
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export const weekStep: Step = {
  name: STEP,
  title: 'generated days (--days, 7 by default; daily cycle, 20 queries/s average, 2,000 clients) -> embedded ClickHouse, rollups as a share of DNS_LOG (after OPTIMIZE FINAL)',
  async run(ctx: Ctx): Promise<Row[]> {
    if (!existsSync(mainScript(ctx))) return [{ step: STEP, figure: 'rollups / DNS_LOG', value: 'not run', note: `${mainScript(ctx)} is not built` }];
    const t0 = Date.now();
    const { path, summary: s, generated } = await cachedCapture(ctx.cacheDir, { days: ctx.days, seed: ctx.seed });
    const t1 = Date.now();
    const run = await storeRun(ctx, freshDir(STEP), path);
    if (run.timed.code !== 0) return [{ step: STEP, figure: 'import', value: 'failed', pass: false, note: failure(run.timed) }];
    const t2 = Date.now();
    const sizes = await optimizedSizes(ctx, run.dir);
    const t3 = Date.now();

    const days = s.days ?? ctx.days;
    const qps = s.queries / (days * 86_400);
    const cycle = Array.from({ length: 24 }, (_, h) => dailyCycle(h * 3.6e9));
    const traffic = `${qps.toFixed(1)} queries/s average, ${int(s.distinctClients)} clients, ${days} days`;
    const raw = sizes.find((t) => t.table === 'DNS_LOG');
    const expected = expectedMessages(s, run.rows);
    const rows: Row[] = [
      {
        step: STEP,
        figure: 'capture',
        value: `${int(s.packets)} packets`,
        note:
          `${traffic} (daily cycle ${Math.min(...cycle).toFixed(1)}×..${Math.max(...cycle).toFixed(1)}× the mean), ${int(s.queries)} queries, ` +
          `${s.firstTime} .. ${s.lastTime}, ${(s.bytes / 1e6).toFixed(0)} MB; ${generated ? `generated in ${seconds(t1 - t0)}` : 'cached'}`,
      },
      {
        step: STEP,
        figure: 'import packets/s',
        value: rate(s.packets / run.timed.seconds, 'pkt'),
        note: `${run.timed.seconds.toFixed(1)} s spawn to exit, CPU ${cpu(run.timed.cpuSeconds)}, peak RSS ${mb(run.timed.maxRssKb)}`,
      },
      { step: STEP, figure: 'rows in DNS_LOG', value: int(run.rows ?? 0), target: `= ${int(expected.count)} ${expected.what}`, pass: run.rows === expected.count },
    ];
    if (!raw || !(raw.rows > 0)) return [...rows, { step: STEP, figure: 'rollups / DNS_LOG', value: 'failed', pass: false, note: 'DNS_LOG is empty' }];
    rows.push(
      { step: STEP, figure: 'DNS_LOG bytes/message', value: (raw.bytes / raw.rows).toFixed(2), note: `DNS_LOG ${megabytes(raw.bytes)} compressed, ${int(raw.rows)} rows` },
      rollupShareRow(STEP, `rollups / DNS_LOG at ${traffic}`, sizes),
      // every rollup table, largest first: which ones the share is made of
      ...sizes
        .filter((t) => isRollup(t.table))
        .map((t) => ({
          step: STEP,
          figure: `  ${t.table}`,
          value: `${int(t.bytes)} B`,
          note: `${((100 * t.bytes) / raw.bytes).toFixed(3)} % of DNS_LOG, ${int(t.rows)} rows, ${(t.bytes / Math.max(1, t.rows)).toFixed(1)} B/row`,
        })),
      {
        step: STEP,
        figure: 'step time',
        value: seconds(Date.now() - t0),
        note: `capture ${generated ? `generated ${seconds(t1 - t0)}` : 'cached'}, import ${seconds(t2 - t1)}, OPTIMIZE FINAL and sizes ${seconds(t3 - t2)}`,
      },
    );
    return rows;
  },
};
