// The Sentinel sink: JSON arrays of events, each with a TimeGenerated column (the capture time,
// RFC 3339 with microseconds) beside the event's fields, so a data collection rule whose
// transformation is just `source` fills a custom table's required TimeGenerated. Sent over the
// shared HTTP target with a bearer token (token.ts); the API answers 204 when it took a request.
import type { Context, OpenedOutput } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import { ascii, type ByteWriter } from '../format/bytes.js';
import { encodeJson } from '../format/json.js';
import { rfc3339Prefix } from '../format/text.js';
import { httpClient, httpOutput } from '../sink/http.js';
import { arrayLength, JsonArrayEncoder } from '../sink/json-bodies.js';
import { streamName, tokenUrl, type SentinelOptions } from './index.js';
import { ClientCredentials } from './token.js';
import { sinkContext } from '../sink/writer.js';

export const API_VERSION = '2023-01-01';
export const MAX_REQUEST_BYTES = 1_000_000; // the API takes at most 1 MB a call

const TIME_GENERATED = ascii('{"TimeGenerated":"');
const TIME_END = ascii('Z",');

/** {"TimeGenerated":"...Z", then the event's fields}. */
export function sentinelRecord(w: ByteWriter, ev: DnsEvent): void {
  w.bytes(TIME_GENERATED);
  w.bytes(rfc3339Prefix(ev.timeSec));
  w.text(String(Math.min(Math.max(Math.floor(ev.timeNsec / 1000), 0), 999_999)).padStart(6, '0'));
  w.bytes(TIME_END);
  const at = w.pos;
  encodeJson(w, ev);
  w.buf.copyWithin(at, at + 1, w.pos); // drop the event's own "{"
  w.pos--;
}

/** POST {endpoint}/dataCollectionRules/{dcr}/streams/{stream}?api-version=2023-01-01 */
export function ingestionUrl(endpoint: string, dcr: string, stream: string): URL {
  const url = new URL(endpoint.trim());
  url.pathname = `${url.pathname.replace(/\/$/, '')}/dataCollectionRules/${encodeURIComponent(dcr.trim())}/streams/${encodeURIComponent(stream)}`;
  url.search = '';
  url.searchParams.set('api-version', API_VERSION);
  return url;
}

export async function openSentinel(ctx: Context<SentinelOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const client = httpClient({ proxy: s.sentinelOutputProxy, caPath: s.sentinelCACertificatePath, skipTlsVerify: ctx.run.skipTlsVerify });
  const url = ingestionUrl(s.sentinelOutputEndpoint, s.sentinelOutputDcrImmutableId, streamName(s));
  const output = httpOutput({
    name: 'sentinel',
    encoder: new JsonArrayEncoder(sentinelRecord, MAX_REQUEST_BYTES),
    protocol: {
      urls: [url],
      headers: { 'content-type': 'application/json' },
      auth: new ClientCredentials(client, {
        url: new URL(tokenUrl(s.sentinelOutputTokenEndpoint, s.sentinelOutputTenantId)),
        clientId: s.sentinelOutputClientId,
        clientSecret: s.sentinelOutputClientSecret,
        scope: s.sentinelOutputScope,
      }),
      authHint: 'that the app registration has the Monitoring Metrics Publisher role on the data collection rule',
      rows: arrayLength,
    },
    client,
    batchSize: s.sentinelBatchSize,
    delayMs: s.sentinelBatchDelay,
    ...sinkContext(ctx),
  });
  ctx.log.debug({ url: url.href }, 'sentinel output open');
  return { output };
}
