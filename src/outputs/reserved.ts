// dnsmonster's outputs that dnslens does not have yet. Their flags are reserved with dnsmonster's
// names and defaults, so a dnsmonster configuration reads; any other value stops dnslens with
// exit code 2 (status `later` in the reference). Each becomes a folder of its own when built.
import { defineOutput, type OutputComponent } from '../component.js';
import { bool, choice, dur, int, later, list, outputType, str, type OptionSpec } from '../options.js';

function reserved(name: string, section: string, what: string, options: readonly OptionSpec[]): OutputComponent {
  const specs = later(what, options);
  return defineOutput({
    kind: 'output',
    name,
    section,
    options: specs,
    typeOption: specs[0].name,
    open: () => Promise.reject(new Error(`${what}: not implemented yet`)),
  });
}

export const RESERVED: readonly OutputComponent[] = [
  reserved('kafka', 'kafka_output', 'kafka output', [
    outputType('kafka', 'kafka_output', 'Kafka'),
    list('kafkaOutputBroker', 'kafka_output', 'Kafka broker address(es), e.g. 127.0.0.1:9092; comma separated or repeated'),
    str('kafkaOutputTopic', 'kafka_output', 'dnsmonster', 'Kafka topic'),
    int('kafkaBatchSize', 'kafka_output', 1000, 'Kafka batch size', 'ready', 1),
    int('kafkaTimeout', 'kafka_output', 3, 'Kafka connection timeout in seconds'),
    dur('kafkaBatchDelay', 'kafka_output', '1s', 'Send a partial Kafka batch after this long'),
    bool('kafkaCompress', 'kafka_output', 'Compress the Kafka connection'),
    choice('kafkaCompressiontype', 'kafka_output', 'snappy', ['gzip', 'snappy', 'lz4', 'zstd'], 'Kafka compression'),
    bool('kafkaSecure', 'kafka_output', 'Use TLS for Kafka'),
    str('kafkaCACertificatePath', 'kafka_output', '', 'CA certificate that signs the Kafka broker certificate'),
    str('kafkaTLSCertificatePath', 'kafka_output', '', 'TLS client certificate for Kafka'),
    str('kafkaTLSKeyPath', 'kafka_output', '', 'TLS client key for Kafka'),
  ]),
];
