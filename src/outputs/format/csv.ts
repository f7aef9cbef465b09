// CSV lines (RFC 4180). dnsmonster's 22 columns come first, in its order, so its parsers keep
// working; IPs are text instead of dnsmonster's integers, Question follows our qname convention
// (no trailing dot). dnslens' own columns follow. docs/event.md lists them all.
import type { DnsEvent, Transport } from '../../event.js';
import { answersText, csvField, utcParts } from './text.js';

type Column = readonly [header: string, value: (ev: DnsEvent) => string];

const bit = (b: boolean): string => (b ? '1' : '0');

// IP protocol number, as dnsmonster's Protocol column; DNSCrypt may run over either, so 0.
const PROTOCOL: Record<Transport, string> = { udp: '17', tcp: '6', dot: '6', doh: '6', doq: '17', dnscrypt: '0' };

export const CSV_COLUMNS: readonly Column[] = [
  ['Year', (ev) => String(utcParts(ev)[0])],
  ['Month', (ev) => String(utcParts(ev)[1])],
  ['Day', (ev) => String(utcParts(ev)[2])],
  ['Hour', (ev) => String(utcParts(ev)[3])],
  ['Minute', (ev) => String(utcParts(ev)[4])],
  ['Second', (ev) => String(utcParts(ev)[5])],
  ['Ns', (ev) => String(ev.timeNsec)],
  ['Server', (ev) => csvField(ev.server)],
  ['IpVersion', (ev) => String(ev.ipVersion)],
  ['SrcIP', (ev) => csvField(ev.srcIp)],
  ['DstIP', (ev) => csvField(ev.dstIp)],
  ['Protocol', (ev) => PROTOCOL[ev.transport] ?? '0'],
  ['Qr', (ev) => bit(ev.qr)],
  ['OpCode', (ev) => String(ev.opcode)],
  ['Class', (ev) => String(ev.qclass)],
  ['Type', (ev) => String(ev.qtype)],
  ['ResponseCode', (ev) => String(ev.rcode)],
  ['Question', (ev) => csvField(ev.qname)],
  ['Size', (ev) => String(ev.size)],
  ['Edns0Present', (ev) => bit(ev.ednsPresent)],
  ['DoBit', (ev) => bit(ev.ednsDo)],
  ['Id', (ev) => String(ev.id)],
  // dnslens' own columns
  ['SrcPort', (ev) => String(ev.srcPort)],
  ['DstPort', (ev) => String(ev.dstPort)],
  ['Transport', (ev) => ev.transport],
  ['AA', (ev) => bit(ev.aa)],
  ['TC', (ev) => bit(ev.tc)],
  ['RD', (ev) => bit(ev.rd)],
  ['RA', (ev) => bit(ev.ra)],
  ['AD', (ev) => bit(ev.ad)],
  ['CD', (ev) => bit(ev.cd)],
  ['QdCount', (ev) => String(ev.qdCount)],
  ['AnCount', (ev) => String(ev.anCount)],
  ['NsCount', (ev) => String(ev.nsCount)],
  ['ArCount', (ev) => String(ev.arCount)],
  ['Answers', (ev) => csvField(answersText(ev.answers))],
  ['EdnsUdpSize', (ev) => String(ev.ednsUdpSize)],
  ['EdnsClientSubnet', (ev) => csvField(ev.ednsClientSubnet)],
  ['InputKind', (ev) => ev.inputKind],
  ['InputName', (ev) => csvField(ev.inputName)],
  ['ResponseTimeUs', (ev) => (ev.responseTimeUs === null ? '' : String(ev.responseTimeUs))],
  ['Unanswered', (ev) => bit(ev.unanswered)],
  ['ClientId', (ev) => csvField(ev.clientId)],
  ['MessageType', (ev) => ev.messageType],
];

export const CSV_HEADER = CSV_COLUMNS.map(([h]) => h).join(',');

const VALUES = CSV_COLUMNS.map(([, v]) => v);

export function formatCsv(ev: DnsEvent): string {
  let s = VALUES[0](ev);
  for (let i = 1; i < VALUES.length; i++) s += ',' + VALUES[i](ev);
  return s;
}
