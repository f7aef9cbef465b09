// The NATS input's consuming side: a durable pull consumer on the stream, each message one batch
// tagged with its receipt. A message is acknowledged when the receipt is settled (every output has
// its events); while it waits (a store down), the server is told every third of --natsInputAckWait
// that it is still being worked on, so it is not delivered again meanwhile. Loaded when the input opens.
import type { Consumer, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { tagReceipt, type Context, type OpenedInput } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Log } from '../../log.js';
import type { Counters } from '../../stats.js';
import { decodeMessage, messageId } from '../../bus/codec.js';
import { authOf, checkServers, closeNats, connectNats } from '../../bus/nats.js';
import { ConfigError } from '../../options.js';
import type { NatsInputOptions } from './index.js';

const MAX_ACK_PENDING = 256; // messages out and not acknowledged, per consumer
const PREFETCH = 8; // messages the client holds before the pipeline asks (each up to max_payload)
const CLOSE_WAIT_MS = 30_000; // at the end, how long the outputs get to confirm what is in flight

/** Messages -> event batches, each acknowledged once its receipt is settled. */
export class NatsFeed {
  private readonly inFlight = new Set<JsMsg>();
  private readonly timer: NodeJS.Timeout;
  private messages: { close(): Promise<void | Error> } | null = null;
  private stopped = false;
  private idle: (() => void) | null = null;

  constructor(
    private readonly consumer: Consumer,
    private readonly counters: Counters,
    private readonly log: Log,
    ackWaitMs: number,
    signal?: AbortSignal,
  ) {
    this.timer = setInterval(() => {
      for (const m of this.inFlight) m.working();
    }, ackWaitMs / 3);
    this.timer.unref();
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    if (signal?.aborted) this.stopped = true;
  }

  async *batches(): AsyncGenerator<DnsEvent[]> {
    if (this.stopped) return;
    const messages = await this.consumer.consume({ max_messages: PREFETCH });
    this.messages = messages;
    if (this.stopped) await messages.close();
    for await (const m of messages) {
      this.counters.add('messages');
      if (m.redelivered) this.counters.add('redelivered');
      let events: DnsEvent[];
      try {
        events = decodeMessage(m.data);
      } catch (e) {
        // Another publisher's message on these subjects: it never decodes, so it is not delivered again.
        this.counters.add('undecodable');
        this.log.error({ subject: m.subject, seq: m.info.streamSequence, err: (e as Error).message }, 'a message that is no dnslens batch: terminated, not delivered again');
        m.term('not a dnslens batch');
        continue;
      }
      this.counters.add('events', events.length);
      this.inFlight.add(m);
      tagReceipt(events, {
        token: `nats:${messageId(m.data)}`,
        nowSec: Math.floor(m.info.timestampNanos / 1e9), // when the stream stored it: the same on every delivery
        settled: () => this.settled(m),
      });
      yield events;
    }
  }

  private settled(m: JsMsg): void {
    if (!this.inFlight.delete(m)) return;
    m.ack();
    this.counters.add('acked');
    if (this.inFlight.size === 0) this.idle?.();
  }

  /** No more messages are taken (the run was stopped): the batches end. */
  async stop(): Promise<void> {
    this.stopped = true;
    // the iterator ends at once; its goodbye to a server that is gone is not waited for
    void this.messages?.close().catch(() => undefined);
  }

  /** After the run: wait (a while) for the outputs to confirm what is in flight, to acknowledge it
   *  now rather than have it delivered again to the next run. */
  async close(): Promise<void> {
    await this.stop();
    if (this.inFlight.size > 0) {
      this.log.info({ messages: this.inFlight.size }, 'waiting for the outputs to store the messages in flight');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, CLOSE_WAIT_MS);
        this.idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
      if (this.inFlight.size > 0) this.log.warn({ messages: this.inFlight.size }, 'messages not stored yet: not acknowledged, the server delivers them again');
    }
    clearInterval(this.timer);
  }
}

/** The durable consumer: made when missing; one that reads other subjects is a setting to fix. */
async function ensureConsumer(jsm: JetStreamManager, stream: string, durable: string, subject: string, ackWaitMs: number): Promise<void> {
  const { AckPolicy, DeliverPolicy } = await import('@nats-io/jetstream');
  const ackWait = ackWaitMs * 1e6; // ns
  try {
    const info = await jsm.consumers.info(stream, durable);
    const reads = info.config.filter_subject ?? info.config.filter_subjects?.join(',') ?? '>';
    if (reads !== subject) throw new ConfigError('natsInputDurable', `--natsInputDurable ${durable}: that consumer of stream ${stream} reads ${reads}, not ${subject}: give another name, or delete it`);
    if (info.config.ack_wait !== ackWait) await jsm.consumers.update(stream, durable, { ack_wait: ackWait });
    return;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if ((e as Error).name !== 'ConsumerNotFoundError') throw new ConfigError('natsInputDurable', `--natsInputDurable ${durable}: ${(e as Error).message}`);
  }
  await jsm.consumers.add(stream, {
    durable_name: durable,
    filter_subject: subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: ackWait,
    max_ack_pending: MAX_ACK_PENDING,
  });
}

export async function openNatsInput(ctx: Context<NatsInputOptions>): Promise<OpenedInput> {
  const s = ctx.settings;
  const servers = checkServers('natsInputServer', s.natsInputServer, () => '');
  const nc: NatsConnection = await connectNats({ option: 'natsInputServer', servers, auth: authOf(s, 'natsInput'), name: `dnslens ${ctx.run.server} (input)`, log: ctx.log, skipTlsVerify: ctx.run.skipTlsVerify });
  try {
    const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
    let jsm: JetStreamManager;
    try {
      jsm = await jetstreamManager(nc);
    } catch (e) {
      throw new ConfigError('natsInputServer', `--natsInputServer ${servers.join(',')}: no JetStream there (start nats-server with -js): ${(e as Error).message}`);
    }
    let stream = s.natsInputStream;
    if (stream === '') {
      try {
        stream = await jsm.streams.find(s.natsInputSubject);
      } catch (e) {
        throw new ConfigError('natsInputSubject', `--natsInputSubject ${s.natsInputSubject}: no stream stores it yet (a sensor with --natsOutputType creates one): ${(e as Error).message}`);
      }
    }
    await ensureConsumer(jsm, stream, s.natsInputDurable, s.natsInputSubject, s.natsInputAckWait);
    const consumer = await jetstream(nc).consumers.get(stream, s.natsInputDurable);
    const feed = new NatsFeed(consumer, ctx.counters, ctx.log, s.natsInputAckWait, ctx.run.signal);
    ctx.log.debug({ servers, stream, durable: s.natsInputDurable }, 'NATS input open');
    return {
      feeds: [{ kind: 'events', events: feed.batches(), transformed: true }],
      close: async () => {
        await feed.close();
        await closeNats(nc);
      },
      endsOnAbort: true,
      live: true,
    };
  } catch (e) {
    await nc.close();
    throw e;
  }
}
