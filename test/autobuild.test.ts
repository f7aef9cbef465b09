// autobuild.sh and the compose stack, without a Docker engine: the script runs in a temp copy of
// the stack files with a recording `docker` shim first on PATH (it logs every call and answers
// the version, ps and inspect queries the script asks). Debian's docker-compose validates the
// merged compose file, and every dnslens command line in it goes through our own CLI parser.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
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

function autobuild(s: Stack, args: string[], opts: { input?: string; env?: Record<string, string>; composeV1?: boolean } = {}): Result {
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
  const r = spawnSync('bash', [join(s.dir, 'autobuild.sh'), ...args], {
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
}

/** Debian's docker-compose validates and merges docker-compose.yml + the override; as JSON. */
function composeConfig(s: Stack): { services: Record<string, Service>; volumes?: Record<string, unknown> } {
  const yaml = execFileSync('docker-compose', ['config'], { cwd: s.dir, encoding: 'utf8', timeout: 30_000 });
  const json = execFileSync('python3', ['-c', 'import sys, yaml, json; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
    input: yaml,
    encoding: 'utf8',
  });
  return JSON.parse(json);
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
    expect(cfg.clickhousePassword).toBe(svc.environment?.DNSLENS_CLICKHOUSEPASSWORD);
    return;
  }
  const r = spawnSync(process.execPath, [MAIN, '--checkConfig', ...args], { env, encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr, `dnslens --checkConfig ${args.join(' ')}`).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toMatch(/clickhouseOutputType = 1/);
  expect(r.stdout).toMatch(/clickhousePassword = <redacted>/);
}

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
  it('finds free ports for the runs', async () => {
    const s1 = createTcpServer();
    freePort = await portOf((cb) => s1.listen(0, '127.0.0.1', cb));
    const s2 = createTcpServer();
    freePort2 = await portOf((cb) => s2.listen(0, '127.0.0.1', cb));
    expect(freePort).toBeGreaterThan(0);
    expect(freePort2).not.toBe(freePort);
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
      'many', // batch size: not a number
      '5000',
      'tcp:70000', // not a port
      'tcp:6001',
      `${blocker}/clickhouse`, // cannot be created: asked again
      'store/ch',
      '', // logs: default
      './store/grafana',
      'thirty', // retention: not a number
      '45',
      '90,730', // neither one nor five numbers
      '60',
      'maybe',
      'no',
    ];
    const r = autobuild(s, [], { input: answers.join('\n') + '\n' });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('unknown interface "nosuch0" (this host has: ');
    expect(r.out).toContain('"many" is not a number of events (1..10000000); please try again.');
    expect(r.out).toContain('"tcp:70000" is not no, tcp:PORT, tcp:ADDRESS:PORT or unix:/path/NAME.sock');
    expect(r.out).toContain(`cannot create ${blocker}/clickhouse; please try again.`);
    expect(r.out).toContain('"thirty" is not a whole number of days (1..36500); please try again.');
    expect(r.out).toContain('"90,730" is neither one number of days nor five');
    expect(r.out).toContain('"maybe" is not yes or no; please try again.');
    expect(r.out).toContain(`Server name for lo [${HOST_TAG}_lo]`);
    expect(r.out).toContain(`Grafana:     http://127.0.0.1:${freePort}`);
    expect(r.out).toContain(`Credentials: ${s.dir}/.env (mode 600)`);
    expect(r.out).toContain(`docker compose exec clickhouse sh -c 'clickhouse-client --user grafana --password "$CLICKHOUSE_READER_PASSWORD" --database dnslens'`);

    expect(statSync(join(s.dir, '.env')).mode & 0o777).toBe(0o600);
    const env = envOf(s);
    expect(env).toMatchObject({
      AUTOBUILD_INTERFACES: 'lo',
      AUTOBUILD_SERVER_NAMES: `lo=${HOST_TAG}_lo`,
      AUTOBUILD_DNSTAP: 'tcp:127.0.0.1:6001',
      DNSTAP_PORT: '6001',
      DNSLENS_BATCH_SIZE: '5000',
      CLICKHOUSE_DATA_DIR: `${s.dir}/store/ch`,
      CLICKHOUSE_LOGS_DIR: `${s.dir}/data/clickhouse-logs`,
      GRAFANA_DATA_DIR: `${s.dir}/store/grafana`,
      DNSLENS_TTL_DAYS: '45',
      DNSLENS_ROLLUP_TTL_MINUTE_DAYS: '60',
      DNSLENS_ROLLUP_TTL_MONTH_DAYS: '60',
      GRAFANA_BIND: '127.0.0.1',
      CLICKHOUSE_WRITER_USER: 'dnslens',
      CLICKHOUSE_READER_USER: 'grafana',
    });
    for (const k of ['CLICKHOUSE_WRITER_PASSWORD', 'CLICKHOUSE_READER_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']) expect(env[k]).toMatch(/^[0-9a-f]{40}$/);
    expect(new Set([env.CLICKHOUSE_WRITER_PASSWORD, env.CLICKHOUSE_READER_PASSWORD, env.GRAFANA_ADMIN_PASSWORD]).size).toBe(3);
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
    expect(ch.environment?.CLICKHOUSE_WRITER_PASSWORD).toBe(env.CLICKHOUSE_WRITER_PASSWORD);
    const grafana = cfg.services.grafana;
    expect(grafana.ports).toEqual([`0.0.0.0:${freePort}:3000/tcp`]);
    expect(grafana.environment?.GF_SECURITY_ADMIN_PASSWORD).toBe(env.GRAFANA_ADMIN_PASSWORD);
    expect(grafana.environment?.CLICKHOUSE_READER_PASSWORD).toBe(env.CLICKHOUSE_READER_PASSWORD);
    expect(grafana.environment?.GF_INSTALL_PLUGINS).toMatch(/^grafana-clickhouse-datasource \d+\.\d+\.\d+$/);
    expect(grafana.depends_on).toEqual({ clickhouse: { condition: 'service_healthy' }, migrate: { condition: 'service_completed_successfully' } });
    // the provisioning in grafana/ gets what it reads: its files where it looks, its variables set
    expect(grafana.volumes).toEqual(
      expect.arrayContaining([`${s.dir}/grafana/provisioning:/etc/grafana/provisioning:ro`, `${s.dir}/grafana/dashboards:/var/lib/grafana/dashboards:ro`]),
    );
    const datasource = readFileSync(join(ROOT, 'grafana/provisioning/datasources/clickhouse.yaml'), 'utf8')
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n');
    const variables = [...datasource.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => m[1]);
    expect(variables).toContain('CLICKHOUSE_READER_PASSWORD');
    for (const v of variables) expect(grafana.environment?.[v], v).toBeTruthy();
    expect(readFileSync(join(ROOT, 'grafana/provisioning/dashboards/dnslens.yaml'), 'utf8')).toContain('path: /var/lib/grafana/dashboards');

    const capture = cfg.services['capture-lo'];
    expect(capture.network_mode).toBe('host');
    expect(capture.cap_drop).toEqual(['ALL']);
    expect(capture.cap_add?.sort()).toEqual(['NET_ADMIN', 'NET_RAW']);
    expect(capture.depends_on).toEqual(grafana.depends_on);
    expect(capture.command?.slice(0, 4)).toEqual(['--devName', 'lo', '--serverName', 'lab-resolver']);
    expect(capture.command?.join(' ')).toContain(`--clickhouseAddress 127.0.0.1:${freePort2} --clickhouseUsername dnslens --clickhouseDatabase dnslens --clickhouseBatchSize 2000 --clickhouseTTL 7 --clickhouseRollupTTLMinute 30 --clickhouseRollupTTLHour 60 --clickhouseRollupTTLDay 90 --clickhouseRollupTTLWeek 120 --clickhouseRollupTTLMonth 150`);
    const dnstap = cfg.services.dnstap;
    expect(dnstap.ports).toEqual(['0.0.0.0:6002:6000/tcp']);
    // over TCP it runs as the image's user, who owns its spool volume (another uid could not
    // create <dataDir>/spool there, and dnslens would stop at start-up, again and again)
    expect(dnstap.user).toBeUndefined();
    expect(dnstap.command?.slice(0, 4)).toEqual(['--dnstapSocket', 'tcp://0.0.0.0:6000', '--serverName', `${HOST_TAG}_dnstap`]);
    expect(cfg.services.migrate.command?.join(' ')).toContain('--clickhouseTTL 7 --clickhouseRollupTTLMinute 30');
    expect(Object.keys(cfg.volumes ?? {}).sort()).toEqual(['spool-dnstap', 'spool-lo']);

    // every dnslens service: its command line parses, and it has a health check
    const dnslens = Object.entries(cfg.services).filter(([, svc]) => svc.image === 'dnslens:local');
    expect(dnslens.map(([n]) => n).sort()).toEqual(['capture-lo', 'dnstap', 'migrate']);
    for (const [name, svc] of dnslens) {
      await checkDnslensCommand(svc);
      if (name !== 'migrate') expect(svc.healthcheck?.test[0]).toBe('CMD');
    }
    for (const name of ['clickhouse', 'grafana']) expect(cfg.services[name].healthcheck?.test.length).toBeGreaterThan(1);
  });

  it('with compose v1 only, runs docker-compose; a unix dnstap socket is mounted from its host directory', async () => {
    const s = makeStack({ composeV1: true });
    const sockDir = join(s.dir, 'run-dnstap');
    const r = autobuild(s, ['-y', '--interfaces', 'none', `--dnstap=unix:${sockDir}/resolver.sock`], { composeV1: true });
    expect(r.code, r.out).toBe(0);
    expect(calls(s).slice(0, 6)).toEqual([
      'docker info --format {{.ServerVersion}}',
      'docker compose version',
      'docker-compose version',
      'docker-compose build migrate',
      'docker-compose up -d --remove-orphans',
      'docker-compose ps -a -q clickhouse',
    ]);
    const cfg = composeConfig(s);
    const dnstap = cfg.services.dnstap;
    expect(dnstap.volumes).toContain(`${sockDir}:/run/dnstap:rw`);
    expect(dnstap.command?.slice(0, 4)).toEqual(['--dnstapSocket', 'unix:///run/dnstap/resolver.sock', '--dnstapPermission', '666']);
    expect(dnstap.healthcheck?.test).toContain('/run/dnstap/resolver.sock');
    expect(Object.keys(cfg.services)).not.toContain('capture-lo');
    if (IS_ROOT) expect(statSync(sockDir).uid).toBe(1000);
    await checkDnslensCommand(dnstap);
  });

  it('--dry-run prints the files and the commands and runs and writes nothing', () => {
    const s = makeStack();
    const r = autobuild(s, ['--dry-run', '--yes', '--interfaces', 'lo']);
    expect(r.code, r.out).toBe(0);
    expect(r.stdout).toContain(`--- ${s.dir}/.env (mode 600; passwords hidden)`);
    expect(r.stdout).toContain('CLICKHOUSE_WRITER_PASSWORD=<generated>');
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
    expect(autobuild(s, ['--yes', '--dry-run']).stdout).toContain('CLICKHOUSE_WRITER_PASSWORD=<kept>');
    calls(s);

    const before = composeConfig(s).services.migrate.command?.join(' ');
    const changed = autobuild(s, ['--yes', '--retention-days', '14', '--rollup-retention-days', '400']);
    expect(changed.code, changed.out).toBe(0);
    expect(changed.out).toContain('Retention changed (raw,minute,hour,day,week,month: 30,90,730,730,1825,1825 -> 14,400,400,400,400,400 days): the migrate service re-runs');
    const env2 = envOf(s);
    const old = Object.fromEntries(env1.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    for (const k of ['CLICKHOUSE_WRITER_PASSWORD', 'CLICKHOUSE_READER_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']) expect(env2[k]).toBe(old[k]);
    expect(env2.DNSLENS_TTL_DAYS).toBe('14');
    // compose re-creates a service whose configuration changed: the migrate command did
    const cfg = composeConfig(s);
    const after = cfg.services.migrate.command?.join(' ');
    expect(after).not.toBe(before);
    expect(after).toContain('--clickhouseTTL 14 --clickhouseRollupTTLMinute 400 --clickhouseRollupTTLHour 400');
    expect(cfg.services['capture-lo'].command?.join(' ')).toContain('--clickhouseTTL 14 --clickhouseRollupTTLMinute 400');
    expect(calls(s)).toContain('docker compose up -d --remove-orphans');
    expect(readFileSync(join(s.dir, 'data/clickhouse/keep-me'), 'utf8')).toBe('data');

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
      [['--interfaces', 'lo', '--dnstap', 'udp:53'], '--dnstap: "udp:53" is not no, tcp:PORT'],
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
      input: ['lo', '', '', 'no', busy, 'ch2', '', '', '', '', ''].join('\n') + '\n',
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
    expect(r.out).toContain(`Ad hoc SQL:  cd ${spaced.replace(/ /g, '\\ ')} && docker compose exec`);
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
    expect(existsSync(join(s.dir, '.env'))).toBe(true); // the passwords stay for the next start
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
