// `dnslens report qtypes`: messages per query type.
import { col, LOG, oneQuery, rollup } from './named.js';

export const qtypes = oneQuery({
  name: 'qtypes',
  description: 'messages per query type, queries and responses among them',
  query: () => ({
    name: 'qtypes',
    title: 'Query types',
    columns: [col('qtype', 'text'), col('messages'), col('queries'), col('responses'), col('share', 'share')],
    sources: [rollup('dns_traffic_{period}', 'rollup', ['day', 'hour', 'minute']), LOG('log')],
  }),
});
