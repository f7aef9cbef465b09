// `dnslens [flags]`: one capture run, from the configuration to the summary, looping over the
// registry (inputs -> transforms -> outputs). main.ts is the process around it.
import { statSync, writeFileSync } from 'node:fs';
import { log, setLogFormat, setLogLevel } from '../log.js';
import { limitProcessMemory } from '../memory.js';
import { Stats } from '../stats.js';
import { checkRunnable, ConfigError, formatIni, helpText, loadConfig, sourceOf, type Config } from './config.js';
import type { OpenedInput } from '../component.js';
import { fileInputs, givenInputs, inputFiles, openInputs, openLists, openOutputs, openStages, runInfo, sourcesOf, type OpenLists } from './open.js';
import { runPipeline } from './pipeline.js';
import { registry as defaultRegistry, type Registry } from './registry.js';
import { progressLine, statsRecord, summaryText } from './summary.js';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_CONFIG = 2;
export const EXIT_DAMAGED_INPUT = 3;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug'];

/** With no output flag at all, events go to this output (the embedded store) and a report follows. */
export const DEFAULT_OUTPUT = 'clickhouse';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  registry?: Registry;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Stops the run (main.ts aborts it on SIGINT/SIGTERM once capture has begun). */
  signal?: AbortSignal;
  /** Called once outputs are about to open: from then on a stop must flush, not just exit. */
  onCapture?: () => void;
  /** SIGHUP: main.ts calls what it is given here to reload the domain lists. */
  onReload?: (reload: () => Promise<void>) => () => void;
  version?: () => Promise<string>;
}

/** One `dnslens [flags]` run; returns the exit code. Throws ConfigError (exit 2) or other errors (exit 1). */
export async function runCapture(argv: string[], opts: RunOptions = {}): Promise<number> {
  const registry = opts.registry ?? defaultRegistry;
  const out = opts.stdout ?? ((t: string) => void process.stdout.write(t));
  const err = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  const cfg = loadConfig(argv, opts.env ?? process.env, registry);
  if (cfg.help) {
    out(helpText(registry));
    return EXIT_OK;
  }
  if (cfg.version) {
    out(`dnslens ${(await opts.version?.()) ?? 'unknown'}\n`);
    return EXIT_OK;
  }
  setLogFormat(cfg.logFormat as 'auto' | 'json' | 'text');
  setLogLevel(LOG_LEVELS[Number(cfg.logLevel)] ?? 'info');
  if (cfg.writeConfig) {
    writeFileSync(cfg.writeConfig, formatIni(cfg, {}, registry));
    err(`dnslens: wrote the effective configuration to ${cfg.writeConfig}\n`);
    return EXIT_OK;
  }
  const defaultOutput = registry.outputs.find((o) => o.name === DEFAULT_OUTPUT);
  const defaultStore = defaultOutput !== undefined && !registry.outputs.some((o) => sourceOf(cfg, o.typeOption).kind !== 'default');
  if (defaultStore) cfg[defaultOutput.typeOption] = 1;
  checkRunnable(cfg, registry);
  // Said once, before the first connection (a domain list URL loads next).
  if (cfg.skipTLSVerification) log.warn('--skipTLSVerification: server certificates are not verified on any TLS connection; anyone in the path can read and change the traffic');
  const lists = await openLists(cfg, registry);
  if (cfg.checkConfig) {
    await lists.close();
    out(formatIni(cfg, { redact: true }, registry));
    return EXIT_OK;
  }
  opts.onCapture?.();
  return capture(cfg, registry, lists, defaultStore, { out, err, signal: opts.signal, onReload: opts.onReload });
}

type Io = Pick<RunOptions, 'signal' | 'onReload'> & { out: (t: string) => void; err: (t: string) => void };

async function capture(cfg: Config, registry: Registry, lists: OpenLists, defaultStore: boolean, io: Io): Promise<number> {
  const stats = new Stats();
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  io.signal?.addEventListener('abort', onAbort);
  if (io.signal?.aborted) stop.abort();
  // Several inputs at once (logs beside a capture, say): no file is recorded as an import, whose
  // batches must be cut from its rows alone.
  const given = givenInputs(cfg, registry);
  const run = runInfo(cfg, {
    fileInput: fileInputs(cfg, registry),
    files: given.length === 1 ? inputFiles(cfg, registry) : [],
    packetLimit: cfg.packetLimit,
    lists: lists.lists,
    signal: stop.signal,
    logs: given.includes('logs'),
  });
  // --metricEndpointType prometheus: up before anything opens, so /healthz says "starting" meanwhile
  const prometheus = cfg.metricEndpointType === 'prometheus' ? await openPrometheus(cfg, stats) : null;
  // --metricEndpointType statsd: a bad agent address is refused before anything opens
  const statsd = cfg.metricEndpointType === 'statsd' ? await openStatsd(cfg, stats) : null;
  // Transforms, then outputs: the summary lists components' counters in pipeline order.
  const stages = openStages(cfg, stats, registry, run);
  const { outputs, opened } = await openOutputs(cfg, stats, run, registry).catch(async (e: unknown) => {
    await prometheus?.close(); // its listener would keep the process alive
    await statsd?.close();
    throw e;
  });
  const offReload = io.onReload?.(() => lists.reload());
  lists.start();
  const metrics = cfg.metricFlushInterval > 0 && !prometheus && !statsd ? setInterval(() => log.info(statsRecord(stats), 'stats'), cfg.metricFlushInterval) : undefined;
  metrics?.unref();

  const unlimitMemory = limitProcessMemory(run.memoryLimit); // node's heap under a tight --memoryLimit
  let failure: unknown;
  let tty = false;
  let total = 0;
  let lastDraw = 0;
  const afterBatch = () => {
    // `dnslens ... | head`: when every output has ended (its reader gone), stop reading.
    if (outputs.every((o) => o.ended)) stop.abort();
    if (!tty) return;
    const now = Date.now();
    if (now - lastDraw < 200) return;
    lastDraw = now;
    process.stderr.write(progressLine(stats, total));
  };
  let inputs: OpenedInput[] | null = null;
  run.logLedger = opened.map((o) => o.opened.logLedger).find((l) => l !== undefined);
  try {
    // Stopped while an output waited for its server: nothing is read (the summary still prints).
    inputs = stop.signal.aborted ? [] : await openInputs(cfg, stats, run, registry);
    prometheus?.ready();
    // A progress line on a terminal (not for stdin), with a bar when one capture file is read.
    tty = process.stderr.isTTY === true && !inputs.some((i) => i.stdin);
    const file = inputs.length === 1 ? inputs[0].file : undefined;
    total = tty && file ? fileSize(file) : 0;
    // Outputs that ended before anything was read (a file the store has already) need no reading.
    if (!outputs.every((o) => o.ended) && !stop.signal.aborted) {
      await runPipeline({
        sources: sourcesOf(inputs, cfg, stats, stages.packet),
        transforms: stages.events,
        outputs,
        packetLimit: cfg.packetLimit,
        signal: inputs.every((i) => i.endsOnAbort) ? undefined : stop.signal, // live inputs drain after a stop
        tickMs: inputs.some((i) => i.live) ? 1000 : 0,
        onBatch: afterBatch,
      });
      if (!stop.signal.aborted) for (const o of outputs) o.inputEnded?.();
    }
  } catch (e) {
    failure = e;
  } finally {
    for (const i of inputs ?? []) await i.close?.();
    clearInterval(metrics);
    offReload?.();
    await lists.close();
  }
  // Flush every output even when reading failed: what was decoded is kept. A stop meanwhile still
  // reaches them (run.signal): one still waiting for its server then gives up (sink/reachable.ts).
  for (const o of outputs) {
    try {
      await o.close();
    } catch (e) {
      failure ??= e;
      log.error({ output: o.name, err: (e as Error).message }, 'output failed to flush');
    }
  }
  io.signal?.removeEventListener('abort', onAbort);
  if (tty) process.stderr.write('\n');
  if (inputs !== null) io.err(summaryText(stats)); // an input that could not open read nothing
  try {
    const reader = defaultStore ? opened.find((o) => o.name === DEFAULT_OUTPUT)?.opened.reader : undefined;
    // loaded only for a report: its SQL helpers pull in the ClickHouse client
    if (!failure && reader) io.out(await (await import('../reports/summary.js')).summaryReport(await reader(), { timezone: run.timezone }));
  } finally {
    for (const { opened: o } of opened) await o.dispose?.();
    await prometheus?.close();
    await statsd?.close(); // the last flush, with the outputs' final counts, then the socket closed
    unlimitMemory();
  }
  if (failure) throw failure;
  return stats.damage ? EXIT_DAMAGED_INPUT : EXIT_OK;
}

async function openPrometheus(cfg: Config, stats: Stats) {
  const endpoint = cfg.metricPrometheusEndpoint || 'http://127.0.0.1:2112/metrics';
  // loaded only when asked for: prom-client costs start-up time
  const { parseEndpoint, servePrometheus } = await import('../metrics/prometheus.js');
  try {
    parseEndpoint(endpoint);
  } catch (e) {
    throw new ConfigError('metricPrometheusEndpoint', `--metricPrometheusEndpoint: ${(e as Error).message}`);
  }
  const p = await servePrometheus(endpoint, stats);
  log.info({ url: p.url }, 'prometheus metrics endpoint listening');
  return p;
}

async function openStatsd(cfg: Config, stats: Stats) {
  // loaded only when asked for, as prom-client is
  const { checkResolves, parseAgent, startStatsd } = await import('../metrics/statsd.js');
  let agent;
  try {
    agent = parseAgent(cfg.metricStatsdAgent);
    await checkResolves(agent);
  } catch (e) {
    throw new ConfigError('metricStatsdAgent', `--metricStatsdAgent: ${(e as Error).message}`);
  }
  const s = startStatsd(agent, stats, cfg.metricFlushInterval);
  log.info({ agent: s.agent, intervalMs: cfg.metricFlushInterval }, 'sending metrics to statsd');
  return s;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
