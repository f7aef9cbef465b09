// sources → decode (packets only) → transforms → outputs. Data flows one way; each output sees
// every batch once.
import { chunkOf, receiptOf, type EventTransform, type LogChunk, type Output, type Receipt } from '../component.js';
import type { DnsEvent } from '../event.js';
import type { Frame } from '../frame.js';
import { decodeFrame, finishDecode, type DecodeContext } from '../decode/packet.js';

/** An input's feed as the pipeline reads it: frames with the context they are decoded in, or ready-made events. */
export type Source =
  | { kind: 'frames'; frames: AsyncIterable<Frame[]>; ctx: DecodeContext }
  | { kind: 'events'; events: AsyncIterable<DnsEvent[]>; transformed?: boolean };

export interface PipelineOptions {
  sources: Source[];
  transforms?: EventTransform[];
  outputs: Output[];
  packetLimit?: number; // stop after this many packets, over all frame sources (0 = no limit)
  signal?: AbortSignal; // stop reading (SIGINT/SIGTERM); outputs are still flushed by the caller
  onBatch?: () => void; // progress hook
  // Live inputs (capture time is now): let the transforms' clocks move this often even when no
  // traffic comes, so a query that is never answered still goes out. Files replay without it.
  tickMs?: number;
}

const TURN_MS = 4; // longest stretch of decoding without letting I/O callbacks run

export async function runPipeline(opts: PipelineOptions): Promise<void> {
  const { outputs } = opts;
  const transforms = opts.transforms ?? [];
  const limit = opts.packetLimit ?? 0;
  const emit = async (events: DnsEvent[], from = 0, chunk?: LogChunk, receipt?: Receipt): Promise<void> => {
    for (let i = from; i < transforms.length && events.length > 0; i++) events = transforms[i].apply(events);
    if (events.length > 0) await writeAll(outputs, events, chunk, receipt);
    else receipt?.settled(); // nothing left to store
  };
  let stopped = false;
  const ticks = opts.tickMs && opts.tickMs > 0 ? idleTicks(opts.tickMs, transforms, emit) : null;
  try {
    await readAll();
  } finally {
    await ticks?.stop();
  }
  async function readAll(): Promise<void> {
    // Batches read from a buffered chunk follow each other as microtasks: I/O callbacks (a store
    // opening, an insert ending) would wait for the next disk read, ~25 ms. Give them a turn often.
    let turnAt = performance.now() + TURN_MS;
    for await (const [source, batch] of merge(opts.sources)) {
      if (performance.now() >= turnAt) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        turnAt = performance.now() + TURN_MS;
      }
      await ticks?.enter();
      if (source.kind === 'events') {
        const events = batch as DnsEvent[];
        await emit(events, source.transformed ? transforms.length : 0, chunkOf(events), receiptOf(events));
      } else {
        const frames = batch as Frame[];
        const ctx = source.ctx;
        const events: DnsEvent[] = [];
        let n = frames.length;
        if (limit > 0 && ctx.stats.packets >= limit) {
          // The reader counted the whole batch; keep only what fits under the limit.
          const over = ctx.stats.packets - limit;
          n = Math.max(0, frames.length - over);
          ctx.stats.packets -= frames.length - n;
          if (ctx.stats.packets >= limit) stopped = true;
        }
        for (let i = 0; i < n; i++) decodeFrame(frames[i], ctx, events);
        await emit(events);
      }
      ticks?.leave();
      opts.onBatch?.();
      if (opts.signal?.aborted || stopped) break;
    }
  }
  // End of input: what the decoders hold (fragments, TCP streams), then what each transform holds.
  for (const s of opts.sources) {
    if (s.kind !== 'frames') continue;
    const events: DnsEvent[] = [];
    finishDecode(s.ctx, events);
    await emit(events);
  }
  for (let i = 0; i < transforms.length; i++) {
    const held = transforms[i].flush?.() ?? [];
    await emit(held, i + 1);
  }
}

type Batch = Frame[] | DnsEvent[];

/** Batches of every source as they come; one source is iterated directly. */
async function* merge(sources: Source[]): AsyncGenerator<[Source, Batch]> {
  const iterOf = (s: Source): AsyncIterator<Batch> =>
    (s.kind === 'frames' ? s.frames : s.events)[Symbol.asyncIterator]() as AsyncIterator<Batch>;
  if (sources.length === 1) {
    const it = iterOf(sources[0]);
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) yield [sources[0], r.value];
    } finally {
      await it.return?.();
    }
    return;
  }
  const iters = sources.map(iterOf);
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<Batch> }>>();
  const pull = (i: number) => pending.set(i, iters[i].next().then((r) => ({ i, r })));
  sources.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      pull(i);
      yield [sources[i], r.value];
    }
  } finally {
    await Promise.all([...pending.keys()].map((i) => iters[i].return?.()));
  }
}

/**
 * Every tickMs, while no batch is being handled, each transform's tick() runs and what it releases
 * goes on. A batch that arrives meanwhile waits for that to finish (outputs see one writer at a time).
 */
function idleTicks(tickMs: number, transforms: EventTransform[], emit: (events: DnsEvent[], from: number) => Promise<void>) {
  let busy = false;
  let ticking: Promise<void> | null = null;
  let failure: unknown = null;
  const timer = setInterval(() => {
    if (busy || ticking !== null) return;
    ticking = (async () => {
      const now = Date.now();
      for (let i = 0; i < transforms.length; i++) {
        const held = transforms[i].tick?.(now);
        if (held && held.length > 0) await emit(held, i + 1);
      }
    })()
      .catch((e: unknown) => {
        failure ??= e;
      })
      .finally(() => {
        ticking = null;
      });
  }, tickMs);
  timer.unref();
  return {
    async enter(): Promise<void> {
      if (ticking !== null) await ticking;
      if (failure !== null) throw failure;
      busy = true;
    },
    leave(): void {
      busy = false;
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      if (ticking !== null) await ticking;
    },
  };
}

async function writeAll(outputs: Output[], events: DnsEvent[], chunk: LogChunk | undefined, receipt?: Receipt): Promise<void> {
  if (receipt) return writeReceipted(outputs, events, chunk, receipt);
  if (outputs.length === 1) {
    await outputs[0].write(events, chunk);
    return;
  }
  const pending: Promise<void>[] = [];
  for (const o of outputs) {
    const r = o.write(events, chunk);
    if (r) pending.push(r);
  }
  if (pending.length) await Promise.all(pending);
}

// Each output gets a share of the receipt; the input's is settled once every share is. An output
// that cannot confirm has its share settled when its write() returned: as far as it can tell.
async function writeReceipted(outputs: Output[], events: DnsEvent[], chunk: LogChunk | undefined, receipt: Receipt): Promise<void> {
  let left = outputs.length;
  const share: Receipt = {
    token: receipt.token,
    nowSec: receipt.nowSec,
    settled: () => {
      if (--left === 0) receipt.settled();
    },
  };
  const pending: Promise<void>[] = [];
  for (const o of outputs) {
    const r = o.write(events, chunk, o.confirms ? share : undefined);
    if (!o.confirms) pending.push(Promise.resolve(r).then(share.settled));
    else if (r) pending.push(r);
  }
  await Promise.all(pending);
}
