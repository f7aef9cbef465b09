// autobuild.sh and the compose stack, without a Docker engine: the script runs in a temp copy of
// the stack files with a recording `docker` shim first on PATH (it logs every call and answers
// the version, ps and inspect queries the script asks). Debian's docker-compose (Compose v1, all
// this machine has) only validates and merges the compose files here; autobuild.sh itself refuses
// v1 for `up`. Every dnslens command line in them goes through our own CLI parser.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPeers } from './peers.js';

const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');
const STACK_FILES = ['autobuild.sh', 'docker-compose.yml', 'Dockerfile', '.dockerignore', 'docker'];
const HOST_TAG = hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
const IS_ROOT = process.getuid?.() === 0;

// The shim: `docker` logs its argv; answers `info`, `compose version` (unless SHIM_COMPOSE=v1),
// `compose ps -a -q SVC` (an id per service) and `inspect` (SHIM_STATE_<svc> overrides the state;
// migrate exits 0, everything else is running and healthy). docker-compose is the v1 twin.
const DOCKER_SHIM = `#!/usr/bin/env bash
printf 'docker %s\\n' "$*" >> "$SHIM_LOG"
case "$1" in
  info) echo 28.2.2 ;;
  inspect)
    svc=\${!#}; svc=\${svc#cid-}; var=SHIM_STATE_\${svc//-/_}
    if [ -n "\${!var:-}" ]; then echo "\${!var}"
    elif [ "$svc" = migrate ]; then echo 'exited||0'
    else echo 'running|healthy|0'; fi ;;
  compose)
    [ "\${SHIM_COMPOSE:-v2}" = v2 ] || { echo "docker: unknown command: docker compose" >&2; exit 1; }
    case "$2" in
      version) echo 'Docker Compose version v2.29.7' ;;
      ps) echo "cid-\${!#}" ;;
    esac ;;
esac
`;
const COMPOSE_V1_SHIM = `#!/usr/bin/env bash
printf 'docker-compose %s\\n' "$*" >> "$SHIM_LOG"
case "$1" in
  version) echo 'docker-compose version 1.29.2, build unknown' ;;
  ps) echo "cid-\${!#}" ;;
esac
`;

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

interface Stack {
  dir: string; // the copy of the stack files; autobuild.sh writes here
  bin: string;
  log: string;
}

function makeStack(opts: { composeV1?: boolean } = {}): Stack {
  const base = mkdtempSync(join(tmpdir(), 'dnslens-autobuild-'));
  temps.push(base);
  const dir = join(base, 'stack');
  const bin = join(base, 'bin');
  mkdirSync(dir);
  mkdirSync(bin);
  for (const f of STACK_FILES) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  writeFileSync(join(bin, 'docker'), DOCKER_SHIM);
  chmodSync(join(bin, 'docker'), 0o755);
  if (opts.composeV1) {
    writeFileSync(join(bin, 'docker-compose'), COMPOSE_V1_SHIM);
    chmodSync(join(bin, 'docker-compose'), 0o755);
  }
  const log = join(base, 'docker.log');
  writeFileSync(log, '');
  return { dir, bin, log };
}

interface Result {
  code: number | null;
  out: string; // stdout and stderr
  stdout: string;
  stderr: string;
}

function autobuild(s: Stack, args: string[], opts: { input?: string; env?: Record<string, string>; composeV1?: boolean; uid?: number } = {}): Result {
  const env: Record<string, string> = {
    PATH: `${s.bin}:${process.env.PATH ?? '/usr/bin:/bin'}:/usr/sbin:/sbin`,
    HOME: process.env.HOME ?? '/root',
    SHIM_LOG: s.log,
    SHIM_COMPOSE: opts.composeV1 ? 'v1' : 'v2',
    AUTOBUILD_POLL_SECONDS: '0.05',
    // free ports, so the port check passes on a busy machine
    AUTOBUILD_GRAFANA_PORT: String(freePort),
    AUTOBUILD_CLICKHOUSE_PORT: String(freePort2),
    ...opts.env,
  };
  // uid: run as that user (root runs tests; a user in the docker group is not root)
  const [cmd, ...pre] = opts.uid === undefined ? ['bash'] : ['setpriv', `--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', 'bash'];
  const r = spawnSync(cmd, [...pre, join(s.dir, 'autobuild.sh'), ...args], {
    cwd: s.dir,
    env,
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
}

/** The shim log, one call per line; clears it. */
function calls(s: Stack): string[] {
  const lines = readFileSync(s.log, 'utf8').split('\n').filter(Boolean);
  writeFileSync(s.log, '');
  return lines;
}

function envOf(s: Stack): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(s.dir, '.env'), 'utf8').split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  network_mode?: string;
  cap_add?: string[];
  cap_drop?: string[];
  user?: string;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  secrets?: ({ source: string; target?: string } | string)[];
}

/** Debian's docker-compose validates and merges docker-compose.yml + the override; as JSON.
 * Without a profile, Compose v2 leaves out the services of profiles (the `cluster` profile);
 * Compose v1's `config` lists them anyway, so they are dropped here as v2 would. */
function composeConfig(s: Stack): { services: Record<string, Service>; volumes?: Record<string, unknown>; secrets?: Record<string, { file: string }> } {
  const yaml = execFileSync('docker-compose', ['config'], { cwd: s.dir, encoding: 'utf8', timeout: 30_000 });
  const json = execFileSync('python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
    input: yaml,
    encoding: 'utf8',
  });
  const cfg = JSON.parse(json) as { services: Record<string, Service & { profiles?: string[] }> };
  for (const [name, svc] of Object.entries(cfg.services)) if (svc.profiles?.length) delete cfg.services[name];
  return cfg as ReturnType<typeof composeConfig>;
}

const WAIT_CALLS = (svcs: string[]) =>
  svcs.flatMap((svc) => [
    `docker compose ps -a -q ${svc}`,
    `docker inspect --format {{.State.Status}}|{{if .State.Health}}{{.State.Health.Status}}{{end}}|{{.State.ExitCode}} cid-${svc}`,
  ]);

/** Runs a dnslens service's command line through our CLI: --checkConfig for the capture
 * services, the configuration loader for `schema migrate` (what that command calls). */
async function checkDnslensCommand(svc: Service): Promise<void> {
  const args = svc.command ?? [];
  const env = { PATH: process.env.PATH ?? '', ...(svc.environment ?? {}) };
  if (args[0] === 'schema') {
    expect(args[1]).toBe('migrate');
    const { loadConfig } = (await import(join(ROOT, 'dist/src/cli/config.js'))) as {
      loadConfig: (argv: string[], env: Record<string, string | undefined>) => Record<string, unknown>;
    };
    const cfg = loadConfig(args.slice(2), env);
    expect(cfg.clickhouseAddress).toBe('clickhouse:8123');
    expect(cfg.clickhousePassword).toBe(WRITER_SECRET);
    expect(cfg.clickhouseDictionaryUser).toBe('dnslens_dict');
    return;
  }
  const r = spawnSync(process.execPath, [MAIN, '--checkConfig', ...args], { env, encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr, `dnslens --checkConfig ${args.join(' ')}`).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/clickhouseOutputType = 1/);
  expect(r.stdout).toMatch(/clickhousePassword = <redacted>/);
}

/** Where a writer's password comes from: the compose secret's file, never the environment or argv. */
const WRITER_SECRET = '@/run/secrets/clickhouse_writer_password';

/** The secrets autobuild.sh generated, by file name. */
function secretsOf(s: Stack): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of ['clickhouse_writer_password', 'clickhouse_reader_password', 'grafana_admin_password']) out[f] = readFileSync(join(s.dir, 'secrets', f), 'utf8').trim();
  return out;
}

const secretNames = (svc: Service) => (svc.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source)).sort();

async function portOf(listen: (cb: () => void) => { address(): AddressInfo | string | null; close(): void }): Promise<number> {
  return new Promise((resolve) => {
    const srv = listen(() => {
      const port = (srv.address() as AddressInfo).port;
      srv.close();
      resolve(port);
    });
  });
}
let freePort = 0;
let freePort2 = 0;

describeWithPeers('autobuild.sh and the compose stack', ['shellcheck', 'docker-compose', 'python3', 'ip'], () => {
  // Free ports, so the port check passes on a busy machine (setup: every test can run alone).
  beforeAll(async () => {
    const s1 = createTcpServer();
    freePort = await portOf((cb) => s1.listen(0, '127.0.0.1', cb));
    const s2 = createTcpServer();
    do freePort2 = await portOf((cb) => s2.listen(0, '127.0.0.1', cb));
    while (freePort2 === freePort);
  });

  it('passes shellcheck', () => {
    const r = spawnSync('shellcheck', ['-x', join(ROOT, 'autobuild.sh')], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('--help lists every option the parser takes, with its variable', () => {
    const s = makeStack();
    const r = autobuild(s, ['--help']);
    expect(r.code).toBe(0);
    const script = readFileSync(join(ROOT, 'autobuild.sh'), 'utf8');
    const parsed = [...script.matchAll(/^ {4}(--[a-z-]+)\) [A-Z_]+=/gm)].map((m) => m[1]);
    expect(parsed.length).toBeGreaterThan(10);
    for (const flag of parsed) expect(r.stdout).toContain(flag);
    for (const v of script.matchAll(/\$\{(AUTOBUILD_[A-Z_]+):-\}/g)) if (v[1] !== 'AUTOBUILD_YES') expect(r.stdout).toContain(v[1]);
    expect(calls(s)).toEqual([]);
  });

  it('asks the questions, asks again after bad answers, writes the files and runs the exact commands', () => {
    const s = makeStack();
    const blocker = join(s.dir, 'a-file');
    writeFileSync(blocker, 'not a directory');
    const answers = [
      'nosuch0', // unknown interface: asked again
      'lo',
      '', // server name: default
      'tcp:70000', // not a port
      'tcp:6001',
      'bad name!', // the collector's server name
      'resolver-tap',
      `${blocker}/clickhouse`, // cannot be created: asked again
      'store/ch',
      '', // logs: default
      './store/grafana',
      'thirty', // retention: not a number
      '45',
      '90,730', // neither one nor five numbers
      '60',
      'Mars/Olympus', // no such zone
      'Asia/Jakarta',
      'maybe',
      'no',
      '', // the summary: yes
    ];
    const r = autobuild(s, [], { input: answers.join('\n') + '\n' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('unknown interface "nosuch0" (this host has: ');
    expect(r.out).not.toContain('Events per ClickHouse insert'); // tuning: a flag, not a question
    expect(r.out).toContain('"tcp:70000" is not no, yes, tcp:PORT, tcp:ADDRESS:PORT or unix:/path/NAME.sock');
    expect(r.out).toContain('the resolver must\nbe configured to send it (README.md, section dnstap');
    expect(r.out).toContain('"bad name!" is not a server name');
    expect(r.out).toContain('it is the "Server" selector in the dashboards');
    expect(r.out).toContain(`cannot create ${blocker}/clickhouse; please try again.`);
    expect(r.out).toContain('"thirty" is not a whole number of days (1..36500); please try again.');
    expect(r.out).toContain('"90,730" is neither one number of days nor five');
    expect(r.out).toContain('no zone Mars/Olympus in /usr/share/zoneinfo');
    expect(r.out).toContain('"maybe" is not yes or no; please try again.');
    expect(r.out).toContain(`Server name for lo [${HOST_TAG}_lo]`);
    // every answer is shown, and confirmed, before anything is written
    const summary = r.out.indexOf('The stack will be set up with:');
    expect(summary).toBeGreaterThan(0);
    expect(r.out.slice(summary)).toMatch(/Interfaces: +lo as \S+_lo\n {2}dnstap collector: +tcp:127\.0\.0\.1:6001, events named resolver-tap\n/);
    expect(r.out.indexOf('Write these files and start the stack? [Y/n]')).toBeGreaterThan(summary);
    expect(r.out.indexOf('Write these files and start the stack?')).toBeLessThan(r.out.indexOf('Wrote '));
    // after start-up: where Grafana is, who logs in, where the password is, how to see data arrive
    expect(r.out).toContain(`Grafana:       http://127.0.0.1:${freePort}\n                 user admin, password in ${s.dir}/secrets/grafana_admin_password`);
    expect(r.out).toContain(`Data arriving: cd ${s.dir} && docker compose run --rm --no-deps migrate sql --clickhouseAddress clickhouse:8123 --clickhouseUsername dnslens --clickhousePassword ${WRITER_SECRET} --clickhouseDatabase dnslens "SELECT Server, count()`);

    expect(statSync(join(s.dir, '.env')).mode & 0o777).toBe(0o600);
    const env = envOf(s);
    expect(env).toMatchObject({
      AUTOBUILD_INTERFACES: 'lo',
      AUTOBUILD_SERVER_NAMES: `lo=${HOST_TAG}_lo`,
      AUTOBUILD_DNSTAP: 'tcp:127.0.0.1:6001',
      AUTOBUILD_DNSTAP_NAME: 'resolver-tap',
      DNSTAP_PORT: '6001',
      DNSLENS_BATCH_SIZE: '100000',
      CLICKHOUSE_DATA_DIR: `${s.dir}/store/ch`,
      CLICKHOUSE_LOGS_DIR: `${s.dir}/data/clickhouse-logs`,
      GRAFANA_DATA_DIR: `${s.dir}/store/grafana`,
      DNSLENS_TTL_DAYS: '45',
      DNSLENS_ROLLUP_TTL_MINUTE_DAYS: '60',
      DNSLENS_ROLLUP_TTL_MONTH_DAYS: '60',
      DNSLENS_TIMEZONE: 'Asia/Jakarta',
      GRAFANA_BIND: '127.0.0.1',
      CLICKHOUSE_WRITER_USER: 'dnslens',
      CLICKHOUSE_READER_USER: 'grafana',
    });
    // the passwords are not in .env but in secrets/: a directory only its owner enters
    for (const k of Object.keys(env)) expect(k).not.toMatch(/PASSWORD/);
    expect(statSync(join(s.dir, 'secrets')).mode & 0o777).toBe(0o700);
    const secrets = secretsOf(s);
    for (const v of Object.values(secrets)) expect(v).toMatch(/^[0-9a-f]{40}$/);
    expect(new Set(Object.values(secrets)).size).toBe(3);
    // ClickHouse gets only their hashes
    const users = readFileSync(join(s.dir, 'secrets/clickhouse-users.xml'), 'utf8');
    const sha = (x: string) => createHash('sha256').update(x).digest('hex');
    expect(users).toContain(`<password_sha256_hex>${sha(secrets.clickhouse_writer_password)}</password_sha256_hex>`);
    expect(users).toContain(`<password_sha256_hex>${sha(secrets.clickhouse_reader_password)}</password_sha256_hex>`);
    for (const v of Object.values(secrets)) expect(users).not.toContain(v);
    for (const d of ['store/ch', 'data/clickhouse-logs', 'store/grafana']) expect(statSync(join(s.dir, d)).isDirectory()).toBe(true);
    if (IS_ROOT) expect(statSync(join(s.dir, 'store/grafana')).uid).toBe(472);

    expect(calls(s)).toEqual([
      'docker info --format {{.ServerVersion}}',
      'docker compose version',
      'docker compose build migrate',
      'docker compose up -d --remove-orphans',
      ...WAIT_CALLS(['clickhouse', 'migrate', 'grafana', 'capture-lo', 'dnstap']),
    ]);
  });

  it('runs non-interactively from flags and variables; the merged compose file is valid and every dnslens command parses', async () => {
    const s = makeStack();
    const r = autobuild(s, ['--yes', '--interfaces', 'lo', '--server-name', 'lo=lab-resolver', '--retention-days', '7', '--expose-grafana', 'yes'], {
      env: { AUTOBUILD_BATCH_SIZE: '2000', AUTOBUILD_DNSTAP: 'tcp:0.0.0.0:6002', AUTOBUILD_ROLLUP_RETENTION_DAYS: '30,60,90,120,150' },
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toMatch(/\]: /); // no question asked
    const cfg = composeConfig(s);
    expect(Object.keys(cfg.services).sort()).toEqual(['capture-lo', 'clickhouse', 'dnstap', 'grafana', 'migrate']);
    const env = envOf(s);

    const ch = cfg.services.clickhouse;
    expect(ch.ports).toEqual([`127.0.0.1:${freePort2}:8123/tcp`]);
    // passwords only as compose secrets: ClickHouse gets the hashes as a users.d file
    expect(Object.keys(ch.environment ?? {})).toEqual(['CLICKHOUSE_SKIP_USER_SETUP']);
    expect(ch.secrets).toEqual([{ source: 'clickhouse_users', target: '/etc/clickhouse-server/users.d/dnslens-passwords.xml' }]);
    expect(cfg.secrets?.clickhouse_users.file).toBe(`${s.dir}/secrets/clickhouse-users.xml`);
    expect(env.DNSLENS_BATCH_SIZE).toBe('2000');
    const grafana = cfg.services.grafana;
    expect(grafana.ports).toEqual([`0.0.0.0:${freePort}:3000/tcp`]);
    expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe('/run/secrets/grafana_admin_password');
    expect(secretNames(grafana)).toEqual(['clickhouse_reader_password', 'grafana_admin_password']);
    expect(grafana.environment?.GF_PLUGINS_PREINSTALL_SYNC).toMatch(/^grafana-clickhouse-datasource@\d+\.\d+\.\d+$/);
    expect(grafana.environment?.GF_INSTALL_PLUGINS).toBeUndefined();
    for (const svc of Object.values(cfg.services)) for (const k of Object.keys(svc.environment ?? {})) expect(k).not.toMatch(/PASSWORD$/);
    expect(grafana.depends_on).toEqual({ clickhouse: { condition: 'service_healthy' }, migrate: { condition: 'service_completed_successfully' } });
    // the provisioning in grafana/ gets what it reads: its files where it looks, its variables set
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([`${s.dir}/grafana/provisioning:/etc/grafana/provisioning:ro`, `${s.dir}/grafana/dashboards:/etc/dnslens/dashboards:ro`]),
    );
    // nothing is mounted inside Grafana's data directory (Docker would make a root-owned folder there)
    for (const v of grafana.volumes ?? []) expect(v.split(':')[1].startsWith('/var/lib/grafana/')).toBe(false);
    const datasource = readFileSync(join(ROOT, 'grafana/provisioning/datasources/clickhouse.yaml'), 'utf8')
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n');
    const variables = [...datasource.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]);
    expect(variables.sort()).toEqual(['CLICKHOUSE_DATABASE', 'CLICKHOUSE_READER_USER']);
    for (const v of variables) expect(grafana.environment?.[v], v).toBeTruthy();
    // the password from the secret compose mounts for Grafana
    expect([...datasource.matchAll(/\$__file\{([^}]+)\}/g)].map((m) => m[1])).toEqual(['/run/secrets/clickhouse_reader_password']);
    expect(readFileSync(join(ROOT, 'grafana/provisioning/dashboards/dnslens.yaml'), 'utf8')).toContain('path: /etc/dnslens/dashboards');

    const capture = cfg.services['capture-lo'];
    expect(capture.network_mode).toBe('host');
    expect(capture.cap_drop).toEqual(['ALL']);
    expect(capture.cap_add?.sort()).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(capture.depends_on).toEqual(grafana.depends_on);
    expect(capture.command?.slice(0, 4)).toEqual(['--devName', 'lo', '--serverName', 'lab-resolver']);
    expect(secretNames(capture)).toEqual(['clickhouse_writer_password']);
    expect(capture.command?.join(' ')).toContain(`--clickhouseAddress 127.0.0.1:${freePort2} --clickhouseUsername dnslens --clickhousePassword ${WRITER_SECRET} --clickhouseDictionaryUser dnslens_dict --clickhouseDatabase dnslens --clickhouseBatchSize 2000 --clickhouseTTL 7 --clickhouseRollupTTLMinute 30 --clickhouseRollupTTLHour 60 --clickhouseRollupTTLDay 90 --clickhouseRollupTTLWeek 120 --clickhouseRollupTTLMonth 150`);
    const dnstap = cfg.services.dnstap;
    expect(dnstap.ports).toEqual(['0.0.0.0:6002:6000/tcp']);
    // over TCP it runs as the image's user, who owns its spool volume (another uid could not
    // create <dataDir>/spool there, and dnslens would stop at start-up, again and again)
    expect(dnstap.user).toBeUndefined();
    expect(dnstap.command?.slice(0, 4)).toEqual(['--dnstapSocket', 'tcp://0.0.0.0:6000', '--serverName', `${HOST_TAG}_dnstap`]);
    expect(cfg.services.migrate.command?.join(' ')).toContain('--clickhouseTTL 7 --clickhouseRollupTTLMinute 30');
    expect(cfg.services.migrate.command?.join(' ')).toContain(`--clickhousePassword ${WRITER_SECRET} --clickhouseDictionaryUser dnslens_dict`);
    expect(secretNames(cfg.services.migrate)).toEqual(['clickhouse_writer_password']);
    expect(Object.keys(cfg.volumes ?? {}).sort()).toEqual(['spool-dnstap', 'spool-lo']);

    // every dnslens service: its command line parses, and it has a health check
    const dnslens = Object.entries(cfg.services).filter(([, svc]) => svc.image === 'dnslens:local');
    expect(dnslens.map(([n]) => n).sort()).toEqual(['capture-lo', 'dnstap', 'migrate']);
    for (const [name, svc] of dnslens) {
      // every writer re-creates the dictionaries when it starts: each must name the local-only user
      expect(svc.command?.join(' '), name).toContain('--clickhouseDictionaryUser dnslens_dict');
      expect(svc.command?.join(' '), name).toContain(`--clickhousePassword ${WRITER_SECRET}`);
      await checkDnslensCommand(svc);
      if (name !== 'migrate') expect(svc.healthcheck?.test[0]).toBe('CMD');
    }
    for (const name of ['clickhouse', 'grafana']) expect(cfg.services[name].healthcheck?.test.length).toBeGreaterThan(1);
  });

  it('sensor mode: only a dnslens capture container publishing to the remote bus, with the exact docker commands', () => {
    const s = makeStack();
    const bus = 'nats://10.0.0.5:4222,tls://bus2.example.net:4222';
    const r = autobuild(s, ['sensor', '--bus', bus, '--interfaces', 'lo', '--server-name', 'lo=ns1'], { env: { SHIM_STATE_dnslens_sensor_lo: 'running' } });
    expect(r.code, r.out).toBe(0);
    const run = [
      'docker run -d --name dnslens-sensor-lo --restart unless-stopped --network host --cap-drop ALL --cap-add NET_RAW --cap-add NET_ADMIN',
      '-v dnslens-sensor-spool-lo:/var/lib/dnslens dnslens:local',
      `--devName lo --serverName ns1 --natsOutputType 1 --natsOutputServer ${bus} --natsSpoolDir /var/lib/dnslens/nats-spool`,
    ].join(' ');
    // no compose, no ClickHouse, no Grafana: build the image, replace the container, check it runs
    expect(calls(s)).toEqual([
      'docker info --format {{.ServerVersion}}',
      'docker build -t dnslens:local .',
      'docker rm -f dnslens-sensor-lo',
      run,
      'docker inspect --format {{.State.Status}} dnslens-sensor-lo',
    ]);
    expect(r.stdout).toContain(`dnslens-sensor-lo: running, publishing to ${bus}`);
    // it writes none of the stack's files
    for (const f of ['.env', 'docker-compose.override.yml', 'secrets']) expect(existsSync(join(s.dir, f)), f).toBe(false);
    // the container's command line is a real dnslens configuration: NATS out, nothing else
    const args = run.split(' dnslens:local ')[1].split(' ');
    const check = spawnSync(process.execPath, [MAIN, '--checkConfig', ...args], { encoding: 'utf8', timeout: 30_000 });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(/^natsOutputType = 1$/m);
    expect(check.stdout).toMatch(/^clickhouseOutputType = 0$/m);

    // from variables, the default server name; --dry-run runs nothing
    const dry = autobuild(s, ['sensor', '--dry-run'], { env: { AUTOBUILD_BUS: 'nats://collector:4222', AUTOBUILD_INTERFACES: 'lo' } });
    expect(dry.code, dry.out).toBe(0);
    expect(dry.stdout).toContain(`--devName lo --serverName ${HOST_TAG}_lo --natsOutputType 1 --natsOutputServer nats://collector:4222`);
    expect(calls(s).filter((c) => !c.startsWith('docker info'))).toEqual([]);
  });

  it('sensor mode refuses without a bus address, a bad one, or no interface, and runs nothing', () => {
    const s = makeStack();
    const refusals: [string[], string][] = [
      [['sensor', '--interfaces', 'lo'], "sensor mode needs the bus to publish to: --bus nats://HOST:4222 (or AUTOBUILD_BUS), the NATS JetStream of the collectors' host (docker compose --profile cluster there)\n"],
      [['sensor', '--bus', 'http://bus:4222', '--interfaces', 'lo'], '--bus: "http://bus:4222" is not a NATS server URL (nats://HOST:PORT or tls://HOST:PORT)'],
      [['sensor', '--bus', 'nats://bus:4222'], 'sensor mode needs the interfaces to capture on: --interfaces eth0[,eth1]'],
      [['sensor', '--bus', 'nats://bus:4222', '--interfaces', 'nosuch0'], '--interfaces: unknown interface "nosuch0"'],
    ];
    for (const [args, message] of refusals) {
      const r = autobuild(s, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    // no address at all: that one line, nothing else
    expect(autobuild(s, refusals[0][0]).stderr).toBe(`autobuild: ${refusals[0][1]}`);
    expect(autobuild(s, ['sensor', '--bus', 'nats://bus:4222', '--interfaces', 'lo', '--retention-days', '3']).stderr).toContain('sensor takes only --bus, --interfaces, --server-name and --dry-run (not --retention-days)');
    expect(autobuild(s, ['--yes', '--bus', 'nats://bus:4222']).stderr).toContain('--bus goes with sensor');
    expect(calls(s).filter((c) => / (build|run|rm|compose) /.test(c))).toEqual([]);
  });

  // The `cluster` profile (docker-compose.yml, docker/cluster/): NATS JetStream, two collectors, a
  // ClickHouse cluster of 2 shards x 2 replicas with Keeper, the cluster schema's migration.
  it('the cluster profile: its services, every file it mounts, the macros, and real dnslens command lines', async () => {
    const s = makeStack();
    expect(autobuild(s, ['--yes', '--interfaces', 'lo']).code).toBe(0);
    // without the profile, the stack is as before (the helper drops profiled services, as Compose v2 does)
    expect(Object.keys(composeConfig(s).services).sort()).toEqual(['capture-lo', 'clickhouse', 'grafana', 'migrate']);
    const yaml = execFileSync('docker-compose', ['--profile', 'cluster', 'config'], { cwd: s.dir, encoding: 'utf8', timeout: 30_000 });
    type ClusterService = Service & { profiles?: string[]; hostname?: string };
    const cfg = JSON.parse(
      execFileSync('python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], { input: yaml, encoding: 'utf8' }),
    ) as { services: Record<string, ClusterService>; secrets: Record<string, { file: string }> };
    const NODES = ['ch-s1-r1', 'ch-s1-r2', 'ch-s2-r1', 'ch-s2-r2'];
    const profiled = Object.entries(cfg.services).filter(([, svc]) => svc.profiles?.length);
    expect(profiled.map(([n]) => n).sort()).toEqual([...NODES, 'cluster-migrate', 'collector-1', 'collector-2', 'keeper', 'nats'].sort());
    for (const [n, svc] of profiled) expect(svc.profiles, n).toEqual(['cluster']);

    // NATS with JetStream, its store on a volume; Keeper and the servers from the official images
    const nats = cfg.services.nats;
    expect(nats.image).toMatch(/^nats:/);
    expect(nats.command).toEqual(expect.arrayContaining(['-js', '-sd', '/data']));
    expect(nats.volumes?.some((v) => v.split(':')[1] === '/data')).toBe(true);
    expect(cfg.services.keeper.image).toMatch(/^clickhouse\/clickhouse-keeper:/);

    // every file a profile service mounts exists in the stack (data directories Docker makes)
    const read = (hostPath: string) => readFileSync(hostPath, 'utf8');
    let files = 0;
    for (const [n, svc] of profiled) {
      for (const v of svc.volumes ?? []) {
        const [src, dst] = v.split(':');
        if (!/\.xml$/.test(dst)) continue;
        expect(existsSync(src) && statSync(src).isFile(), `${n}: ${src}`).toBe(true);
        files++;
      }
      for (const sec of svc.secrets ?? []) {
        const name = typeof sec === 'string' ? sec : sec.source;
        expect(existsSync(cfg.secrets[name].file), `${n}: secret ${name}`).toBe(true);
      }
    }
    expect(files).toBe(1 + NODES.length * 3);

    // remote_servers: 2 shards of 2 replicas, the compose services; Keeper where it listens
    const cluster = read(join(s.dir, 'docker/cluster/cluster.xml'));
    const shards = [...cluster.matchAll(/<shard>([\s\S]*?)<\/shard>/g)].map((m) => [...m[1].matchAll(/<host>([^<]+)<\/host>/g)].map((h) => h[1]));
    expect(shards).toEqual([
      ['ch-s1-r1', 'ch-s1-r2'],
      ['ch-s2-r1', 'ch-s2-r2'],
    ]);
    expect(cluster).toMatch(/<remote_servers>\s*<dnslens>/);
    expect(cluster).toMatch(/<internal_replication>true<\/internal_replication>/);
    const keeper = read(join(s.dir, 'docker/cluster/keeper.xml'));
    expect(/<zookeeper>\s*<node><host>keeper<\/host><port>(\d+)<\/port>/.exec(cluster)?.[1]).toBe(/<tcp_port>(\d+)<\/tcp_port>/.exec(keeper)?.[1]);
    expect(cfg.services.keeper.volumes).toContain(`${s.dir}/docker/cluster/keeper.xml:/etc/clickhouse-keeper/keeper_config.xml:ro`);

    // each node: its own macros file, the right shard, a replica name no other node has
    const replicas = new Set<string>();
    for (const node of NODES) {
      const svc = cfg.services[node];
      expect(svc.image).toMatch(/^clickhouse\/clickhouse-server:/);
      expect(svc.hostname).toBe(node);
      const mount = (svc.volumes ?? []).find((v) => v.endsWith(':/etc/clickhouse-server/config.d/macros.xml:ro'));
      expect(mount, node).toBeDefined();
      const macros = read(mount!.split(':')[0]);
      const shard = Number(/<shard>(\d+)<\/shard>/.exec(macros)?.[1]);
      const replica = /<replica>([^<]+)<\/replica>/.exec(macros)?.[1];
      expect(shards[shard - 1], node).toContain(node);
      expect(replica).toBe(node);
      replicas.add(replica!);
      expect(/<interserver_http_host>([^<]+)</.exec(macros)?.[1]).toBe(node);
      expect(svc.volumes).toContain(`${s.dir}/docker/cluster/cluster.xml:/etc/clickhouse-server/config.d/cluster.xml:ro`);
      expect(svc.volumes?.find((v) => v.split(':')[1] === '/var/lib/clickhouse')?.split(':')[0]).toBe(`${s.dir}/data/cluster/${node}`);
      expect(secretNames(svc)).toEqual(['clickhouse_cluster_secret', 'clickhouse_users']);
    }
    expect(replicas.size).toBe(4);
    // only the first node is reachable from the host, on loopback
    expect(cfg.services['ch-s1-r1'].ports).toEqual(['127.0.0.1:8124:8123/tcp']);
    for (const node of NODES.slice(1)) expect(cfg.services[node].ports ?? []).toEqual([]);
    // the inter-server secret: generated once by autobuild.sh, merged into remote_servers, kept
    const secretFile = cfg.secrets.clickhouse_cluster_secret.file;
    const secret = read(secretFile);
    expect(secret).toMatch(/<remote_servers>\s*<dnslens>\s*<secret>[0-9a-f]{40}<\/secret>/);
    expect(autobuild(s, ['--yes']).code).toBe(0);
    expect(read(secretFile)).toBe(secret);

    // the migration: the cluster schema, ON CLUSTER the cluster remote_servers defines
    const migrate = cfg.services['cluster-migrate'];
    expect(migrate.command?.slice(0, 4)).toEqual(['schema', 'migrate', '--clickhouseCluster', 'dnslens']);
    const { loadConfig } = (await import(join(ROOT, 'dist/src/cli/config.js'))) as {
      loadConfig: (argv: string[], env: Record<string, string | undefined>) => Record<string, unknown>;
    };
    const m = loadConfig(migrate.command!.slice(2), {});
    expect(m.clickhouseCluster).toBe('dnslens');
    expect(m.clickhousePassword).toBe(WRITER_SECRET);
    for (const a of String(m.clickhouseAddress).split(',')) expect(NODES).toContain(a.replace(/:8123$/, ''));
    expect(Object.keys(migrate.depends_on ?? {}).sort()).toEqual(NODES);

    // two collectors on one durable consumer of the NATS service, into every node of the cluster
    for (const name of ['collector-1', 'collector-2']) {
      const svc = cfg.services[name];
      expect(svc.image).toBe('dnslens:local');
      expect(svc.depends_on).toEqual({ nats: { condition: 'service_healthy' }, 'cluster-migrate': { condition: 'service_completed_successfully' } });
      const r = spawnSync(process.execPath, [MAIN, '--checkConfig', ...(svc.command ?? [])], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr, `${name}: dnslens --checkConfig ${svc.command?.join(' ')}`).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^natsInputServer = nats:\/\/nats:4222$/m);
      expect(r.stdout).toMatch(/^natsInputDurable = dnslens$/m);
      expect(r.stdout).toMatch(/^clickhouseOutputType = 1$/m);
      expect(r.stdout).toMatch(/^clickhouseCluster = dnslens$/m);
      expect(r.stdout).toMatch(/^clickhousePassword = <redacted>$/m);
      const addresses = /^clickhouseAddress = (.*)$/m.exec(r.stdout)![1].split(',');
      expect(addresses.map((a) => a.replace(/:8123$/, '')).sort()).toEqual(NODES);
    }
  });

  it('refuses Compose v1 for up, and says how to get v2', () => {
    const s = makeStack({ composeV1: true });
    const r = autobuild(s, ['-y', '--interfaces', 'none'], { composeV1: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("only Compose v1 (docker-compose) is here, and it breaks re-runs of this stack (KeyError: 'ContainerConfig'");
    expect(r.stderr).toContain('docker-compose-plugin');
    expect(existsSync(join(s.dir, '.env'))).toBe(false);
    expect(calls(s).filter((c) => / (build|up) /.test(c))).toEqual([]);
  });

  it('mounts a unix dnstap socket from its host directory', async () => {
    const s = makeStack();
    const sockDir = join(s.dir, 'run-dnstap');
    const r = autobuild(s, ['-y', '--interfaces', 'none', `--dnstap=unix:${sockDir}/resolver.sock`, '--dnstap-name', 'ns1']);
    expect(r.code, r.out).toBe(0);
    const cfg = composeConfig(s);
    const dnstap = cfg.services.dnstap;
    expect(dnstap.volumes).toContain(`${sockDir}:/run/dnstap:rw`);
    expect(dnstap.command?.slice(0, 6)).toEqual(['--dnstapSocket', 'unix:///run/dnstap/resolver.sock', '--dnstapPermission', '666', '--serverName', 'ns1']);
    expect(dnstap.healthcheck?.test).toContain('/run/dnstap/resolver.sock');
    expect(Object.keys(cfg.services)).not.toContain('capture-lo');
    if (IS_ROOT) expect(statSync(sockDir).uid).toBe(1000);
    await checkDnslensCommand(dnstap);
  });

  it('takes "yes" for a dnstap collector on 127.0.0.1:6000', () => {
    const s = makeStack();
    const r = autobuild(s, ['-y', '--interfaces', 'none', '--dnstap', 'yes']);
    expect(r.code, r.out).toBe(0);
    expect(envOf(s)).toMatchObject({ AUTOBUILD_DNSTAP: 'tcp:127.0.0.1:6000', AUTOBUILD_DNSTAP_NAME: `${HOST_TAG}_dnstap` });
  });

  it('a declined summary writes and starts nothing', () => {
    const s = makeStack();
    const r = autobuild(s, ['--interfaces', 'lo', '--server-name', 'lo=x', '--dnstap', 'no'], { input: ['', '', '', '', '', '', '', 'n'].join('\n') + '\n' });
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain('The stack will be set up with:');
    expect(r.stderr).toContain('nothing written or started');
    expect(existsSync(join(s.dir, '.env'))).toBe(false);
    expect(existsSync(join(s.dir, 'secrets'))).toBe(false);
    expect(calls(s).filter((c) => / (build|up) /.test(c))).toEqual([]);
  });

  it('--dry-run prints the files and the commands and runs and writes nothing', () => {
    const s = makeStack();
    const r = autobuild(s, ['--dry-run', '--yes', '--interfaces', 'lo']);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toContain(`--- ${s.dir}/.env (mode 600)`);
    expect(r.stdout).toContain(`--- ${s.dir}/secrets/ (mode 700): clickhouse_writer_password <generated>`);
    expect(r.stdout).toContain('The stack will be set up with:');
    expect(existsSync(join(s.dir, 'secrets'))).toBe(false);
    expect(r.stdout).toContain(`--- ${s.dir}/docker-compose.override.yml`);
    expect(r.stdout).toContain('  capture-lo:');
    expect(r.stdout).toContain('--- commands\n+ docker compose build migrate\n+ docker compose up -d --remove-orphans\n');
    expect(existsSync(join(s.dir, '.env'))).toBe(false);
    expect(existsSync(join(s.dir, 'docker-compose.override.yml'))).toBe(false);
    expect(existsSync(join(s.dir, 'data'))).toBe(false);
    expect(calls(s)).toEqual(['docker info --format {{.ServerVersion}}', 'docker compose version']);
  });

  it('re-running keeps the secrets and files; a changed retention re-runs the migration with the new value', () => {
    const s = makeStack();
    const flags = ['--yes', '--interfaces', 'lo'];
    expect(autobuild(s, flags).code).toBe(0);
    const env1 = readFileSync(join(s.dir, '.env'), 'utf8');
    const secrets1 = secretsOf(s);
    const override1 = readFileSync(join(s.dir, 'docker-compose.override.yml'), 'utf8');
    writeFileSync(join(s.dir, 'data/clickhouse/keep-me'), 'data');
    const first = calls(s);

    // the same answers (now the defaults from .env): byte-identical files, the same commands
    const again = autobuild(s, ['--yes']);
    expect(again.code, again.out).toBe(0);
    expect(readFileSync(join(s.dir, '.env'), 'utf8')).toBe(env1);
    expect(readFileSync(join(s.dir, 'docker-compose.override.yml'), 'utf8')).toBe(override1);
    expect(calls(s)).toEqual(first);
    expect(again.out).not.toContain('Retention changed');

    // dry run on an existing stack: secrets shown as kept
    expect(autobuild(s, ['--yes', '--dry-run']).stdout).toContain('clickhouse_writer_password <kept>');
    calls(s);

    const before = composeConfig(s).services.migrate.command?.join(' ');
    const changed = autobuild(s, ['--yes', '--retention-days', '14', '--rollup-retention-days', '400']);
    expect(changed.code, changed.out).toBe(0);
    expect(changed.out).toContain('Retention changed (raw,minute,hour,day,week,month: 30,90,730,730,1825,1825 -> 14,400,400,400,400,400 days): the migrate service re-runs');
    const env2 = envOf(s);
    expect(secretsOf(s)).toEqual(secrets1);
    expect(env2.DNSLENS_TTL_DAYS).toBe('14');
    // compose re-creates a service whose configuration changed: the migrate command did
    const cfg = composeConfig(s);
    const after = cfg.services.migrate.command?.join(' ');
    expect(after).not.toBe(before);
    expect(after).toContain('--clickhouseTTL 14 --clickhouseRollupTTLMinute 400 --clickhouseRollupTTLHour 400');
    expect(cfg.services['capture-lo'].command?.join(' ')).toContain('--clickhouseTTL 14 --clickhouseRollupTTLMinute 400');
    expect(calls(s)).toContain('docker compose up -d --remove-orphans');
    expect(readFileSync(join(s.dir, 'data/clickhouse/keep-me'), 'utf8')).toBe('data');

    // a new time zone: every writer gets it, and the captures stop before the migration rebuilds the rollups
    const zoned = autobuild(s, ['--yes', '--timezone', 'Asia/Jakarta']);
    expect(zoned.code, zoned.out).toBe(0);
    expect(zoned.out).toContain(`Time zone changed (${env2.DNSLENS_TIMEZONE} -> Asia/Jakarta): the captures stop`);
    expect(composeConfig(s).services.migrate.command?.join(' ')).toContain('--timezone Asia/Jakarta');
    expect(composeConfig(s).services['capture-lo'].command?.join(' ')).toContain('--timezone Asia/Jakarta');
    const zonedCalls = calls(s);
    const stop = zonedCalls.indexOf('docker compose stop capture-lo');
    expect(stop).toBeGreaterThanOrEqual(0);
    expect(zonedCalls.indexOf('docker compose up -d --remove-orphans')).toBeGreaterThan(stop);

    // settings added to .env by hand survive a re-run
    writeFileSync(join(s.dir, '.env'), readFileSync(join(s.dir, '.env'), 'utf8') + 'CLICKHOUSE_IMAGE_TAG=25.8.2\n');
    expect(autobuild(s, ['--yes']).code).toBe(0);
    expect(envOf(s).CLICKHOUSE_IMAGE_TAG).toBe('25.8.2');
    expect(composeConfig(s).services.clickhouse.image).toBe('clickhouse/clickhouse-server:25.8.2');
  });

  it('refuses bad answers given non-interactively, with exit code 2 and nothing written or run', () => {
    const s = makeStack();
    writeFileSync(join(s.dir, 'a-file'), 'x');
    const cases: [string[], string][] = [
      [['--interfaces', 'nosuch0'], '--interfaces: unknown interface "nosuch0" (this host has: '],
      [['--interfaces', 'lo', '--retention-days', 'abc'], '--retention-days: "abc" is not a whole number of days (1..36500)'],
      [['--interfaces', 'lo', '--retention-days', '0'], '--retention-days: "0" is not a whole number of days (1..36500)'],
      [['--interfaces', 'lo', '--clickhouse-data', `${s.dir}/a-file/ch`], `--clickhouse-data: cannot create ${s.dir}/a-file/ch`],
      [['--interfaces', 'lo', '--grafana-data', 'my data'], '--grafana-data: "my data": use a path of letters'],
      [['--interfaces', 'lo', '--server-name', 'eth9=x'], '--server-name: eth9 is not one of the monitored interfaces (lo)'],
      [['--interfaces', 'lo', '--dnstap', 'udp:53'], '--dnstap: "udp:53" is not no, yes, tcp:PORT'],
      [['--interfaces', 'lo', '--dnstap', 'yes', '--dnstap-name', 'a b'], '--dnstap-name: "a b" is not a server name'],
      [['--interfaces', 'lo', '--dnstap', 'no', '--dnstap-name', 'a b'], '--dnstap-name: "a b" is not a server name'],
      [['--interfaces', 'lo', '--expose-grafana', 'perhaps'], '--expose-grafana: "perhaps" is not yes or no'],
      [['--bogus'], 'unknown option --bogus'],
    ];
    for (const [args, message] of cases) {
      const r = autobuild(s, ['--yes', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    // no answer at all and no --yes: the input ends, and the script says how to go on
    const r = autobuild(s, [], { input: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(input ended): answer with --interfaces, or accept the defaults with --yes');
    expect(existsSync(join(s.dir, '.env'))).toBe(false);
    expect(calls(s).filter((c) => / (build|up|down) /.test(c))).toEqual([]);
  });

  // The data directories are handed to the containers' users (chown -R here as root, and by the
  // ClickHouse image's entry point) and `down --volumes` deletes them: a directory that already
  // holds other files (/var/lib, a home, /tmp for the dnstap socket) must not be taken.
  it('refuses data and socket directories that already hold files the stack did not put there, and overlapping ones', () => {
    const s = makeStack();
    const busy = join(s.dir, 'busy');
    mkdirSync(busy);
    writeFileSync(join(busy, 'someone-elses'), 'x');
    const cases: [string[], string][] = [
      [['--grafana-data', busy], `--grafana-data: ${busy} already holds files`],
      [['--clickhouse-data', busy], `--clickhouse-data: ${busy} already holds files`],
      [['--dnstap', `unix:${busy}/dnstap.sock`], `--dnstap: ${busy} already holds files`],
      [['--clickhouse-data', 'same', '--grafana-data', 'same'], `--grafana-data: ${s.dir}/same is also the ClickHouse data directory`],
      [['--clickhouse-data', 'ch', '--clickhouse-logs', 'ch/logs'], `--clickhouse-logs: ${s.dir}/ch/logs is inside the ClickHouse data directory`],
    ];
    for (const [args, message] of cases) {
      const r = autobuild(s, ['--yes', '--interfaces', 'lo', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
    expect(readFileSync(join(busy, 'someone-elses'), 'utf8')).toBe('x');
    expect(calls(s).filter((c) => / (build|up|down) /.test(c))).toEqual([]);

    // interactively, such an answer is asked again
    const asked = autobuild(s, [], {
      input: ['lo', '', 'no', busy, 'ch2', '', '', '', '', '', '', ''].join('\n') + '\n',
    });
    expect(asked.code, asked.out).toBe(0);
    expect(asked.out).toContain(`${busy} already holds files`);
    expect(envOf(s).CLICKHOUSE_DATA_DIR).toBe(`${s.dir}/ch2`);

    // the previous run's own directories are taken again, files and all
    writeFileSync(join(s.dir, 'ch2', 'part'), 'data');
    const again = autobuild(s, ['--yes']);
    expect(again.code, again.out).toBe(0);
    expect(envOf(s).CLICKHOUSE_DATA_DIR).toBe(`${s.dir}/ch2`);
  });

  it('prints commands a user can paste when the stack lives in a directory with a space', () => {
    const s = makeStack();
    const spaced = join(s.dir, '..', 'my stack');
    cpSync(s.dir, spaced, { recursive: true });
    const t = { ...s, dir: spaced };
    // its default data paths hold a space, which .env cannot carry: the data goes elsewhere
    const r = autobuild(t, ['--yes', '--interfaces', 'lo', '--clickhouse-data', `${s.dir}/ch`, '--clickhouse-logs', `${s.dir}/logs`, '--grafana-data', `${s.dir}/grafana`]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`Ad hoc SQL:    cd ${spaced.replace(/ /g, '\\ ')} && docker compose exec`);
  });

  it('refuses a port another program holds', async () => {
    const s = makeStack();
    const srv = createTcpServer();
    const port = await new Promise<number>((resolve) => srv.listen(0, '0.0.0.0', () => resolve((srv.address() as AddressInfo).port)));
    try {
      const r = autobuild(s, ['--yes', '--interfaces', 'lo', '--grafana-port', String(port)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`Grafana port ${port} is in use on this host: choose another with --grafana-port`);
    } finally {
      srv.close();
    }
  });

  it('waits for health with a bound, and says which service failed', () => {
    const s = makeStack();
    const failed = autobuild(s, ['--yes', '--interfaces', 'lo'], { env: { SHIM_STATE_migrate: 'exited||3' } });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('the schema migration failed (exit 3): docker compose logs migrate');
    const stuck = autobuild(s, ['--yes', '--timeout', '1'], { env: { SHIM_STATE_grafana: 'running|starting|0' } });
    expect(stuck.code).toBe(1);
    expect(stuck.stderr).toContain('grafana is not healthy after 1s (state: running|starting|0): docker compose logs grafana');
    const crashed = autobuild(s, ['--yes'], { env: { SHIM_STATE_capture_lo: 'exited||1' } });
    expect(crashed.code).toBe(1);
    expect(crashed.stderr).toContain('capture-lo stopped (exit 1): docker compose logs capture-lo');
  });

  it('down stops the stack and keeps the data; down --volumes deletes it only when confirmed', () => {
    const s = makeStack();
    expect(autobuild(s, ['--yes', '--interfaces', 'lo']).code).toBe(0);
    calls(s);
    const data = [join(s.dir, 'data/clickhouse'), join(s.dir, 'data/clickhouse-logs'), join(s.dir, 'data/grafana')];

    const down = autobuild(s, ['down']);
    expect(down.code, down.out).toBe(0);
    expect(calls(s)).toEqual(['docker info --format {{.ServerVersion}}', 'docker compose version', 'docker compose down --remove-orphans']);
    expect(down.out).toContain('The data stays in');
    for (const d of data) expect(existsSync(d)).toBe(true);

    const declined = autobuild(s, ['down', '--volumes'], { input: 'no\n' });
    expect(declined.code).toBe(2);
    expect(declined.stderr).toContain('nothing deleted');
    expect(calls(s).filter((c) => c.includes(' down'))).toEqual([]);
    for (const d of data) expect(existsSync(d)).toBe(true);

    expect(autobuild(s, ['down', '--retention-days', '3']).code).toBe(2);

    const wiped = autobuild(s, ['down', '--volumes'], { input: 'delete\n' });
    expect(wiped.code, wiped.out).toBe(0);
    expect(calls(s)).toContain('docker compose down --remove-orphans --volumes');
    for (const d of data) expect(existsSync(d)).toBe(false);
    expect(existsSync(join(s.dir, '.env'))).toBe(true); // the answers and passwords stay for the next start
    expect(existsSync(join(s.dir, 'secrets/clickhouse_writer_password'))).toBe(true);
  });

  // ClickHouse's entrypoint chowns its data and log directories to 101:101 on the first start: a
  // user in the docker group (not root) can no longer write there, and need not.
  it.skipIf(!IS_ROOT)('re-runs as a non-root user after the containers took its data directories (needs root to make such owners)', () => {
    const s = makeStack();
    const base = join(s.dir, '..');
    execFileSync('chown', ['-R', '65534:65534', base]);
    const env = { HOME: base };
    const first = autobuild(s, ['--yes', '--interfaces', 'lo'], { uid: 65534, env });
    expect(first.code, first.out).toBe(0);
    for (const d of ['data/clickhouse', 'data/clickhouse-logs']) {
      execFileSync('chown', ['-R', '101:101', join(s.dir, d)]);
      chmodSync(join(s.dir, d), 0o700);
    }
    calls(s);
    const again = autobuild(s, ['--yes'], { uid: 65534, env });
    expect(again.code, again.out).toBe(0);
    expect(envOf(s).CLICKHOUSE_DATA_DIR).toBe(`${s.dir}/data/clickhouse`);
    expect(calls(s)).toContain('docker compose up -d --remove-orphans');
    // a directory the previous run did not record is still probed
    const other = join(s.dir, 'theirs');
    mkdirSync(other);
    execFileSync('chown', ['101:101', other]);
    chmodSync(other, 0o700);
    const refused = autobuild(s, ['--yes', '--grafana-data', `${other}/grafana`], { uid: 65534, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`--grafana-data: cannot create ${other}/grafana`);
    // and Grafana's own directory, taken by another user, is still checked (Grafana runs as this user)
    execFileSync('chown', ['-R', '472:0', join(s.dir, 'data/grafana')]);
    chmodSync(join(s.dir, 'data/grafana'), 0o700);
    const grafana = autobuild(s, ['--yes'], { uid: 65534, env });
    expect(grafana.code).toBe(2);
    expect(grafana.stderr).toContain(`--grafana-data: the default "${s.dir}/data/grafana" does not work: ${s.dir}/data/grafana is not writable`);
  });

  it('puts no secret on a command line, in the environment or in a compose file', () => {
    const s = makeStack();
    expect(autobuild(s, ['--yes', '--interfaces', 'lo', '--dnstap', 'yes']).code).toBe(0);
    expect(autobuild(s, ['--yes', '--retention-days', '9']).code).toBe(0);
    const secrets = Object.values(secretsOf(s));
    const recorded = readFileSync(s.log, 'utf8');
    expect(recorded).toContain('docker compose up -d');
    const merged = execFileSync('docker-compose', ['config'], { cwd: s.dir, encoding: 'utf8', timeout: 30_000 });
    for (const text of [recorded, merged, readFileSync(join(s.dir, '.env'), 'utf8'), readFileSync(join(s.dir, 'docker-compose.override.yml'), 'utf8')]) {
      for (const secret of secrets) expect(text.includes(secret)).toBe(false);
    }
  });

  it('moves the passwords an older version kept in .env into secrets/', () => {
    const s = makeStack();
    const old = { CLICKHOUSE_WRITER_PASSWORD: 'a'.repeat(40), CLICKHOUSE_READER_PASSWORD: 'b'.repeat(40), GRAFANA_ADMIN_PASSWORD: 'c'.repeat(40) };
    writeFileSync(join(s.dir, '.env'), ['AUTOBUILD_INTERFACES=lo', ...Object.entries(old).map(([k, v]) => `${k}=${v}`)].join('\n') + '\n');
    const r = autobuild(s, ['--yes']);
    expect(r.code, r.out).toBe(0);
    expect(secretsOf(s)).toEqual({ clickhouse_writer_password: old.CLICKHOUSE_WRITER_PASSWORD, clickhouse_reader_password: old.CLICKHOUSE_READER_PASSWORD, grafana_admin_password: old.GRAFANA_ADMIN_PASSWORD });
    expect(readFileSync(join(s.dir, '.env'), 'utf8')).not.toContain('PASSWORD');
  });

  // Every variable the stack sets is read by something: the image it goes to (documented there),
  // the provisioning files, or dnslens (DNSLENS_<FLAG>), so a dead setting cannot come back.
  it('sets no environment variable that nothing reads', async () => {
    const s = makeStack();
    expect(autobuild(s, ['--yes', '--interfaces', 'lo', '--dnstap', 'yes']).code).toBe(0);
    const cfg = composeConfig(s);
    const { registry, envNames } = (await import(join(ROOT, 'dist/src/cli/registry.js'))) as {
      registry: { options: { name: string }[] };
      envNames: (o: { name: string }) => string[];
    };
    const dnslensVars = new Set(registry.options.flatMap((o) => envNames(o)));
    const provisioning = ['datasources/clickhouse.yaml', 'dashboards/dnslens.yaml'].map((f) => readFileSync(join(ROOT, 'grafana/provisioning', f), 'utf8')).join('\n');
    // what each image documents reading
    const IMAGE_READS: Record<string, (k: string) => boolean> = {
      'clickhouse/clickhouse-server': (k) => k === 'CLICKHOUSE_SKIP_USER_SETUP',
      'grafana/grafana': (k) => /^GF_[A-Z0-9_]+$/.test(k) || provisioning.includes(`\${${k}}`),
      'dnslens:local': (k) => dnslensVars.has(k),
    };
    let seen = 0;
    for (const [name, svc] of Object.entries(cfg.services)) {
      const image = Object.keys(IMAGE_READS).find((i) => (svc.image ?? '').startsWith(i));
      expect(image, `${name}: ${svc.image}`).toBeDefined();
      for (const k of Object.keys(svc.environment ?? {})) {
        seen++;
        expect(IMAGE_READS[image!](k), `${name}: ${k} is read by nothing`).toBe(true);
      }
    }
    expect(seen).toBeGreaterThan(5);
  });

  it('docker/health.mjs checks the store, a process, a TCP listener and a socket', async () => {
    const health = join(ROOT, 'docker/health.mjs');
    const check = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, [health, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d) => (err += d));
        const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
        p.on('close', (code) => {
          clearTimeout(t);
          resolve({ code, err });
        });
      });
    const http = createHttpServer((req, res) => {
      res.statusCode = req.url === '/ping' ? 200 : 404;
      res.end('Ok.\n');
    });
    const port = await new Promise<number>((resolve) => http.listen(0, '127.0.0.1', () => resolve((http.address() as AddressInfo).port)));
    const sleeper = spawn('sleep', ['30']);
    try {
      expect(await check(['--store', `http://127.0.0.1:${port}`, '--process', 'sleep', '--tcp', `127.0.0.1:${port}`])).toEqual({ code: 0, err: '' });
      expect((await check(['--process', 'no-such-process'])).err).toContain('no no-such-process process is running');
      expect((await check(['--socket', '/nonexistent/x.sock'])).code).toBe(1);
      expect((await check(['--bogus', 'x'])).code).toBe(1);
    } finally {
      sleeper.kill();
      await new Promise((resolve) => http.close(resolve));
    }
    const closed = await check(['--store', `http://127.0.0.1:${port}`, '--tcp', `127.0.0.1:${port}`]);
    expect(closed.code).toBe(1);
    expect(closed.err).toMatch(/^unhealthy: /);
  });
});
