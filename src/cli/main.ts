#!/usr/bin/env node
// dnslens entry point: `dnslens [flags]` captures; `sql`, `report` and `schema` work on the store.
import { statSync, writeFileSync } from 'node:fs';
import { checkRunnable, ConfigError, formatIni, helpText, loadConfig, sourceOf, type Config } from './config.js';
import { OPTIONS } from './options.js';
import { progressLine, statsRecord, summaryText } from './summary.js';
import { openSources } from './sources.js';
import { checkTransforms, openLists, openTransforms, type OpenLists } from './transforms.js';
import { runPipeline } from '../pipeline.js';
import { Stats } from '../stats.js';
import { log, setLogLevel } from '../log.js';
import type { Output } from '../outputs/output.js';
import { makeFormatter, type FormatName } from '../outputs/format.js';
import { stdoutOutput, type StdoutOutput } from '../outputs/stdout.js';
import { fileOutput } from '../outputs/file.js';
import { filteredOutput, type Lists } from '../transforms/domainlist.js';

// The store (and so @clickhouse/client and chdb) is loaded only when a run needs it.
const STORE_COMMANDS = ['sql', 'report', 'schema'];
const storeModule = () => import('./store-commands.js');

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_CONFIG = 2;
export const EXIT_DAMAGED_INPUT = 3;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug'];

async function main(argv: string[]): Promise<number> {
  if (argv[0] && STORE_COMMANDS.includes(argv[0])) return (await storeModule()).storeCommand(argv[0], argv.slice(1));
  const cfg = loadConfig(argv, process.env);
  if (cfg.help) {
    process.stdout.write(helpText());
    return EXIT_OK;
  }
  if (cfg.version) {
    process.stdout.write(`dnslens ${await packageVersion()}\n`);
    return EXIT_OK;
  }
  setLogLevel(LOG_LEVELS[Number(cfg.logLevel)] ?? 'info');
  if (cfg.writeConfig) {
    writeFileSync(cfg.writeConfig, formatIni(cfg));
    process.stderr.write(`dnslens: wrote the effective configuration to ${cfg.writeConfig}\n`);
    return EXIT_OK;
  }
  // With no output flag at all, events go to the embedded ClickHouse store and a report follows.
  const defaultStore = !OPTIONS.some((o) => o.kind === 'outputType' && sourceOf(cfg, o.name).kind !== 'default');
  if (defaultStore) cfg.clickhouseOutputType = 1;
  checkRunnable(cfg);
  checkTransforms(cfg);
  const lists = await openLists(cfg);
  if (cfg.checkConfig) {
    process.stdout.write(formatIni(cfg, { redact: true }));
    return EXIT_OK;
  }
  return capture(cfg, lists, defaultStore);
}

function textFormat(cfg: Config, format: FormatName, template: string, option: string) {
  try {
    return makeFormatter(format, template);
  } catch (e) {
    throw new ConfigError(option, `--${option}: ${(e as Error).message}`);
  }
}

interface OpenOutputs {
  outputs: Output[];
  report?: () => Promise<string>;
  dispose?: () => Promise<void>;
  stdout?: StdoutOutput;
}

async function openOutputs(cfg: Config, lists: Lists, stats: Stats): Promise<OpenOutputs> {
  const outputs: Output[] = [];
  let report: (() => Promise<string>) | undefined;
  let dispose: (() => Promise<void>) | undefined;
  let stdout: StdoutOutput | undefined;
  if (cfg.stdoutOutputType > 0) {
    const fmt = textFormat(cfg, cfg.stdoutOutputFormat, cfg.stdoutOutputGoTemplate, 'stdoutOutputGoTemplate');
    stdout = stdoutOutput(fmt);
    outputs.push(filteredOutput(stdout, cfg.stdoutOutputType, lists, stats));
  }
  if (cfg.fileOutputType > 0) {
    const fmt = textFormat(cfg, cfg.fileOutputFormat, cfg.fileOutputGoTemplate, 'fileOutputGoTemplate');
    const out = await fileOutput({
      path: cfg.fileOutputPath,
      format: fmt,
      rotateSize: cfg.fileOutputRotateSize,
      rotateIntervalMs: cfg.fileOutputRotateInterval,
      retain: cfg.fileOutputRetain,
    });
    outputs.push(filteredOutput(out, cfg.fileOutputType, lists, stats));
  }
  if (cfg.clickhouseOutputType > 0) {
    const fileInput = Boolean(cfg.pcapFile || cfg.dnstapFile);
    const ch = await (await storeModule()).openDefaultStoreOutput(cfg, stats, fileInput);
    outputs.push(filteredOutput(ch.output, cfg.clickhouseOutputType, lists, stats));
    report = ch.report;
    dispose = ch.dispose;
  }
  return { outputs, report, dispose, stdout };
}

async function capture(cfg: Config, lists: OpenLists, defaultStore: boolean): Promise<number> {
  const stats = new Stats();
  const { outputs, report, dispose, stdout } = await openOutputs(cfg, lists.lists, stats);
  const stop = new AbortController();
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`\ndnslens: second ${sig}, exiting without flushing\n`);
      process.exit(130);
    }
    log.info({ signal: sig }, 'stopping: flushing outputs');
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP reloads the skip/allow lists in the background; capture goes on with the old ones meanwhile.
  const onHup = () => void lists.reload();
  process.on('SIGHUP', onHup);
  lists.start();
  const metrics = cfg.metricFlushInterval > 0 ? setInterval(() => log.info(statsRecord(stats), 'stats'), cfg.metricFlushInterval) : undefined;
  metrics?.unref();

  const tty = process.stderr.isTTY && cfg.pcapFile !== '-';
  const total = tty ? fileSize(cfg.pcapFile) : 0;
  let lastDraw = 0;
  const afterBatch = () => {
    // `dnslens ... | head`: when stdout was the only output and its reader has gone, stop reading.
    if (stdout?.ended && outputs.length === 1) stop.abort();
    if (!tty) return;
    const now = Date.now();
    if (now - lastDraw < 200) return;
    lastDraw = now;
    process.stderr.write(progressLine(stats, total));
  };
  let failure: unknown;
  const input = await openSources(cfg, stats, stop.signal);
  try {
    await runPipeline({
      sources: input.sources,
      transforms: openTransforms(cfg, stats),
      outputs,
      packetLimit: Number(cfg.packetLimit ?? 0),
      signal: input.endsOnAbort ? undefined : stop.signal, // live inputs drain after a stop
      tickMs: input.live ? 1000 : 0,
      onBatch: afterBatch,
    });
  } catch (e) {
    failure = e;
  } finally {
    await input.close?.();
    clearInterval(metrics);
    process.off('SIGHUP', onHup);
    await lists.close();
  }
  // Flush every output even when reading failed: what was decoded is kept.
  for (const o of outputs) {
    try {
      await o.close();
    } catch (e) {
      failure ??= e;
      log.error({ output: o.name, err: (e as Error).message }, 'output failed to flush');
    }
  }
  if (stdout?.discarded) stats.dropped('stdout', 'reader-gone', stdout.discarded);
  if (tty) process.stderr.write('\n');
  process.stderr.write(summaryText(stats));
  try {
    if (!failure && defaultStore && report) process.stdout.write(await report());
  } finally {
    await dispose?.();
  }
  if (failure) throw failure;
  return stats.damage ? EXIT_DAMAGED_INPUT : EXIT_OK;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof ConfigError) {
      process.stderr.write(`dnslens: ${e.message}\n`);
      process.exitCode = EXIT_CONFIG;
    } else {
      process.stderr.write(`dnslens: ${(e as Error)?.message ?? String(e)}\n`);
      log.debug({ err: e }, 'failure');
      process.exitCode = EXIT_RUNTIME;
    }
  },
);
