// The Kafka sink: the sink toolkit (../sink) with the bus encoder (records by topic and key,
// mapping.ts) and a target that produces a batch's records and waits for the asked acks.
// Loaded when the output opens. The producer connects on the first send: brokers that are down
// at start-up are an outage like any other (retried with backoff, queued, spooled, counted).
import { readFile } from 'node:fs/promises';
import type { Producer } from '@platformatic/kafka';
import type { Context, OpenedOutput, Output } from '../../component.js';
import type { Counters } from '../../stats.js';
import { checkBrokers, kafkaErrorText, securityOf } from '../../bus/kafka.js';
import type { BusFormat } from '../format/bus-messages.js';
import { framesCodec, openFramesSpool, type Spool } from '../sink/spool.js';
import { sinkContext, writerOutput, type BatchWriter, type SinkBatch, type SinkTarget, type WriterOptions } from '../sink/writer.js';
import type { KafkaOptions } from './index.js';
import { kafkaEncoder, kafkaRecords, parseTopic, producerOptions, type KeyChoice, type TopicTemplate } from './mapping.js';

export const NAME = 'kafka';
const SPOOL_MAX_BYTES = 4 * 1024 ** 3;
export const SPOOL_CODEC = framesCodec('kafka-frames');

// Refusals that sending again cannot mend: too large, a bad topic name, a topic this user may not write.
function isBadData(err: unknown): boolean {
  return /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|INVALID_TOPIC|TOPIC_AUTHORIZATION_FAILED|INVALID_RECORD/i.test(kafkaErrorText(err));
}

export class KafkaTarget implements SinkTarget<null> {
  constructor(
    private readonly producer: Pick<Producer, 'send'>,
    private readonly counters: Counters,
    readonly where: string,
  ) {}

  /** The batch's records in one send; it is sent when that resolved (with the producer's acks). */
  async send(batch: SinkBatch<null>): Promise<void> {
    const data = batch.data ? Buffer.concat(batch.data) : await readFile(batch.path!);
    const messages = kafkaRecords(data);
    try {
      await this.producer.send({ messages });
    } catch (e) {
      throw new Error(`${this.where}: ${kafkaErrorText(e)}`, { cause: e });
    }
    this.counters.add('records', messages.length);
  }
}

export interface KafkaOutputOptions extends Omit<WriterOptions<null>, 'name' | 'encoder' | 'meta' | 'counters' | 'spool'> {
  producer: Producer;
  where: string;
  topic: TopicTemplate;
  key: KeyChoice;
  format: BusFormat;
  maxMessageBytes: number;
  spool: Spool<null> | null;
  counters: Counters;
}

/** The Kafka output over the sink toolkit; release() runs after the writer closed. */
export function kafkaOutput(o: KafkaOutputOptions, release: () => Promise<void>): Output & { readonly writer: BatchWriter<null> } {
  const dropped = (reason: string) => (rows: number) => {
    o.counters.add('dropped', rows);
    o.stats.dropped(NAME, reason, rows);
  };
  const encoder = kafkaEncoder({ topic: o.topic, key: o.key, format: o.format, maxMessageBytes: o.maxMessageBytes, tooLarge: dropped('event-larger-than-max-message'), topicTooLong: dropped('topic-too-long') });
  const target = new KafkaTarget(o.producer, o.counters, o.where);
  const { producer: _p, where: _w, topic: _t, key: _k, format: _f, maxMessageBytes: _m, ...writer } = o;
  return writerOutput(target, { ...writer, name: NAME, encoder, meta: null, isBadData }, release);
}

export async function openKafka(ctx: Context<KafkaOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const brokers = checkBrokers('kafkaOutputBroker', s.kafkaOutputBroker, () => '');
  const options = producerOptions({
    brokers,
    server: ctx.run.server,
    acks: s.kafkaAcks,
    compress: s.kafkaCompress,
    compressionType: s.kafkaCompressiontype,
    timeoutSec: s.kafkaTimeout,
    security: securityOf(s, 'kafka'),
    skipTlsVerify: ctx.run.skipTlsVerify,
  });
  const spool = await openFramesSpool('kafkaSpoolDir', s.kafkaSpoolDir, SPOOL_CODEC, SPOOL_MAX_BYTES);
  const { Producer } = await import('@platformatic/kafka');
  const producer = new Producer(options);
  const output = kafkaOutput(
    {
      producer,
      where: brokers.join(','),
      topic: parseTopic(s.kafkaOutputTopic), // check() has vetted it
      key: s.kafkaOutputKey as KeyChoice,
      format: s.kafkaOutputFormat as BusFormat,
      maxMessageBytes: s.kafkaMaxMessageBytes,
      batchSize: s.kafkaBatchSize,
      delayMs: s.kafkaBatchDelay,
      spool,
      ...sinkContext(ctx),
    },
    async () => {
      await producer.close().catch(() => undefined);
      await spool?.release();
    },
  );
  ctx.log.debug({ brokers, acks: options.acks, compression: options.compression }, 'Kafka output open');
  return { output };
}
