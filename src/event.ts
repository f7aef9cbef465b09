// The one DNS event type. Every input produces it, every transform and output consumes it.
// Field names here are the stable JSON schema (docs/event.md).

export type Transport = 'udp' | 'tcp' | 'dot' | 'doh' | 'doq' | 'dnscrypt';
export type InputKind = 'pcap' | 'live' | 'dnstap' | 'log';

export interface DnsAnswer {
  name: string; // owner name, same convention as qname
  type: number;
  class: number;
  ttl: number;
  data: string; // rdata as presentation text (dig style)
}

export interface DnsEvent {
  timeSec: number; // capture time: whole seconds since the Unix epoch (UTC)
  timeNsec: number; // nanoseconds within that second
  server: string; // --serverName
  ipVersion: number; // 4, 6, or 0 when unknown (e.g. a log line)
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  transport: Transport;
  id: number;
  qr: boolean; // true for a response
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number; // 12-bit: header rcode plus the EDNS extended bits
  // Lower case ASCII, no trailing dot, "." for the root. Bytes outside
  // printable ASCII, and "." or "\" inside a label, are escaped as \DDD / \. / \\ (RFC 1035 §5.1).
  qname: string;
  qtype: number;
  qclass: number;
  qdCount: number;
  anCount: number;
  nsCount: number;
  arCount: number;
  answers: readonly DnsAnswer[]; // the answer section only (assign a new array; never push)
  ednsPresent: boolean;
  ednsUdpSize: number; // 0 without EDNS
  ednsDo: boolean;
  ednsClientSubnet: string; // "192.0.2.0/24", "" when absent
  size: number; // DNS message size in bytes
  inputKind: InputKind;
  inputName: string; // file path, interface or socket
  // Query/response matching: on a response, µs since its query; on a query that was answered, the
  // same figure; null when matching is off or no pair was seen.
  responseTimeUs: number | null;
  unanswered: boolean; // a query whose response did not come within --matchTimeout
  clientId: string; // keyed pseudonym of the client address (--clientIdKey), "" when off
  messageType: string; // dnstap message type (CLIENT_QUERY, RESOLVER_RESPONSE, ...), "" for packets
  // Resolver logs (inputKind 'log'); "" for packets and dnstap.
  resolution: Resolution; // how the resolver answered
  upstream: string; // the server a forwarded query went to ("192.0.2.1#53" as logged)
  eventHash: string; // stable identity of a log event: 16 hex digits of its source and line(s)
  rawLine: string; // the log line(s) it came from, with --keepRawLine
}

/** How a resolver answered, as its log says: from its cache (or a stale cache entry), by asking
 *  an upstream, from local data (configuration, /etc/hosts), or by blocking the name. */
export type Resolution = '' | 'cached' | 'stale' | 'forwarded' | 'local' | 'blocked';


// Shared by every event without answers (half of all messages are queries): one allocation less.
export const NO_ANSWERS: readonly DnsAnswer[] = Object.freeze([]);

/** A blank event with every field present, so all events share one shape. */
export function newEvent(): DnsEvent {
  return {
    timeSec: 0,
    timeNsec: 0,
    server: '',
    ipVersion: 0,
    srcIp: '',
    dstIp: '',
    srcPort: 0,
    dstPort: 0,
    transport: 'udp',
    id: 0,
    qr: false,
    opcode: 0,
    aa: false,
    tc: false,
    rd: false,
    ra: false,
    ad: false,
    cd: false,
    rcode: 0,
    qname: '',
    qtype: 0,
    qclass: 0,
    qdCount: 0,
    anCount: 0,
    nsCount: 0,
    arCount: 0,
    answers: NO_ANSWERS,
    ednsPresent: false,
    ednsUdpSize: 0,
    ednsDo: false,
    ednsClientSubnet: '',
    size: 0,
    inputKind: 'pcap',
    inputName: '',
    responseTimeUs: null,
    unanswered: false,
    clientId: '',
    messageType: '',
    resolution: '',
    upstream: '',
    eventHash: '',
    rawLine: '',
  };
}

/** RFC 3339 UTC time with nanoseconds, e.g. 2016-10-20T15:23:01.075993000Z. */
export function isoTime(ev: DnsEvent): string {
  const s = new Date(ev.timeSec * 1000).toISOString(); // ...:01.000Z
  return s.slice(0, 20) + String(ev.timeNsec).padStart(9, '0') + 'Z';
}
