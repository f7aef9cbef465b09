// The one table of options. Parsing, validation, --help, --writeConfig and the README
// reference are all generated from it. Names and sections follow dnsmonster.

export type Kind =
  | 'string'
  | 'int'
  | 'bool'
  | 'duration' // Go style "1s", "500ms", "1h30m" -> milliseconds
  | 'ratio' // "a:b", 1 <= a <= b
  | 'portList' // "53,5353" or repeated -> number[]
  | 'list' // comma separated or repeated -> string[]
  | 'enum'
  | 'outputType' // 0..4, see OUTPUT_TYPE_HELP
  | 'bytes'; // "0", "1048576", "10MB", "1GiB" -> number of bytes

export const SECTIONS = [
  'general',
  'capture',
  'store',
  'match',
  'stdout_output',
  'file_output',
  'clickhouse_output',
  'syslog_output',
  'kafka_output',
  'elastic_output',
  'influx_output',
  'splunk_output',
  'sentinel_output',
  'psql_output',
  'parquet_output',
  'victoria_output',
  'zinc_output',
  'metric',
] as const;
export type Section = (typeof SECTIONS)[number];

/** 'ready', or not implemented yet: a non-default value stops the program. */
export type Status = 'ready' | { later: string };

export interface OptionSpec {
  name: string; // canonical camelCase flag name
  section: Section;
  kind: Kind;
  default: string; // the default as it would be written on the command line or in INI
  description: string;
  status: Status;
  min?: number;
  max?: number;
  choices?: readonly string[]; // enum values
  aliases?: Readonly<Record<string, string>>; // enum spellings accepted for a choice
  laterValues?: Readonly<Record<string, string>>; // enum values that are not implemented yet -> what
  noEffect?: boolean; // accepted for dnsmonster compatibility (Go runtime tuning), type-checked, then unused
  cliOnly?: boolean; // an action or the config path itself: not read from or written to INI
  file?: 'input' | 'inputOrUrl'; // must exist when set ('-' is stdin for pcapFile)
  secret?: boolean; // hidden when the effective config is printed
}

export const OUTPUT_TYPE_HELP = '0 off, 1 all, 2 apply skipDomains, 3 apply allowDomains, 4 apply both';
export const NO_EFFECT_NOTE = 'accepted, no effect in dnslens';

const FORMATS = ['json', 'csv', 'csv_no_header', 'gotemplate', 'json-ocsf'] as const;
const FORMAT_ALIASES = { csv_no_headers: 'csv_no_header' };

function outputType(prefix: string, section: Section, what: string, status: Status): OptionSpec {
  return {
    name: `${prefix}OutputType`,
    section,
    kind: 'outputType',
    default: '0',
    description: `What to write to ${what}: ${OUTPUT_TYPE_HELP}`,
    status,
  };
}

function str(name: string, section: Section, def: string, description: string, status: Status): OptionSpec {
  return { name, section, kind: 'string', default: def, description, status };
}

function int(name: string, section: Section, def: number, description: string, status: Status, min = 0, max?: number): OptionSpec {
  return { name, section, kind: 'int', default: String(def), description, status, min, max };
}

function bool(name: string, section: Section, description: string, status: Status): OptionSpec {
  return { name, section, kind: 'bool', default: 'false', description, status };
}

function dur(name: string, section: Section, def: string, description: string, status: Status): OptionSpec {
  return { name, section, kind: 'duration', default: def, description, status };
}

function tuning(spec: OptionSpec): OptionSpec {
  return { ...spec, noEffect: true };
}

function secret(spec: OptionSpec): OptionSpec {
  return { ...spec, secret: true };
}

// Options of an output dnslens does not have yet: all share the same `later` status.
function laterOutput(what: string, specs: ((s: Status) => OptionSpec)[]): OptionSpec[] {
  const status = { later: what };
  return specs.map((f) => f(status));
}

export const OPTIONS: readonly OptionSpec[] = [
  // --- general
  { ...str('config', 'general', '', 'Path to an INI config file', 'ready'), cliOnly: true, file: 'input' },
  { ...str('writeConfig', 'general', '', 'Write the effective configuration as a commented INI file to this path and exit', 'ready'), cliOnly: true },
  { ...bool('checkConfig', 'general', 'Validate the configuration, print it as INI and exit 0', 'ready'), cliOnly: true },
  { ...bool('version', 'general', 'Print the version and exit', 'ready'), cliOnly: true },
  { ...bool('help', 'general', 'Print this help and exit', 'ready'), cliOnly: true },
  str('serverName', 'general', 'default', 'Name of this sensor, stored with every event', 'ready'),
  {
    name: 'logLevel',
    section: 'general',
    kind: 'enum',
    default: '3',
    choices: ['0', '1', '2', '3', '4'],
    aliases: { panic: '0', fatal: '0', error: '1', warn: '2', info: '3', debug: '4' },
    description: 'Log level on stderr: 0 panic, 1 error, 2 warn, 3 info, 4 debug (names accepted too)',
    status: 'ready',
  },
  {
    name: 'logFormat',
    section: 'general',
    kind: 'enum',
    default: 'json',
    choices: ['json', 'text'],
    laterValues: { text: 'plain-text logs; dnslens logs JSON lines' },
    description: 'Log format on stderr',
    status: 'ready',
  },
  int('maskSize4', 'general', 32, 'Keep this many leading bits of IPv4 addresses (32 = whole address), on every input, before any output', 'ready', 0, 32),
  int('maskSize6', 'general', 128, 'Keep this many leading bits of IPv6 addresses (128 = whole address), on every input, before any output', 'ready', 0, 128),
  int('packetLimit', 'general', 0, 'Stop after reading this many packets; 0 = no limit', 'ready'),
  { ...str('skipDomainsFile', 'general', '', 'Do not output domains matching this CSV (domain,logic with logic prefix|suffix|fqdn, suffix matching on label boundaries); a local file or an http(s) URL', 'ready'), file: 'inputOrUrl' },
  dur('skipDomainsRefreshInterval', 'general', '60s', 'Reload skipDomainsFile this often, in the background (a failed reload keeps the previous list; SIGHUP reloads too); 0 = only on SIGHUP', 'ready'),
  tuning(str('skipDomainsFileType', 'general', '', 'Deprecated in dnsmonster', 'ready')),
  { ...str('allowDomainsFile', 'general', '', 'Only output domains matching this CSV (same format as skipDomainsFile); a local file or an http(s) URL', 'ready'), file: 'inputOrUrl' },
  dur('allowDomainsRefreshInterval', 'general', '60s', 'Reload allowDomainsFile this often, in the background (a failed reload keeps the previous list; SIGHUP reloads too); 0 = only on SIGHUP', 'ready'),
  tuning(str('allowDomainsFileType', 'general', '', 'Deprecated in dnsmonster', 'ready')),
  bool('skipTLSVerification', 'general', 'Skip TLS certificate verification on HTTPS connections (ClickHouse, domain list URLs)', { later: 'TLS options for server connections' }),
  secret(str('clientIdKey', 'general', '', 'Secret key (at least 16 bytes) for keyed client ids: clientId = HMAC-SHA256(key, client address), 16 hex digits; the client address is then left out unless maskSize4/maskSize6 are set', 'ready')),
  { ...str('clientIdKeyFile', 'general', '', 'File holding the client id key (instead of clientIdKey; a final line break is ignored)', 'ready'), file: 'input' },
  tuning(str('cpuprofile', 'general', '', 'Write a Go CPU profile to this file', 'ready')),
  tuning(str('memprofile', 'general', '', 'Write a Go memory profile to this file', 'ready')),
  tuning(int('gomaxprocs', 'general', -1, 'GOMAXPROCS', 'ready', -1)),
  tuning(dur('gcTime', 'general', '10s', 'Garbage collection interval for TCP assembly and IP defragmentation', 'ready')),
  dur('captureStatsDelay', 'general', '1s', 'How often live capture reads interface and kernel drop counters (drops are logged as they appear)', 'ready'),
  tuning(int('resultChannelSize', 'general', 100000, 'Size of the result processor channel', 'ready', 1)),

  // --- capture
  { name: 'devName', section: 'capture', kind: 'list', default: '', description: 'Capture live from these network interfaces (comma separated or repeated; one tcpdump each, run as root or with CAP_NET_RAW and CAP_NET_ADMIN)', status: 'ready' },
  { ...str('pcapFile', 'capture', '', 'Read packets from this pcap or pcapng file ("-" for stdin)', 'ready'), file: 'input' },
  str('dnstapSocket', 'capture', '', 'Listen for dnstap (Frame Streams, any number of producers) on unix:///path or tcp://addr:port', 'ready'),
  { ...str('dnstapFile', 'capture', '', 'Read dnstap frames from this Frame Streams file ("-" for stdin)', 'ready'), file: 'input' },
  bool('useDnstapIdentity', 'capture', 'Use the dnstap identity as the server name', 'ready'),
  str('dnstapPermission', 'capture', '755', 'Permission (octal) of the dnstap unix socket file', 'ready'),
  { name: 'port', section: 'capture', kind: 'portList', default: '53', description: 'DNS ports: comma separated or repeated', status: 'ready' },
  { name: 'sampleRatio', section: 'capture', kind: 'ratio', default: '1:1', description: 'Keep exactly a of every b packets (dnstap: messages), counted; 1:1 keeps all', status: 'ready' },
  dur('dedupCleanupInterval', 'capture', '60s', 'Dedup window: a packet seen again within this long (capture time) is a duplicate', 'ready'),
  bool('dedup', 'capture', 'Drop (and count) repeated packets: same IP packet, whatever the link layer, TTL or checksum (dnstap: same message)', 'ready'),
  tuning(int('packetHandlerCount', 'capture', 2, 'Number of packet handler routines', 'ready', 1)),
  tuning(int('tcpAssemblyChannelSize', 'capture', 10000, 'Size of the TCP assembler channel', 'ready', 1)),
  tuning(int('tcpResultChannelSize', 'capture', 10000, 'Size of the TCP result channel', 'ready', 1)),
  tuning(int('tcpHandlerCount', 'capture', 1, 'Number of TCP assembly routines', 'ready', 1)),
  tuning(int('defraggerChannelSize', 'capture', 10000, 'Size of the defragmenter input channel', 'ready', 1)),
  tuning(int('defraggerChannelReturnSize', 'capture', 10000, 'Size of the defragmenter output channel', 'ready', 1)),
  tuning(int('packetChannelSize', 'capture', 1000, 'Size of the packet handler channel', 'ready', 1)),
  int('afpacketBuffersizeMb', 'capture', 64, 'Kernel capture buffer per interface in MB (tcpdump -B)', 'ready', 1),
  str(
    'filter',
    'capture',
    '',
    'Kernel (BPF) filter for live capture, tcpdump syntax; empty: DNS on the --port list over UDP and TCP, plus IP fragments',
    'ready',
  ),
  tuning(bool('useAfpacket', 'capture', 'Use AF_PACKET for live capture (tcpdump uses it on Linux anyway)', 'ready')),
  bool('noEtherframe', 'capture', 'The capture has raw IP packets, no Ethernet header', 'ready'),
  bool('noPromiscuous', 'capture', 'Do not put the interface in promiscuous mode (tcpdump -p)', 'ready'),

  // --- store (ours)
  str('dataDir', 'store', './dnslens-data', 'Directory of the embedded ClickHouse (chdb) database', 'ready'),

  // --- match (ours)
  dur('matchTimeout', 'match', '5s', 'Pair each response with its query; a query without a response after this long (capture time) is marked unanswered; 0 turns matching off', 'ready'),

  // --- stdout
  outputType('stdout', 'stdout_output', 'stdout', 'ready'),
  { name: 'stdoutOutputFormat', section: 'stdout_output', kind: 'enum', default: 'json', choices: FORMATS, aliases: FORMAT_ALIASES, description: 'Output format for stdout', status: 'ready' },
  str('stdoutOutputGoTemplate', 'stdout_output', '{{.}}', 'Go-style template for the gotemplate format', 'ready'),
  tuning(int('stdoutOutputWorkerCount', 'stdout_output', 8, 'Number of stdout workers', 'ready', 1)),

  // --- file
  outputType('file', 'file_output', 'the file', 'ready'),
  str('fileOutputPath', 'file_output', '', 'Path of the output file (required when fileOutputType is not 0)', 'ready'),
  { name: 'fileOutputFormat', section: 'file_output', kind: 'enum', default: 'json', choices: FORMATS, aliases: FORMAT_ALIASES, description: 'Output format for the file', status: 'ready' },
  str('fileOutputGoTemplate', 'file_output', '{{.}}', 'Go-style template for the gotemplate format', 'ready'),
  { name: 'fileOutputRotateSize', section: 'file_output', kind: 'bytes', default: '0', description: 'Rotate the file when it reaches this size (e.g. 100MB, 1GiB); 0 = never', status: 'ready' },
  dur('fileOutputRotateInterval', 'file_output', '0', 'Rotate the file this often; 0 = never', 'ready'),
  int('fileOutputRetain', 'file_output', 7, 'Number of rotated files kept', 'ready'),

  // --- clickhouse
  str('clickhouseAddress', 'clickhouse_output', '', 'ClickHouse server HTTP address (host:port or http(s)://host:port; several, comma separated, fail over in order); empty = embedded chdb in dataDir', 'ready'),
  str('clickhouseUsername', 'clickhouse_output', '', 'ClickHouse user name', 'ready'),
  secret(str('clickhousePassword', 'clickhouse_output', '', 'ClickHouse password; @/path/to/file reads it from the first line of that file', 'ready')),
  str('clickhouseDatabase', 'clickhouse_output', 'default', 'ClickHouse database', 'ready'),
  str('clickhouseCluster', 'clickhouse_output', '', 'Create tables ON CLUSTER this cluster; empty = single server', 'ready'),
  dur('clickhouseDelay', 'clickhouse_output', '1s', 'Flush a partial batch to ClickHouse after this long', 'ready'),
  bool('clickhouseDebug', 'clickhouse_output', 'Log ClickHouse requests', { later: 'ClickHouse request logging' }),
  bool('clickhouseCompress', 'clickhouse_output', 'Compress inserts sent to ClickHouse', 'ready'),
  bool('clickhouseSecure', 'clickhouse_output', 'Use TLS for the ClickHouse connection', 'ready'),
  bool('clickhouseSaveFullQuery', 'clickhouse_output', 'Also store the full message as JSON', { later: 'FullQuery column (stored empty for now)' }),
  outputType('clickhouse', 'clickhouse_output', 'ClickHouse', 'ready'),
  int('clickhouseBatchSize', 'clickhouse_output', 100000, 'Events per ClickHouse insert (the embedded store uses 500000 unless this is set: fewer, larger inserts cost less there)', 'ready', 1),
  tuning(int('clickhouseWorkers', 'clickhouse_output', 1, 'Concurrent ClickHouse inserts (dnslens keeps one insert in flight: measured fastest)', 'ready', 1)),
  tuning(int('clickhouseWorkerChannelSize', 'clickhouse_output', 100000, 'Channel size of each ClickHouse worker', 'ready', 1)),
  int('clickhouseTTL', 'clickhouse_output', 30, 'Days raw events are kept, counted from ingestion (1..36500)', 'ready', 1, 36500),
  int('clickhouseRollupTTLMinute', 'clickhouse_output', 90, 'Days per-minute rollups are kept, counted from ingestion (1..36500)', 'ready', 1, 36500),
  int('clickhouseRollupTTLHour', 'clickhouse_output', 730, 'Days hourly rollups are kept, counted from ingestion (1..36500)', 'ready', 1, 36500),
  int('clickhouseRollupTTLDay', 'clickhouse_output', 730, 'Days daily rollups are kept, counted from ingestion (1..36500)', 'ready', 1, 36500),
  int('clickhouseRollupTTLWeek', 'clickhouse_output', 1825, 'Days weekly rollups are kept, counted from ingestion (1..36500)', 'ready', 1, 36500),
  int('clickhouseRollupTTLMonth', 'clickhouse_output', 1825, 'Days monthly rollups are kept, counted from ingestion (1..36500)', 'ready', 1, 36500),

  // --- outputs not implemented yet
  ...laterOutput('syslog output', [
    (s) => outputType('syslog', 'syslog_output', 'syslog', s),
    (s) => str('syslogOutputEndpoint', 'syslog_output', 'udp://127.0.0.1:514', 'Syslog endpoint: udp://host:port or tcp://host:port', s),
  ]),
  ...laterOutput('kafka output', [
    (s) => outputType('kafka', 'kafka_output', 'Kafka', s),
    (s) => ({ name: 'kafkaOutputBroker', section: 'kafka_output', kind: 'list', default: '', description: 'Kafka broker address(es), e.g. 127.0.0.1:9092; comma separated or repeated', status: s }),
    (s) => str('kafkaOutputTopic', 'kafka_output', 'dnsmonster', 'Kafka topic', s),
    (s) => int('kafkaBatchSize', 'kafka_output', 1000, 'Kafka batch size', s, 1),
    (s) => int('kafkaTimeout', 'kafka_output', 3, 'Kafka connection timeout in seconds', s),
    (s) => dur('kafkaBatchDelay', 'kafka_output', '1s', 'Send a partial Kafka batch after this long', s),
    (s) => bool('kafkaCompress', 'kafka_output', 'Compress the Kafka connection', s),
    (s) => ({ name: 'kafkaCompressiontype', section: 'kafka_output', kind: 'enum', default: 'snappy', choices: ['gzip', 'snappy', 'lz4', 'zstd'], description: 'Kafka compression', status: s }),
    (s) => bool('kafkaSecure', 'kafka_output', 'Use TLS for Kafka', s),
    (s) => str('kafkaCACertificatePath', 'kafka_output', '', 'CA certificate that signs the Kafka broker certificate', s),
    (s) => str('kafkaTLSCertificatePath', 'kafka_output', '', 'TLS client certificate for Kafka', s),
    (s) => str('kafkaTLSKeyPath', 'kafka_output', '', 'TLS client key for Kafka', s),
  ]),
  ...laterOutput('elasticsearch output', [
    (s) => outputType('elastic', 'elastic_output', 'Elasticsearch', s),
    (s) => str('elasticOutputEndpoint', 'elastic_output', '', 'Elasticsearch endpoint, e.g. http://127.0.0.1:9200', s),
    (s) => str('elasticOutputIndex', 'elastic_output', 'default', 'Elasticsearch index', s),
    (s) => int('elasticBatchSize', 'elastic_output', 1000, 'Elasticsearch batch size', s, 1),
    (s) => dur('elasticBatchDelay', 'elastic_output', '1s', 'Send a partial Elasticsearch batch after this long', s),
  ]),
  ...laterOutput('influxdb output', [
    (s) => outputType('influx', 'influx_output', 'InfluxDB', s),
    (s) => str('influxOutputServer', 'influx_output', '', 'InfluxDB server, e.g. http://localhost:8086', s),
    (s) => secret(str('influxOutputToken', 'influx_output', 'dnsmonster', 'InfluxDB auth token', s)),
    (s) => str('influxOutputBucket', 'influx_output', 'dnsmonster', 'InfluxDB bucket', s),
    (s) => str('influxOutputOrg', 'influx_output', 'dnsmonster', 'InfluxDB organisation', s),
    (s) => int('influxOutputWorkers', 'influx_output', 8, 'InfluxDB workers', s, 1),
    (s) => int('influxBatchSize', 'influx_output', 1000, 'InfluxDB batch size', s, 1),
  ]),
  ...laterOutput('splunk output', [
    (s) => outputType('splunk', 'splunk_output', 'Splunk HEC', s),
    (s) => ({ name: 'splunkOutputEndpoint', section: 'splunk_output', kind: 'list', default: '', description: 'Splunk HEC endpoint(s), e.g. http://127.0.0.1:8088; comma separated or repeated', status: s }),
    (s) => secret(str('splunkOutputToken', 'splunk_output', '00000000-0000-0000-0000-000000000000', 'Splunk HEC token', s)),
    (s) => str('splunkOutputIndex', 'splunk_output', 'temp', 'Splunk index', s),
    (s) => str('splunkOutputProxy', 'splunk_output', '', 'Splunk proxy URI', s),
    (s) => str('splunkOutputSource', 'splunk_output', 'dnsmonster', 'Splunk source', s),
    (s) => str('splunkOutputSourceType', 'splunk_output', 'json', 'Splunk sourcetype', s),
    (s) => int('splunkBatchSize', 'splunk_output', 1000, 'Splunk batch size', s, 1),
    (s) => dur('splunkBatchDelay', 'splunk_output', '1s', 'Send a partial Splunk batch after this long', s),
  ]),
  ...laterOutput('microsoft sentinel output', [
    (s) => outputType('sentinel', 'sentinel_output', 'Microsoft Sentinel', s),
    (s) => secret(str('sentinelOutputSharedKey', 'sentinel_output', '', 'Sentinel shared key', s)),
    (s) => str('sentinelOutputCustomerId', 'sentinel_output', '', 'Sentinel customer id', s),
    (s) => str('sentinelOutputLogType', 'sentinel_output', 'dnsmonster', 'Sentinel log type', s),
    (s) => str('sentinelOutputProxy', 'sentinel_output', '', 'Sentinel proxy URI', s),
    (s) => int('sentinelBatchSize', 'sentinel_output', 100, 'Sentinel batch size', s, 1),
    (s) => dur('sentinelBatchDelay', 'sentinel_output', '1s', 'Send a partial Sentinel batch after this long', s),
  ]),
  ...laterOutput('postgresql output', [
    (s) => outputType('psql', 'psql_output', 'PostgreSQL', s),
    (s) => secret(str('psqlEndpoint', 'psql_output', '', 'PostgreSQL URI, e.g. postgres://user:pass@host:port/db?sslmode=disable', s)),
    (s) => int('psqlWorkers', 'psql_output', 1, 'PostgreSQL workers', s, 1),
    (s) => int('psqlBatchSize', 'psql_output', 1, 'PostgreSQL batch size', s, 1),
    (s) => dur('psqlBatchDelay', 'psql_output', '0s', 'Send a partial PostgreSQL batch after this long; 0 = by size only', s),
    (s) => dur('psqlBatchTimeout', 'psql_output', '5s', 'Timeout of one PostgreSQL insert', s),
    (s) => bool('psqlSaveFullQuery', 'psql_output', 'Also store the full message as JSON', s),
  ]),
  ...laterOutput('parquet output', [
    (s) => outputType('parquet', 'parquet_output', 'Parquet files', s),
    (s) => str('parquetOutputPath', 'parquet_output', '', 'Parquet output folder', s),
    (s) => int('parquetFlushBatchSize', 'parquet_output', 10000, 'Records per Parquet flush', s, 1),
    (s) => int('parquetWorkerCount', 'parquet_output', 4, 'Parquet workers', s, 1),
    (s) => int('parquetWriteBufferSize', 'parquet_output', 256000, 'Parquet write buffer in bytes', s, 1),
  ]),
  ...laterOutput('victorialogs output', [
    (s) => str('victoriaOutputEndpoint', 'victoria_output', '', 'VictoriaLogs jsonline insert endpoint', s),
    (s) => outputType('victoria', 'victoria_output', 'VictoriaLogs', s),
    (s) => str('victoriaOutputProxy', 'victoria_output', '', 'VictoriaLogs proxy URI', s),
    (s) => int('victoriaOutputWorkers', 'victoria_output', 8, 'VictoriaLogs workers', s, 1),
    (s) => int('victoriaBatchSize', 'victoria_output', 100, 'VictoriaLogs batch size', s, 1),
    (s) => dur('victoriaBatchDelay', 'victoria_output', '0s', 'Send a partial VictoriaLogs batch after this long; 0 = by size only', s),
  ]),
  ...laterOutput('zinc search output', [
    (s) => outputType('zinc', 'zinc_output', 'Zinc Search', s),
    (s) => str('zincOutputIndex', 'zinc_output', 'dnsmonster', 'Zinc index', s),
    (s) => str('zincOutputEndpoint', 'zinc_output', '', 'Zinc bulk endpoint, e.g. http://127.0.0.1:9200/api/default/_bulk', s),
    (s) => str('zincOutputUsername', 'zinc_output', '', 'Zinc user name', s),
    (s) => secret(str('zincOutputPassword', 'zinc_output', '', 'Zinc password', s)),
    (s) => int('zincBatchSize', 'zinc_output', 1000, 'Zinc batch size', s, 1),
    (s) => dur('zincBatchDelay', 'zinc_output', '1s', 'Send a partial Zinc batch after this long', s),
    (s) => dur('zincTimeout', 'zinc_output', '10s', 'Zinc request timeout', s),
  ]),

  // --- metric
  {
    name: 'metricEndpointType',
    section: 'metric',
    kind: 'enum',
    default: 'stderr',
    choices: ['stderr', 'statsd', 'prometheus'],
    laterValues: { statsd: 'statsd metrics', prometheus: 'prometheus metrics' },
    description: 'Where metrics go',
    status: 'ready',
  },
  str('metricStatsdAgent', 'metric', '', 'statsd agent, e.g. 127.0.0.1:8125', { later: 'statsd metrics' }),
  str('metricPrometheusEndpoint', 'metric', '', 'Prometheus endpoint, e.g. http://0.0.0.0:2112/metric', { later: 'prometheus metrics' }),
  dur('metricFlushInterval', 'metric', '10s', 'Interval between metric reports; also how often counters go to the dnslens_health table when storing in ClickHouse', 'ready'),
];

const byLower = new Map(OPTIONS.map((o) => [o.name.toLowerCase(), o]));

/** Look an option up by name, ignoring case. */
export function findOption(name: string): OptionSpec | undefined {
  return byLower.get(name.toLowerCase());
}

/** Environment variable names for an option, the preferred one first. */
export function envNames(spec: OptionSpec): [string, string] {
  const upper = spec.name.toUpperCase();
  return [`DNSLENS_${upper}`, `DNSMONSTER_${upper}`];
}

/** The known name closest to `name` (for "did you mean"), or undefined when nothing is close. */
export function closestOption(name: string): string | undefined {
  const want = name.toLowerCase();
  let best: string | undefined;
  let bestDist = Math.max(2, Math.floor(want.length / 3)) + 1;
  for (const o of OPTIONS) {
    const d = editDistance(want, o.name.toLowerCase(), bestDist);
    if (d < bestDist) {
      best = o.name;
      bestDist = d;
    }
  }
  return best;
}

// Levenshtein distance, giving up once it exceeds `limit`.
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return prev[b.length];
}
