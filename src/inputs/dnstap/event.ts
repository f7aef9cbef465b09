// A dnstap Message as a DnsEvent: the wire DNS message through the packet decoder, the rest from
// the dnstap fields. Every frame ends in one Stats bucket: dnsMessages, malformed or unsupported.
import { newEvent, type DnsEvent, type Transport } from '../../event.js';
import { decodeCounted } from '../../decode/dns.js';
import { ipv4Text, ipv6TextCached } from '../../addr.js';
import type { Stats } from '../../stats.js';
import { DnstapFields, parseDnstap } from './protobuf.js';

export const MESSAGE_TYPES = [
  '',
  'AUTH_QUERY',
  'AUTH_RESPONSE',
  'RESOLVER_QUERY',
  'RESOLVER_RESPONSE',
  'CLIENT_QUERY',
  'CLIENT_RESPONSE',
  'FORWARDER_QUERY',
  'FORWARDER_RESPONSE',
  'STUB_QUERY',
  'STUB_RESPONSE',
  'TOOL_QUERY',
  'TOOL_RESPONSE',
  'UPDATE_QUERY',
  'UPDATE_RESPONSE',
] as const;

// SocketProtocol -> transport; DNSCrypt over UDP and over TCP are both 'dnscrypt'.
const TRANSPORTS: readonly Transport[] = ['udp', 'udp', 'tcp', 'dot', 'doh', 'dnscrypt', 'dnscrypt', 'doq'];

export interface DnstapEventOptions {
  server: string; // --serverName
  useIdentity: boolean; // --useDnstapIdentity: the producer's identity, when it sends one, is the server
  inputName: string;
}

/** Turns Dnstap frames into events; keeps the parse scratch and the last identity text. */
export class DnstapDecoder {
  private readonly fields = new DnstapFields();
  private identityBytes: Uint8Array = new Uint8Array(0);
  private identityText = '';

  constructor(
    private readonly stats: Stats,
    private readonly opts: DnstapEventOptions,
  ) {}

  /** Decodes the frame buf[start, end), counting it; pushes the event when there is one. */
  decode(buf: Uint8Array, start: number, end: number, out: DnsEvent[]): void {
    const { stats } = this;
    stats.packets++;
    stats.bytes += end - start;
    const f = this.fields;
    const bad = parseDnstap(buf, start, end, f);
    if (bad !== null) {
      stats.malformedAs(bad);
      return;
    }
    if (f.dnstapType !== 1 || !f.hasMessage) {
      stats.unsupported('dnstap:not-a-message'); // a payload type other than MESSAGE (none defined yet)
      return;
    }
    if (f.type < 1 || f.type > 14) {
      stats.unsupported('dnstap:unknown-message-type');
      return;
    }
    if (f.queryPort > 0xffff || f.responsePort > 0xffff) {
      stats.malformedAs('dnstap:bad-port'); // a uint32 on the wire, but a port is 16 bits
      return;
    }
    const response = (f.type & 1) === 0; // *_QUERY types are odd, *_RESPONSE even
    const msgStart = response ? f.responseMessageStart : f.queryMessageStart;
    const msgEnd = response ? f.responseMessageEnd : f.queryMessageEnd;
    if (msgStart < 0) {
      // Valid dnstap (producers may leave the wire message out), but no DNS message to report.
      stats.unsupported('dnstap:no-dns-message');
      return;
    }
    const ev = newEvent();
    if (!decodeCounted(ev, buf, msgStart, msgEnd, stats)) return;
    ev.qr = response;
    ev.messageType = MESSAGE_TYPES[f.type];
    ev.transport = TRANSPORTS[f.protocol] ?? 'udp';
    ev.inputKind = 'dnstap';
    ev.inputName = this.opts.inputName;
    ev.server = this.server(f);
    // The query flows initiator -> responder, the response back.
    const qa = this.address(f.queryAddressStart, f.queryAddressEnd);
    const ra = this.address(f.responseAddressStart, f.responseAddressEnd);
    ev.ipVersion = f.family === 1 ? 4 : f.family === 2 ? 6 : addressVersion(f);
    if (response) {
      ev.srcIp = ra;
      ev.dstIp = qa;
      ev.srcPort = f.responsePort;
      ev.dstPort = f.queryPort;
    } else {
      ev.srcIp = qa;
      ev.dstIp = ra;
      ev.srcPort = f.queryPort;
      ev.dstPort = f.responsePort;
    }
    if (response && f.hasResponseTime) {
      ev.timeSec = f.responseTimeSec;
      ev.timeNsec = f.responseTimeNsec;
      if (f.hasQueryTime) {
        const us = Math.round(((f.responseTimeSec - f.queryTimeSec) * 1e9 + (f.responseTimeNsec - f.queryTimeNsec)) / 1000);
        if (us >= 0) ev.responseTimeUs = us;
      }
    } else if (f.hasQueryTime) {
      ev.timeSec = f.queryTimeSec;
      ev.timeNsec = f.queryTimeNsec;
    } else if (f.hasResponseTime) {
      ev.timeSec = f.responseTimeSec;
      ev.timeNsec = f.responseTimeNsec;
    } else {
      // No time in the message: the time it reached us is the best there is.
      const now = Date.now();
      ev.timeSec = Math.floor(now / 1000);
      ev.timeNsec = (now % 1000) * 1e6;
    }
    if (ev.timeNsec > 999_999_999) ev.timeNsec = 999_999_999; // a producer bug must not make an invalid time
    out.push(ev);
  }

  private address(start: number, end: number): string {
    const b = this.fields.buf;
    if (end - start === 4) return ipv4Text(b, start);
    if (end - start === 16) return ipv6TextCached(b, start);
    return '';
  }

  private server(f: DnstapFields): string {
    if (!this.opts.useIdentity || f.identityStart < 0 || f.identityEnd === f.identityStart) return this.opts.server;
    const b = f.buf;
    const n = f.identityEnd - f.identityStart;
    const last = this.identityBytes;
    let same = last.length === n;
    for (let i = 0; same && i < n; i++) same = last[i] === b[f.identityStart + i];
    if (!same) {
      this.identityBytes = b.slice(f.identityStart, f.identityEnd);
      this.identityText = Buffer.from(this.identityBytes).toString('utf8');
    }
    return this.identityText;
  }
}

function addressVersion(f: DnstapFields): number {
  const n = f.queryAddressStart >= 0 ? f.queryAddressEnd - f.queryAddressStart : f.responseAddressEnd - f.responseAddressStart;
  return n === 4 ? 4 : n === 16 ? 6 : 0;
}
