// `dnslens report clients`: the busiest clients, as stored (masked as the capture was told to:
// --maskSize4/--maskSize6, client ids) or, with --by prefix, per client rollup prefix.
import { col, oneQuery, perClient } from './named.js';

export const clients = oneQuery({
  name: 'clients',
  description: 'the busiest clients (--by prefix: client prefixes): queries, share, responses, NXDOMAIN, SERVFAIL, REFUSED',
  by: ['address', 'prefix'],
  query: ({ by }) => ({
    name: 'clients',
    title: by === 'address' ? 'Top clients' : 'Top client prefixes',
    columns: [
      col('client', 'text'),
      col('queries'),
      col('share', 'share'),
      col('responses'),
      col('nxdomain', 'count', 'NXDOMAIN'),
      col('servfail', 'count', 'SERVFAIL'),
      col('refused', 'count', 'REFUSED'),
    ],
    ...perClient(by, 'rollup', 'log'),
  }),
});
