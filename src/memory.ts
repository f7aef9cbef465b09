// --memoryLimit: one bound on the whole process (peak RSS). The run resolves it once (auto from
// the machine's memory) and hands it to the components (RunInfo.memoryLimit), which size their
// batches, queues and tables to it; the embedded store sizes its engine, and limitProcessMemory()
// the JavaScript heap.
//
// What the bench import (1M packets into the embedded store) costs, measured: loading chdb and
// its schema ~300 MB (240 MB of it the code of libchdb.so and node, paged in), node's heap
// 30-70 MB, the encoded batches waiting to be inserted up to 250 MB, and chdb's inserts and
// merges 100-600 MB, most of which its allocator keeps after freeing it. Hence tiers rather
// than a proportion: below TIGHT every lever is pulled at some cost in speed, up to ROOMY only
// the cheap ones, and above it nothing is traded.
import { totalmem } from 'node:os';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

export const MB = 1e6;

/** The smallest limit accepted: below it not even the embedded store's code fits. */
export const MIN_MEMORY_LIMIT = 256 * MB;

/** What auto gives at least: what a 2 GB Raspberry Pi 4 gets. */
export const AUTO_MIN = 400 * MB;

/** The share of the machine's memory auto takes. */
export const AUTO_SHARE = 1 / 5;

/** Below this limit every lever is pulled (small batches, a tight allocator, a small young generation). */
export const TIGHT_LIMIT = 700 * MB;

/** From this limit up, and with no limit, nothing is traded for memory (the bench import peaks at ~1.1 GB). */
export const ROOMY_LIMIT = 1500 * MB;

export type MemoryTier = 'tight' | 'bounded' | 'roomy';

export const MEMORY_LIMIT_HELP =
  'Bound on the whole process (peak RSS): batch sizes, queues, the query matcher and the embedded store are sized to it, e.g. 400MB, 1GB; ' +
  "0 or unlimited = no bound; auto = a fifth of the machine's memory, at least 400MB (a 2 GB Raspberry Pi 4 gets 400MB, a 16 GB host 3.2GB)";

/** auto: a fifth of the machine's memory, at least AUTO_MIN, in whole MB. */
export function autoMemoryLimit(totalBytes: number): number {
  return Math.max(AUTO_MIN, Math.floor((totalBytes * AUTO_SHARE) / MB) * MB);
}

/** The limit in bytes (0 = none) for an option value; totalBytes is the machine's memory. */
export function resolveMemoryLimit(value: number | 'auto', totalBytes: number = totalmem()): number {
  return value === 'auto' ? autoMemoryLimit(totalBytes) : value;
}

export function memoryTier(limit: number): MemoryTier {
  if (!(limit > 0) || limit >= ROOMY_LIMIT) return 'roomy';
  return limit < TIGHT_LIMIT ? 'tight' : 'bounded';
}

/**
 * A part of the limit: `share` of it, within [min, max] (max is what is used without a limit).
 * No limit: max.
 */
export function budget(limit: number, share: number, min: number, max: number): number {
  if (!(limit > 0)) return max;
  return Math.round(Math.min(max, Math.max(min, limit * share)));
}

// How far array buffers may grow past what the last collection left, as a share of the limit.
const BUFFER_SLACK = 1 / 20;
const GUARD_MS = 200;

/**
 * Under a tight limit, node's own memory: the young generation stays at its first size (it grows
 * to 32 MB and more otherwise: -15 to -35 MB, ~15% more CPU in JavaScript), and a full collection
 * runs once array buffers (encoded batches, mostly already sent) grow a twentieth of the limit
 * past what the last one left: V8 lets 64 MB of them wait for a collection. Returns what stops it.
 */
export function limitProcessMemory(limit: number): () => void {
  if (memoryTier(limit) !== 'tight') return () => undefined;
  // Read by V8 each time it would grow the young generation, so setting it now takes effect.
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const slack = limit * BUFFER_SLACK;
  let floor = process.memoryUsage().arrayBuffers;
  const timer = setInterval(() => {
    if (process.memoryUsage().arrayBuffers < floor + slack) return;
    gc();
    floor = process.memoryUsage().arrayBuffers;
  }, GUARD_MS);
  timer.unref();
  return () => clearInterval(timer);
}
