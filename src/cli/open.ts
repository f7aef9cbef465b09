// Opening the registry's components for one run: each gets its own settings, a logger, its
// counters and the run's shared pieces (Context), never the whole configuration.
import type { Component, Context, EventTransform, InputFile, Lists, OpenedInput, OpenedOutput, Output, PacketFilter, RunInfo } from '../component.js';
import type { DecodeContext } from '../decode/packet.js';
import type { InputKind } from '../event.js';
import { childLog, log } from '../log.js';
import { resolveMemoryLimit } from '../memory.js';
import { ConfigError, type OptionSpec } from '../options.js';
import type { Stats } from '../stats.js';
import { filteredOutput } from '../outputs/filter.js';
import { ReloadingList } from '../transforms/domainlist.js';
import { askedZone } from '../zone.js';
import { settingsOf, sourceOf, type Config } from './config.js';
import type { Source } from './pipeline.js';
import { registry as defaultRegistry, type Registry } from './registry.js';

/** The shared part of every component's context for one run; totalMemory (default: the
 *  machine's) decides an auto --memoryLimit. */
export function runInfo(cfg: Config, extra: Partial<RunInfo> = {}, totalMemory?: number): RunInfo {
  return {
    server: cfg.serverName,
    ports: cfg.port,
    metricIntervalMs: cfg.metricFlushInterval,
    memoryLimit: resolveMemoryLimit(cfg.memoryLimit, totalMemory),
    timezone: askedZone(cfg.timezone),
    skipTlsVerify: cfg.skipTLSVerification,
    fileInput: false,
    lists: {},
    ...extra,
  };
}

export function contextFor<C extends Component>(c: C, cfg: Config, stats: Stats, run: RunInfo): Context<readonly OptionSpec[]> {
  return {
    settings: settingsOf(cfg, c),
    isSet: (name: string) => sourceOf(cfg, name).kind !== 'default',
    log: childLog({ component: c.name }),
    // made when first used: a transform its options leave off reports no counters
    get counters() {
      return stats.counters(c.name, c.counters);
    },
    stats,
    run,
  };
}

// ------------------------------------------------------------------ inputs

/** True when every input given is a file (outputs may then open while decoding starts). */
export function fileInputs(cfg: Config, registry: Registry = defaultRegistry): boolean {
  const given = registry.inputs.filter((c) => c.given(settingsOf(cfg, c)) !== undefined);
  return given.length > 0 && given.every((c) => c.isFile?.(settingsOf(cfg, c)) ?? false);
}

/** The names of the inputs asked for. */
export function givenInputs(cfg: Config, registry: Registry = defaultRegistry): string[] {
  return registry.inputs.filter((c) => c.given(settingsOf(cfg, c)) !== undefined).map((c) => c.name);
}

/** The files the given inputs read from start to end, stdin left out (what a store records as imported). */
export function inputFiles(cfg: Config, registry: Registry = defaultRegistry): InputFile[] {
  return registry.inputs.flatMap((c) => {
    const path = c.filePath?.(settingsOf(cfg, c));
    return path !== undefined && path !== '-' ? [{ path, input: c.name }] : [];
  });
}

/** Opens the inputs that were asked for. */
export async function openInputs(cfg: Config, stats: Stats, run: RunInfo, registry: Registry = defaultRegistry): Promise<OpenedInput[]> {
  const opened: OpenedInput[] = [];
  for (const c of registry.inputs) {
    if (c.given(settingsOf(cfg, c)) === undefined) continue;
    opened.push(await c.open(contextFor(c, cfg, stats, run)));
  }
  return opened;
}

/** The pipeline sources of opened inputs: frame feeds get their decode context (one packet filter for the run). */
export function sourcesOf(inputs: OpenedInput[], cfg: Config, stats: Stats, keepPacket: PacketFilter | undefined): Source[] {
  return inputs.flatMap((i) =>
    i.feeds.map((f): Source => (f.kind === 'events' ? f : { kind: 'frames', frames: f.frames, ctx: decodeContextOf(cfg, stats, keepPacket, f.inputKind, f.inputName) })),
  );
}

/** How a frame feed is decoded: the run's ports and server name, and its packet filter. */
export function decodeContextOf(cfg: Config, stats: Stats, keepPacket: PacketFilter | undefined, inputKind: InputKind, inputName: string): DecodeContext {
  // IP fragments and TCP streams get their state (ctx.transport) when the first one comes.
  const ctx: DecodeContext = { stats, ports: new Set(cfg.port), server: cfg.serverName, inputKind, inputName };
  if (keepPacket) ctx.keepPacket = keepPacket;
  return ctx;
}

// ------------------------------------------------------------------ transforms

export interface Stages {
  /** The packet filters of every transform that has one, in registry order; undefined when none (no cost per packet). */
  packet?: PacketFilter;
  events: EventTransform[];
}

export function openStages(cfg: Config, stats: Stats, registry: Registry = defaultRegistry, run: RunInfo = runInfo(cfg)): Stages {
  const filters: PacketFilter[] = [];
  const events: EventTransform[] = [];
  for (const c of registry.transforms) {
    const t = c.open(contextFor(c, cfg, stats, run));
    if (t?.packet) filters.push(t.packet);
    if (t?.event) events.push(t.event);
  }
  return { packet: chain(filters), events };
}

function chain(filters: PacketFilter[]): PacketFilter | undefined {
  if (filters.length === 0) return undefined;
  if (filters.length === 1) return filters[0];
  if (filters.length === 2) {
    const [a, b] = filters;
    return (data, ip, end, frame) => a(data, ip, end, frame) && b(data, ip, end, frame);
  }
  return (data, ip, end, frame) => filters.every((f) => f(data, ip, end, frame));
}

// ------------------------------------------------------------------ outputs

export interface OpenOutputs {
  outputs: Output[];
  opened: { name: string; opened: OpenedOutput }[];
}

/** Opens every output whose type is above 0, each wrapped in its skip/allow list logic. */
export async function openOutputs(cfg: Config, stats: Stats, run: RunInfo, registry: Registry = defaultRegistry): Promise<OpenOutputs> {
  const result: OpenOutputs = { outputs: [], opened: [] };
  try {
    for (const c of registry.outputs) {
      const type = cfg[c.typeOption] as number;
      if (!(type > 0)) continue;
      const opened = await c.open(contextFor(c, cfg, stats, run));
      result.opened.push({ name: c.name, opened });
      result.outputs.push(filteredOutput(opened.output, type, run.lists, stats));
    }
  } catch (err) {
    // One output could not open: close those that did (their connections would hold the process).
    for (const o of result.outputs) await o.close().catch(() => undefined);
    throw err;
  }
  return result;
}

// ------------------------------------------------------------------ domain lists

export interface OpenLists {
  lists: Lists;
  /** Starts the background reloads (--skipDomainsRefreshInterval, --allowDomainsRefreshInterval). */
  start(): void;
  /** Reloads both lists now (SIGHUP); a failing reload keeps the previous list. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Loads the skip and allow lists the outputs need (output types 2-4). The first load must
 * succeed: a run never starts with a list it could not read.
 */
export async function openLists(cfg: Config, registry: Registry = defaultRegistry): Promise<OpenLists> {
  for (const o of registry.outputs) {
    const type = cfg[o.typeOption] as number;
    if ((type === 2 || type === 4) && !cfg.skipDomainsFile) {
      throw new ConfigError('skipDomainsFile', `--${o.typeOption}=${type} applies the skip list, but --skipDomainsFile is not set`);
    }
    if ((type === 3 || type === 4) && !cfg.allowDomainsFile) {
      throw new ConfigError('allowDomainsFile', `--${o.typeOption}=${type} applies the allow list, but --allowDomainsFile is not set`);
    }
  }
  const open = async (option: string, location: string, intervalMs: number): Promise<ReloadingList | undefined> => {
    if (!location) return undefined;
    try {
      return await ReloadingList.open(location, { intervalMs, skipTlsVerify: cfg.skipTLSVerification });
    } catch (e) {
      throw new ConfigError(option, `--${option}: ${(e as Error).message}`);
    }
  };
  const skip = await open('skipDomainsFile', cfg.skipDomainsFile, cfg.skipDomainsRefreshInterval);
  const allow = await open('allowDomainsFile', cfg.allowDomainsFile, cfg.allowDomainsRefreshInterval);
  const all = [skip, allow].filter((l): l is ReloadingList => l !== undefined);
  return {
    lists: { skip, allow },
    start: () => all.forEach((l) => l.start()),
    reload: async () => {
      if (all.length === 0) log.info('SIGHUP: no domain lists to reload');
      await Promise.all(all.map((l) => l.reload()));
    },
    close: async () => {
      await Promise.all(all.map((l) => l.stop()));
    },
  };
}
