// The one list of components. Inputs, then transforms in pipeline order, then outputs. --help,
// the README reference, --writeConfig/--checkConfig, the environment and INI readers, the
// summary and the health table all loop over it; adding a component is one import and one entry.
import type { Component, InputComponent, OutputComponent, TransformComponent } from '../component.js';
import type { OptionSpec } from '../options.js';
import { dnstap } from '../inputs/dnstap/index.js';
import { live } from '../inputs/live/index.js';
import { logs } from '../inputs/logs/index.js';
import { kafkaInput } from '../inputs/kafka/index.js';
import { natsInput } from '../inputs/nats/index.js';
import { pcap } from '../inputs/pcap/index.js';
import { dedup } from '../transforms/dedup.js';
import { match } from '../transforms/match.js';
import { privacy } from '../transforms/privacy.js';
import { sample } from '../transforms/sample.js';
import { clickhouse } from '../outputs/clickhouse/index.js';
import { elastic } from '../outputs/elastic/index.js';
import { file } from '../outputs/file.js';
import { psql } from '../outputs/postgres/index.js';
import { influx } from '../outputs/influx/index.js';
import { kafka } from '../outputs/kafka/index.js';
import { nats } from '../outputs/nats/index.js';
import { parquet } from '../outputs/parquet/index.js';
import { sentinel } from '../outputs/sentinel/index.js';
import { splunk } from '../outputs/splunk/index.js';
import { stdout } from '../outputs/stdout.js';
import { syslog } from '../outputs/syslog/index.js';
import { victoria } from '../outputs/victoria/index.js';
import { zinc } from '../outputs/zinc/index.js';
import { CORE_OPTIONS, METRIC_OPTIONS, TUNING_OPTIONS } from './core.js';

export const COMPONENTS: readonly Component[] = [
  pcap,
  live,
  dnstap,
  logs,
  natsInput,
  kafkaInput,
  // Packets are deduplicated, then sampled; matching keys on whole addresses, so masks come last.
  dedup,
  sample,
  match,
  privacy,
  stdout,
  file,
  clickhouse,
  syslog,
  psql,
  influx,
  parquet,
  elastic,
  splunk,
  sentinel,
  victoria,
  zinc,
  nats,
  kafka,
];

const KIND_ORDER = ['input', 'transform', 'output'] as const;

export class Registry {
  readonly options: readonly OptionSpec[];
  readonly sections: readonly string[];
  private readonly byLower: Map<string, OptionSpec>;
  private readonly owners = new Map<string, Component>();

  constructor(readonly components: readonly Component[]) {
    const names = new Set<string>();
    for (const c of components) {
      if (names.has(c.name)) throw new Error(`two components are named ${c.name}`);
      names.add(c.name);
      for (const o of c.options) this.owners.set(o.name, c);
    }
    this.options = [...CORE_OPTIONS, ...components.flatMap((c) => c.options), ...METRIC_OPTIONS, ...TUNING_OPTIONS];
    this.byLower = new Map();
    for (const o of this.options) {
      const key = o.name.toLowerCase();
      if (this.byLower.has(key)) throw new Error(`option ${o.name} is declared twice`);
      this.byLower.set(key, o);
    }
    this.sections = [...new Set(this.options.map((o) => o.section))];
  }

  get inputs(): InputComponent[] {
    return this.components.filter((c): c is InputComponent => c.kind === 'input');
  }

  get transforms(): TransformComponent[] {
    return this.components.filter((c): c is TransformComponent => c.kind === 'transform');
  }

  get outputs(): OutputComponent[] {
    return this.components.filter((c): c is OutputComponent => c.kind === 'output');
  }

  /** The component that declares an option (undefined for the run's own options). */
  ownerOf(option: string): Component | undefined {
    return this.owners.get(option);
  }

  /** Look an option up by name, ignoring case. */
  findOption(name: string): OptionSpec | undefined {
    return this.byLower.get(name.toLowerCase());
  }

  /** The known name closest to `name` (for "did you mean"), or undefined when nothing is close. */
  closestOption(name: string): string | undefined {
    const want = name.toLowerCase();
    let best: string | undefined;
    let bestDist = Math.max(2, Math.floor(want.length / 3)) + 1;
    for (const o of this.options) {
      const d = editDistance(want, o.name.toLowerCase(), bestDist);
      if (d < bestDist) {
        best = o.name;
        bestDist = d;
      }
    }
    return best;
  }

  /** This registry with more components, each placed after the last one of its kind. */
  with(...extra: Component[]): Registry {
    const all = [...this.components, ...extra];
    return new Registry(KIND_ORDER.flatMap((k) => all.filter((c) => c.kind === k)));
  }
}

export const registry = new Registry(COMPONENTS);

/** Environment variable names for an option, the preferred one first. */
export function envNames(spec: OptionSpec): [string, string] {
  const upper = spec.name.toUpperCase();
  return [`DNSLENS_${upper}`, `DNSMONSTER_${upper}`];
}

// Levenshtein distance, giving up once it exceeds `limit`.
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) >= limit) return limit;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= limit) return limit;
    prev = cur;
  }
  return prev[b.length];
}
