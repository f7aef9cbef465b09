// --bindLogFile, --dnsmasqLogFile: resolver query logs, read once (the default: a directory of
// rotated files, oldest first, .gz too) or followed like tail -F (--logFollow). With the ClickHouse
// output, read positions are kept in the store: a restart resumes without a gap or a duplicate.
import type { DnsEvent } from '../../event.js';
import { defineInput, type Context, type Feed } from '../../component.js';
import { bool, ConfigError, dur, list, type Settings } from '../../options.js';
import { memoryTier, type MemoryTier } from '../../memory.js';
import { hostZone, localClock } from '../../zone.js';
import { bindParser } from './bind.js';
import { dnsmasqParser } from './dnsmasq.js';
import { isDynamicPattern } from 'tinyglobby';
import { expandLogFiles, isGz } from './files.js';
import type { LineParser, ParseContext } from './parser.js';
import { followLogFile, readLogFile, readLogStdin, type LogInput } from './reader.js';

const S = 'logs';

const OPTIONS = [
  { ...list('bindLogFile', S, 'Read a BIND9 query log (the queries and query-errors categories): a path or a glob, repeatable; rotated files are read oldest first, .gz too; "-" for stdin'), stdin: true },
  { ...list('dnsmasqLogFile', S, 'Read a dnsmasq or Pi-hole query log (log-queries, log-queries=extra): a path or a glob, repeatable; "-" for stdin'), stdin: true },
  bool('logFollow', S, 'Follow the log files like tail -F (through rotation by rename and copy-truncate; waits for a file that does not exist yet) instead of reading them once'),
  dur('logPollInterval', S, '500ms', 'With --logFollow: how often a file at its end is looked at again'),
  bool('keepRawLine', S, 'Keep each event\'s log line(s) in its rawLine field'),
] as const;

type LogSettings = Settings<typeof OPTIONS>;

const COUNTERS = {
  lines: 'lines read',
  events: 'events',
  bad: 'lines that look like DNS but do not parse',
  files: 'files read',
  filesSkipped: 'files read to their end before',
  rotations: 'rotations followed',
  truncations: 'truncations followed',
  filesGone: 'files gone before they were read to their end',
  filesUnreadable: 'files that cannot be read',
};

// Chunks: one insert each, so as large as the embedded store likes its inserts (fewer, larger
// inserts cost it far less CPU per row: src/outputs/clickhouse/store.ts), within the memory limit
// (a chunk's events wait as objects, ~500 bytes each).
const CHUNK_EVENTS: Record<MemoryTier, number> = { tight: 25_000, bounded: 100_000, roomy: 500_000 };

export const logs = defineInput({
  kind: 'input',
  name: 'logs',
  section: S,
  options: OPTIONS,
  counters: COUNTERS,
  given: (s) => (s.bindLogFile.length > 0 ? 'bindLogFile' : s.dnsmasqLogFile.length > 0 ? 'dnsmasqLogFile' : undefined),
  // Not a file input: the outputs open first, since the read positions are in the store.
  isFile: () => false,
  check(s, from) {
    const stdin = [...s.bindLogFile, ...s.dnsmasqLogFile].filter((p) => p === '-').length;
    if (stdin > 1) throw new ConfigError('bindLogFile', `--bindLogFile/--dnsmasqLogFile: "-" (stdin) may be given once${from('bindLogFile')}`);
    if (s.logFollow) {
      const gz = [...s.bindLogFile, ...s.dnsmasqLogFile].find(isGz);
      if (gz) throw new ConfigError('logFollow', `--logFollow: ${gz} is compressed, it does not grow: read it without --logFollow`);
    }
  },
  async open(ctx) {
    const feeds: Feed[] = [];
    const s = ctx.settings;
    for (const [input, patterns, parser] of [
      ['bind', s.bindLogFile, bindParser],
      ['dnsmasq', s.dnsmasqLogFile, (c: ParseContext) => dnsmasqParser(c)],
    ] as const) {
      if (patterns.length === 0) continue;
      const li = logInput(ctx, input, parser);
      const stdin = patterns.includes('-');
      const paths = patterns.filter((p) => p !== '-');
      if (stdin) feeds.push({ kind: 'events', events: readLogStdin(li) });
      if (s.logFollow) for (const p of await followedPaths(paths, input)) feeds.push({ kind: 'events', events: followLogFile(p, li) });
      else if (paths.length > 0) {
        const files = await expandLogFiles(paths).catch((e: unknown) => {
          throw new ConfigError(input === 'bind' ? 'bindLogFile' : 'dnsmasqLogFile', `--${input}LogFile: ${(e as Error).message}`);
        });
        feeds.push({ kind: 'events', events: oneAfterAnother(files.map((f) => () => readLogFile(f, li))) });
      }
    }
    const stdin = [...s.bindLogFile, ...s.dnsmasqLogFile].includes('-');
    return { feeds, endsOnAbort: true, live: s.logFollow, ...(stdin ? { stdin: true } : {}) };
  },
});

function logInput(ctx: Context<typeof OPTIONS>, input: 'bind' | 'dnsmasq', parser: (c: ParseContext) => LineParser): LogInput {
  const s: LogSettings = ctx.settings;
  const zone = ctx.run.timezone ?? hostZone();
  const toUtc = localClock(zone);
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: 'numeric' });
  return {
    input,
    parser,
    context: (file) => {
      const p = Object.fromEntries(parts.formatToParts(file.mtimeMs).map((x) => [x.type, x.value]));
      return { toUtc, fileYear: Number(p.year), fileMonth: Number(p.month), keepRawLine: s.keepRawLine };
    },
    server: ctx.run.server,
    keepRawLine: s.keepRawLine,
    maxChunkEvents: CHUNK_EVENTS[memoryTier(ctx.run.memoryLimit)],
    counters: ctx.counters,
    log: ctx.log,
    ledger: ctx.run.logLedger,
    signal: ctx.run.signal,
    pollMs: s.logPollInterval,
  };
}

// --logFollow: a path is followed as it is (it may not exist yet); a glob names the live files it
// matches now, not their rotated siblings (queries.log, not queries.log.0 beside it).
async function followedPaths(patterns: readonly string[], input: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of patterns) {
    if (!isDynamicPattern(p)) {
      out.push(p);
      continue;
    }
    const files = await expandLogFiles([p]).catch((e: unknown) => {
      throw new ConfigError(`${input}LogFile`, `--${input}LogFile: ${(e as Error).message}`);
    });
    const paths = files.map((f) => f.path);
    out.push(...paths.filter((f) => !paths.some((o) => o !== f && (f.startsWith(`${o}.`) || f.startsWith(`${o}-`)))));
  }
  return [...new Set(out)];
}

async function* oneAfterAnother(parts: (() => AsyncIterable<DnsEvent[]>)[]): AsyncGenerator<DnsEvent[]> {
  for (const p of parts) yield* p();
}
