// Evaluating the signals on a store: run each definition over a range of DNS time, keep what is not
// stored yet, store it in dns_signals and log it as a warning.
//
// A subject fires once per window: candidates are taken best score first, and one whose window
// overlaps a stored row (or one taken before it) of the same signal, subject and client is
// dropped. So a storm that goes on is stored again once per window, not at every evaluation.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Log } from '../log.js';
import { fill, storeNames } from '../reports/sql-files.js';
import { storeZone } from '../reports/time.js';
import { sqlString, type Store } from '../store/connection.js';
import { schemaRoot } from '../store/migrate.js';
import type { SignalDef } from './catalog.js';
import type { SignalSettings } from './options.js';

/** One signal that fired, as stored in dns_signals. */
export interface Fired {
  signal: string;
  subject: string;
  client: string;
  windowStart: string; // 'YYYY-MM-DD hh:mm:ss.sss', UTC
  windowEnd: string;
  score: number;
  evidence: Record<string, number>;
  examples: string[];
}

export interface EvaluateOptions {
  signals: readonly SignalDef[];
  settings: SignalSettings;
  server: string; // the capture's --serverName; '' = every server
  from: number | 'reach'; // ms since the epoch: every signal from here; 'reach': each as far back as it reaches from until
  until: number; // ms since the epoch, exclusive
  log: Log;
  sensor?: string;
  now?: number; // the Time stored (tests)
}

// The range filter on DNS_LOG every definition uses as {{in_range}}.
const IN_RANGE = "PacketTime >= {from:DateTime64(6, 'UTC')} AND PacketTime < {until:DateTime64(6, 'UTC')} AND ({server:String} = '' OR Server = {server:String})";

const sqlCache = new Map<string, string>();
/** A definition's SQL text (comments included: ClickHouse skips them). */
export function signalSql(file: string): string {
  let sql = sqlCache.get(file);
  if (sql === undefined) {
    sql = readFileSync(join(schemaRoot(), 'signals', `${file}.sql`), 'utf8');
    sqlCache.set(file, sql);
  }
  return sql;
}

const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

interface Row {
  subject: string;
  client: string;
  window_start: string;
  window_end: string;
  score: number | string | null;
  evidence: Record<string, number | string | null>;
  examples: string[];
}

/** One definition's candidates over [from, until). */
export async function candidates(store: Pick<Store, 'query'>, def: SignalDef, o: { settings: SignalSettings; server: string; from: number; until: number; tz: string }): Promise<Fired[]> {
  const expressions = await storeNames(store);
  const sql = fill(signalSql(def.file), { ...expressions, ...def.fill, in_range: IN_RANGE });
  const rows = await store.query<Row>(sql, { ...def.params(o.settings), from: utc(o.from), until: utc(o.until), server: o.server, tz: o.tz });
  return rows.map((r) => ({
    signal: def.name,
    subject: r.subject,
    client: r.client,
    windowStart: r.window_start,
    windowEnd: r.window_end,
    score: Number(r.score ?? 0),
    evidence: Object.fromEntries(Object.entries(r.evidence).map(([k, v]) => [k, v === null ? NaN : Number(v)])),
    examples: r.examples,
  }));
}

/** The rows to store: best first, none overlapping a stored one or each other (same signal, subject, client). */
export function newOnes(found: readonly Fired[], stored: readonly Pick<Fired, 'signal' | 'subject' | 'client' | 'windowStart' | 'windowEnd'>[]): Fired[] {
  const key = (f: Pick<Fired, 'signal' | 'subject' | 'client'>) => `${f.signal}\u0000${f.subject}\u0000${f.client}`;
  const taken = new Map<string, { start: string; end: string }[]>();
  const overlaps = (f: Pick<Fired, 'signal' | 'subject' | 'client' | 'windowStart' | 'windowEnd'>) =>
    (taken.get(key(f)) ?? []).some((w) => f.windowStart < w.end && w.start < f.windowEnd);
  const take = (f: Pick<Fired, 'signal' | 'subject' | 'client' | 'windowStart' | 'windowEnd'>) => {
    const k = key(f);
    taken.set(k, [...(taken.get(k) ?? []), { start: f.windowStart, end: f.windowEnd }]);
  };
  for (const s of stored) take(s);
  const out: Fired[] = [];
  for (const f of [...found].sort((a, b) => b.score - a.score || a.windowStart.localeCompare(b.windowStart))) {
    if (overlaps(f)) continue;
    take(f);
    out.push(f);
  }
  return out;
}

/** Evaluates the signals over the range, stores what is new and logs it. Returns what was stored. */
export async function evaluateSignals(store: Pick<Store, 'query' | 'exec' | 'database'>, o: EvaluateOptions): Promise<Fired[]> {
  if (o.signals.length === 0) return [];
  const tz = await storeZone(store);
  const found: Fired[] = [];
  let earliest = o.until;
  for (const def of o.signals) {
    const from = o.from === 'reach' ? o.until - def.reach(o.settings) : o.from;
    earliest = Math.min(earliest, from);
    found.push(...(await candidates(store, def, { settings: o.settings, server: o.server, from, until: o.until, tz })));
  }
  if (found.length === 0) return [];
  // the stored rows a candidate could overlap: windows reach back at most a day before the range
  const stored = await store.query<{ signal: string; subject: string; client: string; windowStart: string; windowEnd: string }>(
    `SELECT Signal AS signal, Subject AS subject, Client AS client, toString(WindowStart) AS windowStart, toString(WindowEnd) AS windowEnd
     FROM dns_signals WHERE Server = {server:String} AND WindowEnd > {from:DateTime64(3, 'UTC')} - INTERVAL 1 DAY AND WindowStart < {until:DateTime64(3, 'UTC')}`,
    { server: o.server, from: utc(earliest), until: utc(o.until) },
  );
  const fresh = newOnes(found, stored);
  if (fresh.length === 0) return [];
  await store.exec(insertSql(store.database, fresh, o.server, o.sensor ?? `${hostname()}:${process.pid}`, o.now ?? Date.now()));
  for (const f of fresh) {
    o.log.warn(
      { signal: f.signal, subject: f.subject, client: f.client || undefined, score: round(f.score), window: [f.windowStart, f.windowEnd], evidence: roundAll(f.evidence), examples: f.examples },
      `signal ${f.signal}: ${f.subject}${f.client ? ` (client ${f.client})` : ''}: ${describe(f.evidence)}`,
    );
  }
  return fresh;
}

const round = (n: number) => (Number.isInteger(n) ? n : Math.round(n * 1000) / 1000);
const roundAll = (e: Record<string, number>) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, round(v)]));

/** Evidence in words for a log line or a report: "nxdomain 412, responses 430, share 0.958". */
export function describe(evidence: Record<string, number>): string {
  return Object.entries(evidence)
    .map(([k, v]) => `${k.replace(/_/g, ' ')} ${round(v)}`)
    .join(', ');
}

function insertSql(database: string, rows: readonly Fired[], server: string, sensor: string, nowMs: number): string {
  // JSON lines read by format(): every value is data, whatever a name holds
  const lines = rows
    .map((f) =>
      JSON.stringify({
        Time: utc(nowMs),
        Signal: f.signal,
        Subject: f.subject,
        Client: f.client,
        Server: server,
        WindowStart: f.windowStart,
        WindowEnd: f.windowEnd,
        Score: Number.isFinite(f.score) ? f.score : 0,
        Evidence: Object.fromEntries(Object.entries(f.evidence).filter(([, v]) => Number.isFinite(v))),
        Examples: f.examples,
        Sensor: sensor,
      }),
    )
    .join('\n');
  const structure =
    "Time DateTime64(3, 'UTC'), Signal String, Subject String, Client String, Server String, WindowStart DateTime64(3, 'UTC'), WindowEnd DateTime64(3, 'UTC'), Score Float64, Evidence Map(String, Float64), Examples Array(String), Sensor String";
  const cols = 'Time, Signal, Subject, Client, Server, WindowStart, WindowEnd, Score, Evidence, Examples, Sensor';
  return `INSERT INTO \`${database.replace(/`/g, '')}\`.dns_signals (${cols}) SELECT ${cols} FROM format(JSONEachRow, ${sqlString(structure)}, ${sqlString(lines)})`;
}
