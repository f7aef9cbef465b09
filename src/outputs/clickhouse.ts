// The ClickHouse output: events -> BatchWriter -> the store (embedded, server or endpoint).
// The store is opened (and migrated) by the caller, who also closes it after close() here,
// so the end-of-run report can still read it.
import { join } from 'node:path';
import type { DnsEvent } from '../event.js';
import { log } from '../log.js';
import type { Stats } from '../stats.js';
import type { Store } from '../store/connection.js';
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
    readonly store: Store,
    readonly writer: BatchWriter, // read by the health snapshots (queue depth, insert latency)
    private readonly spool: Spool | null,
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

  async close(): Promise<void> {
    await this.writer.close();
    await this.spool?.release();
  }
}

export async function createClickHouseOutput(store: Store, opts: ClickHouseOutputOptions): Promise<ClickHouseOutput> {
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
  const writer = new BatchWriter(store, { ...opts, spool });
  return new ClickHouseOutput(store, writer, spool);
}
