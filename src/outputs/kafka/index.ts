// The Kafka output: batches of events produced to Kafka with @platformatic/kafka, a maintained
// pure-JS client. Each record is one topic's and key's share of a batch (mapping.ts), its value the
// same message the NATS output sends (JSON lines or the binary encoding, src/bus/codec.ts,
// docs/nats.md). A batch counts as sent once the producer's send resolved with the asked acks;
// until then it is retried with backoff, queued, and spooled with --kafkaSpoolDir (sink toolkit).
// dnsmonster's flags (--kafkaOutputType, ...Broker, ...Topic, --kafkaBatchSize, --kafkaCompress, ...)
// with a topic template, a key, acks and SASL added. The client library loads when the output opens.
import zlib from 'node:zlib';
import { defineOutput } from '../../component.js';
import { checkBrokers, checkSecurity, securityOf, securityOptions } from '../../bus/kafka.js';
import { bool, choice, ConfigError, dur, int, list, outputType, str } from '../../options.js';
import { SINK_COUNTERS } from '../sink/writer.js';
import { ACKS, COMPRESSIONS, compressionAvailable, KEYS, parseTopic } from './mapping.js';

const S = 'kafka_output';

export const OPTIONS = [
  outputType('kafka', S, 'Kafka'),
  list('kafkaOutputBroker', S, 'Kafka broker address(es), e.g. 127.0.0.1:9092; comma separated or repeated'),
  str('kafkaOutputTopic', S, 'dnsmonster', 'Topic template: letters, digits, . _ - and {field} placeholders, e.g. dns.{server} (the fields of --natsOutputSubject, docs/nats.md)'),
  int('kafkaBatchSize', S, 1000, 'Events per batch (one record per topic and key, cut at --kafkaMaxMessageBytes)', 'ready', 1),
  int('kafkaTimeout', S, 3, 'Kafka connection timeout in seconds', 'ready', 1),
  dur('kafkaBatchDelay', S, '1s', 'Send a partial Kafka batch after this long'),
  bool('kafkaCompress', S, 'Compress the Kafka records (--kafkaCompressiontype)'),
  choice('kafkaCompressiontype', S, 'snappy', COMPRESSIONS, 'Kafka compression, with --kafkaCompress (zstd needs Node.js 22.15 or later)'),
  choice('kafkaOutputKey', S, 'none', KEYS, 'Record key: none (records spread over the partitions), client (the DNS client address), server (the DNS server address) or qname; a key makes one record per key of a batch'),
  choice('kafkaAcks', S, 'all', ACKS, 'Acknowledgements a batch waits for: all (-1, every in-sync replica), 1 (the leader) or 0 (none: sent is not stored)'),
  choice('kafkaOutputFormat', S, 'binary', ['binary', 'json'], 'Record value: binary (compact, schema in docs/nats.md) or json (JSON lines), as --natsOutputFormat'),
  int('kafkaMaxMessageBytes', S, 1_000_000, "Largest record: the broker's message.max.bytes (default 1 MB); a batch's share of a topic and key is cut into records below it", 'ready', 4096),
  str('kafkaSpoolDir', S, '', 'Directory where batches wait on disk while the brokers are down (and at exit), replayed in order, also by the next run; empty: in memory only'),
  ...securityOptions('kafka', S),
] as const;

export type KafkaOptions = typeof OPTIONS;

// The toolkit's counters but that of file imports (resumed), and the records produced.
const { resumed: _fileImportsOnly, ...SENDING } = SINK_COUNTERS;
export const KAFKA_COUNTERS: Readonly<Record<string, string>> = { ...SENDING, records: 'records produced' };

export const kafka = defineOutput({
  kind: 'output',
  name: 'kafka',
  section: S,
  options: OPTIONS,
  typeOption: 'kafkaOutputType',
  counters: KAFKA_COUNTERS,
  check(s, from) {
    if (s.kafkaOutputType === 0) return;
    checkBrokers('kafkaOutputBroker', s.kafkaOutputBroker, from);
    try {
      parseTopic(s.kafkaOutputTopic);
    } catch (e) {
      throw new ConfigError('kafkaOutputTopic', `--kafkaOutputTopic: ${(e as Error).message}${from('kafkaOutputTopic')}`);
    }
    if (s.kafkaCompress && !compressionAvailable(s.kafkaCompressiontype, zlib as { zstdCompressSync?: unknown })) {
      throw new ConfigError('kafkaCompressiontype', `--kafkaCompressiontype: ${s.kafkaCompressiontype} needs Node.js 22.15 or later (this is ${process.version}); use gzip, snappy or lz4${from('kafkaCompressiontype')}`);
    }
    checkSecurity('kafka', securityOf(s, 'kafka'), from as (o: string) => string);
  },
  open: async (ctx) => (await import('./output.js')).openKafka(ctx),
});
