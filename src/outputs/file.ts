// Text lines appended to a file, with optional rotation by size and/or age.
//
// Rotation by size cuts before the line that would take the file past rotateSize. Rotation by
// age starts a new file with the first batch that arrives rotateIntervalMs or more after the
// current period began (at start-up or at the previous age rotation); an idle period leaves
// its file alone, so no empty files appear.
// Rotation renames, logrotate style: the live file `path` becomes `path.1`, `path.1` becomes
// `path.2`, ... and only `retain` rotated files are kept (0: none, the old data is deleted).
// A file is cut between lines, never inside one. The csv header starts every new file.
// Batches are encoded at once (the caller may reuse its events) and written in order by one
// writer; write() returns a promise while more than HIGH_WATER bytes wait for the disk.
import { open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { makeDirs } from '../mkdirs.js';
import { basename, dirname, join } from 'node:path';
import type { DnsEvent } from '../event.js';
import type { Counters } from '../stats.js';
import { log } from '../log.js';
import { encodeLines, encodeHeader, formatOptions, textFormat, type TextFormat } from './format.js';
import { defineOutput, type Output } from '../component.js';
import { ConfigError, dur, int, outputType, str } from '../options.js';

export interface FileOutputOptions {
  path: string;
  format: TextFormat;
  rotateSize: number; // bytes; 0: off
  rotateIntervalMs: number; // 0: off
  retain: number; // rotated files kept (path.1 is the newest)
  counters?: Counters; // counts the events written
}

const HIGH_WATER = 8 << 20;

interface Pending {
  buf: Buffer;
  ends: number[] | undefined; // end offset of each line, when rotating by size
  rotateFirst: boolean; // a new time period began with this batch
}

function checkCount(name: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`file output: ${name} must be a whole number >= 0, got ${v}`);
}

// fsync is meaningless on a pipe or a character device (/dev/stdout, /dev/null).
async function syncQuietly(fh: FileHandle): Promise<void> {
  try {
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EROFS') throw err;
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

export async function fileOutput(opts: FileOutputOptions): Promise<Output> {
  const { path, format, rotateSize, rotateIntervalMs, retain } = opts;
  if (path === '') throw new Error('file output: no path given');
  checkCount('rotateSize', rotateSize);
  checkCount('rotateIntervalMs', rotateIntervalMs);
  checkCount('retain', retain);

  const header = encodeHeader(format);
  const dir = dirname(path);
  const rotatedName = new RegExp(`^${basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)$`);

  let fh: FileHandle | null = null;
  let size = 0; // bytes in the live file
  let headerBytes = 0; // of which our header
  let rotating = rotateSize > 0 || rotateIntervalMs > 0;

  async function openLive(): Promise<void> {
    try {
      await makeDirs(dir);
      fh = await open(path, 'a');
      const st = await fh.stat();
      if (rotating && !st.isFile()) {
        log.warn({ path }, 'file output: not a regular file, rotation disabled');
        rotating = false;
      }
      size = st.isFile() ? st.size : 0;
    } catch (err) {
      throw new Error(`file output: cannot open ${path}: ${(err as Error).message}`);
    }
    headerBytes = 0;
    if (size === 0 && header.length > 0) {
      await writeAll(header, 0, header.length);
      headerBytes = header.length;
    }
  }

  async function writeAll(buf: Buffer, from: number, to: number): Promise<void> {
    let off = from;
    while (off < to) {
      const { bytesWritten } = await fh!.write(buf, off, to - off);
      off += bytesWritten;
    }
    size += to - from;
  }

  async function removeBeyondRetain(): Promise<void> {
    for (const name of await readdir(dir)) {
      const m = rotatedName.exec(name);
      if (m && Number(m[1]) >= retain) await rm(join(dir, name), { force: true });
    }
  }

  async function rotate(): Promise<void> {
    await syncQuietly(fh!);
    await fh!.close();
    fh = null;
    await removeBeyondRetain();
    if (retain === 0) {
      await rm(path, { force: true });
    } else {
      for (let i = retain - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(ignoreMissing);
      await rename(path, `${path}.1`);
    }
    await openLive();
  }

  async function writePending(p: Pending): Promise<void> {
    if (p.rotateFirst && size > headerBytes) await rotate();
    if (!rotating || rotateSize === 0 || !p.ends) {
      await writeAll(p.buf, 0, p.buf.length);
      return;
    }
    // Cut before the line that would overflow, if the file already holds a line.
    let start = 0;
    let prevEnd = 0;
    for (const end of p.ends) {
      if (size + (end - start) > rotateSize && size + (prevEnd - start) > headerBytes) {
        await writeAll(p.buf, start, prevEnd);
        start = prevEnd;
        await rotate();
      }
      prevEnd = end;
    }
    await writeAll(p.buf, start, p.buf.length);
  }

  await openLive();

  const queue: Pending[] = [];
  let queued = 0;
  let pumping: Promise<void> | null = null;
  let failure: Error | null = null;
  let closed = false;
  let waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  // Time rotation is decided when a batch arrives, so a slow disk does not shift the periods.
  let periodStart = Date.now();
  let periodEvents = 0;

  function settleWaiters(): void {
    if (waiters.length === 0 || (queued >= HIGH_WATER && !failure)) return;
    const ws = waiters;
    waiters = [];
    for (const w of ws) {
      if (failure) w.reject(failure);
      else w.resolve();
    }
  }

  async function pump(): Promise<void> {
    try {
      while (queue.length > 0) {
        const p = queue[0];
        await writePending(p);
        queue.shift();
        queued -= p.buf.length;
        settleWaiters();
      }
    } catch (err) {
      failure = new Error(`file output: writing ${path} failed: ${(err as Error).message}`);
      queue.length = 0;
      queued = 0;
      settleWaiters();
    } finally {
      pumping = null;
    }
  }

  return {
    name: 'file',
    write(events: readonly DnsEvent[]): void | Promise<void> {
      if (failure) throw failure;
      if (closed) throw new Error(`file output: write to ${path} after close`);
      if (events.length === 0) return;
      opts.counters?.add('written', events.length);
      let rotateFirst = false;
      if (rotating && rotateIntervalMs > 0) {
        const now = Date.now();
        if (now - periodStart >= rotateIntervalMs) {
          rotateFirst = periodEvents > 0; // a period without events leaves its file in place
          periodStart = now;
          periodEvents = 0;
        }
        periodEvents += events.length;
      }
      const ends = rotating && rotateSize > 0 ? [] : undefined;
      const buf = encodeLines(format, events, ends);
      queue.push({ buf, ends, rotateFirst });
      queued += buf.length;
      pumping ??= pump();
      if (queued >= HIGH_WATER) return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      while (pumping) await pumping;
      if (fh) {
        const f: FileHandle = fh;
        fh = null;
        try {
          if (!failure) await syncQuietly(f);
        } finally {
          await f.close();
        }
      }
      if (failure) throw failure;
    },
  };
}

const S = 'file_output';

export const file = defineOutput({
  kind: 'output',
  name: 'file',
  section: S,
  options: [
    outputType('file', S, 'the file'),
    str('fileOutputPath', S, '', 'Path of the output file (required when fileOutputType is not 0)'),
    ...formatOptions('file', S, 'the file'),
    { name: 'fileOutputRotateSize', section: S, kind: 'bytes', default: '0', description: 'Rotate the file when it reaches this size (e.g. 100MB, 1GiB); 0 = never', status: 'ready' },
    dur('fileOutputRotateInterval', S, '0', 'Rotate the file this often; 0 = never'),
    int('fileOutputRetain', S, 7, 'Number of rotated files kept'),
  ],
  typeOption: 'fileOutputType',
  counters: { written: 'events written' },
  check(s, from) {
    if (s.fileOutputType > 0 && s.fileOutputPath === '') {
      throw new ConfigError('fileOutputPath', `--fileOutputPath: required when --fileOutputType is ${s.fileOutputType}${from('fileOutputType')}`);
    }
    if (s.fileOutputType > 0) textFormat(s.fileOutputFormat, s.fileOutputGoTemplate, 'fileOutputGoTemplate');
  },
  async open({ settings, counters }) {
    const out = await fileOutput({
      path: settings.fileOutputPath,
      format: textFormat(settings.fileOutputFormat, settings.fileOutputGoTemplate, 'fileOutputGoTemplate'),
      rotateSize: settings.fileOutputRotateSize,
      rotateIntervalMs: settings.fileOutputRotateInterval,
      retain: settings.fileOutputRetain,
      counters,
    });
    return { output: out };
  },
});
