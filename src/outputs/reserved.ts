// dnsmonster's outputs that dnslens does not have yet. Their flags are reserved with dnsmonster's
// names and defaults, so a dnsmonster configuration reads; any other value stops dnslens with
// exit code 2 (status `later` in the reference). Each becomes a folder of its own when built.
import { defineOutput, type OutputComponent } from '../component.js';
import { bool, choice, dur, int, later, list, outputType, secret, str, type OptionSpec } from '../options.js';

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
  reserved('elastic', 'elastic_output', 'elasticsearch output', [
    outputType('elastic', 'elastic_output', 'Elasticsearch'),
    str('elasticOutputEndpoint', 'elastic_output', '', 'Elasticsearch endpoint, e.g. http://127.0.0.1:9200'),
    str('elasticOutputIndex', 'elastic_output', 'default', 'Elasticsearch index'),
    int('elasticBatchSize', 'elastic_output', 1000, 'Elasticsearch batch size', 'ready', 1),
    dur('elasticBatchDelay', 'elastic_output', '1s', 'Send a partial Elasticsearch batch after this long'),
  ]),
  reserved('influx', 'influx_output', 'influxdb output', [
    outputType('influx', 'influx_output', 'InfluxDB'),
    str('influxOutputServer', 'influx_output', '', 'InfluxDB server, e.g. http://localhost:8086'),
    secret(str('influxOutputToken', 'influx_output', 'dnsmonster', 'InfluxDB auth token')),
    str('influxOutputBucket', 'influx_output', 'dnsmonster', 'InfluxDB bucket'),
    str('influxOutputOrg', 'influx_output', 'dnsmonster', 'InfluxDB organisation'),
    int('influxOutputWorkers', 'influx_output', 8, 'InfluxDB workers', 'ready', 1),
    int('influxBatchSize', 'influx_output', 1000, 'InfluxDB batch size', 'ready', 1),
  ]),
  reserved('splunk', 'splunk_output', 'splunk output', [
    outputType('splunk', 'splunk_output', 'Splunk HEC'),
    list('splunkOutputEndpoint', 'splunk_output', 'Splunk HEC endpoint(s), e.g. http://127.0.0.1:8088; comma separated or repeated'),
    secret(str('splunkOutputToken', 'splunk_output', '00000000-0000-0000-0000-000000000000', 'Splunk HEC token')),
    str('splunkOutputIndex', 'splunk_output', 'temp', 'Splunk index'),
    str('splunkOutputProxy', 'splunk_output', '', 'Splunk proxy URI'),
    str('splunkOutputSource', 'splunk_output', 'dnsmonster', 'Splunk source'),
    str('splunkOutputSourceType', 'splunk_output', 'json', 'Splunk sourcetype'),
    int('splunkBatchSize', 'splunk_output', 1000, 'Splunk batch size', 'ready', 1),
    dur('splunkBatchDelay', 'splunk_output', '1s', 'Send a partial Splunk batch after this long'),
  ]),
  reserved('sentinel', 'sentinel_output', 'microsoft sentinel output', [
    outputType('sentinel', 'sentinel_output', 'Microsoft Sentinel'),
    secret(str('sentinelOutputSharedKey', 'sentinel_output', '', 'Sentinel shared key')),
    str('sentinelOutputCustomerId', 'sentinel_output', '', 'Sentinel customer id'),
    str('sentinelOutputLogType', 'sentinel_output', 'dnsmonster', 'Sentinel log type'),
    str('sentinelOutputProxy', 'sentinel_output', '', 'Sentinel proxy URI'),
    int('sentinelBatchSize', 'sentinel_output', 100, 'Sentinel batch size', 'ready', 1),
    dur('sentinelBatchDelay', 'sentinel_output', '1s', 'Send a partial Sentinel batch after this long'),
  ]),
  reserved('psql', 'psql_output', 'postgresql output', [
    outputType('psql', 'psql_output', 'PostgreSQL'),
    secret(str('psqlEndpoint', 'psql_output', '', 'PostgreSQL URI, e.g. postgres://user:pass@host:port/db?sslmode=disable')),
    int('psqlWorkers', 'psql_output', 1, 'PostgreSQL workers', 'ready', 1),
    int('psqlBatchSize', 'psql_output', 1, 'PostgreSQL batch size', 'ready', 1),
    dur('psqlBatchDelay', 'psql_output', '0s', 'Send a partial PostgreSQL batch after this long; 0 = by size only'),
    dur('psqlBatchTimeout', 'psql_output', '5s', 'Timeout of one PostgreSQL insert'),
    bool('psqlSaveFullQuery', 'psql_output', 'Also store the full message as JSON'),
  ]),
  reserved('parquet', 'parquet_output', 'parquet output', [
    outputType('parquet', 'parquet_output', 'Parquet files'),
    str('parquetOutputPath', 'parquet_output', '', 'Parquet output folder'),
    int('parquetFlushBatchSize', 'parquet_output', 10000, 'Records per Parquet flush', 'ready', 1),
    int('parquetWorkerCount', 'parquet_output', 4, 'Parquet workers', 'ready', 1),
    int('parquetWriteBufferSize', 'parquet_output', 256000, 'Parquet write buffer in bytes', 'ready', 1),
  ]),
  reserved('victoria', 'victoria_output', 'victorialogs output', [
    outputType('victoria', 'victoria_output', 'VictoriaLogs'),
    str('victoriaOutputEndpoint', 'victoria_output', '', 'VictoriaLogs jsonline insert endpoint'),
    str('victoriaOutputProxy', 'victoria_output', '', 'VictoriaLogs proxy URI'),
    int('victoriaOutputWorkers', 'victoria_output', 8, 'VictoriaLogs workers', 'ready', 1),
    int('victoriaBatchSize', 'victoria_output', 100, 'VictoriaLogs batch size', 'ready', 1),
    dur('victoriaBatchDelay', 'victoria_output', '0s', 'Send a partial VictoriaLogs batch after this long; 0 = by size only'),
  ]),
  reserved('zinc', 'zinc_output', 'zinc search output', [
    outputType('zinc', 'zinc_output', 'Zinc Search'),
    str('zincOutputIndex', 'zinc_output', 'dnsmonster', 'Zinc index'),
    str('zincOutputEndpoint', 'zinc_output', '', 'Zinc bulk endpoint, e.g. http://127.0.0.1:9200/api/default/_bulk'),
    str('zincOutputUsername', 'zinc_output', '', 'Zinc user name'),
    secret(str('zincOutputPassword', 'zinc_output', '', 'Zinc password')),
    int('zincBatchSize', 'zinc_output', 1000, 'Zinc batch size', 'ready', 1),
    dur('zincBatchDelay', 'zinc_output', '1s', 'Send a partial Zinc batch after this long'),
    dur('zincTimeout', 'zinc_output', '10s', 'Zinc request timeout'),
  ]),
];
