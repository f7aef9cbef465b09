// DnsEvent -> ClickHouse Native blocks for DNS_LOG. Native is columnar: per column a name, a type
// and every row's value one after another. chdb parses it about five times cheaper than RowBinary,
// and here it is cheaper to write too: each fixed-width column is one typed array indexed by row,
// filled in one pass over the events; string columns are length-prefixed bytes in a buffer.
// The columns and their types are DNS_LOG_SCHEMA's (columns.ts); this module checks at load
// that it writes every one of them with that type.
//
// Wire layout (HTTP/file form, no BlockInfo): varint column count, varint row count, then per
// column: String name, String type, data. Data per type:
//   fixed width   rows × width bytes, little-endian
//   String        per row varint length + bytes
//   Array(T)      rows × UInt64 cumulative element counts, then the elements as a column of T
//   Nullable(T)   rows × UInt8 null map (1 = NULL), then T's data with a placeholder (0) for NULL
//   LowCardinality(String)  UInt64 version (1), UInt64 index width | flags, UInt64 key count,
//                 the keys (key 0 the default ''), UInt64 row count, rows × index

import { endianness } from 'node:os';
import type { DnsEvent } from '../../event.js';
import { DNS_LOG_SCHEMA, apexLengthOf, parseIpv4, parseIpv6 } from './columns.js';
import { formatJson } from '../format/json.js';

type Fixed = Uint8Array | Uint16Array | Uint32Array;
type FixedArray = new (n: number) => Fixed;

// The fixed-width DNS_LOG columns: the typed array each is kept in, and its elements per row
// (PacketTime, an Int64, is two UInt32 halves; an IPv6 address is its 16 bytes as 4 words).
const FIXED = {
  PacketTime: [Uint32Array, 2],
  IndexTime: [Uint32Array, 1],
  IPVersion: [Uint8Array, 1],
  ClientIPv4: [Uint32Array, 1],
  ClientIPv6: [Uint32Array, 4],
  ServerIPv4: [Uint32Array, 1],
  ServerIPv6: [Uint32Array, 4],
  ClientPort: [Uint16Array, 1],
  ServerPort: [Uint16Array, 1],
  QR: [Uint8Array, 1],
  OpCode: [Uint8Array, 1],
  Class: [Uint16Array, 1],
  Type: [Uint16Array, 1],
  Edns0Present: [Uint8Array, 1],
  DoBit: [Uint8Array, 1],
  ResponseCode: [Uint16Array, 1],
  Size: [Uint16Array, 1],
  ApexLength: [Uint16Array, 1],
  ID: [Uint16Array, 1],
  AA: [Uint8Array, 1],
  TC: [Uint8Array, 1],
  RD: [Uint8Array, 1],
  RA: [Uint8Array, 1],
  AD: [Uint8Array, 1],
  CD: [Uint8Array, 1],
  QdCount: [Uint16Array, 1],
  AnCount: [Uint16Array, 1],
  NsCount: [Uint16Array, 1],
  ArCount: [Uint16Array, 1],
  EdnsUdpSize: [Uint16Array, 1],
  Unanswered: [Uint8Array, 1],
} as const satisfies Record<string, readonly [FixedArray, number]>;
type FixedName = keyof typeof FIXED;
const FIXED_NAMES = Object.keys(FIXED) as FixedName[];
// Bytes per value of the fixed-width ClickHouse types, to check FIXED against DNS_LOG_SCHEMA.
const TYPE_WIDTH: Record<string, number> = { 'DateTime64(6)': 8, DateTime: 4, UInt8: 1, Bool: 1, UInt16: 2, UInt32: 4, IPv4: 4, IPv6: 16 };

// The other columns, with the type Block.data() writes them as.
const OTHER_TYPES: Record<string, string> = {
  Server: 'LowCardinality(String)',
  Protocol: 'LowCardinality(String)',
  InputKind: 'LowCardinality(String)',
  InputName: 'LowCardinality(String)',
  MessageType: 'LowCardinality(String)',
  Resolution: 'LowCardinality(String)',
  Upstream: 'LowCardinality(String)',
  EventHash: 'String',
  RawLine: 'String',
  Question: 'String',
  EdnsClientSubnet: 'String',
  ClientId: 'String',
  AnswerName: 'Array(String)',
  AnswerData: 'Array(String)',
  AnswerType: 'Array(UInt16)',
  AnswerClass: 'Array(UInt16)',
  AnswerTTL: 'Array(UInt32)',
  ResponseTimeUs: 'Nullable(UInt32)',
};

// The table's time columns are in UTC: naming the zone in the block spares the store a conversion.
function wireType(t: string): string {
  if (t === 'DateTime64(6)') return "DateTime64(6, 'UTC')";
  if (t === 'DateTime') return "DateTime('UTC')";
  return t;
}

const TWO32 = 4294967296;

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function stringBytes(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from(varintBytes(b.length)), b]);
}

function u64Bytes(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(v % TWO32, 0);
  b.writeUInt32LE(Math.floor(v / TWO32), 4);
  return b;
}

/** The bytes of a typed array's first n elements (a view, no copy) — or a right-sized copy when
 *  much of its capacity is unused, so a queued batch does not hold far more than its size. */
function used(a: Fixed, n: number): Uint8Array {
  const bytes = n * a.BYTES_PER_ELEMENT;
  if (a.byteLength - bytes <= 65_536 || bytes * 4 >= a.byteLength * 3) return new Uint8Array(a.buffer, a.byteOffset, bytes);
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + bytes));
}

function grow<T extends Fixed>(a: T, min: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

/** Length-prefixed strings, back to back in one buffer that doubles when full. */
class Strings {
  buf: Buffer;
  n = 0;
  constructor(cap: number) {
    this.buf = Buffer.allocUnsafe(cap);
  }
  private ensure(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.n + extra, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }
  // Kept small so that it is inlined where it is called: short ASCII, the usual case, is copied
  // char by char with no native call; anything else goes to addLong.
  add(s: string): void {
    const len = s.length;
    if (len < 128 && this.n + len < this.buf.length) {
      const b = this.buf;
      const at = this.n;
      b[at] = len;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        b[at + 1 + i] = c;
      }
      if (i === len) {
        this.n = at + 1 + len;
        return;
      }
    }
    this.addLong(s);
  }
  private addLong(s: string): void {
    const bytes = Buffer.byteLength(s, 'utf8');
    this.ensure(bytes + 10);
    let v = bytes;
    const b = this.buf;
    while (v >= 0x80) {
      b[this.n++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    b[this.n++] = v;
    this.n += b.write(s, this.n, 'utf8');
  }
  bytes(): Uint8Array {
    const slack = this.buf.length - this.n;
    if (slack > 65_536 && slack * 4 > this.buf.length) return Uint8Array.prototype.slice.call(this.buf, 0, this.n);
    return this.buf.subarray(0, this.n);
  }
}

// LowCardinality index flags: the keys come with the block (HasAdditionalKeys) and replace any
// dictionary state (NeedUpdateDictionary), as ClickHouse itself writes them in Native output.
const LC_FLAGS = (1 << 9) | (1 << 10);

/** A LowCardinality(String) column: a per-block dictionary and one index per row. */
class LowCard {
  idx: Uint32Array;
  private readonly keys: string[] = [''];
  private readonly map = new Map<string, number>([['', 0]]);
  private last = '';
  private lastIdx = 0;
  constructor(cap: number) {
    this.idx = new Uint32Array(cap);
  }
  /** The key of s (most rows repeat the previous one: no lookup then). */
  key(s: string): number {
    if (s === this.last) return this.lastIdx;
    let k = this.map.get(s);
    if (k === undefined) {
      k = this.keys.length;
      this.keys.push(s);
      this.map.set(s, k);
    }
    this.last = s;
    this.lastIdx = k;
    return k;
  }
  chunks(rows: number): Uint8Array[] {
    const n = this.keys.length;
    const width = n <= 0x100 ? 0 : n <= 0x10000 ? 1 : 2;
    const keys = Buffer.concat(this.keys.map(stringBytes));
    const rowIdx = this.idx.subarray(0, rows);
    const idx = width === 0 ? new Uint8Array(rowIdx) : width === 1 ? new Uint16Array(rowIdx) : rowIdx.slice();
    return [
      Buffer.concat([u64Bytes(1), u64Bytes(LC_FLAGS | width), u64Bytes(n)]),
      keys,
      u64Bytes(rows),
      new Uint8Array(idx.buffer, idx.byteOffset, idx.byteLength),
    ];
  }
}

/** One IP address as the two family columns want it (an IPv4 number, or 16 bytes for IPv6). */
interface Addr {
  v4: number; // the IPv4 column's value (0 for an IPv6 address)
  v6: Uint32Array | null; // the IPv6 column's 16 bytes as 4 words, null for IPv4 or bad text (column stays ::)
}

function words(bytes: Uint8Array | null): Uint32Array | null {
  return bytes ? new Uint32Array(bytes.slice().buffer) : null;
}

const ADDR_CACHE_MAX = 50_000;

/** Address text -> Addr, remembering the last text and (bounded) the ones seen before. */
class Addresses {
  private lastText = '';
  private lastAddr: Addr = { v4: 0, v6: null };
  private readonly seen = new Map<string, Addr>();
  of(text: string): Addr {
    if (text === this.lastText) return this.lastAddr;
    let a = this.seen.get(text);
    if (a === undefined) {
      const v4 = text.indexOf(':') < 0 ? parseIpv4(text) : -1;
      a = v4 >= 0 ? { v4, v6: null } : { v4: 0, v6: text.length > 0 ? words(parseIpv6(text)) : null };
      if (this.seen.size >= ADDR_CACHE_MAX) this.seen.clear();
      this.seen.set(text, a);
    }
    this.lastText = text;
    this.lastAddr = a;
    return a;
  }
}

/** One block being filled: every column's values for the rows so far. */
class Block {
  rows = 0;
  cap: number;
  readonly fixed = {} as Record<FixedName, Fixed>;
  // besides the fixed columns, per row: cumulative answer counts (UInt64 as low, high halves),
  // and ResponseTimeUs as a null map and values
  answerEnds: Uint32Array;
  rtNull: Uint8Array;
  rt: Uint32Array;
  // per answer
  answers = 0;
  answerType: Uint16Array;
  answerClass: Uint16Array;
  answerTtl: Uint32Array;
  // strings
  readonly question: Strings;
  readonly answerName: Strings;
  readonly answerData: Strings;
  readonly ecs: Strings;
  readonly clientId: Strings;
  readonly eventHash: Strings;
  readonly rawLine: Strings;
  readonly fullQuery: Strings;
  // low cardinality
  readonly server: LowCard;
  readonly transport: LowCard;
  readonly inputKind: LowCard;
  readonly inputName: LowCard;
  readonly messageType: LowCard;
  readonly resolution: LowCard;
  readonly upstream: LowCard;

  constructor(cap: number) {
    this.cap = cap;
    for (const name of FIXED_NAMES) {
      const [Typed, perRow] = FIXED[name];
      this.fixed[name] = new Typed(cap * perRow);
    }
    this.answerEnds = new Uint32Array(cap * 2);
    this.rtNull = new Uint8Array(cap);
    this.rt = new Uint32Array(cap);
    this.answerType = new Uint16Array(cap);
    this.answerClass = new Uint16Array(cap);
    this.answerTtl = new Uint32Array(cap);
    this.question = new Strings(cap * 24);
    this.answerName = new Strings(cap * 8);
    this.answerData = new Strings(cap * 8);
    this.ecs = new Strings(cap);
    this.clientId = new Strings(cap);
    this.eventHash = new Strings(cap);
    this.rawLine = new Strings(cap);
    this.fullQuery = new Strings(0);
    this.server = new LowCard(cap);
    this.transport = new LowCard(cap);
    this.inputKind = new LowCard(cap);
    this.inputName = new LowCard(cap);
    this.messageType = new LowCard(cap);
    this.resolution = new LowCard(cap);
    this.upstream = new LowCard(cap);
  }

  /** Room for `rows` rows in every per-row column (capacity doubles; the copy is amortized). */
  reserve(rows: number): void {
    if (rows <= this.cap) return;
    const cap = Math.max(rows, this.cap * 2);
    this.cap = cap;
    for (const name of FIXED_NAMES) this.fixed[name] = grow(this.fixed[name], cap * FIXED[name][1]);
    this.answerEnds = grow(this.answerEnds, cap * 2);
    this.rtNull = grow(this.rtNull, cap);
    this.rt = grow(this.rt, cap);
    for (const lc of [this.server, this.transport, this.inputKind, this.inputName, this.messageType, this.resolution, this.upstream]) lc.idx = grow(lc.idx, cap);
  }

  reserveAnswers(n: number): void {
    if (n <= this.answerType.length) return;
    this.answerType = grow(this.answerType, n);
    this.answerClass = grow(this.answerClass, n);
    this.answerTtl = grow(this.answerTtl, n);
  }

  /** State to return to when a call fails half way (see NativeEncoder.encode). */
  mark(): number[] {
    return [this.rows, this.answers, this.question.n, this.answerName.n, this.answerData.n, this.ecs.n, this.clientId.n, this.eventHash.n, this.rawLine.n, this.fullQuery.n];
  }

  rollback(m: number[]): void {
    const rows = m[0];
    // The IPv6 and nullable columns rely on unwritten rows being zero.
    this.fixed.ClientIPv6.fill(0, rows * 4);
    this.fixed.ServerIPv6.fill(0, rows * 4);
    this.rt.fill(0, rows);
    this.rows = rows;
    this.answers = m[1];
    this.question.n = m[2];
    this.answerName.n = m[3];
    this.answerData.n = m[4];
    this.ecs.n = m[5];
    this.clientId.n = m[6];
    this.eventHash.n = m[7];
    this.rawLine.n = m[8];
    this.fullQuery.n = m[9];
  }

  /** The data of one column, by DNS_LOG name, as chunks. */
  data(name: string): Uint8Array[] {
    const r = this.rows;
    if (name in FIXED) return [used(this.fixed[name as FixedName], r * FIXED[name as FixedName][1])];
    const ends = (): Uint8Array => used(this.answerEnds, r * 2);
    switch (name) {
      case 'Server': return this.server.chunks(r);
      case 'Protocol': return this.transport.chunks(r);
      case 'InputKind': return this.inputKind.chunks(r);
      case 'InputName': return this.inputName.chunks(r);
      case 'MessageType': return this.messageType.chunks(r);
      case 'Question': return [this.question.bytes()];
      case 'EdnsClientSubnet': return [this.ecs.bytes()];
      case 'ClientId': return [this.clientId.bytes()];
      case 'Resolution': return this.resolution.chunks(r);
      case 'Upstream': return this.upstream.chunks(r);
      case 'EventHash': return [this.eventHash.bytes()];
      case 'RawLine': return [this.rawLine.bytes()];
      case FULL_QUERY_COLUMN: return [this.fullQuery.bytes()];
      case 'AnswerName': return [ends(), this.answerName.bytes()];
      case 'AnswerData': return [ends(), this.answerData.bytes()];
      case 'AnswerType': return [ends(), used(this.answerType, this.answers)];
      case 'AnswerClass': return [ends(), used(this.answerClass, this.answers)];
      case 'AnswerTTL': return [ends(), used(this.answerTtl, this.answers)];
      case 'ResponseTimeUs': return [used(this.rtNull, r), used(this.rt, r)];
      default: throw new Error(`the Native encoder has no column ${name}`);
    }
  }
}

// FIXED and OTHER_TYPES must write every DNS_LOG_SCHEMA column, with its type's width or its type.
{
  const problems: string[] = [];
  for (const [name, type] of DNS_LOG_SCHEMA) {
    if (name in FIXED) {
      const [Typed, perRow] = FIXED[name as FixedName];
      if (Typed.BYTES_PER_ELEMENT * perRow !== TYPE_WIDTH[type]) problems.push(`${name} ${type} is written ${Typed.BYTES_PER_ELEMENT * perRow} bytes wide`);
    } else if (OTHER_TYPES[name] !== type) problems.push(`${name} ${type} is written as ${OTHER_TYPES[name] ?? 'nothing'}`);
  }
  for (const name of [...FIXED_NAMES, ...Object.keys(OTHER_TYPES)]) if (!DNS_LOG_SCHEMA.some(([n]) => n === name)) problems.push(`${name} is not in DNS_LOG_SCHEMA`);
  if (problems.length) throw new Error(`src/outputs/clickhouse/native.ts disagrees with DNS_LOG_SCHEMA: ${problems.join('; ')}`);
}

// Each column's name and type, encoded once.
const COLUMN_HEADS: ReadonlyArray<readonly [string, Buffer]> = DNS_LOG_SCHEMA.map(([n, t]) => [
  n,
  Buffer.concat([stringBytes(n), stringBytes(wireType(t))]),
]);
// --clickhouseSaveFullQuery: DNS_LOG's FullQuery column (dnsmonster's), the event's JSON line.
export const FULL_QUERY_COLUMN = 'FullQuery';
const FULL_QUERY_HEADS: ReadonlyArray<readonly [string, Buffer]> = [...COLUMN_HEADS, [FULL_QUERY_COLUMN, Buffer.concat([stringBytes(FULL_QUERY_COLUMN), stringBytes('String')])]];

const FIRST_CAP = 1024;

/**
 * Encodes events into Native blocks as they come. encode() appends to the open block (all of a
 * call or, when it throws, none of it); endBlock() closes the open block; take() closes it and
 * hands out every closed block's bytes, as chunks to be written one after the other.
 */
export class NativeEncoder {
  private block: Block | null = null;
  private done: Uint8Array[] = [];
  private doneRows = 0;
  private readonly clients = new Addresses();
  private readonly servers = new Addresses();
  private lastQname = '';
  private lastApexLength = 0;

  /** fullQuery: also write FullQuery, each event as its JSON line (--clickhouseSaveFullQuery). */
  constructor(private readonly fullQuery = false) {
    if (endianness() !== 'LE') throw new Error('the ClickHouse Native encoder needs a little-endian CPU');
  }

  /** Rows encoded and not taken yet. */
  get rows(): number {
    return this.doneRows + (this.block ? this.block.rows : 0);
  }

  /** Rows in the open block. */
  get openRows(): number {
    return this.block ? this.block.rows : 0;
  }

  encode(events: readonly DnsEvent[], indexTimeSec: number): void {
    const n = events.length;
    if (n === 0) return;
    const b = (this.block ??= new Block(Math.max(FIRST_CAP, n)));
    const mark = b.mark();
    try {
      b.reserve(b.rows + n);
      this.fill(b, events, indexTimeSec);
      if (this.fullQuery) for (let i = 0; i < n; i++) b.fullQuery.add(formatJson(events[i]));
    } catch (err) {
      b.rollback(mark);
      throw err;
    }
  }

  /** Close the open block (if it has rows): later rows go into a new one. */
  endBlock(): void {
    const b = this.block;
    if (!b || b.rows === 0) return;
    this.block = null;
    const heads = this.fullQuery ? FULL_QUERY_HEADS : COLUMN_HEADS;
    this.done.push(Buffer.from([...varintBytes(heads.length), ...varintBytes(b.rows)]));
    for (const [name, head] of heads) this.done.push(head, ...b.data(name));
    this.doneRows += b.rows;
  }

  /** Every block since the last take, as chunks (none empty), or [] when there are no rows. */
  take(): Uint8Array[] {
    this.endBlock();
    const out = this.done.filter((c) => c.byteLength > 0);
    this.done = [];
    this.doneRows = 0;
    return out;
  }

  private fill(b: Block, events: readonly DnsEvent[], indexTimeSec: number): void {
    const indexTime = Math.max(0, Math.min(0xffffffff, Math.floor(indexTimeSec / 3600) * 3600));
    const clients = this.clients;
    const servers = this.servers;
    const { PacketTime: packetTime, IndexTime: indexTimes, IPVersion: ipVersion, ClientIPv4: clientV4, ClientIPv6: clientV6 } = b.fixed;
    const { ServerIPv4: serverV4, ServerIPv6: serverV6, ClientPort: clientPort, ServerPort: serverPort, QR: qr, OpCode: opcode } = b.fixed;
    const { Class: qclass, Type: qtype, Edns0Present: edns, DoBit: ednsDo, ResponseCode: rcode, Size: size, ApexLength: apexLength } = b.fixed;
    const { ID: id, AA: aa, TC: tc, RD: rd, RA: ra, AD: ad, CD: cd, QdCount: qdCount, AnCount: anCount, NsCount: nsCount } = b.fixed;
    const { ArCount: arCount, EdnsUdpSize: ednsUdpSize, Unanswered: unanswered } = b.fixed;
    const { answerEnds, rtNull, rt } = b;
    const { question, answerName, answerData, ecs, clientId, server, transport, inputKind, inputName, messageType, resolution, upstream, eventHash, rawLine } = b;
    let lastQname = this.lastQname;
    let lastApexLength = this.lastApexLength;
    let answers = b.answers;
    let r = b.rows;
    for (let i = 0; i < events.length; i++, r++) {
      const e = events[i];
      // Int64 as two words; a Uint32Array store keeps the low 32 bits (two's complement below 0)
      const t = e.timeSec * 1_000_000 + Math.floor(e.timeNsec / 1000);
      packetTime[2 * r] = t;
      packetTime[2 * r + 1] = Math.floor(t / TWO32);
      indexTimes[r] = indexTime;
      server.idx[r] = server.key(e.server);
      ipVersion[r] = e.ipVersion;
      // A query goes client -> server, a response server -> client.
      const isResponse = e.qr;
      const c = clients.of(isResponse ? e.dstIp : e.srcIp);
      clientV4[r] = c.v4;
      const cw = c.v6;
      if (cw !== null) {
        clientV6[4 * r] = cw[0];
        clientV6[4 * r + 1] = cw[1];
        clientV6[4 * r + 2] = cw[2];
        clientV6[4 * r + 3] = cw[3];
      }
      const s = servers.of(isResponse ? e.srcIp : e.dstIp);
      serverV4[r] = s.v4;
      const sw = s.v6;
      if (sw !== null) {
        serverV6[4 * r] = sw[0];
        serverV6[4 * r + 1] = sw[1];
        serverV6[4 * r + 2] = sw[2];
        serverV6[4 * r + 3] = sw[3];
      }
      clientPort[r] = isResponse ? e.dstPort : e.srcPort;
      serverPort[r] = isResponse ? e.srcPort : e.dstPort;
      transport.idx[r] = transport.key(e.transport);
      qr[r] = isResponse ? 1 : 0;
      opcode[r] = e.opcode;
      qclass[r] = e.qclass;
      qtype[r] = e.qtype;
      edns[r] = e.ednsPresent ? 1 : 0;
      ednsDo[r] = e.ednsDo ? 1 : 0;
      rcode[r] = e.rcode;
      const qname = e.qname;
      question.add(qname);
      size[r] = e.size;
      // A response follows its query with the same name: skip the apex lookup then.
      if (qname !== lastQname) {
        lastApexLength = apexLengthOf(qname);
        lastQname = qname;
      }
      apexLength[r] = lastApexLength;
      id[r] = e.id;
      aa[r] = e.aa ? 1 : 0;
      tc[r] = e.tc ? 1 : 0;
      rd[r] = e.rd ? 1 : 0;
      ra[r] = e.ra ? 1 : 0;
      ad[r] = e.ad ? 1 : 0;
      cd[r] = e.cd ? 1 : 0;
      qdCount[r] = e.qdCount;
      anCount[r] = e.anCount;
      nsCount[r] = e.nsCount;
      arCount[r] = e.arCount;
      const ans = e.answers;
      const na = ans.length;
      if (na > 0) {
        b.reserveAnswers(answers + na);
        const types = b.answerType;
        const classes = b.answerClass;
        const ttls = b.answerTtl;
        for (let k = 0; k < na; k++) {
          const x = ans[k];
          answerName.add(x.name);
          types[answers + k] = x.type;
          classes[answers + k] = x.class;
          ttls[answers + k] = x.ttl;
          answerData.add(x.data);
        }
        answers += na;
      }
      answerEnds[2 * r] = answers;
      if (answers >= TWO32) answerEnds[2 * r + 1] = Math.floor(answers / TWO32);
      ednsUdpSize[r] = e.ednsUdpSize;
      ecs.add(e.ednsClientSubnet);
      const us = e.responseTimeUs;
      if (us === null) {
        rtNull[r] = 1;
      } else {
        rtNull[r] = 0;
        rt[r] = Math.max(0, Math.min(0xffffffff, Math.round(us)));
      }
      inputKind.idx[r] = inputKind.key(e.inputKind);
      inputName.idx[r] = inputName.key(e.inputName);
      unanswered[r] = e.unanswered ? 1 : 0;
      clientId.add(e.clientId);
      messageType.idx[r] = messageType.key(e.messageType);
      resolution.idx[r] = resolution.key(e.resolution);
      upstream.idx[r] = upstream.key(e.upstream);
      eventHash.add(e.eventHash);
      rawLine.add(e.rawLine);
    }
    b.rows = r;
    b.answers = answers;
    this.lastQname = lastQname;
    this.lastApexLength = lastApexLength;
  }
}

/** One Native block (or none for no events): for one-off inserts and tests. */
export function encodeNative(events: readonly DnsEvent[], indexTimeSec: number): Uint8Array[] {
  const enc = new NativeEncoder();
  enc.encode(events, indexTimeSec);
  return enc.take();
}
