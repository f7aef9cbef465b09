// `npm run bench`: figures measured on one generated capture, in one run, printed as a table
// with the targets beside them. Each step is a named function returning rows; `--only a,b`
// selects steps. Later steps (ClickHouse ingest, ...) are added to STEPS.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { cachedCapture, MAX_DAYS, MAX_PACKETS, type Summary } from './gen.js';
import type { DecodeReport } from './decode-only.js';
import { liveStep } from './live.js';
import { dnstapStep } from './dnstap.js';
import { weekStep } from './week.js';
import { memoryStep } from './memory.js';
import { logsStep } from './logs.js';
import { psqlStep } from './psql.js';
import { natsStep } from './nats.js';
import { backpressureStep } from './backpressure.js';
import { reportsStep } from './reports.js';
import { engineAlone, engineRow } from './engine.js';

export interface Row {
  step: string;
  figure: string;
  value: string;
  target?: string;
  pass?: boolean; // undefined: informative, no target
  note?: string;
}

export interface Ctx {
  root: string; // repository root (package.json)
  capture: string; // the generated pcap
  summary: Summary;
  repeat: number; // runs per measurement; the fastest counts
  timeoutMs: number; // per child process
  results: Map<string, number>; // figures later steps reuse (decode.pps, decode.events, ...)
  cacheDir: string; // where generated captures are kept
  seed: number; // generator seed
  days: number; // length of the week step's capture
  messages: number; // DNS messages in the reports step's store
}

export interface Step {
  name: string;
  title: string;
  run(ctx: Ctx): Promise<Row[]>;
}

// ---------------------------------------------------------------- measuring a child process

interface Timed {
  seconds: number; // wall time from spawn to exit
  code: number | null;
  signal: string | null;
  stdout: string; // only when stdout is captured
  stderrTail: string;
  stderrHead: string; // the first lines (start-up news: the migration)
  maxRssKb: number | null; // from /usr/bin/time, when present
  cpuSeconds: number | null; // user + system, from /usr/bin/time: steadier than wall time on a busy machine
}

const TIME_BIN = '/usr/bin/time';
const TAIL = 4096;

/** Runs cmd once; stdout goes to /dev/null unless capture is set. Never throws for a failing child. */
export function runTimed(cmd: string, args: string[], opts: { captureStdout: boolean; timeoutMs: number; cwd: string }): Promise<Timed> {
  const useTime = existsSync(TIME_BIN);
  let rssDir: string | null = null;
  let argv = [cmd, ...args];
  if (useTime) {
    rssDir = mkdtempSync(join(tmpdir(), 'dnslens-bench-'));
    argv = [TIME_BIN, '-f', '%M %U %S', '-o', join(rssDir, 'rss'), ...argv];
  }
  const devNull = opts.captureStdout ? null : openSync('/dev/null', 'w');
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      stdio: ['ignore', devNull ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderrTail = '';
    let stderrHead = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderrTail = (stderrTail + d).slice(-TAIL);
      if (stderrHead.length < TAIL) stderrHead = (stderrHead + d).slice(0, TAIL);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    const finish = (code: number | null, signal: string | null, error?: Error): void => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearTimeout(timer);
      if (devNull !== null) closeSync(devNull);
      let maxRssKb: number | null = null;
      let cpuSeconds: number | null = null;
      if (rssDir) {
        try {
          // /usr/bin/time writes "Command exited with non-zero status N" before the figures
          const lines = readFileSync(join(rssDir, 'rss'), 'utf8').trim().split('\n');
          const [kb, user, sys] = lines[lines.length - 1].split(' ').map(Number);
          if (Number.isFinite(kb) && kb > 0) maxRssKb = kb;
          if (Number.isFinite(user) && Number.isFinite(sys)) cpuSeconds = user + sys;
        } catch {
          // no figure: the child was killed before time could write it
        }
        rmSync(rssDir, { recursive: true, force: true });
      }
      resolve({ seconds, code, signal, stdout, stderrTail: error ? `${stderrTail}${error.message}` : stderrTail, stderrHead, maxRssKb, cpuSeconds });
    };
    child.on('error', (e) => finish(null, null, e));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** The fastest of ctx.repeat runs (and the highest RSS seen); stops at the first failure. */
export async function bestOf(ctx: Ctx, cmd: string, args: string[], captureStdout = false): Promise<Timed> {
  let best: Timed | null = null;
  let rss: number | null = null;
  for (let i = 0; i < ctx.repeat; i++) {
    const t = await runTimed(cmd, args, { captureStdout, timeoutMs: ctx.timeoutMs, cwd: ctx.root });
    if (t.code !== 0) return t;
    if (t.maxRssKb !== null) rss = Math.max(rss ?? 0, t.maxRssKb);
    if (best === null || t.seconds < best.seconds) best = t;
  }
  return { ...(best as Timed), maxRssKb: rss };
}

export function failure(t: Timed): string {
  const why = t.signal ? `killed by ${t.signal}` : t.code === null ? 'did not start' : `exit ${t.code}`;
  const lines = t.stderrTail.split('\n').map((l) => l.trim()).filter(Boolean);
  // the error line says more than the stack trace around it
  const error = lines.find((l) => /error|cannot|not /i.test(l)) ?? lines[lines.length - 1];
  return error ? `${why}: ${error.slice(0, 200)}` : why;
}

// ---------------------------------------------------------------- formatting

export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
export const rate = (n: number, unit: string): string => `${int(n)} ${unit}/s`;
export const mb = (kb: number | null): string => (kb === null ? 'n/a' : `${(kb / 1024).toFixed(0)} MB`);
const times = (x: number): string => `${x.toFixed(1)}×`;
export const cpu = (s: number | null): string => (s === null ? 'n/a' : `${s.toFixed(2)} s`);

function atLeast(step: string, figure: string, value: number, min: number, text: string, targetText: string): Row {
  return { step, figure, value: text, target: targetText, pass: value >= min };
}

// ---------------------------------------------------------------- steps

function decodeOnlyScript(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'decode-only.js');
}

/** Runs the decode-only child once; its report gives the event count other steps divide by. */
async function decodeReport(ctx: Ctx): Promise<{ timed: Timed; report: DecodeReport | null }> {
  const timed = await bestOf(ctx, process.execPath, [decodeOnlyScript(), ctx.capture], true);
  if (timed.code !== 0) return { timed, report: null };
  const report = JSON.parse(timed.stdout.trim().split('\n').pop() as string) as DecodeReport;
  ctx.results.set('decode.events', report.events);
  return { timed, report };
}

const decodeStep: Step = {
  name: 'decode',
  title: 'decode-only (readCapture + decodeFrame, events discarded), whole process',
  async run(ctx) {
    const { timed, report } = await decodeReport(ctx);
    if (!report) return [{ step: 'decode', figure: 'decode-only', value: 'failed', pass: false, note: failure(timed) }];
    const s = ctx.summary;
    const pps = report.packets / timed.seconds;
    ctx.results.set('decode.pps', pps);
    const udpMessages = s.queries + s.responses - s.tcpMessages;
    const allMessages = s.queries + s.responses;
    const complete = report.events === allMessages || (report.events === udpMessages && (report.unsupported.tcp ?? 0) === s.tcp);
    return [
      atLeast('decode', 'packets/s', pps, 1_000_000, rate(pps, 'pkt'), '≥ 1,000,000 pkt/s'),
      { step: 'decode', figure: 'wall time', value: `${timed.seconds.toFixed(2)} s`, note: `in-process ${report.seconds.toFixed(2)} s` },
      { step: 'decode', figure: 'peak RSS', value: mb(report.maxRssKb) },
      {
        step: 'decode',
        figure: 'events',
        value: int(report.events),
        target: report.events === allMessages ? `= ${int(allMessages)} messages` : `= ${int(udpMessages)} UDP messages`,
        pass: complete && report.malformed === 0 && report.damage === null,
        note: `malformed ${report.malformed}, unsupported ${JSON.stringify(report.unsupported)}${report.damage ? `, damage: ${report.damage}` : ''}`,
      },
    ];
  },
};

const jsonStep: Step = {
  name: 'json',
  title: 'the CLI: --stdoutOutputType 1 --stdoutOutputFormat json > /dev/null, whole process',
  async run(ctx) {
    const main = join(ctx.root, 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(main)) return [{ step: 'json', figure: 'events/s', value: 'not run', note: `${main} is not built` }];
    let events = ctx.results.get('decode.events');
    if (events === undefined) {
      // the CLI's stdout goes to /dev/null, so the event count comes from a decode-only pass
      const { timed, report } = await decodeReport(ctx);
      if (!report) return [{ step: 'json', figure: 'events/s', value: 'failed', pass: false, note: `counting events: ${failure(timed)}` }];
      events = report.events;
    }
    const args = [main, '--pcapFile', ctx.capture, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json'];
    const t = await bestOf(ctx, process.execPath, args);
    if (t.code !== 0) return [{ step: 'json', figure: 'events/s', value: 'failed', pass: false, note: failure(t) }];
    const eps = events / t.seconds;
    ctx.results.set('json.eps', eps);
    return [
      atLeast('json', 'events/s', eps, 300_000, rate(eps, 'ev'), '≥ 300,000 ev/s'),
      { step: 'json', figure: 'wall time', value: `${t.seconds.toFixed(2)} s`, note: `${int(events)} events` },
      { step: 'json', figure: 'peak RSS', value: mb(t.maxRssKb) },
    ];
  },
};

// The same JSON run with query/response matching and packet dedup on, then with both off
// (--matchTimeout 0, no --dedup), alternating so a load change hits both alike.
const matchStep: Step = {
  name: 'match',
  title: 'the CLI, JSON > /dev/null: query/response matching and --dedup on, next to both off, whole process',
  async run(ctx) {
    const main = join(ctx.root, 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(main)) return [{ step: 'match', figure: 'packets/s', value: 'not run', note: `${main} is not built` }];
    const base = [main, '--pcapFile', ctx.capture, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json'];
    const variants = { off: [...base, '--matchTimeout', '0'], on: [...base, '--matchTimeout', '5s', '--dedup'] };
    const best: Partial<Record<keyof typeof variants, Timed>> = {};
    for (let i = 0; i < ctx.repeat; i++) {
      for (const k of ['off', 'on'] as const) {
        const t = await runTimed(process.execPath, variants[k], { captureStdout: false, timeoutMs: ctx.timeoutMs, cwd: ctx.root });
        if (t.code !== 0) return [{ step: 'match', figure: `packets/s, ${k}`, value: 'failed', pass: false, note: failure(t) }];
        if (best[k] === undefined || t.seconds < best[k].seconds) best[k] = t;
      }
    }
    const off = best.off as Timed;
    const on = best.on as Timed;
    const packets = ctx.summary.packets;
    const figure = (re: RegExp) => (on.stderrTail.match(re)?.[1] ?? '?').replace(/,/g, '');
    const counts = `answered ${figure(/answered queries\s+([\d,]+)/)}, unanswered ${figure(/unanswered queries\s+([\d,]+)/)}, orphans ${figure(/orphan responses\s+([\d,]+)/)}, duplicates ${figure(/duplicate queries\s+([\d,]+)/)}`;
    ctx.results.set('match.on.pps', packets / on.seconds);
    ctx.results.set('match.off.pps', packets / off.seconds);
    return [
      { step: 'match', figure: 'packets/s, matching+dedup off', value: rate(packets / off.seconds, 'pkt'), note: `${off.seconds.toFixed(2)} s, CPU ${cpu(off.cpuSeconds)}, peak RSS ${mb(off.maxRssKb)}` },
      { step: 'match', figure: 'packets/s, matching+dedup on', value: rate(packets / on.seconds, 'pkt'), note: `${on.seconds.toFixed(2)} s, CPU ${cpu(on.cpuSeconds)}, peak RSS ${mb(on.maxRssKb)}; ${counts}` },
      { step: 'match', figure: 'on / off', value: times(off.seconds / on.seconds), note: 'rate ratio; 1.0× = no cost' },
    ];
  },
};

const refStep: Step = {
  name: 'ref',
  title: 'reference tools on the same file (output to /dev/null)',
  async run(ctx) {
    const rows: Row[] = [];
    const tools: [string, string, string[]][] = [
      ['tshark', 'tshark', ['-r', ctx.capture, '-T', 'fields', '-e', 'dns.qry.name']],
      ['tcpdump', 'tcpdump', ['-n', '-r', ctx.capture]],
    ];
    for (const [name, cmd, args] of tools) {
      const t = await bestOf(ctx, cmd, args);
      if (t.code !== 0) {
        rows.push({ step: 'ref', figure: `${name} packets/s`, value: 'failed', note: failure(t) });
        continue;
      }
      const pps = ctx.summary.packets / t.seconds;
      ctx.results.set(`${name}.pps`, pps);
      rows.push({ step: 'ref', figure: `${name} packets/s`, value: rate(pps, 'pkt'), note: `${t.seconds.toFixed(2)} s, peak RSS ${mb(t.maxRssKb)}` });
    }
    const ours = ctx.results.get('decode.pps');
    const tshark = ctx.results.get('tshark.pps');
    const tcpdump = ctx.results.get('tcpdump.pps');
    if (ours === undefined) {
      rows.push({ step: 'ref', figure: 'ratios', value: 'not run', note: 'needs the decode step' });
      return rows;
    }
    if (tshark !== undefined) rows.push(atLeast('ref', 'decode-only / tshark', ours / tshark, 25, times(ours / tshark), '≥ 25×'));
    if (tcpdump !== undefined) rows.push({ step: 'ref', figure: 'decode-only / tcpdump', value: times(ours / tcpdump) });
    const json = ctx.results.get('json.eps');
    if (json !== undefined && tshark !== undefined) {
      // events vs packets: the CLI's rate per packet of the file, for a like-for-like ratio
      const jsonPps = (json * ctx.summary.packets) / (ctx.results.get('decode.events') ?? ctx.summary.packets);
      rows.push({ step: 'ref', figure: 'JSON CLI / tshark', value: times(jsonPps / tshark), note: 'packets/s ratio' });
    }
    return rows;
  },
};

// ---------------------------------------------------------------- the ClickHouse store

export function mainScript(ctx: Ctx): string {
  return join(ctx.root, 'dist', 'src', 'cli', 'main.js');
}

// Runs SQL statements in order on a chdb data dir, in a child process (the capture that wrote the
// dir has exited; chdb allows one process per dir). Prints one JSON array: each statement's rows.
const CHDB_CHILD = `
import { Session } from 'chdb';
const [dir, list] = process.argv.slice(1);
const s = new Session(dir);
const out = [];
try {
  for (const sql of JSON.parse(list)) {
    const text = (await s.queryAsync(sql, { format: 'JSONEachRow' })).text();
    out.push(text.split('\\n').filter(Boolean).map((l) => JSON.parse(l)));
  }
} finally {
  s.close();
}
process.stdout.write(JSON.stringify(out) + '\\n');
`;

type SqlRows = Record<string, unknown>[];

export async function chdbRun(ctx: Ctx, dir: string, statements: string[]): Promise<SqlRows[]> {
  const t = await runTimed(process.execPath, ['--input-type=module', '-e', CHDB_CHILD, dir, JSON.stringify(statements)], {
    captureStdout: true,
    timeoutMs: ctx.timeoutMs,
    cwd: ctx.root, // chdb resolves from the repository's node_modules
  });
  if (t.code !== 0) throw new Error(`chdb on ${dir}: ${failure(t)}`);
  return JSON.parse(t.stdout.trim().split('\n').pop() as string) as SqlRows[];
}

/** How many DNS messages of a capture should end up in DNS_LOG: all of them, or its UDP ones
 *  while TCP DNS is not reassembled. */
export function expectedMessages(s: Summary, rows: number | null): { count: number; what: string } {
  const all = s.queries + s.responses;
  const udp = all - s.tcpMessages;
  return rows === udp ? { count: udp, what: 'UDP messages' } : { count: all, what: 'DNS messages' };
}

/** expectedMessages, or the decoder's count when the decode step ran. */
function expectedEvents(ctx: Ctx, rows: number | null): { count: number; what: string } {
  const decoded = ctx.results.get('decode.events');
  return decoded !== undefined ? { count: decoded, what: 'decoded events' } : expectedMessages(ctx.summary, rows);
}

export interface StoreRun {
  timed: Timed;
  dir: string; // the data dir it filled
  rows: number | null; // count() of DNS_LOG afterwards
}

/** One CLI run into a data dir (fresh, or prepared by the caller), then DNS_LOG's row count. */
export async function storeRun(ctx: Ctx, dir: string, capture = ctx.capture): Promise<StoreRun> {
  const args = [mainScript(ctx), '--pcapFile', capture, '--clickhouseOutputType', '1', '--dataDir', dir];
  const timed = await runTimed(process.execPath, args, { captureStdout: false, timeoutMs: ctx.timeoutMs, cwd: ctx.root });
  if (timed.code !== 0) return { timed, dir, rows: null };
  const [[{ n }]] = await chdbRun(ctx, dir, ['SELECT count() AS n FROM DNS_LOG']);
  return { timed, dir, rows: Number(n) };
}

const benchDirs: string[] = []; // removed when the run ends

export function freshDir(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), `dnslens-bench-${tag}-`));
  benchDirs.push(dir);
  return join(dir, 'data');
}

// The data dir the store step filled, for the size step (same capture, same events).
let filledStore: string | null = null;

const storeStep: Step = {
  name: 'store',
  title: 'pcap -> embedded ClickHouse, all rollups on (--clickhouseOutputType 1, fresh --dataDir), whole process',
  async run(ctx) {
    if (!existsSync(mainScript(ctx))) return [{ step: 'store', figure: 'packets/s', value: 'not run', note: `${mainScript(ctx)} is not built` }];
    let best: StoreRun | null = null;
    let rss: number | null = null;
    for (let i = 0; i < ctx.repeat; i++) {
      const r = await storeRun(ctx, freshDir('store'));
      if (r.timed.code !== 0) return [{ step: 'store', figure: 'packets/s', value: 'failed', pass: false, note: failure(r.timed) }];
      if (r.timed.maxRssKb !== null) rss = Math.max(rss ?? 0, r.timed.maxRssKb);
      if (best === null || r.timed.seconds < best.timed.seconds) best = r;
    }
    const b = best as StoreRun;
    const expected = expectedEvents(ctx, b.rows);
    filledStore = b.dir;
    const pps = ctx.summary.packets / b.timed.seconds;
    ctx.results.set('store.pps', pps);
    const rows: Row[] = [
      atLeast('store', 'packets/s', pps, 300_000, rate(pps, 'pkt'), '≥ 300,000 pkt/s'),
      {
        step: 'store',
        figure: 'wall time',
        value: `${b.timed.seconds.toFixed(2)} s`,
        note: `spawn to exit, schema migration included; CPU ${cpu(b.timed.cpuSeconds)} (user+sys), load ${loadavg()[0].toFixed(2)} after`,
      },
      { step: 'store', figure: 'peak RSS', value: mb(rss) },
      {
        step: 'store',
        figure: 'rows in DNS_LOG',
        value: int(b.rows ?? 0),
        target: `= ${int(expected.count)} ${expected.what}`,
        pass: b.rows === expected.count,
      },
    ];
    // the ceiling of the figure above: the engine alone inserting the same rows
    const e = await engineAlone(ctx, 'store', b.dir);
    rows.push(engineRow('store', 'packets/s, engine alone', e, (r) => rate(ctx.summary.packets / r.seconds, 'pkt'), b.timed.seconds));
    // For comparison only: the same run into a migrated dir whose materialized views are dropped.
    const dir = freshDir('noviews');
    const migrated = await runTimed(process.execPath, [mainScript(ctx), 'schema', 'migrate', '--dataDir', dir], {
      captureStdout: false,
      timeoutMs: ctx.timeoutMs,
      cwd: ctx.root,
    });
    if (migrated.code !== 0) {
      rows.push({ step: 'store', figure: 'packets/s, no views', value: 'failed', note: `schema migrate: ${failure(migrated)}` });
      return rows;
    }
    const [views] = await chdbRun(ctx, dir, [
      "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView' ORDER BY name",
    ]);
    await chdbRun(ctx, dir, views.map((v) => `DROP VIEW \`${String(v.name)}\``));
    const nv = await storeRun(ctx, dir);
    if (nv.timed.code !== 0) {
      rows.push({ step: 'store', figure: 'packets/s, no views', value: 'failed', note: failure(nv.timed) });
      return rows;
    }
    const nvPps = ctx.summary.packets / nv.timed.seconds;
    rows.push({
      step: 'store',
      figure: 'packets/s, no views',
      value: rate(nvPps, 'pkt'),
      note: `${views.length} views dropped, dir migrated beforehand; ${nv.timed.seconds.toFixed(2)} s, CPU ${cpu(nv.timed.cpuSeconds)}, peak RSS ${mb(nv.timed.maxRssKb)}, ${int(nv.rows ?? 0)} rows`,
    });
    return rows;
  },
};

// dnsmonster's published DNS_LOG definition (storage issue), filled from ours for comparison.
const DNSMONSTER_TABLE = `CREATE TABLE dnsmonster_DNS_LOG (
  PacketTime DateTime64, IndexTime DateTime64, Server LowCardinality(String), IPVersion UInt8,
  SrcIP IPv6, DstIP IPv6, Protocol FixedString(3), QR UInt8, OpCode UInt8, Class UInt16, Type UInt16,
  Edns0Present UInt8, DoBit UInt8, FullQuery String, ResponseCode UInt8, Question String CODEC(ZSTD(1)), Size UInt16
) ENGINE = MergeTree
PARTITION BY toYYYYMMDD(PacketTime)
ORDER BY (toStartOfHour(PacketTime), Server, reverse(Question), toUnixTimestamp(PacketTime))`;

// Our columns mapped onto dnsmonster's (SrcIP/DstIP are ALIAS columns of DNS_LOG giving its IPv6 view).
const DNSMONSTER_FILL = `INSERT INTO dnsmonster_DNS_LOG SELECT
  PacketTime, IndexTime, Server, IPVersion, SrcIP, DstIP, Protocol, QR, OpCode, Class, Type,
  Edns0Present, DoBit, FullQuery, toUInt8(least(ResponseCode, 255)), Question, Size
FROM DNS_LOG`;

// Which MergeTree tables are rollups: all but the raw table, dnsmonster's copy (size step), lookups
// (dict_*) and dnslens' own bookkeeping (dnslens_migrations, dnslens_health, any later dnslens_*).
export function isRollup(table: string): boolean {
  return table !== 'DNS_LOG' && table !== 'dnsmonster_DNS_LOG' && !table.startsWith('dict_') && !table.startsWith('dnslens_');
}

export interface TableSize {
  table: string;
  bytes: number; // compressed, active parts
  rows: number;
}

/** OPTIMIZE FINAL on every MergeTree table of a data dir, then each table's size, largest first. */
export async function optimizedSizes(ctx: Ctx, dir: string): Promise<TableSize[]> {
  const [tables] = await chdbRun(ctx, dir, [
    "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' ORDER BY name",
  ]);
  const names = tables.map((t) => String(t.name));
  const results = await chdbRun(ctx, dir, [
    ...names.map((n) => `OPTIMIZE TABLE \`${n}\` FINAL`),
    'SELECT table, sum(data_compressed_bytes) AS bytes, sum(rows) AS rows FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table',
  ]);
  const parts = new Map(results[results.length - 1].map((r) => [String(r.table), r]));
  return names
    .map((table) => ({ table, bytes: Number(parts.get(table)?.bytes ?? 0), rows: Number(parts.get(table)?.rows ?? 0) }))
    .sort((a, b) => b.bytes - a.bytes);
}

export const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;

/** Total rollup bytes as a share of DNS_LOG's, against the 3 % target (or informative: withTarget false). */
export function rollupShareRow(step: string, figure: string, sizes: TableSize[], withTarget = true): Row {
  const raw = sizes.find((t) => t.table === 'DNS_LOG')?.bytes ?? 0;
  const rollups = sizes.filter((t) => isRollup(t.table));
  const bytes = rollups.reduce((n, t) => n + t.bytes, 0);
  const share = bytes / raw;
  return {
    step,
    figure,
    value: `${(share * 100).toFixed(2)} %`,
    ...(withTarget ? { target: '≤ 3 %', pass: share <= 0.03 } : {}),
    note: `${rollups.length} tables, ${megabytes(bytes)}; largest ${rollups.slice(0, 3).map((t) => `${t.table} ${megabytes(t.bytes)}`).join(', ')}`,
  };
}

// DNS_LOG's columns by what they hold, for bytes per message per group (the rest: 'other').
const COLUMN_GROUPS: Record<string, string[]> = {
  time: ['PacketTime', 'IndexTime'],
  'addresses and ports': ['ClientIPv4', 'ClientIPv6', 'ServerIPv4', 'ServerIPv6', 'ClientPort', 'ServerPort', 'IPVersion', 'Protocol'],
  question: ['Question', 'ApexLength', 'Type', 'Class'],
  'header (id, flags, counts, rcode)': ['ID', 'QR', 'OpCode', 'ResponseCode', 'AA', 'TC', 'RD', 'RA', 'AD', 'CD', 'QdCount', 'AnCount', 'NsCount', 'ArCount', 'Size'],
  answers: ['AnswerName', 'AnswerType', 'AnswerClass', 'AnswerTTL', 'AnswerData'],
  EDNS: ['Edns0Present', 'DoBit', 'EdnsUdpSize', 'EdnsClientSubnet'],
  'response time, unanswered': ['ResponseTimeUs', 'Unanswered'],
};

const sizeStep: Step = {
  name: 'size',
  title: 'storage: DNS_LOG bytes per message, vs dnsmonster\'s DNS_LOG, rollups as a share of raw (after OPTIMIZE FINAL)',
  async run(ctx) {
    let dir = filledStore;
    if (dir === null) {
      if (!existsSync(mainScript(ctx))) return [{ step: 'size', figure: 'bytes/message', value: 'not run', note: `${mainScript(ctx)} is not built` }];
      const r = await storeRun(ctx, freshDir('size'));
      if (r.timed.code !== 0) return [{ step: 'size', figure: 'bytes/message', value: 'failed', pass: false, note: failure(r.timed) }];
      dir = r.dir;
    }
    // wide parts even for a small capture: a compact part has no sizes per column
    await chdbRun(ctx, dir, [DNSMONSTER_TABLE, DNSMONSTER_FILL, 'ALTER TABLE DNS_LOG MODIFY SETTING min_bytes_for_wide_part = 0']);
    const sizes = await optimizedSizes(ctx, dir);
    const ours = sizes.find((t) => t.table === 'DNS_LOG');
    const theirs = sizes.find((t) => t.table === 'dnsmonster_DNS_LOG');
    if (!ours || !theirs || !(ours.rows > 0)) return [{ step: 'size', figure: 'bytes/message', value: 'failed', pass: false, note: 'DNS_LOG is empty' }];
    const perRow = ours.bytes / ours.rows;
    const theirsPerRow = theirs.bytes / theirs.rows;
    const ratio = perRow / theirsPerRow;
    const [columns] = await chdbRun(ctx, dir, [
      "SELECT name, data_compressed_bytes AS bytes FROM system.columns WHERE database = currentDatabase() AND table = 'DNS_LOG'",
    ]);
    const groupOf = new Map(Object.entries(COLUMN_GROUPS).flatMap(([g, cs]) => cs.map((c) => [c, g] as const)));
    const groups = new Map<string, number>();
    for (const c of columns) {
      const g = groupOf.get(String(c.name)) ?? 'other';
      groups.set(g, (groups.get(g) ?? 0) + Number(c.bytes));
    }
    return [
      {
        step: 'size',
        figure: 'bytes/message',
        value: perRow.toFixed(2),
        target: '≤ 13',
        pass: perRow <= 13,
        note: `DNS_LOG ${(ours.bytes / 1e6).toFixed(1)} MB compressed, ${int(ours.rows)} rows; 0.75x DNS-STATS Visualizer's 34 B per query/response row`,
      },
      ...[...groups]
        .sort((a, b) => b[1] - a[1])
        .map(([g, bytes]): Row => ({ step: 'size', figure: `  ${g}`, value: (bytes / ours.rows).toFixed(2), note: 'bytes/message' })),
      { step: 'size', figure: 'dnsmonster bytes/message', value: theirsPerRow.toFixed(2), note: `its published DNS_LOG definition (fewer columns), same events` },
      { step: 'size', figure: 'ours / dnsmonster', value: ratio.toFixed(2), note: 'informative: our table stores more columns' },
      rollupShareRow('size', 'rollups / DNS_LOG, 31 minutes', sizes, false),
    ];
  },
};

export const STEPS: Step[] = [decodeStep, jsonStep, matchStep, refStep, storeStep, sizeStep, liveStep, dnstapStep, weekStep, memoryStep, logsStep, psqlStep, natsStep, backpressureStep, reportsStep];

// ---------------------------------------------------------------- table

function table(rows: Row[]): string {
  const head = ['step', 'figure', 'value', 'target', 'result', 'note'];
  const cells = rows.map((r) => [r.step, r.figure, r.value, r.target ?? '', r.pass === undefined ? '' : r.pass ? 'PASS' : 'FAIL', r.note ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]): string => c.map((x, i) => (i === 2 ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'dnslens') return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the dnslens package.json above bench/');
}

async function main(argv: string[]): Promise<number> {
  const names = STEPS.map((s) => s.name);
  const args = await yargs(argv)
    .scriptName('npm run bench --')
    .usage('$0 [--packets N] [--days D] [--seed S] [--only decode,json,match,ref,store,size,live,dnstap,week,memory,logs,psql,nats,backpressure,reports] [--messages M] [--repeat R]')
    .option('packets', { type: 'number', default: 1_000_000, describe: `frames in the generated capture (1,000..${MAX_PACKETS.toLocaleString('en-US')})` })
    .option('days', { type: 'number', default: 7, describe: `days of traffic (daily cycle, 20 queries/s average) in the week step's capture (1..${MAX_DAYS})` })
    .option('messages', { type: 'number', default: 100_000_000, describe: 'DNS messages over 30 days in the reports step\'s store (1,000..1,000,000,000)' })
    .option('seed', { type: 'number', default: 1, describe: 'generator seed' })
    .option('only', { type: 'string', describe: `comma-separated steps: ${names.join(', ')}` })
    .option('repeat', { type: 'number', default: 1, describe: 'runs per measurement (1..10); the fastest counts' })
    .option('timeout', { type: 'number', default: 1200, describe: 'seconds allowed per child process' })
    .option('cacheDir', { type: 'string', describe: 'where generated captures are kept (default bench/.cache)' })
    .option('json', { type: 'string', describe: 'also write the rows as JSON to this file' })
    .option('strict', { type: 'boolean', default: false, describe: 'exit 1 when a target fails' })
    .strict()
    .check((a) => {
      if (!Number.isInteger(a.packets) || a.packets < 1000 || a.packets > MAX_PACKETS) throw new Error(`--packets must be an integer in 1000..${MAX_PACKETS}`);
      if (!Number.isInteger(a.days) || a.days < 1 || a.days > MAX_DAYS) throw new Error(`--days must be an integer in 1..${MAX_DAYS}`);
      if (!Number.isInteger(a.messages) || a.messages < 1000 || a.messages > 1e9) throw new Error('--messages must be an integer in 1000..1000000000');
      if (!Number.isInteger(a.seed) || a.seed < 0 || a.seed > 0xffffffff) throw new Error('--seed must be an integer in 0..4294967295');
      if (!Number.isInteger(a.repeat) || a.repeat < 1 || a.repeat > 10) throw new Error('--repeat must be an integer in 1..10');
      if (!(a.timeout > 0 && a.timeout <= 7200)) throw new Error('--timeout must be in 1..7200 seconds');
      for (const n of (a.only ?? '').split(',').filter(Boolean)) {
        if (!names.includes(n.trim())) throw new Error(`--only: unknown step "${n}" (steps: ${names.join(', ')})`);
      }
      return true;
    })
    .fail((msg, err) => {
      throw err ?? new Error(msg); // main() reports it and exits 2
    })
    .version(false)
    .help()
    .parseAsync();

  const only = new Set((args.only ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  const steps = only.size ? STEPS.filter((s) => only.has(s.name)) : STEPS;
  const root = findRoot();
  const cacheDir = args.cacheDir ?? join(root, 'bench', '.cache');

  const started = Date.now();
  const { path, summary, generated } = await cachedCapture(cacheDir, { packets: args.packets, seed: args.seed });
  const s = summary;
  process.stdout.write(
    `capture  ${path} (${generated ? `generated in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'cached'})\n` +
      `         ${int(s.packets)} packets, ${int(s.queries + s.responses)} DNS messages (${int(s.tcpMessages)} over TCP in ${int(s.tcp)} frames), ` +
      `${int(s.ipv6)} IPv6 frames, ${int(s.nxdomain)} NXDOMAIN, ${int(s.distinctNames)} names, ${int(s.distinctClients)} clients, ` +
      `${s.firstTime} .. ${s.lastTime}, ${(s.bytes / 1e6).toFixed(0)} MB\n` +
      `machine  ${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(2)} (other work skews the figures), node ${process.version}; ` +
      `repeat ${args.repeat} (fastest run counts)\n\n`,
  );

  const ctx: Ctx = {
    root,
    capture: path,
    summary,
    repeat: args.repeat,
    timeoutMs: args.timeout * 1000,
    results: new Map(),
    cacheDir,
    seed: args.seed,
    days: args.days,
    messages: args.messages,
  };
  const rows: Row[] = [];
  for (const step of steps) {
    process.stderr.write(`bench: ${step.name}: ${step.title}\n`);
    try {
      rows.push(...(await step.run(ctx)));
    } catch (e) {
      rows.push({ step: step.name, figure: step.title, value: 'error', pass: false, note: e instanceof Error ? e.message : String(e) });
    }
  }
  for (const d of benchDirs) rmSync(d, { recursive: true, force: true });
  process.stdout.write(table(rows) + '\n');
  if (args.json) writeFileSync(args.json, JSON.stringify({ capture: path, summary, rows }, null, 2) + '\n');
  const failed = rows.filter((r) => r.pass === false).length;
  process.stdout.write(`\n${failed === 0 ? 'all targets met' : `${failed} target(s) not met`}\n`);
  return args.strict && failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  },
);
