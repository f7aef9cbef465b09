// The named reports of `dnslens report <name>`, in the order --help lists them.
import { ConfigError } from '../options.js';
import { categories } from './categories.js';
import { clients } from './clients.js';
import { heatmap } from './heatmap.js';
import { latency } from './latency.js';
import type { NamedReport } from './named.js';
import { newDomains } from './new-domains.js';
import { nxdomain } from './nxdomain.js';
import { qtypes } from './qtypes.js';
import { rcodes } from './rcodes.js';
import { signals } from './signals.js';
import { top } from './top.js';

export const REPORTS: readonly NamedReport[] = [top, categories, heatmap, nxdomain, latency, clients, qtypes, rcodes, newDomains, signals];

export function findReport(name: string): NamedReport {
  const r = REPORTS.find((x) => x.name === name);
  if (!r) throw new ConfigError('report', `dnslens report: no report "${name}" (${REPORTS.map((x) => x.name).join(', ')}; dnslens report --help)`);
  return r;
}

/** `dnslens report --help`. */
export function reportHelp(): string {
  const w = Math.max(...REPORTS.map((r) => r.name.length));
  return `Usage: dnslens report [NAME] [options] [store options: --dataDir, --clickhouseAddress, ...]

With no NAME, the summary: messages, top domains, response codes, query types, latency
(--top N, --since, --until). With --html FILE and no NAME (or NAME all), every report on one page.

Reports:
${REPORTS.map((r) => `  ${r.name.padEnd(w)}  ${r.description}`).join('\n')}

Options:
  --since T, --until T  the window [since, until): '2024-03-12 09:00' (wall-clock time in the
                        report's zone), '2024-03-12T09:00:00Z', or back from now: 90m, 24h, 7d, 2w,
                        each from the start of its minute, hour or day
  --server S            one capture's --serverName, or one DNS server address
  --client C            one client address, or a prefix (192.0.2.0/24); read from DNS_LOG
  --by KEY              top, new-domains: apex|name; clients, nxdomain: address|prefix;
                        latency: prefix|address (the first is the default)
  --limit N             rows per list (default 10)
  --lookback D          new-domains: days (7d) or weeks (2w) before the window (default 7d)
  --format F            table (default), csv or json
  --explain             say on stderr which table each part read, and why
  --html FILE           write the report (or all of them) as one HTML page with charts, instead
                        of printing it: self-contained, viewed offline in any browser
  --timezone Z          the report's zone (default: the store's)
`;
}
