// The Kafka output's pure side, testable without a broker: the topic template, the record key,
// events -> records (the value is the very message the NATS output sends for the same events:
// format/bus-messages.ts), and the producer's options from the flags.
import type { DnsEvent } from '../../event.js';
import { connectionOptions, type KafkaConnection, type KafkaSecurity } from '../../bus/kafka.js';
import { BusEncoder, framesOf, type BusFormat } from '../format/bus-messages.js';
import { parseNameTemplate } from '../format/name-template.js';

export const TOPIC_MAX = 249; // Kafka's longest topic name
export const KEYS = ['none', 'client', 'server', 'qname'] as const;
export type KeyChoice = (typeof KEYS)[number];
export const ACKS = ['all', '-1', '1', '0'] as const;
export const COMPRESSIONS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
// Of --kafkaMaxMessageBytes, kept for the key, the record's framing and the batch header.
export const RECORD_ROOM = 1024;

export interface TopicTemplate {
  /** The topic of an event; null when it would pass 249 characters (the event is dropped, counted). */
  render(ev: DnsEvent): string | null;
  readonly sample: string;
}

const TOPIC_LITERAL = /^[A-Za-z0-9._-]*$/;

/** --kafkaOutputTopic parsed: literal text of A-Z a-z 0-9 . _ - and {field} placeholders (the NATS
 *  subject's fields, format/name-template.ts). Throws an Error saying what is wrong. */
export function parseTopic(template: string): TopicTemplate {
  const t = parseNameTemplate(template);
  if (!t.literals.every((l) => TOPIC_LITERAL.test(l))) throw new Error(`"${template}": a topic is letters, digits, ".", "_" and "-", and fields are written {name}`);
  if (t.sample === '' || t.sample === '.' || t.sample === '..') throw new Error(`"${template}": not a topic name`);
  if (t.sample.length > TOPIC_MAX) throw new Error(`"${template}": a topic is at most ${TOPIC_MAX} characters`);
  if (t.fields === 0) return { render: () => t.sample, sample: t.sample };
  return {
    render: (ev) => {
      const topic = t.render(ev);
      return topic.length > TOPIC_MAX ? null : topic;
    },
    sample: t.sample,
  };
}

/** The record key of an event: the DNS client's address (the query's source, the response's
 *  destination), the DNS server's address (the other end), or the query name; '' for none. */
export function keyOf(choice: KeyChoice): (ev: DnsEvent) => string {
  switch (choice) {
    case 'client':
      return (ev) => (ev.qr ? ev.dstIp : ev.srcIp);
    case 'server':
      return (ev) => (ev.qr ? ev.srcIp : ev.dstIp);
    case 'qname':
      return (ev) => ev.qname;
    default:
      return () => '';
  }
}

// A message's route in the batch frames: the topic, and after a newline (no topic has one) the key.
const SEP = '\n';

/** Events -> routes: one Kafka message per topic and key of a batch. */
export function kafkaRoute(topic: TopicTemplate, key: KeyChoice): { render(ev: DnsEvent): string | null } {
  if (key === 'none') return topic;
  const k = keyOf(key);
  return {
    render(ev) {
      const t = topic.render(ev);
      return t === null ? null : t + SEP + k(ev);
    },
  };
}

export interface KafkaRecord {
  topic: string;
  key?: Buffer;
  value: Buffer;
}

/** A batch's frames as records; an empty key (an event without address) is sent as no key. */
export function kafkaRecords(data: Buffer): KafkaRecord[] {
  return framesOf(data).map((f) => {
    const at = f.route.indexOf(SEP);
    const value = Buffer.from(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
    if (at < 0) return { topic: f.route, value };
    const key = f.route.slice(at + 1);
    return key === '' ? { topic: f.route.slice(0, at), value } : { topic: f.route.slice(0, at), key: Buffer.from(key, 'utf8'), value };
  });
}

/** The encoder of the output's batches: each record's value at most maxMessageBytes - RECORD_ROOM. */
export function kafkaEncoder(o: { topic: TopicTemplate; key: KeyChoice; format: BusFormat; maxMessageBytes: number; tooLarge: (rows: number) => void; topicTooLong: (rows: number) => void }): BusEncoder {
  return new BusEncoder(kafkaRoute(o.topic, o.key), o.format, o.maxMessageBytes - RECORD_ROOM, o.tooLarge, o.topicTooLong);
}

/** --kafkaAcks as the protocol's number: all (-1) waits for every in-sync replica, 1 for the leader, 0 for none. */
export function acksOf(acks: string): -1 | 0 | 1 {
  if (acks === 'all' || acks === '-1') return -1;
  if (acks === '1') return 1;
  if (acks === '0') return 0;
  throw new Error(`acks ${acks}: not one of ${ACKS.join(', ')}`);
}

/** Whether this Node.js can compress so (zstd needs node:zlib's zstd, Node.js 22.15 and later). */
export function compressionAvailable(type: string, zlib: { zstdCompressSync?: unknown }): boolean {
  if (type === 'zstd') return typeof zlib.zstdCompressSync === 'function';
  return (COMPRESSIONS as readonly string[]).includes(type);
}

export interface ProducerFlags {
  brokers: string[]; // checked
  server: string; // --serverName, in the client id
  acks: string;
  compress: boolean;
  compressionType: string;
  timeoutSec: number;
  security: KafkaSecurity;
  skipTlsVerify: boolean;
}

/** The producer's options (ProducerOptions of @platformatic/kafka): a batch counts as sent once
 *  send() resolved with these acks. The client does not retry (the sink toolkit does, with backoff
 *  and counting) and is not idempotent (acks 0 and 1 allow no idempotence; a collector drops a
 *  message delivered twice by its content). Topics a template makes are created by the broker when
 *  it auto-creates topics. */
export function producerOptions(f: ProducerFlags): KafkaConnection & {
  clientId: string;
  bootstrapBrokers: string[];
  acks: -1 | 0 | 1;
  compression: 'none' | (typeof COMPRESSIONS)[number];
  idempotent: false;
  retries: 0;
  autocreateTopics: true;
} {
  return {
    clientId: `dnslens-${f.server}`.replace(/[^A-Za-z0-9._-]/g, '_'),
    bootstrapBrokers: f.brokers,
    acks: acksOf(f.acks),
    compression: f.compress ? (f.compressionType as (typeof COMPRESSIONS)[number]) : 'none',
    idempotent: false,
    retries: 0,
    autocreateTopics: true,
    ...connectionOptions(f.security, { timeoutMs: f.timeoutSec * 1000, skipTlsVerify: f.skipTlsVerify }),
  };
}
