// --kafkaInputBroker: the collector side of a Kafka bus. Consumes what dnslens sensors produce
// (the Kafka output: JSON lines or the binary encoding, told apart per record, src/bus/codec.ts) in
// a consumer group, into any output. At-least-once: a record's offset is committed only once every
// output has its events (component.ts, Receipt) and every earlier record of its partition is
// stored (offsets.ts); a record read again goes under the same deduplication token (its content's
// hash), so ClickHouse stores it once. The client library loads when the input opens (consumer.ts).
import { defineInput } from '../../component.js';
import { checkBrokers, checkSecurity, securityOf, securityOptions } from '../../bus/kafka.js';
import { ConfigError, int, list, str } from '../../options.js';

const S = 'kafka_input';

export const OPTIONS = [
  list('kafkaInputBroker', S, 'Consume what dnslens sensors produce (--kafkaOutputType) from these Kafka broker(s), host:port; comma separated or repeated'),
  str('kafkaInputTopic', S, 'dnsmonster', 'Topic(s) to consume, comma separated; the default is that of --kafkaOutputTopic (a template with fields makes several topics: list them)'),
  str('kafkaInputGroup', S, 'dnslens', 'Consumer group: it keeps the committed offsets across restarts, and collectors that share it share the partitions'),
  int('kafkaInputTimeout', S, 10, 'Kafka connection timeout in seconds', 'ready', 1),
  ...securityOptions('kafkaInput', S),
] as const;

export type KafkaInputOptions = typeof OPTIONS;

export const KAFKA_INPUT_COUNTERS = {
  records: 'records received',
  events: 'events',
  committed: 'offset commits',
  undecodable: 'records not dnslens batches',
};

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

/** The topics of --kafkaInputTopic. */
export function inputTopics(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

export const kafkaInput = defineInput({
  kind: 'input',
  name: 'kafka-input',
  section: S,
  options: OPTIONS,
  counters: KAFKA_INPUT_COUNTERS,
  given: (s) => (s.kafkaInputBroker.length > 0 ? 'kafkaInputBroker' : undefined),
  isFile: () => false,
  check(s, from) {
    if (s.kafkaInputBroker.length === 0) return;
    checkBrokers('kafkaInputBroker', s.kafkaInputBroker, from);
    const topics = inputTopics(s.kafkaInputTopic);
    const bad = topics.find((t) => !TOPIC.test(t));
    if (topics.length === 0 || bad !== undefined) throw new ConfigError('kafkaInputTopic', `--kafkaInputTopic: "${bad ?? ''}" is not a topic name (letters, digits, . _ -)${from('kafkaInputTopic')}`);
    if (!TOPIC.test(s.kafkaInputGroup)) throw new ConfigError('kafkaInputGroup', `--kafkaInputGroup: "${s.kafkaInputGroup}" is not a group name (letters, digits, . _ -)${from('kafkaInputGroup')}`);
    checkSecurity('kafkaInput', securityOf(s, 'kafkaInput'), from as (o: string) => string);
  },
  open: async (ctx) => (await import('./consumer.js')).openKafkaInput(ctx),
});
