// input → decode → outputs. Data flows one way; each output sees every batch once.
import type { DnsEvent } from './event.js';
import type { Frame } from './inputs/frame.js';
import { decodeFrame, type DecodeContext } from './decode/packet.js';
import type { Output } from './outputs/output.js';

export interface PipelineOptions {
  frames: AsyncIterable<Frame[]>;
  ctx: DecodeContext;
  outputs: Output[];
  packetLimit?: number; // stop after this many packets (0 = no limit)
  signal?: AbortSignal; // stop reading (SIGINT/SIGTERM); outputs are still flushed by the caller
  onBatch?: () => void; // progress hook
}

export async function runPipeline(opts: PipelineOptions): Promise<void> {
  const { ctx, outputs } = opts;
  const limit = opts.packetLimit ?? 0;
  for await (const frames of opts.frames) {
    const events: DnsEvent[] = [];
    let n = frames.length;
    if (limit > 0 && ctx.stats.packets >= limit) {
      // The reader counted the whole batch; keep only what fits under the limit.
      const over = ctx.stats.packets - limit;
      n = Math.max(0, frames.length - over);
      ctx.stats.packets -= frames.length - n;
    }
    for (let i = 0; i < n; i++) decodeFrame(frames[i], ctx, events);
    if (events.length > 0) await writeAll(outputs, events);
    opts.onBatch?.();
    if (opts.signal?.aborted || (limit > 0 && ctx.stats.packets >= limit)) break;
  }
}

async function writeAll(outputs: Output[], events: DnsEvent[]): Promise<void> {
  if (outputs.length === 1) {
    await outputs[0].write(events);
    return;
  }
  const pending: Promise<void>[] = [];
  for (const o of outputs) {
    const r = o.write(events);
    if (r) pending.push(r);
  }
  if (pending.length) await Promise.all(pending);
}
