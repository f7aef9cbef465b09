// The ClickHouse output: events -> BatchWriter -> the store (embedded, server or endpoint).
// The store is opened (and migrated) by the caller, who also closes it after close() here,
// so the end-of-run report can still read it. A file input need not wait for the opening (chdb
// load and migrations take about a second): openingClickHouseOutput encodes meanwhile.
import { join } from 'node:path';
import type { DnsEvent } from '../event.js';
import { log } from '../log.js';
import type { Stats } from '../stats.js';
import type { InsertBatch, Store } from '../store/connection.js';
import { Spool, SpoolBusyError } from '../store/spool.js';
import { BatchWriter, type WriterCounters, type WriterOptions } from '../store/writer.js';
import type { Output } from './output.js';

export interface ClickHouseOutputOptions extends Omit<WriterOptions, 'spool' | 'stats'> {
  stats: Stats;
  spool?: boolean; // default true: <dataDir>/spool/
  spoolMaxBytes?: number; // default 4 GiB
}

export class ClickHouseOutput implements Output {
  readonly name = 'clickhouse';

  constructor(
    readonly writer: BatchWriter, // read by the health snapshots (queue depth, insert latency)
    private spool: Spool | null,
  ) {}

  get counters(): WriterCounters {
    return this.writer.counters;
  }

  write(events: readonly DnsEvent[]): void | Promise<void> {
    return this.writer.write(events);
  }

  /** Insert everything so far (e.g. before a report), keep running. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** The spool and batch sizes of a store that opened after the writer began. */
  attach(spool: Spool | null, batchSize: number, minBatchRows?: number): void {
    this.spool = spool;
    this.writer.attach(spool, batchSize, minBatchRows);
  }

  async close(): Promise<void> {
    await this.writer.close();
    await this.spool?.release();
  }
}

export async function createClickHouseOutput(store: Store, opts: ClickHouseOutputOptions): Promise<ClickHouseOutput> {
  const spool = await openSpool(store, opts);
  return new ClickHouseOutput(new BatchWriter(store, { ...opts, spool }), spool);
}

/** Batch sizes for a store, known once it is open (see BatchWriter's batchSize, minBatchRows). */
export type BatchSizes = (store: Store) => { batchSize: number; minBatchRows?: number };

/**
 * The ClickHouse output of a store that is still opening. Events are encoded as they come, so
 * they do not wait as objects (600k of them cost a 290 MB heap and long collections); inserts
 * wait for the store, and its spool and batch sizes apply once it is open. If the opening
 * fails, the next write and the close fail with its error.
 */
export function openingClickHouseOutput(
  opening: Promise<Store>,
  opts: ClickHouseOutputOptions,
  sizes: BatchSizes,
): { output: Output; opened: Promise<ClickHouseOutput> } {
  let store: Store | null = null;
  const pending = {
    get where(): string {
      return store?.where ?? 'the ClickHouse store (opening)';
    },
    // A failed opening is reported by write() and close(), not retried as a failed insert.
    insertBatch: (batch: InsertBatch): Promise<void> =>
      opening.then(
        (s) => s.insertBatch(batch),
        () => new Promise<void>(() => undefined),
      ),
  };
  const out = new ClickHouseOutput(new BatchWriter(pending, { ...opts, spool: null }), null);
  let failure: unknown = null;
  const opened = opening.then(async (s) => {
    store = s;
    const spool = await openSpool(s, opts);
    const { batchSize, minBatchRows } = sizes(s);
    out.attach(spool, batchSize, minBatchRows);
    return out;
  });
  opened.catch((e: unknown) => {
    failure = e;
  });
  const output: Output = {
    name: out.name,
    write(events) {
      if (failure !== null) throw failure;
      return out.write(events);
    },
    async close() {
      await opened;
      await out.close();
    },
  };
  return { output, opened };
}

async function openSpool(store: Store, opts: ClickHouseOutputOptions): Promise<Spool | null> {
  let spool: Spool | null = null;
  if (opts.spool !== false) {
    const dir = join(store.dataDir, 'spool');
    try {
      spool = await Spool.open(dir, { maxBytes: opts.spoolMaxBytes ?? 4 * 1024 ** 3 });
    } catch (err) {
      if (!(err instanceof SpoolBusyError)) throw err;
      // Another dnslens process writes this data dir's spool: queue in memory only.
      log.warn({ dir, pid: err.pid }, 'ClickHouse spool in use by another process; outages are bridged in memory only');
    }
  }
  return spool;
}
