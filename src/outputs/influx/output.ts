// The InfluxDB sink: the line protocol encoder (line.ts) over the sink toolkit's HTTP target
// (../sink/http.ts), POSTing to the v2 API (/api/v2/write, token, org, bucket) or the v1 API
// (/write, database, user, password). Loaded when the output opens.
//
// What an answer means (the shared target's rules): 2xx the points are stored; 429 and 5xx (and
// no answer at all) are retried with backoff, waiting at least the server's Retry-After, while
// events wait; any other status (bad data, bad token, no such database) drops the batch at once,
// counted as rejected, with the server's message logged. InfluxDB 1.x's "partial write" (400, a
// field type that conflicts with other data of the measurement) counts the whole batch as
// rejected, though InfluxDB kept the points without the conflict.
import type { Context, OpenedOutput, Output } from '../../component.js';
import type { Counters } from '../../stats.js';
import { ConfigError } from '../../options.js';
import { basicAuth, httpClient, httpOutput, type HttpOutputOptions } from '../sink/http.js';
import { lineCount } from '../sink/json-bodies.js';
import { sinkContext, type BatchWriter } from '../sink/writer.js';
import { LineEncoder, tagProblem, type LineOptions } from './line.js';
import type { InfluxOptions } from './index.js';

export const NAME = 'influx';

/** Where and how to write: the v2 or the v1 API. */
export type InfluxApi =
  | { api: 'v2'; server: string; org: string; bucket: string; token: string }
  | { api: 'v1'; server: string; database: string; user: string; password: string };

/** The write URL with its query (precision: nanoseconds, as the encoder writes). A path the
 *  server URL has (a proxy's prefix) is kept. */
export function writeUrl(a: InfluxApi): URL {
  const base = new URL(a.server.trim());
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const url = new URL(a.api === 'v2' ? 'api/v2/write' : 'write', base);
  if (a.api === 'v2') {
    url.searchParams.set('org', a.org);
    url.searchParams.set('bucket', a.bucket);
  } else {
    url.searchParams.set('db', a.database);
  }
  url.searchParams.set('precision', 'ns');
  return url;
}

function headersFor(a: InfluxApi): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', accept: 'application/json' };
  if (a.api === 'v2') h.authorization = `Token ${a.token}`;
  else if (a.user !== '') h.authorization = basicAuth(a.user, a.password);
  return h;
}

export interface InfluxOutputOptions extends Omit<HttpOutputOptions, 'name' | 'encoder' | 'protocol' | 'client'> {
  counters: Counters; // the output's own (the points moved 1 ns too)
  api: InfluxApi;
  line: LineOptions;
  caPath?: string; // https:// only: the CA certificate(s) of the server
  skipTlsVerify?: boolean; // --skipTLSVerification
}

/** The InfluxDB output over the sink toolkit. */
export function influxOutput({ api, line, caPath, skipTlsVerify = false, ...writer }: InfluxOutputOptions): Output & { readonly writer: BatchWriter<null> } {
  return httpOutput({
    ...writer,
    name: NAME,
    encoder: new LineEncoder(line, writer.counters),
    protocol: {
      urls: [writeUrl(api)],
      headers: headersFor(api),
      authHint: api.api === 'v2' ? '--influxOutputToken and --influxOutputOrg' : '--influxOutputUser and --influxOutputPassword',
      rows: lineCount, // one point per line
    },
    client: httpClient({ caPath, skipTlsVerify }),
  });
}

export async function openInflux(ctx: Context<InfluxOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  // The server name is every point's tag: one line protocol cannot carry exactly is refused here.
  const problem = tagProblem(ctx.run.server);
  if (problem) throw new ConfigError('serverName', `--serverName ${JSON.stringify(ctx.run.server)} cannot be an InfluxDB tag: ${problem}`);
  const api: InfluxApi =
    s.influxOutputApi === 'v1'
      ? { api: 'v1', server: s.influxOutputServer, database: s.influxOutputDatabase, user: s.influxOutputUser, password: s.influxOutputPassword }
      : { api: 'v2', server: s.influxOutputServer, org: s.influxOutputOrg, bucket: s.influxOutputBucket, token: s.influxOutputToken };
  const output = influxOutput({
    api,
    line: { measurement: s.influxOutputMeasurement, server: ctx.run.server, qnameTag: s.influxOutputQnameTag },
    caPath: s.influxCACertificatePath,
    skipTlsVerify: ctx.run.skipTlsVerify,
    batchSize: s.influxBatchSize,
    delayMs: s.influxBatchDelay,
    ...sinkContext(ctx),
  });
  ctx.log.debug({ to: writeUrl(api).origin, api: api.api }, 'influx output open');
  return { output };
}
