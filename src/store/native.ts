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
import type { DnsEvent } from '../event.js';
import { DNS_LOG_SCHEMA, apexLengthOf, parseIpv4, parseIpv6 } from './columns.js';

type Fixed = Uint8Array | Uint16Array | Uint32Array;

// How each DNS_LOG column is written. The encoder below fills them; the check after it makes sure
// this table and DNS_LOG_SCHEMA name the same columns with the same types.
type Kind = 'u8' | 'u16' | 'u32' | 'i64' | 'ipv6' | 'lc' | 'str' | 'arrStr' | 'arrU16' | 'arrU32' | 'nullU32';
const KIND_OF_TYPE: Record<string, Kind> = {
  'DateTime64(6)': 'i64',
  DateTime: 'u32',
  UInt8: 'u8',
  Bool: 'u8',
  UInt16: 'u16',
  UInt32: 'u32',
  IPv4: 'u32',
  IPv6: 'ipv6',
  String: 'str',
  'LowCardinality(String)': 'lc',
  'Array(String)': 'arrStr',
  'Array(UInt16)': 'arrU16',
  'Array(UInt32)': 'arrU32',
  'Nullable(UInt32)': 'nullU32',
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
  // fixed width, indexed by row (PacketTime is two UInt32 halves per row, IPv6 16 bytes)
  packetTime: Uint32Array;
  indexTime: Uint32Array;
  ipVersion: Uint8Array;
  clientV4: Uint32Array;
  clientV6: Uint32Array; // 4 words per row: the 16 bytes, in memory order
  serverV4: Uint32Array;
  serverV6: Uint32Array;
  clientPort: Uint16Array;
  serverPort: Uint16Array;
  qr: Uint8Array;
  opcode: Uint8Array;
  qclass: Uint16Array;
  qtype: Uint16Array;
  edns: Uint8Array;
  ednsDo: Uint8Array;
  rcode: Uint16Array;
  size: Uint16Array;
  apexLength: Uint16Array;
  id: Uint16Array;
  aa: Uint8Array;
  tc: Uint8Array;
  rd: Uint8Array;
  ra: Uint8Array;
  ad: Uint8Array;
  cd: Uint8Array;
  qdCount: Uint16Array;
  anCount: Uint16Array;
  nsCount: Uint16Array;
  arCount: Uint16Array;
  answerEnds: Uint32Array; // UInt64 cumulative answer counts: low, high half per row
  ednsUdpSize: Uint16Array;
  rtNull: Uint8Array;
  rt: Uint32Array;
  unanswered: Uint8Array;
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
  // low cardinality
  readonly server: LowCard;
  readonly transport: LowCard;
  readonly inputKind: LowCard;
  readonly inputName: LowCard;
  readonly messageType: LowCard;

  constructor(cap: number) {
    this.cap = cap;
    this.packetTime = new Uint32Array(cap * 2);
    this.indexTime = new Uint32Array(cap);
    this.ipVersion = new Uint8Array(cap);
    this.clientV4 = new Uint32Array(cap);
    this.clientV6 = new Uint32Array(cap * 4);
    this.serverV4 = new Uint32Array(cap);
    this.serverV6 = new Uint32Array(cap * 4);
    this.clientPort = new Uint16Array(cap);
    this.serverPort = new Uint16Array(cap);
    this.qr = new Uint8Array(cap);
    this.opcode = new Uint8Array(cap);
    this.qclass = new Uint16Array(cap);
    this.qtype = new Uint16Array(cap);
    this.edns = new Uint8Array(cap);
    this.ednsDo = new Uint8Array(cap);
    this.rcode = new Uint16Array(cap);
    this.size = new Uint16Array(cap);
    this.apexLength = new Uint16Array(cap);
    this.id = new Uint16Array(cap);
    this.aa = new Uint8Array(cap);
    this.tc = new Uint8Array(cap);
    this.rd = new Uint8Array(cap);
    this.ra = new Uint8Array(cap);
    this.ad = new Uint8Array(cap);
    this.cd = new Uint8Array(cap);
    this.qdCount = new Uint16Array(cap);
    this.anCount = new Uint16Array(cap);
    this.nsCount = new Uint16Array(cap);
    this.arCount = new Uint16Array(cap);
    this.answerEnds = new Uint32Array(cap * 2);
    this.ednsUdpSize = new Uint16Array(cap);
    this.rtNull = new Uint8Array(cap);
    this.rt = new Uint32Array(cap);
    this.unanswered = new Uint8Array(cap);
    this.answerType = new Uint16Array(cap);
    this.answerClass = new Uint16Array(cap);
    this.answerTtl = new Uint32Array(cap);
    this.question = new Strings(cap * 24);
    this.answerName = new Strings(cap * 8);
    this.answerData = new Strings(cap * 8);
    this.ecs = new Strings(cap);
    this.clientId = new Strings(cap);
    this.server = new LowCard(cap);
    this.transport = new LowCard(cap);
    this.inputKind = new LowCard(cap);
    this.inputName = new LowCard(cap);
    this.messageType = new LowCard(cap);
  }

  /** Room for `rows` rows in every per-row column (capacity doubles; the copy is amortized). */
  reserve(rows: number): void {
    if (rows <= this.cap) return;
    const cap = Math.max(rows, this.cap * 2);
    this.cap = cap;
    this.packetTime = grow(this.packetTime, cap * 2);
    this.indexTime = grow(this.indexTime, cap);
    this.ipVersion = grow(this.ipVersion, cap);
    this.clientV4 = grow(this.clientV4, cap);
    this.clientV6 = grow(this.clientV6, cap * 4);
    this.serverV4 = grow(this.serverV4, cap);
    this.serverV6 = grow(this.serverV6, cap * 4);
    this.clientPort = grow(this.clientPort, cap);
    this.serverPort = grow(this.serverPort, cap);
    this.qr = grow(this.qr, cap);
    this.opcode = grow(this.opcode, cap);
    this.qclass = grow(this.qclass, cap);
    this.qtype = grow(this.qtype, cap);
    this.edns = grow(this.edns, cap);
    this.ednsDo = grow(this.ednsDo, cap);
    this.rcode = grow(this.rcode, cap);
    this.size = grow(this.size, cap);
    this.apexLength = grow(this.apexLength, cap);
    this.id = grow(this.id, cap);
    this.aa = grow(this.aa, cap);
    this.tc = grow(this.tc, cap);
    this.rd = grow(this.rd, cap);
    this.ra = grow(this.ra, cap);
    this.ad = grow(this.ad, cap);
    this.cd = grow(this.cd, cap);
    this.qdCount = grow(this.qdCount, cap);
    this.anCount = grow(this.anCount, cap);
    this.nsCount = grow(this.nsCount, cap);
    this.arCount = grow(this.arCount, cap);
    this.answerEnds = grow(this.answerEnds, cap * 2);
    this.ednsUdpSize = grow(this.ednsUdpSize, cap);
    this.rtNull = grow(this.rtNull, cap);
    this.rt = grow(this.rt, cap);
    this.unanswered = grow(this.unanswered, cap);
    for (const lc of [this.server, this.transport, this.inputKind, this.inputName, this.messageType]) lc.idx = grow(lc.idx, cap);
  }

  reserveAnswers(n: number): void {
    if (n <= this.answerType.length) return;
    this.answerType = grow(this.answerType, n);
    this.answerClass = grow(this.answerClass, n);
    this.answerTtl = grow(this.answerTtl, n);
  }

  /** State to return to when a call fails half way (see NativeEncoder.encode). */
  mark(): number[] {
    return [this.rows, this.answers, this.question.n, this.answerName.n, this.answerData.n, this.ecs.n, this.clientId.n];
  }

  rollback(m: number[]): void {
    const rows = m[0];
    // The IPv6 and nullable columns rely on unwritten rows being zero.
    this.clientV6.fill(0, rows * 4);
    this.serverV6.fill(0, rows * 4);
    this.rt.fill(0, rows);
    this.rows = rows;
    this.answers = m[1];
    this.question.n = m[2];
    this.answerName.n = m[3];
    this.answerData.n = m[4];
    this.ecs.n = m[5];
    this.clientId.n = m[6];
  }

  /** The data of one column, by DNS_LOG name, as chunks. */
  data(name: string): Uint8Array[] {
    const r = this.rows;
    const a = this.answers;
    const ends = used(this.answerEnds, r * 2);
    switch (name) {
      case 'PacketTime': return [used(this.packetTime, r * 2)];
      case 'IndexTime': return [used(this.indexTime, r)];
      case 'Server': return this.server.chunks(r);
      case 'IPVersion': return [used(this.ipVersion, r)];
      case 'ClientIPv4': return [used(this.clientV4, r)];
      case 'ClientIPv6': return [used(this.clientV6, r * 4)];
      case 'ServerIPv4': return [used(this.serverV4, r)];
      case 'ServerIPv6': return [used(this.serverV6, r * 4)];
      case 'ClientPort': return [used(this.clientPort, r)];
      case 'ServerPort': return [used(this.serverPort, r)];
      case 'Protocol': return this.transport.chunks(r);
      case 'QR': return [used(this.qr, r)];
      case 'OpCode': return [used(this.opcode, r)];
      case 'Class': return [used(this.qclass, r)];
      case 'Type': return [used(this.qtype, r)];
      case 'Edns0Present': return [used(this.edns, r)];
      case 'DoBit': return [used(this.ednsDo, r)];
      case 'ResponseCode': return [used(this.rcode, r)];
      case 'Question': return [this.question.bytes()];
      case 'Size': return [used(this.size, r)];
      case 'ApexLength': return [used(this.apexLength, r)];
      case 'ID': return [used(this.id, r)];
      case 'AA': return [used(this.aa, r)];
      case 'TC': return [used(this.tc, r)];
      case 'RD': return [used(this.rd, r)];
      case 'RA': return [used(this.ra, r)];
      case 'AD': return [used(this.ad, r)];
      case 'CD': return [used(this.cd, r)];
      case 'QdCount': return [used(this.qdCount, r)];
      case 'AnCount': return [used(this.anCount, r)];
      case 'NsCount': return [used(this.nsCount, r)];
      case 'ArCount': return [used(this.arCount, r)];
      case 'AnswerName': return [ends, this.answerName.bytes()];
      case 'AnswerType': return [ends, used(this.answerType, a)];
      case 'AnswerClass': return [ends, used(this.answerClass, a)];
      case 'AnswerTTL': return [ends, used(this.answerTtl, a)];
      case 'AnswerData': return [ends, this.answerData.bytes()];
      case 'EdnsUdpSize': return [used(this.ednsUdpSize, r)];
      case 'EdnsClientSubnet': return [this.ecs.bytes()];
      case 'ResponseTimeUs': return [used(this.rtNull, r), used(this.rt, r)];
      case 'InputKind': return this.inputKind.chunks(r);
      case 'InputName': return this.inputName.chunks(r);
      case 'Unanswered': return [used(this.unanswered, r)];
      case 'ClientId': return [this.clientId.bytes()];
      case 'MessageType': return this.messageType.chunks(r);
      default: throw new Error(`the Native encoder has no column ${name}`);
    }
  }
}

// The kind each column is written as in Block.data(): checked against DNS_LOG_SCHEMA below.
const WRITTEN_AS: Record<string, Kind> = {
  PacketTime: 'i64', IndexTime: 'u32', Server: 'lc', IPVersion: 'u8', ClientIPv4: 'u32', ClientIPv6: 'ipv6',
  ServerIPv4: 'u32', ServerIPv6: 'ipv6', ClientPort: 'u16', ServerPort: 'u16', Protocol: 'lc', QR: 'u8',
  OpCode: 'u8', Class: 'u16', Type: 'u16', Edns0Present: 'u8', DoBit: 'u8', ResponseCode: 'u16',
  Question: 'str', Size: 'u16', ApexLength: 'u16', ID: 'u16', AA: 'u8', TC: 'u8', RD: 'u8', RA: 'u8',
  AD: 'u8', CD: 'u8', QdCount: 'u16', AnCount: 'u16', NsCount: 'u16', ArCount: 'u16',
  AnswerName: 'arrStr', AnswerType: 'arrU16', AnswerClass: 'arrU16', AnswerTTL: 'arrU32', AnswerData: 'arrStr',
  EdnsUdpSize: 'u16', EdnsClientSubnet: 'str', ResponseTimeUs: 'nullU32', InputKind: 'lc', InputName: 'lc',
  Unanswered: 'u8', ClientId: 'str', MessageType: 'lc',
};

{
  const problems: string[] = [];
  for (const [name, type] of DNS_LOG_SCHEMA) {
    if (WRITTEN_AS[name] === undefined) problems.push(`${name} is not written`);
    else if (KIND_OF_TYPE[type] !== WRITTEN_AS[name]) problems.push(`${name} ${type} is written as ${WRITTEN_AS[name]}`);
  }
  for (const name of Object.keys(WRITTEN_AS)) if (!DNS_LOG_SCHEMA.some(([n]) => n === name)) problems.push(`${name} is not in DNS_LOG_SCHEMA`);
  if (problems.length) throw new Error(`src/store/native.ts disagrees with DNS_LOG_SCHEMA: ${problems.join('; ')}`);
}

// Each column's name and type, encoded once.
const COLUMN_HEADS: ReadonlyArray<readonly [string, Buffer]> = DNS_LOG_SCHEMA.map(([n, t]) => [
  n,
  Buffer.concat([stringBytes(n), stringBytes(wireType(t))]),
]);

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

  constructor() {
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
    this.done.push(Buffer.from([...varintBytes(COLUMN_HEADS.length), ...varintBytes(b.rows)]));
    for (const [name, head] of COLUMN_HEADS) this.done.push(head, ...b.data(name));
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
    const { packetTime, indexTime: indexTimes, ipVersion, clientV4, clientV6, serverV4, serverV6, clientPort, serverPort } = b;
    const { qr, opcode, qclass, qtype, edns, ednsDo, rcode, size, apexLength, id, aa, tc, rd, ra, ad, cd } = b;
    const { qdCount, anCount, nsCount, arCount, answerEnds, ednsUdpSize, rtNull, rt, unanswered } = b;
    const { question, answerName, answerData, ecs, clientId, server, transport, inputKind, inputName, messageType } = b;
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
