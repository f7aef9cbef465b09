// OCSF 1.1.0 "DNS Activity" (class 4003, category 4 Network Activity), one object per event.
// Attribute names and enum captions follow the OCSF schema (events/network/dns_activity.json,
// objects dns_query / dns_answer / network_endpoint / network_connection_info).
import type { DnsEvent, Transport } from '../../event.js';
import { className, opcodeName, typeName } from '../../dnsnames.js';
import { oneLineJson } from './json.js';

export const OCSF_VERSION = '1.1.0';

// OCSF's own captions for rcode_id (they differ from the IANA/dig mnemonics: "NXDomain").
const RCODE_CAPTIONS: Readonly<Record<number, string>> = {
  0: 'NoError', 1: 'FormError', 2: 'ServError', 3: 'NXDomain', 4: 'NotImp', 5: 'Refused',
  6: 'YXDomain', 7: 'YXRRSet', 8: 'NXRRSet', 9: 'NotAuth', 10: 'NotZone', 11: 'DSOTYPENI',
  16: 'BADVERS', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG',
  22: 'BADTRUNC', 23: 'BADCOOKIE', 24: 'Unassigned', 25: 'Reserved',
};

/** OCSF rcode_id: the rcode itself when assigned, else 24 Unassigned or 25 Reserved (RFC 6895). */
export function ocsfRcodeId(rcode: number): number {
  if (RCODE_CAPTIONS[rcode] !== undefined && rcode < 24) return rcode;
  return (rcode >= 3841 && rcode <= 4095) || rcode === 65535 ? 25 : 24;
}

// IP protocol for connection_info; DNSCrypt may use either, so only its name is given.
const PROTOCOL: Record<Transport, readonly [string, number | undefined]> = {
  udp: ['udp', 17], tcp: ['tcp', 6], dot: ['tcp', 6], doh: ['tcp', 6], doq: ['udp', 17], dnscrypt: ['dnscrypt', undefined],
};

function endpoint(ip: string, port: number): Record<string, string | number> {
  const e: Record<string, string | number> = {};
  if (ip !== '') e.ip = ip;
  if (port > 0) e.port = port;
  return e;
}

export function formatOcsf(ev: DnsEvent): string {
  const activity = ev.qr ? 2 : 1;
  const activityName = ev.qr ? 'Response' : 'Query';
  const [protoName, protoNum] = PROTOCOL[ev.transport] ?? [ev.transport, undefined];
  const out: Record<string, unknown> = {
    activity_id: activity,
    activity_name: activityName,
    category_uid: 4,
    category_name: 'Network Activity',
    class_uid: 4003,
    class_name: 'DNS Activity',
    type_uid: 4003 * 100 + activity,
    type_name: `DNS Activity: ${activityName}`,
    severity_id: 1,
    severity: 'Informational',
    time: ev.timeSec * 1000 + Math.floor(ev.timeNsec / 1e6),
    metadata: { version: OCSF_VERSION, product: { name: 'dnslens', vendor_name: 'dnslens' } },
    src_endpoint: endpoint(ev.srcIp, ev.srcPort),
    dst_endpoint: endpoint(ev.dstIp, ev.dstPort),
    connection_info: {
      protocol_name: protoName,
      ...(protoNum === undefined ? {} : { protocol_num: protoNum }),
      ...(ev.ipVersion === 4 || ev.ipVersion === 6 ? { protocol_ver_id: ev.ipVersion } : {}),
      // A passive capture cannot tell which side is "ours".
      direction_id: 0,
      direction: 'Unknown',
    },
  };
  if (ev.qname !== '') {
    const opcodeId = ev.opcode <= 6 ? ev.opcode : 99;
    out.query = {
      hostname: ev.qname,
      type: typeName(ev.qtype),
      class: className(ev.qclass),
      opcode_id: opcodeId,
      ...(opcodeId === 99 ? { opcode: opcodeName(ev.opcode) } : {}),
      packet_uid: ev.id,
    };
  }
  if (ev.qr) {
    const id = ocsfRcodeId(ev.rcode);
    out.rcode_id = id;
    out.rcode = RCODE_CAPTIONS[id];
    out.answers = ev.answers.map((a) => ({
      rdata: a.data,
      type: typeName(a.type),
      class: className(a.class),
      ttl: a.ttl,
      packet_uid: ev.id,
    }));
  }
  return oneLineJson(JSON.stringify(out));
}
