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
