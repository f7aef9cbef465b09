// Starts test/store-holder.mjs as a separate process and waits for its ready line.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./store-holder.mjs', import.meta.url));

export interface Holder {
  proc: ChildProcess;
  pid: number;
  port: number | null;
  stop(): Promise<number | null>; // SIGTERM, wait for the exit code
}

export async function startHolder(dataDir: string, args: string[] = [], timeoutMs = 60_000): Promise<Holder> {
  const proc = spawn(process.execPath, [SCRIPT, dataDir, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ pid: number; port: number | null }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`store holder not ready after ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        const v = JSON.parse(out.slice(0, nl)) as { ready?: boolean; pid: number; port: number | null; error?: string };
        if (v.ready) resolve(v);
        else reject(new Error(`store holder failed: ${v.error ?? out}`));
      } catch {
        reject(new Error(`store holder said: ${out}; stderr: ${stderr}`));
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`store holder exited with ${code}; stderr: ${stderr}`));
    });
  });
  return {
    proc,
    pid: ready.pid,
    port: ready.port,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
