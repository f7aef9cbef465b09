// Connecting to PostgreSQL with `pg`: the URI of --psqlEndpoint (sslmode in it: disable, require,
// verify-ca, verify-full), the standard PG* environment variables for whatever the URI leaves out
// (pg reads them itself), and the password from --psqlPasswordFile. A failure at start-up that
// retrying cannot fix (wrong password, no such database or role) is a ConfigError: exit code 2;
// a server that cannot be reached yet is waited for (isConnectionError, ../sink/reachable.ts).
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { ConfigError } from '../../options.js';
import { isUnreachable } from '../../unreachable.js';

export interface PgConnection {
  endpoint: string; // postgres://user:pass@host:port/db?sslmode=...; '' = PG* variables only
  passwordFile: string; // '' = the URI's or PGPASSWORD
  timeoutMs: number; // connection and statement timeout
  skipTlsVerify?: boolean; // --skipTLSVerification: TLS where sslmode asks for it, the certificate not checked
}

/** pg's client settings for the connection. */
export function clientConfig(c: PgConnection): pg.ClientConfig {
  const cfg: pg.ClientConfig = { connectionTimeoutMillis: c.timeoutMs, application_name: 'dnslens' };
  const password = c.passwordFile !== '' ? readFileSync(c.passwordFile, 'utf8').split('\n')[0] : undefined;
  if (c.endpoint !== '') {
    // pg lets the URI's fields override the settings beside it (a URI without a password sets none),
    // so the file's password goes into the URI.
    let uri = c.skipTlsVerify ? withoutVerification(c.endpoint) : c.endpoint;
    if (password !== undefined) {
      const u = new URL(uri);
      u.password = encodeURIComponent(password);
      uri = u.toString();
    }
    cfg.connectionString = uri;
  } else if (password !== undefined) cfg.password = password;
  // TLS asked for by PGSSLMODE: pg reads it only when the URI names no sslmode, and a URI's sslmode
  // overrides this setting too.
  if (c.skipTlsVerify && TLS_MODES.includes(process.env.PGSSLMODE ?? '')) cfg.ssl = { rejectUnauthorized: false };
  return cfg;
}

const TLS_MODES = ['prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'];

// pg takes the sslmode of the URI over an `ssl` setting given beside it, so the URI itself says
// no-verify (pg's mode for TLS without the check); a URI that asks for no TLS is left as it is.
function withoutVerification(endpoint: string): string {
  const q = endpoint.indexOf('?');
  if (q < 0) return endpoint;
  const params = new URLSearchParams(endpoint.slice(q + 1));
  const mode = params.get('sslmode');
  const tls = mode !== null ? mode !== 'disable' : params.get('ssl') === 'true' || params.get('ssl') === '1';
  if (!tls) return endpoint;
  params.set('sslmode', 'no-verify');
  params.delete('uselibpqcompat'); // its modes have no no-verify
  return `${endpoint.slice(0, q)}?${params}`;
}

/** The endpoint without its password, for logs and errors. */
export function where(c: PgConnection): string {
  if (c.endpoint === '') return `${process.env.PGHOST ?? 'localhost'}:${process.env.PGPORT ?? 5432}/${process.env.PGDATABASE ?? process.env.PGUSER ?? ''} (PG* variables)`;
  try {
    const u = new URL(c.endpoint);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(endpoint not a URI)';
  }
}

// SQLSTATEs that mean "this will not work however often it is tried".
const FATAL_STATES: Record<string, string> = {
  '28P01': 'wrong password',
  '28000': 'login refused (pg_hba.conf or role)',
  '3D000': 'no such database',
  '42501': 'permission denied',
  '3F000': 'no such schema',
};

const isTlsFailure = (err: unknown) => /SSL|certificate|self[- ]signed/i.test((err as { message?: string })?.message ?? '');

/** A failure that will not go away however long the server is waited for (FATAL_STATES, TLS). */
export function isFatal(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return (code !== undefined && code in FATAL_STATES) || isTlsFailure(err);
}

/** A start-up failure as the error to stop with: ConfigError (exit 2) for those above. */
export function startupError(err: unknown, c: PgConnection): Error {
  const e = err as { code?: string; message?: string };
  const why = e.code ? FATAL_STATES[e.code] : undefined;
  const msg = `PostgreSQL at ${where(c)}: ${e.message ?? String(err)}`;
  if (why) return new ConfigError('psqlEndpoint', `${msg} (${why})`);
  if (isTlsFailure(err)) return new ConfigError('psqlEndpoint', `${msg} (TLS: check sslmode and the server certificate)`);
  return new Error(msg);
}

/** True when an error is about the connection (retry later), not the statement. */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && /^(08|57P0|53)/.test(e.code)) return true;
  if (isUnreachable(err)) return true;
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|Connection terminated|not queryable|timeout/i.test(e?.message ?? '');
}

/** A connected client (its errors after connecting are logged, not thrown at the process). */
export async function connect(c: PgConnection, onError: (err: Error) => void): Promise<pg.Client> {
  const client = new pg.Client(clientConfig(c));
  client.on('error', onError);
  await client.connect();
  return client;
}
