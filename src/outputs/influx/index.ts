// The InfluxDB output: every event as one point of line protocol (line.ts: which tags, which
// fields, and why), written through the v2 API (/api/v2/write: token, org, bucket) or the v1
// API (/write: database, user, password), in batches through the sink toolkit's HTTP target
// (retries with backoff, counters). Keeps dnsmonster's influx flags. The sending side
// (output.ts) loads when the output opens.
import { defineOutput } from '../../component.js';
import { bool, choice, ConfigError, dur, int, outputType, secret, str, tuning } from '../../options.js';
import { caFile, HTTP_COUNTERS, httpUrl, needed } from '../sink/http-check.js';
import { measurementProblem } from './line.js';

const S = 'influx_output';

export const OPTIONS = [
  outputType('influx', S, 'InfluxDB'),
  str('influxOutputServer', S, '', 'InfluxDB server URL, e.g. http://localhost:8086 (a path prefix is kept)'),
  choice('influxOutputApi', S, 'v2', ['v2', 'v1'], 'Write API: v2 (/api/v2/write with token, org and bucket) or v1 (/write with database, user and password: InfluxDB 1.x)'),
  secret(str('influxOutputToken', S, 'dnsmonster', 'v2: API token (sent as Authorization: Token)')),
  str('influxOutputBucket', S, 'dnsmonster', 'v2: bucket'),
  str('influxOutputOrg', S, 'dnsmonster', 'v2: organisation'),
  str('influxOutputDatabase', S, 'dnsmonster', 'v1: database'),
  str('influxOutputUser', S, '', 'v1: user name (basic authentication); empty: none'),
  secret(str('influxOutputPassword', S, '', 'v1: password of --influxOutputUser')),
  str('influxOutputMeasurement', S, 'dns', 'Measurement of the points'),
  bool('influxOutputQnameTag', S, 'Make the question name a tag instead of a field (one series per name: only for a small, known set of names)'),
  tuning(int('influxOutputWorkers', S, 8, 'InfluxDB writers (dnslens keeps one write in flight)', 'ready', 1)),
  int('influxBatchSize', S, 1000, 'InfluxDB points per write', 'ready', 1),
  dur('influxBatchDelay', S, '1s', 'Send a partial InfluxDB batch after this long'),
  str('influxCACertificatePath', S, '', 'https:// only: CA certificate(s) that sign the InfluxDB certificate (default: the system CAs)'),
] as const;

export type InfluxOptions = typeof OPTIONS;

export const influx = defineOutput({
  kind: 'output',
  name: 'influx',
  section: S,
  options: OPTIONS,
  typeOption: 'influxOutputType',
  counters: { ...HTTP_COUNTERS, moved: 'points moved 1 ns on' }, // see line.ts, Collisions
  check(s, from) {
    if (s.influxOutputType === 0) return;
    const fail = (name: InfluxOptions[number]['name'], why: string): never => {
      throw new ConfigError(name, `--${name}: ${why}${from(name)}`);
    };
    const url = httpUrl('influxOutputServer', s.influxOutputServer, from, 'the InfluxDB server URL, e.g. http://localhost:8086');
    caFile('influxCACertificatePath', s.influxCACertificatePath, [url], from);
    const problem = measurementProblem(s.influxOutputMeasurement);
    if (problem) fail('influxOutputMeasurement', `${JSON.stringify(s.influxOutputMeasurement)} cannot be a measurement: ${problem}`);
    if (s.influxOutputApi === 'v2') {
      for (const name of ['influxOutputToken', 'influxOutputOrg', 'influxOutputBucket'] as const) needed(name, s[name], from, 'the v2 API asks for it');
      for (const name of ['influxOutputUser', 'influxOutputPassword'] as const) {
        if (s[name] !== '') fail(name, 'only for --influxOutputApi v1 (v2 uses --influxOutputToken)');
      }
    } else {
      needed('influxOutputDatabase', s.influxOutputDatabase, from, 'the v1 API asks for it');
      if (s.influxOutputPassword !== '' && s.influxOutputUser === '') fail('influxOutputPassword', 'needs --influxOutputUser');
    }
  },
  open: async (ctx) => (await import('./output.js')).openInflux(ctx),
});
