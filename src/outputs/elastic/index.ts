// The Elasticsearch/OpenSearch output: batches to `_bulk` as NDJSON, a `create` action line
// before each event (it writes to indices and data streams alike), the answer's per-item errors
// read. Keeps dnsmonster's flags; basic auth comes from user:password@ in the endpoint URL. The
// sending side (output.ts) loads when the output opens.
import { defineOutput } from '../../component.js';
import { dur, int, outputType, str } from '../../options.js';
import { caFile, HTTP_COUNTERS, httpUrl, needed } from '../sink/http-check.js';

const S = 'elastic_output';

export const OPTIONS = [
  outputType('elastic', S, 'Elasticsearch'),
  str('elasticOutputEndpoint', S, '', 'Elasticsearch or OpenSearch URL, e.g. http://127.0.0.1:9200, user:password@ in it for basic auth (/_bulk is added)'),
  str('elasticOutputIndex', S, 'default', 'Index (or data stream) the events go to'),
  int('elasticBatchSize', S, 1000, 'Events per _bulk request', 'ready', 1),
  dur('elasticBatchDelay', S, '1s', 'Send a partial Elasticsearch batch after this long'),
  str('elasticCACertificatePath', S, '', 'https:// only: CA certificate(s) that sign the cluster certificate (default: the system CAs)'),
] as const;

export type ElasticOptions = typeof OPTIONS;

export const elastic = defineOutput({
  kind: 'output',
  name: 'elastic',
  section: S,
  options: OPTIONS,
  typeOption: 'elasticOutputType',
  counters: HTTP_COUNTERS,
  check(s, from) {
    if (s.elasticOutputType === 0) return;
    const url = httpUrl('elasticOutputEndpoint', s.elasticOutputEndpoint, from, 'the cluster URL, e.g. http://127.0.0.1:9200');
    needed('elasticOutputIndex', s.elasticOutputIndex, from, 'the index the events go to');
    caFile('elasticCACertificatePath', s.elasticCACertificatePath, [url], from);
  },
  open: async (ctx) => (await import('./output.js')).openElastic(ctx),
});
