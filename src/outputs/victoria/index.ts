// The VictoriaLogs output: batches to /insert/jsonline, one event's JSON line each, with the
// _msg_field, _time_field and _stream_fields query parameters that tell VictoriaLogs which fields
// are the message, the time and the stream. Keeps dnsmonster's flags (its endpoint carried the
// parameters; ones in the URL still win). The sending side (output.ts) loads when the output opens.
import { defineOutput } from '../../component.js';
import { dur, int, outputType, str, tuning } from '../../options.js';
import { caFile, HTTP_COUNTERS, httpUrl, needed, proxyUrl } from '../sink/http-check.js';

const S = 'victoria_output';

export const OPTIONS = [
  outputType('victoria', S, 'VictoriaLogs'),
  str('victoriaOutputEndpoint', S, '', 'VictoriaLogs URL, e.g. http://127.0.0.1:9428 (/insert/jsonline is added to a URL without a path; query parameters in it win over the flags below)'),
  str('victoriaOutputProxy', S, '', 'HTTP proxy for VictoriaLogs requests, e.g. http://proxy:3128 (https:// endpoints through CONNECT)'),
  tuning(int('victoriaOutputWorkers', S, 8, 'Parallel senders in dnsmonster; dnslens sends one batch at a time, in order', 'ready', 1)),
  int('victoriaBatchSize', S, 100, 'Events per jsonline request', 'ready', 1),
  dur('victoriaBatchDelay', S, '0s', 'Send a partial VictoriaLogs batch after this long; 0 = by size only (the rest goes at exit)'),
  str('victoriaOutputMsgField', S, 'qname', 'Event field VictoriaLogs shows as the message (_msg_field)'),
  str('victoriaOutputTimeField', S, 'time', 'Event field with the time (_time_field)'),
  str('victoriaOutputStreamFields', S, 'server', 'Event fields that name a log stream, comma separated (_stream_fields); keep them few-valued'),
  str('victoriaCACertificatePath', S, '', 'https:// only: CA certificate(s) that sign the VictoriaLogs certificate (default: the system CAs)'),
] as const;

export type VictoriaOptions = typeof OPTIONS;

export const victoria = defineOutput({
  kind: 'output',
  name: 'victoria',
  section: S,
  options: OPTIONS,
  typeOption: 'victoriaOutputType',
  counters: HTTP_COUNTERS,
  check(s, from) {
    if (s.victoriaOutputType === 0) return;
    const url = httpUrl('victoriaOutputEndpoint', s.victoriaOutputEndpoint, from, 'the VictoriaLogs URL, e.g. http://127.0.0.1:9428');
    needed('victoriaOutputMsgField', s.victoriaOutputMsgField, from, 'the field shown as the message');
    needed('victoriaOutputTimeField', s.victoriaOutputTimeField, from, 'the field with the time');
    proxyUrl('victoriaOutputProxy', s.victoriaOutputProxy, from);
    caFile('victoriaCACertificatePath', s.victoriaCACertificatePath, [url], from);
  },
  open: async (ctx) => (await import('./output.js')).openVictoria(ctx),
});
