// dnslens' own health in the store it writes to (table dnslens_health, migration 0010), so one
// Grafana datasource shows the DNS data and the state of what collects it. Every interval a
// snapshot goes in: for each counter the increase since the last snapshot that was stored (a
// failed insert loses nothing: the next one carries the increase), and each component's gauges
// (an output's rows waiting, the duration of its last send). Component counters are named
// <component>.<counter> (clickhouse.sent), so a new component shows up with no edit here.
import { hostname } from 'node:os';
import { log } from '../../log.js';
import { Periodic } from '../../periodic.js';
import { CORE_COUNTERS, type Stats } from '../../stats.js';
import type { Store } from '../../store/connection.js';
import { selectRows } from '../../store/statements.js';

export interface HealthRow {
  kind: 'counter' | 'gauge';
  counter: string;
  reason: string;
  value: number;
}

export interface HealthOptions {
  server: string; // --serverName
  intervalMs: number; // --metricFlushInterval; 0 = only the final snapshot at close()
  stats: Stats;
  sensor?: string; // default host:pid
  now?: () => number; // ms since the epoch; tests pin it
}

// Counters written at every snapshot even when they did not move, so rates read 0, not "no data".
export const ALWAYS = CORE_COUNTERS;

/** Every counter of the stats and of each component, by "counter\treason" (cumulative since start). */
export function counterTotals(stats: Stats): Map<string, number> {
  const m = new Map<string, number>();
  for (const [name, n] of stats.scalars()) m.set(`${name}\t`, n);
  for (const [reason, n] of stats.malformedBy) m.set(`malformed\t${reason}`, n);
  for (const [reason, n] of stats.unsupportedBy) m.set(`unsupported\t${reason}`, n);
  for (const [key, n] of stats.droppedBy) m.set(`dropped\t${key}`, n);
  for (const c of stats.components.values()) for (const [name, n] of c.values) m.set(`${c.component}.${name}\t`, n);
  return m;
}

/** The rows of one snapshot: counter increases over `last` (non-zero ones, plus ALWAYS), then the components' gauges. */
export function snapshotRows(totals: ReadonlyMap<string, number>, last: ReadonlyMap<string, number>, stats?: Stats): HealthRow[] {
  const rows: HealthRow[] = [];
  for (const [key, total] of totals) {
    const tab = key.indexOf('\t');
    const counter = key.slice(0, tab);
    const reason = key.slice(tab + 1);
    const delta = Math.max(0, total - (last.get(key) ?? 0));
    if (delta > 0 || (reason === '' && ALWAYS.includes(counter))) rows.push({ kind: 'counter', counter, reason, value: delta });
  }
  for (const c of stats?.components.values() ?? []) {
    for (const [name, value] of c.readings()) rows.push({ kind: 'gauge', counter: `${c.component}.${name}`, reason: '', value: Math.round(value) });
  }
  return rows;
}

function sqlString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'";
}

/** The INSERT for one snapshot (literal rows: it works on every store kind, and a snapshot is small). */
export function insertSql(database: string, server: string, sensor: string, timeMs: number, rows: readonly HealthRow[]): string {
  const t = `fromUnixTimestamp64Milli(${Math.floor(timeMs)}, 'UTC')`;
  const values = rows.map((r) => [t, sqlString(server), sqlString(sensor), `'${r.kind}'`, sqlString(r.counter), sqlString(r.reason), Math.max(0, Math.floor(r.value))]);
  return `INSERT INTO \`${database.replace(/`/g, '')}\`.dnslens_health (Time, Server, Sensor, Kind, Counter, Reason, Value) ${selectRows(values)}`;
}

export class HealthReporter {
  readonly sensor: string;
  private last = new Map<string, number>();
  private failing = false;
  private readonly periodic = new Periodic(() => this.write());
  snapshots = 0; // stored
  failures = 0; // snapshots the store refused (their increases go with the next one)

  constructor(
    private readonly store: Pick<Store, 'exec' | 'database'>,
    private readonly opts: HealthOptions,
  ) {
    this.sensor = opts.sensor ?? `${hostname()}:${process.pid}`;
  }

  /** Snapshots every intervalMs until close() (0: only the final one); the timer does not keep the process alive. */
  start(): void {
    this.periodic.start(this.opts.intervalMs);
  }

  /** Store one snapshot now. Never throws: a failure is logged and counted. */
  snapshot(): Promise<void> {
    return this.periodic.run();
  }

  /** Stop the timer and store a final snapshot (after the writer closed, so its queue is empty). */
  close(): Promise<void> {
    return this.periodic.close();
  }

  private async write(): Promise<void> {
    const totals = counterTotals(this.opts.stats);
    const rows = snapshotRows(totals, this.last, this.opts.stats);
    const now = (this.opts.now ?? Date.now)();
    try {
      await this.store.exec(insertSql(this.store.database, this.opts.server, this.sensor, now, rows));
      this.last = totals;
      this.snapshots++;
      if (this.failing) log.info({ sensor: this.sensor }, 'health snapshots stored again');
      this.failing = false;
    } catch (err) {
      this.failures++;
      // Once per outage at warn level: the writer already reports the store being down.
      if (!this.failing) log.warn({ err: (err as Error).message }, 'cannot store the health snapshot; its counts go with the next one');
      this.failing = true;
    }
  }
}
