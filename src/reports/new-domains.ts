// `dnslens report new-domains`: apex domains (--by name: names) first seen in the window and not
// seen in the --lookback days before it (default 7d): newly observed domains.
import { ConfigError } from '../options.js';
import { col, LOG, rollup, type NamedReport } from './named.js';
import { daysBefore } from './time.js';

export const newDomains: NamedReport = {
  name: 'new-domains',
  description: 'apex domains (--by name: names) first seen in the window, not in the --lookback before it (default 7d)',
  by: ['apex', 'name'],
  defaultSince: '1d',
  async run(ctx) {
    const lookback = ctx.args.lookback ?? '7d';
    const m = /^(\d+)([dw])$/.exec(lookback);
    if (!m) throw new ConfigError('lookback', `--lookback: "${lookback}" is not a number of days (7d) or weeks (2w)`);
    const days = Number(m[1]) * (m[2] === 'w' ? 7 : 1);
    const byName = ctx.by === 'name';
    return [
      await ctx.section(
        {
          name: 'new',
          title: `${byName ? 'Domains' : 'Apex domains'} first seen in the window, not seen in the ${days} days before`,
          columns: [col('domain', 'text', byName ? 'domain' : 'apex'), col('first_seen', 'time'), col('queries'), col('clients'), col('category', 'text')],
          sources: [rollup('dns_domain_day', 'day', ['day'], 'Day'), LOG('log')],
        },
        daysBefore(ctx.since!, days, ctx.zone),
      ),
    ];
  },
};
