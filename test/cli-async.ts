// dnslens run as a user runs it (the built CLI in a child process) without blocking this process,
// for tests whose receiver lives in the test itself; and a poll for what a receiver got.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const MAIN = join(ROOT, 'dist/src/cli/main.js');

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

export function dnslensAsync(args: string[], timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dnslens ${args.join(' ')} took over ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr, pid: child.pid ?? -1 });
    });
  });
}

/** Polls read() every 50 ms until it gives a value (not undefined or false); throws after timeoutMs. */
export async function until<T>(what: string, read: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = read();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A counter of dnslens' end-of-run summary: `  <component>` then `    <label>   <n>`; `absent`
 *  when the summary has no such line (a component with nothing to count prints no block). */
export function summaryCounter(stderr: string, component: string, label: string, absent = 0): number {
  const block = new RegExp(`\\n  ${component}\\n((?:    .*\\n)*)`).exec(stderr)?.[1] ?? '';
  const m = new RegExp(`^    ${label}\\s+([\\d,]+)$`, 'm').exec(block);
  return m ? Number(m[1].replace(/,/g, '')) : absent;
}
