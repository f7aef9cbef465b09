// The `logs` bench step's generator (bench/logs.ts): deterministic for a seed, exactly the lines
// asked for, every line of each kind well-formed (BIND 9.18's query log with print-time, dnsmasq
// 2.90's log-queries), and dnslens' own parsers find no 'bad' line in a sample of each.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLog, LOG_FORMATS, type LogFormat, type LogSummary } from '../bench/logs.js';
import { bindParser } from '../src/inputs/logs/bind.js';
import { dnsmasqParser } from '../src/inputs/logs/dnsmasq.js';
import type { LineParser, ParseContext } from '../src/inputs/logs/parser.js';
import type { DnsEvent } from '../src/event.js';
import { localClock } from '../src/zone.js';

const LINES = 20_000;
const SEED = 5;

const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const V4 = '(?:\\d{1,3}\\.){3}\\d{1,3}';
const V6 = '[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}';
const ADDR = `(?:${V4}|${V6})`;
const NAME = '[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?';
const TYPE = '(?:A|AAAA|HTTPS|PTR|TXT|MX|SRV)';

// BIND 9.18 (lib/ns/query.c log_query, client.c ns_client_log) with print-time, as named writes it:
// flags in BIND's order: +/-, S (signed), E(n), T, D, C, V|K.
const BIND_LINE = new RegExp(
  `^\\d\\d-${MONTH}-\\d{4} \\d\\d:\\d\\d:\\d\\d\\.\\d{3} client @0x[0-9a-f]{12} (${ADDR})#\\d{1,5}(?:/key ${NAME})? \\((${NAME})\\): ` +
    `query: (${NAME}) IN ${TYPE} [+-]S?(?:E\\(0\\))?T?D?C?[VK]? \\(${ADDR}\\)$`,
);

const SYSLOG = `^${MONTH} [ 123]\\d \\d\\d:\\d\\d:\\d\\d`;
const DNSMASQ_LINES: [string, RegExp][] = [
  ['query', new RegExp(`${SYSLOG} dnsmasq\\[\\d+\\]: query\\[${TYPE}\\] ${NAME} from ${ADDR}$`)],
  // before 'answer': "error" and "SERVFAIL" would pass for a name there
  ['error', new RegExp(`${SYSLOG} dnsmasq\\[\\d+\\]: reply error is (?:SERVFAIL|REFUSED)$`)],
  ['forwarded', new RegExp(`${SYSLOG} dnsmasq\\[\\d+\\]: forwarded ${NAME} to ${ADDR}$`)],
  [
    'answer',
    new RegExp(
      `${SYSLOG} dnsmasq\\[\\d+\\]: (?:reply|cached|config) (?:${NAME}|${ADDR}) is ` +
        `(?:${ADDR}|${NAME}|<CNAME>|<HTTPS>|<MX>|<SRV>|NXDOMAIN|NODATA|NODATA-IPv4|NODATA-IPv6|v=[ -~]+|google-site-verification=[ -~]+)$`,
    ),
  ],
  ['dhcp', new RegExp(`${SYSLOG} dnsmasq-dhcp\\[\\d+\\]: DHCP(?:DISCOVER|OFFER|REQUEST|ACK)\\(eth0\\) (?:${V4} )?(?:[0-9a-f]{2}:){5}[0-9a-f]{2} [A-Za-z0-9-]*$`)],
];

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function linesOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

describe('bench logs generator', () => {
  let dir: string;
  const made = new Map<LogFormat, { path: string; summary: LogSummary }>();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-bench-logs-'));
    for (const format of LOG_FORMATS) {
      const path = join(dir, `${format}.log`);
      made.set(format, { path, summary: generateLog(path, format, { seed: SEED, lines: LINES }) });
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is deterministic for a seed and differs across seeds', () => {
    for (const format of LOG_FORMATS) {
      const { path, summary } = made.get(format)!;
      const again = join(dir, `${format}-again.log`);
      expect(generateLog(again, format, { seed: SEED, lines: LINES })).toEqual(summary);
      expect(sha256(again)).toBe(sha256(path));
      const other = join(dir, `${format}-other.log`);
      generateLog(other, format, { seed: SEED + 1, lines: LINES });
      expect(sha256(other)).not.toBe(sha256(path));
    }
  });

  it('writes exactly the lines asked for, with the variety asked for', () => {
    for (const format of LOG_FORMATS) {
      const { path, summary } = made.get(format)!;
      const lines = linesOf(path);
      expect(lines).toHaveLength(LINES);
      expect(summary.lines).toBe(LINES);
      expect(summary.bytes).toBe(readFileSync(path).length);
      expect(summary.clients).toBeGreaterThan(500);
      expect(summary.ipv6Clients).toBeGreaterThan(20);
      for (const t of ['A', 'AAAA', 'HTTPS', 'PTR', 'TXT', 'MX']) expect(summary.counts[`type ${t}`], `${format} type ${t}`).toBeGreaterThan(0);
    }
    const bind = made.get('bind')!.summary;
    expect(bind.queries).toBe(LINES);
    for (const flag of ['-', 'T', 'D', 'C', 'K', 'V', 'no EDNS']) expect(bind.counts[flag], `BIND flag ${flag}`).toBeGreaterThan(0);
    const dnsmasq = made.get('dnsmasq')!.summary;
    const share = dnsmasq.counts.cached / dnsmasq.queries;
    expect(share).toBeGreaterThan(0.3); // ~60% on the full file, lower at the start (the cache fills)
    for (const k of ['forwarded', 'config', 'reply NXDOMAIN', 'reply NODATA', 'dhcp lines']) expect(dnsmasq.counts[k], `dnsmasq ${k}`).toBeGreaterThan(0);
  });

  it('writes BIND lines as BIND 9.18 does', () => {
    const lines = linesOf(made.get('bind')!.path);
    let v6 = 0;
    for (const line of lines) {
      const m = BIND_LINE.exec(line);
      expect(m, line).not.toBeNull();
      expect(m![2], line).toBe(m![3]); // "(name)" is the query name
      if (m![1].includes(':')) v6++;
    }
    expect(v6).toBeGreaterThan(0);
    // the time only moves forward
    const times = lines.map((l) => l.slice(0, 24));
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const asMs = (t: string): number => {
      const [d, mon, y, h, mi, sec] = t.split(/[- :]/);
      return Date.UTC(Number(y), months.indexOf(mon), Number(d), Number(h), Number(mi), 0) + Number(sec) * 1000;
    };
    for (let i = 1; i < times.length; i++) expect(asMs(times[i]) >= asMs(times[i - 1]), `${times[i - 1]} then ${times[i]}`).toBe(true);
  });

  it('writes dnsmasq lines as dnsmasq 2.90 does', () => {
    const lines = linesOf(made.get('dnsmasq')!.path);
    const kinds = new Map<string, number>();
    for (const line of lines) {
      const kind = DNSMASQ_LINES.find(([, re]) => re.test(line))?.[0];
      expect(kind, line).toBeDefined();
      kinds.set(kind!, (kinds.get(kind!) ?? 0) + 1);
    }
    for (const [k] of DNSMASQ_LINES) expect(kinds.get(k) ?? 0, k).toBeGreaterThan(0);
    expect(kinds.get('query')).toBe(made.get('dnsmasq')!.summary.queries);
    // CNAME chains, several addresses, answers under the address for PTR
    const text = lines.join('\n');
    expect(text).toMatch(/reply \S+ is <CNAME>\n.*reply \S+ is /);
    expect(text).toMatch(/cached \S+ is <CNAME>\n/);
    expect(text).toMatch(/: (reply|cached) (\d+\.){3}\d+ is [a-z]/);
  });

  // What dnslens' parsers make of the same lines: nothing that looks like DNS may fail to parse.
  it('parses with zero bad lines in dnslens', () => {
    const ctx: ParseContext = { toUtc: localClock('UTC'), fileYear: 2026, fileMonth: 3 };
    const parsers: Record<LogFormat, () => LineParser> = { bind: () => bindParser(ctx), dnsmasq: () => dnsmasqParser(ctx) };
    for (const format of LOG_FORMATS) {
      const parser = parsers[format]();
      const lines = linesOf(made.get(format)!.path);
      const out: DnsEvent[] = [];
      const bad: string[] = [];
      const kinds = new Map<string, number>();
      let offset = 0;
      for (const line of lines) {
        const kind = parser.line(line, offset, out);
        offset += Buffer.byteLength(line) + 1;
        const k = typeof kind === 'string' ? kind : `skip:${kind.skip}`;
        kinds.set(k, (kinds.get(k) ?? 0) + 1);
        if (kind === 'bad' && bad.length < 5) bad.push(line);
      }
      parser.end(out);
      expect(bad, `${format}: ${JSON.stringify([...kinds])}`).toEqual([]);
      expect(kinds.get('bad') ?? 0).toBe(0);
      expect(out.length, format).toBeGreaterThan(0);
    }
  });
});
