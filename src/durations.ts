// Go-style durations ("1s", "500ms", "1h30m", "1.5h") as used by dnsmonster's flags, in milliseconds.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Parse a Go duration into milliseconds. Throws an Error whose message explains the problem. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '') throw new Error('empty duration');
  if (s.startsWith('-')) throw new Error(`${JSON.stringify(text)} is negative`);
  const body = s.startsWith('+') ? s.slice(1) : s;
  if (/^\d+(\.\d*)?$/.test(body)) {
    if (Number(body) === 0) return 0; // Go accepts a bare "0"
    throw new Error(`${JSON.stringify(text)} has no unit (write e.g. ${body}s)`);
  }
  let ms = 0;
  let pos = 0;
  while (pos < body.length) {
    PART.lastIndex = pos;
    const m = PART.exec(body);
    if (!m) throw new Error(`${JSON.stringify(text)} is not a duration (examples: 500ms, 5s, 1h30m)`);
    ms += Number(m[1]) * UNIT_MS[m[2]];
    pos = PART.lastIndex;
  }
  if (!Number.isFinite(ms)) throw new Error(`${JSON.stringify(text)} is too large`);
  return ms;
}

/** Format milliseconds compactly in Go syntax ("1h30m", "1m", "1.5s", "500ms", "0s"); parseDuration reads it back. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1) return ms >= 1e-3 ? `${trim(ms * 1e3)}us` : `${trim(ms * 1e6)}ns`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms - h * 3_600_000) / 60_000);
  const rest = ms - h * 3_600_000 - m * 60_000; // below one minute
  let out = (h > 0 ? `${h}h` : '') + (m > 0 ? `${m}m` : '');
  if (rest > 0) out += rest % 1000 === 0 || rest >= 1000 ? `${trim(rest / 1000)}s` : `${trim(rest)}ms`;
  return out;
}

// Up to nanosecond precision, without float noise such as 0.30000000000000004.
function trim(n: number): string {
  return String(Number(n.toFixed(9)));
}
