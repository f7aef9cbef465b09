// The CLI's wiring for tests of one stage: the run's event transforms, and a decode context with
// the run's packet filter, each opened from the registry as a run opens them (openStages).
import type { EventTransform } from '../src/component.js';
import type { Config } from '../src/cli/config.js';
import { decodeContextOf, openStages } from '../src/cli/open.js';
import type { DecodeContext } from '../src/decode/packet.js';
import type { InputKind } from '../src/event.js';
import type { Stats } from '../src/stats.js';

export function openTransforms(cfg: Config, stats: Stats): EventTransform[] {
  return openStages(cfg, stats).events;
}

export function decodeContext(cfg: Config, stats: Stats, inputKind: InputKind, inputName: string): DecodeContext {
  return decodeContextOf(cfg, stats, openStages(cfg, stats).packet, inputKind, inputName);
}
