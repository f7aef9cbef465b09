// What the Kafka output and the Kafka input share: the broker list, the TLS and SASL options
// (declared by each under its own prefix: the output keeps dnsmonster's --kafkaSecure,
// --kafkaCACertificatePath, ...; the input has --kafkaInputSecure, ...), their checks, and the
// client's connection options built from them (files read here). The client library
// (@platformatic/kafka) loads only where a connection is made.
import { accessSync, constants, readFileSync } from 'node:fs';
import { bool, choice, ConfigError, secret, str } from '../options.js';

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

/** The TLS and SASL options of one side ('kafka' for the output, 'kafkaInput'). */
export function securityOptions<const P extends string>(p: P, section: string) {
  return [
    bool(`${p}Secure`, section, 'Use TLS to the brokers'),
    str(`${p}CACertificatePath`, section, '', 'CA certificate that signs the Kafka broker certificate (TLS; default: the system CAs)'),
    str(`${p}TLSCertificatePath`, section, '', 'TLS client certificate for Kafka'),
    str(`${p}TLSKeyPath`, section, '', 'TLS client key for Kafka'),
    choice(`${p}SaslMechanism`, section, 'none', ['none', ...SASL_MECHANISMS], 'SASL authentication: none, PLAIN or SCRAM-SHA-256/512 (with the user name and password; use TLS with PLAIN)'),
    str(`${p}SaslUsername`, section, '', 'SASL user name'),
    secret(str(`${p}SaslPassword`, section, '', 'SASL password')),
  ] as const;
}

export interface KafkaSecurity {
  secure: boolean;
  caFile: string;
  certFile: string;
  keyFile: string;
  mechanism: 'none' | SaslMechanism;
  username: string;
  password: string;
}

const KEYS: Record<keyof KafkaSecurity, string> = {
  secure: 'Secure',
  caFile: 'CACertificatePath',
  certFile: 'TLSCertificatePath',
  keyFile: 'TLSKeyPath',
  mechanism: 'SaslMechanism',
  username: 'SaslUsername',
  password: 'SaslPassword',
};

/** The values of securityOptions(p) from a component's settings. */
export function securityOf(s: Readonly<Record<string, unknown>>, p: string): KafkaSecurity {
  return {
    secure: s[p + KEYS.secure] === true,
    caFile: String(s[p + KEYS.caFile] ?? ''),
    certFile: String(s[p + KEYS.certFile] ?? ''),
    keyFile: String(s[p + KEYS.keyFile] ?? ''),
    mechanism: String(s[p + KEYS.mechanism] ?? 'none') as KafkaSecurity['mechanism'],
    username: String(s[p + KEYS.username] ?? ''),
    password: String(s[p + KEYS.password] ?? ''),
  };
}

/** The brokers checked: host:port ([v6]:port; port 9092 when left out). */
export function checkBrokers<N extends string>(option: N, brokers: readonly string[], from: (option: N) => string): string[] {
  if (brokers.length === 0) throw new ConfigError(option, `--${option}: give the Kafka broker address, e.g. 127.0.0.1:9092${from(option)}`);
  return brokers.map((b) => {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?$/.exec(b);
    const port = m?.[2] === undefined ? 9092 : Number(m[2]);
    if (!m || port < 1 || port > 65535) throw new ConfigError(option, `--${option}: ${b} is not host:port (e.g. kafka1:9092)${from(option)}`);
    return `${m[1]}:${port}`;
  });
}

/** The TLS and SASL options make sense together and their files can be read. */
export function checkSecurity(p: string, sec: KafkaSecurity, from: (option: string) => string): void {
  const fail = (k: keyof KafkaSecurity, why: string): never => {
    throw new ConfigError(p + KEYS[k], `--${p}${KEYS[k]}: ${why}${from(p + KEYS[k])}`);
  };
  if (sec.mechanism === 'none') {
    if (sec.username !== '' || sec.password !== '') fail(sec.username !== '' ? 'username' : 'password', `needs --${p}SaslMechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)`);
  } else if (sec.username === '' || sec.password === '') {
    fail(sec.username === '' ? 'username' : 'password', `--${p}SaslMechanism ${sec.mechanism} needs a user name and a password`);
  }
  if ((sec.certFile === '') !== (sec.keyFile === '')) fail(sec.keyFile === '' ? 'keyFile' : 'certFile', 'the client certificate and its key go together');
  for (const k of ['caFile', 'certFile', 'keyFile'] as const) {
    if (sec[k] === '') continue;
    if (!sec.secure) fail(k, `a TLS file without --${p}Secure`);
    try {
      accessSync(sec[k], constants.R_OK);
    } catch (e) {
      fail(k, `cannot read ${sec[k]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

/** The client's connection options (ConnectionOptions of @platformatic/kafka): TLS with the files
 *  read (checkSecurity() vetted them), SASL, the connection timeout. */
export interface KafkaConnection {
  connectTimeout: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

export function connectionOptions(sec: KafkaSecurity, o: { timeoutMs: number; skipTlsVerify: boolean }): KafkaConnection {
  const c: KafkaConnection = { connectTimeout: o.timeoutMs };
  if (sec.secure) {
    c.tls = {};
    if (sec.caFile) c.tls.ca = readFileSync(sec.caFile);
    if (sec.certFile) Object.assign(c.tls, { cert: readFileSync(sec.certFile), key: readFileSync(sec.keyFile) });
    if (o.skipTlsVerify) c.tls.rejectUnauthorized = false; // --skipTLSVerification
  }
  if (sec.mechanism !== 'none') c.sasl = { mechanism: sec.mechanism, username: sec.username, password: sec.password };
  return c;
}

/** A client error as one line: the library wraps the per-broker causes in an AggregateError. */
export function kafkaErrorText(e: unknown): string {
  const err = e as Error & { code?: string; errors?: unknown[] };
  const causes = Array.isArray(err?.errors) ? err.errors.map((c) => (c as Error)?.message).filter(Boolean) : [];
  return `${err?.message ?? String(e)}${causes.length ? ` (${causes.join('; ')})` : ''}`;
}
