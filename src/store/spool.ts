// On-disk overflow for the ClickHouse writer: batches that cannot reach the store wait here
// (under <dataDir>/spool/) and are replayed in order when it is back, also after a restart.
// Each batch is two files: <seq>.json (format, columns, rows) written first, then the data,
// written under a temporary name and renamed, so a crash never leaves a half batch that looks whole.
// Meta version 2 (this one) keeps ClickHouse Native in <seq>.native; version 1, what dnslens wrote
// before, RowBinary in <seq>.rb. Both replay.
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../log.js';
import { INSERT_FORMATS, writeChunks, type InsertFormat } from './connection.js';

export interface SpoolEntry {
  readonly seq: number;
  readonly rows: number;
  readonly bytes: number;
  readonly columns: readonly string[];
  readonly format: InsertFormat;
  readonly path: string; // the data file
  rejections: number; // inserts the store refused for bad data (see writer.ts)
}

interface Meta {
  version: 1 | 2; // 1: RowBinary in <seq>.rb, no format field; 2: the format named, data in <seq>.<ext>
  format?: InsertFormat;
  columns: string[];
  rows: number;
  createdAt: string;
}

const META_VERSION = 2;
const SEQ_WIDTH = 16;
const name = (seq: number): string => String(seq).padStart(SEQ_WIDTH, '0');
const EXTENSION: Record<InsertFormat, string> = { Native: 'native', RowBinary: 'rb' };
const metaPathOf = (dataPath: string): string => dataPath.replace(/\.[a-z]+$/, '.json');

/** A meta file's format and data file name, or an error saying why it cannot be replayed. */
function readMeta(text: string, base: string): { meta: Meta; format: InsertFormat; dataName: string } {
  const meta = JSON.parse(text) as Meta;
  if (!Array.isArray(meta.columns) || typeof meta.rows !== 'number') throw new Error('bad meta');
  if (meta.version === 1) return { meta, format: 'RowBinary', dataName: `${base}.rb` };
  if (meta.version === 2 && meta.format !== undefined && INSERT_FORMATS.includes(meta.format)) {
    return { meta, format: meta.format, dataName: `${base}.${EXTENSION[meta.format]}` };
  }
  throw new UnknownMetaError(`version ${String(meta.version)}, format ${String(meta.format)}`);
}

class UnknownMetaError extends Error {}

export class Spool {
  private readonly list: SpoolEntry[] = []; // committed, in seq order
  private committedBytes = 0;
  private pendingCount = 0; // appends still being written
  private pendingBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private highestSeq: number;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    entries: SpoolEntry[],
  ) {
    this.list = entries;
    for (const e of entries) this.committedBytes += e.bytes;
    this.highestSeq = entries.length ? entries[entries.length - 1].seq : 0;
  }

  /**
   * Open (creating) a spool directory and pick up the batches a previous run left.
   * One writer per directory: throws SpoolBusyError while another live process has it.
   */
  static async open(dir: string, opts: { maxBytes: number }): Promise<Spool> {
    await mkdir(dir, { recursive: true });
    await lock(dir);
    const names = await readdir(dir);
    const entries: SpoolEntry[] = [];
    let broken = 0;
    for (const n of names) {
      if (n.endsWith('.tmp')) {
        await rm(join(dir, n), { force: true }); // interrupted write
        continue;
      }
      const m = /^(\d+)\.json$/.exec(n);
      if (!m) continue;
      const seq = Number(m[1]);
      let data: string | null = null;
      try {
        const { meta, format, dataName } = readMeta(await readFile(join(dir, n), 'utf8'), m[1]);
        data = join(dir, dataName);
        const st = await stat(data);
        entries.push({ seq, rows: meta.rows, bytes: st.size, columns: meta.columns, format, path: data, rejections: 0 });
      } catch (err) {
        if (err instanceof UnknownMetaError) {
          // Written by a newer dnslens: not ours to replay or delete; set aside with its files.
          const target = join(dir, 'rejected');
          await mkdir(target, { recursive: true });
          for (const f of names.filter((x) => x.startsWith(`${m[1]}.`))) await rename(join(dir, f), join(target, f)).catch(() => undefined);
          log.warn({ dir, seq, meta: err.message }, 'spooled batch in a format this dnslens does not know; moved to rejected/');
          continue;
        }
        // meta without data: the crash came before the data file was complete
        broken++;
        await rm(join(dir, n), { force: true });
        for (const ext of Object.values(EXTENSION)) await rm(join(dir, `${m[1]}.${ext}`), { force: true });
      }
    }
    entries.sort((a, b) => a.seq - b.seq);
    if (entries.length > 0 || broken > 0) {
      log.info(
        { dir, batches: entries.length, rows: entries.reduce((s, e) => s + e.rows, 0), incomplete: broken },
        'spooled ClickHouse batches found; they will be replayed',
      );
    }
    return new Spool(dir, opts.maxBytes, entries);
  }

  /** Batches held, including those still being written. */
  get entries(): number {
    return this.list.length + this.pendingCount;
  }

  get bytes(): number {
    return this.committedBytes + this.pendingBytes;
  }

  get rows(): number {
    let n = 0;
    for (const e of this.list) n += e.rows;
    return n;
  }

  /** Highest sequence number on disk (a writer continues after it). */
  get maxSeq(): number {
    return this.highestSeq;
  }

  hasRoom(bytes: number): boolean {
    return this.bytes + bytes <= this.maxBytes;
  }

  /** The oldest committed batch. */
  oldest(): SpoolEntry | undefined {
    return this.list[0];
  }

  /**
   * Write a batch. Space is reserved at once (so callers can decide synchronously);
   * writes happen one after another. Rejects when the disk write fails.
   */
  append(seq: number, columns: readonly string[], rows: number, data: readonly Uint8Array[], format: InsertFormat = 'Native'): Promise<void> {
    const bytes = data.reduce((n, c) => n + c.byteLength, 0);
    this.pendingCount++;
    this.pendingBytes += bytes;
    if (seq > this.highestSeq) this.highestSeq = seq;
    const run = async (): Promise<void> => {
      const base = join(this.dir, name(seq));
      const path = `${base}.${EXTENSION[format]}`;
      try {
        await writeFile(`${base}.json`, JSON.stringify(newMeta(format, columns, rows)));
        await writeChunks(`${path}.tmp`, data);
        await rename(`${path}.tmp`, path);
      } catch (err) {
        await rm(`${base}.json`, { force: true }).catch(() => undefined);
        await rm(`${path}.tmp`, { force: true }).catch(() => undefined);
        throw err;
      } finally {
        this.pendingCount--;
        this.pendingBytes -= bytes;
      }
      const entry: SpoolEntry = { seq, rows, bytes, columns: [...columns], format, path, rejections: 0 };
      // Keep seq order (a batch spilled from memory at close is older than later spool batches).
      let i = this.list.length;
      while (i > 0 && this.list[i - 1].seq > seq) i--;
      this.list.splice(i, 0, entry);
      this.committedBytes += entry.bytes;
    };
    const p = this.chain.then(run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Let another process use the directory (the batches stay). */
  async release(): Promise<void> {
    await this.settled();
    const f = join(this.dir, LOCK_FILE);
    const owner = await readFile(f, 'utf8').catch(() => '');
    if (owner.trim() === String(process.pid)) await rm(f, { force: true });
  }

  /** Wait for every append started so far. */
  async settled(): Promise<void> {
    await this.chain;
  }

  /** Forget a batch that is now in the store. */
  async remove(entry: SpoolEntry): Promise<void> {
    const i = this.list.indexOf(entry);
    if (i < 0) return;
    this.list.splice(i, 1);
    this.committedBytes -= entry.bytes;
    await rm(entry.path, { force: true });
    await rm(metaPathOf(entry.path), { force: true });
  }

  /** Keep an in-memory batch the store refused in <dir>/rejected/ (for a look, never replayed). */
  async saveRejected(seq: number, columns: readonly string[], rows: number, data: readonly Uint8Array[], format: InsertFormat = 'Native'): Promise<string> {
    const target = join(this.dir, 'rejected');
    await mkdir(target, { recursive: true });
    const base = join(target, name(seq));
    await writeFile(`${base}.json`, JSON.stringify(newMeta(format, columns, rows)));
    await writeChunks(`${base}.${EXTENSION[format]}`, data);
    return target;
  }

  /** Move a batch the store keeps refusing to <dir>/rejected/, out of the replay order. */
  async reject(entry: SpoolEntry): Promise<string> {
    const i = this.list.indexOf(entry);
    if (i >= 0) {
      this.list.splice(i, 1);
      this.committedBytes -= entry.bytes;
    }
    const target = join(this.dir, 'rejected');
    await mkdir(target, { recursive: true });
    const base = name(entry.seq);
    await rename(entry.path, join(target, `${base}.${EXTENSION[entry.format]}`)).catch(() => undefined);
    await rename(metaPathOf(entry.path), join(target, `${base}.json`)).catch(() => undefined);
    return target;
  }
}

function newMeta(format: InsertFormat, columns: readonly string[], rows: number): Meta {
  return { version: META_VERSION, format, columns: [...columns], rows, createdAt: new Date().toISOString() };
}

const LOCK_FILE = 'lock';

export class SpoolBusyError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`the spool ${dir} is in use by process ${pid}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// A lock file holding the owner's PID, created exclusively; a dead owner's lock is taken over.
async function lock(dir: string): Promise<void> {
  const f = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const h = await open(f, 'wx');
      await h.writeFile(String(process.pid));
      await h.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(f, 'utf8').catch(() => '')).trim());
    if (pid === process.pid) return;
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) throw new SpoolBusyError(dir, pid);
    await rm(f, { force: true }); // stale: its owner is gone
  }
  throw new Error(`cannot lock the spool ${dir}`);
}
