// Read positions of resolver logs in the store (migration 0017): where each log file's stored events
// end, and the chunks of lines cut since, recorded before their events go out. A chunk's events are
// one insert whose token names the file and the range, so after a crash the input cuts the recorded
// chunks again at the same offsets: one that was stored is dropped by the store (insert
// deduplication, as for file imports: src/store/connection.ts), one that was not is stored now.
import { randomUUID } from 'node:crypto';
import type { LogChunk, LogLedger, LogRecord, Output } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Log } from '../../log.js';
import { quoteIdent, sqlString, type Store } from '../../store/connection.js';
import { selectRows } from '../../store/statements.js';
import type { ClickHouseOutput } from './output.js';

type Num = string | number;

interface RecordRow {
  ImportId: string;
  Version: Num;
  State: 'partial' | 'complete';
  LogOffset: Num;
  LogHoldFrom: Num;
  Rows: Num;
  Batches: Num;
  StartedMs: Num;
}

const hourOf = (ms: number) => Math.floor(ms / 3_600_000) * 3600;

class StoredLogRecord implements LogRecord {
  readonly pending: { start: number; end: number; indexTimeSec: number }[];
  resumeAt: number;
  holdFrom: number;
  complete: boolean;
  private version: number;
  private rows: number;
  private batches: number;
  private endAt = -1; // offset the input read to, at its end
  private size = 0;
  private handed = 0; // chunks given to the writer
  private sent = 0; // of those, stored
  constructor(
    private readonly ledger: ClickHouseLogLedger,
    readonly id: string,
    readonly file: { input: string; path: string; identity: string; inode: number },
    row: RecordRow | null,
    pending: { start: number; end: number; indexTimeSec: number }[],
    private readonly startedMs: number,
  ) {
    this.version = row ? Number(row.Version) + 1 : 1;
    this.resumeAt = row ? Number(row.LogOffset) : 0;
    this.holdFrom = row ? Number(row.LogHoldFrom) : 0;
    this.complete = row?.State === 'complete';
    this.rows = row ? Number(row.Rows) : 0;
    this.batches = row ? Number(row.Batches) : 0;
    this.pending = pending;
  }

  async cut(start: number, end: number, holdFrom: number): Promise<LogChunk> {
    const again = this.pending.find((p) => p.start === start && p.end === end);
    const indexTimeSec = again ? again.indexTimeSec : hourOf(Date.now());
    if (!again) await this.ledger.recordChunk(this.id, start, end, holdFrom, indexTimeSec);
    return { record: this, start, end, holdFrom, token: `log:${this.id}:${start}-${end}`, indexTimeSec };
  }

  ended(offset: number, size: number): void {
    this.endAt = offset;
    this.size = size;
  }

  /** The output gave a chunk's events to its writer. */
  onHanded(): void {
    this.handed++;
  }

  /** The store took a chunk's events (chunks of one file are stored in order). */
  onSent(chunk: LogChunk, rows: number): void {
    this.sent++;
    this.batches++;
    this.rows += rows;
    this.resumeAt = chunk.end;
    this.holdFrom = chunk.holdFrom;
    this.save();
  }

  /** After the writer closed: complete when the input read the file to its end and every chunk is stored. */
  finish(inputEnded: boolean): void {
    if (inputEnded && this.endAt >= 0 && this.sent === this.handed) {
      this.resumeAt = this.endAt;
      this.holdFrom = this.endAt;
      this.complete = true;
    }
    this.save();
  }

  save(): void {
    this.ledger.saveRecord(this, {
      version: this.version++,
      state: this.complete ? 'complete' : 'partial',
      rows: this.rows,
      batches: this.batches,
      size: this.size,
      startedMs: this.startedMs,
    });
  }
}

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 30_000;

/** The ledger of one store; the output and the log inputs of a run share it. Its reads and its
 *  write-ahead records are retried with backoff while the store is down (as the writer's inserts
 *  are), so a store restart holds the input back, never ends the run. */
export class ClickHouseLogLedger implements LogLedger {
  private saving: Promise<void> = Promise.resolve();
  private readonly records = new Set<StoredLogRecord>();
  private readonly inFlight = new Map<string, LogChunk>(); // token -> chunk, handed and not stored yet
  private readonly db: string;

  private async retried<T>(what: string, f: () => Promise<T>): Promise<T> {
    for (let wait = RETRY_FIRST_MS; ; wait = Math.min(RETRY_MAX_MS, wait * 2)) {
      try {
        return await f();
      } catch (e) {
        if (this.signal?.aborted) throw e;
        this.log.warn({ err: (e as Error).message, retryInMs: wait }, `could not ${what}; trying again`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  constructor(
    private readonly store: Store,
    private readonly server: string,
    private readonly log: Log,
    private readonly signal?: AbortSignal,
  ) {
    this.db = quoteIdent(store.database);
  }

  open(file: { input: string; path: string; identity: string; inode: number }): Promise<LogRecord>;
  open(file: { input: string; path: string; identity: string; inode: number }, opts: { onlyKnown: true }): Promise<LogRecord | null>;
  async open(file: { input: string; path: string; identity: string; inode: number }, opts?: { onlyKnown: true }): Promise<LogRecord | null> {
    const rows = await this.retried('read the log positions', () => this.store.query<RecordRow>(
      `SELECT ImportId, Version, State, LogOffset, LogHoldFrom, Rows, Batches, toUnixTimestamp64Milli(StartedAt) AS StartedMs
         FROM dnslens_imports FINAL
        WHERE FileSha256 = '' AND InputKind = {input:String} AND LogFirstLineSha256 = {identity:String} AND Server = {server:String}
        ORDER BY StartedAt DESC LIMIT 1`,
      { input: file.input, identity: file.identity, server: this.server },
    ));
    const row = rows[0] ?? null;
    if (!row) {
      if (opts?.onlyKnown) return null;
      const rec = new StoredLogRecord(this, randomUUID(), file, null, [], Date.now());
      this.records.add(rec);
      rec.save(); // recorded before its first chunk
      return rec;
    }
    const chunks = await this.retried('read the log positions', () => this.store.query<{ s: Num; e: Num; t: Num }>(
      `SELECT DISTINCT StartOffset AS s, EndOffset AS e, toUnixTimestamp(IndexTime) AS t FROM dnslens_log_chunks
        WHERE ImportId = {id:String} AND StartOffset >= {from:UInt64} ORDER BY s, e`,
      { id: row.ImportId, from: Number(row.LogOffset) },
    ));
    // One chunk per start (a run that cut it again recorded the same range); in file order, not overlapping.
    const pending: { start: number; end: number; indexTimeSec: number }[] = [];
    for (const c of chunks) {
      const [start, end] = [Number(c.s), Number(c.e)];
      if (pending.length > 0 && start < pending[pending.length - 1].end) continue;
      pending.push({ start, end, indexTimeSec: Number(c.t) });
    }
    const rec = new StoredLogRecord(this, row.ImportId, file, row, pending, Number(row.StartedMs));
    this.records.add(rec);
    if (pending.length > 0) this.log.info({ file: file.path, chunks: pending.length }, `${file.path}: ${pending.length} chunk(s) of lines were on their way to the store when the last run ended: read again, stored once`);
    return rec;
  }

  async firstSeen(input: string, path: string): Promise<number | null> {
    const rows = await this.store.query<{ n: Num; ms: Num }>(
      `SELECT count() AS n, toUnixTimestamp64Milli(min(StartedAt)) AS ms FROM dnslens_imports FINAL
        WHERE FileSha256 = '' AND InputKind = {input:String} AND Path = {path:String} AND Server = {server:String}`,
      { input, path, server: this.server },
    );
    return rows.length > 0 && Number(rows[0].n) > 0 ? Number(rows[0].ms) : null;
  }

  /** Write-ahead: the chunk's range is recorded before its insert can start. */
  async recordChunk(id: string, start: number, end: number, holdFrom: number, indexTimeSec: number): Promise<void> {
    await this.retried('record a chunk of log lines', () => this.store.exec(
      `INSERT INTO ${this.db}.dnslens_log_chunks (ImportId, StartOffset, EndOffset, HoldFrom, IndexTime) ${selectRows([[sqlString(id), start, end, holdFrom, `toDateTime(${indexTimeSec}, 'UTC')`]])}`,
    ));
  }

  saveRecord(rec: StoredLogRecord, s: { version: number; state: 'partial' | 'complete'; rows: number; batches: number; size: number; startedMs: number }): void {
    const now = Date.now();
    const values = [
      sqlString(rec.id), s.version, sqlString(s.state), sqlString(rec.file.input), sqlString(rec.file.path), s.size, "''", 0, sqlString(this.server),
      s.rows, s.batches, 0, `toDateTime(${hourOf(now)}, 'UTC')`, `fromUnixTimestamp64Milli(${s.startedMs}, 'UTC')`,
      s.state === 'complete' ? `fromUnixTimestamp64Milli(${now}, 'UTC')` : 'NULL', `fromUnixTimestamp64Milli(${now}, 'UTC')`,
      rec.file.inode, sqlString(rec.file.identity), rec.resumeAt, rec.holdFrom,
    ];
    const sql =
      `INSERT INTO ${this.db}.dnslens_imports (ImportId, Version, State, InputKind, Path, FileSize, FileSha256, PacketLimit, Server, Rows, Batches, BatchRows, IndexTime, StartedAt, FinishedAt, UpdatedAt, LogInode, LogFirstLineSha256, LogOffset, LogHoldFrom) ` +
      selectRows([values]);
    this.saving = this.saving.then(() => this.store.exec(sql)).catch((e: unknown) => this.log.warn({ err: (e as Error).message, file: rec.file.path }, 'could not record the read position'));
  }

  /** A chunk's events went to the writer, as one batch under its token. */
  handed(chunk: LogChunk): void {
    this.inFlight.set(chunk.token, chunk);
    (chunk.record as StoredLogRecord).onHanded();
  }

  /** The writer's onSent: the store took a batch (a log chunk's, when its token is one handed here;
   *  a spooled batch of an earlier run is not). */
  sent(batch: { rows: number; token?: string }): void {
    const chunk = batch.token === undefined ? undefined : this.inFlight.get(batch.token);
    if (!chunk) return;
    this.inFlight.delete(chunk.token);
    (chunk.record as StoredLogRecord).onSent(chunk, batch.rows);
  }

  /** After the writer closed: each record's final state, written before the store closes. */
  async finish(inputEnded: boolean): Promise<void> {
    for (const r of this.records) r.finish(inputEnded);
    await this.saving;
  }
}

/** The ClickHouse output when log inputs run: each chunk's events go as one insert under its token;
 *  other events (packets beside the logs) are batched as usual. */
export function logChunkOutput(out: ClickHouseOutput, ledger: ClickHouseLogLedger): Output {
  let inputEnded = false;
  return {
    name: out.name,
    write(events: readonly DnsEvent[], chunk?: LogChunk) {
      if (!chunk) return out.write(events);
      ledger.handed(chunk);
      return out.writer.writeSealed(events, chunk.token, chunk.indexTimeSec);
    },
    inputEnded() {
      inputEnded = true;
    },
    async close() {
      await out.close();
      await ledger.finish(inputEnded);
    },
  };
}
