// The Kafka output and input without a broker: no broker can be installed here, and none is faked.
// What is tested is ours: the records (topic per event, key per choice, the value the very message
// the NATS output sends, the size limit), the producer's and consumer's options from the flags,
// the commit order, the start-up checks (exit 2) through the built CLI, and what a real client does
// against a closed loopback port. The broker side of @platformatic/kafka is not tested here.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Producer } from '@platformatic/kafka';
import { decodeMessage } from '../src/bus/codec.js';
import { checkBrokers, securityOf } from '../src/bus/kafka.js';
import { newEvent, type DnsEvent } from '../src/event.js';
import { consumerOptions } from '../src/inputs/kafka/consumer.js';
import { CommitOrder } from '../src/inputs/kafka/offsets.js';
import { log } from '../src/log.js';
import { BusEncoder, framesOf } from '../src/outputs/format/bus-messages.js';
import { kafkaOutput, KafkaTarget } from '../src/outputs/kafka/output.js';
import { acksOf, kafkaEncoder, kafkaRecords, keyOf, parseTopic, producerOptions, RECORD_ROOM, type KeyChoice } from '../src/outputs/kafka/mapping.js';
import { parseSubject } from '../src/outputs/nats/subject.js';
import { Counters, Stats } from '../src/stats.js';
import { selfSignedCert } from './certs.js';
import { freePort } from './resolvers.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'dnslens-kafka-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function events(n: number): DnsEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    ...newEvent(),
    timeSec: 1_700_000_000 + i,
    server: i % 3 === 0 ? 'ns1.example' : 'ns2',
    qr: i % 2 === 1,
    srcIp: i % 2 === 1 ? '192.0.2.53' : `198.51.100.${i % 4}`,
    dstIp: i % 2 === 1 ? `198.51.100.${i % 4}` : '192.0.2.53',
    qname: `host${i % 5}.example`,
    qtype: 1,
  }));
}

function encode(enc: BusEncoder, evs: readonly DnsEvent[]): Buffer {
  enc.encode(evs);
  return Buffer.concat(enc.take());
}

const noDrop = () => {
  throw new Error('dropped');
};

describe('Kafka records', () => {
  it('topic template: fields as in NATS subjects, Kafka topic characters, at most 249', () => {
    const t = parseTopic('dns.{server}.{qr}');
    const [q, r] = events(2);
    expect(t.render(q)).toBe('dns.ns1_example.query');
    expect(t.render(r)).toBe('dns.ns2.response');
    expect(parseTopic('dnsmonster').render(q)).toBe('dnsmonster');
    expect(() => parseTopic('dns/{server}')).toThrow(/letters, digits/);
    expect(() => parseTopic('dns.{nope}')).toThrow(/unknown field \{nope\}/);
    expect(() => parseTopic('x'.repeat(250))).toThrow(/at most 249/);
    expect(() => parseTopic('..')).toThrow(/not a topic/);
    expect(parseTopic('t.{qname}').render({ ...q, qname: 'a'.repeat(300) })).toBeNull();
  });

  it('key per choice: the DNS client, the DNS server, the query name, or none', () => {
    const [q, r] = events(2);
    const keys = (c: KeyChoice) => [keyOf(c)(q), keyOf(c)(r)];
    expect(keys('client')).toEqual(['198.51.100.0', '198.51.100.1']);
    expect(keys('server')).toEqual(['192.0.2.53', '192.0.2.53']);
    expect(keys('qname')).toEqual(['host0.example', 'host1.example']);
    expect(keys('none')).toEqual(['', '']);
  });

  it('the value is the very message the NATS output sends for the same events (both formats), without key or headers', () => {
    const evs = events(50);
    for (const format of ['binary', 'json'] as const) {
      const nats = framesOf(encode(new BusEncoder(parseSubject('dns.{server}'), format, 1 << 20, noDrop), evs));
      const records = kafkaRecords(encode(kafkaEncoder({ topic: parseTopic('dns.{server}'), key: 'none', format, maxMessageBytes: 1_000_000, tooLarge: noDrop, topicTooLong: noDrop }), evs));
      expect(records.map((r) => [r.topic, r.value])).toEqual(nats.map((f) => [f.route, Buffer.from(f.payload)]));
      expect(records.every((r) => r.key === undefined && !('headers' in r))).toBe(true);
      expect(records.flatMap((r) => decodeMessage(r.value)).length).toBe(50);
    }
  });

  it('a key makes one record per topic and key of a batch, each holding only that key', () => {
    const evs = events(40);
    for (const key of ['client', 'server', 'qname'] as const) {
      const records = kafkaRecords(encode(kafkaEncoder({ topic: parseTopic('dns'), key, format: 'binary', maxMessageBytes: 1_000_000, tooLarge: noDrop, topicTooLong: noDrop }), evs));
      const distinct = new Set(evs.map(keyOf(key)));
      expect(records.length).toBe(distinct.size);
      let n = 0;
      for (const r of records) {
        const back = decodeMessage(r.value);
        n += back.length;
        expect(back.every((ev) => keyOf(key)(ev) === r.key!.toString())).toBe(true);
      }
      expect(n).toBe(40);
    }
  });

  it('records stay below --kafkaMaxMessageBytes; an event larger than a record and a topic too long are dropped and counted', () => {
    const evs = events(400);
    const max = 8192;
    const records = kafkaRecords(encode(kafkaEncoder({ topic: parseTopic('dns'), key: 'none', format: 'json', maxMessageBytes: max, tooLarge: noDrop, topicTooLong: noDrop }), evs));
    expect(records.length).toBeGreaterThan(5);
    expect(Math.max(...records.map((r) => r.value.length))).toBeLessThanOrEqual(max - RECORD_ROOM);
    expect(records.flatMap((r) => decodeMessage(r.value))).toEqual(evs.map((ev) => decodeMessage(kafkaRecords(encode(kafkaEncoder({ topic: parseTopic('dns'), key: 'none', format: 'json', maxMessageBytes: max, tooLarge: noDrop, topicTooLong: noDrop }), [ev]))[0].value)[0]));
    let large = 0;
    let long = 0;
    const enc = kafkaEncoder({ topic: parseTopic('t.{qname}'), key: 'none', format: 'binary', maxMessageBytes: 4096, tooLarge: (n) => (large += n), topicTooLong: (n) => (long += n) });
    const [a, b] = events(2);
    const out = kafkaRecords(encode(enc, [{ ...a, qname: 'q'.repeat(250) }, { ...b, qname: 'ok', rawLine: 'x'.repeat(5000) }, { ...b, qname: 'fine' }]));
    expect([large, long]).toEqual([1, 1]);
    expect(out.map((r) => r.topic)).toEqual(['t.fine']);
  });
});

describe('Kafka client options from the flags', () => {
  const cert = selfSignedCert(dir);
  const sec = (over: Record<string, unknown> = {}) => securityOf({ kafkaSecure: false, kafkaSaslMechanism: 'none', ...over }, 'kafka');
  const flags = { brokers: ['k1:9092'], server: 'sensor 1', acks: 'all', compress: false, compressionType: 'snappy', timeoutSec: 3, security: sec(), skipTlsVerify: false };

  it('acks, compression, timeout, no client retries (the sink toolkit retries)', () => {
    expect([acksOf('all'), acksOf('-1'), acksOf('1'), acksOf('0')]).toEqual([-1, -1, 1, 0]);
    const o = producerOptions(flags);
    expect(o).toEqual({ clientId: 'dnslens-sensor_1', bootstrapBrokers: ['k1:9092'], acks: -1, compression: 'none', idempotent: false, retries: 0, autocreateTopics: true, connectTimeout: 3000 });
    expect(producerOptions({ ...flags, compress: true, compressionType: 'lz4', acks: '0' })).toMatchObject({ compression: 'lz4', acks: 0 });
    expect(checkBrokers('kafkaOutputBroker', ['k1', '[::1]:9093', '10.0.0.1:19092'], () => '')).toEqual(['k1:9092', '[::1]:9093', '10.0.0.1:19092']);
  });

  it('TLS reads the CA and the client certificate and key; SASL passes the mechanism and credentials', () => {
    const tls = producerOptions({ ...flags, skipTlsVerify: true, security: sec({ kafkaSecure: true, kafkaCACertificatePath: cert.certPath, kafkaTLSCertificatePath: cert.certPath, kafkaTLSKeyPath: cert.keyPath }) });
    expect(tls.tls).toEqual({ ca: cert.cert, cert: cert.cert, key: cert.key, rejectUnauthorized: false });
    expect(producerOptions({ ...flags, security: sec({ kafkaSecure: true }) }).tls).toEqual({});
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
      const o = producerOptions({ ...flags, security: sec({ kafkaSaslMechanism: mechanism, kafkaSaslUsername: 'u', kafkaSaslPassword: 'p' }) });
      expect(o.sasl).toEqual({ mechanism, username: 'u', password: 'p' });
    }
    const c = consumerOptions({ kafkaInputGroup: 'g1', kafkaInputTimeout: 10 }, ['k1:9092'], { server: 's', skipTlsVerify: false, security: securityOf({ kafkaInputSecure: true, kafkaInputCACertificatePath: cert.certPath, kafkaInputSaslMechanism: 'SCRAM-SHA-512', kafkaInputSaslUsername: 'u', kafkaInputSaslPassword: 'p' }, 'kafkaInput') });
    expect(c).toEqual({ clientId: 'dnslens-s-collector', groupId: 'g1', bootstrapBrokers: ['k1:9092'], autocommit: false, connectTimeout: 10_000, tls: { ca: cert.cert }, sasl: { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' } });
  });
});

describe('Kafka input commit order', () => {
  it('commits a record only when it and every earlier record of its partition are stored', () => {
    const order = new CommitOrder<string>();
    const a0 = order.take('t:0', 'a0');
    const a1 = order.take('t:0', 'a1');
    const b0 = order.take('t:1', 'b0');
    const a2 = order.take('t:0', 'a2');
    expect(a1()).toBeNull(); // a0 not stored yet
    expect(b0()).toBe('b0');
    expect(a0()).toBe('a1'); // a0 and a1: commit up to a1
    expect(a0()).toBeNull(); // settled once
    expect(order.pending).toBe(1);
    expect(a2()).toBe('a2');
    expect(order.pending).toBe(0);
  });
});

describe('start-up checks through the built CLI (exit 2)', () => {
  const run = (args: string[]) => spawnSync(process.execPath, [MAIN, '--pcapFile', '/dev/null', ...args], { encoding: 'utf8', timeout: 60_000 });
  const out = ['--kafkaOutputType=1', '--kafkaOutputBroker=127.0.0.1:9092'];
  const cases: [string[], RegExp][] = [
    [['--kafkaOutputType=1'], /--kafkaOutputBroker: give the Kafka broker address/],
    [[...out, '--kafkaOutputTopic=dns/{server}'], /--kafkaOutputTopic: .*letters, digits/],
    [[...out, '--kafkaSaslMechanism=PLAIN', '--kafkaSaslUsername=u'], /--kafkaSaslPassword: .*needs a user name and a password/],
    [[...out, '--kafkaSaslUsername=u'], /--kafkaSaslUsername: needs --kafkaSaslMechanism/],
    [[...out, '--kafkaSaslMechanism=OAUTHBEARER'], /--kafkaSaslMechanism: "OAUTHBEARER" is not one of/],
    [[...out, '--kafkaCompress', '--kafkaCompressiontype=brotli'], /--kafkaCompressiontype: "brotli" is not one of/],
    [[...out, '--kafkaAcks=2'], /--kafkaAcks: "2" is not one of/],
    [[...out, '--kafkaSecure', '--kafkaCACertificatePath=/nonexistent/ca.pem'], /--kafkaCACertificatePath: cannot read \/nonexistent\/ca.pem: ENOENT/],
    [[...out, '--kafkaOutputBroker=bad host'], /--kafkaOutputBroker: bad host is not host:port/],
    [['--kafkaInputBroker=127.0.0.1:9092', '--kafkaInputTopic=a,b c'], /--kafkaInputTopic: "b c" is not a topic name/],
  ];
  if (!process.versions.node.match(/^2[3-9]|^22\.(1[5-9]|[2-9]\d)/)) {
    cases.push([[...out, '--kafkaCompress', '--kafkaCompressiontype=zstd'], /--kafkaCompressiontype: zstd needs Node.js 22.15 or later/]);
  }
  it.each(cases)('%j', (args, message) => {
    const r = run(['--stdoutOutputType=1', ...args]);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
  });
});

describe('a closed loopback port (a real client, no broker)', () => {
  it('output: each send fails with "Cannot connect to any broker", is retried and counted; at exit the rows are dropped and counted', async () => {
    const port = await freePort();
    const where = `127.0.0.1:${port}`;
    const producer = new Producer(producerOptions({ brokers: [where], server: 't', acks: 'all', compress: false, compressionType: 'snappy', timeoutSec: 1, security: securityOf({ kafkaSaslMechanism: 'none' }, 'kafka'), skipTlsVerify: false }));
    const counters = new Counters('kafka');
    const target = new KafkaTarget(producer, counters, where);
    const enc = kafkaEncoder({ topic: parseTopic('dns'), key: 'none', format: 'binary', maxMessageBytes: 1_000_000, tooLarge: noDrop, topicTooLong: noDrop });
    await expect(target.send({ rows: 3, meta: null, data: [encode(enc, events(3))] })).rejects.toThrow(`${where}: Cannot connect to any broker. (Connection to ${where} failed.)`);

    const stats = new Stats();
    const out = kafkaOutput({ producer, where, topic: parseTopic('dns'), key: 'client', format: 'binary', maxMessageBytes: 1_000_000, batchSize: 10, delayMs: 10, spool: null, stats, counters, log, retryInitialMs: 20, retryMaxMs: 50, closeTimeoutMs: 400 }, async () => {
      await producer.close();
    });
    await out.write(events(25));
    await new Promise((r) => setTimeout(r, 200));
    await out.close();
    expect(counters.get('failed')).toBeGreaterThan(2);
    expect(counters.get('retried')).toBeGreaterThan(1);
    expect(counters.get('sent')).toBe(0);
    expect(counters.get('dropped')).toBe(25);
    expect(stats.droppedBy.get('kafka:down-at-exit')).toBe(25);
  });

  it('input: the built CLI stops at start-up with exit 2 and says it cannot consume', async () => {
    const port = await freePort();
    const r = spawnSync(process.execPath, [MAIN, `--kafkaInputBroker=127.0.0.1:${port}`, '--stdoutOutputType=1'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toMatch(new RegExp(`--kafkaInputBroker 127.0.0.1:${port}: cannot consume dnsmonster in group dnslens: .*Cannot connect to any broker`));
    expect(r.status).toBe(2);
  });
});
