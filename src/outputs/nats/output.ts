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
import { messageId } from '../../bus/codec.js';
import { authOf, checkServers, closeNats, connectNats, isConnected, isUnreachableNats } from '../../bus/nats.js';
import { ConfigError } from '../../options.js';
import { BusEncoder, framesOf, type BusFormat } from '../format/bus-messages.js';
import { StoppedWaiting, stoppedOutput, untilReachable } from '../sink/reachable.js';
import { framesCodec, openFramesSpool, type Spool } from '../sink/spool.js';
import { sinkContext, writerOutput, type BatchWriter, type SinkBatch, type SinkTarget, type WriterOptions } from '../sink/writer.js';
import type { NatsOptions } from './index.js';
import { parseSubject, type SubjectTemplate } from './subject.js';

export const NAME = 'nats';

const ACK_TIMEOUT_MS = 10_000; // per message, for the stream's acknowledgement
const HEADER_ROOM = 256; // of the server's max_payload, kept for the message-id header
const SPOOL_MAX_BYTES = 4 * 1024 ** 3;
const DUPLICATE_WINDOW_NS = 120e9; // a stream dnslens creates drops a repeated message id within 2 min

export type NatsFormat = BusFormat;

// The encoding is the bus's (format/bus-messages.ts): a message per subject.
export { BusEncoder as NatsEncoder, framesOf };

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
    const acks = await Promise.allSettled(framesOf(data).map((f) => this.js.publish(f.route, f.payload, { msgID: messageId(f.payload), timeout: ACK_TIMEOUT_MS })));
    let failure: unknown;
    for (const a of acks) {
      if (a.status === 'rejected') failure ??= a.reason;
      else this.counters.add(a.value.duplicate ? 'duplicates' : 'messages');
    }
    if (failure !== undefined) throw failure;
  }
}

// The spool keeps a batch's frames as they are.
export const SPOOL_CODEC = framesCodec('nats-frames');

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
  const encoder = new BusEncoder(o.subject, o.format, o.maxPayload, tooLarge);
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

/** True when one of the servers greets a plain TCP connection as NATS does (INFO) within 3 s. */
async function answers(servers: readonly string[]): Promise<boolean> {
  const { connect } = await import('node:net');
  const one = (server: string) =>
    new Promise<boolean>((resolve) => {
      const u = new URL(server);
      const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 4222), timeout: 3000 });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('data', (d: Buffer) => done(d.subarray(0, 5).toString() === 'INFO '));
      socket.once('timeout', () => done(false));
      socket.once('error', () => done(false));
      socket.once('close', () => done(false));
    });
  return (await Promise.all(servers.map(one))).some(Boolean);
}

export async function openNats(ctx: Context<NatsOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const servers = checkServers('natsOutputServer', s.natsOutputServer, () => '');
  const subject = parseSubject(s.natsOutputSubject); // check() has vetted it
  // A server that cannot be reached yet is waited for (retried with backoff, until SIGINT/SIGTERM);
  // a refused login or certificate stops the run (ConfigError, exit 2).
  const connecting = async () => {
    try {
      return await connectNats({ option: 'natsOutputServer', servers, auth: authOf(s, 'natsOutput'), name: `dnslens ${ctx.run.server} (output)`, log: ctx.log, skipTlsVerify: ctx.run.skipTlsVerify });
    } catch (e) {
      // The client says only "timeout" when the server took the connection but the handshake
      // failed (a client certificate it wanted): a server that greets as NATS is not waited for.
      // A refused connection is never probed (a server coming up meanwhile is still waited for).
      if (isUnreachableNats(e) && /timeout|timed out/i.test((e as Error).message ?? '') && (await answers(servers))) throw Object.assign(e as Error, { answered: true });
      throw e;
    }
  };
  const unreachable = (e: unknown) => isUnreachableNats(e) && !(e as { answered?: boolean }).answered;
  let nc: NatsConnection;
  try {
    nc = await untilReachable(`NATS at ${servers.join(',')}`, connecting, unreachable, ctx.log, ctx.run.signal, { discard: (late) => late.close() });
  } catch (e) {
    if (e instanceof StoppedWaiting) return { output: stoppedOutput(NAME, ctx.stats, ctx.counters) };
    throw e;
  }
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
    spool = await openFramesSpool('natsSpoolDir', s.natsSpoolDir, SPOOL_CODEC, SPOOL_MAX_BYTES);
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
        ...sinkContext(ctx),
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
