// The sink toolkit's on-disk overflow: batches that cannot reach their receiver wait here and
// are replayed in order when it is back, also after a restart. Each batch is two files:
// <seq>.json (the sink's description of the batch: format, columns, ...) written first, then the
// data, written under a temporary name and renamed, so a crash never leaves a half batch that
// looks whole. What the description holds, and which versions replay, is the sink's codec; a
// batch's deduplication token (writer.ts, Cuts) is kept in it too, as "token".
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeChunks } from '../../chunks.js';
import { log } from '../../log.js';
import { ConfigError } from '../../options.js';

export interface SpoolEntry<M> {
  readonly seq: number;
  readonly rows: number;
  readonly bytes: number;
  readonly meta: M; // the sink's description (format, columns, ...)
  readonly path: string; // the data file
  readonly token?: string; // the batch's deduplication token, when it has one
  rejections: number; // sends the receiver refused for bad data (see writer.ts)
}

/** How one sink describes its batches on disk. */
export interface SpoolCodec<M> {
  /** The JSON written beside a batch. */
  describe(meta: M, rows: number): object;
  /** The data file's extension for a batch (no dot). */
  extension(meta: M): string;
  /** Every extension a data file of this sink may have (for clean-up). */
  readonly extensions: readonly string[];
  /** A description read back. Throws UnknownSpoolFormat for one this version cannot replay
   *  (written by a newer dnslens: set aside, never deleted), any other error for a broken one. */
  read(json: unknown): { meta: M; rows: number };
}

export class UnknownSpoolFormat extends Error {}

const SEQ_WIDTH = 16;
const name = (seq: number): string => String(seq).padStart(SEQ_WIDTH, '0');
const metaPathOf = (dataPath: string): string => dataPath.replace(/\.[a-z]+$/, '.json');

export class Spool<M> {
  private readonly list: SpoolEntry<M>[] = []; // committed, in seq order
  private committedBytes = 0;
  private pendingCount = 0; // appends still being written
  private pendingBytes = 0;
  private chain: Promise<void> = Promise.resolve();
  private highestSeq: number;

  private constructor(
    readonly dir: string,
    readonly maxBytes: number,
    private readonly codec: SpoolCodec<M>,
    entries: SpoolEntry<M>[],
  ) {
    this.list = entries;
    for (const e of entries) this.committedBytes += e.bytes;
    this.highestSeq = entries.length ? entries[entries.length - 1].seq : 0;
  }

  /**
   * Open (creating) a spool directory and pick up the batches a previous run left.
   * One writer per directory: throws SpoolBusyError while another live process has it.
   */
  static async open<M>(dir: string, opts: { maxBytes: number; codec: SpoolCodec<M> }): Promise<Spool<M>> {
    const { codec } = opts;
    await mkdir(dir, { recursive: true });
    await lock(dir);
    const names = await readdir(dir);
    const entries: SpoolEntry<M>[] = [];
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
        const json = JSON.parse(await readFile(join(dir, n), 'utf8')) as { token?: unknown };
        const { meta, rows } = codec.read(json);
        data = join(dir, `${m[1]}.${codec.extension(meta)}`);
        const st = await stat(data);
        const token = typeof json.token === 'string' ? json.token : undefined;
        entries.push({ seq, rows, bytes: st.size, meta, path: data, token, rejections: 0 });
      } catch (err) {
        if (err instanceof UnknownSpoolFormat) {
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
        for (const ext of codec.extensions) await rm(join(dir, `${m[1]}.${ext}`), { force: true });
      }
    }
    entries.sort((a, b) => a.seq - b.seq);
    if (entries.length > 0 || broken > 0) {
      log.info(
        { dir, batches: entries.length, rows: entries.reduce((s, e) => s + e.rows, 0), incomplete: broken },
        'spooled batches found; they will be replayed',
      );
    }
    return new Spool(dir, opts.maxBytes, codec, entries);
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
  oldest(): SpoolEntry<M> | undefined {
    return this.list[0];
  }

  /**
   * Write a batch. Space is reserved at once (so callers can decide synchronously);
   * writes happen one after another. Rejects when the disk write fails.
   */
  append(seq: number, rows: number, meta: M, data: readonly Uint8Array[], token?: string): Promise<void> {
    const bytes = data.reduce((n, c) => n + c.byteLength, 0);
    this.pendingCount++;
    this.pendingBytes += bytes;
    if (seq > this.highestSeq) this.highestSeq = seq;
    const run = async (): Promise<void> => {
      const base = join(this.dir, name(seq));
      const path = `${base}.${this.codec.extension(meta)}`;
      try {
        await writeFile(`${base}.json`, this.description(meta, rows, token));
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
      const entry: SpoolEntry<M> = { seq, rows, bytes, meta, path, token, rejections: 0 };
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

  // The sink's description of a batch, with its token.
  private description(meta: M, rows: number, token: string | undefined): string {
    return JSON.stringify(token === undefined ? this.codec.describe(meta, rows) : { ...this.codec.describe(meta, rows), token });
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
  async remove(entry: SpoolEntry<M>): Promise<void> {
    const i = this.list.indexOf(entry);
    if (i < 0) return;
    this.list.splice(i, 1);
    this.committedBytes -= entry.bytes;
    await rm(entry.path, { force: true });
    await rm(metaPathOf(entry.path), { force: true });
  }

  /** Keep an in-memory batch the receiver refused in <dir>/rejected/ (for a look, never replayed). */
  async saveRejected(seq: number, rows: number, meta: M, data: readonly Uint8Array[], token?: string): Promise<string> {
    const target = join(this.dir, 'rejected');
    await mkdir(target, { recursive: true });
    const base = join(target, name(seq));
    await writeFile(`${base}.json`, this.description(meta, rows, token));
    await writeChunks(`${base}.${this.codec.extension(meta)}`, data);
    return target;
  }

  /** Move a batch the store keeps refusing to <dir>/rejected/, out of the replay order. */
  async reject(entry: SpoolEntry<M>): Promise<string> {
    const i = this.list.indexOf(entry);
    if (i >= 0) {
      this.list.splice(i, 1);
      this.committedBytes -= entry.bytes;
    }
    const target = join(this.dir, 'rejected');
    await mkdir(target, { recursive: true });
    const base = name(entry.seq);
    await rename(entry.path, join(target, `${base}.${this.codec.extension(entry.meta)}`)).catch(() => undefined);
    await rename(metaPathOf(entry.path), join(target, `${base}.json`)).catch(() => undefined);
    return target;
  }
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

/** The codec of a sink whose batches are opaque frames (the bus outputs: format/bus-messages.ts),
 *  kept as they are under `kind`; nothing else to describe. */
export function framesCodec(kind: string): SpoolCodec<null> {
  return {
    describe: (_meta, rows) => ({ version: 1, kind, rows, createdAt: new Date().toISOString() }),
    extension: () => 'frames',
    extensions: ['frames'],
    read(json) {
      const m = json as { version?: unknown; kind?: unknown; rows?: unknown };
      if (m.kind !== kind || m.version !== 1) throw new UnknownSpoolFormat(`kind ${String(m.kind)}, version ${String(m.version)}`);
      if (typeof m.rows !== 'number') throw new Error('bad meta');
      return { meta: null, rows: m.rows };
    },
  };
}

/** The spool of a bus output's --<x>SpoolDir: none for an empty dir; one that cannot be opened
 *  (another dnslens holds it, no access) is a setting to fix (ConfigError naming the option). */
export async function openFramesSpool(option: string, dir: string, codec: SpoolCodec<null>, maxBytes: number): Promise<Spool<null> | null> {
  if (dir === '') return null;
  try {
    return await Spool.open(dir, { maxBytes, codec });
  } catch (e) {
    const why = e instanceof SpoolBusyError ? `another dnslens (pid ${e.pid}) uses it` : (e as Error).message;
    throw new ConfigError(option, `--${option} ${dir}: ${why}`);
  }
}
