// The ClickHouse sink: the sink toolkit (../sink) with the Native encoder for DNS_LOG and the
// store (embedded, server or endpoint) as its receiver. The store is opened (and migrated) by the
// caller, who also closes it after close() here, so the end-of-run report can still read it. A
// file input need not wait for the opening (chdb load and migrations take about a second):
// openingClickHouseOutput encodes meanwhile.
import { join } from 'node:path';
import type { Output } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import { log as rootLog, type Log } from '../../log.js';
import type { Counters } from '../../stats.js';
import { INSERT_FORMATS, type InsertBatch, type InsertFormat, type Store } from '../../store/connection.js';
import { StoppedWaiting } from '../sink/reachable.js';
import { Spool, SpoolBusyError, UnknownSpoolFormat, type SpoolCodec } from '../sink/spool.js';
import { BatchWriter, type SinkBatch, type WriterOptions } from '../sink/writer.js';
import { DNS_LOG_COLUMNS } from './columns.js';
import { FULL_QUERY_COLUMN, NativeEncoder } from './native.js';

export const NAME = 'clickhouse';

/** What a DNS_LOG batch is: its format and columns (spooled batches of older versions say theirs). */
export interface BatchMeta {
  format: InsertFormat;
  columns: readonly string[];
}

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

// Spool meta version 2 (this one) names the format, data in <seq>.native (or .rb); version 1,
// what dnslens wrote before the Native encoder, is RowBinary in <seq>.rb. Both replay.
const EXTENSION: Record<InsertFormat, string> = { Native: 'native', RowBinary: 'rb' };

export const SPOOL_CODEC: SpoolCodec<BatchMeta> = {
  describe: (meta, rows) => ({ version: 2, format: meta.format, columns: [...meta.columns], rows, createdAt: new Date().toISOString() }),
  extension: (meta) => EXTENSION[meta.format],
  extensions: Object.values(EXTENSION),
  read(json) {
    const m = json as { version?: unknown; format?: unknown; columns?: unknown; rows?: unknown };
    if (!Array.isArray(m.columns) || typeof m.rows !== 'number') throw new Error('bad meta');
    const columns = m.columns.map(String);
    if (m.version === 1) return { meta: { format: 'RowBinary', columns }, rows: m.rows };
    if (m.version === 2 && INSERT_FORMATS.includes(m.format as InsertFormat)) return { meta: { format: m.format as InsertFormat, columns }, rows: m.rows };
    throw new UnknownSpoolFormat(`version ${String(m.version)}, format ${String(m.format)}`);
  },
};

/** The spool of DNS_LOG batches in `dir` (one process at a time: SpoolBusyError otherwise). */
export function openClickHouseSpool(dir: string, opts: { maxBytes: number }): Promise<Spool<BatchMeta>> {
  return Spool.open(dir, { maxBytes: opts.maxBytes, codec: SPOOL_CODEC });
}

export type ClickHouseWriter = BatchWriter<BatchMeta>;

export interface ClickHouseWriterOptions extends Omit<WriterOptions<BatchMeta>, 'name' | 'encoder' | 'meta' | 'log' | 'isBadData'> {
  log?: Log;
  fullQuery?: boolean; // --clickhouseSaveFullQuery
}

/** The sink toolkit writing DNS_LOG through `store`. */
export function clickhouseWriter(store: Pick<Store, 'insertBatch' | 'where'>, opts: ClickHouseWriterOptions): ClickHouseWriter {
  const target = {
    get where(): string {
      return store.where;
    },
    send: (b: SinkBatch<BatchMeta>): Promise<void> => {
      const batch: InsertBatch = { columns: b.meta.columns, format: b.meta.format, rows: b.rows, data: b.data, path: b.path, token: b.token };
      return store.insertBatch(batch);
    },
  };
  return new BatchWriter(target, {
    ...opts,
    name: NAME,
    encoder: new NativeEncoder(opts.fullQuery),
    meta: { format: 'Native', columns: opts.fullQuery ? [...DNS_LOG_COLUMNS, FULL_QUERY_COLUMN] : DNS_LOG_COLUMNS },
    log: opts.log ?? rootLog,
    isBadData: (err) => {
      const code = clickhouseCode(err);
      return code !== null && BAD_DATA_CODES.has(code);
    },
  });
}

export interface ClickHouseOutputOptions extends Omit<ClickHouseWriterOptions, 'spool'> {
  spool?: boolean; // default true: <dataDir>/spool/
  spoolMaxBytes?: number; // default 4 GiB
}

export class ClickHouseOutput implements Output {
  readonly name = NAME;

  constructor(
    readonly writer: ClickHouseWriter,
    private spool: Spool<BatchMeta> | null,
  ) {}

  get counters(): Counters {
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
  attach(spool: Spool<BatchMeta> | null, batchSize: number, minBatchRows?: number): void {
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
  return new ClickHouseOutput(clickhouseWriter(store, { ...opts, spool }), spool);
}

/** Batch sizes for a store, known once it is open (see the writer's batchSize, minBatchRows). */
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
    // A failed opening is reported by write() and close(), not retried as a failed insert; one
    // stopped while the server could not be reached fails the insert, so close() need not wait.
    insertBatch: (batch: InsertBatch): Promise<void> =>
      opening.then(
        (s) => s.insertBatch(batch),
        (e: unknown) => (e instanceof StoppedWaiting ? Promise.reject(e) : new Promise<void>(() => undefined)),
      ),
  };
  const out = new ClickHouseOutput(clickhouseWriter(pending, { ...opts, spool: null }), null);
  let failure: unknown = null;
  let givenUp: Promise<void> | null = null;
  const opened = opening.then(async (s) => {
    store = s;
    const spool = await openSpool(s, opts);
    const { batchSize, minBatchRows } = sizes(s);
    out.attach(spool, batchSize, minBatchRows);
    return out;
  });
  opened.catch((e: unknown) => {
    failure = e;
    // Stopped while the server could not be reached: the writer gives up at once (what waits in
    // memory is counted as dropped, down-at-exit), which also frees a write waiting for room.
    if (e instanceof StoppedWaiting) givenUp = out.writer.close(0);
  });
  const output: Output = {
    name: out.name,
    write(events) {
      if (failure instanceof StoppedWaiting) return out.writer.refuse(events.length, 'stopped-before-connect');
      if (failure !== null) throw failure;
      return out.write(events);
    },
    async close() {
      try {
        await opened;
      } catch (e) {
        if (!(e instanceof StoppedWaiting)) throw e;
        await (givenUp ?? out.writer.close(0));
        return;
      }
      await out.close();
    },
  };
  return { output, opened };
}

async function openSpool(store: Store, opts: ClickHouseOutputOptions): Promise<Spool<BatchMeta> | null> {
  let spool: Spool<BatchMeta> | null = null;
  if (opts.spool !== false) {
    const dir = join(store.dataDir, 'spool');
    try {
      spool = await openClickHouseSpool(dir, { maxBytes: opts.spoolMaxBytes ?? 4 * 1024 ** 3 });
    } catch (err) {
      if (!(err instanceof SpoolBusyError)) throw err;
      // Another dnslens process writes this data dir's spool: queue in memory only.
      (opts.log ?? rootLog).warn({ dir, pid: err.pid }, 'ClickHouse spool in use by another process; outages are bridged in memory only');
    }
  }
  return spool;
}
