// What the NATS output and the NATS input share: the server list and the credentials and TLS
// options (declared by each under its own prefix: a collector may read one server and write
// another), their checks, and the connection. The client library loads only in connectNats().
import { accessSync, constants, readFileSync } from 'node:fs';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { Log } from '../log.js';
import { ConfigError, secret, str } from '../options.js';
import { isUnreachable } from '../unreachable.js';

/** The credentials and TLS options of one side ('natsOutput' or 'natsInput'). */
export function authOptions<const P extends string>(p: P, section: string) {
  return [
    str(`${p}CredsFile`, section, '', 'Credentials file (.creds: a user JWT and its nkey seed), as nsc writes it'),
    str(`${p}NkeySeedFile`, section, '', 'File holding an nkey seed (SU...): the client signs the server challenge with it'),
    str(`${p}User`, section, '', 'User name (with the password)'),
    secret(str(`${p}Password`, section, '', 'Password of the user')),
    secret(str(`${p}Token`, section, '', 'Authentication token')),
    str(`${p}CACertificatePath`, section, '', 'CA certificate(s) that sign the server certificate (TLS; default: the system CAs)'),
    str(`${p}TLSCertificatePath`, section, '', 'Client certificate, for servers that verify clients (TLS)'),
    str(`${p}TLSKeyPath`, section, '', 'Key of the client certificate'),
  ] as const;
}

export interface NatsAuth {
  credsFile: string;
  nkeySeedFile: string;
  user: string;
  password: string;
  token: string;
  caFile: string;
  certFile: string;
  keyFile: string;
}

const AUTH_KEYS: Record<keyof NatsAuth, string> = {
  credsFile: 'CredsFile',
  nkeySeedFile: 'NkeySeedFile',
  user: 'User',
  password: 'Password',
  token: 'Token',
  caFile: 'CACertificatePath',
  certFile: 'TLSCertificatePath',
  keyFile: 'TLSKeyPath',
};

/** The values of authOptions(p) from a component's settings. */
export function authOf(s: Readonly<Record<string, unknown>>, p: string): NatsAuth {
  const auth = {} as NatsAuth;
  for (const [k, suffix] of Object.entries(AUTH_KEYS)) auth[k as keyof NatsAuth] = String(s[p + suffix] ?? '');
  return auth;
}

type From = (option: string) => string;

/** The server URLs checked: nats://host:port or tls://host:port (nats:// and port 4222 when left out). */
export function checkServers<N extends string>(option: N, servers: readonly string[], from: (option: N) => string): string[] {
  if (servers.length === 0) throw new ConfigError(option, `--${option}: give the NATS server URL, e.g. nats://127.0.0.1:4222${from(option)}`);
  return servers.map((s) => {
    const text = /^[a-z]+:\/\//i.test(s) ? s : `nats://${s}`;
    let u: URL;
    try {
      u = new URL(text);
    } catch {
      throw new ConfigError(option, `--${option}: ${s} is not a URL (nats://host:port or tls://host:port)${from(option)}`);
    }
    if (u.protocol !== 'nats:' && u.protocol !== 'tls:') throw new ConfigError(option, `--${option}: ${s}: the scheme must be nats:// or tls://${from(option)}`);
    if (u.hostname === '' || (u.pathname !== '' && u.pathname !== '/')) throw new ConfigError(option, `--${option}: ${s}: expected nats://host:port${from(option)}`);
    return text;
  });
}

/** The credentials and TLS options make sense together and their files can be read. */
export function checkAuth(p: string, auth: NatsAuth, from: From): void {
  const fail = (suffix: string, why: string): never => {
    throw new ConfigError(p + suffix, `--${p}${suffix}: ${why}${from(p + suffix)}`);
  };
  const ways = (['credsFile', 'nkeySeedFile', 'user', 'token'] as const).filter((k) => auth[k] !== '');
  if (ways.length > 1) fail(AUTH_KEYS[ways[1]], `one way to log in at a time (also given: --${p}${AUTH_KEYS[ways[0]]})`);
  if (auth.password !== '' && auth.user === '') fail('Password', `needs --${p}User`);
  if ((auth.certFile === '') !== (auth.keyFile === '')) fail(auth.keyFile === '' ? 'TLSKeyPath' : 'TLSCertificatePath', 'the client certificate and its key go together');
  for (const k of ['credsFile', 'nkeySeedFile', 'caFile', 'certFile', 'keyFile'] as const) {
    if (auth[k] === '') continue;
    try {
      accessSync(auth[k], constants.R_OK);
    } catch (e) {
      fail(AUTH_KEYS[k], `cannot read ${auth[k]}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
}

/** Client options for the credentials and TLS (the files are read here; checkAuth() vetted them). */
async function clientOptions(auth: NatsAuth, servers: string[], skipTlsVerify: boolean): Promise<NodeConnectionOptions> {
  const { credsAuthenticator, nkeyAuthenticator } = await import('@nats-io/transport-node');
  const o: NodeConnectionOptions = {};
  if (auth.credsFile) o.authenticator = credsAuthenticator(readFileSync(auth.credsFile));
  if (auth.nkeySeedFile) o.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(auth.nkeySeedFile, 'utf8').trim()));
  if (auth.user) Object.assign(o, { user: auth.user, pass: auth.password });
  if (auth.token) o.token = auth.token;
  if (auth.caFile || auth.certFile || servers.some((s) => s.startsWith('tls://'))) {
    o.tls = {};
    if (auth.caFile) o.tls.caFile = auth.caFile;
    if (auth.certFile) Object.assign(o.tls, { certFile: auth.certFile, keyFile: auth.keyFile });
    if (skipTlsVerify) o.tls.rejectUnauthorized = false; // --skipTLSVerification
  }
  return o;
}

const up = new WeakMap<NatsConnection, boolean>();

/** The cause of connectNats()'s error says the server is not there (refused, reset, timed out,
 *  no route, DNS EAI_AGAIN): not a refused login, a TLS failure or a bad address. */
export function isUnreachableNats(err: unknown): boolean {
  const cause = (err as { cause?: unknown })?.cause ?? err;
  const e = cause as { name?: string; message?: string };
  const message = e?.message ?? '';
  if (/authori[sz]ation|authentication|permission|certificate|tls|ssl/i.test(message)) return false;
  if (isUnreachable(cause)) return true;
  return e?.name === 'TimeoutError' || (e?.name === 'ConnectionError' && /connection refused|timeout|timed out/i.test(message));
}

/** False while the client is between servers: a publish then would only wait for its timeout. */
export function isConnected(nc: NatsConnection): boolean {
  return up.get(nc) ?? !nc.isClosed();
}

/** Within a few seconds: drained (what is buffered goes out) when connected, else closed. */
export async function closeNats(nc: NatsConnection, waitMs = 5000): Promise<void> {
  if (isConnected(nc)) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)));
    await Promise.race([nc.drain().catch(() => undefined), late]);
    clearTimeout(timer);
  }
  if (!nc.isClosed()) await nc.close();
}

/**
 * Connects, or throws a ConfigError naming `option` (exit 2), the client's error as its cause: a
 * server that cannot be reached or refuses the credentials at start-up is a setting to fix (the
 * NATS output waits out an unreachable one, see isUnreachableNats()). Once connected, the client reconnects
 * by itself for ever (each outage is logged) and what waits is the caller's to retry.
 */
export async function connectNats(o: { option: string; servers: string[]; auth: NatsAuth; name: string; log: Log; skipTlsVerify: boolean }): Promise<NatsConnection> {
  const { connect } = await import('@nats-io/transport-node');
  let nc: NatsConnection;
  try {
    nc = await connect({
      ...(await clientOptions(o.auth, o.servers, o.skipTlsVerify)),
      servers: o.servers,
      name: o.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1000,
      pingInterval: 10_000, // a server gone silent is noticed within ~30 s, not minutes
      timeout: 10_000,
    });
  } catch (e) {
    const err = e as Error & { code?: string };
    // the client's error as the cause: a caller may wait out a server that is not up yet (the NATS output)
    throw Object.assign(new ConfigError(o.option, `--${o.option} ${o.servers.join(',')}: cannot connect: ${err.message}${err.code ? ` (${err.code})` : ''}`), { cause: e });
  }
  up.set(nc, true);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        up.set(nc, false);
        o.log.warn({ server: s.server }, 'NATS connection lost; reconnecting');
      } else if (s.type === 'reconnect') {
        up.set(nc, true);
        o.log.info({ server: s.server }, 'NATS connection back');
      } else if (s.type === 'error') o.log.warn({ err: s.error.message }, 'NATS server error');
    }
  })();
  return nc;
}
