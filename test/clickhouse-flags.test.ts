// --clickhouseSaveFullQuery (each event's JSON line in DNS_LOG.FullQuery, as dnsmonster keeps the full
// message) and --clickhouseDebug (every statement and insert logged), as a user runs them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dnslens } from './import-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslens-ch-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SAMPLE = join(import.meta.dirname, '..', 'samples', 'dns-sample.pcap');

const rows = (dataDir: string, sql: string) => {
  const r = dnslens(['sql', '--dataDir', dataDir, '--format', 'tsv', sql]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split('\n').slice(1);
};

describe('ClickHouse output flags', () => {
  it('--clickhouseSaveFullQuery stores each event as its JSON line; without it FullQuery stays empty', () => {
    const json = dnslens(['--pcapFile', SAMPLE, '--stdoutOutputType', '1']);
    expect(json.code, json.stderr).toBe(0);
    const lines = json.stdout.trim().split('\n');
    const withIt = join(dir, 'full');
    expect(dnslens(['--pcapFile', SAMPLE, '--dataDir', withIt, '--clickhouseSaveFullQuery']).code).toBe(0);
    const stored = rows(withIt, 'SELECT FullQuery FROM DNS_LOG ORDER BY PacketTime, QR').map((l) => JSON.parse(l.replace(/\\\\/g, '\\')) as { time: string; qr: boolean });
    const want = lines.map((l) => JSON.parse(l) as { time: string; qr: boolean }).sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : Number(a.qr) - Number(b.qr)));
    expect(stored).toEqual(want);
    const without = join(dir, 'plain');
    expect(dnslens(['--pcapFile', SAMPLE, '--dataDir', without]).code).toBe(0);
    expect(rows(without, "SELECT countIf(FullQuery != '') FROM DNS_LOG")).toEqual(['0']);
  });

  it('--clickhouseDebug logs every statement and insert with its duration', () => {
    const r = dnslens(['--pcapFile', SAMPLE, '--dataDir', join(dir, 'debug'), '--clickhouseDebug', '--logFormat', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const records = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const inserts = records.filter((x) => x.msg === 'clickhouse insert');
    expect(inserts.map((x) => x.rows)).toEqual([38]);
    expect(inserts[0]).toMatchObject({ format: 'Native', component: 'clickhouse' });
    expect(typeof inserts[0].ms).toBe('number');
    expect(records.some((x) => (x.msg === 'clickhouse exec' || x.msg === 'clickhouse query') && typeof x.sql === 'string')).toBe(true);
  });
});
