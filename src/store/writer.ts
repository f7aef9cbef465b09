// Batching writer for DNS_LOG. Events are encoded as they arrive into ClickHouse Native columns
// (compact, cheap for the store to parse, and the event objects can be collected at once); one
// Native block per batch (fewer, larger blocks cost chdb less to parse), sealed by size (clickhouseBatchSize) and
// age (clickhouseDelay), and inserted one batch at a time (one insert in flight measured best on
// chdb). A batch that comes of age while an insert is in flight keeps filling until that insert
// ends: it could not go in sooner, and fewer, larger inserts cost the store less. A failed
// insert is retried with exponential backoff. While the store is down, batches wait in a
// bounded in-memory queue and beyond it in the on-disk spool, replayed in order.
// When both are full the caller waits (back-pressure); with whenFull='drop' the batch is
// dropped instead and counted in Stats.dropped('clickhouse', ...).
import type { DnsEvent } from '../event.js';
import { log } from '../log.js';
import type { Stats } from '../stats.js';
import { dnsLogColumnNames, type InsertBatch, type InsertFormat, type Store } from './connection.js';
import { NativeEncoder } from './native.js';
import type { Spool, SpoolEntry } from './spool.js';

// What the encoder below writes: every batch in memory is in this format (spooled ones say theirs).
const ENCODED: InsertFormat = 'Native';

export interface WriterOptions {
  batchSize: number; // rows per insert (--clickhouseBatchSize)
  // When no insert is in flight or queued, a batch of at least this many rows goes at once
  // instead of filling up to batchSize: the store starts sooner and the last insert of a file
  // is smaller. Default batchSize (never early).
  minBatchRows?: number;
  delayMs: number; // longest a partial batch waits (--clickhouseDelay)
  stats: Stats;
  spool?: Spool | null; // on-disk overflow; none = memory only
  maxQueueBytes?: number; // in-memory bound for sealed batches, default 256 MiB
  whenFull?: 'wait' | 'drop'; // default 'wait' (a file input can wait; a live one may prefer to drop)
  retryInitialMs?: number; // first backoff, default 250 ms
  retryMaxMs?: number; // backoff ceiling, default 30 s
  closeTimeoutMs?: number; // at close, how long a down store is waited for, default 30 s
  rejectAfter?: number; // refusals of the same batch for bad data before it is set aside, default 3
}

export interface WriterCounters {
  insertedRows: number;
  insertedBatches: number;
  failedInserts: number;
  spooledRows: number; // written to the spool
  replayedRows: number; // inserted from the spool
  rejectedRows: number;
  droppedRows: number;
}

interface MemBatch {
  seq: number;
  rows: number;
  data: Uint8Array[]; // in the chunks it was encoded in (joined by the file write)
  bytes: number;
  rejections: number;
}

type Item = { kind: 'mem'; batch: MemBatch } | { kind: 'spool'; entry: SpoolEntry };

// ClickHouse error codes that mean "this data will never go in", not "try again later".
const BAD_DATA_CODES = new Set([
  6, // CANNOT_PARSE_TEXT
  10, // NOT_FOUND_COLUMN_IN_BLOCK
  16, // NO_SUCH_COLUMN_IN_TABLE
  20, // NUMBER_OF_COLUMNS_DOESNT_MATCH
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  32, // ATTEMPT_TO_READ_AFTER_EOF
  33, // CANNOT_READ_ALL_DATA
  53, // TYPE_MISMATCH
  62, // SYNTAX_ERROR
  69, // ARGUMENT_OUT_OF_BOUND
  70, // CANNOT_CONVERT_TYPE
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
]);

/** ClickHouse's error code from a client or chdb error, or null for other failures. */
export function clickhouseCode(err: unknown): number | null {
  const e = err as { clickhouseCode?: unknown; code?: unknown; message?: unknown };
  if (typeof e?.clickhouseCode === 'number') return e.clickhouseCode;
  if (typeof e?.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  const m = typeof e?.message === 'string' ? /Code:\s*(\d+)\./.exec(e.message) : null;
  return m ? Number(m[1]) : null;
}

/** Batch size and early-start size, checked; the early size defaults to (and is capped at) the batch size. */
function sizes(batchSize: number, minBatchRows = batchSize): [number, number] {
  if (!(batchSize >= 1)) throw new Error(`clickhouseBatchSize must be at least 1 (got ${batchSize})`);
  return [batchSize, Math.min(minBatchRows, batchSize)];
}

export class BatchWriter {
  readonly counters: WriterCounters = {
    insertedRows: 0,
    insertedBatches: 0,
    failedInserts: 0,
    spooledRows: 0,
    replayedRows: 0,
    rejectedRows: 0,
    droppedRows: 0,
  };

  private readonly columns = dnsLogColumnNames();
  private spool: Spool | null;
  private batchSize: number;
  private minBatchRows: number;
  private readonly maxQueueBytes: number;
  private readonly whenFull: 'wait' | 'drop';
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly closeTimeoutMs: number;
  private readonly rejectAfter: number;

  // Rows of the batch being filled, encoded as they arrive into one Native block's columns;
  // seal() takes the block as the batch's chunks.
  private readonly encoder = new NativeEncoder();
  private pendingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  // The partial batch came of age while an insert was in flight: sealing it then would only
  // queue it behind that insert, so it keeps filling and goes as soon as the pump is free.
  private ageDue = false;
  private seq: number;

  private readonly mem: MemBatch[] = [];
  private memBytes = 0;
  private pumping = false;
  private storeDown = false;
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
    private readonly store: Pick<Store, 'insertBatch' | 'where'>,
    private readonly opts: WriterOptions,
  ) {
    if (!(opts.delayMs >= 0)) throw new Error(`clickhouseDelay must not be negative (got ${opts.delayMs})`);
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

  /** For a store that opened after this writer began (file inputs encode while it opens): its
   *  spool, whose leftovers go after the batches sealed so far, and its batch sizes. */
  attach(spool: Spool | null, batchSize: number, minBatchRows?: number): void {
    [this.batchSize, this.minBatchRows] = sizes(batchSize, minBatchRows);
    if (spool) {
      this.spool = spool;
      this.seq = Math.max(this.seq, spool.maxSeq);
    }
    if (this.pendingRows >= this.batchSize || this.startsEarly()) this.seal();
    else if (spool && spool.entries > 0) void this.pump();
  }

  /** How long the last successful insert took, in microseconds (ms resolution); null before the first. */
  get lastInsertLatencyUs(): number | null {
    return this.lastInsertUs;
  }

  /** Rows accepted but not yet in the store (being filled, queued in memory, or spooled). */
  get backlogRows(): number {
    let n = this.pendingRows;
    for (const b of this.mem) n += b.rows;
    return n + (this.spool ? this.spool.rows : 0);
  }

  /** Take events. The promise (when one is returned) resolves once there is room for more. */
  write(events: readonly DnsEvent[]): void | Promise<void> {
    if (this.closing) throw new Error('ClickHouse writer is closed');
    const n = events.length;
    if (n === 0) return;
    const now = Math.floor(Date.now() / 1000);
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
    if (this.pendingRows > 0 && this.timer === null) {
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

  /** Insert everything accepted so far; resolves when the store has it (waits out outages). */
  async flush(): Promise<void> {
    this.seal();
    await this.whenIdle();
  }

  /**
   * Flush everything and stop. If the store stays down for closeTimeoutMs, what is still in
   * memory goes to the spool (replayed at the next start), or without a spool is dropped
   * and counted as dropped('clickhouse', 'store-down-at-exit').
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    this.seal();
    this.wake?.(); // retry now rather than after the current backoff
    const started = Date.now();
    while (!this.isIdle()) {
      const downFor = this.storeDown ? Date.now() - Math.max(this.downSince, started) : 0;
      if (downFor >= this.closeTimeoutMs) break;
      await Promise.race([this.whenIdle(), sleep(Math.min(250, this.closeTimeoutMs))]);
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

  // The store has nothing to do and enough rows wait: give them now (see minBatchRows).
  private startsEarly(): boolean {
    return this.pendingRows >= this.minBatchRows && !this.pumping && this.mem.length === 0 && !(this.spool && this.spool.entries > 0);
  }

  private seal(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.ageDue = false;
    if (this.pendingRows === 0) return;
    const data = this.encoder.take();
    let bytes = 0;
    for (const c of data) bytes += c.byteLength;
    const batch: MemBatch = { seq: ++this.seq, rows: this.pendingRows, data, bytes, rejections: 0 };
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
  // it there, so the store receives batches in the order they were sealed.
  private route(bytes: number): 'memory' | 'spool' | 'full' {
    const sp = this.spool;
    if (sp && sp.entries > 0) return sp.hasRoom(bytes) ? 'spool' : 'full';
    if (this.memBytes < this.maxQueueBytes) return 'memory';
    if (sp && this.storeDown) return sp.hasRoom(bytes) ? 'spool' : 'full';
    return 'full';
  }

  private hasRoom(): boolean {
    return this.closed || this.route(0) !== 'full';
  }

  private toSpool(batch: MemBatch): void {
    const sp = this.spool!;
    sp.append(batch.seq, this.columns, batch.rows, batch.data, ENCODED).then(
      () => {
        this.counters.spooledRows += batch.rows;
        void this.pump();
      },
      (err: unknown) => {
        log.error({ err: (err as Error).message, dir: sp.dir }, 'cannot write the ClickHouse spool');
        this.drop(batch.rows, 'spool-write-failed');
        this.checkIdle();
      },
    );
  }

  private drop(rows: number, reason: string): void {
    this.counters.droppedRows += rows;
    this.opts.stats.dropped('clickhouse', reason, rows);
  }

  private nextItem(): Item | null {
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
        const batch: InsertBatch =
          item.kind === 'mem'
            ? { columns: this.columns, rows: item.batch.rows, format: ENCODED, data: item.batch.data }
            : { columns: item.entry.columns, rows: item.entry.rows, format: item.entry.format, path: item.entry.path };
        const started = Date.now();
        try {
          await this.store.insertBatch(batch);
          log.debug({ rows: batch.rows, ms: Date.now() - started, queued: this.mem.length - 1 }, 'ClickHouse insert');
        } catch (err) {
          await this.onFailure(item, err);
          continue;
        }
        if (this.storeDown) log.info({ store: this.store.where, downMs: Date.now() - this.downSince }, 'ClickHouse store is back');
        this.storeDown = false;
        this.failures = 0;
        this.counters.insertedRows += batch.rows;
        this.counters.insertedBatches++;
        this.lastInsertUs = (Date.now() - started) * 1000;
        if (item.kind === 'mem') {
          this.mem.shift();
          this.memBytes -= item.batch.bytes;
        } else {
          this.counters.replayedRows += item.entry.rows;
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

  private async onFailure(item: Item, err: unknown): Promise<void> {
    this.counters.failedInserts++;
    this.failures++;
    const code = clickhouseCode(err);
    const message = (err as Error)?.message ?? String(err);
    if (code !== null && BAD_DATA_CODES.has(code)) {
      const holder = item.kind === 'mem' ? item.batch : item.entry;
      holder.rejections++;
      if (holder.rejections >= this.rejectAfter) {
        await this.reject(item, message);
        return;
      }
    } else if (!this.storeDown) {
      this.storeDown = true;
      this.downSince = Date.now();
      log.warn({ store: this.store.where, err: message }, 'ClickHouse insert failed; retrying with backoff, queueing meanwhile');
    } else {
      log.debug({ err: message, attempt: this.failures }, 'ClickHouse insert failed again');
    }
    this.releaseRoomWaiters(false); // a down store may open the spool route
    const delay = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** Math.min(this.failures - 1, 20));
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

  // A batch the store refuses for its content: set aside (kept in the spool's rejected/ when
  // there is a spool) and counted, so one bad batch cannot stop the pipeline.
  private async reject(item: Item, message: string): Promise<void> {
    const rows = item.kind === 'mem' ? item.batch.rows : item.entry.rows;
    let kept: string | null = null;
    try {
      if (item.kind === 'mem') {
        this.mem.shift();
        this.memBytes -= item.batch.bytes;
        if (this.spool) kept = await this.spool.saveRejected(item.batch.seq, this.columns, rows, item.batch.data, ENCODED);
      } else {
        kept = await this.spool!.reject(item.entry);
      }
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'cannot keep the rejected batch');
    }
    this.counters.rejectedRows += rows;
    this.opts.stats.dropped('clickhouse', 'rejected-by-store', rows);
    log.error({ rows, err: message, keptIn: kept }, 'ClickHouse refused a batch for its content; set aside');
    this.releaseRoomWaiters(false);
  }

  private async spillOrDropAtExit(): Promise<void> {
    const batches = this.mem.splice(0);
    this.memBytes = 0;
    for (const b of batches) {
      if (this.spool) {
        try {
          await this.spool.append(b.seq, this.columns, b.rows, b.data, ENCODED);
          this.counters.spooledRows += b.rows;
          continue;
        } catch (err) {
          log.error({ err: (err as Error).message }, 'cannot write the ClickHouse spool at exit');
        }
      }
      this.drop(b.rows, 'store-down-at-exit');
    }
    const left = this.spool ? this.spool.rows : 0;
    if (left > 0) log.warn({ rows: left, dir: this.spool!.dir }, 'ClickHouse store unavailable at exit; rows kept in the spool for the next start');
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
