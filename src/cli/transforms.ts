// The configured event transforms, in pipeline order.
import type { Config } from './config.js';
import type { EventTransform } from '../pipeline.js';
import type { Stats } from '../stats.js';

export function openTransforms(_cfg: Config, _stats: Stats): EventTransform[] {
  const transforms: EventTransform[] = [];
  return transforms;
}
