// Which log files to read, in which order, and what each one is: its identity (the SHA-256 of its
// first line, the same after a rename or a copy) and where its lines are.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { glob, isDynamicPattern } from 'tinyglobby';

export interface LogFile {
  path: string;
  inode: number;
  size: number; // bytes on disk (compressed for .gz)
  mtimeMs: number;
  gz: boolean;
}

export const isGz = (path: string) => path.endsWith('.gz');

/** The number a rotated file carries (queries.log.3, dnsmasq.log.2.gz -> 3, 2; none -> -1). */
export function rotationNumber(path: string): number {
  const m = /\.(\d+)(\.gz)?$/.exec(basename(path));
  return m ? Number(m[1]) : -1;
}

/**
 * The files the patterns name (a glob, or a path), each once, oldest first: by modification time
 * (a rename keeps it, and so does gzip), then by rotation number, higher first (queries.log.2
 * before queries.log.1 before queries.log). A pattern that matches nothing is an error.
 */
export async function expandLogFiles(patterns: readonly string[]): Promise<LogFile[]> {
  const paths = new Set<string>();
  for (const p of patterns) {
    const found = isDynamicPattern(p) ? await glob(p, { absolute: isAbsolute(p), onlyFiles: true, expandDirectories: false }) : [p];
    if (found.length === 0) throw new Error(`${p}: no file matches`);
    for (const f of found) paths.add(f);
  }
  const files: LogFile[] = [];
  for (const path of paths) files.push(await logFile(path));
  return files.sort((a, b) => a.mtimeMs - b.mtimeMs || rotationNumber(b.path) - rotationNumber(a.path) || (a.path < b.path ? -1 : 1));
}

export async function logFile(path: string): Promise<LogFile> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new Error(e.code === 'ENOENT' ? `${path}: no such file` : e.code === 'EACCES' ? `${path}: not readable` : `${path}: ${e.message}`);
  });
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  return { path, inode: st.ino, size: st.size, mtimeMs: st.mtimeMs, gz: isGz(path) };
}

/** Rotated siblings of a followed file: queries.log.0, queries.log.1.gz, dnsmasq.log-20261207. */
export async function rotatedSiblings(path: string): Promise<LogFile[]> {
  const base = basename(path);
  const pattern = join(dirname(path), `${escapeGlob(base)}[.-]*`);
  const found = await glob(pattern, { absolute: isAbsolute(path), onlyFiles: true, expandDirectories: false });
  const files: LogFile[] = [];
  for (const f of found) files.push(await logFile(f).catch(() => null as unknown as LogFile));
  return files.filter(Boolean).sort((a, b) => a.mtimeMs - b.mtimeMs || rotationNumber(b.path) - rotationNumber(a.path));
}

const escapeGlob = (s: string) => s.replace(/[*?[\]{}()!\\]/g, '\\$&');

/** SHA-256 (hex) of a file's first line with its line break, or null while it has no whole line
 *  (a file just created, or truncated). A .gz file is read decompressed. */
export async function identityOf(path: string, gz = isGz(path)): Promise<string | null> {
  const line = gz ? await firstLineGz(path) : await firstLinePlain(path);
  return line === null ? null : createHash('sha256').update(line).digest('hex');
}

const MAX_FIRST_LINE = 1 << 20;

async function firstLinePlain(path: string): Promise<Buffer | null> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    let have = 0;
    let acc = Buffer.alloc(0);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, have);
      if (bytesRead === 0) return null;
      acc = Buffer.concat([acc, buf.subarray(0, bytesRead)]);
      const nl = acc.indexOf(10);
      if (nl >= 0) return acc.subarray(0, nl + 1);
      have += bytesRead;
      if (have > MAX_FIRST_LINE) return acc.subarray(0, MAX_FIRST_LINE); // a line that long: its start names the file
    }
  } finally {
    await fh.close();
  }
}

async function firstLineGz(path: string): Promise<Buffer | null> {
  let acc = Buffer.alloc(0);
  const stream = createReadStream(path).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      acc = Buffer.concat([acc, chunk]);
      const nl = acc.indexOf(10);
      if (nl >= 0) return acc.subarray(0, nl + 1);
      if (acc.length > MAX_FIRST_LINE) return acc.subarray(0, MAX_FIRST_LINE);
    }
    return null;
  } finally {
    stream.destroy();
  }
}
