// The ClickHouse output: DNS_LOG and its rollups in the embedded store (chdb, under --dataDir),
// a server, or the endpoint of another dnslens process that holds the data dir. Also dnslens'
// own health snapshots (health.ts) and the end-of-run report.
import { defineOutput } from '../../component.js';
import { bool, ConfigError, dur, int, outputType, secret, str, tuning, type Settings } from '../../options.js';
import { SINK_COUNTERS } from '../sink/writer.js';
import { chosenSignals } from '../../signals/catalog.js';
import { SIGNAL_OPTIONS } from '../../signals/options.js';

const S = 'clickhouse_output';
const TTL = (name: string, def: number, what: string) => int(name, S, def, `Days ${what} are kept, counted from ingestion (1..36500)`, 'ready', 1, 36500);

export const OPTIONS = [
  str('dataDir', 'store', './dnslens-data', 'Directory of the embedded ClickHouse (chdb) database'),
  str('clickhouseAddress', S, '', 'ClickHouse server HTTP address (host:port or http(s)://host:port; several, comma separated, fail over in order); empty = embedded chdb in dataDir'),
  str('clickhouseUsername', S, '', 'ClickHouse user name'),
  secret(str('clickhousePassword', S, '', 'ClickHouse password; @/path/to/file reads it from the first line of that file')),
  str('clickhouseDatabase', S, 'default', 'ClickHouse database'),
  str('clickhouseCluster', S, '', 'Create tables ON CLUSTER this cluster; empty = single server'),
  str(
    'clickhouseDictionaryUser',
    S,
    '',
    "User the dictionaries log in as to read their tables, without a password (one the server allows only from itself); empty = clickhouseUsername with its password, written into the dictionaries' DDL",
  ),
  dur('clickhouseDelay', S, '1s', 'Flush a partial batch to ClickHouse after this long'),
  bool('clickhouseDebug', S, 'Log every ClickHouse statement and insert, with its duration (and error), at info level'),
  bool('clickhouseCompress', S, 'Compress inserts sent to ClickHouse'),
  bool('clickhouseSecure', S, 'Use TLS for the ClickHouse connection'),
  bool('clickhouseSaveFullQuery', S, "Also store each event as its JSON line in DNS_LOG's FullQuery column (as dnsmonster stores the full message)"),
  outputType('clickhouse', S, 'ClickHouse'),
  {
    ...bool('reimport', S, 'Import the input file again although the store records it as imported (its messages are then stored twice); without it, such a file is skipped'),
    cliOnly: true,
  },
  int('clickhouseBatchSize', S, 100000, 'Events per ClickHouse insert (the embedded store uses 500000 unless this is set: fewer, larger inserts cost less there)', 'ready', 1),
  tuning(int('clickhouseWorkers', S, 1, 'Concurrent ClickHouse inserts (dnslens keeps one insert in flight: measured fastest)', 'ready', 1)),
  tuning(int('clickhouseWorkerChannelSize', S, 100000, 'Channel size of each ClickHouse worker', 'ready', 1)),
  TTL('clickhouseTTL', 30, 'raw events'),
  TTL('clickhouseRollupTTLMinute', 90, 'per-minute rollups'),
  TTL('clickhouseRollupTTLHour', 730, 'hourly rollups'),
  TTL('clickhouseRollupTTLDay', 730, 'daily rollups'),
  TTL('clickhouseRollupTTLWeek', 1825, 'weekly rollups'),
  TTL('clickhouseRollupTTLMonth', 1825, 'monthly rollups'),
  ...SIGNAL_OPTIONS,
] as const;

export type ClickHouseSettings = Settings<typeof OPTIONS>;

export const clickhouse = defineOutput({
  kind: 'output',
  name: 'clickhouse',
  section: S,
  options: OPTIONS,
  typeOption: 'clickhouseOutputType',
  counters: SINK_COUNTERS,
  check(settings) {
    const chosen = chosenSignals(settings.signals);
    if (typeof chosen === 'string') throw new ConfigError('signals', chosen);
  },
  /** With defer (file inputs), opening (chdb load, migrations) overlaps decoding: the writer
   *  encodes events meanwhile. Live inputs open it first, so a store that cannot be reached
   *  stops the run before capture starts. */
  // The store (and so @clickhouse/client and chdb) loads only when this output opens.
  open: async (ctx) => (await import('./store.js')).openClickHouse(ctx),
});
