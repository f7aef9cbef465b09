// `dnslens report top`: the most queried apex domains (--by name: names), with share, queries per
// day, category, provider and cache priority (the seed guide's 5.1).
import { col, LOG, oneQuery, rollup } from './named.js';

const DAY = rollup('dns_domain_day', 'day', ['day'], 'Day');
// Apexes only: per week and apex, its queries per day (one row per apex and week, not per name and day)
const WEEK = rollup('dns_apex_week', 'week', ['day'], 'Week');
const HOUR = rollup('dns_apex_hour', 'hour', ['hour']); // apexes only

export const top = oneQuery({
  name: 'top',
  description: 'the most queried apex domains (--by name: names): share, per day, category, provider, cache priority',
  by: ['apex', 'name'],
  query: ({ by }) => ({
    name: by === 'name' ? 'names' : 'apexes',
    title: by === 'name' ? 'Top domains' : 'Top apex domains',
    columns: [
      col('domain', 'text', by === 'name' ? 'domain' : 'apex'),
      col('queries'),
      col('share', 'share'),
      col('per_day', 'number'),
      col('category', 'text'),
      col('provider', 'text'),
      col('cache_priority'),
    ],
    sources: by === 'name' ? [DAY, LOG('log')] : [WEEK, HOUR, LOG('log')],
  }),
});
