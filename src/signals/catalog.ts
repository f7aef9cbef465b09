// The signals: each a SQL definition in clickhouse/signals/<file>.sql (documented there and in the
// README, "Signals") with its thresholds from the [signals] settings, bound as query parameters.
// Every definition returns the same columns: subject, client, window_start, window_end, score,
// evidence (a map of counts and ratios) and examples (names).
import type { SignalSettings } from './options.js';

export interface SignalDef {
  name: string;
  file: string; // clickhouse/signals/<file>.sql
  about: string; // one line: what fires
  /** {{name}} expressions the file needs besides names.sql's. */
  fill?: Readonly<Record<string, string>>;
  /** The file's query parameters from the settings (besides from, until, server, tz). */
  params(s: SignalSettings): Record<string, number>;
  /** A periodic evaluation reads this far back from the newest event, in ms: its windows'
   *  length (twice a sliding window, so that one ending now is whole). */
  reach(s: SignalSettings): number;
}

const sec = (ms: number) => Math.max(1, Math.round(ms / 1000));
const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));
const DAY = 86_400_000;

const nxdomain = (subject: string, other: string, others: string, resolves: string): Pick<SignalDef, 'file' | 'fill' | 'params' | 'reach'> => ({
  file: 'nxdomain',
  fill: { subject, other, others, resolves },
  params: (s) => ({ minutes: minutes(s.signalNxdomainWindow), count: s.signalNxdomainCount, ratio: s.signalNxdomainShare }),
  reach: (s) => 2 * minutes(s.signalNxdomainWindow) * 60_000,
});

export const SIGNALS: readonly SignalDef[] = [
  {
    name: 'nxdomain-client',
    about: 'a client got many NXDOMAIN answers in a sliding window (a count, and a share of its answers)',
    ...nxdomain('{{client}}', 'Apex', 'apexes', '1'),
  },
  {
    name: 'nxdomain-apex',
    about: 'an apex domain that resolves drew many NXDOMAIN answers in a sliding window (a count, and a share of its answers)',
    ...nxdomain('Apex', '{{client}}', 'clients', "ok_w > 0 AND subject != ''"),
  },
  {
    name: 'tunnel',
    file: 'tunnel',
    about: 'a client asked many distinct names under one apex, with long labels, TXT/NULL/CNAME or many bytes',
    params: (s) => ({
      window: sec(s.signalTunnelWindow),
      names: s.signalTunnelNames,
      label: s.signalTunnelLabel,
      long_names: s.signalTunnelLongNames,
      type_share: s.signalTunnelTypeShare,
      bytes: s.signalTunnelBytes,
    }),
    reach: (s) => s.signalTunnelWindow,
  },
  {
    name: 'resolution-failures',
    file: 'failures',
    about: 'a DNS server answered many queries with SERVFAIL or REFUSED, or left them unanswered',
    params: (s) => ({ window: sec(s.signalFailureWindow), min: s.signalFailureMin, share: s.signalFailureShare }),
    reach: (s) => s.signalFailureWindow,
  },
  {
    name: 'query-burst',
    file: 'bursts',
    about: 'a client sent a burst of queries in a minute, or asked the same questions again and again (a retry storm)',
    params: (s) => ({ window: sec(s.signalBurstWindow), per_minute: s.signalBurstPerMinute, repeats: s.signalBurstRepeats, repeat_share: s.signalBurstRepeatShare }),
    reach: (s) => s.signalBurstWindow,
  },
  {
    name: 'latency-regression',
    file: 'latency',
    about: "a DNS server's p95 response time rose to several times its own baseline",
    params: (s) => ({
      window: sec(s.signalLatencyWindow),
      baseline: sec(s.signalLatencyBaseline),
      factor: s.signalLatencyFactor,
      min_ms: s.signalLatencyMinMs,
      min_answers: s.signalLatencyMinAnswers,
      baseline_answers: s.signalLatencyBaselineAnswers,
    }),
    reach: (s) => s.signalLatencyWindow,
  },
  {
    name: 'new-domains',
    file: 'new-domains',
    about: 'a day brought several times more newly observed apex domains than the days before',
    params: (s) => ({ lookback: s.signalNewDomainLookback, min: s.signalNewDomainMin, factor: s.signalNewDomainFactor, baseline_days: s.signalNewDomainBaselineDays }),
    reach: () => DAY,
  },
  {
    name: 'beacon',
    file: 'beacon',
    about: 'a client asked for a name few others ask for at regular intervals, with little jitter',
    params: (s) => ({
      window: sec(s.signalBeaconWindow),
      min_queries: s.signalBeaconMinQueries,
      min_period: sec(s.signalBeaconMinPeriod),
      jitter: s.signalBeaconJitter,
      max_clients: s.signalBeaconMaxClients,
      popular: s.signalBeaconPopular,
    }),
    reach: (s) => s.signalBeaconWindow,
  },
  {
    name: 'dga',
    file: 'dga',
    about: 'a client got NXDOMAIN for many names that look machine-generated (entropy, character model, digits, length)',
    params: (s) => ({
      window: sec(s.signalDgaWindow),
      min_length: s.signalDgaMinLength,
      entropy: s.signalDgaEntropy,
      score: s.signalDgaScore,
      min_names: s.signalDgaMinNames,
      share: s.signalDgaShare,
    }),
    reach: (s) => s.signalDgaWindow,
  },
];

/** The signals --signals asks for: every one when empty, none for 'none'; an unknown name is an error message. */
export function chosenSignals(names: readonly string[]): SignalDef[] | string {
  if (names.length === 0) return [...SIGNALS];
  if (names.length === 1 && names[0] === 'none') return [];
  const out: SignalDef[] = [];
  for (const n of names) {
    const d = SIGNALS.find((x) => x.name === n);
    if (!d) return `--signals: no signal "${n}" (${SIGNALS.map((x) => x.name).join(', ')}, or none)`;
    out.push(d);
  }
  return out;
}
