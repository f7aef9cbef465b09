// The Dockerfile's build, natively (there is no Docker engine here): its `build` and `deps` stages
// run as written (every COPY from the context, every RUN) in temp dirs standing for /app, then the
// runtime stage's COPY lines assemble the image's /app, and its ENTRYPOINT answers --help. The
// runtime stage's RUN (apt-get tcpdump, setcap, the node user's directories) needs Debian's
// package manager inside the image and is only checked for what it contains.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const RUN_TIMEOUT_MS = 300_000;

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  steps: Instruction[];
}

/** Dockerfile stages with their instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read "${line}"`);
    const [, op, args] = m;
    if (op === 'FROM') {
      const name = /\bAS\s+(\S+)$/i.exec(args)?.[1] ?? `stage${stages.length}`;
      stages.push({ name, steps: [] });
    } else if (stages.length > 0) stages[stages.length - 1].steps.push({ op, args });
  }
  return stages;
}

/** COPY [--from=stage] src... dest, with dest relative to WORKDIR /app. */
function copy(args: string, stageDir: string, dirs: Map<string, string>): void {
  const words = args.split(/\s+/);
  let from: string | undefined;
  if (words[0].startsWith('--from=')) from = words.shift()!.slice('--from='.length);
  const dest = words.pop()!;
  const target = join(stageDir, dest);
  const intoDir = dest.endsWith('/') || words.length > 1;
  for (const src of words) {
    const source = from ? join(dirs.get(from)!, src.replace(/^\/app\//, '')) : join(ROOT, src);
    if (!existsSync(source)) throw new Error(`COPY ${args}: ${source} does not exist`);
    const to = intoDir ? join(target, basename(src)) : target;
    mkdirSync(dirname(to), { recursive: true });
    cpSync(source, to, { recursive: true });
  }
}

function sh(cmd: string, cwd: string): { code: number | null; out: string } {
  const r = spawnSync('sh', ['-c', cmd], {
    cwd,
    encoding: 'utf8',
    timeout: RUN_TIMEOUT_MS,
    // npm reads packages from its cache first: the same lockfile, no needless downloads
    env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
  });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

const temps: string[] = [];
afterAll(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

describe('the Dockerfile, built natively', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const stages = parseDockerfile(dockerfile);

  it('has build, deps and runtime stages; the image runs dnslens unprivileged', () => {
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    const runtime = stages[2].steps;
    expect(runtime.find((s) => s.op === 'ENTRYPOINT')?.args).toBe('["node", "dist/src/cli/main.js"]');
    expect(runtime.find((s) => s.op === 'USER')?.args).toBe('node');
    const run = runtime.filter((s) => s.op === 'RUN').map((s) => s.args).join(' ');
    expect(run).toContain('apt-get install -y --no-install-recommends tcpdump libcap2-bin');
    expect(run).toContain('setcap cap_net_raw,cap_net_admin+eip "$(command -v tcpdump)"');
    // the dnstap collector on a unix socket runs as the host user owning the socket directory:
    // its spool volume (a copy of this directory) must let that uid create <dataDir>/spool
    expect(run).toMatch(/chmod 1777 \/var\/lib\/dnslens\b/);
    // nothing optional (the embedded engine) is installed anywhere
    for (const s of stages)
      for (const step of s.steps.filter((x) => x.op === 'RUN' && /npm (ci|install)/.test(x.args))) expect(step.args).toContain('--omit=optional');
  });

  it('.dockerignore lets in exactly what the context COPY lines need', () => {
    const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(rules[0]).toBe('*');
    const allowed = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1));
    const sources = stages.flatMap((s) =>
      s.steps
        .filter((x) => x.op === 'COPY' && !x.args.startsWith('--from='))
        .flatMap((x) => {
          const words = x.args.split(/\s+/);
          return words.slice(0, -1);
        }),
    );
    for (const src of new Set(sources)) expect(allowed, `COPY ${src}`).toContain(src);
    for (const secret of ['.env', 'node_modules', 'dist', 'data']) expect(allowed).not.toContain(secret);
  });

  it(
    'runs the build and deps stages, assembles the runtime, and the entry point answers --help',
    () => {
      const base = mkdtempSync(join(tmpdir(), 'dnslens-image-'));
      temps.push(base);
      const dirs = new Map<string, string>();
      for (const stage of stages) {
        const dir = join(base, stage.name);
        mkdirSync(dir);
        dirs.set(stage.name, dir);
        for (const step of stage.steps) {
          if (step.op === 'WORKDIR') expect(step.args).toBe('/app');
          if (step.op === 'COPY') copy(step.args, dir, dirs);
          if (step.op === 'RUN' && stage.name !== 'runtime') {
            const r = sh(step.args, dir);
            expect(r.code, `RUN ${step.args}\n${r.out.slice(-3000)}`).toBe(0);
          }
        }
      }
      const app = dirs.get('runtime')!;
      // production dependencies only: no embedded engine, no compiler, no test runner
      for (const absent of ['chdb', '@chdb', 'typescript', '@typescript', 'vitest']) expect(existsSync(join(app, 'node_modules', absent)), absent).toBe(false);
      for (const present of ['@clickhouse/client', 'pino', 'tldts', 'yargs']) expect(existsSync(join(app, 'node_modules', present)), present).toBe(true);
      expect(existsSync(join(app, 'clickhouse/migrations/0001_dns_log.sql'))).toBe(true);
      expect(existsSync(join(app, 'docker/health.mjs'))).toBe(true);

      const entry = ['dist/src/cli/main.js'];
      const help = spawnSync(process.execPath, [...entry, '--help'], { cwd: app, encoding: 'utf8', timeout: 30_000 });
      expect(help.status, help.stderr).toBe(0);
      expect(help.stdout).toContain('--devName');
      expect(help.stdout).toContain('--clickhouseAddress');
      // a server configuration is complete without the embedded engine
      const check = spawnSync(
        process.execPath,
        [...entry, '--checkConfig', '--pcapFile', join(ROOT, 'samples/dns-sample.pcap'), '--clickhouseOutputType', '1', '--clickhouseAddress', 'clickhouse:8123'],
        { cwd: app, encoding: 'utf8', timeout: 30_000 },
      );
      expect(check.status, check.stderr).toBe(0);
      // and the embedded engine is missing as the error says, not as a crash
      const embedded = spawnSync(process.execPath, [...entry, '--pcapFile', join(ROOT, 'samples/dns-sample.pcap'), '--dataDir', join(base, 'embedded')], {
        cwd: app,
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(embedded.status).not.toBe(0);
      expect(embedded.stderr).toContain('the embedded ClickHouse store needs the optional package "chdb"');
    },
    RUN_TIMEOUT_MS * 2,
  );
});
