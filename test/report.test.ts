// `dnslens sql` output formats, and the end-of-run report over a real capture stored end to end
// (pcap reader -> decoder -> ClickHouse output -> embedded store), checked against tshark.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { createClickHouseOutput } from '../src/outputs/clickhouse/output.js';
import { runPipeline } from '../src/cli/pipeline.js';
import { Stats } from '../src/stats.js';
import { openStore, type Store } from '../src/store/connection.js';
import { runSql } from '../src/reports/sql.js';
import { summaryReport as report } from '../src/reports/summary.js';
import { formatTable } from '../src/reports/table.js';
import { describeWithPeers } from './peers.js';
import { tsharkDns, normName } from './tshark.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';
import { PCAP_DIR } from './data.js';

const CAPTURE = `${PCAP_DIR}/arkime__dns-wiresharkrepo.pcap`;

// Names of the codes this capture uses (IANA), to read the report's dictionary-named rows.
const QTYPE: Record<number, string> = { 1: 'A', 2: 'NS', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 29: 'LOC', 33: 'SRV', 255: 'ANY' };
const RCODE: Record<number, string> = { 0: 'NOERROR', 3: 'NXDOMAIN' };

describe('formatTable', () => {
  it('pads columns and right-aligns numbers', () => {
    const t = formatTable([{ title: 'name' }, { title: 'n', right: true }], [['a', '1'], ['bbbb', '1,000']]);
    expect(t).toBe('name      n\n----  -----\na         1\nbbbb  1,000\n');
  });
});

describeWithPeers('report and sql over a stored real capture', ['tshark'], () => {
  const root = mkdtempSync(join(tmpdir(), 'dnslens-report-test-'));
  let store: Store;

  beforeAll(async () => {
    store = await openStore({ dataDir: join(root, 'data') });
    await prepareSchema(store);
    const stats = new Stats();
    const out = await createClickHouseOutput(store, { stats, batchSize: 10, delayMs: 1000 });
    await runPipeline({
      sources: [
        {
          kind: 'frames',
          frames: readCapture(CAPTURE, stats),
          ctx: { stats, ports: new Set([53]), server: 'report-test', inputKind: 'pcap', inputName: CAPTURE },
        },
      ],
      outputs: [out],
    });
    await out.close();
  });
  afterAll(async () => {
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('reports what tshark sees in the capture', async () => {
    const msgs = await tsharkDns(CAPTURE);
    const text = await report(store, { top: 5 });
    const queries = msgs.filter((m) => !m.qr).length;
    const responses = msgs.length - queries;
    expect(text).toMatch(new RegExp(`^messages\\s+${msgs.length}$`, 'm'));
    expect(text).toMatch(new RegExp(`^queries\\s+${queries}$`, 'm'));
    expect(text).toMatch(new RegExp(`^responses\\s+${responses}$`, 'm'));

    const ns = (m: { timeSec: number; timeNsec: number }) => BigInt(m.timeSec) * 1_000_000_000n + BigInt(m.timeNsec);
    const first = msgs.reduce((a, m) => (ns(m) < ns(a) ? m : a));
    const iso = new Date(first.timeSec * 1000).toISOString().slice(0, 19).replace('T', ' ');
    expect(text).toMatch(new RegExp(`^first\\s+${iso}\\.${String(first.timeNsec).padStart(9, '0').slice(0, 6)}`, 'm'));

    const section = (title: string): string[] => {
      const start = text.indexOf(title + '\n');
      expect(start).toBeGreaterThanOrEqual(0);
      const body = text.slice(start + title.length + 1).split('\n\n')[0];
      return body.split('\n').slice(2).filter((l) => l.trim() !== '');
    };

    // rcodes over responses, by name
    const byRcode = new Map<string, number>();
    for (const m of msgs) if (m.qr) byRcode.set(RCODE[m.rcode], (byRcode.get(RCODE[m.rcode]) ?? 0) + 1);
    const rcodeRows = section('Response codes').map((l) => l.trim().split(/\s+/));
    expect(new Map(rcodeRows.map((r) => [r[0], Number(r[1])]))).toEqual(byRcode);

    // qtypes over all messages, by name, top 5 by count then code
    const byType = new Map<number, number>();
    for (const m of msgs) byType.set(m.qtype, (byType.get(m.qtype) ?? 0) + 1);
    const typeRows = section('Query types').map((l) => l.trim().split(/\s+/));
    const expectedTypes = [...byType].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 5);
    expect(typeRows.map((r) => [r[0], Number(r[1])])).toEqual(expectedTypes.map(([t, n]) => [QTYPE[t], n]));

    // top domains, by messages then name
    const byName = new Map<string, number>();
    for (const m of msgs) byName.set(normName(m.qname), (byName.get(normName(m.qname)) ?? 0) + 1);
    const expectedNames = [...byName].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, 5);
    const nameRows = section('Top 5 domains').map((l) => l.trim().split(/\s+/));
    expect(nameRows.map((r) => [r[0], Number(r[1])])).toEqual(expectedNames);
  });

  it('limits the report to a time range', async () => {
    expect(await report(store, { until: '2000-01-01T00:00:00Z' })).toBe('No DNS messages stored in that time range.\n');
    const all = await report(store, { since: '2005-03-30T00:00:00Z', until: '2005-03-31T00:00:00Z' });
    expect(all).toMatch(/^messages\s+38$/m);
  });

  it('prints query results as an aligned table, CSV, JSON lines or TSV', async () => {
    const sql = "SELECT Type, count() AS n, any('x y') AS s FROM DNS_LOG WHERE Type IN (1, 28) GROUP BY Type ORDER BY Type";
    expect(await runSql(store, sql)).toBe('Type   n  s\n----  --  ---\n   1   6  x y\n  28  12  x y\n');
    expect(await runSql(store, sql, 'csv')).toBe('"Type","n","s"\n1,6,"x y"\n28,12,"x y"\n');
    expect(await runSql(store, sql, 'tsv')).toBe('Type\tn\ts\n1\t6\tx y\n28\t12\tx y\n');
    const json = (await runSql(store, sql, 'json')).trim().split('\n').map((l) => JSON.parse(l) as { Type: number; n: number | string });
    expect(json.map((r) => [r.Type, Number(r.n)])).toEqual([
      [1, 6],
      [28, 12],
    ]);
    // SQL naming its own format gets exactly that; a trailing semicolon is fine
    expect(await runSql(store, 'SELECT 1 AS one FORMAT JSONEachRow;')).toBe('{"one":1}\n');
    expect(await runSql(store, 'SELECT 1 AS one WHERE 0')).toBe('one\n---\n');
  });

  it("returns ClickHouse's message for bad SQL", async () => {
    await expect(runSql(store, 'SELEC 1')).rejects.toThrow(/SYNTAX_ERROR/);
    await expect(runSql(store, 'SELECT nope FROM DNS_LOG')).rejects.toThrow(/UNKNOWN_IDENTIFIER.*nope/);
  });
});
