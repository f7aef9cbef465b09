// The Parquet file layout: one column per event field (docs/event.md's names), typed: the time
// as a UTC timestamp in nanoseconds, numbers as (unsigned) integers, flags as booleans, the
// answers as a list of structs, and responseTimeUs nullable. The encoder turns each batch into
// one row group of the file being written (hyparquet-writer, snappy).
//
// Picked by measurement on the 976,456 events of the 1M-packet bench capture (the README,
// "Parquet files", has the table): hyparquet-writer 92,000 events/s and 40.7 bytes per event;
// the embedded ClickHouse engine (Native batches in a temp file, then INSERT INTO FUNCTION
// file(..., Parquet)) 228,000 events/s but 52.5 bytes per event, a temp copy of every file's
// events (203 bytes each) and chdb's one data directory per process; @dsnp/parquetjs 9,900
// events/s.
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import type { DnsAnswer, DnsEvent } from '../../event.js';
import type { SinkEncoder } from '../sink/writer.js';

interface Column {
  element: SchemaElement; // the top-level schema element
  children?: SchemaElement[]; // a nested column's elements below it, depth first
  value(ev: DnsEvent): unknown;
}

// Schema elements of the three kinds of leaf. Unsigned integers of 8, 16 or 32 bits are INT32
// with the matching annotation (the Parquet spec's way).
const textElement = (name: string): SchemaElement => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
const flagElement = (name: string): SchemaElement => ({ name, type: 'BOOLEAN', repetition_type: 'REQUIRED' });
const uintElement = (bits: 8 | 16 | 32, name: string, nullable = false): SchemaElement => ({
  name,
  type: 'INT32',
  converted_type: `UINT_${bits}`,
  repetition_type: nullable ? 'OPTIONAL' : 'REQUIRED',
});

const text = (name: string, value: (ev: DnsEvent) => string): Column => ({ element: textElement(name), value });
const flag = (name: string, value: (ev: DnsEvent) => boolean): Column => ({ element: flagElement(name), value });
const uint = (bits: 8 | 16 | 32, name: string, value: (ev: DnsEvent) => number | null): Column => ({ element: uintElement(bits, name), value });

/** The columns, in file order. */
export const COLUMNS: readonly Column[] = [
  {
    element: { name: 'time', type: 'INT64', repetition_type: 'REQUIRED', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'NANOS' } },
    value: (ev) => BigInt(ev.timeSec) * 1_000_000_000n + BigInt(ev.timeNsec),
  },
  text('server', (ev) => ev.server),
  uint(8, 'ipVersion', (ev) => ev.ipVersion),
  text('srcIp', (ev) => ev.srcIp),
  text('dstIp', (ev) => ev.dstIp),
  uint(16, 'srcPort', (ev) => ev.srcPort),
  uint(16, 'dstPort', (ev) => ev.dstPort),
  text('transport', (ev) => ev.transport),
  uint(16, 'id', (ev) => ev.id),
  flag('qr', (ev) => ev.qr),
  uint(8, 'opcode', (ev) => ev.opcode),
  flag('aa', (ev) => ev.aa),
  flag('tc', (ev) => ev.tc),
  flag('rd', (ev) => ev.rd),
  flag('ra', (ev) => ev.ra),
  flag('ad', (ev) => ev.ad),
  flag('cd', (ev) => ev.cd),
  uint(16, 'rcode', (ev) => ev.rcode),
  text('qname', (ev) => ev.qname),
  uint(16, 'qtype', (ev) => ev.qtype),
  uint(16, 'qclass', (ev) => ev.qclass),
  uint(16, 'qdCount', (ev) => ev.qdCount),
  uint(16, 'anCount', (ev) => ev.anCount),
  uint(16, 'nsCount', (ev) => ev.nsCount),
  uint(16, 'arCount', (ev) => ev.arCount),
  {
    // LIST of STRUCT, in the three-level form the spec asks for: answers.list.element.{name,...}
    element: { name: 'answers', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
    children: [
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', repetition_type: 'REQUIRED', num_children: 5 },
      textElement('name'),
      uintElement(16, 'type'),
      uintElement(16, 'class'),
      uintElement(32, 'ttl'),
      textElement('data'),
    ],
    value: (ev): readonly DnsAnswer[] => ev.answers,
  },
  flag('ednsPresent', (ev) => ev.ednsPresent),
  uint(16, 'ednsUdpSize', (ev) => ev.ednsUdpSize),
  flag('ednsDo', (ev) => ev.ednsDo),
  text('ednsClientSubnet', (ev) => ev.ednsClientSubnet),
  uint(16, 'size', (ev) => ev.size),
  text('inputKind', (ev) => ev.inputKind),
  text('inputName', (ev) => ev.inputName),
  { element: uintElement(32, 'responseTimeUs', true), value: (ev) => ev.responseTimeUs }, // null: not matched
  flag('unanswered', (ev) => ev.unanswered),
  text('clientId', (ev) => ev.clientId),
  text('messageType', (ev) => ev.messageType),
  text('resolution', (ev) => ev.resolution),
  text('upstream', (ev) => ev.upstream),
  text('eventHash', (ev) => ev.eventHash),
  text('rawLine', (ev) => ev.rawLine),
];

/** The file schema: the root, then each column's elements. */
export const SCHEMA: readonly SchemaElement[] = [{ name: 'root', num_children: COLUMNS.length }, ...COLUMNS.flatMap((c) => [c.element, ...(c.children ?? [])])];

/** What the target needs to know of a batch: which file its bytes belong to, and whether they end it. */
export interface Part {
  file: string; // the file's final name (the target writes it under <file>.tmp meanwhile)
  end: number; // the file's size once these bytes are in: they go at end - their length
  last: boolean; // the bytes end with the file's footer: close it and give it its name
  rows: number; // rows in the file once these bytes are in
}

export interface FileRules {
  rotateBytes: number; // end a file once it is this big (after the row group that took it there); 0: never
  rotateMs: number; // end a file this long after it began; 0: never
  name(): string; // a new file's name
  now(): number; // ms
}

/**
 * Turns batches into row groups of the current file. A batch's bytes are a small JSON chunk (the
 * Part) followed by what to append to the file: the header when the file begins, the row group,
 * and the footer when this row group ends the file. Row groups are encoded here, at seal time, so
 * the toolkit's queue bounds memory by encoded (compressed) bytes.
 */
export class ParquetEncoder implements SinkEncoder {
  private columns: unknown[][] = COLUMNS.map(() => []);
  private file: { name: string; writer: ParquetWriter; bytes: ByteWriter; began: number; rows: number } | null = null;

  constructor(private readonly rules: FileRules) {}

  encode(events: readonly DnsEvent[]): void {
    for (let c = 0; c < COLUMNS.length; c++) {
      const value = COLUMNS[c].value;
      const out = this.columns[c];
      for (const ev of events) out.push(value(ev));
    }
  }

  take(): Uint8Array[] {
    const rows = this.columns[0].length;
    const f = this.file ?? this.begin();
    // Min/max statistics only for the time, what readers skip row groups by: on every column
    // they cost a tenth or more of the encoding time.
    const columnData = COLUMNS.map((c, i) => ({ name: c.element.name, data: this.columns[i], statistics: c.element.name === 'time' }));
    f.writer.write({ columnData, rowGroupSize: rows });
    this.columns = COLUMNS.map(() => []);
    f.rows += rows;
    const last = (this.rules.rotateBytes > 0 && f.bytes.offset >= this.rules.rotateBytes) || this.due(this.rules.now());
    return this.part(last);
  }

  /** The current file's time is up (rotation by time). */
  due(now: number): boolean {
    return this.file !== null && this.rules.rotateMs > 0 && now - this.file.began >= this.rules.rotateMs;
  }

  /** Rows in the current file (0: none open). */
  get openRows(): number {
    return this.file?.rows ?? 0;
  }

  /** Ends the current file outside a batch (idle rotation, exit): its Part and the footer, or
   *  null when no file is open. Call it only when no batch of this file waits to be written. */
  endFile(): { part: Part; bytes: Uint8Array } | null {
    if (!this.file) return null;
    const [head, bytes] = this.part(true);
    return { part: JSON.parse(Buffer.from(head).toString('utf8')) as Part, bytes };
  }

  private begin(): NonNullable<ParquetEncoder['file']> {
    const bytes = new ByteWriter(1 << 20);
    const writer = new ParquetWriter({ writer: bytes, schema: [...SCHEMA], createdBy: 'dnslens' }); // writes the header
    this.file = { name: this.rules.name(), writer, bytes, began: this.rules.now(), rows: 0 };
    return this.file;
  }

  // The Part and the bytes written since the last one (the footer too when `last`).
  private part(last: boolean): [Uint8Array, Uint8Array] {
    const f = this.file!;
    if (last) {
      f.writer.finish();
      this.file = null;
    }
    const data = f.bytes.getBytes().slice(); // a copy: the writer's buffer is reused
    f.bytes.index = 0; // offset keeps counting: the row groups' file offsets stay right
    const part: Part = { file: f.name, end: f.bytes.offset, last, rows: f.rows };
    return [Buffer.from(JSON.stringify(part), 'utf8'), data];
  }
}
