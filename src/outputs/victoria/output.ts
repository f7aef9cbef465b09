// The VictoriaLogs sink: the events' JSON lines to /insert/jsonline over the shared HTTP target.
import type { Context, OpenedOutput } from '../../component.js';
import { encodeJson } from '../format/json.js';
import { httpClient, httpOutput } from '../sink/http.js';
import { withPath } from '../sink/http-check.js';
import { lineCount, LinesEncoder } from '../sink/json-bodies.js';
import type { VictoriaOptions } from './index.js';
import { sinkContext } from '../sink/writer.js';

// setTimeout's longest delay (~24.8 days): "by size only" (close() sends the rest)
const SIZE_ONLY_MS = 2 ** 31 - 1;

/** The jsonline URL: the path when it has none, and the field parameters it does not give itself. */
export function jsonlineUrl(endpoint: URL, fields: { msg: string; time: string; stream: string }): URL {
  const url = withPath(endpoint, '/insert/jsonline');
  const want: [string, string][] = [
    ['_msg_field', fields.msg],
    ['_time_field', fields.time],
    ['_stream_fields', fields.stream],
  ];
  for (const [k, v] of want) if (v !== '' && !url.searchParams.has(k)) url.searchParams.set(k, v);
  return url;
}

export async function openVictoria(ctx: Context<VictoriaOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const url = jsonlineUrl(new URL(s.victoriaOutputEndpoint.trim()), { msg: s.victoriaOutputMsgField, time: s.victoriaOutputTimeField, stream: s.victoriaOutputStreamFields });
  const output = httpOutput({
    name: 'victoria',
    encoder: new LinesEncoder(encodeJson),
    protocol: {
      urls: [url],
      headers: { 'content-type': 'application/stream+json' },
      authHint: 'the user:password@ of --victoriaOutputEndpoint (or the proxy in front of VictoriaLogs)',
      rows: lineCount,
    },
    client: httpClient({ proxy: s.victoriaOutputProxy, caPath: s.victoriaCACertificatePath, skipTlsVerify: ctx.run.skipTlsVerify }),
    batchSize: s.victoriaBatchSize,
    delayMs: s.victoriaBatchDelay > 0 ? s.victoriaBatchDelay : SIZE_ONLY_MS,
    ...sinkContext(ctx),
  });
  ctx.log.debug({ url: url.pathname + url.search }, 'victorialogs output open');
  return { output };
}
