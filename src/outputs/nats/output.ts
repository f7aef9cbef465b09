// The NATS JetStream sink: the sink toolkit (../sink) with an encoder that cuts each batch into
// messages (one or more per subject, each under the server's maximum payload) and a target that
// publishes them and waits for the stream's acknowledgements. Loaded when the output opens.
import { readFile } from 'node:fs/promises';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Context, OpenedOutput, Output } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Log } from '../../log.js';
import type { Counters } from '../../stats.js';
import { BinaryEncoder, messageId } from '../../bus/codec.js';
import { authOf, checkServers, closeNats, connectNats, isConnected } from '../../bus/nats.js';
import { ConfigError } from '../../options.js';
import { ByteWriter } from '../format/bytes.js';
import { encodeJson } from '../format/json.js';
import { Spool, SpoolBusyError, UnknownSpoolFormat, type SpoolCodec } from '../sink/spool.js';
import { writerOutput, type BatchWriter, type SinkBatch, type SinkEncoder, type SinkTarget, type WriterOptions } from '../sink/writer.js';
import type { NatsOptions } from './index.js';
import { parseSubject, type SubjectTemplate } from './subject.js';

export const NAME = 'nats';

const ACK_TIMEOUT_MS = 10_000; // per message, for the stream's acknowledgement
const HEADER_ROOM = 256; // of the server's max_payload, kept for the message-id header
const SPOOL_MAX_BYTES = 4 * 1024 ** 3;
const DUPLICATE_WINDOW_NS = 120e9; // a stream dnslens creates drops a repeated message id within 2 min

export type NatsFormat = 'binary' | 'json';

// ------------------------------------------------------------------ events -> messages

// A batch's data is frames, one per message: u32 payload length, u16 subject length, the subject
// (ASCII), the payload. In memory and in the spool alike, so a spooled batch replays as the same
// messages (with the same ids).
interface Message {
  w: ByteWriter;
  start: number; // where the payload begins
  rows: number;
  binary: BinaryEncoder | null;
}

/** Events -> frames: one open message per subject; a message that would pass maxPayload ends and
 *  the event starts the next. An event too large for a message of its own is dropped, counted. */
export class NatsEncoder implements SinkEncoder {
  private readonly open = new Map<string, Message>();
  private done: Uint8Array[] = [];
  private readonly scratch = new ByteWriter(4096);

  constructor(
    private readonly subject: SubjectTemplate,
    private readonly format: NatsFormat,
    private readonly maxPayload: number,
    private readonly tooLarge: (rows: number) => void,
  ) {}

  encode(events: readonly DnsEvent[]): void {
    for (const ev of events) {
      const subject = this.subject.render(ev);
      let m = this.open.get(subject) ?? this.begin(subject);
      const before = m.w.pos;
      this.put(m, ev);
      if (m.w.pos - m.start <= this.maxPayload) {
        m.rows++;
        continue;
      }
      m.w.pos = before;
      if (m.rows > 0) {
        // full: it ends here, and the event is written again at the head of the next message
        // (binary records refer to the previous record of their message)
        this.end(subject, m);
        m = this.begin(subject);
        this.put(m, ev);
        if (m.w.pos - m.start <= this.maxPayload) {
          m.rows++;
          continue;
        }
      }
      this.open.delete(subject); // empty, and its record memory holds the dropped event's strings
      this.tooLarge(1);
    }
  }

  take(): Uint8Array[] {
    for (const [subject, m] of this.open) this.end(subject, m);
    const d = this.done;
    this.done = [];
    return d;
  }

  private begin(subject: string): Message {
    const w = new ByteWriter(64 * 1024);
    w.pos = 4; // the payload length, written at the end
    w.reserve(2 + subject.length);
    w.buf.writeUInt16BE(subject.length, w.pos);
    w.pos += 2 + w.buf.write(subject, w.pos + 2, 'latin1');
    const m: Message = { w, start: w.pos, rows: 0, binary: this.format === 'binary' ? new BinaryEncoder(this.scratch) : null };
    m.binary?.start(w);
    this.open.set(subject, m);
    return m;
  }

  private put(m: Message, ev: DnsEvent): void {
    if (m.binary) {
      m.binary.record(m.w, ev);
      return;
    }
    encodeJson(m.w, ev);
    m.w.byte(0x0a);
  }

  private end(subject: string, m: Message): void {
    this.open.delete(subject);
    if (m.rows === 0) return;
    m.w.buf.writeUInt32BE(m.w.pos - m.start, 0);
    this.done.push(m.w.buf.subarray(0, m.w.pos));
  }
}

/** The messages of a batch's data (frames, see NatsEncoder). */
export function framesOf(data: Buffer): { subject: string; payload: Uint8Array }[] {
  const out: { subject: string; payload: Uint8Array }[] = [];
  let p = 0;
  while (p < data.length) {
    if (p + 6 > data.length) throw new Error('a NATS batch frame is cut short');
    const len = data.readUInt32BE(p);
    const slen = data.readUInt16BE(p + 4);
    const at = p + 6 + slen;
    if (at + len > data.length) throw new Error('a NATS batch frame is cut short');
    out.push({ subject: data.toString('latin1', p + 6, at), payload: data.subarray(at, at + len) });
    p = at + len;
  }
  return out;
}

// ------------------------------------------------------------------ frames -> the stream

// Failures that sending again cannot mend: too large for the stream, or a subject this user may
// not publish on. The writer sets such a batch aside after a few tries.
function isBadData(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number };
  return e?.name === 'PermissionViolationError' || /max_payload|maximum (payload|message size)|message size exceeds/i.test(e?.message ?? '') || e?.code === 10054;
}

export class NatsTarget implements SinkTarget<null> {
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly counters: Counters,
    readonly where: string,
  ) {}

  /** Every message of the batch is published at once; the batch is sent when the stream acknowledged
   *  them all. A failure fails the batch: sent again, the messages the stream has are duplicates. */
  async send(batch: SinkBatch<null>): Promise<void> {
    if (!isConnected(this.nc)) throw new Error(`not connected to ${this.where} (the client is reconnecting)`); // fail now, back off
    const data = batch.data ? Buffer.concat(batch.data) : await readFile(batch.path!);
    const acks = await Promise.allSettled(framesOf(data).map((f) => this.js.publish(f.subject, f.payload, { msgID: messageId(f.payload), timeout: ACK_TIMEOUT_MS })));
    let failure: unknown;
    for (const a of acks) {
      if (a.status === 'rejected') failure ??= a.reason;
      else this.counters.add(a.value.duplicate ? 'duplicates' : 'messages');
    }
    if (failure !== undefined) throw failure;
  }
}

// The spool keeps a batch's frames as they are; nothing else to describe.
export const SPOOL_CODEC: SpoolCodec<null> = {
  describe: (_meta, rows) => ({ version: 1, kind: 'nats-frames', rows, createdAt: new Date().toISOString() }),
  extension: () => 'frames',
  extensions: ['frames'],
  read(json) {
    const m = json as { version?: unknown; kind?: unknown; rows?: unknown };
    if (m.kind !== 'nats-frames' || m.version !== 1) throw new UnknownSpoolFormat(`kind ${String(m.kind)}, version ${String(m.version)}`);
    if (typeof m.rows !== 'number') throw new Error('bad meta');
    return { meta: null, rows: m.rows };
  },
};

export interface NatsOutputOptions extends Omit<WriterOptions<null>, 'name' | 'encoder' | 'meta' | 'counters' | 'spool'> {
  nc: NatsConnection;
  where: string;
  subject: SubjectTemplate;
  format: NatsFormat;
  maxPayload: number; // payload bytes per message
  spool: Spool<null> | null;
  counters: Counters;
}

/** The NATS output over the sink toolkit; release() runs after the writer closed. */
export async function natsOutput(o: NatsOutputOptions, release: () => Promise<void>): Promise<Output & { readonly writer: BatchWriter<null> }> {
  const tooLarge = (rows: number) => {
    o.counters.add('dropped', rows);
    o.stats.dropped(NAME, 'event-larger-than-max-payload', rows);
  };
  const encoder = new NatsEncoder(o.subject, o.format, o.maxPayload, tooLarge);
  const { jetstream } = await import('@nats-io/jetstream');
  const target = new NatsTarget(o.nc, jetstream(o.nc), o.counters, o.where);
  const { nc: _nc, where: _where, subject: _subject, format: _format, maxPayload: _max, ...writer } = o;
  return writerOutput(target, { ...writer, name: NAME, encoder, meta: null, isBadData }, release);
}

// ------------------------------------------------------------------ opening

/** The stream that stores the template's subjects: found, or made under --natsOutputStream. */
async function ensureStream(jsm: JetStreamManager, s: { natsOutputStream: string; natsOutputStreamMaxAge: number }, subject: SubjectTemplate, log: Log): Promise<string> {
  try {
    return await jsm.streams.find(subject.sample);
  } catch (e) {
    if ((e as Error).name !== 'StreamNotFoundError') throw new ConfigError('natsOutputServer', `--natsOutputServer: cannot look up the stream of ${subject.sample}: ${(e as Error).message}`);
  }
  if (s.natsOutputStream === '' || subject.streamSubject === null) {
    throw new ConfigError('natsOutputStream', `--natsOutputStream: no JetStream stream stores ${subject.sample}: create one (nats stream add), or name one for dnslens to create`);
  }
  const { RetentionPolicy, StorageType } = await import('@nats-io/jetstream');
  try {
    await jsm.streams.add({
      name: s.natsOutputStream,
      subjects: [subject.streamSubject],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      max_age: s.natsOutputStreamMaxAge * 1e6,
      duplicate_window: DUPLICATE_WINDOW_NS,
    });
  } catch (e) {
    throw new ConfigError('natsOutputStream', `--natsOutputStream ${s.natsOutputStream}: cannot create the stream on ${subject.streamSubject}: ${(e as Error).message}`);
  }
  log.info({ stream: s.natsOutputStream, subjects: subject.streamSubject }, 'JetStream stream created');
  return s.natsOutputStream;
}

async function openSpool(dir: string): Promise<Spool<null> | null> {
  if (dir === '') return null;
  try {
    return await Spool.open(dir, { maxBytes: SPOOL_MAX_BYTES, codec: SPOOL_CODEC });
  } catch (e) {
    const why = e instanceof SpoolBusyError ? `another dnslens (pid ${e.pid}) uses it` : (e as Error).message;
    throw new ConfigError('natsSpoolDir', `--natsSpoolDir ${dir}: ${why}`);
  }
}

export async function openNats(ctx: Context<NatsOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const servers = checkServers('natsOutputServer', s.natsOutputServer, () => '');
  const subject = parseSubject(s.natsOutputSubject); // check() has vetted it
  const nc: NatsConnection = await connectNats({ option: 'natsOutputServer', servers, auth: authOf(s, 'natsOutput'), name: `dnslens ${ctx.run.server} (output)`, log: ctx.log, skipTlsVerify: ctx.run.skipTlsVerify });
  let spool: Spool<null> | null = null;
  try {
    const { jetstreamManager } = await import('@nats-io/jetstream');
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc);
    } catch (e) {
      throw new ConfigError('natsOutputServer', `--natsOutputServer ${servers.join(',')}: no JetStream there (start nats-server with -js): ${(e as Error).message}`);
    }
    const stream = await ensureStream(jsm, s, subject, ctx.log);
    spool = await openSpool(s.natsSpoolDir);
    const maxPayload = (nc.info?.max_payload ?? 1 << 20) - HEADER_ROOM;
    const output = await natsOutput(
      {
        nc,
        where: servers.join(','),
        subject,
        format: s.natsOutputFormat as NatsFormat,
        maxPayload,
        batchSize: s.natsBatchSize,
        delayMs: s.natsBatchDelay,
        spool,
        stats: ctx.stats,
        counters: ctx.counters,
        log: ctx.log,
      },
      async () => {
        await closeNats(nc);
        await spool?.release();
      },
    );
    ctx.log.debug({ servers, stream, maxPayload }, 'NATS output open');
    return { output };
  } catch (e) {
    await nc.close();
    await spool?.release();
    throw e;
  }
}
