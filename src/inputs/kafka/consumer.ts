// The Kafka input's consuming side: a consumer in --kafkaInputGroup, each record one batch tagged
// with its receipt; offsets are committed by hand (no autocommit), in partition order, once the
// receipts are settled (offsets.ts). Loaded when the input opens.
import type { Consumer, Message, MessagesStream } from '@platformatic/kafka';
import { tagReceipt, type Context, type OpenedInput } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Log } from '../../log.js';
import type { Counters } from '../../stats.js';
import { decodeMessage, messageId } from '../../bus/codec.js';
import { checkBrokers, connectionOptions, kafkaErrorText, securityOf } from '../../bus/kafka.js';
import { ConfigError } from '../../options.js';
import { inputTopics, type KafkaInputOptions } from './index.js';
import { CommitOrder } from './offsets.js';

const CLOSE_WAIT_MS = 30_000; // at the end, how long the outputs get to confirm what is in flight

/** The consumer's options (ConsumerOptions of @platformatic/kafka) from the flags: offsets are
 *  committed by hand, a group without committed offsets starts at the earliest record. */
export function consumerOptions(s: { kafkaInputGroup: string; kafkaInputTimeout: number }, brokers: string[], o: { server: string; skipTlsVerify: boolean; security: ReturnType<typeof securityOf> }) {
  return {
    clientId: `dnslens-${o.server}-collector`.replace(/[^A-Za-z0-9._-]/g, '_'),
    groupId: s.kafkaInputGroup,
    bootstrapBrokers: brokers,
    autocommit: false as const,
    ...connectionOptions(o.security, { timeoutMs: s.kafkaInputTimeout * 1000, skipTlsVerify: o.skipTlsVerify }),
  };
}

/** Records -> event batches, each committed once its receipt is settled (and those before it). */
export class KafkaFeed {
  private readonly order = new CommitOrder<Message>();
  private stopped = false;
  private idle: (() => void) | null = null;

  constructor(
    private readonly stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>,
    private readonly counters: Counters,
    private readonly log: Log,
    signal?: AbortSignal,
  ) {
    signal?.addEventListener('abort', () => void this.stop(), { once: true });
    if (signal?.aborted) void this.stop();
  }

  async *batches(): AsyncGenerator<DnsEvent[]> {
    for await (const m of this.stream as AsyncIterable<Message>) {
      this.counters.add('records');
      const settle = this.order.take(`${m.topic}:${m.partition}`, m);
      let events: DnsEvent[];
      try {
        events = decodeMessage(m.value);
      } catch (e) {
        // Another producer's record on these topics: it never decodes; passed over (committed).
        this.counters.add('undecodable');
        this.log.error({ topic: m.topic, partition: m.partition, offset: String(m.offset), err: (e as Error).message }, 'a record that is no dnslens batch: passed over');
        this.commit(settle());
        continue;
      }
      this.counters.add('events', events.length);
      tagReceipt(events, {
        token: `kafka:${messageId(m.value)}`,
        nowSec: Math.floor(Number(m.timestamp) / 1000), // the record's time: the same on every delivery
        settled: () => this.commit(settle()),
      });
      yield events;
      if (this.stopped) break;
    }
  }

  private commit(m: Message | null): void {
    if (m) {
      Promise.resolve(m.commit()).then(
        () => this.counters.add('committed'),
        (e: unknown) => this.log.warn({ topic: m.topic, partition: m.partition, err: kafkaErrorText(e) }, 'offset commit failed: the records after the last commit are read again'),
      );
    }
    if (this.order.pending === 0) this.idle?.();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.stream.close().catch(() => undefined);
  }

  /** After the run: wait (a while) for the outputs to confirm what is in flight, to commit it now. */
  async close(): Promise<void> {
    await this.stop();
    if (this.order.pending > 0) {
      this.log.info({ records: this.order.pending }, 'waiting for the outputs to store the records in flight');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, CLOSE_WAIT_MS);
        this.idle = () => {
          clearTimeout(t);
          resolve();
        };
      });
      if (this.order.pending > 0) this.log.warn({ records: this.order.pending }, 'records not stored yet: not committed, read again by the group');
    }
  }
}

/** Closes without waiting for the group's goodbye (a broker that is gone would hold it). */
function closeNow(c: Consumer): Promise<void> {
  return new Promise<void>((resolve) => c.close(true, () => resolve()));
}

export async function openKafkaInput(ctx: Context<KafkaInputOptions>): Promise<OpenedInput> {
  const s = ctx.settings;
  const brokers = checkBrokers('kafkaInputBroker', s.kafkaInputBroker, () => '');
  const { Consumer } = await import('@platformatic/kafka');
  const consumer: Consumer = new Consumer(consumerOptions(s, brokers, { server: ctx.run.server, skipTlsVerify: ctx.run.skipTlsVerify, security: securityOf(s, 'kafkaInput') }));
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
  try {
    stream = await consumer.consume({ topics: inputTopics(s.kafkaInputTopic), mode: 'committed', fallbackMode: 'earliest' });
  } catch (e) {
    await closeNow(consumer);
    throw new ConfigError('kafkaInputBroker', `--kafkaInputBroker ${brokers.join(',')}: cannot consume ${s.kafkaInputTopic} in group ${s.kafkaInputGroup}: ${kafkaErrorText(e)}`);
  }
  const feed = new KafkaFeed(stream, ctx.counters, ctx.log, ctx.run.signal);
  ctx.log.debug({ brokers, topics: s.kafkaInputTopic, group: s.kafkaInputGroup }, 'Kafka input open');
  return {
    feeds: [{ kind: 'events', events: feed.batches(), transformed: true }],
    close: async () => {
      await feed.close();
      await closeNow(consumer);
    },
    endsOnAbort: true,
    live: true,
  };
}
