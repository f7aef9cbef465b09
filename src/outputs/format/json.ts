// The dnslens JSON line: DnsEvent's fields in declaration order, with timeSec/timeNsec
// replaced by one "time" string (RFC 3339, nanoseconds). This is the hot path of
// `--stdoutOutputFormat=json`, so it is encoded straight into bytes: fixed parts are
// pre-encoded, numbers are written digit by digit, and only strings that need escaping
// go through JSON.stringify.
import type { DnsEvent, InputKind, Transport } from '../../event.js';
import { ascii, ByteWriter } from './bytes.js';
import { rfc3339Prefix } from './text.js';

// Anything JSON must escape, plus surrogates so lone halves become \udXXX, not U+FFFD.
const JSON_UNSAFE = /["\\\u0000-\u001f\ud800-\udfff]/;
// Valid in JSON but line breaks to some line readers (Python's splitlines, JS line splitting).
const HAS_LINE_BREAK = /[\u0085\u2028\u2029]/;
const LINE_BREAKS = /[\u0085\u2028\u2029]/g;
const escapeBreak = (c: string): string => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');

/** JSON text with those line breaks escaped too (they can only occur inside strings). */
export function oneLineJson(json: string): string {
  return HAS_LINE_BREAK.test(json) ? json.replace(LINE_BREAKS, escapeBreak) : json;
}

const QUOTE = 0x22;

function str(w: ByteWriter, s: string): void {
  const start = w.pos;
  w.byte(QUOTE);
  if (w.plain(s)) {
    w.byte(QUOTE);
  } else if (JSON_UNSAFE.test(s) || HAS_LINE_BREAK.test(s)) {
    w.pos = start;
    w.text(oneLineJson(JSON.stringify(s)));
  } else {
    w.text(s); // non-ASCII but nothing to escape
    w.byte(QUOTE);
  }
}

// Nanoseconds as exactly nine digits.
function nanos(w: ByteWriter, ns: number): void {
  if (ns >= 0 && ns <= 999_999_999 && (ns | 0) === ns) {
    w.reserve(9);
    const b = w.buf;
    let v = ns;
    for (let p = w.pos + 8; p >= w.pos; p--) {
      b[p] = 48 + (v % 10);
      v = (v / 10) | 0;
    }
    w.pos += 9;
  } else {
    w.text(String(ns).padStart(9, '0')); // out of range: shown as is, never dropped
  }
}

// The fixed text between values, pre-encoded. Booleans and the closed string sets are folded
// into the fixed text around them so that each event needs fewer, longer copies.
const TIME = ascii('{"time":"');
const SERVER = ascii('Z","server":');
const IP_VERSION = ascii(',"ipVersion":');
const SRC_IP = ascii(',"srcIp":');
const DST_IP = ascii(',"dstIp":');
const SRC_PORT = ascii(',"srcPort":');
const DST_PORT = ascii(',"dstPort":');
const TRANSPORT = ascii(',"transport":');
const ID = ascii(',"id":');
const TRANSPORT_ID = new Map(
  (['udp', 'tcp', 'dot', 'doh', 'doq', 'dnscrypt'] satisfies Transport[]).map((t) => [t, ascii(`,"transport":"${t}","id":`)]),
);
const QR_OPCODE = [false, true].map((b) => ascii(`,"qr":${b},"opcode":`));
// aa tc rd ra ad cd, indexed by those six bits, then the rcode key.
const FLAGS_RCODE = Array.from({ length: 64 }, (_, i) => {
  const f = (bit: number): boolean => (i & bit) !== 0;
  return ascii(`,"aa":${f(32)},"tc":${f(16)},"rd":${f(8)},"ra":${f(4)},"ad":${f(2)},"cd":${f(1)},"rcode":`);
});
const QNAME = ascii(',"qname":');
const QTYPE = ascii(',"qtype":');
const QCLASS = ascii(',"qclass":');
const QD = ascii(',"qdCount":');
const AN = ascii(',"anCount":');
const NS = ascii(',"nsCount":');
const AR = ascii(',"arCount":');
const ANSWERS = ascii(',"answers":');
const EMPTY_ANSWERS = ascii(',"answers":[]');
const EDNS_PRESENT_SIZE = [false, true].map((b) => ascii(`,"ednsPresent":${b},"ednsUdpSize":`));
const EDNS_DO_ECS = [false, true].map((b) => ascii(`,"ednsDo":${b},"ednsClientSubnet":`));
const SIZE = ascii(',"size":');
const INPUT_KIND = ascii(',"inputKind":');
const INPUT_NAME = ascii(',"inputName":');
const KIND_NAME = new Map(
  (['pcap', 'live', 'dnstap', 'log'] satisfies InputKind[]).map((k) => [k, ascii(`,"inputKind":"${k}","inputName":`)]),
);
const RESPONSE_TIME = ascii(',"responseTimeUs":');
const NULL = ascii('null');
const UNANSWERED = [false, true].map((b) => ascii(`,"unanswered":${b},"clientId":`));
const MESSAGE_TYPE = ascii(',"messageType":');
const RESOLUTION = ascii(',"resolution":');
const UPSTREAM = ascii(',"upstream":');
const EVENT_HASH = ascii(',"eventHash":');
const RAW_LINE = ascii(',"rawLine":');
const A_NAME_FIRST = ascii('[{"name":');
const A_NAME_NEXT = ascii('},{"name":');
const A_TYPE = ascii(',"type":');
const A_CLASS = ascii(',"class":');
const A_TTL = ascii(',"ttl":');
const A_DATA = ascii(',"data":');
const A_END = ascii('}]');

/** Append one event as its JSON text (no newline). */
export function encodeJson(w: ByteWriter, ev: DnsEvent): void {
  w.bytes(TIME);
  w.bytes(rfc3339Prefix(ev.timeSec));
  nanos(w, ev.timeNsec);
  w.bytes(SERVER);
  str(w, ev.server);
  w.bytes(IP_VERSION);
  w.num(ev.ipVersion);
  w.bytes(SRC_IP);
  str(w, ev.srcIp);
  w.bytes(DST_IP);
  str(w, ev.dstIp);
  w.bytes(SRC_PORT);
  w.num(ev.srcPort);
  w.bytes(DST_PORT);
  w.num(ev.dstPort);
  const transportId = TRANSPORT_ID.get(ev.transport);
  if (transportId) {
    w.bytes(transportId);
  } else {
    w.bytes(TRANSPORT);
    str(w, ev.transport);
    w.bytes(ID);
  }
  w.num(ev.id);
  w.bytes(QR_OPCODE[ev.qr ? 1 : 0]);
  w.num(ev.opcode);
  const flags =
    (ev.aa ? 32 : 0) | (ev.tc ? 16 : 0) | (ev.rd ? 8 : 0) | (ev.ra ? 4 : 0) | (ev.ad ? 2 : 0) | (ev.cd ? 1 : 0);
  w.bytes(FLAGS_RCODE[flags]);
  w.num(ev.rcode);
  w.bytes(QNAME);
  str(w, ev.qname);
  w.bytes(QTYPE);
  w.num(ev.qtype);
  w.bytes(QCLASS);
  w.num(ev.qclass);
  w.bytes(QD);
  w.num(ev.qdCount);
  w.bytes(AN);
  w.num(ev.anCount);
  w.bytes(NS);
  w.num(ev.nsCount);
  w.bytes(AR);
  w.num(ev.arCount);
  const answers = ev.answers;
  if (answers.length === 0) {
    w.bytes(EMPTY_ANSWERS);
  } else {
    w.bytes(ANSWERS);
    for (let i = 0; i < answers.length; i++) {
      const a = answers[i];
      w.bytes(i === 0 ? A_NAME_FIRST : A_NAME_NEXT);
      str(w, a.name);
      w.bytes(A_TYPE);
      w.num(a.type);
      w.bytes(A_CLASS);
      w.num(a.class);
      w.bytes(A_TTL);
      w.num(a.ttl);
      w.bytes(A_DATA);
      str(w, a.data);
    }
    w.bytes(A_END);
  }
  w.bytes(EDNS_PRESENT_SIZE[ev.ednsPresent ? 1 : 0]);
  w.num(ev.ednsUdpSize);
  w.bytes(EDNS_DO_ECS[ev.ednsDo ? 1 : 0]);
  str(w, ev.ednsClientSubnet);
  w.bytes(SIZE);
  w.num(ev.size);
  const kindName = KIND_NAME.get(ev.inputKind);
  if (kindName) {
    w.bytes(kindName);
  } else {
    w.bytes(INPUT_KIND);
    str(w, ev.inputKind);
    w.bytes(INPUT_NAME);
  }
  str(w, ev.inputName);
  w.bytes(RESPONSE_TIME);
  if (ev.responseTimeUs === null) w.bytes(NULL);
  else w.num(ev.responseTimeUs);
  w.bytes(UNANSWERED[ev.unanswered ? 1 : 0]);
  str(w, ev.clientId);
  w.bytes(MESSAGE_TYPE);
  str(w, ev.messageType);
  w.bytes(RESOLUTION);
  str(w, ev.resolution);
  w.bytes(UPSTREAM);
  str(w, ev.upstream);
  w.bytes(EVENT_HASH);
  str(w, ev.eventHash);
  w.bytes(RAW_LINE);
  str(w, ev.rawLine);
  w.byte(0x7d); // }
}

const scratch = new ByteWriter(4096);

/** One event as its JSON line (no newline). */
export function formatJson(ev: DnsEvent): string {
  scratch.pos = 0;
  encodeJson(scratch, ev);
  return scratch.buf.toString('utf8', 0, scratch.pos);
}
