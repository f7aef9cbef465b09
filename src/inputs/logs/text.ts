// Reading fixed pieces of a log line in place (no substring per line), shared by the log parsers.

/** Four ASCII characters at p as one number (7 bits each), -1 when one is not ASCII: compares
 *  a word with one integer comparison. */
export function w4(s: string, p: number): number {
  const a = s.charCodeAt(p) | 0;
  const b = s.charCodeAt(p + 1) | 0;
  const c = s.charCodeAt(p + 2) | 0;
  const d = s.charCodeAt(p + 3) | 0;
  return (a | b | c | d) < 128 ? a | (b << 7) | (c << 14) | (d << 21) : -1;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTH_W = MONTHS.map((m) => w4(m + ' ', 0) & 0x1fffff); // three letters, 7 bits each

/** The month (1-12) of the three letters at p; 0 if they are not one. */
export function month3(s: string, p: number): number {
  const w = w4(s, p) & 0x1fffff;
  for (let i = 0; i < 12; i++) if (MONTH_W[i] === w) return i + 1;
  return 0;
}

/** The two decimal digits at p, or -1. */
export function twoDigits(s: string, p: number): number {
  const a = s.charCodeAt(p) - 48;
  const b = s.charCodeAt(p + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** An RFC 3339 zone at p ("Z", "+hh:mm", or BIND's "+hhmm"): zone.sec is set to seconds east of UTC
 *  (NaN when there is no zone there), and the index after it is returned (p when there is none),
 *  or -1 when it does not parse. */
export function readZone(s: string, p: number, zone: { sec: number }): number {
  const z = s.charCodeAt(p);
  if (z === 0x5a /* Z */) {
    zone.sec = 0;
    return p + 1;
  }
  if (z !== 0x2b && z !== 0x2d) {
    zone.sec = NaN;
    return p;
  }
  const colon = s.charCodeAt(p + 3) === 0x3a;
  const oh = twoDigits(s, p + 1);
  const om = twoDigits(s, colon ? p + 4 : p + 3);
  if (oh < 0 || om < 0) return -1;
  zone.sec = (oh * 3600 + om * 60) * (z === 0x2d ? -1 : 1);
  return colon ? p + 6 : p + 5;
}
