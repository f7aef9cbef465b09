// tshark as the oracle: what Wireshark's DNS dissector reports for every DNS message in a
// capture, parsed into typed records that tests compare with dnslens events field by field.
//
// tshark's JSON tree is read rather than `-T fields`: a flat field list cannot be split per
// record reliably (dns.resp.type repeats for every type in an NSEC bitmap, TXT strings and
// names may contain any aggregator character), while the tree keeps each record apart.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TsharkAnswer {
  name: string; // owner, lower-cased, "." for the root
  type: number;
  class: number;
  ttl: number;
  // Text for A, AAAA, CNAME, MX, TXT, PTR and SRV as DnsAnswer.data has it (dig style, names
  // lower-cased without the trailing dot); null for other types.
  data: string | null;
}

export interface TsharkMsg {
  frame: number; // frame.number, 1-based
  index: number; // message index within the frame (several on TCP)
  timeSec: number;
  timeNsec: number;
  frameLen: number; // frame.len
  ipVersion: 4 | 6;
  srcIp: string; // outer IP header
  dstIp: string;
  transport: 'udp' | 'tcp';
  srcPort: number;
  dstPort: number;
  icmpQuoted: boolean; // the DNS message sits inside an ICMP error (ports are the quoted ones)
  malformed: boolean; // tshark flagged the frame, or fewer records than the header counts
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number; // header rcode plus the EDNS extended bits
  qnameRaw: string; // as tshark prints it ("<Root>" for the root)
  qname: string; // ASCII lower-cased, "." for the root; "" without a question
  // tshark prints label bytes as text: outside printable ASCII (or with "\" or a dot inside
  // a label) the name cannot be mapped back to bytes, so it cannot be compared exactly.
  qnameLossy: boolean;
  qtype: number;
  qclass: number;
  qdCount: number;
  anCount: number;
  nsCount: number;
  arCount: number;
  answers: TsharkAnswer[]; // answer section only, in wire order
  ednsPresent: boolean;
  ednsUdpSize: number;
  ednsDo: boolean;
  ednsClientSubnet: string; // "192.0.2.0/24", "" when absent
  size: number; // DNS message bytes: UDP payload length, or the TCP length prefix
}

// tshark JSON: a key repeated in one object (--no-duplicate-keys) becomes an array.
type Json = string | JsonObj | Json[];
interface JsonObj {
  [k: string]: Json;
}

/** tshark arguments that dissect the given ports as DNS (UDP and TCP). */
export function dnsPortArgs(ports: Iterable<number>): string[] {
  const out: string[] = [];
  for (const p of ports) out.push('-d', `udp.port==${p},dns`, '-d', `tcp.port==${p},dns`);
  return out;
}

/**
 * Every DNS message tshark finds in `file`, one record per message, in frame order.
 * `extraArgs` are passed to tshark as they are, e.g. dnsPortArgs([5353]) or ['-o', 'pref:value'].
 */
export async function tsharkDns(file: string, extraArgs: string[] = []): Promise<TsharkMsg[]> {
  const args = ['-r', file, '-n', '-o', 'nameres.dns_pkt_addr_resolution:FALSE', ...extraArgs, '-Y', 'dns'];
  args.push('-T', 'json', '--no-duplicate-keys', '-J', 'frame ip ipv6 icmp icmpv6 udp tcp dns');
  const { stdout } = await run('tshark', args, { maxBuffer: 1024 * 1024 * 1024, timeout: 300_000, encoding: 'utf8' });
  const packets = JSON.parse(stdout === '' ? '[]' : stdout) as { _source: { layers: JsonObj } }[];
  const out: TsharkMsg[] = [];
  for (const p of packets) parseFrame(p._source.layers, out);
  return out;
}

/** tshark prints names as sent and the root as "<Root>"; events use lower case and ".". */
export function normName(name: string): string {
  return name === '<Root>' || name === '' ? '.' : name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** dig-style TXT string: quoted, with " and \ escaped and other unprintable bytes as \DDD. */
export function txtString(s: string): string {
  let r = '"';
  for (const ch of Buffer.from(s, 'utf8')) {
    if (ch === 0x22 || ch === 0x5c) r += '\\' + String.fromCharCode(ch);
    else if (ch < 0x20 || ch > 0x7e) r += '\\' + String(ch).padStart(3, '0');
    else r += String.fromCharCode(ch);
  }
  return r + '"';
}

function list(v: Json | undefined): Json[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function obj(v: Json | undefined): JsonObj | undefined {
  const first = list(v)[0];
  return first !== undefined && typeof first === 'object' && !Array.isArray(first) ? first : undefined;
}

function str(o: JsonObj | undefined, key: string): string | undefined {
  const first = list(o?.[key])[0];
  return typeof first === 'string' ? first : undefined;
}

function num(o: JsonObj | undefined, key: string, where: string): number {
  const s = str(o, key);
  const v = s === undefined ? NaN : Number(s);
  if (!Number.isFinite(v)) throw new Error(`tshark ${where}: ${key} missing or not a number (${s})`);
  return v;
}

// Records of one section ("Queries", "Answers", ...), in order. Identical summary keys are
// merged into one array by tshark; records sharing a key are the same RRset, so order holds.
function records(dns: JsonObj, section: string): JsonObj[] {
  const sec = obj(dns[section]);
  if (!sec) return [];
  const out: JsonObj[] = [];
  for (const v of Object.values(sec)) for (const r of list(v)) if (typeof r === 'object' && !Array.isArray(r)) out.push(r);
  return out;
}

function parseFrame(layers: JsonObj, out: TsharkMsg[]): void {
  const f = obj(layers.frame);
  const frame = num(f, 'frame.number', 'frame');
  const where = `frame ${frame}`;
  const [secStr, fracStr = ''] = (str(f, 'frame.time_epoch') ?? '0').split('.');
  const ip4 = obj(layers.ip);
  const ip6 = obj(layers.ipv6);
  // With both present the first layer in the frame is the outer one.
  const v6 = !ip4 || (ip6 !== undefined && Object.keys(layers).indexOf('ipv6') < Object.keys(layers).indexOf('ip'));
  const ip = v6 ? ip6 : ip4;
  const udp = obj(layers.udp);
  const tcp = obj(layers.tcp);
  const isTcp = !udp;
  const l4 = isTcp ? tcp : udp;
  const proto = isTcp ? 'tcp' : 'udp';
  const base = {
    frame,
    timeSec: Number(secStr),
    timeNsec: Number(fracStr.padEnd(9, '0').slice(0, 9)),
    frameLen: num(f, 'frame.len', where),
    ipVersion: (v6 ? 6 : 4) as 4 | 6,
    srcIp: str(ip, v6 ? 'ipv6.src' : 'ip.src') ?? '',
    dstIp: str(ip, v6 ? 'ipv6.dst' : 'ip.dst') ?? '',
    transport: proto as 'udp' | 'tcp',
    srcPort: num(l4, `${proto}.srcport`, where),
    dstPort: num(l4, `${proto}.dstport`, where),
    icmpQuoted: 'icmp' in layers || 'icmpv6' in layers,
  };
  const frameMalformed = Object.keys(layers).some((k) => k.startsWith('_ws.malformed'));
  const msgs = list(layers.dns).filter((m): m is JsonObj => typeof m === 'object' && !Array.isArray(m));
  msgs.forEach((dns, index) => {
    const size = isTcp ? num(dns, 'dns.length', where) : num(udp, 'udp.length', where) - 8;
    out.push({ ...base, ...parseMessage(dns, `${where} message ${index}`, frameMalformed), index, size });
  });
}

type MessagePart = Omit<TsharkMsg, 'frame' | 'index' | 'timeSec' | 'timeNsec' | 'frameLen' | 'ipVersion' | 'srcIp' | 'dstIp' | 'transport' | 'srcPort' | 'dstPort' | 'icmpQuoted' | 'size'>;

function parseMessage(dns: JsonObj, where: string, frameMalformed: boolean): MessagePart {
  const flags = num(dns, 'dns.flags', where);
  const ft = obj(dns['dns.flags_tree']);
  // The raw flags carry every bit; tshark shows some flag fields for responses only.
  const bit = (mask: number): boolean => (flags & mask) !== 0;
  const named: [string, number][] = [
    ['dns.flags.response', (flags >> 15) & 1],
    ['dns.flags.opcode', (flags >> 11) & 0xf],
    ['dns.flags.authoritative', (flags >> 10) & 1],
    ['dns.flags.truncated', (flags >> 9) & 1],
    ['dns.flags.recdesired', (flags >> 8) & 1],
    ['dns.flags.recavail', (flags >> 7) & 1],
    ['dns.flags.authenticated', (flags >> 5) & 1],
    ['dns.flags.checkdisable', (flags >> 4) & 1],
    ['dns.flags.rcode', flags & 0xf],
  ];
  for (const [k, want] of named) {
    const got = str(ft, k);
    if (got !== undefined && Number(got) !== want) throw new Error(`tshark ${where}: ${k}=${got} but flags are 0x${flags.toString(16)}`);
  }

  const qdCount = num(dns, 'dns.count.queries', where);
  const anCount = num(dns, 'dns.count.answers', where);
  const nsCount = num(dns, 'dns.count.auth_rr', where);
  const arCount = num(dns, 'dns.count.add_rr', where);
  const queries = records(dns, 'Queries');
  const an = records(dns, 'Answers');
  const ns = records(dns, 'Authoritative nameservers');
  const ar = records(dns, 'Additional records');
  const q = queries[0];
  const qnameRaw = q ? (str(q, 'dns.qry.name') ?? '') : '';

  let rcode = flags & 0xf;
  let ednsPresent = false;
  let ednsUdpSize = 0;
  let ednsDo = false;
  let ednsClientSubnet = '';
  for (const rr of ar) {
    if (num(rr, 'dns.resp.type', where) !== 41) continue;
    ednsPresent = true;
    ednsUdpSize = num(rr, 'dns.rr.udp_payload_size', where);
    rcode |= num(rr, 'dns.resp.ext_rcode', where) << 4;
    ednsDo = str(obj(rr['dns.resp.z_tree']), 'dns.resp.z.do') === '1';
    for (const opt of list(rr['dns.opt'])) {
      if (typeof opt !== 'object' || Array.isArray(opt) || str(opt, 'dns.opt.code') !== '8') continue;
      const mask = str(opt, 'dns.opt.client.netmask');
      const addr = str(opt, 'dns.opt.client.addr4') ?? str(opt, 'dns.opt.client.addr6');
      if (mask !== undefined && addr !== undefined) ednsClientSubnet = `${addr}/${mask}`;
    }
  }

  return {
    malformed: frameMalformed || queries.length !== qdCount || an.length !== anCount || ns.length !== nsCount || ar.length !== arCount,
    id: num(dns, 'dns.id', where),
    qr: bit(0x8000),
    opcode: (flags >> 11) & 0xf,
    aa: bit(0x0400),
    tc: bit(0x0200),
    rd: bit(0x0100),
    ra: bit(0x0080),
    ad: bit(0x0020),
    cd: bit(0x0010),
    rcode,
    qnameRaw,
    qname: q ? normName(qnameRaw) : '',
    qnameLossy: q !== undefined && qnameRaw !== '<Root>' && /[^\x21-\x5b\x5d-\x7e]/.test(qnameRaw),
    qtype: q ? num(q, 'dns.qry.type', where) : 0,
    qclass: q ? num(q, 'dns.qry.class', where) : 0,
    qdCount,
    anCount,
    nsCount,
    arCount,
    answers: an.map((rr) => answer(rr, where)),
    ednsPresent,
    ednsUdpSize,
    ednsDo,
    ednsClientSubnet,
  };
}

function answer(rr: JsonObj, where: string): TsharkAnswer {
  const type = num(rr, 'dns.resp.type', where); // the first one: NSEC bitmaps repeat the key
  return {
    name: normName(ownerName(rr)),
    type,
    class: num(rr, 'dns.resp.class', where),
    ttl: num(rr, 'dns.resp.ttl', where),
    data: rdata(rr, type),
  };
}

// SRV owners "_service._proto.name" come split into three fields instead of dns.resp.name.
function ownerName(rr: JsonObj): string {
  const name = str(rr, 'dns.resp.name');
  if (name !== undefined) return name;
  const parts = ['dns.srv.service', 'dns.srv.proto', 'dns.srv.name'].map((k) => str(rr, k)).filter((p) => p !== undefined && p !== '<Root>');
  return parts.join('.');
}

// Rdata as DnsAnswer.data shows it, for the types the comparison covers.
function rdata(rr: JsonObj, type: number): string | null {
  switch (type) {
    case 1:
      return str(rr, 'dns.a') ?? null;
    case 28:
      return str(rr, 'dns.aaaa') ?? null;
    case 5:
      return fqdn(str(rr, 'dns.cname'));
    case 12:
      return fqdn(str(rr, 'dns.ptr.domain_name'));
    case 15: {
      const pref = str(rr, 'dns.mx.preference');
      const host = fqdn(str(rr, 'dns.mx.mail_exchange'));
      return pref === undefined || host === null ? null : `${pref} ${host}`;
    }
    case 33: {
      const [pri, weight, port] = ['dns.srv.priority', 'dns.srv.weight', 'dns.srv.port'].map((k) => str(rr, k));
      const target = fqdn(str(rr, 'dns.srv.target'));
      return pri === undefined || weight === undefined || port === undefined || target === null ? null : `${pri} ${weight} ${port} ${target}`;
    }
    case 16: {
      // One text field per string, empty strings included.
      const parts = list(rr['dns.txt']).map((s) => txtString(typeof s === 'string' ? s : ''));
      return parts.join(' ');
    }
    default:
      return null;
  }
}

// A name inside rdata: the same convention as owner names.
function fqdn(name: string | undefined): string | null {
  return name === undefined ? null : normName(name);
}
