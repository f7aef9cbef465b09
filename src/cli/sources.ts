// The configured input(s) as pipeline sources.
import type { Config } from './config.js';
import { readCapture } from '../inputs/pcapfile.js';
import type { Source } from '../pipeline.js';
import type { DecodeContext } from '../decode/packet.js';
import type { Stats } from '../stats.js';
import type { InputKind } from '../event.js';

export interface OpenSources {
  sources: Source[];
  /** Stops live inputs and listeners (files end by themselves). */
  close?: () => Promise<void>;
}

/** The decode context for one packet input. */
export function decodeContext(cfg: Config, stats: Stats, inputKind: InputKind, inputName: string): DecodeContext {
  return { stats, ports: new Set(cfg.port), server: cfg.serverName, inputKind, inputName };
}

export async function openSources(cfg: Config, stats: Stats): Promise<OpenSources> {
  if (cfg.pcapFile) {
    const frames = readCapture(cfg.pcapFile, stats, { noEtherframe: cfg.noEtherframe });
    return { sources: [{ kind: 'frames', frames, ctx: decodeContext(cfg, stats, 'pcap', cfg.pcapFile) }] };
  }
  // checkRunnable refuses a configuration without an input before we get here.
  throw new Error('no input configured');
}
