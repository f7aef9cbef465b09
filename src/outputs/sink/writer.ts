// The sink toolkit: what every output that sends batches somewhere shares. Events are encoded
// as they arrive by the sink's encoder (so the event objects can be collected at once), sealed
// into a batch by size (batchSize) and age (delayMs), and sent one batch at a time. A batch
// that comes of age while a send is in flight keeps filling until that send ends: it could not
// go sooner, and fewer, larger batches cost the receiver less. A failed send is retried with
// exponential backoff and jitter. While the receiver is down, batches wait in a bounded
// in-memory queue and beyond it in the optional on-disk spool, replayed in order (also after a
// restart). When both are full the caller waits (back-pressure); with whenFull='drop' the
// batch is dropped instead. Every row is counted: sent, spooled, replayed, rejected or dropped
// by reason (Stats.dropped(<sink>, reason)); close() flushes (SIGTERM ends in close()).
// A file import cuts its batches by row count alone (cut()): the same file then cuts the same way in
// every run, and each batch carries a token the receiver deduplicates on, also through the spool.
import type { LogChunk, Output, Receipt } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Log } from '../../log.js';
import { budget } from '../../memory.js';
import type { Counters, Stats } from '../../stats.js';
import { backoffMs } from './reachable.js';
import type { Spool, SpoolEntry } from './spool.js';

/** What every sink takes from its context: the run's stats, its own counters and log, its queue
 *  bound (from --memoryLimit) and the run's stop. */
export function sinkContext(ctx: { stats: Stats; counters: Counters; log: Log; run: { memoryLimit: number; signal?: AbortSignal } }): {
  stats: Stats;
  counters: Counters;
  log: Log;
  maxQueueBytes: number;
  stop?: AbortSignal;
} {
  return { stats: ctx.stats, counters: ctx.counters, log: ctx.log, maxQueueBytes: queueBound(ctx.run.memoryLimit), stop: ctx.run.signal };
}

/** The in-memory queue of a sink's sealed batches under --memoryLimit (0: none): an eighth of
 *  it, between 4 MiB and 256 MiB. Beyond it batches go to the spool, or the pipeline waits. */
export function queueBound(memoryLimit: number): number {
  return budget(memoryLimit, 1 / 8, 4 << 20, 256 << 20);
}

/** Turns events into the sink's wire format, batch by batch. */
export interface SinkEncoder {
  /** Append events to the batch being filled; nowSec is the time they are taken in. */
  encode(events: readonly DnsEvent[], nowSec: number): void;
  /** The filled batch's bytes (the encoder starts a new batch). */
  take(): Uint8Array[];
}

/** One batch as the receiver gets it: in memory (chunks) or already in a spool file. */
export interface SinkBatch<M> {
  rows: number;
  meta: M;
  data?: readonly Uint8Array[];
  path?: string;
  token?: string; // the receiver stores a batch with a token it holds already only once (see Cuts)
}

/** How a file import cuts batches: by row count alone, from the file's first row, so a run after an
 *  interrupted one cuts the same batches, and batch i has the same token (and rows) in every run. */
export interface Cuts {
  rows: number; // rows per batch; the input's last batch has the rest
  skipRows: number; // the leading rows an earlier run stored (whole batches): passed over, not sent
  nowSec: number; // the intake time written with every row, the same in every run
  token(index: number): string; // batch `index`'s token (0: the file's first rows)
}

/** Where batches go. */
export interface SinkTarget<M> {
  readonly where: string; // for logs
  /** Resolves once the receiver took the batch; `refused` rows of it were refused one by one
   *  (an item of a bulk request): counted as rejected, not sent. */
  send(batch: SinkBatch<M>): Promise<void | { refused: number }>;
}

/** A send failure may say when to try again (an HTTP Retry-After): the backoff waits at least
 *  that long, up to retryMaxMs. */
export interface RetryHint {
  retryAfterMs?: number;
}

/** The counters every sink reports (Context.counters), with their labels in the summary. */
export const SINK_COUNTERS: Readonly<Record<string, string>> = {
  sent: 'rows sent', // the receiver took them
  batches: 'batches sent',
  failed: 'failed sends', // each is retried
  retried: 'retries',
  spooled: 'rows spooled', // written to the on-disk spool while the receiver was down
  replayed: 'rows replayed', // sent from the spool
  rejected: 'rows rejected', // refused by the receiver for their content, set aside
  dropped: 'rows dropped', // by reason under "dropped or filtered"
  resumed: 'rows stored by an earlier run', // a resumed import passed over them (Cuts.skipRows)
};

export interface WriterOptions<M> {
  name: string; // the sink: drop reasons are counted as <name>:<reason>
  encoder: SinkEncoder;
  meta: M; // what a batch the encoder makes is (kept beside spooled batches)
  stats: Stats;
  counters?: Counters; // the sink's own (default: stats.counters(name))
  log: Log;
  batchSize: number; // rows per batch
  // When nothing is in flight or queued, a batch of at least this many rows goes at once
  // instead of filling up to batchSize: the receiver starts sooner and the last batch of a file
  // is smaller. Default batchSize (never early).
  minBatchRows?: number;
  delayMs: number; // longest a partial batch waits
  spool?: Spool<M> | null; // on-disk overflow; none = memory only
  maxQueueBytes?: number; // in-memory bound for sealed batches (queueBound()), default 256 MiB
  // The run's stop (SIGINT/SIGTERM): after it, close() gives the backlog closeTimeoutMs in all,
  // to a slow receiver too, so a service manager's stop timeout never kills it mid-flush.
  stop?: AbortSignal;
  whenFull?: 'wait' | 'drop'; // default 'wait' (a file input can wait; a live one may prefer to drop)
  retryInitialMs?: number; // first backoff, default 250 ms
  retryMaxMs?: number; // backoff ceiling, default 30 s
  closeTimeoutMs?: number; // at close, how long a down receiver is waited for, default 30 s
  rejectAfter?: number; // refusals of the same batch for bad data before it is set aside, default 3
  /** True when the receiver refused the batch for its content (it will never go in). */
  isBadData?: (err: unknown) => boolean;
  /** After the receiver took a batch (a file import records its progress); not awaited. */
  onSent?: (batch: { rows: number; token?: string }) => void;
  /** After the receiver refused a batch for its content and it was set aside (counted as rejected). */
  onSetAside?: (batch: { rows: number; token?: string }) => void;
}

interface MemBatch {
  seq: number;
  token?: string;
  rows: number;
  data: Uint8Array[]; // in the chunks it was encoded in (joined by the file write)
  bytes: number;
  rejections: number;
}

type Item<M> = { kind: 'mem'; batch: MemBatch } | { kind: 'spool'; entry: SpoolEntry<M> };

/** Batch size and early-start size, checked; the early size defaults to (and is capped at) the batch size. */
function sizes(batchSize: number, minBatchRows = batchSize): [number, number] {
  if (!(batchSize >= 1)) throw new Error(`batch size must be at least 1 (got ${batchSize})`);
  return [batchSize, Math.min(minBatchRows, batchSize)];
}

export class BatchWriter<M> {
  readonly counters: Counters;
  private spool: Spool<M> | null;
  private batchSize: number;
  private minBatchRows: number;
  private readonly maxQueueBytes: number;
  private readonly whenFull: 'wait' | 'drop';
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly closeTimeoutMs: number;
  private readonly rejectAfter: number;

  private readonly encoder: SinkEncoder; // holds the batch being filled; seal() takes it
  private pendingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  // The partial batch came of age while an insert was in flight: sealing it then would only
  // queue it behind that insert, so it keeps filling and goes as soon as the pump is free.
  private ageDue = false;
  private seq: number;
  private cuts: Cuts | null = null;
  private skipLeft = 0; // rows still to pass over (Cuts.skipRows)
  private cutIndex = 0; // the next batch's index under cuts

  private readonly mem: MemBatch[] = [];
  private memBytes = 0;
  private pumping = false;
  private receiverDown = false;
  private downSince = 0;
  private failures = 0;
  private wake: (() => void) | null = null; // cuts a backoff sleep short
  private stopPump = false;
  private closing = false;
  private closed = false;
  private roomWaiters: (() => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private lastInsertUs: number | null = null;

  constructor(
    private readonly target: SinkTarget<M>,
    private readonly opts: WriterOptions<M>,
  ) {
    if (!(opts.delayMs >= 0)) throw new Error(`batch delay must not be negative (got ${opts.delayMs})`);
    this.encoder = opts.encoder;
    this.counters = opts.counters ?? opts.stats.counters(opts.name, SINK_COUNTERS);
    this.counters.gauge('queued', () => this.backlogRows);
    this.counters.gauge('latencyUs', () => this.lastInsertUs);
    this.spool = opts.spool ?? null;
    [this.batchSize, this.minBatchRows] = sizes(opts.batchSize, opts.minBatchRows);
    this.maxQueueBytes = opts.maxQueueBytes ?? 256 * 1024 * 1024;
    this.whenFull = opts.whenFull ?? 'wait';
    this.retryInitialMs = opts.retryInitialMs ?? 250;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 30_000;
    this.rejectAfter = opts.rejectAfter ?? 3;
    this.seq = this.spool ? this.spool.maxSeq : 0;
    if (this.spool && this.spool.entries > 0) void this.pump(); // replay what the last run left
  }

  /** For a receiver that opened after this writer began (file inputs encode while it opens): its
   *  spool, whose leftovers go after the batches sealed so far, and its batch sizes. */
  attach(spool: Spool<M> | null, batchSize: number, minBatchRows?: number): void {
    if (!this.cuts) [this.batchSize, this.minBatchRows] = sizes(batchSize, minBatchRows);
    if (spool) {
      this.spool = spool;
      this.seq = Math.max(this.seq, spool.maxSeq);
    }
    if (this.pendingRows >= this.batchSize || this.startsEarly()) this.seal();
    else if (spool && spool.entries > 0) void this.pump();
  }

  /** From now on, batches are cut by row count alone and carry tokens (a file import). Call it
   *  before the first write: the batch being filled must be empty. */
  cut(cuts: Cuts): void {
    if (this.pendingRows > 0) throw new Error('cut() after rows were written');
    if (!(cuts.rows >= 1) || cuts.skipRows % cuts.rows !== 0) throw new Error(`bad cuts: ${cuts.skipRows} rows to skip in batches of ${cuts.rows}`);
    this.cuts = cuts;
    [this.batchSize, this.minBatchRows] = sizes(cuts.rows);
    this.skipLeft = cuts.skipRows;
    this.cutIndex = cuts.skipRows / cuts.rows;
  }

  /** Batches cut so far under cut(), those passed over included: the next one's index. */
  get batchesCut(): number {
    return this.cutIndex;
  }

  /** Forget the rows of the batch being filled (an interrupted file import: a later run cuts them
   *  again), counted as dropped for `reason`. */
  discardPending(reason: string): void {
    if (this.pendingRows === 0) return;
    this.encoder.take();
    this.drop(this.pendingRows, reason);
    this.pendingRows = 0;
  }

  /** Count rows the sink was given but will not take (e.g. after a file import was stopped). */
  refuse(rows: number, reason: string): void {
    if (rows > 0) this.drop(rows, reason);
  }

  /** How long the last successful send took, in microseconds (ms resolution); null before the first. */
  get lastInsertLatencyUs(): number | null {
    return this.lastInsertUs;
  }

  /** Rows accepted but not yet sent (being filled, queued in memory, or spooled). */
  get backlogRows(): number {
    let n = this.pendingRows;
    for (const b of this.mem) n += b.rows;
    return n + (this.spool ? this.spool.rows : 0);
  }

  /** Take events. The promise (when one is returned) resolves once there is room for more. */
  write(events: readonly DnsEvent[]): void | Promise<void> {
    if (this.closing) throw new Error(`${this.opts.name} output is closed`);
    if (this.skipLeft > 0) {
      const skip = Math.min(this.skipLeft, events.length);
      this.skipLeft -= skip;
      this.counters.add('resumed', skip);
      events = skip === events.length ? [] : events.slice(skip);
    }
    const n = events.length;
    if (n === 0) return;
    const now = this.cuts ? this.cuts.nowSec : Math.floor(Date.now() / 1000);
    const size = this.batchSize;
    let i = 0;
    while (i < n) {
      const take = Math.min(n - i, size - this.pendingRows);
      const part = i === 0 && take === n ? events : events.slice(i, i + take);
      this.encoder.encode(part, now);
      this.pendingRows += take;
      i += take;
      if (this.pendingRows >= size) this.seal();
    }
    if (this.startsEarly()) this.seal();
    if (this.pendingRows > 0 && this.timer === null && !this.cuts) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.pumping && !this.closing) this.ageDue = true;
        else this.seal();
      }, this.opts.delayMs);
    }
    // Under 'drop' a full queue drops at seal time, so the caller never waits.
    if (this.whenFull === 'drop' || this.hasRoom()) return;
    return new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Events that go as one batch of their own, sealed at once under this token (a log chunk, named
   *  by its range of the file, so a chunk cut again after a crash is recognised by the receiver);
   *  nowSec is the intake time of its rows. Rows being filled go first, as a batch without token. */
  writeSealed(events: readonly DnsEvent[], token: string, nowSec: number): void | Promise<void> {
    if (this.closing) throw new Error(`${this.opts.name} output is closed`);
    if (this.cuts) throw new Error('writeSealed() in a file import');
    if (events.length === 0) return;
    if (this.pendingRows > 0) this.seal();
    this.encoder.encode(events, nowSec);
    this.pendingRows = events.length;
    this.seal(token);
    if (this.whenFull === 'drop' || this.hasRoom()) return;
    return new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  /** Send everything accepted so far (under cuts: the batches cut so far); resolves when the
   *  receiver has it (waits out outages). */
  async flush(): Promise<void> {
    if (!this.cuts) this.seal();
    await this.whenIdle();
  }

  /**
   * Flush everything and stop. If the receiver stays down for closeTimeoutMs, what is still in
   * memory goes to the spool (replayed at the next start), or without a spool is dropped
   * and counted as dropped(<name>, 'down-at-exit'). waitMs (default closeTimeoutMs) 0: the
   * receiver is not waited for at all (it never came up before a stop); a send in flight must end.
   */
  async close(waitMs = this.closeTimeoutMs): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    this.seal();
    this.wake?.(); // retry now rather than after the current backoff
    const started = Date.now();
    while (!this.isIdle()) {
      const downFor = this.receiverDown ? Date.now() - Math.max(this.downSince, started) : 0;
      if (downFor >= waitMs) break;
      if (this.opts.stop?.aborted && Date.now() - started >= waitMs) break; // slow, after a stop
      await Promise.race([this.whenIdle(), sleep(Math.min(250, waitMs))]);
    }
    if (!this.isIdle()) {
      this.stopPump = true;
      this.wake?.();
      while (this.pumping) await sleep(20);
      await this.spillOrDropAtExit();
    }
    if (this.spool) await this.spool.settled();
    this.closed = true;
    this.releaseRoomWaiters(true);
  }

  // -------------------------------------------------------------------------------------------

  // The receiver has nothing to do and enough rows wait: give them now (see minBatchRows).
  private startsEarly(): boolean {
    return !this.cuts && this.pendingRows >= this.minBatchRows && !this.pumping && this.mem.length === 0 && !(this.spool && this.spool.entries > 0);
  }

  private seal(token?: string): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.ageDue = false;
    if (this.pendingRows === 0) return;
    const data = this.encoder.take();
    let bytes = 0;
    for (const c of data) bytes += c.byteLength;
    const batch: MemBatch = { seq: ++this.seq, token: token ?? this.cuts?.token(this.cutIndex++), rows: this.pendingRows, data, bytes, rejections: 0 };
    this.pendingRows = 0;

    const route = this.route(batch.bytes);
    if (route === 'spool') {
      this.toSpool(batch);
    } else if (route === 'memory' || this.whenFull === 'wait') {
      // 'full' under 'wait': keep it (the bound is exceeded by at most this batch) and
      // make the caller wait; write() checks hasRoom() after sealing.
      this.mem.push(batch);
      this.memBytes += batch.bytes;
    } else {
      this.drop(batch.rows, this.spool ? 'spool-full' : 'queue-full');
    }
    void this.pump();
  }

  // Where the next sealed batch goes. Once the spool holds anything, new batches queue behind
  // it there, so the receiver gets batches in the order they were sealed.
  private route(bytes: number): 'memory' | 'spool' | 'full' {
    const sp = this.spool;
    if (sp && sp.entries > 0) return sp.hasRoom(bytes) ? 'spool' : 'full';
    if (this.memBytes < this.maxQueueBytes) return 'memory';
    if (sp && this.receiverDown) return sp.hasRoom(bytes) ? 'spool' : 'full';
    return 'full';
  }

  private hasRoom(): boolean {
    return this.closed || this.route(0) !== 'full';
  }

  private toSpool(batch: MemBatch): void {
    const sp = this.spool!;
    sp.append(batch.seq, batch.rows, this.opts.meta, batch.data, batch.token).then(
      () => {
        this.counters.add('spooled', batch.rows);
        void this.pump();
      },
      (err: unknown) => {
        this.opts.log.error({ err: (err as Error).message, dir: sp.dir }, 'cannot write the spool');
        this.drop(batch.rows, 'spool-write-failed');
        this.checkIdle();
      },
    );
  }

  private drop(rows: number, reason: string): void {
    this.counters.add('dropped', rows);
    this.opts.stats.dropped(this.opts.name, reason, rows);
  }

  private nextItem(): Item<M> | null {
    if (this.mem.length > 0) return { kind: 'mem', batch: this.mem[0] };
    const e = this.spool?.oldest();
    return e ? { kind: 'spool', entry: e } : null;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.stopPump) {
        let item = this.nextItem();
        if (!item && (this.ageDue || this.pendingRows >= this.minBatchRows)) {
          this.seal();
          item = this.nextItem();
        }
        if (!item) break;
        const batch: SinkBatch<M> =
          item.kind === 'mem'
            ? { rows: item.batch.rows, meta: this.opts.meta, data: item.batch.data, token: item.batch.token }
            : { rows: item.entry.rows, meta: item.entry.meta, path: item.entry.path, token: item.entry.token };
        const started = Date.now();
        if (this.failures > 0) this.counters.add('retried');
        let refused = 0;
        try {
          refused = (await this.target.send(batch))?.refused ?? 0;
          this.opts.log.debug({ rows: batch.rows, ms: Date.now() - started, queued: this.mem.length - 1 }, 'batch sent');
        } catch (err) {
          await this.onFailure(item, err);
          continue;
        }
        if (this.receiverDown) this.opts.log.info({ to: this.target.where, downMs: Date.now() - this.downSince }, 'receiver is back');
        this.receiverDown = false;
        this.failures = 0;
        this.counters.add('sent', batch.rows - refused);
        if (refused > 0) {
          this.counters.add('rejected', refused);
          this.opts.stats.dropped(this.opts.name, 'rejected-by-receiver', refused);
        }
        this.counters.add('batches');
        this.lastInsertUs = (Date.now() - started) * 1000;
        this.opts.onSent?.({ rows: batch.rows, token: batch.token });
        if (item.kind === 'mem') {
          this.mem.shift();
          this.memBytes -= item.batch.bytes;
        } else {
          this.counters.add('replayed', item.entry.rows);
          await this.spool!.remove(item.entry);
        }
        this.releaseRoomWaiters(false);
      }
    } finally {
      this.pumping = false;
      this.releaseRoomWaiters(false);
      this.checkIdle();
    }
  }

  private async onFailure(item: Item<M>, err: unknown): Promise<void> {
    this.counters.add('failed');
    this.failures++;
    const message = (err as Error)?.message ?? String(err);
    if (this.opts.isBadData?.(err)) {
      const holder = item.kind === 'mem' ? item.batch : item.entry;
      holder.rejections++;
      if (holder.rejections >= this.rejectAfter) {
        await this.reject(item, message);
        return;
      }
    } else if (!this.receiverDown) {
      this.receiverDown = true;
      this.downSince = Date.now();
      this.opts.log.warn({ to: this.target.where, err: message }, 'send failed; retrying with backoff, queueing meanwhile');
    } else {
      this.opts.log.debug({ err: message, attempt: this.failures }, 'send failed again');
    }
    this.releaseRoomWaiters(false); // a down receiver may open the spool route
    // Exponential backoff with jitter (between half and all of the step), so many sensors
    // that lost one receiver do not all come back at the same instant.
    const hint = (err as RetryHint | null)?.retryAfterMs ?? 0;
    const delay = Math.min(Math.max(backoffMs(this.failures, this.retryInitialMs, this.retryMaxMs), hint), this.retryMaxMs);
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, delay);
      function done(): void {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
    this.wake = null;
  }

  // A batch the receiver refuses for its content: set aside (kept in the spool's rejected/ when
  // there is a spool) and counted, so one bad batch cannot stop the pipeline.
  private async reject(item: Item<M>, message: string): Promise<void> {
    const rows = item.kind === 'mem' ? item.batch.rows : item.entry.rows;
    const token = item.kind === 'mem' ? item.batch.token : item.entry.token;
    let kept: string | null = null;
    try {
      if (item.kind === 'mem') {
        this.mem.shift();
        this.memBytes -= item.batch.bytes;
        if (this.spool) kept = await this.spool.saveRejected(item.batch.seq, rows, this.opts.meta, item.batch.data, item.batch.token);
      } else {
        kept = await this.spool!.reject(item.entry);
      }
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'cannot keep the rejected batch');
    }
    this.failures = 0; // the next batch's first send is not a retry
    this.counters.add('rejected', rows);
    this.opts.stats.dropped(this.opts.name, 'rejected-by-receiver', rows);
    this.opts.log.error({ rows, err: message, keptIn: kept }, 'the receiver refused a batch for its content; set aside');
    this.opts.onSetAside?.({ rows, token });
    this.releaseRoomWaiters(false);
  }

  private async spillOrDropAtExit(): Promise<void> {
    const batches = this.mem.splice(0);
    this.memBytes = 0;
    for (const b of batches) {
      if (this.spool) {
        try {
          await this.spool.append(b.seq, b.rows, this.opts.meta, b.data, b.token);
          this.counters.add('spooled', b.rows);
          continue;
        } catch (err) {
          this.opts.log.error({ err: (err as Error).message }, 'cannot write the spool at exit');
        }
      }
      this.drop(b.rows, this.receiverDown ? 'down-at-exit' : 'slow-at-exit');
    }
    const left = this.spool ? this.spool.rows : 0;
    if (left > 0) this.opts.log.warn({ rows: left, dir: this.spool!.dir }, 'receiver unavailable at exit; rows kept in the spool for the next start');
  }

  private isIdle(): boolean {
    return this.pendingRows === 0 && this.mem.length === 0 && (!this.spool || this.spool.entries === 0) && !this.pumping;
  }

  private whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  private releaseRoomWaiters(all: boolean): void {
    if (this.roomWaiters.length === 0 || (!all && !this.hasRoom())) return;
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of w) r();
  }
}

/** Receipts (component.ts) of batches given to a writer, by token: settled when the writer's
 *  onSent or onSetAside names that token. A token given twice (a message delivered again while
 *  the first delivery was still on its way) is settled by whichever batch goes first. */
export class Receipts {
  private readonly byToken = new Map<string, Receipt[]>();

  /** The events go as one batch of their own under the receipt's token. */
  write<M>(writer: BatchWriter<M>, events: readonly DnsEvent[], receipt: Receipt): void | Promise<void> {
    const waiting = this.byToken.get(receipt.token);
    if (waiting) waiting.push(receipt);
    else this.byToken.set(receipt.token, [receipt]);
    return writer.writeSealed(events, receipt.token, receipt.nowSec);
  }

  /** For the writer's onSent and onSetAside. */
  done(batch: { token?: string }): void {
    const waiting = batch.token === undefined ? undefined : this.byToken.get(batch.token);
    if (!waiting) return;
    this.byToken.delete(batch.token!);
    for (const r of waiting) r.settled();
  }
}

/** out, confirming: a batch that comes with a receipt goes through receipts to writer (the writer
 *  behind out, made with receipts.done as its onSent and onSetAside); the rest as out takes it. */
export function confirming<M>(out: Output, writer: BatchWriter<M>, receipts: Receipts): Output {
  return {
    name: out.name,
    confirms: true,
    write: (events: readonly DnsEvent[], chunk?: LogChunk, receipt?: Receipt) => (receipt ? receipts.write(writer, events, receipt) : out.write(events, chunk)),
    close: () => out.close(),
    inputEnded: () => out.inputEnded?.(),
    get ended() {
      return out.ended;
    },
  };
}

/** An output that writes through a BatchWriter to target; release() runs once the writer is
 *  closed (it closes the target's connections). It confirms receipts (see Receipts). */
export function writerOutput<M>(target: SinkTarget<M>, opts: WriterOptions<M>, release: () => void | Promise<void>): Output & { readonly writer: BatchWriter<M> } {
  const receipts = new Receipts();
  const done = (b: { rows: number; token?: string }, then?: (b: { rows: number; token?: string }) => void): void => {
    then?.(b);
    receipts.done(b);
  };
  const writer = new BatchWriter<M>(target, { ...opts, onSent: (b) => done(b, opts.onSent), onSetAside: (b) => done(b, opts.onSetAside) });
  return {
    name: opts.name,
    writer,
    confirms: true,
    write: (events: readonly DnsEvent[], _chunk?: LogChunk, receipt?: Receipt) => (receipt ? receipts.write(writer, events, receipt) : writer.write(events)),
    async close() {
      try {
        await writer.close();
      } finally {
        await release();
      }
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
