// `dnslens report latency`: "why does the internet feel slow?" (the Raspberry Pi logger):
// p50/p95/p99 response times and unanswered queries in all, per DNS server address, per client
// prefix (--by address: per client), and the slowest names.
import { col, LOG, perClient, rollup, type NamedReport } from './named.js';

const measures = [col('answered'), col('unanswered'), col('unanswered_share', 'share'), col('p50', 'micros'), col('p95', 'micros'), col('p99', 'micros')];
const SERVERS = (sql: string) => rollup('dns_latency_{period}', sql, ['day', 'hour', 'minute'], 'Time', true);

export const latency: NamedReport = {
  name: 'latency',
  description: 'p50/p95/p99 response times and unanswered queries per DNS server and client prefix, the slowest domains',
  by: ['prefix', 'address'],
  run: async ({ by, section }) => [
    await section({
      name: 'overall',
      title: 'Response times (queries paired with their responses)',
      columns: measures,
      sources: [SERVERS('overall_rollup'), LOG('overall_log')],
    }),
    await section({
      name: 'servers',
      title: 'By DNS server',
      columns: [col('server', 'text'), ...measures],
      sources: [SERVERS('servers_rollup'), LOG('servers_log')],
    }),
    await section({
      name: 'clients',
      title: by === 'address' ? 'By client' : 'By client prefix',
      columns: [col('client', 'text'), ...measures],
      ...perClient(by, 'clients_rollup', 'clients_log'),
    }),
    await section({
      name: 'slowest',
      title: 'Slowest domains (by p95)',
      columns: [col('domain', 'text'), ...measures],
      sources: [LOG('slowest_log')],
      logOnly: 'response times per name are only in DNS_LOG',
    }),
  ],
};
