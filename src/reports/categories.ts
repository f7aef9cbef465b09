// `dnslens report categories`: queries per domain category (clickhouse/dictionaries/
// domain_categories.tsv), the seed guide's 5.2.
import { col, LOG, oneQuery, rollup } from './named.js';

export const categories = oneQuery({
  name: 'categories',
  description: 'queries per domain category, with the apex domains queried in each',
  query: () => ({
    name: 'categories',
    title: 'Queries by category',
    columns: [col('category', 'text'), col('domains', 'count', 'apex domains'), col('queries'), col('share', 'share')],
    // whole days: dns_apex_week's queries per day (one row per apex and week)
    sources: [rollup('dns_apex_week', 'week', ['day'], 'Week'), rollup('dns_apex_hour', 'rollup', ['hour']), LOG('log')],
  }),
});
