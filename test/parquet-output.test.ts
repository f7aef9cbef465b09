// The Parquet output, read back by a real reader: the embedded ClickHouse engine (chdb),
// SELECT ... FROM file('...', Parquet). A real capture's events come back equal, field by field,
// with the column types the README declares; rotation by size gives several complete files that
// together hold every event; rotation by time names a file complete while the output is still open.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { log } from '../src/log.js';
import { parquetOutput } from '../src/outputs/parquet/output.js';
import { Counters, Stats } from '../src/stats.js';
import { openTestDb, type TestDb } from './chdb-runner.js';
import { until } from './cli-async.js';
import { PCAP_DIR } from './data.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const CAPTURE = join(PCAP_DIR, 'pktvisor__dns_udp_tcp_random.pcap'); // 5851 events, UDP and TCP, 667 answers
const CAPTURE_EVENTS = 5851;

// The types a reader sees, as the README declares them (ClickHouse's names for the Parquet types).
const TYPES: [string, string][] = [
  ['time', "DateTime64(9, 'UTC')"],
  ['server', 'String'],
  ['ipVersion', 'UInt8'],
  ['srcIp', 'String'],
  ['dstIp', 'String'],
  ['srcPort', 'UInt16'],
  ['dstPort', 'UInt16'],
  ['transport', 'String'],
  ['id', 'UInt16'],
  ['qr', 'Bool'],
  ['opcode', 'UInt8'],
  ['aa', 'Bool'],
  ['tc', 'Bool'],
  ['rd', 'Bool'],
  ['ra', 'Bool'],
  ['ad', 'Bool'],
  ['cd', 'Bool'],
  ['rcode', 'UInt16'],
  ['qname', 'String'],
  ['qtype', 'UInt16'],
  ['qclass', 'UInt16'],
  ['qdCount', 'UInt16'],
  ['anCount', 'UInt16'],
  ['nsCount', 'UInt16'],
  ['arCount', 'UInt16'],
  ['answers', 'Array(Tuple(name String, type UInt16, class UInt16, ttl UInt32, data String))'],
  ['ednsPresent', 'Bool'],
  ['ednsUdpSize', 'UInt16'],
  ['ednsDo', 'Bool'],
  ['ednsClientSubnet', 'String'],
  ['size', 'UInt16'],
  ['inputKind', 'String'],
  ['inputName', 'String'],
  ['responseTimeUs', 'Nullable(UInt32)'],
  ['unanswered', 'Bool'],
  ['clientId', 'String'],
  ['messageType', 'String'],
  ['resolution', 'String'],
  ['upstream', 'String'],
  ['eventHash', 'String'],
  ['rawLine', 'String'],
];

function dnslens(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The capture's events as --stdoutOutputFormat json writes them, time as nanoseconds. */
function expectedRows(): string[] {
  const r = dnslens(['--pcapFile', CAPTURE, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json']);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const { time, ...rest } = JSON.parse(l) as { time: string } & Record<string, unknown>;
      const ns = BigInt(Date.parse(time.slice(0, 19) + 'Z') / 1000) * 1_000_000_000n + BigInt(time.slice(20, 29));
      return row({ ns: String(ns), ...rest });
    });
}

// One event as a comparable string, keys in the order of TYPES.
function row(o: Record<string, unknown>): string {
  return JSON.stringify(['ns', ...TYPES.slice(1).map(([n]) => n)].map((k) => [k, o[k]]));
}

/** Every row of the folder's Parquet files, as the embedded ClickHouse reads them. */
async function readRows(db: TestDb, glob: string): Promise<string[]> {
  const rows = await db.query<Record<string, unknown>>(`SELECT toString(toUnixTimestamp64Nano(time)) AS ns, * EXCEPT time FROM file('${glob}', Parquet)`);
  return rows.map((r) => row(r));
}

describe('parquet output: configuration', () => {
  it('stops with exit 2 naming --parquetOutputPath for a missing folder, a file, or none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-parquet-cfg-'));
    try {
      writeFileSync(join(dir, 'plain'), '');
      for (const [path, want] of [
        ['', /--parquetOutputPath: needed: the folder/],
        [join(dir, 'missing'), /--parquetOutputPath: cannot write to .*missing: ENOENT/],
        [join(dir, 'plain'), /--parquetOutputPath: .*plain is not a folder/],
      ] as const) {
        const r = dnslens(['--pcapFile', CAPTURE, '--parquetOutputType', '1', '--parquetOutputPath', path]);
        expect(r.status, r.stderr).toBe(2);
        expect(r.stderr).toMatch(want);
      }
      expect(readdirSync(dir)).toEqual(['plain']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parquet output read back by the embedded ClickHouse', () => {
  let db: TestDb;
  let dir: string;
  let expected: string[];

  beforeAll(async () => {
    db = await openTestDb('dnslens-parquet-read-');
    dir = mkdtempSync(join(tmpdir(), 'dnslens-parquet-'));
    expected = expectedRows();
    expect(expected).toHaveLength(CAPTURE_EVENTS);
  });

  afterAll(() => {
    db?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a capture written to one file: every event equal, the columns typed as declared', async () => {
    const out = join(dir, 'one');
    mkdirSync(out);
    const r = dnslens(['--pcapFile', CAPTURE, '--parquetOutputType', '1', '--parquetOutputPath', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/parquet\n\s+rows written\s+5,851\n/);
    const files = readdirSync(out);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^dnslens-\d{8}T\d{6}Z-\d+-1\.parquet$/);
    const types = await db.rows(`DESCRIBE file('${join(out, files[0])}', Parquet)`);
    // TSV escapes the line breaks and quotes of the type names
    const plain = (t: string) => t.replace(/\\n\s*/g, ' ').replace(/\(\s+/g, '(').replace(/\\'/g, "'");
    expect(types.map(([n, t]) => [n, plain(t)])).toEqual(TYPES);
    const got = await readRows(db, join(out, '*.parquet'));
    expect(got.sort()).toEqual([...expected].sort());
    const [[answers, latencies]] = await db.rows(`SELECT sum(length(answers)), countIf(responseTimeUs IS NOT NULL) FROM file('${join(out, '*.parquet')}', Parquet)`);
    expect([Number(answers), Number(latencies)]).toEqual([667, 5842]); // nested and nullable columns hold values
  });

  it('rotation by size: several complete files that together hold every event', async () => {
    const out = join(dir, 'rotated');
    mkdirSync(out);
    const r = dnslens(['--pcapFile', CAPTURE, '--parquetOutputType', '1', '--parquetOutputPath', out, '--parquetFlushBatchSize', '500', '--parquetOutputRotateSize', '40kB']);
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(out).sort();
    expect(files.length).toBeGreaterThanOrEqual(4);
    expect(files.every((f) => f.endsWith('.parquet'))).toBe(true); // no .tmp left
    expect(r.stderr).toMatch(new RegExp(`files completed\\s+${files.length}\\n`));
    let total = 0;
    for (const f of files) {
      const [[n]] = await db.rows(`SELECT count() FROM file('${join(out, f)}', Parquet)`);
      expect(Number(n)).toBeGreaterThan(0);
      total += Number(n);
    }
    expect(total).toBe(CAPTURE_EVENTS);
    expect((await readRows(db, join(out, '*.parquet'))).sort()).toEqual([...expected].sort());
  });

  it('rotation by time: a file is named complete, and readable, while the output stays open', async () => {
    const out = join(dir, 'timed');
    mkdirSync(out);
    const counters = new Counters('parquet');
    const output = parquetOutput({ dir: out, rowGroupRows: 100, delayMs: 50, rotateBytes: 0, rotateMs: 400, stats: new Stats(), counters, log });
    const complete = () => readdirSync(out).filter((f) => f.endsWith('.parquet'));
    try {
      await output.write(events(0, 30));
      // nothing more comes: the idle file is ended by its time
      const [first] = await until('the first file complete', () => complete().length === 1 && complete(), 5000);
      expect(readdirSync(out)).toEqual([first]); // no .tmp beside it
      const [[n]] = await db.rows(`SELECT count() FROM file('${join(out, first)}', Parquet)`);
      expect(Number(n)).toBe(30);
      await output.write(events(30, 20));
      await output.close(); // the second file ends at exit
      expect(complete()).toHaveLength(2);
      expect(counters.get('files')).toBe(2);
      const names = await db.rows(`SELECT qname FROM file('${join(out, '*.parquet')}', Parquet) ORDER BY time`);
      expect(names.map(([q]) => q)).toEqual(events(0, 50).map((e) => e.qname));
    } finally {
      await output.close();
    }
  });
});

function events(from: number, count: number): DnsEvent[] {
  return Array.from({ length: count }, (_, k) => {
    const ev = newEvent();
    ev.timeSec = 1700000000 + from + k;
    ev.qname = `host${from + k}.example.com`;
    return ev;
  });
}
