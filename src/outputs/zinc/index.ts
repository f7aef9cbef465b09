// The ZincSearch output: batches to its Elasticsearch-style bulk API (an `index` action line
// before each event, as dnsmonster sends) with basic auth. Keeps dnsmonster's flags. The sending
// side (output.ts) loads when the output opens.
import { defineOutput } from '../../component.js';
import { dur, int, outputType, secret, str } from '../../options.js';
import { caFile, HTTP_COUNTERS, httpUrl, needed } from '../sink/http-check.js';

const S = 'zinc_output';

export const OPTIONS = [
  outputType('zinc', S, 'Zinc Search'),
  str('zincOutputIndex', S, 'dnsmonster', 'Zinc index the events go to'),
  str('zincOutputEndpoint', S, '', 'ZincSearch bulk URL, e.g. http://127.0.0.1:4080/api/_bulk (/api/_bulk is added to a URL without a path)'),
  str('zincOutputUsername', S, '', 'Zinc user name (basic auth)'),
  secret(str('zincOutputPassword', S, '', 'Zinc password (basic auth)')),
  int('zincBatchSize', S, 1000, 'Events per bulk request', 'ready', 1),
  dur('zincBatchDelay', S, '1s', 'Send a partial Zinc batch after this long'),
  dur('zincTimeout', S, '10s', 'Zinc request timeout'),
  str('zincCACertificatePath', S, '', 'https:// only: CA certificate(s) that sign the Zinc certificate (default: the system CAs)'),
] as const;

export type ZincOptions = typeof OPTIONS;

export const zinc = defineOutput({
  kind: 'output',
  name: 'zinc',
  section: S,
  options: OPTIONS,
  typeOption: 'zincOutputType',
  counters: HTTP_COUNTERS,
  check(s, from) {
    if (s.zincOutputType === 0) return;
    const url = httpUrl('zincOutputEndpoint', s.zincOutputEndpoint, from, 'the bulk URL, e.g. http://127.0.0.1:4080/api/_bulk');
    needed('zincOutputIndex', s.zincOutputIndex, from, 'the index the events go to');
    needed('zincOutputUsername', s.zincOutputUsername, from, 'ZincSearch asks every request for a user and password');
    needed('zincOutputPassword', s.zincOutputPassword, from, 'ZincSearch asks every request for a user and password');
    caFile('zincCACertificatePath', s.zincCACertificatePath, [url], from);
  },
  open: async (ctx) => (await import('./output.js')).openZinc(ctx),
});
