// --timezone: the IANA zone of the rollups' hours, days, weeks and months, and of report times.
// Not given: a store keeps the zone it has (a new store takes the host's), so a laptop that
// travels, or an admin machine elsewhere, never re-zones a store by accident.
import { ConfigError } from './options.js';

/** The host's zone (TZ, else the system's), as Intl sees it; UTC when unknown. */
export function hostZone(): string {
  const z = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return z && z !== 'Etc/Unknown' ? z : 'UTC';
}

/** The zone asked for, in Intl's spelling (utc -> UTC), or undefined when none was given;
 *  a name Intl does not know is a ConfigError. */
export function askedZone(asked: string): string | undefined {
  const zone = asked.trim();
  if (!zone) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw new ConfigError('timezone', `--timezone: "${zone}" is not an IANA time zone name (e.g. UTC, Europe/Berlin, Asia/Jakarta)`);
  }
}

/** Local wall-clock time in a zone -> seconds since the epoch (UTC), for logs that print local
 *  time without an offset. The offset is looked up once per local hour. In the hour a DST change
 *  repeats, the first (daylight) reading is taken; in the hour it skips, the time is read with
 *  the offset before the change. */
export function localClock(zone: string): (year: number, month: number, day: number, hour: number, minute: number, second: number) => number {
  if (zone === 'UTC' || zone === 'Etc/UTC') return (y, mo, d, h, mi, s) => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  // offset (seconds east of UTC) in force at a UTC instant
  const offsetAt = (utcSec: number): number => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(utcSec * 1000)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    return (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) / 1000) - utcSec;
  };
  const cache = new Map<number, number>(); // local hour (as if UTC, in hours) -> offset
  return (y, mo, d, h, mi, s) => {
    const wall = Date.UTC(y, mo - 1, d, h, mi, s) / 1000;
    const hourKey = Math.floor(wall / 3600);
    let off = cache.get(hourKey);
    if (off === undefined) {
      const base = hourKey * 3600;
      // two passes: the offset at (wall - offset guess) settles in all but the skipped hour
      const o1 = offsetAt(base - offsetAt(base));
      const o2 = offsetAt(base - o1);
      off = Math.max(o1, o2); // repeated hour: the earlier instant (larger offset)
      if (cache.size > 10_000) cache.clear();
      cache.set(hourKey, off);
    }
    return wall - off;
  };
}
