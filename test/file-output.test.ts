import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { fileOutput, type FileOutputOptions } from '../src/outputs/file.js';
import { CSV_HEADER, makeFormatter } from '../src/outputs/format.js';

const root = mkdtempSync(join(tmpdir(), 'dnslens-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(root, `t${n++}`);

function events(from: number, count: number): DnsEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const ev = newEvent();
    ev.timeSec = 1700000000 + from + i;
    ev.id = (from + i) & 0xffff;
    ev.srcIp = '192.0.2.1';
    ev.dstIp = '192.0.2.53';
    ev.qname = `host${from + i}.example.com`;
    ev.qtype = 1;
    ev.qclass = 1;
    ev.inputName = 'test';
    return ev;
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(path: string, over: Partial<FileOutputOptions> = {}) {
  return fileOutput({ path, format: makeFormatter('csv'), rotateSize: 0, rotateIntervalMs: 0, retain: 3, ...over });
}

// The live file and its rotated siblings, oldest first.
function filesOldestFirst(path: string): string[] {
  const dir = join(path, '..');
  const base = path.slice(dir.length + 1);
  const rotated = readdirSync(dir)
    .map((f) => /^(.*)\.(\d+)$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null && m[1] === base)
    .map((m) => Number(m[2]))
    .sort((a, b) => b - a)
    .map((i) => `${path}.${i}`);
  return [...rotated, path];
}

const lines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
const qnameCol = CSV_HEADER.split(',').indexOf('Question');
const dataQnames = (file: string): string[] =>
  lines(file)
    .filter((l) => l !== CSV_HEADER)
    .map((l) => l.split(',')[qnameCol]);

describe('file output', () => {
  it('creates missing directories and writes one line per event', async () => {
    const path = join(fresh(), 'a', 'b', 'dns.json');
    const out = await fileOutput({ path, format: makeFormatter('json'), rotateSize: 0, rotateIntervalMs: 0, retain: 0 });
    await out.write(events(0, 10));
    await out.write([]);
    await out.write(events(10, 5));
    await out.close();
    const got = lines(path).map((l) => (JSON.parse(l) as { qname: string }).qname);
    expect(got).toEqual(events(0, 15).map((e) => e.qname));
  });

  it('appends to an existing file without a second csv header', async () => {
    const path = join(fresh(), 'dns.csv');
    for (const from of [0, 3]) {
      const out = await open(path);
      await out.write(events(from, 3));
      await out.close();
    }
    expect(lines(path)).toHaveLength(7);
    expect(lines(path).filter((l) => l === CSV_HEADER)).toHaveLength(1);
    expect(dataQnames(path)).toEqual(events(0, 6).map((e) => e.qname));
  });

  it('rotates by size between lines, header on top, nothing lost', async () => {
    const path = join(fresh(), 'dns.csv');
    const out = await open(path, { rotateSize: 2000, retain: 1000 });
    const all = events(0, 300);
    for (let i = 0; i < all.length; i += 7) await out.write(all.slice(i, i + 7));
    await out.close();
    const files = filesOldestFirst(path);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      expect(lines(f)[0]).toBe(CSV_HEADER);
      expect(lines(f).length).toBeGreaterThan(1);
      expect(statSync(f).size).toBeLessThanOrEqual(2000);
      expect(readFileSync(f, 'utf8').endsWith('\n')).toBe(true);
    }
    expect(files.flatMap(dataQnames)).toEqual(all.map((e) => e.qname));
  });

  it('keeps only `retain` rotated files, newest data last', async () => {
    const path = join(fresh(), 'dns.csv');
    const out = await open(path, { rotateSize: 1500, retain: 3 });
    const all = events(0, 200);
    for (let i = 0; i < all.length; i += 10) await out.write(all.slice(i, i + 10));
    await out.close();
    const files = filesOldestFirst(path);
    expect(files).toEqual([`${path}.3`, `${path}.2`, `${path}.1`, path]);
    const kept = files.flatMap(dataQnames);
    expect(kept).toEqual(all.slice(all.length - kept.length).map((e) => e.qname)); // the newest, in order
  });

  it('deletes rotated data with retain 0 and stale files beyond retain', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const path = join(dir, 'dns.csv');
    writeFileSync(`${path}.7`, 'stale\n'); // left by an earlier run with a larger retain
    writeFileSync(join(dir, 'other.csv.1'), 'not ours\n');
    const out = await open(path, { rotateSize: 1000, retain: 0 });
    for (let i = 0; i < 50; i += 5) await out.write(events(i, 5));
    await out.close();
    expect(readdirSync(dir).sort()).toEqual(['dns.csv', 'other.csv.1']);
    expect(dataQnames(path).at(-1)).toBe('host49.example.com');
  });

  it('puts a line longer than rotateSize alone in its file', async () => {
    const path = join(fresh(), 'dns.json');
    const out = await fileOutput({ path, format: makeFormatter('json'), rotateSize: 100, rotateIntervalMs: 0, retain: 10 });
    await out.write(events(0, 3));
    await out.close();
    const files = filesOldestFirst(path);
    expect(files).toHaveLength(3);
    for (const f of files) expect(lines(f)).toHaveLength(1);
  });

  it('rotates by age at the first write after the interval, nothing lost', async () => {
    const path = join(fresh(), 'dns.csv');
    const out = await open(path, { rotateIntervalMs: 40, retain: 10 });
    for (let round = 0; round < 4; round++) {
      await out.write(events(round * 10, 5));
      await out.write(events(round * 10 + 5, 5)); // same file: the interval has not passed
      await sleep(60);
    }
    await out.close();
    const files = filesOldestFirst(path);
    expect(files).toHaveLength(4);
    for (let i = 0; i < 4; i++) {
      expect(lines(files[i])[0]).toBe(CSV_HEADER);
      expect(dataQnames(files[i])).toEqual(events(i * 10, 10).map((e) => e.qname));
    }
  });

  it('does not rotate a file that holds no events', async () => {
    const path = join(fresh(), 'dns.csv');
    const out = await open(path, { rotateIntervalMs: 20 });
    await sleep(40);
    await out.write(events(0, 2)); // the file has only its header: no rotation, clock restarts
    await out.close();
    expect(filesOldestFirst(path)).toEqual([path]);
    expect(dataQnames(path)).toHaveLength(2);
  });

  it('applies back-pressure past its high-water mark and loses nothing', async () => {
    const path = join(fresh(), 'big.json');
    const out = await fileOutput({ path, format: makeFormatter('json'), rotateSize: 0, rotateIntervalMs: 0, retain: 0 });
    const big = events(0, 20000); // ~11 MB of JSON, over the 8 MiB mark
    const r = out.write(big);
    expect(r).toBeInstanceOf(Promise);
    await r;
    await out.close();
    expect(lines(path)).toHaveLength(20000);
  });

  it('writes to a character device without rotating or failing on fsync', async () => {
    const out = await fileOutput({ path: '/dev/null', format: makeFormatter('csv'), rotateSize: 10, rotateIntervalMs: 0, retain: 2 });
    await out.write(events(0, 100));
    await out.close();
    expect(readdirSync('/dev').filter((f) => f.startsWith('null.'))).toEqual([]);
  });

  it('rejects bad options and unusable paths with clear errors', async () => {
    await expect(open(join(fresh(), 'x'), { retain: -1 })).rejects.toThrow(/retain must be a whole number >= 0/);
    await expect(open(join(fresh(), 'x'), { rotateSize: 1.5 })).rejects.toThrow(/rotateSize must be/);
    await expect(open('')).rejects.toThrow(/no path given/);
    const dir = fresh();
    mkdirSync(dir);
    await expect(open(dir)).rejects.toThrow(/cannot open .*EISDIR/);
  });

  it('refuses writes after close', async () => {
    const out = await open(join(fresh(), 'dns.csv'));
    await out.close();
    await out.close(); // twice is harmless
    expect(() => out.write(events(0, 1))).toThrow(/after close/);
  });
});
