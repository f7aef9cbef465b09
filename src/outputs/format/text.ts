// Small string helpers shared by the text formats. These run once or more per event,
// so they avoid allocation where they can.
import type { DnsAnswer, DnsEvent } from '../../event.js';
import { typeName } from '../../dnsnames.js';

/** One event as one line of text, without the newline. */
export type Formatter = (ev: DnsEvent) => string;

const CSV_UNSAFE = /[",\r\n]/;
const QUOTE = /"/g;

/** One RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(s: string): string {
  return CSV_UNSAFE.test(s) ? '"' + s.replace(QUOTE, '""') + '"' : s;
}

// Events arrive in time order, so most share their second with the previous one:
// cache the per-second parts instead of building a Date for every event.
let cachedSec = Number.NaN;
let cachedIsoPrefix = '';
let cachedIsoBytes: Uint8Array = new Uint8Array(0);
let cachedParts: readonly number[] = [];

// Years 0000-9999 fit RFC 3339; a time outside them (only a corrupt input gives one) is clamped
// so that formatting never throws.
const MIN_MS = -62167219200000; // 0000-01-01T00:00:00Z
const MAX_MS = 253402300799000; // 9999-12-31T23:59:59Z

function fillCache(sec: number): void {
  const ms = Number.isFinite(sec) ? Math.min(Math.max(sec * 1000, MIN_MS), MAX_MS) : 0;
  const d = new Date(ms);
  cachedSec = sec;
  cachedIsoPrefix = d.toISOString().slice(0, 20); // 2016-10-20T15:23:01.
  cachedIsoBytes = Buffer.from(cachedIsoPrefix, 'latin1');
  cachedParts = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
}

const NS_PAD = ['', '0', '00', '000', '0000', '00000', '000000', '0000000', '00000000', '000000000'];

/** RFC 3339 UTC with nanoseconds; same text as isoTime() in event.ts, but cached per second. */
export function rfc3339(ev: DnsEvent): string {
  if (ev.timeSec !== cachedSec) fillCache(ev.timeSec);
  const ns = String(ev.timeNsec);
  return cachedIsoPrefix + (ns.length < 9 ? NS_PAD[9 - ns.length] + ns : ns) + 'Z';
}

/** The RFC 3339 text up to the fraction ("2016-10-20T15:23:01."), as bytes. */
export function rfc3339Prefix(sec: number): Uint8Array {
  if (sec !== cachedSec) fillCache(sec);
  return cachedIsoBytes;
}

/** [year, month 1-12, day, hour, minute, second] in UTC. The array is shared: read, don't keep. */
export function utcParts(ev: DnsEvent): readonly number[] {
  if (ev.timeSec !== cachedSec) fillCache(ev.timeSec);
  return cachedParts;
}

/** Answers as "TYPE:data" joined by ";", e.g. "CNAME:a.example;A:192.0.2.1". */
export function answersText(answers: readonly DnsAnswer[]): string {
  let s = '';
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i];
    s += (i === 0 ? '' : ';') + typeName(a.type) + ':' + a.data;
  }
  return s;
}
