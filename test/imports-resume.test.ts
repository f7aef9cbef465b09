// An import stopped hard (SIGKILL, as a power cut would), then the same command again: DNS_LOG holds what one clean import of the file holds, and every rollup equals
// DNS_LOG aggregated (so equals a clean import's). Once on the embedded store, once through another
// process's endpoint (ClickHouse's HTTP interface), where an insert in flight when the importer
// dies still lands: the run after it must not store that batch again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCapture } from '../bench/gen.js';
import { openStore, type Store } from '../src/store/connection.js';
import { runCli } from './dnstap-helpers.js';
import { startHolder } from './holder.js';
import { allPairs, asTestDb, dnslens, FINGERPRINT, sqlValue } from './import-helpers.js';
import { expectPairsEqual, optimizeAll } from './rollup-pairs.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslens-import-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const capture = join(dir, 'capture.pcap');
// small batches: the file is many of them, so a stop after a few is mid-way
const args = (dataDir: string) => ['--pcapFile', capture, '--dataDir', dataDir, '--clickhouseBatchSize', '4000'];
let clean: string; // DNS_LOG of one clean import: "<count> <content hash>"
const total = () => clean.split(' ')[0];

beforeAll(async () => {
  await generateCapture(capture, { seed: 5, packets: 40_000 });
  const r = dnslens(args(join(dir, 'clean')));
  expect(r.code, r.stderr).toBe(0);
  clean = sqlValue(join(dir, 'clean'), FINGERPRINT);
}, 120_000);

/** Starts the import, sends `signal` once the store took `batches` batches, returns the exit code. */
async function stopped(dataDir: string, signal: NodeJS.Signals, batches: number): Promise<number | null> {
  const run = runCli([...args(dataDir), '--logLevel', '4']);
  await run.waitFor(() => (run.stderr().match(/"msg":"batch sent"/g)?.length ?? 0) >= batches, 60_000, `${batches} batches stored`);
  return run.stop(signal);
}

/** The record of the import (state and rows) and the rows in DNS_LOG. */
const record = (dataDir: string) =>
  sqlValue(dataDir, "SELECT concat(toString(State), ' ', toString(Rows), ' ', toString((SELECT count() FROM DNS_LOG))) FROM dnslens_imports FINAL").split(' ');

async function expectClean(store: Store): Promise<void> {
  expect((await store.queryText(FINGERPRINT, 'TSV')).trim()).toBe(clean);
  const db = asTestDb(store);
  await optimizeAll(db, store.database);
  await expectPairsEqual(db, allPairs(store.database));
}

describe('an interrupted import, finished by the same command', () => {
  it('after SIGKILL mid-import: DNS_LOG and every rollup as after one clean import', async () => {
    const dataDir = join(dir, 'killed');
    await stopped(dataDir, 'SIGKILL', 3);
    const [state, rows, stored] = record(dataDir);
    expect(state).toBe('partial');
    expect(Number(stored)).toBeGreaterThanOrEqual(Number(rows)); // a batch may have landed after the record's last word
    expect(Number(stored)).toBeLessThan(Number(total()));

    const again = dnslens(args(dataDir));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/capture\.pcap: finishing the import started on .*: [\d,]+ rows in \d+ batch(es)? are stored, the rest follows/);
    expect(record(dataDir)).toEqual(['complete', total(), total()]);
    const store = await openStore({ dataDir });
    try {
      await expectClean(store);
    } finally {
      await store.close();
    }
  }, 120_000);

  it('through the endpoint of the process that holds the store (HTTP), the insert in flight landing after the kill', async () => {
    const dataDir = join(dir, 'held');
    const holder = await startHolder(dataDir);
    try {
      await stopped(dataDir, 'SIGKILL', 3);
      expect(record(dataDir)[0]).toBe('partial');
      const again = dnslens(args(dataDir));
      expect(again.code, again.stderr).toBe(0);
      expect(record(dataDir)).toEqual(['complete', total(), total()]);
      const store = await openStore({ dataDir });
      try {
        expect(store.kind).toBe('endpoint');
        await expectClean(store);
      } finally {
        await store.close();
      }
    } finally {
      await holder.stop();
    }
  }, 120_000);
});
