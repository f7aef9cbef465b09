// `dnslens report rcodes`: responses per response code.
import { col, LOG, oneQuery, rollup } from './named.js';

export const rcodes = oneQuery({
  name: 'rcodes',
  description: 'responses per response code',
  query: () => ({
    name: 'rcodes',
    title: 'Response codes',
    columns: [col('rcode', 'text'), col('responses'), col('share', 'share')],
    sources: [rollup('dns_traffic_{period}', 'rollup', ['day', 'hour', 'minute']), LOG('log')],
  }),
});
