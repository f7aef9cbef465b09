// dnsmasq and Pi-hole query logs (dnsmasq 2.8x-2.90 `log-queries` and `log-queries=extra`, Pi-hole
// FTL's pihole.log) -> query and response events.
//
// What a line looks like. dnsmasq's my_syslog() (src/log.c) writes "%.15s " of ctime() (the
// syslog time, "Jun  9 21:30:43", no year) and "dnsmasq%s[%d]: " (%s is "", "-dhcp", "-tftp",
// "-script" or "-debug"); through syslog the line gains a hostname after the time, and rsyslog's
// high-precision template an RFC 3339 time ("2025-06-19T21:30:43.123456+02:00"). The text is
// made by log_query() (src/cache.c):
//   plain:  "%s %s %s %s%s"              source name verb dest extra
//   extra:  "%u %s/%u %s %s %s %s%s"     serial client/port source name verb dest extra
//           "%u %s %s %s %s%s"           serial source name verb dest extra (F_NOEXTRA lines)
// source: "query[TYPE]" / "auth[TYPE]" (verb "from", dest the client), "forwarded" and
// "dnssec-query[TYPE]" (verb "to", dest the upstream, "#port" added when it is not 53),
// "reply" (upstream), "cached", "cached-stale", "config", "DHCP", a hosts file's path, "auth",
// "validation", "ipset add"/"nftset add"; verb "is" for answers. An answer's dest is an address,
// "NXDOMAIN", "NODATA", "NODATA-IPv4", "NODATA-IPv6", a type placeholder from querystr()
// ("<CNAME>", "<HTTPS>", "<type=65280>"), an rcode ("SERVFAIL", "REFUSED", "not implemented" or
// a number, always under the name "error": forward.c process_reply() and rfc1035.c setup_reply()
// log log_query(F_UPSTREAM | F_RCODE, "error", ...) and log_query(F_CONFIG | F_RCODE, "error",
// ...)), a TXT string (rfc1035.c log_txt(): one line per character-string, as logged, up to its
// first unprintable byte), or for a PTR answer (F_REVERSE) the host name, with the address in
// the name's place ("reply 192.0.2.61 is www.bd.test"). extra adds " (DNSSEC signed)" to
// validated answers and " (EDE: text)" to rcodes. The TCP side runs in forked children: their
// lines carry the child's PID (and, with extra, a serial block of their own), so all pairing
// state is kept per PID.
//
// Pi-hole (FTL's src/dnsmasq_interface.c FTL_make_answer()) logs a blocked query's answer with
// F_HOSTS and the blocking reason as the source: "gravity blocked NAME is 0.0.0.0|::|NXDOMAIN|
// NODATA", "regex blacklisted", "exactly blacklisted" (FTL v5), "regex denied", "exactly denied",
// "gravity blocked (CNAME)" and the other "(CNAME)" forms, "special domain", "Mozilla canary
// domain", "Apple iCloud Private Relay domain", "Designated Resolver domain", "blocked upstream
// with NULL address" (and "... with known address", "... with NXRA address", "... with EDE15"),
// "to be blocked|refused|dropped (gravity database is not available)", "Rate-limiting NAME is
// REFUSED"; and "Pi-hole hostname pi.hole is ADDR" for its own names (local, not blocked). Its
// extract_addresses() (src/dnsmasq/rfc1035.c, "Pi-hole modification") logs "reply NAME is blocked
// during CNAME inspection" inside a CNAME chain. Pi-hole before v5 answered from its lists as
// hosts files: "/etc/pihole/gravity.list NAME is ADDR", "/etc/pihole/black.list ...".
//
// Decisions (measured and explained in test/logs-dnsmasq.test.ts and the README beside its fixtures):
// - A response is the run of answer lines of one question: a CNAME chain is several lines (the
//   CNAME line, then the target's, whose name becomes the CNAME's data), so is an RRset (one line
//   per address or TXT string). The run ends at the next line that is not a continuation; its
//   events go out then, query first. Cached CNAMEs whose chain leaves the cache, followed by a
//   "forwarded" line or by another source's answer for the same name, were dnsmasq looking into
//   its cache (answer_request()), not the answer: they are dropped.
// - Pairing. With log-queries=extra (opts.serials 'use', the default) by serial, exactly. Without
//   serials (or 'ignore') best effort: a run answers the oldest open query of its name and a type
//   the answers fit (an IPv4 address fits A, <HTTPS> fits HTTPS, NXDOMAIN fits any), local runs
//   (cached/config/hosts, answered at once) the newest; "error" runs the oldest forwarded query
//   (upstream) or the newest query (config); a query asked again while the first was with the
//   upstream is merged by dnsmasq (no "forwarded" line of its own, "reply query is duplicate"
//   only with extra) and gets the same response. A "forwarded" line for no open query is a
//   refresh of a stale answer (use-stale-cache): its reply lines make no event. Measured on a
//   burst of 240 concurrent queries to real dnsmasq: 236 of 241 responses paired as the serials
//   pair them; the misses are "reply error is SERVFAIL" (no name) and an NXDOMAIN (no type) with
//   several queries of the name in flight.
// - resolution: 'blocked' for Pi-hole's blocking sources, for a local answer (config, hosts,
//   DHCP) of 0.0.0.0 or :: (dnsmasq's address=/x/0.0.0.0 and address=/x/# sinkholes, hosts-file
//   blocklists), and for "blocked during CNAME inspection". A local NXDOMAIN/NODATA/REFUSED is
//   'local': address=/x/ (NXDOMAIN) cannot be told from local=/x/ (an unknown name of a local
//   domain), which is the common case. Otherwise from the run's last line: reply -> 'forwarded',
//   cached -> 'cached', cached-stale -> 'stale', config/hosts/DHCP/auth/Pi-hole hostname ->
//   'local'. The query event carries the same resolution and upstream as its response.
// - DNSSEC: "dnssec-query[T] ...", the "reply ZONE is DNSKEY keytag ...", "DS for keytag ...",
//   "DS keytag ...", "BOGUS DS", "BOGUS DNSKEY", "no DS", "no DS/cut" lines and "validation result
//   is SECURE|INSECURE" are dnsmasq's own validation traffic: skipped as 'dnssec'.
//   "validation NAME is BOGUS|ABANDONED" is the response (the client gets SERVFAIL; no reply line
//   follows, forward.c skips extract_addresses() for a bogus answer). The AD bit is not set: the
//   log does not say whether the client asked for it.
// - Times: syslog times have no year (ctx.fileYear, the year before for a month later than
//   ctx.fileMonth; December -> January moves to the next year; a line more than 6 months after the
//   one before is a late line of the year before; the year never goes back). responseTimeUs only
//   with sub-second times (RFC 3339 with a fraction): a whole-second clock cannot measure DNS
//   latency (most answers take less than its resolution), so with whole seconds it is null.
// - The log says nothing of the transport (TCP answers come from child PIDs, which are not
//   marked), the message id, flags or EDNS: transport is 'udp', the rest zero/false.
import { NO_ANSWERS, newEvent, type DnsAnswer, type DnsEvent, type Resolution } from '../../event.js';
import { typeFromName } from '../../dnsnames.js';
import type { LineKind, LineParser, ParseContext } from './parser.js';
import { month3, readZone, twoDigits } from './text.js';

const ZONE = { sec: 0 }; // readZone's answer

export interface DnsmasqOptions {
  /** log-queries=extra serial numbers: 'use' (the default) pairs by them, 'ignore' pairs as for a
   *  plain log (for measuring the best-effort pairing against the exact one). */
  serials?: 'use' | 'ignore';
  /** expire(): queries held longer than this (log time) go out unanswered. Default 10. */
  maxHoldSec?: number;
  /** At most this many queries are held; beyond, the oldest goes out unanswered. Default 100,000. */
  maxHeld?: number;
}

/** Counters of what the parser did beyond parsing lines. */
export interface DnsmasqStats {
  /** query events (each once, answered or not) */
  queries: number;
  /** response events, with or without their query */
  responses: number;
  /** responses paired to a query */
  paired: number;
  /** queries that went out unanswered (expired, at end(), at the process's exit or evicted) */
  unanswered: number;
  /** of those, pushed out by the bound on held queries (maxHeld) */
  evicted: number;
  /** responses whose query was not seen (before the file's start, or lost): sent alone */
  orphans: number;
  /** queries answered by a response dnsmasq shared between identical in-flight queries */
  duplicates: number;
  /** reply runs of a background refresh (use-stale-cache) or a re-sent query: no event */
  refreshes: number;
}

export interface DnsmasqParser extends LineParser {
  readonly stats: DnsmasqStats;
}

export function dnsmasqParser(ctx: ParseContext, opts: DnsmasqOptions = {}): DnsmasqParser {
  return new Parser(ctx, opts);
}

// --------------------------------------------------------------------------------- line kinds

const DNS: LineKind = 'dns';
const BAD: LineKind = 'bad';
const skip = (kind: string): LineKind => Object.freeze({ skip: kind });
const K_DHCP = skip('dhcp');
const K_TFTP = skip('tftp');
const K_STARTUP = skip('startup');
const K_CONFIG = skip('config');
const K_DNSSEC = skip('dnssec');
const K_IPSET = skip('ipset');
const K_STATS = skip('stats');
const K_WARNING = skip('warning');
const K_OTHER = skip('other');

// dnsmasq's own messages (not log_query()), by their first words: which kind they are.
const MESSAGES: ReadonlyArray<readonly [string, LineKind]> = [
  ['started, version', K_STARTUP],
  ['compile time options', K_STARTUP],
  ['exiting on receipt of', K_STARTUP],
  ['FAILED to start up', K_STARTUP],
  ['asynchronous logging enabled', K_STARTUP],
  ['DBus support', K_STARTUP],
  ['UBus support', K_STARTUP],
  ['DNS service limited to local subnets', K_STARTUP],
  ['DNSSEC validation enabled', K_STARTUP],
  ['DNSSEC signature timestamps', K_STARTUP],
  ['configured with trust anchor', K_STARTUP],
  ['LOUD WARNING', K_STARTUP],
  ['chown of PID file', K_STARTUP],
  ['cleared cache', K_STARTUP],
  ['flushed cache', K_STARTUP],
  ['using nameserver', K_CONFIG],
  ['using local addresses only', K_CONFIG],
  ['using only locally-known addresses', K_CONFIG],
  ['using standard nameservers', K_CONFIG],
  ['using ', K_CONFIG],
  ['reading ', K_CONFIG],
  ['read ', K_CONFIG],
  ['no servers found in', K_CONFIG],
  ['ignoring nameserver', K_CONFIG],
  ['setting upstream servers', K_CONFIG],
  ['bad address', K_CONFIG],
  ['bad name', K_CONFIG],
  ['failed to ', K_CONFIG],
  ['cannot ', K_CONFIG],
  ['warning:', K_WARNING],
  ['possible DNS-rebind attack', K_WARNING],
  ['nameserver ', K_WARNING],
  ['Maximum number of concurrent DNS queries', K_WARNING],
  ['reducing DNS packet size', K_WARNING],
  ['Insecure DS reply', K_DNSSEC],
  ['Insecure reply received', K_DNSSEC],
  ['Negative DS reply', K_DNSSEC],
  ['time ', K_STATS],
  ['cache size ', K_STATS],
  ['queries forwarded', K_STATS],
  ['queries answered', K_STATS],
  ['queries for authoritative', K_STATS],
  ['server ', K_STATS],
  ['pool memory', K_STATS],
  ['DNSSEC per-query', K_STATS],
  ['Host ', K_STATS],
];

// Pi-hole's blocking reasons and other multi-word sources (FTL src/dnsmasq_interface.c): words
// that make a source 'blocked'; "Pi-hole hostname" is local.
const BLOCKING_WORDS = ['blocked', 'blacklisted', 'denied', 'special domain', 'canary domain', 'Private Relay', 'Designated Resolver', 'Rate-limiting', 'to be refused', 'to be dropped'];

// ------------------------------------------------------------------------------ parsing state

const U = 0; // answers from upstream (reply, validation)
const L = 1; // answers made locally (cached, config, hosts, DHCP, auth, Pi-hole)

// Answer line sources.
const S_REPLY = 0;
const S_VALIDATION = 1;
const S_CACHED = 2;
const S_STALE = 3;
const S_LOCAL = 4; // config, hosts files, DHCP, auth, Pi-hole hostname
const S_BLOCKED = 5; // Pi-hole's blocking reasons and lists
const SOURCE_RESOLUTION: readonly Resolution[] = ['forwarded', 'forwarded', 'cached', 'stale', 'local', 'blocked'];

interface Held {
  ev: DnsEvent; // the query event
  offset: number;
  proc: Proc;
  serial: number; // -1 without
  seq: number; // arrival order
  precise: boolean; // its time has a fraction
  upstream: string;
  forwarded: boolean;
  done: boolean;
  // the held queries of one name, oldest first: a list through them (Proc.byName holds the oldest,
  // which holds the newest in `tail`)
  older: Held | null;
  newer: Held | null;
  tail: Held | null;
}

interface Group {
  active: boolean;
  rawLine: string; // with --keepRawLine: the first line of the reply
  serial: number;
  held: Held | null; // with a serial: known from the start
  name: string; // the first line's name, lower case ("" for "error"/"query"/"(null)")
  rawName: string; // ... as logged
  errorName: boolean;
  cls: number;
  answers: DnsAnswer[] | null;
  rcode: number;
  hint: number; // the type the answers fit (0: any)
  addrType: number; // 1 or 28 once an address was seen
  res: Resolution;
  blocked: boolean;
  cnameMark: boolean; // the last line was "blocked during CNAME inspection"
  lastName: string; // raw name of the last line
  lastLower: string; // ... in lower case
  pendingCname: DnsAnswer | null; // a CNAME whose target is the next line's name
  lastPositive: boolean;
  lastSrc: number;
  tc: boolean;
  timeSec: number;
  timeNsec: number;
  precise: boolean;
  lastSec: number;
  offset: number;
  clientIp: string; // with extra: the client of the reply line
  clientPort: number;
}

interface Proc {
  pid: number;
  bySerial: Map<number, Held>;
  byName: Map<string, Held>; // the oldest held query of each name (see Held.older)
  open: number;
  newest: Held | null;
  g: Group;
  refreshSerials: Set<number>;
  refreshNames: Set<string>;
  // the last upstream response, for "reply query is duplicate" (extra)
  last: { answers: readonly DnsAnswer[]; rcode: number; res: Resolution; upstream: string; name: string; qtype: number; tc: boolean } | null;
}

// A queue slot whose query went out.
const GONE: Held = { ev: newEvent(), offset: -1, proc: null as unknown as Proc, serial: -1, seq: -1, precise: false, upstream: '', forwarded: false, done: true, older: null, newer: null, tail: null };

function newGroup(): Group {
  return {
    active: false, rawLine: '', serial: -1, held: null, name: '', rawName: '', errorName: false, cls: U, answers: null, rcode: 0, hint: 0,
    addrType: 0, res: '', blocked: false, cnameMark: false, lastName: '', lastLower: '', pendingCname: null, lastPositive: false, lastSrc: -1, tc: false,
    timeSec: 0, timeNsec: 0, precise: false, lastSec: 0, offset: 0, clientIp: '', clientPort: 0,
  };
}

// What the answer line's dest is.
const D_ADDR4 = 1;
const D_ADDR6 = 2;
const D_PLACEHOLDER = 3; // <TYPE>
const D_NEG = 4; // NXDOMAIN / NODATA*
const D_RCODE = 5; // SERVFAIL, REFUSED, ...
const D_TEXT = 6; // TXT string or PTR target
const D_TRUNC = 7; // "truncated"
const D_CNAME_BLOCK = 8; // Pi-hole: blocked during CNAME inspection
const D_DUP = 9; // "reply query is duplicate"

class Parser implements DnsmasqParser {
  readonly stats: DnsmasqStats = { queries: 0, responses: 0, paired: 0, unanswered: 0, evicted: 0, orphans: 0, duplicates: 0, refreshes: 0 };
  private readonly useSerials: boolean;
  private readonly maxHoldSec: number;
  private readonly maxHeld: number;
  private readonly procs = new Map<number, Proc>();
  private lastPid = -1;
  private lastProc: Proc | null = null;
  private queue: Held[] = []; // held queries in arrival order (done ones dropped lazily)
  private qhead = 0;
  private heldCount = 0;
  private seq = 0;
  private lastSec = 0; // latest log time seen
  private readonly marks: number[] = []; // [second, offset of its first line, ...], see heldFrom()
  // syslog year inference
  private year = -1;
  private prevMonth = 0;
  // time cache: the minute of the last line
  private minuteKey = -1;
  private minuteUtc = 0;
  // scratch results of the time parser
  private tSec = 0;
  private tNsec = 0;
  private tPrecise = false;
  // scratch results of the dest classifier
  private dKind = 0;
  private dType = 0;
  private dRcode = 0;

  constructor(
    private readonly ctx: ParseContext,
    opts: DnsmasqOptions,
  ) {
    this.useSerials = opts.serials !== 'ignore';
    this.maxHoldSec = opts.maxHoldSec ?? 10;
    this.maxHeld = Math.max(1, opts.maxHeld ?? 100_000);
  }

  // ------------------------------------------------------------------------ LineParser

  line(text: string, offset: number, out: DnsEvent[]): LineKind {
    const n = text.length;
    if (n === 0) return K_OTHER;
    // --- time
    let p = this.parseTime(text);
    if (p < 0) return looksLikeDnsmasq(text) ? BAD : K_OTHER;
    // --- [host] program[pid]:
    let e = text.indexOf(' ', p);
    if (e < 0) return looksLikeDnsmasq(text) ? BAD : K_OTHER;
    if (text.charCodeAt(e - 1) !== 58 /* : */) {
      p = e + 1; // a hostname
      e = text.indexOf(' ', p);
      if (e < 0 || text.charCodeAt(e - 1) !== 58) return looksLikeDnsmasq(text) ? BAD : K_OTHER;
    }
    let q = p;
    if (text.startsWith('dnsmasq', p)) {
      q = p + 7;
      if (text.charCodeAt(q) === 45 /* - */) {
        if (text.startsWith('dhcp', q + 1)) return K_DHCP;
        if (text.startsWith('tftp', q + 1)) return K_TFTP;
        return K_OTHER; // -script, -debug
      }
    } else if (text.startsWith('pihole-FTL', p)) q = p + 10;
    else return K_OTHER; // another program in a syslog file
    let pid = 0;
    if (text.charCodeAt(q) === 91 /* [ */) {
      for (q++; q < e; q++) {
        const c = text.charCodeAt(q);
        if (c < 48 || c > 57) break;
        pid = pid * 10 + (c - 48);
      }
    }
    let m = e + 1; // the message
    if (m >= n) return BAD;
    const sec = this.tSec;
    if (sec > this.lastSec) {
      this.lastSec = sec;
      this.marks.push(sec, offset); // where each second of the log starts (heldFrom)
    }
    // --- extra: serial [client/port]
    let serial = -1;
    let cStart = -1;
    let cEnd = -1;
    let cPort = 0;
    let c = text.charCodeAt(m);
    if (c >= 48 && c <= 57) {
      let k = m;
      let v = 0;
      while (k < n && (c = text.charCodeAt(k)) >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        k++;
      }
      if (c === 32) {
        serial = v;
        m = k + 1;
        // client/port: "192.0.2.1/52311 " or "::1/52311 " (an address never starts with "/")
        const sp = text.indexOf(' ', m);
        c = text.charCodeAt(m);
        if (sp > m && (isHex(c) || c === 58)) {
          const sl = text.lastIndexOf('/', sp);
          if (sl > m) {
            let port = 0;
            let ok = sl + 1 < sp;
            for (let j = sl + 1; j < sp; j++) {
              const d = text.charCodeAt(j);
              if (d < 48 || d > 57) {
                ok = false;
                break;
              }
              port = port * 10 + (d - 48);
            }
            if (ok) {
              cStart = m;
              cEnd = sl;
              cPort = port;
              m = sp + 1;
            }
          }
        }
      }
    }
    const proc = this.procOf(pid);
    if (!this.useSerials) serial = -1;
    // --- the message
    c = text.charCodeAt(m);
    switch (c) {
      case 113: // q
        if (text.startsWith('query[', m)) return this.query(text, m + 6, offset, proc, serial, cPort, out);
        break;
      case 97: // a
        if (text.startsWith('auth[', m)) return this.query(text, m + 5, offset, proc, serial, cPort, out);
        if (text.startsWith('auth ', m)) return this.answer(text, m + 5, S_LOCAL, offset, proc, serial, cStart, cEnd, cPort, out);
        break;
      case 102: // f
        if (text.startsWith('forwarded ', m)) return this.forwarded(text, m + 10, proc, serial, out);
        break;
      case 114: // r
        if (text.startsWith('reply ', m)) return this.answer(text, m + 6, S_REPLY, offset, proc, serial, cStart, cEnd, cPort, out);
        break;
      case 99: // c
        if (text.startsWith('cached', m)) {
          if (text.charCodeAt(m + 6) === 32) return this.answer(text, m + 7, S_CACHED, offset, proc, serial, cStart, cEnd, cPort, out);
          if (text.startsWith('-stale ', m + 6)) return this.answer(text, m + 13, S_STALE, offset, proc, serial, cStart, cEnd, cPort, out);
        }
        if (text.startsWith('config ', m)) return this.answer(text, m + 7, S_LOCAL, offset, proc, serial, cStart, cEnd, cPort, out);
        break;
      case 68: // D
        if (text.startsWith('DHCP ', m)) return this.answer(text, m + 5, S_LOCAL, offset, proc, serial, cStart, cEnd, cPort, out);
        break;
      case 47: {
        // "/etc/hosts name is ..." or any hosts file (addn-hosts, hostsdir); Pi-hole before v5: its lists
        const sp = text.indexOf(' ', m);
        if (sp < 0) return BAD;
        return this.answer(text, sp + 1, piholeListBlocks(text, m, sp) ? S_BLOCKED : S_LOCAL, offset, proc, serial, cStart, cEnd, cPort, out);
      }
      case 118: // v
        if (text.startsWith('validation ', m)) return this.answer(text, m + 11, S_VALIDATION, offset, proc, serial, cStart, cEnd, cPort, out);
        break;
      case 100: // d
        if (text.startsWith('dnssec-query[', m)) return K_DNSSEC;
        break;
      case 105: // i
        if (text.startsWith('ipset add', m)) return K_IPSET;
        break;
      case 110: // n
        if (text.startsWith('nftset add', m)) return K_IPSET;
        break;
      case 80: // P
        if (text.startsWith('Pi-hole hostname ', m)) return this.answer(text, m + 17, S_LOCAL, offset, proc, serial, cStart, cEnd, cPort, out);
        break;
    }
    for (const [prefix, kind] of MESSAGES) if (text.startsWith(prefix, m)) {
      if (kind === K_STARTUP && text.startsWith('exiting', m)) this.exited(proc, out);
      return kind;
    }
    // Pi-hole's blocking reasons: "<reason words> NAME is DEST"
    const is = text.lastIndexOf(' is ');
    if (is > m) {
      const ns = text.lastIndexOf(' ', is - 1);
      if (ns >= m) {
        const src = text.slice(m, ns);
        for (const w of BLOCKING_WORDS) if (src.includes(w)) return this.answer(text, ns + 1, S_BLOCKED, offset, proc, serial, cStart, cEnd, cPort, out);
      }
    }
    return K_OTHER;
  }

  // Where a run that resumes must start reading to hold what is held now, and to pair as this run
  // did: maxHoldSec of log before the oldest held line, so that a query answered in between (whose
  // reply would otherwise go to a held query of the same name) is seen again too.
  heldFrom(): number {
    this.advanceHead();
    let from = this.qhead < this.queue.length ? this.queue[this.qhead].offset : -1;
    let fromSec = this.qhead < this.queue.length ? this.queue[this.qhead].ev.timeSec : Infinity;
    for (const proc of this.procs.values()) {
      const g = proc.g;
      if (g.active && (from < 0 || g.offset < from)) {
        from = g.offset;
        fromSec = Math.min(fromSec, g.timeSec);
      }
    }
    if (from < 0) {
      this.marks.length = 0;
      return -1;
    }
    // the marks of seconds before the window are not needed any more
    const floor = fromSec - this.maxHoldSec;
    let k = 0;
    while (k + 2 < this.marks.length && this.marks[k] < floor) k += 2;
    if (k > 0) this.marks.splice(0, k);
    return this.marks.length > 0 ? Math.min(from, this.marks[1]) : from;
  }

  // The reader calls this at every cut: a reply in progress is closed there (dnsmasq writes a reply's
  // lines together, and a followed log that goes quiet must not keep its last answer back), and
  // every cut does so, so that a run that resumes at a cut holds what this one held.
  expire(out: DnsEvent[]): void {
    const limit = this.lastSec - this.maxHoldSec;
    for (const [pid, proc] of this.procs) {
      if (proc.g.active) this.close(proc, out);
      if (proc.open === 0 && !proc.g.active && proc !== this.lastProc) this.procs.delete(pid);
    }
    for (;;) {
      this.advanceHead();
      if (this.qhead >= this.queue.length) break;
      const h = this.queue[this.qhead];
      if (h.ev.timeSec >= limit) break;
      this.unanswered(h, out);
    }
  }

  end(out: DnsEvent[]): void {
    for (const proc of this.procs.values()) if (proc.g.active) this.close(proc, out);
    for (const h of this.queue.slice(this.qhead)) if (!h.done) this.unanswered(h, out);
    this.queue = [];
    this.qhead = 0;
    this.procs.clear();
    this.lastPid = -1;
    this.lastProc = null;
  }

  // ------------------------------------------------------------------------ lines

  // query[TYPE] NAME from CLIENT   (p after "query[")
  private query(text: string, p: number, offset: number, proc: Proc, serial: number, cPort: number, out: DnsEvent[]): LineKind {
    const rb = text.indexOf('] ', p);
    if (rb < 0) return BAD;
    const qtype = typeOf(text, p, rb);
    const ns = rb + 2;
    const sp = text.indexOf(' ', ns);
    if (sp < 0 || !text.startsWith('from ', sp + 1)) return BAD;
    let ce = text.indexOf(' ', sp + 6);
    if (ce < 0) ce = text.length;
    if (ce === sp + 6 || qtype < 0) return BAD;
    if (proc.g.active) this.close(proc, out);
    const ev = newEvent();
    ev.timeSec = this.tSec;
    ev.timeNsec = this.tNsec;
    // a client asks many times: its address string is kept, not cut again
    let client = this.lastClient;
    if (ce - sp - 6 !== client.length || !text.startsWith(client, sp + 6)) {
      client = this.lastClient = text.slice(sp + 6, ce);
      this.lastClientVersion = ipVersionOf(client);
    }
    if (this.ctx.keepRawLine) ev.rawLine = text;
    ev.srcIp = client;
    ev.srcPort = cPort;
    ev.ipVersion = this.lastClientVersion;
    ev.qname = lowerName(text.slice(ns, sp));
    ev.qtype = qtype;
    ev.qclass = 1;
    ev.qdCount = 1;
    ev.inputKind = 'log';
    const h: Held = { ev, offset, proc, serial, seq: this.seq++, precise: this.tPrecise, upstream: '', forwarded: false, done: false, older: null, newer: null, tail: null };
    if (serial >= 0) {
      const old = proc.bySerial.get(serial);
      if (old) this.unanswered(old, out); // a serial seen again: the old one is not answered any more
      proc.bySerial.set(serial, h);
    }
    const first = proc.byName.get(ev.qname);
    if (first) {
      const tail = first.tail!;
      tail.newer = h;
      h.older = tail;
      first.tail = h;
    } else {
      h.tail = h;
      proc.byName.set(ev.qname, h);
    }
    proc.open++;
    proc.newest = h;
    this.queue.push(h);
    this.heldCount++;
    this.stats.queries++;
    while (this.heldCount > this.maxHeld) {
      this.advanceHead();
      const oldest = this.queue[this.qhead];
      this.stats.evicted++;
      this.unanswered(oldest, out);
    }
    return DNS;
  }

  // forwarded NAME to UPSTREAM   (p after "forwarded ")
  private forwarded(text: string, p: number, proc: Proc, serial: number, out: DnsEvent[]): LineKind {
    const sp = text.indexOf(' ', p);
    if (sp < 0 || !text.startsWith('to ', sp + 1) || sp + 4 >= text.length) return BAD;
    const g = proc.g;
    if (g.active) {
      // cached CNAMEs whose chain ends outside the cache, then the query goes upstream: the
      // lines were dnsmasq's look into its cache, not the answer
      if (isProbe(g) && (serial >= 0 ? g.serial === serial : g.rawName.length === sp - p && text.startsWith(g.rawName, p))) g.active = false;
      else this.close(proc, out);
    }
    let h: Held | null = null;
    let name = '';
    if (serial >= 0) h = proc.bySerial.get(serial) ?? null;
    else {
      name = lowerName(text.slice(p, sp));
      h = proc.byName.get(name)?.tail ?? null; // the newest query of the name: forwarded right after it
    }
    if (h) {
      if (!h.forwarded) {
        h.forwarded = true;
        let ue = text.indexOf(' ', sp + 4);
        if (ue < 0) ue = text.length;
        h.upstream = text.slice(sp + 4, ue);
      }
    } else if (serial >= 0) addBounded(proc.refreshSerials, serial);
    else addBounded(proc.refreshNames, name);
    return DNS;
  }

  // SOURCE NAME is DEST   (p at NAME)
  private answer(text: string, p: number, src: number, offset: number, proc: Proc, serial: number, cStart: number, cEnd: number, cPort: number, out: DnsEvent[]): LineKind {
    const n = text.length;
    const sp = text.indexOf(' ', p);
    if (sp <= p || !text.startsWith('is ', sp + 1)) return BAD;
    const ds = sp + 4;
    let de = n;
    // extra's " (DNSSEC signed)" and " (EDE: ...)"
    if (text.charCodeAt(de - 1) === 41 /* ) */) {
      const par = text.lastIndexOf(' (', de);
      if (par >= ds && (text.startsWith(' (DNSSEC signed)', par) || text.startsWith(' (EDE: ', par))) {
        de = par;
        const par2 = text.lastIndexOf(' (', de);
        if (par2 >= ds && text.startsWith(' (DNSSEC signed)', par2)) de = par2;
      }
    }
    if (de <= ds) return BAD;
    const cls = src === S_REPLY || src === S_VALIDATION ? U : L;
    let res: Resolution = SOURCE_RESOLUTION[src];
    // names that are not names: "error" and "opcode" (an rcode), "(null)" (truncated), "query"
    // ("reply query is duplicate")
    const nl = sp - p;
    let special = (nl === 5 && (text.startsWith('error', p) || text.startsWith('query', p))) || (nl === 6 && (text.startsWith('opcode', p) || text.startsWith('(null)', p)));
    this.classify(text, ds, de, special);
    let kind = this.dKind;
    if (special && kind !== D_RCODE && kind !== D_TRUNC && kind !== D_DUP) special = false; // a name after all
    if (src === S_VALIDATION) {
      // "validation result is SECURE": dnsmasq's own; BOGUS/ABANDONED: the client gets SERVFAIL
      if ((de - ds === 5 && text.startsWith('BOGUS', ds)) || (de - ds === 9 && text.startsWith('ABANDONED', ds))) {
        kind = D_RCODE;
        this.dRcode = 2;
        this.dType = 0;
      } else return K_DNSSEC;
    } else if (cls === U && kind === D_TEXT && isDnssecNote(text, ds)) return K_DNSSEC;
    if (kind === D_DUP) {
      if (!this.useSerials) return DNS; // 'ignore': as in a plain log, where this line is not written
      return this.duplicate(proc, serial, out);
    }
    // local answers of 0.0.0.0 / :: are sinkholes
    if (src === S_LOCAL && (kind === D_ADDR4 || kind === D_ADDR6) && isNullAddress(text, ds, de)) res = 'blocked';
    // --- continuation of the proc's current run?
    const g = proc.g;
    let restart = false;
    if (g.active && isProbe(g) && (serial >= 0 ? g.serial === serial : true) && (special || (src !== g.lastSrc && g.rawName.length === nl && text.startsWith(g.rawName, p)))) {
      // cached CNAMEs whose chain ends outside the cache, then the answer from elsewhere (a
      // config address, an error): the cache lines were a look, not the answer
      if (special) g.active = false;
      else {
        g.answers = null;
        g.hint = 0;
        g.addrType = 0;
        g.rcode = 0;
        g.pendingCname = null;
        g.lastName = '';
        g.lastLower = '';
        g.lastPositive = false;
        g.cls = cls;
        g.res = res;
        restart = true;
      }
    }
    if (g.active && !restart && !this.continues(g, text, p, sp, kind, cls, serial, special)) this.close(proc, out);
    if (!g.active) {
      g.active = true;
      g.rawLine = this.ctx.keepRawLine ? text : '';
      g.serial = serial;
      g.held = serial >= 0 ? proc.bySerial.get(serial) ?? null : null;
      g.rawName = special ? '' : text.slice(p, sp);
      g.name = special ? '' : lowerName(g.rawName);
      g.errorName = special;
      g.cls = cls;
      g.answers = null;
      g.rcode = 0;
      g.hint = 0;
      g.addrType = 0;
      g.res = res;
      g.blocked = false;
      g.cnameMark = false;
      g.lastName = '';
      g.lastLower = '';
      g.pendingCname = null;
      g.lastPositive = false;
      g.tc = false;
      g.timeSec = this.tSec;
      g.timeNsec = this.tNsec;
      g.precise = this.tPrecise;
      g.offset = offset;
      g.clientIp = cStart >= 0 ? text.slice(cStart, cEnd) : '';
      g.clientPort = cPort;
    }
    g.lastSec = this.tSec;
    g.lastSrc = src;
    if (kind === D_CNAME_BLOCK) {
      // Pi-hole: the chain reached a blocked name (this line's); the client gets Pi-hole's
      // blocking answer, which is not logged
      g.blocked = true;
      g.cnameMark = true;
      if (g.pendingCname) g.pendingCname.data = lowerName(text.slice(p, sp));
      g.pendingCname = null;
      return DNS;
    }
    g.cnameMark = false;
    if (res === 'blocked') g.blocked = true;
    if (!g.blocked) g.res = res;
    // the owner name of this line, as logged and in lower case (most often the one before)
    let owner: string;
    let lower: string;
    if (special) owner = lower = '';
    else if (g.lastName.length === nl && text.startsWith(g.lastName, p)) {
      owner = g.lastName;
      lower = g.lastLower;
    } else if (g.rawName.length === nl && text.startsWith(g.rawName, p)) {
      owner = g.rawName;
      lower = g.name;
    } else {
      owner = text.slice(p, sp);
      lower = lowerName(owner);
    }
    if (g.pendingCname) {
      // the CNAME's target is this line's owner, unless the chain went back to a name of its own
      // (dnsmasq 2.90 logs cached CNAMEs, then the config answer for the first name)
      if (!special && owner !== g.rawName && !g.answers?.some((a) => a.type === 5 && a.name === lower)) g.pendingCname.data = lower;
      g.pendingCname = null;
    }
    g.lastName = owner;
    g.lastLower = lower;
    switch (kind) {
      case D_ADDR4:
      case D_ADDR6: {
        const t = kind === D_ADDR4 ? 1 : 28;
        if (g.hint === 0) g.hint = t;
        g.addrType = t;
        this.add(g, lower, t, text.slice(ds, de));
        g.lastPositive = true;
        break;
      }
      case D_PLACEHOLDER: {
        const a = this.add(g, lower, this.dType, '');
        if (this.dType === 5) g.pendingCname = a;
        else if (g.hint === 0) g.hint = this.dType;
        g.lastPositive = true;
        break;
      }
      case D_TEXT: {
        // a PTR answer (the address in the name's place) or a TXT string
        const ptr = isIpLiteral(text, p, sp);
        const t = ptr ? 12 : 16;
        if (g.hint === 0) g.hint = t;
        this.add(g, lower, t, ptr ? lowerName(text.slice(ds, de)) : quoteTxt(text.slice(ds, de)));
        g.lastPositive = true;
        break;
      }
      case D_NEG:
        g.rcode = this.dRcode;
        if (g.hint === 0) g.hint = this.dType;
        g.lastPositive = false;
        break;
      case D_RCODE:
        g.rcode = this.dRcode;
        g.lastPositive = false;
        break;
      case D_TRUNC:
        g.tc = true;
        g.lastPositive = false;
        break;
    }
    return DNS;
  }

  // ------------------------------------------------------------------------ runs

  // Does this answer line continue the proc's current run?
  private continues(g: Group, text: string, p: number, sp: number, kind: number, cls: number, serial: number, special: boolean): boolean {
    if (g.serial >= 0 || serial >= 0) return g.serial === serial;
    if (special || g.errorName) return false;
    if (g.cnameMark) return true; // Pi-hole: the blocked answer after "blocked during CNAME inspection"
    if (cls !== g.cls) return false;
    if (g.pendingCname) return true; // the CNAME's target
    if (kind === D_NEG || kind === D_RCODE || kind === D_TRUNC || !g.lastPositive) return false;
    const nl = sp - p;
    const same = (g.lastName.length === nl && text.startsWith(g.lastName, p)) || (g.rawName.length === nl && text.startsWith(g.rawName, p));
    if (!same) return false;
    if (kind === D_ADDR4 || kind === D_ADDR6) {
      const t = kind === D_ADDR4 ? 1 : 28;
      if (g.addrType !== 0 && g.addrType !== t) return false;
      if (g.addrType === 0 && g.hint !== 0 && g.hint !== t) return false;
    } else if (kind === D_PLACEHOLDER) {
      if (g.addrType !== 0) return false;
    } else if (kind === D_TEXT) {
      if (g.addrType !== 0) return false;
    }
    return true;
  }

  private add(g: Group, name: string, type: number, data: string): DnsAnswer {
    const a: DnsAnswer = { name, type, class: 1, ttl: 0, data };
    if (g.answers) g.answers.push(a);
    else g.answers = [a];
    return a;
  }

  // The run is complete: find its query, send both.
  private close(proc: Proc, out: DnsEvent[]): void {
    const g = proc.g;
    g.active = false;
    let h = g.held;
    if (h && h.done) h = null;
    if (!h && g.serial < 0) h = this.match(proc, g);
    if (!h) {
      const refresh = g.serial >= 0 ? proc.refreshSerials.delete(g.serial) : g.cls === U && !g.errorName && proc.refreshNames.delete(g.name);
      if (refresh) {
        this.stats.refreshes++;
        return;
      }
    } else if (h.ev.qtype === 12 && g.answers) {
      // PTR answers are logged with the address in the name's place
      for (const a of g.answers) if (a.type === 12 && a.name !== h.ev.qname && isIpLiteral(a.name, 0, a.name.length)) a.name = h.ev.qname;
    }
    const answers: readonly DnsAnswer[] = g.answers ?? NO_ANSWERS;
    const res: Resolution = g.blocked ? 'blocked' : g.res;
    const upstream = h ? h.upstream : '';
    const resp = this.response(h, g.timeSec, g.timeNsec, g.precise, answers, g.rcode, res, upstream, g.tc);
    resp.rawLine = g.rawLine; // the reply's first line
    if (g.cls === U) proc.last = { answers, rcode: g.rcode, res, upstream, name: h ? h.ev.qname : g.name, qtype: h ? h.ev.qtype : g.hint, tc: g.tc };
    if (!h) {
      // an orphan: what the lines say
      resp.qname = g.errorName ? '' : g.name;
      resp.qtype = g.hint;
      resp.dstIp = g.clientIp;
      resp.dstPort = g.clientPort;
      resp.ipVersion = ipVersionOf(g.clientIp);
      this.stats.orphans++;
      out.push(resp);
      this.stats.responses++;
      return;
    }
    this.send(h, resp, out);
    // without serials: identical queries that came while this one was with the upstream were
    // merged into it by dnsmasq (no "forwarded" line of their own): the same answer is theirs
    if (g.serial < 0 && g.cls === U) {
      for (let d = proc.byName.get(h.ev.qname) ?? null; d; ) {
        const next: Held | null = d.newer;
        if (!d.forwarded && d.ev.qtype === h.ev.qtype && d.seq > h.seq) {
          const r = this.response(d, g.timeSec, g.timeNsec, g.precise, answers, g.rcode, res, upstream, g.tc);
          this.stats.duplicates++;
          this.send(d, r, out); // takes d out of the list
        }
        d = next;
      }
    }
  }

  // Without serials: the held query a run answers.
  private match(proc: Proc, g: Group): Held | null {
    if (g.errorName) {
      if (g.cls === L) {
        const h = proc.newest;
        if (h && !h.done) return h;
        for (let i = this.queue.length - 1, k = 0; i >= this.qhead && k < 64; i--, k++) {
          const q = this.queue[i];
          if (!q.done && q.proc === proc) return q;
        }
        return null;
      }
      for (let i = this.qhead; i < this.queue.length; i++) {
        const q = this.queue[i];
        if (!q.done && q.proc === proc && q.forwarded) return q;
      }
      return null;
    }
    let h = pick(proc.byName.get(g.name), g.hint, g.cls);
    if (!h && isIpLiteral(g.rawName, 0, g.rawName.length)) {
      const arpa = arpaName(g.rawName);
      if (arpa) h = pick(proc.byName.get(arpa), 12, g.cls);
    }
    return h;
  }

  // "reply query is duplicate" (extra): the query gets the last upstream response.
  private duplicate(proc: Proc, serial: number, out: DnsEvent[]): LineKind {
    if (proc.g.active) this.close(proc, out);
    const last = proc.last;
    let h: Held | null = null;
    if (serial >= 0) h = proc.bySerial.get(serial) ?? null;
    else if (last) {
      for (let d = proc.byName.get(last.name) ?? null; d; d = d.newer)
        if (!d.forwarded && d.ev.qtype === last.qtype) {
          h = d;
          break;
        }
    }
    if (!h || h.done) return DNS; // its query is not here (before the file's start)
    const resp = this.response(h, this.tSec, this.tNsec, this.tPrecise, last ? last.answers : NO_ANSWERS, last ? last.rcode : 0, last ? last.res : 'forwarded', last ? last.upstream : '', last ? last.tc : false);
    this.stats.duplicates++;
    this.send(h, resp, out);
    return DNS;
  }

  // The process exited: what it held is never answered.
  private exited(proc: Proc, out: DnsEvent[]): void {
    if (proc.g.active) this.close(proc, out);
    if (proc.open === 0) return;
    for (const h of this.queue.slice(this.qhead)) if (!h.done && h.proc === proc) this.unanswered(h, out);
  }

  // ------------------------------------------------------------------------ events

  private response(h: Held | null, timeSec: number, timeNsec: number, precise: boolean, answers: readonly DnsAnswer[], rcode: number, res: Resolution, upstream: string, tc: boolean): DnsEvent {
    const r = newEvent();
    r.timeSec = timeSec;
    r.timeNsec = timeNsec;
    r.qr = true;
    r.rcode = rcode;
    r.tc = tc;
    r.qclass = 1;
    r.qdCount = 1;
    r.answers = answers;
    r.anCount = answers.length;
    r.resolution = res;
    r.upstream = upstream;
    r.inputKind = 'log';
    if (h) {
      const q = h.ev;
      r.qname = q.qname;
      r.qtype = q.qtype;
      r.dstIp = q.srcIp;
      r.dstPort = q.srcPort;
      r.ipVersion = q.ipVersion;
      if (precise && h.precise) {
        const us = Math.round(((timeSec - q.timeSec) * 1e9 + (timeNsec - q.timeNsec)) / 1000);
        r.responseTimeUs = us > 0 ? us : 0;
      }
    }
    return r;
  }

  // Query and response go out together, query first.
  private send(h: Held, resp: DnsEvent, out: DnsEvent[]): void {
    const q = h.ev;
    q.responseTimeUs = resp.responseTimeUs;
    q.resolution = resp.resolution;
    q.upstream = resp.upstream;
    this.release(h);
    out.push(q, resp);
    this.stats.paired++;
    this.stats.responses++;
  }

  private unanswered(h: Held, out: DnsEvent[]): void {
    if (h.done) return;
    const q = h.ev;
    q.unanswered = true;
    q.upstream = h.upstream;
    if (h.forwarded) q.resolution = 'forwarded';
    this.release(h);
    out.push(q);
    this.stats.unanswered++;
  }

  private release(h: Held): void {
    h.done = true;
    const proc = h.proc;
    if (h.serial >= 0 && proc.bySerial.get(h.serial) === h) proc.bySerial.delete(h.serial);
    const older = h.older;
    const newer = h.newer;
    if (newer) newer.older = older;
    if (older) {
      older.newer = newer;
      if (!newer) {
        const first = proc.byName.get(h.ev.qname);
        if (first) first.tail = older;
      }
    } else if (newer) {
      newer.tail = h.tail;
      proc.byName.set(h.ev.qname, newer);
    } else proc.byName.delete(h.ev.qname);
    h.older = h.newer = h.tail = null;
    if (proc.newest === h) proc.newest = null;
    proc.open--;
    this.heldCount--;
    if (this.queue[this.qhead] === h) this.advanceHead();
  }

  // Past the done queries at the queue's head (their slots let go, so that what was sent is not
  // kept alive by the queue).
  private advanceHead(): void {
    const queue = this.queue;
    while (this.qhead < queue.length && queue[this.qhead].done) queue[this.qhead++] = GONE;
    if (this.qhead === queue.length) {
      if (this.qhead > 0) {
        queue.length = 0;
        this.qhead = 0;
      }
    } else if (this.qhead > 4096 && this.qhead * 2 > queue.length) {
      queue.copyWithin(0, this.qhead);
      queue.length -= this.qhead;
      this.qhead = 0;
    }
  }

  private procOf(pid: number): Proc {
    if (pid === this.lastPid && this.lastProc) return this.lastProc;
    let proc = this.procs.get(pid);
    if (!proc) {
      proc = { pid, bySerial: new Map(), byName: new Map(), open: 0, newest: null, g: newGroup(), refreshSerials: new Set(), refreshNames: new Set(), last: null };
      this.procs.set(pid, proc);
    }
    this.lastPid = pid;
    this.lastProc = proc;
    return proc;
  }

  // ------------------------------------------------------------------------ times

  // The line's time -> tSec/tNsec/tPrecise; returns the offset after it (and its space), or -1.
  private parseTime(text: string): number {
    const c0 = text.charCodeAt(0);
    if (c0 >= 65 && c0 <= 90) {
      // syslog: "Jun 19 21:30:43 " / "Jun  9 21:30:43 "; lines of one second share it
      if (text.startsWith(this.lastStamp) && this.lastStamp !== '') {
        this.tSec = this.lastStampSec;
        this.tNsec = 0;
        this.tPrecise = false;
        return 16;
      }
      if (text.length < 17 || text.charCodeAt(3) !== 32 || text.charCodeAt(15) !== 32 || text.charCodeAt(9) !== 58 || text.charCodeAt(12) !== 58) return -1;
      const month = month3(text, 0);
      const d1 = text.charCodeAt(4);
      const day = (d1 === 32 ? 0 : d1 - 48) * 10 + text.charCodeAt(5) - 48;
      const hh = twoDigits(text, 7);
      const mi = twoDigits(text, 10);
      const ss = twoDigits(text, 13);
      if (month === 0 || day < 1 || day > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60) return -1;
      const year = this.yearOf(month);
      const key = ((year * 13 + month) * 32 + day) * 1440 + hh * 60 + mi;
      if (key !== this.minuteKey) {
        this.minuteKey = key;
        this.minuteUtc = this.ctx.toUtc(year, month, day, hh, mi, 0);
      }
      this.tSec = this.lastStampSec = this.minuteUtc + ss;
      this.tNsec = 0;
      this.tPrecise = false;
      this.lastStamp = text.slice(0, 16);
      return 16;
    }
    if (c0 >= 48 && c0 <= 57) {
      // RFC 3339: 2025-06-19T21:30:43[.123456](Z|+02:00|+0200); without a zone: local time
      const n = text.length;
      if (n < 20 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return -1;
      const sep = text.charCodeAt(10);
      if (sep !== 84 && sep !== 32) return -1;
      const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
      const month = twoDigits(text, 5);
      const day = twoDigits(text, 8);
      const hh = twoDigits(text, 11);
      const mi = twoDigits(text, 14);
      const ss = twoDigits(text, 17);
      if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 60) return -1;
      let p = 19;
      let nsec = 0;
      let precise = false;
      if (text.charCodeAt(p) === 46 /* . */) {
        p++;
        let digits = 0;
        for (let c = text.charCodeAt(p); c >= 48 && c <= 57; c = text.charCodeAt(++p)) {
          if (digits < 9) nsec = nsec * 10 + (c - 48);
          digits++;
        }
        if (digits === 0) return -1;
        for (let k = digits; k < 9; k++) nsec *= 10;
        precise = true;
      }
      p = readZone(text, p, ZONE);
      if (p < 0) return -1;
      const zoned = !Number.isNaN(ZONE.sec);
      const off = zoned ? ZONE.sec : 0;
      if (text.charCodeAt(p) !== 32) return -1;
      const key = (((year * 13 + month) * 32 + day) * 1440 + hh * 60 + mi) * 2 + (zoned ? 1 : 0);
      if (key !== this.minuteKey || (zoned && off !== this.minuteOff)) {
        this.minuteKey = key;
        this.minuteOff = off;
        this.minuteUtc = zoned ? Date.UTC(year, month - 1, day, hh, mi, 0) / 1000 - off : this.ctx.toUtc(year, month, day, hh, mi, 0);
      }
      this.tSec = this.minuteUtc + ss;
      this.tNsec = nsec;
      this.tPrecise = precise;
      return p + 1;
    }
    return -1;
  }
  private minuteOff = 0;
  private lastStamp = ''; // the last syslog time ("Jun 19 21:30:43 ") and its seconds
  private lastStampSec = 0;
  private lastClient = '';
  private lastClientVersion = 0;

  // The year of a syslog line (no year in it): see the header.
  private yearOf(month: number): number {
    if (this.year < 0) {
      this.year = month > this.ctx.fileMonth ? this.ctx.fileYear - 1 : this.ctx.fileYear;
      this.prevMonth = month;
    } else if (month < this.prevMonth - 6) {
      this.year++; // December -> January
      this.prevMonth = month;
    } else if (month > this.prevMonth + 6) {
      return this.year - 1; // a late line from before New Year
    } else if (month > this.prevMonth) this.prevMonth = month;
    return this.year;
  }

  // ------------------------------------------------------------------------ dest

  // What text[ds, de) is -> dKind, dType, dRcode.
  private classify(text: string, ds: number, de: number, special: boolean): void {
    const c = text.charCodeAt(ds);
    const len = de - ds;
    this.dType = 0;
    this.dRcode = 0;
    if (c === 60 /* < */ && text.charCodeAt(de - 1) === 62) {
      this.dKind = D_PLACEHOLDER;
      if (len === 7 && text.startsWith('<CNAME>', ds)) this.dType = 5;
      else if (text.startsWith('<type=', ds)) this.dType = Number(text.slice(ds + 6, de - 1)) || 0;
      else {
        const t = text.slice(ds + 1, de - 1);
        this.dType = typeFromName(t) ?? typeFromName(t.replace('_', '-')) ?? 0; // dnsmasq's NSAP_PTR
      }
      return;
    }
    if (c === 78 /* N */) {
      if (len === 8 && text.startsWith('NXDOMAIN', ds)) {
        this.dKind = D_NEG;
        this.dRcode = 3;
        return;
      }
      if (text.startsWith('NODATA', ds)) {
        if (len === 6) {
          this.dKind = D_NEG;
          return;
        }
        if (len === 11 && text.startsWith('-IPv4', ds + 6)) {
          this.dKind = D_NEG;
          this.dType = 1;
          return;
        }
        if (len === 11 && text.startsWith('-IPv6', ds + 6)) {
          this.dKind = D_NEG;
          this.dType = 28;
          return;
        }
      }
    }
    if (len === 8 && text.startsWith('SERVFAIL', ds)) {
      this.dKind = D_RCODE;
      this.dRcode = 2;
      return;
    }
    if (len === 7 && text.startsWith('REFUSED', ds)) {
      this.dKind = D_RCODE;
      this.dRcode = 5;
      return;
    }
    if (special) {
      if (len === 15 && text.startsWith('not implemented', ds)) {
        this.dKind = D_RCODE;
        this.dRcode = 4;
        return;
      }
      if (len === 9 && text.startsWith('truncated', ds)) {
        this.dKind = D_TRUNC;
        return;
      }
      if (len === 9 && text.startsWith('duplicate', ds)) {
        this.dKind = D_DUP;
        return;
      }
      if (c >= 48 && c <= 57 && len <= 4) {
        this.dKind = D_RCODE;
        this.dRcode = Number(text.slice(ds, de));
        return;
      }
    }
    if (len === 31 && text.startsWith('blocked during CNAME inspection', ds)) {
      this.dKind = D_CNAME_BLOCK;
      return;
    }
    const a = addressKind(text, ds, de);
    this.dKind = a === 4 ? D_ADDR4 : a === 6 ? D_ADDR6 : D_TEXT;
  }
}

// ------------------------------------------------------------------------------ helpers

// Without serials: the held query a run of this class and type hint answers.
function pick(first: Held | undefined, hint: number, cls: number): Held | null {
  if (!first) return null;
  if (cls === L) {
    for (let h = first.tail; h; h = h.older) if (fits(h.ev.qtype, hint)) return h;
    return null;
  }
  let any: Held | null = null;
  for (let h: Held | null = first; h; h = h.newer) {
    if (!fits(h.ev.qtype, hint)) continue;
    if (h.forwarded) return h;
    if (!any) any = h;
  }
  return any;
}

// A run of cached CNAMEs only, the last one's target not in the cache.
const isProbe = (g: Group): boolean => g.cls === L && g.pendingCname !== null && (g.lastSrc === S_CACHED || g.lastSrc === S_STALE);

const fits = (qtype: number, hint: number): boolean => hint === 0 || qtype === hint || qtype === 255;

function addBounded<T>(set: Set<T>, v: T): void {
  if (set.size >= 1024) set.clear();
  set.add(v);
}

function looksLikeDnsmasq(text: string): boolean {
  return text.includes('dnsmasq') || text.includes('pihole-FTL');
}

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);

// Two decimal digits at i, or -1.
const TYPE_CACHE = new Map<string, number>();

// The type in "query[TYPE]": a mnemonic or "type=N".
function typeOf(text: string, p: number, e: number): number {
  const len = e - p;
  if (len === 1 && text.charCodeAt(p) === 65) return 1;
  if (len === 4 && text.startsWith('AAAA', p)) return 28;
  const s = text.slice(p, e);
  let t = TYPE_CACHE.get(s);
  if (t === undefined) {
    t = s.startsWith('type=') ? Number(s.slice(5)) : typeFromName(s) ?? -1;
    if (!Number.isInteger(t) || t > 65535) t = -1;
    if (TYPE_CACHE.size < 1000) TYPE_CACHE.set(s, t);
  }
  return t;
}

function ipVersionOf(ip: string): number {
  if (ip === '') return 0;
  return ip.includes(':') ? 6 : 4;
}

// Names are lower case in events (docs/event.md); the log keeps the case asked. (V8's own
// toLowerCase is faster than a scan for capitals in JS.)
const lowerName = (s: string): string => s.toLowerCase();

// 4 for an IPv4 address, 6 for IPv6, 0 for anything else.
function addressKind(text: string, s: number, e: number): number {
  let dots = 0;
  let colons = 0;
  let digits = 0;
  let hexLetters = 0;
  for (let i = s; i < e; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
    else if (c === 46) dots++;
    else if (c === 58) colons++;
    else if ((c >= 97 && c <= 102) || (c >= 65 && c <= 70)) hexLetters++;
    else return 0;
  }
  if (colons >= 2) return 6;
  if (colons === 0 && hexLetters === 0 && dots === 3 && digits >= 4 && digits <= 12) return 4;
  return 0;
}

function isIpLiteral(text: string, s: number, e: number): boolean {
  return addressKind(text, s, e) !== 0;
}

function isNullAddress(text: string, s: number, e: number): boolean {
  const len = e - s;
  return (len === 7 && text.startsWith('0.0.0.0', s)) || (len === 2 && text.startsWith('::', s));
}

// dnsmasq's validation notes under "reply": keys and DS records it fetched, or their absence.
function isDnssecNote(text: string, ds: number): boolean {
  return text.startsWith('DNSKEY keytag ', ds) || text.startsWith('DS keytag ', ds) || text.startsWith('DS for keytag ', ds) || text.startsWith('BOGUS DS', ds) || text.startsWith('BOGUS DNSKEY', ds) || text.startsWith('no DS', ds);
}

// Pi-hole before v5 logged answers from its lists as hosts files.
function piholeListBlocks(text: string, s: number, e: number): boolean {
  if (!text.startsWith('/etc/pihole/', s)) return false;
  const f = text.slice(s + 12, e);
  return f === 'gravity.list' || f === 'black.list' || f === 'blacklist.txt' || f === 'regex.list';
}

// A TXT string in presentation form (dig's): in quotes, with " and \ escaped.
function quoteTxt(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 92) {
      needs = true;
      break;
    }
  }
  return '"' + (needs ? s.replace(/["\\]/g, '\\$&') : s) + '"';
}

/** The reverse-lookup name of an address: 192.0.2.1 -> 1.2.0.192.in-addr.arpa, and the ip6.arpa
 *  nibble form for IPv6; "" when it is not an address. */
export function arpaName(ip: string): string {
  if (!ip.includes(':')) {
    const parts = ip.split('.');
    if (parts.length !== 4 || parts.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return '';
    return `${parts.reverse().map(Number).join('.')}.in-addr.arpa`;
  }
  let head = ip;
  let tail = '';
  const dc = ip.indexOf('::');
  if (dc >= 0) {
    head = ip.slice(0, dc);
    tail = ip.slice(dc + 2);
  }
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (g.includes('.')) {
        const v4 = g.split('.').map(Number);
        if (v4.length !== 4 || v4.some((x) => !(x >= 0 && x <= 255))) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
        out.push(parseInt(g, 16));
      }
    }
    return out;
  };
  const h = groups(head);
  const t = groups(tail);
  if (!h || !t) return '';
  const fill = 8 - h.length - t.length;
  if (dc >= 0 ? fill < 1 : fill !== 0) return '';
  const all = [...h, ...new Array<number>(fill).fill(0), ...t];
  const nibbles: string[] = [];
  for (let i = all.length - 1; i >= 0; i--) for (let k = 0; k < 4; k++) nibbles.push(((all[i] >> (4 * k)) & 15).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}
