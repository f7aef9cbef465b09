// The `nats` bench step (issue #16, "Speed"): the bench capture published to a NATS JetStream
// server on this machine (`--natsOutputType 1`, binary, acknowledged), against the same capture
// as JSON lines to /dev/null in the same run: the target is that publishing costs at most 1.5x
// the CPU of the JSON run. Then a collector (`--natsInputServer`) reads the stream into a fresh
// embedded store: messages/s, beside the same capture imported directly into a fresh store.
// The server is Debian's nats-server, started here in a temporary directory.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './pgserver.js';
import type { Ctx, Row, Step } from './run.js';

const STEP = 'nats';
export const TARGET_CPU_RATIO = 1.5;

function natsServerPath(): string | null {
  for (const p of ['/usr/bin/nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server']) if (existsSync(p)) return p;
  return null;
}

export const natsStep: Step = {
  name: STEP,
  title: 'pcap -> NATS JetStream (binary, acknowledged) beside JSON to /dev/null (CPU), then NATS -> collector -> embedded store beside a direct import, whole processes',
  async run(ctx: Ctx): Promise<Row[]> {
    const run = await import('./run.js');
    const server = natsServerPath();
    if (!existsSync(run.mainScript(ctx))) return [{ step: STEP, figure: 'events/s', value: 'not run', note: `${run.mainScript(ctx)} is not built` }];
    if (!server) return [{ step: STEP, figure: 'events/s', value: 'not run', note: 'no nats-server (apt install nats-server)' }];
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-bench-nats-'));
    const port = await freePort();
    const nats = spawn(server, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', join(dir, 'js')], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 1000)); // nats-server is ready well within a second here
      const url = `nats://127.0.0.1:${port}`;
      const main = run.mainScript(ctx);
      const json = await run.bestOf(ctx, process.execPath, [main, '--pcapFile', ctx.capture, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json']);
      const pub = await run.runTimed(process.execPath, [main, '--pcapFile', ctx.capture, '--natsOutputType', '1', '--natsOutputServer', url], { captureStdout: false, timeoutMs: ctx.timeoutMs, cwd: ctx.root });
      if (pub.code !== 0) return [{ step: STEP, figure: 'publish', value: 'failed', note: run.failure(pub) }];
      const events = ctx.results.get('decode.events') ?? ctx.summary.queries + ctx.summary.responses;
      const ratio = pub.cpuSeconds !== null && json.cpuSeconds ? pub.cpuSeconds / json.cpuSeconds : null;
      const rows: Row[] = [
        {
          step: STEP,
          figure: 'pcap -> NATS publish',
          value: run.rate(events / pub.seconds, 'events'),
          note: `${pub.seconds.toFixed(2)} s, cpu ${run.cpu(pub.cpuSeconds)}; JSON to /dev/null: ${json.seconds.toFixed(2)} s, cpu ${run.cpu(json.cpuSeconds)}`,
        },
        {
          step: STEP,
          figure: 'publish CPU / JSON CPU',
          value: ratio === null ? 'n/a' : `${ratio.toFixed(2)}x`,
          target: `<= ${TARGET_CPU_RATIO}x`,
          pass: ratio === null ? undefined : ratio <= TARGET_CPU_RATIO,
        },
      ];
      // The collector runs until stopped: it is stopped once the store holds every event (asked
      // through the collector itself, `dnslens sql`, every 2 s), or at the timeout.
      const store = join(dir, 'collector');
      const t0 = process.hrtime.bigint();
      const collector = spawn(process.execPath, [main, '--natsInputServer', url, '--dataDir', store, '--metricFlushInterval', '0'], { cwd: ctx.root, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      collector.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((r) => collector.once('exit', r));
      const deadline = Date.now() + ctx.timeoutMs;
      let stored = 0;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 2000));
        const q = await run.runTimed(process.execPath, [main, 'sql', '--dataDir', store, '--format', 'tsv', 'SELECT count() FROM DNS_LOG'], { captureStdout: true, timeoutMs: 60_000, cwd: ctx.root });
        if (q.code === 0) stored = Number(q.stdout.trim().split('\n').at(-1));
        if (stored >= events) break;
      }
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      collector.kill('SIGTERM');
      await exited;
      const direct = await run.storeRun(ctx, join(dir, 'direct'));
      rows.push({
        step: STEP,
        figure: 'NATS -> collector -> embedded store',
        value: run.rate(stored / seconds, 'events'),
        note: `${run.int(stored)} of ${run.int(events)} events in ${seconds.toFixed(1)} s (polled every 2 s); the same capture imported directly: ${direct.rows === null ? 'failed' : run.rate(direct.rows / direct.timed.seconds, 'events')}${stored < events ? `; stopped at the timeout: ${err.slice(-300)}` : ''}`,
      });
      return rows;
    } finally {
      nats.kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
