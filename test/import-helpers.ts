// Shared by the import tests (issue #12): dnslens as a user runs it, and a store read through the
// rollup helpers of test/rollup-pairs.ts.
import { spawnSync } from 'node:child_process';
import type { Store } from '../src/store/connection.js';
import type { TestDb } from './chdb-runner.js';
import { MAIN } from './dnstap-helpers.js';
import { clientPairs, domainPairs, latencyPairs, namesPairs, trafficPairs, type Pair } from './rollup-pairs.js';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function dnslens(args: string[]): Ran {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The value `dnslens sql` prints for a one-value query. */
export function sqlValue(dataDir: string, sql: string): string {
  const r = dnslens(['sql', '--dataDir', dataDir, '--format', 'tsv', sql]);
  if (r.code !== 0) throw new Error(`dnslens sql ${sql}: ${r.stderr}`);
  return r.stdout.trim().split('\n').at(-1)!; // after the header line
}

/** DNS_LOG's messages without IndexTime (the hour of an import): the same for two stores that hold the same messages. */
export const FINGERPRINT = 'SELECT concat(toString(count()), \' \', toString(sum(cityHash64(* EXCEPT (IndexTime))))) FROM DNS_LOG';

/** A store as the rollup helpers read one (rows as TSV strings). */
export function asTestDb(store: Store): TestDb {
  return {
    session: { queryAsync: () => Promise.reject(new Error('not a chdb session')), close: () => undefined },
    dir: store.dataDir,
    exec: (sql) => store.exec(sql),
    query: (sql) => store.query(sql),
    rows: async (sql) =>
      (await store.queryText(sql, 'TSV'))
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t')),
    close: () => undefined,
  };
}

/** Every rollup of the schema compared with DNS_LOG aggregated, as test/rollups.test.ts does (default client prefixes). */
export function allPairs(database: string): Pair[] {
  return [...trafficPairs(database), ...namesPairs(database), ...clientPairs(database, 24, 48), ...domainPairs(database), ...latencyPairs(database, 24, 48)];
}
