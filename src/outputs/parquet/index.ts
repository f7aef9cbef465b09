// The Parquet output: events as typed columns (columns.ts) in Parquet files in a folder, one row
// group per batch, files rotated by size and time and named only once complete (output.ts).
// Keeps dnsmonster's parquet flags. The writing side loads when the output opens.
import { accessSync, constants, statSync } from 'node:fs';
import { defineOutput } from '../../component.js';
import { ConfigError, dur, int, outputType, str, tuning } from '../../options.js';
import { SINK_COUNTERS } from '../sink/writer.js';

const S = 'parquet_output';

export const OPTIONS = [
  outputType('parquet', S, 'Parquet files'),
  str('parquetOutputPath', S, '', 'Folder the Parquet files are written to (it must exist)'),
  int('parquetFlushBatchSize', S, 10000, 'Rows per Parquet row group', 'ready', 1),
  dur('parquetBatchDelay', S, '10s', 'Write a partial row group after this long'),
  { name: 'parquetOutputRotateSize', section: S, kind: 'bytes', default: '0', description: 'Start a new file once one reaches this size (e.g. 100MB, 1GiB); 0 = never', status: 'ready' },
  dur('parquetOutputRotateInterval', S, '1h', 'Start a new file this long after the current one began; 0 = never (a file is readable once it is complete)'),
  tuning(int('parquetWorkerCount', S, 4, 'Parquet workers (dnslens writes one row group at a time)', 'ready', 1)),
  tuning(int('parquetWriteBufferSize', S, 256000, 'Parquet write buffer in bytes (dnslens writes each row group at once)', 'ready', 1)),
] as const;

export type ParquetOptions = typeof OPTIONS;

export const parquet = defineOutput({
  kind: 'output',
  name: 'parquet',
  section: S,
  options: OPTIONS,
  typeOption: 'parquetOutputType',
  counters: {
    sent: 'rows written',
    batches: 'row groups written',
    files: 'files completed',
    failed: 'failed writes',
    retried: SINK_COUNTERS.retried,
    dropped: SINK_COUNTERS.dropped,
  },
  check(s, from) {
    if (s.parquetOutputType === 0) return;
    const dir = s.parquetOutputPath;
    const fail = (why: string): never => {
      throw new ConfigError('parquetOutputPath', `--parquetOutputPath: ${why}${from('parquetOutputPath')}`);
    };
    if (dir === '') fail('needed: the folder to write the files to');
    try {
      if (!statSync(dir).isDirectory()) fail(`${dir} is not a folder`);
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      fail(`cannot write to ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  },
  open: async (ctx) => (await import('./output.js')).openParquet(ctx),
});
