// The Parquet sink: the sink toolkit (../sink) with the row group encoder (columns.ts) and a
// target that appends each batch's bytes to its file. A file is written as <name>.tmp and gets
// its name (.parquet) only once its footer is in and it is synced: whatever reads the folder's
// *.parquet files sees only complete ones. Loaded when the output opens.
//
// A file ends when it reaches --parquetOutputRotateSize (after the row group that took it
// there), when --parquetOutputRotateInterval has passed since it began (at the next row group, or
// within a second when no rows wait), and at exit. A failed write (disk full, folder gone) is
// retried with backoff while rows wait in memory and then hold the pipeline back; bytes go at
// their own offsets, so a retry writes the same file again. If the disk still fails at exit,
// the unfinished file stays <name>.tmp and its rows are counted as dropped (unfinished-file).
import { open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context, OpenedOutput, Output } from '../../component.js';
import type { Log } from '../../log.js';
import type { Counters, Stats } from '../../stats.js';
import { sinkContext, writerOutput, type BatchWriter, type SinkBatch, type SinkTarget, type WriterOptions } from '../sink/writer.js';
import { ParquetEncoder, type Part } from './columns.js';
import type { ParquetOptions } from './index.js';

export const NAME = 'parquet';

interface OpenFile {
  fh: FileHandle | null; // null once closed
  written: number; // bytes in place from the file's start without a gap
  rows: number; // rows of the parts written
}

/** The folder's files being written, each under <name>.tmp until it ends. */
class ParquetFiles implements SinkTarget<null> {
  private readonly files = new Map<string, OpenFile>();

  constructor(
    readonly where: string,
    private readonly counters: Counters,
    private readonly log: Log,
  ) {}

  send(batch: SinkBatch<null>): Promise<void> {
    const [head, ...data] = batch.data!; // no spool: batches are in memory
    return this.append(JSON.parse(Buffer.from(head).toString('utf8')) as Part, data);
  }

  /** Puts a part's bytes at their offset; the last part closes the file and names it. */
  async append(part: Part, data: readonly Uint8Array[]): Promise<void> {
    const tmp = join(this.where, `${part.file}.tmp`);
    let f = this.files.get(part.file);
    if (!f) {
      f = { fh: await open(tmp, 'w'), written: 0, rows: 0 };
      this.files.set(part.file, f);
    }
    if (f.fh) {
      const start = part.end - sizeOf(data);
      let at = start;
      for (const c of data) {
        for (let done = 0; done < c.byteLength; ) done += (await f.fh.write(c, done, c.byteLength - done, at + done)).bytesWritten;
        at += c.byteLength;
      }
      // Parts come in file order (a retry repeats one); a part lost at exit leaves a gap.
      if (start <= f.written) {
        f.written = Math.max(f.written, part.end);
        f.rows = Math.max(f.rows, part.rows);
      }
    }
    if (!part.last) return;
    if (f.written !== part.end) throw new Error(`${tmp}: bytes before offset ${part.end} are missing`);
    if (f.fh) {
      await f.fh.sync();
      await f.fh.close();
      f.fh = null;
    }
    await rename(tmp, join(this.where, part.file));
    this.files.delete(part.file);
    this.counters.add('files');
    this.log.debug({ file: part.file, rows: part.rows, bytes: part.end }, 'parquet file complete');
  }

  /** At exit: files that could not be finished keep their .tmp name; returns their rows. */
  async abandon(): Promise<number> {
    let rows = 0;
    for (const [name, f] of this.files) {
      await f.fh?.close().catch(() => undefined);
      this.log.error({ file: `${name}.tmp`, rows: f.rows }, 'parquet file left unfinished (writing it failed)');
      rows += f.rows;
    }
    this.files.clear();
    return rows;
  }
}

function sizeOf(data: readonly Uint8Array[]): number {
  let n = 0;
  for (const c of data) n += c.byteLength;
  return n;
}

/** A new file's name: the time it began (UTC), this process and a sequence number, so no two
 *  runs or files of a run share one. */
export function fileNamer(prefix = 'dnslens'): () => string {
  let seq = 0;
  return () => {
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    return `${prefix}-${stamp}-${process.pid}-${++seq}.parquet`;
  };
}

export interface ParquetOutputOptions extends Pick<WriterOptions<null>, 'delayMs' | 'stats' | 'maxQueueBytes' | 'stop' | 'counters' | 'log' | 'retryInitialMs' | 'retryMaxMs' | 'closeTimeoutMs'> {
  counters: Counters; // the output's own (the files it completed too)
  dir: string;
  rowGroupRows: number;
  rotateBytes: number; // 0: never
  rotateMs: number; // 0: never
  name?: () => string; // a new file's name (default fileNamer())
}

/** The Parquet output over the sink toolkit. */
export function parquetOutput(o: ParquetOutputOptions): Output & { readonly writer: BatchWriter<null> } {
  const { dir, rowGroupRows, rotateBytes, rotateMs, name, ...passed } = o;
  const files = new ParquetFiles(dir, o.counters, o.log);
  const encoder = new ParquetEncoder({ rotateBytes, rotateMs, name: name ?? fileNamer(), now: Date.now });
  const output = writerOutput(files, { ...passed, name: NAME, encoder, meta: null, batchSize: rowGroupRows }, endAtExit);
  const writer = output.writer;

  // A file whose time is up while no rows wait gets its footer here (else the next row group
  // brings it). Only when nothing is queued: every row group of the file is then in place.
  let ending: { part: Part; bytes: Uint8Array } | null = null;
  let busy = false;
  async function endIdleFile(now: number): Promise<void> {
    if (busy) return;
    busy = true;
    try {
      if (!ending && encoder.due(now) && writer.backlogRows === 0) ending = encoder.endFile();
      if (ending) {
        await files.append(ending.part, [ending.bytes]);
        ending = null;
      }
    } catch (err) {
      o.log.warn({ err: (err as Error).message }, 'cannot finish the parquet file; trying again');
    } finally {
      busy = false;
    }
  }
  const timer = rotateMs > 0 ? setInterval(() => void endIdleFile(Date.now()), Math.min(rotateMs, 1000)) : null;
  timer?.unref();

  // After the writer closed (every row group written, or dropped at exit): the open file's footer.
  async function endAtExit(): Promise<void> {
    if (timer) clearInterval(timer);
    while (busy) await new Promise((r) => setTimeout(r, 10));
    ending ??= encoder.endFile();
    try {
      if (ending) await files.append(ending.part, [ending.bytes]);
      ending = null;
    } catch (err) {
      o.log.error({ err: (err as Error).message }, 'cannot finish the parquet file');
    }
    const lost = await files.abandon();
    if (lost > 0) o.stats.dropped(NAME, 'unfinished-file', lost);
  }

  return output;
}

export async function openParquet(ctx: Context<ParquetOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const output = parquetOutput({
    dir: s.parquetOutputPath, // check() made sure it is a writable folder
    rowGroupRows: s.parquetFlushBatchSize,
    delayMs: s.parquetBatchDelay,
    rotateBytes: s.parquetOutputRotateSize,
    rotateMs: s.parquetOutputRotateInterval,
    ...sinkContext(ctx),
  });
  ctx.log.debug({ dir: s.parquetOutputPath }, 'parquet output open');
  return { output };
}
