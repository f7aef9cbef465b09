// BIND 9 (9.11-9.20) `queries` and `query-errors` log lines -> events.
//
// A line is [time] [category: ] [severity: ] message, as lib/isc/log.c isc_log_doit() writes it
// ("%s%s%s%s%s%s%s%s%s%s\n": time, " ", tag, ": ", category, ": ", module, ": ", level, message;
// named sets no tag and no module). Every part before the message is optional:
//   time      print-time local/yes  07-Dec-2026 11:22:33.123        local time  -> ctx.toUtc
//             print-time iso8601    2026-12-07T11:22:33.123         local time  -> ctx.toUtc
//             print-time iso8601-utc 2026-12-07T11:22:33.123Z       UTC
//             (9.21 iso8601-tzinfo, 2026-12-07T11:22:33.123+01:00: the offset is applied)
//             print-time no         nothing: timeSec/timeNsec stay 0 (the line has no time)
//   category  print-category        "queries: ", "query-errors: "; any other category is skipped
//   severity  print-severity        "info: ", "debug 1: ", "level 3: ", ...
// A syslog prefix ("Dec  7 11:22:33 host named[123]: " with ctx.fileYear, or RFC 3339
// "2026-12-07T11:22:33.123456+01:00 host named[123]: ") is read too, for a channel that logs to
// syslog; a BIND time after it (print-time on a syslog channel) is preferred to the syslog one.
//
// The message of both categories comes from ns_client_logv() (lib/ns/client.c; bin/named/client.c
// before 9.12):
//   client [@0x7f..] ADDR#PORT[/key SIGNER][ (QNAME)][: view VIEW]: MESSAGE
// The "@0x.." object prefix is 9.11+ (before, the address follows "client", and "@0x.." alone
// stood for an unknown peer); "(QNAME)" 9.9+; ": view NAME" only for a view other than
// _default/_bind. ADDR is inet_ntop() text with "%N" for an IPv6 scope id (isc_netaddr_totext
// prints the numeric zone index); the scope is dropped from srcIp/dstIp (packets carry none).
//
// queries (log_query() in lib/ns/query.c, bin/named/query.c before 9.12):
//   query: NAME CLASS TYPE FLAGS (DEST)[ [ECS ADDR/SOURCE/SCOPE]]
//   FLAGS = "+"|"-" (RD) then S (signed: TSIG or SIG(0)), E(n) (EDNS version n; a bare "E" in
//   9.9), T (TCP), D (DO), C (CD), V (valid server cookie) or K (a client cookie). Very old
//   versions print no "(DEST)": dstIp ''.
//   -> a query event: qr=false, rd, ednsPresent (E), transport 'tcp' (T) else 'udp', ednsDo (D),
//   cd (C), srcIp/srcPort = the client, dstIp = DEST (no port is logged: dstPort 0),
//   ednsClientSubnet "ADDR/SOURCE" from [ECS ...], qdCount 1, arCount = OPT (E) + TSIG/SIG(0) (S).
//   S, K and V have no event field: they are read and dropped. BIND logs the query before it is
//   answered and never logs the result: the event is a query only (rcode 0, responseTimeUs null,
//   unanswered false); no response, and no NOERROR, is made up.
//
// query-errors (log_queryerror() in lib/ns/query.c; logged at info when querylog is on, else
// SERVFAIL at debug 1 and the others at debug 3):
//   query failed (RESULT)[ for NAME/CLASS/TYPE] at FILE:LINE
//   -> a response event: qr=true, rcode = what ns_client_error() sent for RESULT
//   (dns_result_torcode(): an rcode mnemonic is that rcode, "<rcode N>" is N, "disallowed (by
//   application policy)" REFUSED, "tsig verify failure"/"clock skew" NOTAUTH, the message parse
//   errors FORMERR, anything else, e.g. "zone not loaded" or "failure", SERVFAIL),
//   dstIp/dstPort = the client. The line has neither the server's address (srcIp '') nor the
//   transport or flags of the query (transport 'udp', rd false). Without "for ..." (no question
//   could be read) qname is '' and qdCount 0.
// Other query-errors lines are skipped under a kind: "fetch completed at resolver.c:N for NAME/TYPE
// in S: RESULT/RESULT [...]" (dns_resolver_logfetch(), at debug levels, no client: the client's
// "query failed (SERVFAIL)" line already makes the event) -> 'bind-fetch'; "rpz ... rewrite ...
// failed" -> 'bind-rpz'; RRL's "limit ... responses to ..." and every other client message
// ("servfail cache hit", security denials, update, notify, ...) -> 'bind-client'.
// Lines of other categories, and lines that are not client messages (start-up, zone loads, ...)
// when all categories share a file, are 'bind-other'. A line of category queries, or any client
// line whose message starts "query: " or "query failed (", that does not parse is 'bad'.
//
// Names: BIND prints the case it received and escapes with dns_name_totext(): \DDD for bytes
// outside 0x21-0x7e, and \ before . \ " ( ) ; @ $. Our convention (docs/event.md) keeps \DDD,
// \. and \\, drops the other backslashes, and lowers A-Z.
//
// One line gives at most one event and nothing is held: heldFrom() is -1, expire() and end() do
// nothing.
//
// Speed (one core, lines as the reader slices them: about 1.3-1.5 M lines/s with a time, 2.2-2.5 M
// without):
// no regex and no allocation besides the event and its strings. Lines are slices of a chunk, on
// which each charCodeAt costs 2-3 ns and a scan by hand about as much per character, while an
// indexOf costs 12-20 ns whatever it skips; so fixed words are compared four characters at a time
// (w4), runs are skipped with indexOf, and the time's minute is converted once per minute.
import { CLASSES, RCODES, RR_TYPES, classFromName, typeFromName } from '../../dnsnames.js';
import { newEvent, type DnsEvent } from '../../event.js';
import type { LineKind, LineParser, ParseContext } from './parser.js';
import { month3, readZone, twoDigits, w4 } from './text.js';

const ZONE = { sec: 0 }; // readZone's answer (one parser runs at a time: no line is read in parallel)

const SKIP_OTHER: LineKind = { skip: 'bind-other' };
const SKIP_CLIENT: LineKind = { skip: 'bind-client' };
const SKIP_FETCH: LineKind = { skip: 'bind-fetch' };
const SKIP_RPZ: LineKind = { skip: 'bind-rpz' };

const CAT_NONE = 0;
const CAT_QUERIES = 1;
const CAT_ERRORS = 2;


// ---- mnemonic tables looked up in place (no substring per line) ------------------------------

class Mnemonics {
  private readonly buckets: Array<Array<readonly [string, number]>> = Array.from({ length: 256 }, () => []);
  constructor(table: ReadonlyArray<readonly [number, string]>) {
    for (const [n, name] of table) this.buckets[hash(name, 0, name.length)].push([name, n]);
  }
  /** The number of text[a, b), or -1. */
  find(text: string, a: number, b: number): number {
    const bucket = this.buckets[hash(text, a, b)];
    for (let i = 0; i < bucket.length; i++) {
      const name = bucket[i][0];
      if (name.length === b - a && text.startsWith(name, a)) return bucket[i][1];
    }
    return -1;
  }
}
function hash(s: string, a: number, b: number): number {
  const n = b - a;
  if (n <= 0) return 0;
  return (n * 131 + s.charCodeAt(a) * 31 + s.charCodeAt(b - 1) * 7 + s.charCodeAt(a + (n >> 1))) & 255;
}
const TYPES = new Mnemonics(RR_TYPES);
const CLASS_TABLE = new Mnemonics(CLASSES);

function rrType(text: string, a: number, b: number): number {
  const n = TYPES.find(text, a, b);
  if (n >= 0) return n;
  return typeFromName(text.slice(a, b)) ?? -1; // TYPE65280, or a case BIND does not print
}
function rrClass(text: string, a: number, b: number): number {
  const n = CLASS_TABLE.find(text, a, b);
  if (n >= 0) return n;
  return classFromName(text.slice(a, b)) ?? -1;
}

// ---- query-errors results -> the rcode the client got ------------------------------------------

const RCODE_BY_NAME = new Map<string, number>(RCODES.map(([n, name]) => [name, n]));
// dns_result_torcode() (lib/dns/result.c) by isc_result_totext() text; anything else is SERVFAIL.
const RESULT_RCODE = new Map<string, number>([
  ['disallowed (by application policy)', 5],
  ['tsig verify failure', 9],
  ['clock skew', 9],
  ...[
    'bad base64 encoding', 'ran out of space', 'out of range', 'unexpected end of input', 'bad AAAA',
    'bad checksum', 'bad class', 'bad label type', 'bad compression pointer', 'bad ttl', 'bad zone',
    'extra input data', 'label too long', 'no rdata', 'syntax error', 'text too long', 'too many hops',
    'tsig indicates error', 'unknown class/type', 'name too long', 'OPT record error', 'bad bitstring',
    'bitstring too long',
  ].map((t) => [t, 1] as [string, number]),
]);

/** The rcode ns_client_error() sends for a "query failed (RESULT)" text. */
export function bindResultRcode(result: string): number {
  const named = RCODE_BY_NAME.get(result);
  if (named !== undefined) return named;
  if (result.startsWith('<rcode ') && result.endsWith('>')) {
    const n = Number(result.slice(7, -1));
    if (Number.isInteger(n) && n >= 0 && n < 4096) return n;
  }
  return RESULT_RCODE.get(result) ?? 2;
}

// ---- names ---------------------------------------------------------------------------------------

/** A name as BIND printed it, text[a, b) -> our qname convention. */
export function bindName(text: string, a: number, b: number): string {
  let i = a;
  for (; i < b; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c || (c >= 0x41 && c <= 0x5a)) break;
  }
  if (i === b) return text.slice(a, b);
  let out = text.slice(a, i);
  while (i < b) {
    const c = text.charCodeAt(i);
    if (c !== 0x5c) {
      out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 32) : text[i];
      i++;
      continue;
    }
    if (i + 1 >= b) return ''; // a lone trailing backslash: not BIND's
    const d = text.charCodeAt(i + 1);
    if (d >= 0x30 && d <= 0x39) {
      if (i + 3 >= b) return '';
      const v = (d - 48) * 100 + (text.charCodeAt(i + 2) - 48) * 10 + (text.charCodeAt(i + 3) - 48);
      if (!isDigit(text.charCodeAt(i + 2)) || !isDigit(text.charCodeAt(i + 3)) || v > 255) return '';
      out += escapeByte(v);
      i += 4;
    } else {
      out += escapeByte(d);
      i += 2;
    }
  }
  return out;
}

// One byte of a label in our convention.
function escapeByte(v: number): string {
  if (v === 0x2e) return '\\.';
  if (v === 0x5c) return '\\\\';
  if (v >= 0x21 && v <= 0x7e) return String.fromCharCode(v >= 0x41 && v <= 0x5a ? v + 32 : v);
  return '\\' + String(v).padStart(3, '0');
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

// A hex digit or a colon: how an address printed by inet_ntop() starts and ends.
function isAddrChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x3a) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

// ---- the parser ----------------------------------------------------------------------------------

class BindParser implements LineParser {
  private readonly ctx: ParseContext;
  // the line's time, set by readTime()
  private sec = 0;
  private nsec = 0;
  // The last minute read ("07-Dec-2026 11:22" or "2026-12-07T11:22", or "Dec  7 11:22" of
  // syslog): the next lines of that minute only read their seconds.
  private minKey = -2; // minuteKey() of the cached minute (-1 is no minute)
  private minNaive = 0; // that minute read as UTC
  private minLocal = NaN; // that minute through ctx.toUtc, once needed
  private minYear = 0;
  private minMonth = 0;
  private minDay = 0;
  private minHour = 0;
  private minMinute = 0;

  constructor(ctx: ParseContext) {
    this.ctx = ctx;
  }

  line(text: string, _offset: number, out: DnsEvent[]): LineKind {
    let end = text.length;
    if (end > 0 && text.charCodeAt(end - 1) === 0x0d) end--; // CRLF
    this.sec = 0;
    this.nsec = 0;
    let p = this.readTime(text, 0, end, true);
    // syslog: "HOST TAG: " after its time
    let syslog = false;
    if (p < 0) {
      p = -p; // a syslog time
      syslog = true;
    }
    let cat = CAT_NONE;
    // the usual prefixes first: "queries: ", "query-errors: ", "info: "
    if (!syslog) {
      if (w4(text, p) === W_QUER) {
        const w = w4(text, p + 4);
        if (w === W_IES_ && text.charCodeAt(p + 8) === 0x20) {
          cat = CAT_QUERIES;
          p += 9;
        } else if (w === W_Y_ER && w4(text, p + 8) === W_RORS && text.charCodeAt(p + 12) === 0x3a && text.charCodeAt(p + 13) === 0x20) {
          cat = CAT_ERRORS;
          p += 14;
        }
      }
      if (w4(text, p) === W_INFO && text.charCodeAt(p + 4) === 0x3a && text.charCodeAt(p + 5) === 0x20) p += 6;
    }
    for (let k = 0; k < 8; k++) {
      if (p >= end) return SKIP_OTHER;
      if (w4(text, p) === W_CLIE && w4(text, p + 3) === W_ENT_) return this.client(text, p + 7, end, cat, out);
      const sp = text.indexOf(' ', p);
      if (sp < 0 || sp >= end) break;
      if (text.charCodeAt(sp - 1) === 0x3a) {
        // "word: "
        const len = sp - 1 - p;
        if (syslog) {
          // the tag after the host: "named[123]:" (or any "tag:"), then maybe a BIND time
          syslog = false;
          p = sp + 1;
          const q = this.readTime(text, p, end, false);
          if (q > 0) p = q;
          continue;
        }
        if (len === 7 && text.startsWith('queries', p)) cat = CAT_QUERIES;
        else if (len === 12 && text.startsWith('query-errors', p)) cat = CAT_ERRORS;
        else if (!isSeverity(text, p, len)) return SKIP_OTHER; // another category, or a message "word: ..."
        p = sp + 1;
        continue;
      }
      // "debug 3: ", "level 3: "
      if (sp - p === 5 && (text.startsWith('debug', p) || text.startsWith('level', p)) && isDigit(text.charCodeAt(sp + 1))) {
        let q = sp + 1;
        while (q < end && isDigit(text.charCodeAt(q))) q++;
        if (text.charCodeAt(q) === 0x3a && text.charCodeAt(q + 1) === 0x20) {
          p = q + 2;
          continue;
        }
      }
      if (syslog && k === 0) {
        // the syslog host name
        p = sp + 1;
        continue;
      }
      break;
    }
    // a message that is not from a client
    if (text.startsWith('fetch completed at ', p)) return SKIP_FETCH;
    return cat === CAT_QUERIES ? 'bad' : SKIP_OTHER;
  }

  heldFrom(): number {
    return -1;
  }

  expire(_out: DnsEvent[]): void {}

  end(_out: DnsEvent[]): void {}

  // ---- time -------------------------------------------------------------------------------------

  /**
   * A time at text[p]: BIND's "07-Dec-2026 11:22:33.123", ISO 8601 "2026-12-07T11:22:33.123[Z|+01:00]"
   * and, when `syslog` is allowed, "Dec  7 11:22:33". Sets sec/nsec and returns the position after
   * the time and its space (negative for a syslog time, whose host and tag follow); p when there
   * is none.
   */
  private readTime(text: string, p: number, end: number, syslog: boolean): number {
    if (end - p < 16) return p;
    if (text.charCodeAt(p + 2) === 0x2d && text.charCodeAt(p + 6) === 0x2d && text.charCodeAt(p + 11) === 0x20) return this.readLocal(text, p, end);
    if (text.charCodeAt(p + 4) === 0x2d && text.charCodeAt(p + 7) === 0x2d && text.charCodeAt(p + 10) === 0x54) return this.readIso(text, p, end, syslog);
    if (syslog && text.charCodeAt(p + 3) === 0x20 && text.charCodeAt(p + 6) === 0x20 && text.charCodeAt(p + 9) === 0x3a) return this.readSyslog(text, p, end);
    return p;
  }

  // DD-Mon-YYYY HH:MM:SS[.fff]
  private readLocal(text: string, p: number, end: number): number {
    const year = d4(text, p + 7);
    const day = twoDigits(text, p);
    const hour = twoDigits(text, p + 12);
    const minute = twoDigits(text, p + 15);
    const month = month3(text, p + 3);
    const key = minuteKey(month, day, hour, minute);
    if ((key !== this.minKey || year !== this.minYear) && !this.minute(key, text.charCodeAt(p + 14), year, month, day, hour, minute)) return p;
    const q = this.seconds(text, p + 17, end);
    if (q < 0 || text.charCodeAt(q) !== 0x20) return p;
    this.sec += this.localMinute();
    return q + 1;
  }

  // YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|+HHMM]
  private readIso(text: string, p: number, end: number, syslog: boolean): number {
    const year = d4(text, p);
    const month = twoDigits(text, p + 5);
    const day = twoDigits(text, p + 8);
    const hour = twoDigits(text, p + 11);
    const minute = twoDigits(text, p + 14);
    const key = minuteKey(month, day, hour, minute);
    if ((key !== this.minKey || year !== this.minYear) && !this.minute(key, text.charCodeAt(p + 13), year, month, day, hour, minute)) return p;
    let q = this.seconds(text, p + 16, end);
    if (q < 0) return p;
    const digits = q - p - 20; // BIND prints milliseconds; rsyslog microseconds
    const after = readZone(text, q, ZONE);
    if (after < 0) return p;
    const offset = after - q > 1; // +hh:mm, not Z
    q = after;
    this.sec += Number.isNaN(ZONE.sec) ? this.localMinute() : this.minNaive - ZONE.sec;
    if (text.charCodeAt(q) !== 0x20) return p;
    // a syslog RFC 3339 time is followed by the host; BIND's by a category, severity or client
    if (syslog && (offset || digits !== 3) && looksLikeSyslogHost(text, q + 1, end)) return -(q + 1);
    return q + 1;
  }

  // Mmm dd HH:MM:SS (day padded with a space or a zero), the year from the file
  private readSyslog(text: string, p: number, end: number): number {
    const month = month3(text, p);
    const dc = text.charCodeAt(p + 4);
    const day = dc === 0x20 ? (isDigit(text.charCodeAt(p + 5)) ? text.charCodeAt(p + 5) - 48 : -1) : twoDigits(text, p + 4);
    const year = month > this.ctx.fileMonth ? this.ctx.fileYear - 1 : this.ctx.fileYear;
    const hour = twoDigits(text, p + 7);
    const minute = twoDigits(text, p + 10);
    const key = minuteKey(month, day, hour, minute);
    if ((key !== this.minKey || year !== this.minYear) && !this.minute(key, text.charCodeAt(p + 9), year, month, day, hour, minute)) return p;
    const q = this.seconds(text, p + 12, end);
    if (q < 0 || text.charCodeAt(q) !== 0x20) return p;
    this.sec += this.localMinute();
    return -(q + 1);
  }

  /** Takes the minute as the cached one (colon: the character between hour and minute); false
   *  if it is not a time. */
  private minute(key: number, colon: number, year: number, month: number, day: number, hour: number, minute: number): boolean {
    if (key < 0 || colon !== 0x3a || year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
    this.minKey = key;
    this.minYear = year;
    this.minMonth = month;
    this.minDay = day;
    this.minHour = hour;
    this.minMinute = minute;
    this.minNaive = Date.UTC(year, month - 1, day, hour, minute, 0) / 1000;
    this.minLocal = NaN;
    return true;
  }

  /** The cached minute in local time (ctx.toUtc, --timezone). */
  private localMinute(): number {
    if (this.minLocal !== this.minLocal) this.minLocal = this.ctx.toUtc(this.minYear, this.minMonth, this.minDay, this.minHour, this.minMinute, 0);
    return this.minLocal;
  }

  /** ":SS[.fraction]" at p: sets sec to the seconds and nsec; the position after, or -1. */
  private seconds(text: string, p: number, end: number): number {
    const second = twoDigits(text, p + 1);
    if (text.charCodeAt(p) !== 0x3a || second < 0 || second > 60) return -1;
    let q = p + 3;
    let nsec = 0;
    if (q < end && text.charCodeAt(q) === 0x2e) {
      q++;
      const start = q;
      let scale = 100_000_000;
      while (q < end) {
        const c = text.charCodeAt(q) - 48;
        if (c < 0 || c > 9) break;
        nsec += c * scale;
        scale = (scale / 10) | 0;
        q++;
      }
      if (q === start) return -1;
    }
    this.sec = second;
    this.nsec = nsec;
    return q;
  }

  // ---- client lines -----------------------------------------------------------------------------

  /** text[p] is just after "client ". */
  private client(text: string, p: number, end: number, cat: number, out: DnsEvent[]): LineKind {
    const start = p;
    // "@0x7f...": the client object (9.11+), then the address; before 9.11 "@0x..." in place of
    // the address meant the peer was unknown (and 9.12+ prints "(no-peer)" for that)
    if (text.charCodeAt(p) === 0x40) {
      const sp = text.indexOf(' ', p);
      if (sp < 0 || sp >= end) return this.notQuery(text, start, end, cat);
      p = sp + 1;
    }
    // ADDR[%SCOPE]#PORT
    const addrStart = p;
    const hashAt = text.indexOf('#', p);
    if (hashAt <= p || hashAt >= end || hashAt - p > 64) return this.notQuery(text, start, end, cat);
    let addrEnd = hashAt;
    const pct = text.indexOf('%', p);
    if (pct >= 0 && pct < hashAt) addrEnd = pct; // a scope id: dropped
    const colon = text.indexOf(':', p);
    const v6 = colon >= 0 && colon < addrEnd;
    // a light check (the whole address by hand would cost more than the rest of the line): it
    // starts and ends like an address and has a dot or a colon
    if (!isAddrChar(text.charCodeAt(p)) || !isAddrChar(text.charCodeAt(addrEnd - 1)) || (!v6 && text.charCodeAt(addrEnd - 2) !== 0x2e && text.lastIndexOf('.', addrEnd) < p))
      return this.notQuery(text, start, end, cat);
    const sp = text.indexOf(' ', p);
    if (sp >= 0 && sp < hashAt) return this.notQuery(text, start, end, cat);
    let q = hashAt + 1;
    let port = 0;
    const portStart = q;
    for (; q < end; q++) {
      const c = text.charCodeAt(q) - 48;
      if (c < 0 || c > 9) break;
      port = port * 10 + c;
    }
    if (q === portStart || q - portStart > 5 || port > 65535) return this.notQuery(text, start, end, cat);
    // [/key SIGNER][ (QNAME)]: the signer and the qname are names, which BIND prints without an
    // unescaped space and with ")" escaped: a signer ends at the first space, the qname at the
    // first "): "
    if (text.charCodeAt(q) === 0x2f) {
      if (w4(text, q) !== W_KEY) return this.notQuery(text, start, end, cat);
      q = text.indexOf(' ', q + 5);
      if (q < 0 || q >= end) return this.notQuery(text, start, end, cat);
      if (text.charCodeAt(q - 1) === 0x3a) q--;
    }
    let msg = -1;
    if (text.charCodeAt(q) === 0x3a && text.charCodeAt(q + 1) === 0x20) msg = q + 2;
    else if (text.charCodeAt(q) === 0x20 && text.charCodeAt(q + 1) === 0x28) {
      const close = text.indexOf('): ', q + 2);
      if (close > 0 && close < end) msg = close + 3;
    }
    if (msg < 0) return this.notQuery(text, start, end, cat);
    // "view NAME: "
    if (w4(text, msg) === W_VIEW && text.charCodeAt(msg + 4) === 0x20) {
      const c = text.indexOf(': ', msg + 5);
      if (c < 0 || c >= end) return this.notQuery(text, start, end, cat);
      msg = c + 2;
    }
    if (w4(text, msg) === W_QUER) {
      if (w4(text, msg + 3) === W_RY__) return this.query(text, msg + 7, end, addrStart, addrEnd, port, v6, out);
      if (w4(text, msg + 4) === W_Y_FA && w4(text, msg + 8) === W_ILED && w4(text, msg + 10) === W_ED__) return this.failed(text, msg + 14, end, addrStart, addrEnd, port, v6, out);
    }
    if (w4(text, msg) === W_RPZ_) return SKIP_RPZ;
    return cat === CAT_QUERIES ? 'bad' : SKIP_CLIENT;
  }

  // A client line whose client part does not parse: bad if it is a query or an error of one.
  private notQuery(text: string, p: number, end: number, cat: number): LineKind {
    if (cat === CAT_QUERIES) return 'bad';
    const m = text.indexOf(': query', p);
    if (m >= 0 && m < end && (text.startsWith(': query: ', m) || text.startsWith(': query failed (', m))) return 'bad';
    return SKIP_CLIENT;
  }

  /** "NAME CLASS TYPE FLAGS (DEST)[ [ECS ...]]" at p. */
  private query(text: string, p: number, end: number, addrStart: number, addrEnd: number, port: number, v6: boolean, out: DnsEvent[]): LineKind {
    // NAME
    let i = text.indexOf(' ', p);
    if (i <= p || i >= end) return 'bad';
    const nameEnd = i;
    // CLASS: IN nearly always
    let qclass = 1;
    if (w4(text, i) === W__IN_) i += 4;
    else {
      const k = text.indexOf(' ', ++i);
      if (k < 0 || k >= end) return 'bad';
      qclass = rrClass(text, i, k);
      i = k + 1;
    }
    // TYPE
    const j = text.indexOf(' ', i);
    if (j <= i || j >= end) return 'bad';
    const qtype = j - i === 1 && text.charCodeAt(i) === 0x41 ? 1 : rrType(text, i, j);
    if (qclass < 0 || qtype < 0) return 'bad';
    // FLAGS
    let q = j + 1;
    const rdc = text.charCodeAt(q);
    if (rdc !== 0x2b && rdc !== 0x2d) return 'bad';
    let edns = false;
    let tcp = false;
    let dnssecOk = false;
    let cd = false;
    let signed = false;
    for (q++; q < end; q++) {
      const c = text.charCodeAt(q);
      if (c === 0x20) break;
      switch (c) {
        case 0x45: // E, E(n)
          edns = true;
          if (text.charCodeAt(q + 1) === 0x28) {
            const open = q + 2;
            for (q = open; q < end && isDigit(text.charCodeAt(q)); q++);
            if (q === open || q - open > 5 || text.charCodeAt(q) !== 0x29) return 'bad';
          }
          break;
        case 0x54: // T
          tcp = true;
          break;
        case 0x44: // D
          dnssecOk = true;
          break;
        case 0x43: // C
          cd = true;
          break;
        case 0x53: // S
          signed = true;
          break;
        case 0x4b: // K
        case 0x56: // V
          break;
        default:
          return 'bad';
      }
    }
    // (DEST): absent in very old versions
    let dstIp = '';
    let ecs = '';
    if (q < end) {
      if (text.charCodeAt(q + 1) !== 0x28) return 'bad';
      const open = q + 2;
      q = text.indexOf(')', open);
      if (q <= open || q >= end) return 'bad';
      const pct = text.indexOf('%', open);
      dstIp = text.slice(open, pct >= 0 && pct < q ? pct : q);
      q++;
      if (q < end) {
        // " [ECS 192.0.2.0/24/0]"
        if (w4(text, q) !== W__ECS || text.charCodeAt(q + 4) !== 0x53 || text.charCodeAt(q + 5) !== 0x20 || text.charCodeAt(end - 1) !== 0x5d) return 'bad';
        const last = text.lastIndexOf('/', end - 1);
        if (last <= q + 6) return 'bad';
        ecs = text.slice(q + 6, last);
      }
    }
    const qname = bindName(text, p, nameEnd);
    if (qname === '') return 'bad';
    const ev = newEvent();
    ev.timeSec = this.sec;
    ev.timeNsec = this.nsec;
    ev.ipVersion = v6 ? 6 : 4;
    ev.srcIp = text.slice(addrStart, addrEnd);
    ev.srcPort = port;
    ev.dstIp = dstIp;
    ev.transport = tcp ? 'tcp' : 'udp';
    ev.rd = rdc === 0x2b;
    ev.cd = cd;
    ev.qname = qname;
    ev.qtype = qtype;
    ev.qclass = qclass;
    ev.qdCount = 1;
    ev.arCount = (edns ? 1 : 0) + (signed ? 1 : 0);
    ev.ednsPresent = edns;
    ev.ednsDo = dnssecOk;
    ev.ednsClientSubnet = ecs;
    ev.inputKind = 'log';
    out.push(ev);
    return 'dns';
  }

  /** "RESULT)[ for NAME/CLASS/TYPE] at FILE:LINE" at p (just after "query failed ("). */
  private failed(text: string, p: number, end: number, addrStart: number, addrEnd: number, port: number, v6: boolean, out: DnsEvent[]): LineKind {
    const at = text.lastIndexOf(' at ', end);
    if (at < p) return 'bad';
    // the result text may hold parentheses ("disallowed (by application policy)") and " at "
    // ("not at top of zone"); the question has no space
    let resultEnd: number;
    let qname = '';
    let qtype = 0;
    let qclass = 0;
    let qd = 0;
    const forAt = text.lastIndexOf(') for ', at);
    if (forAt >= p && text.indexOf(' ', forAt + 6) === at) {
      resultEnd = forAt;
      const s2 = text.lastIndexOf('/', at - 1);
      const s1 = s2 > forAt + 6 ? text.lastIndexOf('/', s2 - 1) : -1;
      if (s1 <= forAt + 6) return 'bad';
      qclass = rrClass(text, s1 + 1, s2);
      qtype = rrType(text, s2 + 1, at);
      qname = bindName(text, forAt + 6, s1);
      if (qclass < 0 || qtype < 0 || qname === '') return 'bad';
      qd = 1;
    } else {
      if (text.charCodeAt(at - 1) !== 0x29) return 'bad';
      resultEnd = at - 1;
    }
    if (resultEnd <= p) return 'bad';
    const ev = newEvent();
    ev.timeSec = this.sec;
    ev.timeNsec = this.nsec;
    ev.ipVersion = v6 ? 6 : 4;
    ev.dstIp = text.slice(addrStart, addrEnd);
    ev.dstPort = port;
    ev.qr = true;
    ev.rcode = bindResultRcode(text.slice(p, resultEnd));
    ev.qname = qname;
    ev.qtype = qtype;
    ev.qclass = qclass;
    ev.qdCount = qd;
    ev.inputKind = 'log';
    out.push(ev);
    return 'dns';
  }
}

// ---- small helpers -------------------------------------------------------------------------------

/** Four ASCII characters at p as one small integer (-1 when one is not ASCII; past the end reads
 *  as 0), to compare words without a call. 28 bits: a V8 small integer, never a heap number. */
const W_QUER = w4('quer', 0);
const W_IES_ = w4('ies:', 0);
const W_Y_ER = w4('y-er', 0);
const W_RORS = w4('rors', 0);
const W_INFO = w4('info', 0);
const W_CLIE = w4('clie', 0);
const W_ENT_ = w4('ent ', 0);
const W_RY__ = w4('ry: ', 0);
const W_KEY = w4('/key', 0); // "/key "
const W_VIEW = w4('view', 0);
const W_RPZ_ = w4('rpz ', 0);
const W__IN_ = w4(' IN ', 0);
const W__ECS = w4(' [EC', 0); // " [ECS " // "query: " = "quer" + "ry: "
const W_Y_FA = w4('y fa', 0); // "query failed (" = "quer" + "y fa" + "iled" + "ed ("
const W_ILED = w4('iled', 0);
const W_ED__ = w4('ed (', 0);

// A minute of a year as a small integer (fields out of range make keys minute() rejects).
function minuteKey(month: number, day: number, hour: number, minute: number): number {
  if ((month | day | hour | minute) < 0) return -1;
  return (((month * 32 + day) * 24 + hour) * 60 + minute) | 0;
}


function d4(s: string, p: number): number {
  const a = twoDigits(s, p);
  const b = twoDigits(s, p + 2);
  if (a < 0 || b < 0) return -1;
  return a * 100 + b;
}

// isc_log level names (lib/isc/log.c log_level_strings) with their colon
function isSeverity(s: string, p: number, len: number): boolean {
  switch (len) {
    case 4:
      return s.startsWith('info', p);
    case 5:
      return s.startsWith('error', p);
    case 6:
      return s.startsWith('notice', p);
    case 7:
      return s.startsWith('warning', p);
    case 8:
      return s.startsWith('critical', p);
    default:
      return false;
  }
}

// After an RFC 3339 time: "HOST TAG: " (syslog) rather than "category: "/"info: "/"client ".
function looksLikeSyslogHost(s: string, p: number, end: number): boolean {
  const sp = s.indexOf(' ', p);
  if (sp < 0 || sp >= end || s.charCodeAt(sp - 1) === 0x3a) return false;
  if (s.startsWith('client ', p) || s.startsWith('debug ', p) || s.startsWith('level ', p)) return false;
  const sp2 = s.indexOf(' ', sp + 1);
  return sp2 > sp + 1 && s.charCodeAt(sp2 - 1) === 0x3a;
}

/** The parser of BIND's query log (the queries and query-errors categories). */
export function bindParser(ctx: ParseContext): LineParser {
  return new BindParser(ctx);
}
