// The PostgreSQL output: the seed guide's schema (raw queries partitioned by local day, daily,
// weekly, monthly and hourly rollups, domain categories) kept by dnslens: versioned migrations,
// partitions made ahead and dropped after the retention, rollups with every batch and on a
// schedule. Writes through COPY. Keeps dnsmonster's --psqlOutputType, --psqlEndpoint and its
// batch, worker and timeout flags. The writing side (output.ts, with `pg`) loads when it opens.
import { accessSync, constants } from 'node:fs';
import { defineOutput } from '../../component.js';
import { bool, ConfigError, dur, int, outputType, secret, str } from '../../options.js';
import { SINK_COUNTERS } from '../sink/writer.js';

const S = 'psql_output';

/** --psqlSchema: a plain lower-case identifier (it is written into SQL). */
export const SCHEMA_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export const OPTIONS = [
  outputType('psql', S, 'PostgreSQL'),
  secret(str('psqlEndpoint', S, '', 'PostgreSQL URI, e.g. postgres://user:pass@host:5432/db?sslmode=verify-full; empty = the PG* environment variables (PGHOST, PGUSER, PGPASSWORD, ...)')),
  str('psqlPasswordFile', S, '', 'Read the PostgreSQL password from the first line of this file'),
  str('psqlSchema', S, 'dnslens', 'PostgreSQL schema of the tables (created with them)'),
  int('psqlWorkers', S, 2, 'PostgreSQL connections writing at once (2: measured faster than 1 on 2 cores)', 'ready', 1, 64),
  int('psqlBatchSize', S, 20000, 'Rows per PostgreSQL batch (one COPY and one transaction)', 'ready', 1),
  dur('psqlBatchDelay', S, '1s', 'Send a partial PostgreSQL batch after this long'),
  dur('psqlBatchTimeout', S, '30s', 'Timeout of connecting and of one batch (statement_timeout)'),
  bool('psqlSaveFullQuery', S, 'Also store each event as its JSON line (full_query)'),
  int('psqlPartitionsAhead', S, 3, 'Day partitions made ahead of today', 'ready', 0, 366),
  int('psqlRetentionDays', S, 0, 'Drop day partitions older than this many days (0: keep all); rollups are kept', 'ready', 0, 36500),
  dur('psqlRollupInterval', S, '1m', 'How often weekly and monthly rollups catch up (daily ones go with every batch)'),
  str('psqlSpoolDir', S, '', 'Directory where batches wait on disk while PostgreSQL is down (empty: in memory only)'),
] as const;

export type PsqlOptions = typeof OPTIONS;

export const psql = defineOutput({
  kind: 'output',
  name: 'psql',
  section: S,
  options: OPTIONS,
  typeOption: 'psqlOutputType',
  counters: {
    ...SINK_COUNTERS,
    duplicates: 'rows stored already (a replayed batch), left out',
    expired: 'rows older than --psqlRetentionDays, not stored',
  },
  check(s, from) {
    if (s.psqlOutputType === 0) return;
    if (s.psqlEndpoint !== '' && !/^postgres(ql)?:\/\//.test(s.psqlEndpoint)) {
      throw new ConfigError('psqlEndpoint', `--psqlEndpoint: not a postgres:// URI${from('psqlEndpoint')}`);
    }
    if (s.psqlPasswordFile !== '') {
      try {
        accessSync(s.psqlPasswordFile, constants.R_OK);
      } catch (e) {
        throw new ConfigError('psqlPasswordFile', `--psqlPasswordFile: cannot read ${s.psqlPasswordFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}${from('psqlPasswordFile')}`);
      }
    }
    if (!SCHEMA_RE.test(s.psqlSchema)) {
      throw new ConfigError('psqlSchema', `--psqlSchema: "${s.psqlSchema}" is not a plain lower-case identifier (letters, digits, _)${from('psqlSchema')}`);
    }
    if (s.psqlRollupInterval < 1000) throw new ConfigError('psqlRollupInterval', `--psqlRollupInterval: at least 1s${from('psqlRollupInterval')}`);
  },
  open: async (ctx) => (await import('./output.js')).openPsql(ctx),
});
