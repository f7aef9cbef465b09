// The Splunk HEC sink: events in HEC's envelope, one line each (HEC takes several JSON objects in
// one request), over the shared HTTP target. HEC answers {"text":"Success","code":0}; a refusal
// (400 "Invalid data format", 403 "Invalid token", ...) carries its reason in the same shape,
// which the target logs; 503 "Server is busy" is retried.
import { hostname } from 'node:os';
import type { Context, OpenedOutput } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Counters, Stats } from '../../stats.js';
import type { Log } from '../../log.js';
import type { ByteWriter } from '../format/bytes.js';
import { encodeJson } from '../format/json.js';
import { httpClient, httpOutput, type HttpClient } from '../sink/http.js';
import { lineCount, LinesEncoder, type RecordWriter } from '../sink/json-bodies.js';
import { withPath } from '../sink/http-check.js';
import type { SplunkOptions } from './index.js';
import { sinkContext } from '../sink/writer.js';

export interface SplunkOutputOptions {
  endpoints: readonly URL[];
  token: string;
  host: string;
  source: string;
  sourcetype: string;
  index: string; // '' leaves it to the token
  batchSize: number;
  delayMs: number;
  client: HttpClient;
  stats: Stats;
  counters: Counters;
  log: Log;
  maxQueueBytes?: number;
  stop?: AbortSignal;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

/** {"time":<seconds.milliseconds>,"host":..,"source":..,"sourcetype":..[,"index":..],"event":<the event>} */
export function hecEnvelope(o: { host: string; source: string; sourcetype: string; index: string }): RecordWriter {
  const meta = { host: o.host, source: o.source, sourcetype: o.sourcetype, ...(o.index !== '' ? { index: o.index } : {}) };
  const middle = Buffer.from(',' + JSON.stringify(meta).slice(1, -1) + ',"event":');
  const open = Buffer.from('{"time":');
  return (w: ByteWriter, ev: DnsEvent) => {
    w.bytes(open);
    w.num(ev.timeSec);
    w.text('.' + String(Math.min(Math.max(Math.floor(ev.timeNsec / 1e6), 0), 999)).padStart(3, '0'));
    w.bytes(middle);
    encodeJson(w, ev);
    w.byte(0x7d);
  };
}

export function splunkOutput(o: SplunkOutputOptions) {
  return httpOutput({
    name: 'splunk',
    encoder: new LinesEncoder(hecEnvelope(o)),
    protocol: {
      urls: o.endpoints.map((u) => withPath(u, '/services/collector/event')),
      headers: { 'content-type': 'application/json', authorization: `Splunk ${o.token}` },
      authHint: '--splunkOutputToken, and that the token may write to --splunkOutputIndex',
      rows: lineCount,
    },
    client: o.client,
    batchSize: o.batchSize,
    delayMs: o.delayMs,
    stats: o.stats,
    maxQueueBytes: o.maxQueueBytes,
    stop: o.stop,
    counters: o.counters,
    log: o.log,
    retryInitialMs: o.retryInitialMs,
    retryMaxMs: o.retryMaxMs,
  });
}

export async function openSplunk(ctx: Context<SplunkOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const endpoints = s.splunkOutputEndpoint.map((e) => new URL(e.trim())); // check() vetted them
  const output = splunkOutput({
    endpoints,
    token: s.splunkOutputToken,
    host: ctx.run.server === '' || ctx.run.server === 'default' ? hostname() : ctx.run.server,
    source: s.splunkOutputSource,
    sourcetype: s.splunkOutputSourceType,
    index: s.splunkOutputIndex,
    batchSize: s.splunkBatchSize,
    delayMs: s.splunkBatchDelay,
    client: httpClient({ proxy: s.splunkOutputProxy, caPath: s.splunkCACertificatePath, skipTlsVerify: ctx.run.skipTlsVerify }),
    ...sinkContext(ctx),
  });
  ctx.log.debug({ endpoints: endpoints.length }, 'splunk output open');
  return { output };
}
