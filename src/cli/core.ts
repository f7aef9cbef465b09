// The options of the run itself, not of one component: actions, logging, the sensor's name, the
// memory limit, the DNS ports, the domain lists the outputs apply, metrics, and dnsmonster's Go tuning flags.
import { MEMORY_LIMIT_HELP, MIN_MEMORY_LIMIT } from '../memory.js';
import { bool, choice, dur, int, memory, str, tuning, type OptionSpec, type Settings } from '../options.js';

const G = 'general';

export const CORE_OPTIONS = [
  { ...str('config', G, '', 'Path to an INI config file'), cliOnly: true, file: 'input' as const },
  { ...str('writeConfig', G, '', 'Write the effective configuration as a commented INI file to this path and exit'), cliOnly: true },
  { ...bool('checkConfig', G, 'Validate the configuration, print it as INI and exit 0'), cliOnly: true },
  { ...bool('version', G, 'Print the version and exit'), cliOnly: true },
  { ...bool('help', G, 'Print this help and exit'), cliOnly: true },
  str('serverName', G, 'default', 'Name of this sensor, stored with every event'),
  str('timezone', G, '', "IANA time zone (e.g. Europe/Berlin) of the rollups' hours, days, weeks and months, the heatmap and report times; empty: the host's zone. Changing it rebuilds the rollups that DNS_LOG still backs"),
  choice('logLevel', G, '3', ['0', '1', '2', '3', '4'], 'Log level on stderr: 0 panic, 1 error, 2 warn, 3 info, 4 debug (names accepted too)', {
    aliases: { panic: '0', fatal: '0', error: '1', warn: '2', info: '3', debug: '4' },
  }),
  choice('logFormat', G, 'auto', ['auto', 'json', 'text'], 'Log format on stderr: json (one JSON object a line), text (readable), or auto: text on a terminal, json otherwise'),
  int('packetLimit', G, 0, 'Stop after reading this many packets; 0 = no limit'),
  memory('memoryLimit', G, MEMORY_LIMIT_HELP, MIN_MEMORY_LIMIT),
  { ...str('skipDomainsFile', G, '', 'Do not output domains matching this CSV (domain,logic with logic prefix|suffix|fqdn, suffix matching on label boundaries); a local file or an http(s) URL'), file: 'inputOrUrl' as const },
  dur('skipDomainsRefreshInterval', G, '60s', 'Reload skipDomainsFile this often, in the background (a failed reload keeps the previous list; SIGHUP reloads too); 0 = only on SIGHUP'),
  tuning(str('skipDomainsFileType', G, '', 'Deprecated in dnsmonster')),
  { ...str('allowDomainsFile', G, '', 'Only output domains matching this CSV (same format as skipDomainsFile); a local file or an http(s) URL'), file: 'inputOrUrl' as const },
  dur('allowDomainsRefreshInterval', G, '60s', 'Reload allowDomainsFile this often, in the background (a failed reload keeps the previous list; SIGHUP reloads too); 0 = only on SIGHUP'),
  tuning(str('allowDomainsFileType', G, '', 'Deprecated in dnsmonster')),
  bool('skipTLSVerification', G, 'Accept any server certificate (self-signed, expired, another name) on every TLS connection: a ClickHouse server over https, PostgreSQL with sslmode, syslog tls://, the HTTP outputs (Splunk, Elasticsearch, VictoriaLogs, Zinc, Sentinel and its token endpoint, InfluxDB), NATS tls:// servers, and domain list URLs; the connection is still encrypted'),
  { name: 'port', section: 'capture', kind: 'portList', default: '53', description: 'DNS ports: comma separated or repeated', status: 'ready' } as OptionSpec<'port', 'portList'>,
] as const;

/** Listed after every component's options: the [metric] section closes the INI file, as in dnsmonster. */
export const METRIC_OPTIONS = [
  choice('metricEndpointType', 'metric', 'stderr', ['stderr', 'statsd', 'prometheus'], 'Where metrics go: stderr (a JSON log line every metricFlushInterval), statsd (UDP to metricStatsdAgent every metricFlushInterval and at exit), or an HTTP endpoint for Prometheus to scrape (with /healthz)'),
  str('metricStatsdAgent', 'metric', '127.0.0.1:8125', 'statsd agent that --metricEndpointType statsd sends to over UDP: HOST:PORT or [IPv6]:PORT'),
  str('metricPrometheusEndpoint', 'metric', '', 'Where the Prometheus endpoint listens, e.g. http://0.0.0.0:2112/metrics (/healthz beside it); empty: http://127.0.0.1:2112/metrics'),
  dur('metricFlushInterval', 'metric', '10s', 'Interval between metric reports; also how often counters go to the dnslens_health table when storing in ClickHouse'),
] as const;

/** dnsmonster's Go runtime tuning flags: accepted, type-checked, no effect; listed last in their sections. */
export const TUNING_OPTIONS = [
  tuning(str('cpuprofile', G, '', 'Write a Go CPU profile to this file')),
  tuning(str('memprofile', G, '', 'Write a Go memory profile to this file')),
  tuning(int('gomaxprocs', G, -1, 'GOMAXPROCS', 'ready', -1)),
  tuning(dur('gcTime', G, '10s', 'Garbage collection interval for TCP assembly and IP defragmentation')),
  tuning(int('resultChannelSize', G, 100000, 'Size of the result processor channel', 'ready', 1)),
  tuning(int('packetHandlerCount', 'capture', 2, 'Number of packet handler routines', 'ready', 1)),
  tuning(int('tcpAssemblyChannelSize', 'capture', 10000, 'Size of the TCP assembler channel', 'ready', 1)),
  tuning(int('tcpResultChannelSize', 'capture', 10000, 'Size of the TCP result channel', 'ready', 1)),
  tuning(int('tcpHandlerCount', 'capture', 1, 'Number of TCP assembly routines', 'ready', 1)),
  tuning(int('defraggerChannelSize', 'capture', 10000, 'Size of the defragmenter input channel', 'ready', 1)),
  tuning(int('defraggerChannelReturnSize', 'capture', 10000, 'Size of the defragmenter output channel', 'ready', 1)),
  tuning(int('packetChannelSize', 'capture', 1000, 'Size of the packet handler channel', 'ready', 1)),
] as const;

export type CoreSettings = Settings<typeof CORE_OPTIONS> & Settings<typeof METRIC_OPTIONS>;
