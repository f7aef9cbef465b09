// A real PostgreSQL server for the tests and the bench: Debian's binaries, a cluster made by initdb in a temporary
// directory, listening on a loopback port, password (SCRAM) login for the user `dnslens`.
// PostgreSQL refuses to run as root, so under root the cluster belongs to, and runs as, the
// `postgres` user the package creates (else nobody).
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export const PG_USER = 'dnslens';
export const PG_PASSWORD = 'lens-secret';

/** The directory of Debian's PostgreSQL binaries (the newest version installed), or null. */
export function pgBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

export interface Postgres {
  port: number;
  dir: string;
  /** postgres://dnslens:…@127.0.0.1:port/db (db defaults to dnslens). */
  url(db?: string, user?: string, password?: string): string;
  /** Runs SQL with psql as the superuser; returns its unaligned, tuples-only output. */
  psql(sql: string, db?: string): string;
  start(): void;
  /** pg_ctl stop -m fast: what a restart of the server does to its clients. */
  stop(): void;
  close(): void;
}

export async function startPostgres(): Promise<Postgres> {
  const bin = pgBin();
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (apt install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'dnslens-pg-'));
  chmodSync(dir, 0o755);
  const asRoot = process.getuid?.() === 0;
  let uid = 0;
  if (asRoot) {
    uid = Number(execFileSync('id', ['-u', existsUser('postgres') ? 'postgres' : 'nobody'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, uid);
  }
  // setpriv keeps the caller's environment; HOME and the working dir must be readable by that user.
  const run = (cmd: string, args: string[], input?: string) =>
    execFileSync(asRoot ? 'setpriv' : join(bin, cmd), asRoot ? [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', join(bin, cmd), ...args] : args, {
      cwd: dir,
      env: { ...process.env, HOME: dir, LC_ALL: 'C.UTF-8', PGTZ: 'UTC' },
      encoding: 'utf8',
      input,
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 60_000,
    });
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, PG_PASSWORD + '\n');
  if (asRoot) chownSync(pwfile, uid, uid);
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-U', PG_USER, '--pwfile', pwfile, '--auth-host=scram-sha-256', '--auth-local=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  const port = await freePort();
  const settings = [
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    `unix_socket_directories = '${dir}'`,
    'fsync = off', // a test cluster: its data is thrown away
    'full_page_writes = off',
    "timezone = 'UTC'",
    'max_connections = 50',
  ];
  writeFileSync(join(data, 'postgresql.auto.conf'), settings.join('\n') + '\n');
  if (asRoot) chownSync(join(data, 'postgresql.auto.conf'), uid, uid);
  const pg: Postgres = {
    port,
    dir,
    url: (db = 'dnslens', user = PG_USER, password = PG_PASSWORD) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`,
    psql: (sql, db = 'dnslens') => run('psql', ['-h', dir, '-p', String(port), '-U', PG_USER, '-d', db, '-v', 'ON_ERROR_STOP=1', '-X', '-q', '-A', '-t', '-f', '-'], sql),
    start: () => void run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']),
    stop: () => void run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    close() {
      try {
        pg.stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  pg.start();
  pg.psql('CREATE DATABASE dnslens', 'postgres');
  return pg;
}

function existsUser(name: string): boolean {
  try {
    execFileSync('id', ['-u', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1 (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}
