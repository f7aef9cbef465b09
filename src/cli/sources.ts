// The configured input(s) as pipeline sources.
import { ConfigError, type Config } from './config.js';
import { readCapture } from '../inputs/pcapfile.js';
import { BadFilterError, openLive, UnknownInterfaceError } from '../inputs/live.js';
import type { Source } from '../pipeline.js';
import type { DecodeContext } from '../decode/packet.js';
import type { Stats } from '../stats.js';
import type { InputKind } from '../event.js';
import { packetFilter } from './transforms.js';
import { listenDnstap, parseDnstapAddress, parsePermission } from '../inputs/dnstap/socket.js';
import { readDnstapFile } from '../inputs/dnstap/file.js';

export interface OpenSources {
  sources: Source[];
  /** Stops live inputs and listeners (files end by themselves). */
  close?: () => Promise<void>;
  /** The sources stop and drain by themselves when the signal given to openSources aborts
   * (live capture): the pipeline then reads them to their end instead of breaking off. */
  endsOnAbort?: boolean;
  /** Events happen now (interfaces, dnstap sockets): capture time is wall time. */
  live?: boolean;
}

/** The decode contexts of one run's packet inputs, one per name. They share one packet filter
 *  (--dedup, --sampleRatio), so dedup sees the packets of every interface: two taps, one packet. */
export function decodeContexts(cfg: Config, stats: Stats, inputKind: InputKind, inputNames: string[]): DecodeContext[] {
  const keepPacket = packetFilter(cfg, stats);
  // IP fragments and TCP streams get their state (ctx.transport) when the first one comes.
  return inputNames.map((inputName) => {
    const ctx: DecodeContext = { stats, ports: new Set(cfg.port), server: cfg.serverName, inputKind, inputName };
    if (keepPacket) ctx.keepPacket = keepPacket;
    return ctx;
  });
}

/** The decode context for a run with one packet input. */
export function decodeContext(cfg: Config, stats: Stats, inputKind: InputKind, inputName: string): DecodeContext {
  return decodeContexts(cfg, stats, inputKind, [inputName])[0];
}

export async function openSources(cfg: Config, stats: Stats, signal?: AbortSignal): Promise<OpenSources> {
  const devices = cfg.devName as unknown as string[];
  if (devices.length > 0) return openLiveSources(cfg, stats, devices, signal);
  if (cfg.dnstapSocket || cfg.dnstapFile) return openDnstapSource(cfg, stats, signal);
  if (cfg.pcapFile) {
    const frames = readCapture(cfg.pcapFile, stats, { noEtherframe: cfg.noEtherframe });
    return { sources: [{ kind: 'frames', frames, ctx: decodeContext(cfg, stats, 'pcap', cfg.pcapFile) }] };
  }
  // checkRunnable refuses a configuration without an input before we get here.
  throw new Error('no input configured');
}

/** One source per interface, each a tcpdump child (src/inputs/live.ts). */
async function openLiveSources(cfg: Config, stats: Stats, devices: string[], signal?: AbortSignal): Promise<OpenSources> {
  try {
    const live = await openLive(
      {
        interfaces: devices,
        filter: cfg.filter as string,
        ports: cfg.port,
        promiscuous: !(cfg.noPromiscuous as boolean),
        bufferMb: cfg.afpacketBuffersizeMb as number,
        statsIntervalMs: cfg.captureStatsDelay as number,
        signal,
      },
      stats,
    );
    const contexts = decodeContexts(cfg, stats, 'live', live.captures.map((c) => c.iface));
    const sources: Source[] = live.captures.map((c, i) => ({ kind: 'frames', frames: c.frames, ctx: contexts[i] }));
    return { sources, close: live.close, endsOnAbort: signal !== undefined, live: true };
  } catch (e) {
    if (e instanceof UnknownInterfaceError) throw new ConfigError('devName', `--devName: ${e.message}`);
    if (e instanceof BadFilterError) throw new ConfigError('filter', `--filter: ${e.message}`);
    throw e;
  }
}

/** --dnstapSocket (a listener for many producers) or --dnstapFile: ready-made events. */
async function openDnstapSource(cfg: Config, stats: Stats, signal?: AbortSignal): Promise<OpenSources> {
  const server = cfg.serverName;
  const useIdentity = cfg.useDnstapIdentity as boolean;
  if (cfg.dnstapFile) {
    const events = readDnstapFile(cfg.dnstapFile as string, stats, { server, useIdentity, signal });
    return { sources: [{ kind: 'events', events }], endsOnAbort: signal !== undefined };
  }
  let permission: number;
  try {
    parseDnstapAddress(cfg.dnstapSocket as string);
  } catch (e) {
    throw new ConfigError('dnstapSocket', `--dnstapSocket: ${(e as Error).message}`);
  }
  try {
    permission = parsePermission(cfg.dnstapPermission as string);
  } catch (e) {
    throw new ConfigError('dnstapPermission', `--dnstapPermission: ${(e as Error).message}`);
  }
  const listener = await listenDnstap({ address: cfg.dnstapSocket as string, stats, server, useIdentity, permission, signal });
  return { sources: [{ kind: 'events', events: listener.events }], close: listener.close, endsOnAbort: signal !== undefined, live: true };
}
