// Times in reports: --since/--until read as wall-clock time in the report's zone or relative to
// now, the store's own zone, and whether a bound falls on a rollup's minute, hour or day.
import type { Reader } from '../component.js';
import { ConfigError } from '../options.js';

export type Period = 'minute' | 'hour' | 'day';

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock time in zone tz at instant ms (whole seconds). */
function wall(ms: number, tz: string): Wall {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const p = (t: string) => Number(parts.find((x) => x.type === t)?.value);
  return { year: p('year'), month: p('month'), day: p('day'), hour: p('hour'), minute: p('minute'), second: p('second') };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** A stored UTC time ('2024-03-12 09:00:00.005000') as wall-clock time in zone tz, its fraction kept. */
export function localTime(utc: string, tz: string): string {
  const d = new Date(utc.replace(' ', 'T') + 'Z');
  if (Number.isNaN(d.getTime())) return utc;
  const w = wall(d.getTime(), tz);
  const fraction = /\.\d+$/.exec(utc)?.[0] ?? '';
  return `${w.year}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${fraction}`;
}

// Wall-clock time in tz -> the instant (ms); the offset is the one at the instant itself (DST).
function fromWall(w: Wall, ms: number, tz: string): number {
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) + ms;
  const offset = (at: number) => {
    const x = wall(at, tz);
    return Date.UTC(x.year, x.month - 1, x.day, x.hour, x.minute, x.second) - Math.floor(at / 1000) * 1000;
  };
  return asUtc - offset(asUtc - offset(asUtc));
}

const WALL = /^(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?)?$/;
const RELATIVE = /^(\d+)([mhdw])$/;

/**
 * A time given by a user, as an instant (ms): absolute ('2024-03-12 09:00' is wall-clock time in
 * tz, '2024-03-12T09:00:00Z' is UTC) or relative to now, counted back to the start of its unit so
 * that the rollups answer: '90m' is the start of the minute 90 minutes ago, '24h' the start of the
 * hour 24 hours ago, '7d' (or '1w') midnight seven days ago, all in tz.
 */
export function parseTime(v: string | Date, name: string, tz: string, now = Date.now()): number {
  if (v instanceof Date) return v.getTime();
  const text = v.trim();
  const rel = RELATIVE.exec(text);
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2];
    if (unit === 'm') return Math.floor(now / 60_000) * 60_000 - n * 60_000;
    if (unit === 'h') return fromWall({ ...wall(now - n * 3_600_000, tz), minute: 0, second: 0 }, 0, tz);
    const midnight = fromWall({ ...wall(now, tz), hour: 0, minute: 0, second: 0 }, 0, tz);
    return daysBefore(midnight, unit === 'w' ? 7 * n : n, tz);
  }
  const m = WALL.exec(text);
  const ms = m
    ? fromWall({ year: +m[1], month: +m[2], day: +m[3], hour: +(m[4] ?? 0), minute: +(m[5] ?? 0), second: +(m[6] ?? 0) }, Math.round(Number(m[7] ?? 0) * 1000), tz)
    : new Date(text).getTime();
  if (Number.isNaN(ms)) throw new ConfigError(name, `${name}: not a time: ${v}`);
  return ms;
}

/** An instant as a DateTime64(6, 'UTC') parameter value. */
export function utcText(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** A bound of the range as a DateTime64(6, 'UTC') parameter; null leaves that end open. */
export function timeBound(v: Date | string | undefined, name: string, tz: string, now?: number): string | null {
  return v === undefined ? null : utcText(parseTime(v, name, tz, now));
}

/** Whether instant ms starts a minute, hour or day in zone tz. */
export function aligned(ms: number, period: Period, tz: string): boolean {
  if (ms % 60_000 !== 0) return false;
  const w = wall(ms, tz);
  return period === 'minute' || (w.minute === 0 && (period === 'hour' || w.hour === 0));
}

/** The same wall-clock time n calendar days before instant ms, in zone tz. */
export function daysBefore(ms: number, n: number, tz: string): number {
  const w = wall(ms, tz);
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day - n));
  return fromWall({ ...w, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() }, ms % 1000, tz);
}

/** The zone the store's rollups are in (recorded by the migration), else UTC. */
export async function storeZone(store: Reader): Promise<string> {
  const rows = await store
    .query<{ zone: string }>("SELECT argMax(checksum, applied_at) AS zone FROM dnslens_migrations WHERE name = 'timezone'")
    .catch(() => []);
  return rows[0]?.zone || 'UTC';
}
