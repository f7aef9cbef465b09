// The signals' settings ([signals] in INI): when they run, and every threshold of each signal's
// SQL definition (clickhouse/signals/*.sql). The ClickHouse output declares them, since it holds
// the store the signals read and write.
import { dur, int, list, num, type Settings } from '../options.js';

const S = 'signals';

export const SIGNAL_OPTIONS = [
  list('signals', S, "Signals to evaluate, comma separated (README \"Signals\"); empty = all of them, 'none' = none"),
  dur('signalInterval', S, '1m', 'Evaluate the signals this often while a live capture, dnstap socket or followed log runs (and once at the end of any run); 0s = only at the end'),

  dur('signalNxdomainWindow', S, '15m', 'nxdomain-client, nxdomain-apex: the sliding window (whole minutes)'),
  int('signalNxdomainCount', S, 200, 'nxdomain-client, nxdomain-apex: fire on more than this many NXDOMAIN in a window ...', 'ready', 1),
  int('signalNxdomainShare', S, 30, '... that are at least this share of the responses (percent)', 'ready', 0, 100),

  dur('signalTunnelWindow', S, '1h', 'tunnel: the window per client and apex domain'),
  int('signalTunnelNames', S, 100, 'tunnel: distinct names under the apex, at least', 'ready', 1),
  int('signalTunnelLabel', S, 30, 'tunnel: a label of at least this many characters is long', 'ready', 1),
  int('signalTunnelLongNames', S, 20, 'tunnel: and one of: this many names with a long label ...', 'ready', 1),
  int('signalTunnelTypeShare', S, 50, '... TXT/NULL/CNAME queries at least this share of the queries (percent) ...', 'ready', 1, 100),
  int('signalTunnelBytes', S, 5_000_000, '... queries and responses of at least this many bytes', 'ready', 1),

  dur('signalFailureWindow', S, '15m', 'resolution-failures: the window per DNS server'),
  int('signalFailureMin', S, 50, 'resolution-failures: SERVFAIL + REFUSED + unanswered, at least', 'ready', 1),
  int('signalFailureShare', S, 20, 'resolution-failures: and at least this share of the exchanges (percent)', 'ready', 1, 100),

  dur('signalBurstWindow', S, '5m', 'query-burst: the window per client'),
  int('signalBurstPerMinute', S, 1000, 'query-burst: fire on this many queries from one client in one minute', 'ready', 1),
  int('signalBurstRepeats', S, 300, 'query-burst: or on this many repeated queries (same name and type) in a window ...', 'ready', 1),
  int('signalBurstRepeatShare', S, 50, '... that are at least this share of its queries (percent)', 'ready', 1, 100),

  dur('signalLatencyWindow', S, '15m', "latency-regression: the window per DNS server, compared with the server's baseline"),
  dur('signalLatencyBaseline', S, '24h', 'latency-regression: the baseline: this long before the window'),
  num('signalLatencyFactor', S, 3, 'latency-regression: fire when the p95 response time is this many times the baseline p95 ...', 1),
  int('signalLatencyMinMs', S, 100, '... and at least this many milliseconds ...', 'ready', 0),
  int('signalLatencyMinAnswers', S, 50, '... with at least this many responses in the window ...', 'ready', 1),
  int('signalLatencyBaselineAnswers', S, 500, '... and this many in the baseline', 'ready', 1),

  int('signalNewDomainLookback', S, 7, 'new-domains: an apex is new on a day when it was not asked in this many days before', 'ready', 1, 90),
  int('signalNewDomainMin', S, 50, 'new-domains: fire when a day has at least this many new apex domains ...', 'ready', 1),
  num('signalNewDomainFactor', S, 3, '... and this many times the median of the days before', 1),
  int('signalNewDomainBaselineDays', S, 3, 'new-domains: days of baseline needed, at least', 'ready', 1),

  dur('signalBeaconWindow', S, '2h', 'beacon: the window per client and name'),
  int('signalBeaconMinQueries', S, 10, 'beacon: queries (distinct seconds) in the window, at least', 'ready', 3),
  dur('signalBeaconMinPeriod', S, '30s', 'beacon: mean gap between them, at least'),
  int('signalBeaconJitter', S, 10, 'beacon: standard deviation of the gaps, at most this share of the mean (percent)', 'ready', 0, 100),
  int('signalBeaconMaxClients', S, 3, 'beacon: clients asking for the name, at most ...', 'ready', 1),
  int('signalBeaconPopular', S, 5, "... and at most this share of the window's clients (percent; one client always qualifies)", 'ready', 0, 100),

  dur('signalDgaWindow', S, '1h', 'dga: the window per client'),
  int('signalDgaMinLength', S, 8, 'dga: a DGA-like label has at least this many characters ...', 'ready', 1),
  num('signalDgaEntropy', S, 2.5, '... a Shannon entropy of at least this many bits per character ...', 0, 6),
  num('signalDgaScore', S, 3.6, '... and a character-model score (mean -ln P per character, plus the digit ratio) of at least this', 0),
  int('signalDgaMinNames', S, 20, 'dga: fire when a client got NXDOMAIN for at least this many DGA-like names ...', 'ready', 1),
  int('signalDgaShare', S, 50, '... that are at least this share of its NXDOMAIN names (percent)', 'ready', 1, 100),
] as const;

export type SignalSettings = Settings<typeof SIGNAL_OPTIONS>;
