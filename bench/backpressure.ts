// The `backpressure` bench step (issue #17): a slow output slows the pipeline and never grows
// memory without bound. The whole dnslens process imports the bench capture into the Splunk HEC
// output against an HTTP receiver in this process that sleeps SLEEP_MS before answering each
// request (200, HEC's success body), for RUN_S seconds; then dnslens gets SIGTERM and flushes.
// The dnslens process's RSS is read every second from /proc/<pid>/status (VmRSS). As the
// reference, the same import against a receiver that answers at once, for REF_S seconds: the
// rate the input runs at when the output keeps up. Runs at --memoryLimit 400MB (writer queue
// bound 50 MB) and at the default (auto: a fifth of this machine's memory).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { resolveMemoryLimit } from '../src/memory.js';
import { queueBound } from '../src/outputs/sink/writer.js';
import { onLoopback, rssKb } from './proc.js';
import { int, mainScript, type Ctx, type Row, type Step } from './run.js';

const STEP = 'backpressure';
export const SLEEP_MS = 250; // the slow receiver's pause before each answer
export const BATCH = 1000; // --splunkBatchSize (its default): at most BATCH * 1000 / SLEEP_MS events/s
export const RUN_S = 120; // against the slow receiver
const REF_S = 10; // against the fast receiver
const STOP_CAP_S = 600; // after SIGTERM, the longest the flush is waited for before SIGKILL
const FLAT = 1.1; // the second minute's peak RSS over the first minute's
const TOKEN = '3f1c2b7e-8d4a-4e55-9a61-0c2d9b1e7f00';

/** An HEC endpoint that counts the events (one line each) it took. */
interface Rx {
  url: string;
  events: number;
  requests: number;
  firstAt: number; // ms since the epoch of the first request, 0 before it
  close(): Promise<void>;
}

async function receiver(sleepMs: number): Promise<Rx> {
  const rx = { url: '', events: 0, requests: 0, firstAt: 0 } as Rx;
  const server: Server = createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => {
      for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) n++;
    });
    req.on('end', () => {
      if (rx.firstAt === 0) rx.firstAt = Date.now();
      rx.requests++;
      const answer = (): void => {
        rx.events += n; // taken once answered
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"text":"Success","code":0}');
      };
      if (sleepMs > 0) setTimeout(answer, sleepMs);
      else answer();
    });
  });
  Object.assign(rx, await onLoopback(server));
  return rx;
}



/** A counter of the end-of-run summary's block for `component` (0 when absent). */
function counter(stderr: string, component: string, label: string): number | null {
  const block = new RegExp(`\\n  ${component}\\n((?:    .*\\n)*)`).exec(stderr)?.[1];
  if (block === undefined) return null;
  const m = new RegExp(`^    ${label}\\s+([\\d,]+)$`, 'm').exec(block);
  return m ? Number(m[1].replace(/,/g, '')) : 0;
}

interface Run {
  code: number | null;
  signal: string | null;
  rss: (number | null)[]; // kB at 1 s, 2 s, ... after the spawn, until SIGTERM
  maxRssKb: number; // over the whole life, the flush after SIGTERM included
  rxEvents: number; // events the receiver took before SIGTERM
  rxSeconds: number; // from its first request to SIGTERM
  stopSeconds: number; // from SIGTERM to exit
  exitedEarly: boolean; // the input ended before the run's time was up
  sent: number | null; // the summary's splunk rows sent / rows dropped
  dropped: number | null;
  droppedLines: string[]; // the summary's "dropped or filtered" lines
  queuedMax: number | null; // the writer's queued rows, highest of the periodic stats lines
  stderrTail: string;
}

async function runAgainst(ctx: Ctx, rx: Rx, seconds: number, memoryLimit: string | null): Promise<Run> {
  const args = [mainScript(ctx), '--pcapFile', ctx.capture, '--splunkOutputType', '1', '--splunkOutputEndpoint', rx.url, '--splunkOutputToken', TOKEN, '--splunkBatchSize', String(BATCH), '--metricFlushInterval', '5s'];
  if (memoryLimit !== null) args.push('--memoryLimit', memoryLimit);
  const child = spawn(process.execPath, args, { cwd: ctx.root, stdio: ['ignore', 'ignore', 'pipe'] });
  const pid = child.pid!;
  let stderr = '';
  let partial = '';
  let queuedMax: number | null = null;
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-65536);
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.includes('"msg":"stats"')) continue;
      try {
        const q = (JSON.parse(l) as { splunk?: { queued?: number } }).splunk?.queued;
        if (typeof q === 'number') queuedMax = Math.max(queuedMax ?? 0, q);
      } catch {
        // not a log line
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));
  const rss: (number | null)[] = [];
  let maxRssKb = 0;
  const sample = (): number | null => {
    const kb = rssKb(pid);
    if (kb !== null) maxRssKb = Math.max(maxRssKb, kb);
    return kb;
  };
  const started = Date.now();
  // One sample a second, each at its second from the spawn (not drifting with the loop).
  for (let s = 1; s <= seconds && !done; s++) {
    const wait = started + s * 1000 - Date.now();
    if (wait > 0) await Promise.race([exited, new Promise((r) => setTimeout(r, wait))]);
    if (!done) rss.push(sample());
  }
  const exitedEarly = done;
  const stopAt = Date.now();
  const rxEvents = rx.events;
  const rxSeconds = rx.firstAt > 0 ? (stopAt - rx.firstAt) / 1000 : 0;
  if (!done) child.kill('SIGTERM');
  // The flush after SIGTERM: sampled too (its peak counts), waited for up to STOP_CAP_S.
  const sampler = setInterval(sample, 1000);
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_CAP_S * 1000);
  const { code, signal } = await exited;
  clearInterval(sampler);
  clearTimeout(killer);
  const droppedBlock = /\n {2}dropped or filtered\n((?: {4}.*\n)*)/.exec(stderr)?.[1] ?? '';
  return {
    code,
    signal,
    rss,
    maxRssKb,
    rxEvents,
    rxSeconds,
    stopSeconds: (Date.now() - stopAt) / 1000,
    exitedEarly,
    sent: counter(stderr, 'splunk', 'rows sent'),
    dropped: counter(stderr, 'splunk', 'rows dropped'),
    droppedLines: droppedBlock.split('\n').map((l) => l.trim().replace(/\s+/g, ' ')).filter(Boolean),
    queuedMax,
    stderrTail: stderr.slice(-600),
  };
}

const mbOf = (kb: number | null | undefined): string => (kb === null || kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);
const at = (r: Run, s: number): number | null => r.rss[s - 1] ?? null;
const peak = (xs: (number | null)[]): number => xs.reduce<number>((a, b) => Math.max(a, b ?? 0), 0);

export const backpressureStep: Step = {
  name: STEP,
  title: `pcap -> Splunk HEC output against a receiver that sleeps ${SLEEP_MS} ms per request, ${RUN_S} s, then SIGTERM: RSS every second (at --memoryLimit 400MB and the default), beside a fast receiver`,
  async run(ctx: Ctx): Promise<Row[]> {
    if (!existsSync(mainScript(ctx))) return [{ step: STEP, figure: 'RSS', value: 'not run', note: `${mainScript(ctx)} is not built` }];
    if (!existsSync('/proc/self/status')) return [{ step: STEP, figure: 'RSS', value: 'not run', note: 'no /proc to read RSS from' }];
    const rows: Row[] = [];

    // The reference: a receiver that answers at once.
    const fast = await receiver(0);
    let refRate = 0;
    try {
      const r = await runAgainst(ctx, fast, REF_S, null);
      refRate = r.rxSeconds > 0 ? r.rxEvents / r.rxSeconds : 0;
      rows.push({
        step: STEP,
        figure: `fast receiver: events/s taken (the input's pace)`,
        value: `${int(refRate)} events/s`,
        note: `${int(r.rxEvents)} events in the first ${r.rxSeconds.toFixed(1)} s of sends${r.exitedEarly ? ' (the capture ended first)' : ''}; peak RSS ${mbOf(r.maxRssKb)}; exit ${r.code ?? r.signal}`,
      });
    } finally {
      await fast.close();
    }

    const auto = resolveMemoryLimit('auto');
    const variants: { label: string; limit: string | null; bound: number }[] = [
      { label: '400MB', limit: '400MB', bound: queueBound(resolveMemoryLimit(400e6)) },
      { label: `default (auto = ${(auto / 1e6).toFixed(0)}MB)`, limit: null, bound: queueBound(auto) },
    ];
    const ceiling = (BATCH * 1000) / SLEEP_MS;
    for (const v of variants) {
      const slow = await receiver(SLEEP_MS);
      let r: Run;
      try {
        r = await runAgainst(ctx, slow, RUN_S, v.limit);
      } finally {
        await slow.close();
      }
      const name = `slow, ${v.label}`;
      if (r.rss.length < RUN_S) {
        rows.push({ step: STEP, figure: `${name}: run`, value: 'failed', pass: false, note: `dnslens ended after ${r.rss.length} s (exit ${r.code ?? r.signal}): ${r.stderrTail.replace(/\s+/g, ' ').slice(-300)}` });
        continue;
      }
      const firstMinute = peak(r.rss.slice(9, 60)); // 10 s .. 60 s: after start-up
      const secondMinute = peak(r.rss.slice(60, RUN_S));
      const ratio = firstMinute > 0 ? secondMinute / firstMinute : NaN;
      const rate = r.rxSeconds > 0 ? r.rxEvents / r.rxSeconds : 0;
      rows.push(
        {
          step: STEP,
          figure: `${name}: RSS at 10 s / 60 s / 120 s`,
          value: `${mbOf(at(r, 10))} / ${mbOf(at(r, 60))} / ${mbOf(at(r, 120))}`,
          note: `peak ${mbOf(r.maxRssKb)} over the whole life (the flush after SIGTERM included); writer queue bound ${(v.bound / 1048576).toFixed(0)} MiB`,
        },
        {
          step: STEP,
          figure: `${name}: peak RSS 60-120 s / 10-60 s`,
          value: Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a',
          target: `≤ ${FLAT.toFixed(2)}× (flat)`,
          pass: Number.isFinite(ratio) && ratio <= FLAT,
          note: `${mbOf(secondMinute)} vs ${mbOf(firstMinute)}`,
        },
        {
          step: STEP,
          figure: `${name}: events/s the receiver took`,
          value: `${int(rate)} events/s`,
          note: `the receiver's ceiling: ${int(ceiling)}/s (${BATCH}-event requests, ${SLEEP_MS} ms each); the input runs at ${int(refRate)}/s with a fast receiver: the pipeline waited for the output`,
        },
        {
          step: STEP,
          figure: `${name}: writer queue, peak`,
          value: r.queuedMax === null ? 'n/a' : `${int(r.queuedMax)} rows`,
          note: `the splunk "queued" gauge (rows being filled + waiting), highest of the stats lines every 5 s; the bound is ${(v.bound / 1048576).toFixed(0)} MiB of encoded batches`,
        },
        {
          step: STEP,
          figure: `${name}: summary after SIGTERM`,
          value: `${r.sent === null ? 'n/a' : int(r.sent)} sent / ${r.dropped === null ? 'n/a' : int(r.dropped)} dropped`,
          // After a stop the backlog gets 30 s; what the slow receiver has not taken by then is counted.
          pass: r.code === 0 && r.signal === null && r.droppedLines.every((l) => l.startsWith('splunk:slow-at-exit ')),
          note: `exit ${r.code ?? r.signal} ${r.stopSeconds.toFixed(1)} s after SIGTERM (the backlog is given 30 s, the rest counted as splunk:slow-at-exit)${r.droppedLines.length ? `; dropped or filtered: ${r.droppedLines.join(', ')}` : ''}${r.exitedEarly ? '; the capture ended before the time was up' : ''}`,
        },
      );
    }
    return rows;
  },
};
