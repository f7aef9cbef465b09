// Lines of a log file -> parser -> chunks of events. A chunk is lines [start, end) of one file; with a
// store, each is recorded before its events go out (LogRecord.cut) and its events are one insert.
// After a restart, reading starts where the stored events end (or earlier, to rebuild the queries
// the parser held there: warm-up, whose events were sent before and are dropped), and chunks an
// earlier run recorded beyond that are cut again at the same offsets (see logledger.ts).
import { isAscii } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { tagChunk, type LogLedger, type LogRecord } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Log } from '../../log.js';
import type { Counters } from '../../stats.js';
import { identityOf, logFile, rotatedSiblings, rotationNumber, type LogFile } from './files.js';
import type { LineParser, ParseContext } from './parser.js';
import { eventHash } from '../../hash.js';

/** What is the same for every file of one input. */
export interface LogInput {
  input: 'bind' | 'dnsmasq';
  parser: (ctx: ParseContext) => LineParser;
  context: (file: { mtimeMs: number }) => ParseContext;
  server: string;
  keepRawLine: boolean;
  maxChunkEvents: number;
  counters: Counters;
  log: Log;
  ledger?: LogLedger;
  signal?: AbortSignal;
  pollMs: number; // --logFollow: how often a file at its end is looked at again
}

interface Cut {
  events: DnsEvent[];
  start: number;
  end: number;
  holdFrom: number;
}

const BAD_LINES_LOGGED = 5;
// Longer lines are passed over (counted as skipped:too-long): no resolver writes them, and a file
// without line breaks must not grow a buffer without bound.
const MAX_LINE = 64 * 1024;
const TOO_LONG = Object.freeze({ skip: 'too-long' });

/** Feeds the lines of one file, from a byte offset, to a parser and cuts chunks of its events. */
export class LineReader {
  readonly cuts: Cut[] = [];
  pos: number; // file offset after the last whole line taken
  private events: DnsEvent[] = [];
  private chunkStart: number;
  private carry: Buffer | null = null; // a partial last line: read, not taken yet
  private overlong = 0; // bytes of a line longer than MAX_LINE passed over so far
  private cutAt = Date.now(); // when the last chunk was cut
  private readonly released = new Map<string, number>(); // releasedHash's copies
  private badLogged = 0;
  private lineNo = 0; // lines seen since reading started (warm-up included)
  private readonly seed: [number, number];
  private lineCount = 0; // counted into the counters once per push (a Map update per line costs)
  private eventCount = 0;
  private skips = new Map<string, number>();

  constructor(
    private readonly parser: LineParser,
    private readonly o: { in: LogInput; path: string; identity: string; startAt: number; resumeAt: number; boundaries: number[]; timelessMs?: number },
  ) {
    this.pos = o.startAt;
    this.chunkStart = o.resumeAt;
    this.seed = hashSeed(o.identity);
  }

  /** Moves what was counted meanwhile into the input's counters. */
  private count(): void {
    const c = this.o.in.counters;
    if (this.lineCount > 0) c.add('lines', this.lineCount);
    if (this.eventCount > 0) c.add('events', this.eventCount);
    for (const [k, n] of this.skips) c.add(`skipped:${k}`, n);
    this.lineCount = this.eventCount = 0;
    this.skips.clear();
  }

  /** The next bytes of the file (they follow what was pushed before). */
  push(buf: Buffer): void {
    if (this.overlong > 0) {
      // the rest of a line too long to keep: passed over up to its end
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.overlong += buf.length;
        return;
      }
      const bytes = this.overlong + nl + 1;
      this.overlong = 0;
      this.line(null, bytes);
      buf = buf.subarray(nl + 1);
    }
    if (this.carry) {
      buf = Buffer.concat([this.carry, buf]);
      this.carry = null;
    }
    const ascii = isAscii(buf);
    const text = ascii ? buf.toString('latin1') : '';
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(10, from);
      if (nl < 0) break;
      let to = nl;
      if (to > from && buf[to - 1] === 13) to--; // CRLF
      this.line(ascii ? text.slice(from, to) : buf.toString('utf8', from, to), nl + 1 - from);
      from = nl + 1;
    }
    if (from < buf.length) {
      this.carry = buf.subarray(from);
      if (this.carry.length > MAX_LINE) {
        this.overlong = this.carry.length;
        this.carry = null;
      }
    }
    this.count();
  }

  /** The offset after the bytes pushed so far (a partial last line included). */
  get readAt(): number {
    return this.pos + this.overlong + (this.carry?.length ?? 0);
  }

  /** No more bytes for now (a followed file at its end): cut what is gathered once the chunk is
   *  minAgeMs old (one insert a second or so, not one per look at the file), unless a recorded
   *  chunk end is still ahead. */
  pause(minAgeMs = 0): void {
    if (this.o.boundaries.length > 0 || Date.now() - this.cutAt < minAgeMs) return;
    this.parser.expire(this.events);
    this.finish(this.events, this.pos, this.doneBefore);
    this.count();
    if (this.events.length > 0) this.cut();
  }

  /**
   * The file's end. A last line without a line break is taken only when takeLast is set (a file
   * that no longer grows: compressed, rotated, stdin); otherwise it is left for the next run, as
   * it may be half written. Then what the lines gave is one chunk, and what the parser still held
   * (going out unanswered) one of its own, [end, end): a run after a crash cuts both again alike.
   */
  end(takeLast: boolean): void {
    if (this.carry && takeLast) {
      const c = this.carry;
      this.carry = null;
      let n = c.length;
      if (n > 0 && c[n - 1] === 13) n--;
      this.line(c.toString('utf8', 0, n), c.length);
    } else if (this.carry) {
      this.o.in.counters.add('unterminated');
      this.o.in.log.info({ file: this.o.path, offset: this.pos }, `${this.o.path}: its last line has no line break yet; it is read by the next run`);
    }
    if (this.overlong > 0 && takeLast) this.line(null, this.overlong);
    if (this.events.length > 0 || this.o.boundaries.length > 0) {
      this.parser.expire(this.events);
      this.finish(this.events, this.pos, this.doneBefore);
      this.cut();
    }
    this.parser.end(this.events);
    this.finish(this.events, this.pos, this.doneBefore);
    this.count();
    if (this.events.length > 0) this.cut();
  }

  private doneBefore = 0; // events[0..doneBefore) are finished (hash, names)

  // text null: a line longer than MAX_LINE, passed over
  private line(text: string | null, bytes: number): void {
    const start = this.pos;
    const end = start + bytes;
    const before = this.events.length;
    this.lineNo++;
    const kind = text === null ? TOO_LONG : this.parser.line(text, start, this.events);
    text ??= '';
    this.pos = end;
    if (end <= this.o.resumeAt) {
      // warm-up: only what the parser holds counts; what these lines completed was sent before
      this.events.length = before;
      if (end === this.o.resumeAt) {
        this.parser.expire(this.events); // the earlier run expired these at its cuts: sent too
        this.events.length = before;
      }
      return;
    }
    this.lineCount++;
    if (kind === 'bad') {
      this.o.in.counters.add('bad');
      if (this.badLogged++ < BAD_LINES_LOGGED) {
        // line numbers are known when reading started at the file's start; else the byte offset says where
        const where = this.o.startAt === 0 ? `line ${this.lineNo}, byte ${start}` : `byte ${start}`;
        this.o.in.log.warn({ file: this.o.path, lineNo: this.o.startAt === 0 ? this.lineNo : undefined, offset: start, line: text.slice(0, 300) }, `${this.o.path}:${this.o.startAt === 0 ? this.lineNo : ''} a line that looks like DNS but does not parse (${where})`);
      }
    } else if (kind !== 'dns') this.skips.set(kind.skip, (this.skips.get(kind.skip) ?? 0) + 1);
    this.finish(this.events, start, before, text);
    const b = this.o.boundaries;
    if (b.length > 0) {
      if (end >= b[0]) {
        if (end !== b[0]) this.o.in.log.warn({ file: this.o.path, recorded: b[0], at: end }, `${this.o.path}: a recorded chunk ends inside a line (the file changed?); cut at the line's end`);
        while (b.length > 0 && b[0] <= end) b.shift();
        this.parser.expire(this.events);
        this.finish(this.events, end, this.doneBefore);
        this.cut();
      }
    } else if (this.events.length >= this.o.in.maxChunkEvents) {
      this.parser.expire(this.events);
      this.finish(this.events, end, this.doneBefore);
      this.cut();
    }
  }

  // Fills what every log event of this input shares, for events[from..].
  private finish(events: DnsEvent[], offset: number, from: number, text = ''): void {
    const n = events.length;
    if (n === from) return;
    const { server, keepRawLine } = this.o.in;
    const path = this.o.path;
    for (let i = from; i < n; i++) {
      const ev = events[i];
      ev.server = server;
      ev.inputKind = 'log';
      ev.inputName = path;
      ev.eventHash = text !== '' ? eventHash(this.seed, offset, i - from, text) : this.releasedHash(ev);
      if (keepRawLine && ev.rawLine === '') ev.rawLine = text;
      if (ev.timeSec === 0) this.timeless(ev);
    }
    this.doneBefore = n;
    this.eventCount += n - from;
  }

  // An event the parser let go without a line (a query unanswered at expire() or end()): hashed by
  // what it is, not where the chunk was cut, so a run that cuts elsewhere gives the same hash.
  // Copies of one query (same time, client, name) are told apart by their order.
  private releasedHash(ev: DnsEvent): string {
    const key = `${ev.timeSec}.${ev.timeNsec}|${ev.srcIp}|${ev.dstIp}|${ev.srcPort}|${ev.qname}|${ev.qtype}|${ev.qr ? 1 : 0}`;
    const n = this.released.get(key) ?? 0;
    if (this.released.size >= 10_000) this.released.clear();
    this.released.set(key, n + 1);
    return eventHash(this.seed, -1, n, key);
  }

  // A line without a time (BIND without print-time): the time it was read when following, else
  // the file's last change (the time of its last line).
  private timeless(ev: DnsEvent): void {
    const ms = this.o.timelessMs ?? Date.now();
    ev.timeSec = Math.floor(ms / 1000);
    ev.timeNsec = Math.floor(ms % 1000) * 1_000_000;
  }

  private cut(): void {
    this.cutAt = Date.now();
    const held = this.parser.heldFrom();
    this.cuts.push({ events: this.events, start: this.chunkStart, end: this.pos, holdFrom: held >= 0 ? held : this.pos });
    this.events = [];
    this.doneBefore = 0;
    this.chunkStart = this.pos;
  }
}

// 64-bit FNV-1a-style hash over the file identity (seed), the line's offset and text, and the
// event's place among the line's events: the same line of the same file is the same event in every run.
function hashSeed(identity: string): [number, number] {
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < identity.length; i++) {
    const c = identity.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15);
  }
  return [h1, h2];
}

// ------------------------------------------------------------------ reading a file once

/** Chunks of one file read to its end, from where the store says an earlier run stopped. A file
 *  that went away or cannot be read is logged and counted (filesGone, filesUnreadable), the others
 *  are read on. */
export async function* readLogFile(file: LogFile, li: LogInput): AsyncGenerator<DnsEvent[]> {
  try {
    const identity = await identityOf(file.path, file.gz);
    if (identity === null && file.size === 0) return; // empty: nothing to read or record
    const id = identity ?? `unterminated:${file.path}`;
    const record = li.ledger ? await li.ledger.open({ input: li.input, path: file.path, identity: id, inode: file.inode }) : null;
    // read to its end before: skipped, unless it grew since (a live file read once again)
    if (record?.complete && (file.gz || file.size <= record.resumeAt)) {
      li.counters.add('filesSkipped');
      li.log.info({ file: file.path }, `${file.path}: read to its end before (the store has its events); skipped`);
      return;
    }
    li.counters.add('files');
    const reader = newReader(file.path, id, record, li, file);
    yield* chunksOf(reader, record, bytesFrom(file, reader.readAt, li.signal), li.signal);
    if (li.signal?.aborted) return;
    // a compressed or rotated file no longer grows: its last line is whole even without a line break
    reader.end(file.gz || rotationNumber(file.path) >= 0);
    yield* drain(reader, record);
    record?.ended(reader.pos, file.size);
  } catch (e) {
    if (!fileTrouble(e, file.path, li)) throw e;
  }
}

// A file that went away, cannot be read, or whose reading was stopped: logged and counted (true),
// or another failure (false).
function fileTrouble(e: unknown, path: string, li: LogInput): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  if ((e as Error).name === 'AbortError' || code === 'ABORT_ERR') return true;
  if (code === 'ENOENT') {
    li.counters.add('filesGone');
    li.log.warn({ file: path }, `${path}: gone before it was read to its end (rotated away?); its rest is not read`);
    return true;
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EISDIR') {
    li.counters.add('filesUnreadable');
    li.log.warn({ file: path, code }, `${path}: cannot be read (${code}); skipped`);
    return true;
  }
  if (code === 'Z_DATA_ERROR' || code === 'Z_BUF_ERROR') {
    li.counters.add('filesDamaged');
    li.log.warn({ file: path, err: (e as Error).message }, `${path}: its compressed data is damaged; read up to the damage`);
    return true;
  }
  return false;
}

/** Standard input: read to its end, not recorded (it cannot be read again). */
export async function* readLogStdin(li: LogInput): AsyncGenerator<DnsEvent[]> {
  const reader = new LineReader(li.parser(li.context({ mtimeMs: Date.now() })), { in: li, path: '-', identity: 'stdin', startAt: 0, resumeAt: 0, boundaries: [] });
  yield* chunksOf(reader, null, process.stdin as AsyncIterable<Buffer>, li.signal);
  reader.end(true);
  yield* drain(reader, null);
}

function newReader(path: string, identity: string, record: LogRecord | null, li: LogInput, file: { mtimeMs: number }, following = false): LineReader {
  const resumeAt = record?.resumeAt ?? 0;
  const startAt = record ? Math.min(record.holdFrom, resumeAt) : 0;
  const boundaries = record ? record.pending.map((p) => p.end) : [];
  if (resumeAt > 0) li.log.info({ file: path, offset: resumeAt }, `${path}: resuming at byte ${resumeAt}, where the stored events end`);
  return new LineReader(li.parser(li.context(file)), { in: li, path, identity, startAt, resumeAt, boundaries, timelessMs: following ? undefined : file.mtimeMs });
}

async function* chunksOf(reader: LineReader, record: LogRecord | null, bytes: AsyncIterable<Buffer>, signal?: AbortSignal): AsyncGenerator<DnsEvent[]> {
  for await (const buf of bytes) {
    reader.push(buf);
    yield* drain(reader, record);
    if (signal?.aborted) return;
  }
}

async function* drain(reader: LineReader, record: LogRecord | null): AsyncGenerator<DnsEvent[]> {
  while (reader.cuts.length > 0) {
    const c = reader.cuts.shift()!;
    if (record) tagChunk(c.events, await record.cut(c.start, c.end, c.holdFrom));
    if (c.events.length > 0) yield c.events;
  }
}

/** A file's bytes from an offset (of the decompressed content, for .gz). */
async function* bytesFrom(file: LogFile, offset: number, signal?: AbortSignal): AsyncGenerator<Buffer> {
  if (!file.gz) {
    for await (const b of createReadStream(file.path, { start: offset, highWaterMark: 1 << 20, signal }) as AsyncIterable<Buffer>) yield b;
    return;
  }
  let skip = offset;
  for await (const b of createReadStream(file.path, { signal }).pipe(createGunzip({ chunkSize: 1 << 20 })) as AsyncIterable<Buffer>) {
    if (skip >= b.length) {
      skip -= b.length;
      continue;
    }
    yield skip > 0 ? b.subarray(skip) : b;
    skip = 0;
  }
}

// ------------------------------------------------------------------ following a file (tail -F)

const ROTATION_GRACE_MS = 1000;
// A followed file's chunk is cut once it is this old (or full): about one insert a second per file.
const FOLLOW_CHUNK_MS = 1000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Follows a path like tail -F: reads the file to its end and waits for more; when the path names
 * another file (rotation by rename), reads the old one until it has been quiet for a while (the
 * writer may not have reopened its log yet), then moves on; when the file shrinks (copy-truncate),
 * reads the rest from the copy (the sibling with the same first line) and starts over; waits for a
 * file that does not exist yet. At start, a rotated sibling the store has a record of is read to
 * its end first (the file rotated while dnslens was down).
 */
export async function* followLogFile(path: string, li: LogInput): AsyncGenerator<DnsEvent[]> {
  const signal = li.signal;
  let first = true;
  while (!signal?.aborted) {
    const f = await waitForFile(path, li);
    if (!f) return;
    if (first && li.ledger) yield* finishRotated(path, f.file.inode, li);
    first = false;
    const record = li.ledger ? await li.ledger.open({ input: li.input, path, identity: f.identity, inode: f.file.inode }) : null;
    li.counters.add('files');
    const reader = newReader(path, f.identity, record, li, f.file, true);
    const fh = await open(path, 'r').catch(() => null);
    if (!fh) continue; // gone again
    const ino = (await fh.stat()).ino;
    const buf = Buffer.allocUnsafe(1 << 20);
    // what the file has beyond what was read, chunk by chunk as they are cut
    async function* readMore(): AsyncGenerator<DnsEvent[]> {
      while (!signal?.aborted) {
        const { bytesRead } = await fh!.read(buf, 0, buf.length, reader.readAt);
        if (bytesRead === 0) return;
        reader.push(Buffer.from(buf.subarray(0, bytesRead)));
        yield* drain(reader, record);
      }
    }
    try {
      for (;;) {
        yield* readMore();
        reader.pause(FOLLOW_CHUNK_MS);
        yield* drain(reader, record);
        await sleep(li.pollMs, signal);
        if (signal?.aborted) return;
        const now = await stat(path).catch(() => null);
        if (!now || now.ino !== ino) {
          // Rotated by rename (or removed). The writer may go on writing to the old file until it
          // reopens its log (logrotate's postrotate signal): it is read until it has been quiet
          // for a while, then the new file.
          let quietSince = Date.now();
          while (!signal?.aborted && Date.now() - quietSince < Math.max(ROTATION_GRACE_MS, 3 * li.pollMs)) {
            const at = reader.readAt;
            yield* readMore();
            if (reader.readAt !== at) quietSince = Date.now();
            reader.pause(FOLLOW_CHUNK_MS);
            yield* drain(reader, record);
            await sleep(li.pollMs, signal);
          }
          if (signal?.aborted) return;
          yield* readMore();
          reader.end(true);
          yield* drain(reader, record);
          li.counters.add('rotations');
          break;
        }
        const size = (await fh.stat()).size;
        if (size < reader.readAt) {
          // copy-truncate: what was written after our position is in the copy
          li.counters.add('truncations');
          const copy = await findCopy(path, f.identity, reader.readAt);
          if (copy) yield* chunksOf(reader, record, bytesFrom(copy, reader.readAt, signal), signal);
          else li.log.warn({ file: path, offset: reader.pos }, `${path} was truncated and no copy of it was found: lines written after byte ${reader.pos} before the truncation are lost`);
          reader.end(true);
          yield* drain(reader, record);
          break;
        }
      }
    } catch (e) {
      if (!fileTrouble(e, path, li)) throw e;
    } finally {
      await fh.close();
    }
  }
}

async function waitForFile(path: string, li: LogInput): Promise<{ file: LogFile; identity: string } | null> {
  let said = '';
  while (!li.signal?.aborted) {
    const file = await logFile(path).catch(() => null);
    let why = file ? 'waiting for its first line' : 'does not exist yet: waiting for it';
    let identity: string | null = null;
    if (file) {
      identity = await identityOf(path, false).catch((e: NodeJS.ErrnoException) => {
        why = `cannot be read (${e.code ?? e.message}): waiting until it can`;
        return null;
      });
    }
    if (file && identity) return { file, identity };
    if (said !== why) {
      li.log[why.startsWith('cannot') ? 'warn' : 'info']({ file: path }, `${path} ${why}`);
      said = why;
    }
    await sleep(li.pollMs, li.signal);
  }
  return null;
}

async function findCopy(path: string, identity: string, minSize: number): Promise<LogFile | null> {
  for (const s of (await rotatedSiblings(path)).reverse()) {
    if (!s.gz && s.size < minSize) continue;
    if ((await identityOf(s.path, s.gz).catch(() => null)) === identity) return s;
  }
  return null;
}

// Siblings of a followed path that were rotated while dnslens was down: those the store has a
// record of and that were not read to their end, and those written since the path was first
// followed that it has none of (rotated before dnslens read them). Never-followed paths: none.
async function* finishRotated(path: string, currentInode: number, li: LogInput): AsyncGenerator<DnsEvent[]> {
  const since = li.ledger ? await li.ledger.firstSeen(li.input, path) : null;
  if (since === null) return;
  for (const s of await rotatedSiblings(path)) {
    if (s.inode === currentInode) continue;
    try {
      const identity = await identityOf(s.path, s.gz);
      if (!identity || !li.ledger) continue;
      const known = await li.ledger.open({ input: li.input, path, identity, inode: s.inode }, { onlyKnown: true });
      if (!known && s.mtimeMs < since) continue;
      const record = known ?? (await li.ledger.open({ input: li.input, path, identity, inode: s.inode }));
      if (record.complete || (!s.gz && record.resumeAt >= s.size && record.pending.length === 0)) continue;
      li.log.info({ file: s.path, offset: record.resumeAt }, `${s.path}: rotated while dnslens was down; reading the rest of it from byte ${record.resumeAt}`);
      const reader = newReader(s.path, identity, record, li, s);
      yield* chunksOf(reader, record, bytesFrom(s, reader.readAt, li.signal), li.signal);
      if (li.signal?.aborted) return;
      reader.end(true);
      yield* drain(reader, record);
      record.ended(reader.pos, s.size);
    } catch (e) {
      if (!fileTrouble(e, s.path, li)) throw e;
    }
  }
}
