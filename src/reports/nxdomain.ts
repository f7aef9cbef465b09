// `dnslens report nxdomain`: NXDOMAIN answers per apex domain (the seed guide's 5.4:
// misconfigurations, bot noise) and per client (--by address, the default, or prefix).
import { col, LOG, perClient, rollup, type NamedReport } from './named.js';

const measures = [col('queries'), col('nxdomain', 'count', 'NXDOMAIN'), col('share', 'share', 'failure share')];

export const nxdomain: NamedReport = {
  name: 'nxdomain',
  description: 'NXDOMAIN answers per apex domain and per client (--by prefix: client prefix): queries, failures, share',
  by: ['address', 'prefix'],
  run: async ({ by, section }) => [
    await section({
      name: 'apexes',
      title: 'NXDOMAIN by apex domain',
      columns: [col('apex', 'text'), ...measures],
      sources: [rollup('dns_domain_day', 'apexes_day', ['day'], 'Day'), LOG('apexes_log')],
    }),
    await section({
      name: 'clients',
      title: by === 'address' ? 'NXDOMAIN by client' : 'NXDOMAIN by client prefix',
      columns: [col('client', 'text'), ...measures],
      ...perClient(by, 'clients_rollup', 'clients_log'),
    }),
  ],
};
