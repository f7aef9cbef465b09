// File imports and their record in the store, dnslens_imports (migration 0013). A file whose import
// is complete is skipped (--reimport imports it again). An interrupted one is completed by the same
// command: it reads the file again, passes over the batches the record says are stored and sends
// the rest under the same tokens, so a batch that landed (in DNS_LOG, or in some rollups) before the
// record said so is not stored twice (the store deduplicates on the tokens: dedupSettings in
// src/store/connection.ts).
//
// That needs a file to give the same batches in every run. The events are the same, in the same
// order: sampling counts, dedup and matching go by capture time, and a file gets no clock ticks (the
// one exception: dedup's hash seeds differ per process, so two packets that collide in 53 bits may
// do so in one run only). Batches are cut by row count alone, with the record's batch size, and
// every row gets the import's IndexTime (DNS_LOG is partitioned by it, and a token counts per
// partition). What transforms still held when a run was stopped is not sent: it is not what the
// file gives there, and the next run sends that part of the file in its place.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import type { InputFile, Output } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Log } from '../../log.js';
import { ConfigError } from '../../options.js';
import { quoteIdent, sqlString, type Store } from '../../store/connection.js';
import { selectRows } from '../../store/statements.js';
import type { Cuts } from '../sink/writer.js';
import type { ClickHouseOutput } from './output.js';

/** The file a run imports: its one input file, when that is a regular file (a pipe or a device
 *  cannot be read twice, once for its hash and once for its packets). */
export function importedFile(files: readonly InputFile[] | undefined): InputFile | undefined {
  if (files?.length !== 1) return undefined;
  try {
    return statSync(files[0].path).isFile() ? files[0] : undefined;
  } catch {
    return undefined; // the input reports it
  }
}

export interface FileIdentity {
  size: number;
  sha256: string; // of the whole file, hex
}

/** Size and SHA-256 of a file's content. */
export async function fileIdentity(path: string): Promise<FileIdentity> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { size, sha256: hash.digest('hex') };
}

/** One import as recorded: the latest row of its ImportId (under way: version is the next to write). */
interface ImportState {
  id: string;
  version: number;
  state: 'partial' | 'complete';
  input: string;
  path: string;
  size: number;
  sha256: string;
  packetLimit: number;
  server: string;
  firstUs: number | null; // packet time range, µs since the epoch
  lastUs: number | null;
  rows: number;
  batches: number;
  batchRows: number;
  indexTimeSec: number;
  startedMs: number;
  finishedMs: number | null;
  updatedMs: number;
}

const COLUMNS = 'ImportId, Version, State, InputKind, Path, FileSize, FileSha256, PacketLimit, Server, FirstPacket, LastPacket, Rows, Batches, BatchRows, IndexTime, StartedAt, FinishedAt, UpdatedAt';

function insertSql(database: string, s: ImportState): string {
  const us = (v: number | null) => (v === null ? 'NULL' : `fromUnixTimestamp64Micro(${v}, 'UTC')`);
  const ms = (v: number | null) => (v === null ? 'NULL' : `fromUnixTimestamp64Milli(${v}, 'UTC')`);
  const values = [
    sqlString(s.id), s.version, sqlString(s.state), sqlString(s.input), sqlString(s.path), s.size, sqlString(s.sha256), s.packetLimit, sqlString(s.server),
    us(s.firstUs), us(s.lastUs), s.rows, s.batches, s.batchRows, `toDateTime(${s.indexTimeSec}, 'UTC')`, ms(s.startedMs), ms(s.finishedMs), ms(s.updatedMs),
  ];
  return `INSERT INTO ${quoteIdent(database)}.dnslens_imports (${COLUMNS}) ${selectRows([values])}`;
}

// 64-bit numbers come back as strings; each one is a number well below 2^53 here.
const SELECT_STATE = `SELECT ImportId, Version, State, InputKind, Path, FileSize, FileSha256, PacketLimit, Server,
  toUnixTimestamp64Micro(FirstPacket) AS FirstUs, toUnixTimestamp64Micro(LastPacket) AS LastUs, Rows, Batches, BatchRows,
  toUnixTimestamp(IndexTime) AS IndexTimeSec, toUnixTimestamp64Milli(StartedAt) AS StartedMs,
  toUnixTimestamp64Milli(FinishedAt) AS FinishedMs, toUnixTimestamp64Milli(UpdatedAt) AS UpdatedMs
  FROM dnslens_imports FINAL`;

type Num = string | number;
interface StateRow {
  ImportId: string;
  Version: Num;
  State: 'partial' | 'complete';
  InputKind: string;
  Path: string;
  FileSize: Num;
  FileSha256: string;
  PacketLimit: Num;
  Server: string;
  FirstUs: Num | null;
  LastUs: Num | null;
  Rows: Num;
  Batches: Num;
  BatchRows: Num;
  IndexTimeSec: Num;
  StartedMs: Num;
  FinishedMs: Num | null;
  UpdatedMs: Num;
}

function stateOf(r: StateRow): ImportState {
  const n = (v: Num | null) => (v === null ? null : Number(v));
  return {
    id: r.ImportId,
    version: Number(r.Version),
    state: r.State,
    input: r.InputKind,
    path: r.Path,
    size: Number(r.FileSize),
    sha256: r.FileSha256,
    packetLimit: Number(r.PacketLimit),
    server: r.Server,
    firstUs: n(r.FirstUs),
    lastUs: n(r.LastUs),
    rows: Number(r.Rows),
    batches: Number(r.Batches),
    batchRows: Number(r.BatchRows),
    indexTimeSec: Number(r.IndexTimeSec),
    startedMs: Number(r.StartedMs),
    finishedMs: n(r.FinishedMs),
    updatedMs: Number(r.UpdatedMs),
  };
}

const fmt = new Intl.NumberFormat('en-US');
const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
/** A time for ClickHouse's DateTime64(6) text form. */
const usText = (us: number) => `${new Date(Math.floor(us / 1000)).toISOString().replace('T', ' ').slice(0, 19)}.${String(us % 1e6).padStart(6, '0')}`;
const range = (s: ImportState) => (s.firstUs === null || s.lastUs === null ? 'no messages' : `packets ${usText(s.firstUs)} to ${usText(s.lastUs)} UTC`);

export interface ImportOptions {
  file: InputFile;
  identity: FileIdentity;
  server: string; // --serverName
  packetLimit: number; // --packetLimit: a file read in part is another import than the whole of it
  batchRows: number; // rows per batch of a new import
  reimport: boolean; // --reimport
  log: Log;
}

/** What to do with a file: skip it (the store has it), or import it (new, or resuming). */
export type ImportPlan = { skip: true } | { skip: false; import: FileImport };

/** Reads the store's record of the file and decides. Throws ConfigError when an interrupted
 *  import can only be finished under the server name it was started with. */
export async function planImport(store: Store, o: ImportOptions): Promise<ImportPlan> {
  const { file, identity, log } = o;
  const rows = await store.query<StateRow>(
    `${SELECT_STATE} WHERE FileSha256 = {sha:String} AND FileSize = {size:UInt64} AND PacketLimit = {limit:UInt64} ORDER BY StartedAt, ImportId`,
    { sha: identity.sha256, size: identity.size, limit: o.packetLimit },
  );
  const records = rows.map(stateOf);
  const complete = records.filter((r) => r.state === 'complete').at(-1);
  // imports interrupted since the last complete one (an interrupted --reimport, say)
  const interrupted = records.filter((r) => r.state === 'partial' && (!complete || r.startedMs > complete.startedMs));
  const resume = interrupted.filter((r) => r.server === o.server).at(-1);
  if (complete && !o.reimport) {
    const also = interrupted.length > 0 ? `; an import started later with --reimport was interrupted (${fmt.format(interrupted.at(-1)!.rows)} rows stored): run that command again to finish it` : '';
    log.warn(
      { file: file.path, importedAt: when(complete.finishedMs ?? complete.updatedMs), rows: complete.rows, server: complete.server },
      `${file.path}: already imported into this store on ${when(complete.finishedMs ?? complete.updatedMs)}${complete.path !== file.path ? ` as ${complete.path}` : ''} ` +
        `(${fmt.format(complete.rows)} rows, server ${complete.server}, ${range(complete)}); skipped. --reimport imports it again, storing its messages twice${also}`,
    );
    return { skip: true };
  }
  if (resume) {
    log.info(
      { file: file.path, importId: resume.id, rows: resume.rows, batches: resume.batches },
      `${file.path}: finishing the import started on ${when(resume.startedMs)}: ${fmt.format(resume.rows)} rows in ${resume.batches} batch${resume.batches === 1 ? '' : 'es'} are stored, the rest follows`,
    );
    return { skip: false, import: new FileImport(store, { ...resume, path: file.path, version: resume.version + 1, firstUs: null, lastUs: null, updatedMs: Date.now() }, log) };
  }
  if (interrupted.length > 0 && !o.reimport) {
    const other = interrupted.at(-1)!;
    throw new ConfigError(
      'serverName',
      `--serverName: ${file.path} has an interrupted import as server "${other.server}" (${fmt.format(other.rows)} rows stored): run it again with --serverName ${other.server} ` +
        `to finish it, or with --reimport to import the file anew as "${o.server}" (the rows stored so far stay)`,
    );
  }
  if (complete) log.warn({ file: file.path, rows: complete.rows }, `${file.path}: imported before on ${when(complete.finishedMs ?? complete.updatedMs)} (${fmt.format(complete.rows)} rows); importing it again (--reimport): its messages are stored twice`);
  const now = Date.now();
  const state: ImportState = {
    id: randomUUID(),
    version: 1,
    state: 'partial',
    input: file.input,
    path: file.path,
    size: identity.size,
    sha256: identity.sha256,
    packetLimit: o.packetLimit,
    server: o.server,
    firstUs: null,
    lastUs: null,
    rows: 0,
    batches: 0,
    batchRows: o.batchRows,
    indexTimeSec: Math.floor(now / 3_600_000) * 3600, // to the hour, as the encoder keeps it
    startedMs: now,
    finishedMs: null,
    updatedMs: now,
  };
  await store.exec(insertSql(store.database, state)); // recorded before the first batch goes
  state.version++;
  return { skip: false, import: new FileImport(store, state, log) };
}

/** One import under way: its record follows the batches the store took, in file order. */
export class FileImport {
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly s: ImportState,
    private readonly log: Log,
  ) {}

  /** How the writer cuts this file: the record's batch size, passing over the stored batches. */
  get cuts(): Cuts {
    const id = this.s.id;
    return { rows: this.s.batchRows, skipRows: this.s.batches * this.s.batchRows, nowSec: this.s.indexTimeSec, token: (i) => `${id}:${i}` };
  }

  /** Every event written (those of stored batches too): the packet time range. */
  observe(events: readonly DnsEvent[]): void {
    let first = this.s.firstUs ?? Infinity;
    let last = this.s.lastUs ?? -Infinity;
    for (let i = 0; i < events.length; i++) {
      const us = events[i].timeSec * 1e6 + Math.floor(events[i].timeNsec / 1000);
      if (us < first) first = us;
      if (us > last) last = us;
    }
    if (first !== Infinity) [this.s.firstUs, this.s.lastUs] = [first, last];
  }

  /** The writer's onSent: the store took a batch. The next one in file order moves the record on
   *  (a batch of another import, or one an earlier run's spool sent first, does not). */
  sent(batch: { rows: number; token?: string }): void {
    if (batch.token !== `${this.s.id}:${this.s.batches}`) return;
    this.s.batches++;
    this.s.rows += batch.rows;
    this.save();
  }

  /** After the writer closed: complete when the input was read to its end and every batch cut is stored. */
  async finish(inputEnded: boolean, batchesCut: number): Promise<void> {
    const done = inputEnded && this.s.batches === batchesCut;
    if (done) {
      this.s.state = 'complete';
      this.s.finishedMs = Date.now();
    }
    this.save();
    await this.saving;
    const { path, rows } = this.s;
    if (!done) {
      this.log.warn(
        { file: path, rows, batches: this.s.batches },
        `${path}: import ${inputEnded ? 'not complete' : 'interrupted'} with ${fmt.format(rows)} rows stored; run the same command again to finish it (nothing is stored twice)`,
      );
      return;
    }
    this.log.info({ file: path, rows, importId: this.s.id }, `${path}: imported (${fmt.format(rows)} rows, ${range(this.s)})`);
    await this.warnOverlaps().catch((e: unknown) => this.log.warn({ err: (e as Error).message }, 'could not look for overlapping imports'));
  }

  // Another import of the same server whose packets span the same time: a longer or shorter
  // capture of the same traffic, whose common messages are now stored twice.
  private async warnOverlaps(): Promise<void> {
    const s = this.s;
    if (s.firstUs === null || s.lastUs === null) return;
    const rows = await this.store.query<StateRow>(
      `${SELECT_STATE} WHERE Server = {server:String} AND ImportId != {id:String}
         AND NOT (FileSha256 = {sha:String} AND FileSize = {size:UInt64} AND PacketLimit = {limit:UInt64})
         AND FirstPacket <= {last:DateTime64(6, 'UTC')} AND LastPacket >= {first:DateTime64(6, 'UTC')}
       ORDER BY StartedAt LIMIT 5`,
      { server: s.server, id: s.id, sha: s.sha256, size: s.size, limit: s.packetLimit, first: usText(s.firstUs), last: usText(s.lastUs) },
    );
    for (const o of rows.map(stateOf)) {
      this.log.warn(
        { file: s.path, overlaps: o.path, importedAt: when(o.startedMs), rows: o.rows },
        `${s.path} overlaps ${o.path}, imported on ${when(o.startedMs)}${o.state === 'partial' ? ' (in part)' : ''} as server ${o.server} (${range(o)}): ` +
          'messages captured in both are now stored twice',
      );
    }
  }

  // Records the state as a new version, one insert after the other (a failed one is only logged: a
  // batch the record missed is sent again by the next run, and dropped by the store).
  private save(): void {
    const row = { ...this.s, version: this.s.version++, updatedMs: Date.now() };
    this.saving = this.saving
      .then(() => this.store.exec(insertSql(this.store.database, row)))
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message, file: row.path }, 'could not record the import'));
  }
}

/** The ClickHouse output for a file the store has already: takes nothing, so the run reads nothing. */
export function skippedOutput(out: ClickHouseOutput): Output {
  return { name: out.name, ended: true, write: () => undefined, close: () => out.close() };
}

/** The ClickHouse output of a file import: rows in file order, the record kept up to date. */
export function importOutput(out: ClickHouseOutput, imp: FileImport, signal: AbortSignal | undefined): Output {
  let inputEnded = false;
  return {
    name: out.name,
    write(events) {
      // After a stop, what comes is what decoders and transforms still held: dropped (see the top).
      if (signal?.aborted) return out.writer.refuse(events.length, 'import-stopped');
      imp.observe(events);
      return out.write(events);
    },
    inputEnded() {
      inputEnded = true;
    },
    async close() {
      if (!inputEnded) out.writer.discardPending('import-stopped');
      await out.close();
      await imp.finish(inputEnded, out.writer.batchesCut);
    },
  };
}
