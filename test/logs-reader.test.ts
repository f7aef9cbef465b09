// The log reader on its own, with a toy format and an in-memory ledger: chunks, resume after a crash
// at any point (no gap, no duplicate, held queries rebuilt), rotation by rename, copy-truncate, a
// file that appears later. The formats (bind, dnsmasq) and the store have their own tests.
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogChunk, LogLedger, LogRecord } from '../src/component.js';
import { chunkOf } from '../src/component.js';
import { newEvent, type DnsEvent } from '../src/event.js';
import { childLog } from '../src/log.js';
import type { LineParser } from '../src/inputs/logs/parser.js';
import { followLogFile, readLogFile, type LogInput } from '../src/inputs/logs/reader.js';
import { logFile } from '../src/inputs/logs/files.js';
import { Stats } from '../src/stats.js';
import { localClock } from '../src/zone.js';

// "<sec> Q <name>" holds a query; "<sec> R <name>" answers the oldest held one of that name (both go
// out then); queries older than 10 s of log time go out unanswered at expire(); "# ..." is skipped.
function toyParser(): LineParser {
  const held: { name: string; at: number; offset: number; ev: DnsEvent }[] = [];
  let now = 0;
  const release = (out: DnsEvent[], i: number) => {
    const [h] = held.splice(i, 1);
    h.ev.unanswered = true;
    out.push(h.ev);
  };
  return {
    line(text, offset, out) {
      if (text.startsWith('#')) return { skip: 'comment' };
      const m = /^(\d+) ([QR]) (\S+)$/.exec(text);
      if (!m) return 'bad';
      now = Number(m[1]);
      const ev = newEvent();
      ev.timeSec = now;
      ev.qname = m[3];
      if (m[2] === 'Q') {
        held.push({ name: m[3], at: now, offset, ev });
        return 'dns';
      }
      ev.qr = true;
      const i = held.findIndex((h) => h.name === m[3]);
      if (i >= 0) {
        const [h] = held.splice(i, 1);
        h.ev.responseTimeUs = ev.responseTimeUs = (now - h.at) * 1e6;
        out.push(h.ev);
      }
      out.push(ev);
      return 'dns';
    },
    heldFrom: () => (held.length ? Math.min(...held.map((h) => h.offset)) : -1),
    expire(out) {
      for (let i = held.length - 1; i >= 0; i--) if (now - held[i].at > 10) release(out, i);
    },
    end(out) {
      while (held.length) release(out, 0);
    },
  };
}

// The store as the ledger sees it: chunks recorded (write-ahead), inserts stored once per token.
class MemoryLedger implements LogLedger {
  readonly records = new Map<string, { resumeAt: number; holdFrom: number; complete: boolean; chunks: { start: number; end: number }[] }>();
  readonly stored = new Map<string, DnsEvent[]>(); // token -> events
  open(file: { identity: string }): Promise<LogRecord>;
  open(file: { identity: string }, opts: { onlyKnown: true }): Promise<LogRecord | null>;
  async open(file: { identity: string }, opts?: { onlyKnown: true }): Promise<LogRecord | null> {
    let r = this.records.get(file.identity);
    if (!r) {
      if (opts?.onlyKnown) return null;
      r = { resumeAt: 0, holdFrom: 0, complete: false, chunks: [] };
      this.records.set(file.identity, r);
    }
    const state = r;
    const id = file.identity.slice(0, 8);
    const rec: LogRecord = {
      id,
      resumeAt: state.resumeAt,
      holdFrom: state.holdFrom,
      complete: state.complete,
      pending: state.chunks.filter((c) => c.start >= state.resumeAt),
      cut: async (start, end, holdFrom): Promise<LogChunk> => {
        if (!state.chunks.some((c) => c.start === start && c.end === end)) state.chunks.push({ start, end });
        return { record: rec, start, end, holdFrom, token: `${id}:${start}-${end}`, indexTimeSec: 0 };
      },
      ended: () => undefined,
    };
    return rec;
  }
  async firstSeen(): Promise<number | null> {
    return this.records.size > 0 ? 0 : null;
  }
  /** The store takes a chunk's insert (dropped when it has the token) and the record moves on. */
  store(events: DnsEvent[], identity: string): void {
    const c = chunkOf(events)!;
    if (!this.stored.has(c.token)) this.stored.set(c.token, events);
    const r = this.records.get(identity)!;
    r.resumeAt = c.end;
    r.holdFrom = c.holdFrom;
  }
  all(): DnsEvent[] {
    return [...this.stored.values()].flat();
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'dnslens-logs-'));
  dirs.push(d);
  return d;
};

function input(ledger?: LogLedger, extra: Partial<LogInput> = {}): LogInput {
  return {
    input: 'bind',
    parser: () => toyParser(),
    context: () => ({ toUtc: () => 0, fileYear: 2026, fileMonth: 12 }),
    server: 'test',
    keepRawLine: false,
    maxChunkEvents: 7,
    counters: new Stats().counters('logs'),
    log: childLog({ component: 'test' }),
    ledger,
    pollMs: 20,
    ...extra,
  };
}

// A log whose queries are answered 0-3 lines later, some never; every 10th line a comment.
function toyLog(n: number): string {
  const lines: string[] = [];
  const open: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 === 9) lines.push(`# note ${i}`);
    else if (open.length > 0 && i % 3 === 0) lines.push(`${i} R ${open.shift()}`);
    else {
      const name = `n${i}.test`;
      lines.push(`${i} Q ${name}`);
      if (i % 7 !== 0) open.push(name); // every 7th is never answered
    }
  }
  return lines.join('\n') + '\n';
}

const key = (e: DnsEvent) => `${e.qr ? 'R' : 'Q'} ${e.qname} ${e.unanswered} ${e.responseTimeUs}`;

async function collect(it: AsyncIterable<DnsEvent[]>, limit = Infinity): Promise<DnsEvent[][]> {
  const out: DnsEvent[][] = [];
  for await (const c of it) {
    out.push(c);
    if (out.length >= limit) break;
  }
  return out;
}

describe('log reader', () => {
  it('reads a file once in chunks: every event once, hashed, skipped and bad lines counted', async () => {
    const dir = tmp();
    const path = join(dir, 'q.log');
    writeFileSync(path, toyLog(200) + 'garbage\n');
    const logged: string[] = [];
    const li = input(undefined, { log: { ...childLog({ component: 'test' }), warn: (_: object, m: string) => void logged.push(m) } as unknown as LogInput['log'] });
    const chunks = await collect(readLogFile(await logFile(path), li));
    const events = chunks.flat();
    expect(chunks.length).toBeGreaterThan(5);
    expect(chunks.slice(0, -1).every((c) => c.length >= 7)).toBe(true); // cut once 7 events are gathered
    expect(new Set(events.map((e) => e.eventHash)).size).toBe(events.length);
    expect(events.every((e) => e.inputKind === 'log' && e.inputName === path && e.server === 'test')).toBe(true);
    expect(li.counters.get('skipped:comment')).toBe(20);
    expect(li.counters.get('bad')).toBe(1);
    expect(logged.some((m) => m.includes('q.log:201 a line that looks like DNS but does not parse (line 201,'))).toBe(true);
    expect(li.counters.get('lines')).toBe(201);
    expect(li.counters.get('events')).toBe(events.length);
    // every query once (answered or not), every response once
    const queries = events.filter((e) => !e.qr).map((e) => e.qname);
    expect(new Set(queries).size).toBe(queries.length);
    expect(queries.length).toBe(toyLog(200).split('\n').filter((l) => / Q /.test(l)).length);
  });

  it('resumes after a crash at any chunk, with any of the in-flight chunks stored: no gap, no duplicate', async () => {
    const dir = tmp();
    const path = join(dir, 'q.log');
    writeFileSync(path, toyLog(300));
    const whole = (await collect(readLogFile(await logFile(path), input()))).flat().map(key).sort();
    const total = (await collect(readLogFile(await logFile(path), input()))).length;
    // up to the file's end: its last chunks (what the lines gave, then what the parser still held)
    for (const crashAfter of [1, 2, 5, 9, 17, total - 1, total]) {
      for (const inFlight of [0, 1, 2]) {
        const ledger = new MemoryLedger();
        const identity = [...(await collectIdentity(path))][0];
        // run 1: reads crashAfter chunks; the store took all but the last inFlight of them
        const run1 = await collect(readLogFile(await logFile(path), input(ledger)), crashAfter);
        for (const c of run1.slice(0, run1.length - inFlight)) ledger.store(c, identity);
        // the in-flight ones may have landed or not: here the first of them did, unrecorded
        if (inFlight === 2 && run1.length >= 2) ledger.stored.set(chunkOf(run1.at(-2)!)!.token, run1.at(-2)!);
        // run 2 reads on to the end
        for (const c of await collect(readLogFile(await logFile(path), input(ledger)))) ledger.store(c, identity);
        expect(ledger.all().map(key).sort(), `crash after ${crashAfter} chunks, ${inFlight} in flight`).toEqual(whole);
      }
    }
  });

  it('follows a file through rotation by rename and copy-truncate, and waits for a file to appear', async () => {
    const dir = tmp();
    const path = join(dir, 'live.log');
    const stop = new AbortController();
    const li = input(undefined, { signal: stop.signal, maxChunkEvents: 1000 });
    const got: DnsEvent[] = [];
    const reading = (async () => {
      for await (const c of followLogFile(path, li)) got.push(...c);
    })();
    const until = async (n: number) => {
      for (let i = 0; i < 250 && got.filter((e) => !e.qr).length < n; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got.filter((e) => !e.qr).length).toBe(n);
    };
    await new Promise((r) => setTimeout(r, 60)); // not there yet
    writeFileSync(path, '1 Q a1.test\n2 R a1.test\n');
    await until(1);
    appendFileSync(path, '3 Q a2.test\n4 R a2.test\n');
    await until(2);
    renameSync(path, `${path}.1`); // rotation by rename: the last lines land in the old file
    appendFileSync(`${path}.1`, '5 Q a3.test\n6 R a3.test\n');
    writeFileSync(path, '7 Q b1.test\n8 R b1.test\n');
    await until(4);
    appendFileSync(path, '9 Q b2.test\n10 R b2.test\n');
    await until(5);
    // copy-truncate: lines after the reader's position reach it through the copy
    appendFileSync(path, '11 Q b3.test\n12 R b3.test\n');
    copyFileSync(path, `${path}.2`);
    truncateSync(path, 0);
    writeFileSync(path, '13 Q c1.test\n14 R c1.test\n');
    await until(7);
    stop.abort();
    await reading;
    expect(got.filter((e) => !e.qr).map((e) => e.qname)).toEqual(['a1.test', 'a2.test', 'a3.test', 'b1.test', 'b2.test', 'b3.test', 'c1.test']);
    expect(got.every((e) => e.responseTimeUs === 1e6 || e.qr)).toBe(true);
    expect(li.counters.get('rotations')).toBe(1);
  });
});

describe('log reader with dnsmasq pairing', () => {
  it('a restart rebuilds what was held as the first run had it: a reply read before the restart keeps its own query', async () => {
    const { dnsmasqParser } = await import('../src/inputs/logs/dnsmasq.js');
    const dir = tmp();
    const path = join(dir, 'dnsmasq.log');
    const at = (s: number, m: string) => `Dec  7 10:00:0${s} dnsmasq[7]: ${m}\n`;
    writeFileSync(
      path,
      at(0, 'query[A] x.test from 10.0.0.1') + at(0, 'forwarded x.test to 192.0.2.1') + at(1, 'query[AAAA] x.test from 10.0.0.1') +
        at(1, 'forwarded x.test to 192.0.2.1') + at(2, 'reply x.test is NXDOMAIN') + at(3, 'query[A] y.test from 10.0.0.2') + at(3, 'cached y.test is 192.0.2.9'),
    );
    const ledger = new MemoryLedger();
    const identity = (await collectIdentity(path))[0];
    const follow = async (want: number) => {
      const stop = new AbortController();
      const li = input(ledger, { parser: (c) => dnsmasqParser(c), context: () => ({ toUtc: localClock('UTC'), fileYear: 2026, fileMonth: 12 }), signal: stop.signal, maxChunkEvents: 1000 });
      const got: DnsEvent[] = [];
      const reading = (async () => {
        for await (const c of followLogFile(path, li)) {
          ledger.store(c, identity);
          got.push(...c);
          if (got.length >= want) stop.abort();
        }
      })();
      const timer = setTimeout(() => stop.abort(), 10_000);
      await reading;
      clearTimeout(timer);
      return got;
    };
    // the A query and its NXDOMAIN, y and its answer; the AAAA query is held (no reply yet) when dnslens stops
    const first = await follow(4);
    expect(first.map((e) => `${e.qname} ${e.qtype} ${e.qr} ${e.rcode}`)).toEqual(['x.test 1 false 0', 'x.test 1 true 3', 'y.test 1 false 0', 'y.test 1 true 0']);
    appendFileSync(path, at(4, 'reply x.test is NODATA-IPv6'));
    const second = await follow(2);
    expect(second.map((e) => `${e.qname} ${e.qtype} ${e.qr} ${e.rcode} ${e.srcIp || e.dstIp}`)).toEqual(['x.test 28 false 0 10.0.0.1', 'x.test 28 true 0 10.0.0.1']);
  }, 30_000);
});

async function collectIdentity(path: string): Promise<string[]> {
  const { identityOf } = await import('../src/inputs/logs/files.js');
  return [(await identityOf(path))!];
}
