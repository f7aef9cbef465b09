// nats-server run by a test: loopback, JetStream in its own directory, stopped and started again.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { until } from './cli-async.js';
import { which } from './peers.js';

/** nats-server run by the test (not the system service): loopback, JetStream in its own dir. */
export class NatsServer {
  child: ChildProcess | null = null;
  output = '';
  readonly url: string;

  constructor(
    readonly dir: string,
    readonly port: number,
    private readonly args: string[] = [],
    host = 'nats://127.0.0.1',
  ) {
    this.url = `${host}:${port}`;
  }

  async start(): Promise<void> {
    const child = spawn(which('nats-server')!, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', join(this.dir, 'js'), ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await until(`nats-server ready on ${this.port}`, () => {
      if (child.exitCode !== null) throw new Error(`nats-server exited: ${this.output}`);
      return /Server is ready/.test(this.output);
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
    this.output = '';
  }
}
