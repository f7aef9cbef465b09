// Test helpers for dnstap: a dnslens CLI run whose JSON lines are collected while it listens,
// and raw Frame Streams producers.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { DnsEvent } from '../src/event.js';

export const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export interface CliRun {
  events: DnsEvent[];
  stderr: () => string;
  /** Resolves once pred holds over the events, or rejects after ms. */
  waitFor(pred: (events: DnsEvent[]) => boolean, ms: number, what: string): Promise<void>;
  /** Resolves once stderr contains text (bounded). */
  waitForLog(text: string, ms: number): Promise<void>;
  /** Sends the signal and waits for the exit code (SIGKILL after 15 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Starts `dnslens ARGS --stdoutOutputType 1 --stdoutOutputFormat json` (unless args set an output). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  const events: DnsEvent[] = [];
  let partial = '';
  let err = '';
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((f) => f());
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop() ?? '';
    for (const l of lines) if (l.startsWith('{')) events.push(JSON.parse(l) as DnsEvent);
    notify();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    if (err.length < 200_000) err += d;
    notify();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => {
      running.delete(child);
      notify();
      resolve(code);
    }),
  );
  const waitUntil = (ok: () => boolean, ms: number, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = () => {
        if (ok()) {
          done();
          resolve();
        } else if (child.exitCode !== null) {
          done();
          reject(new Error(`dnslens exited (${child.exitCode}) before ${what}: ${err.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${what}; ${events.length} events; stderr: ${err.slice(-2000)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return {
    events,
    stderr: () => err,
    waitFor: (pred, ms, what) => waitUntil(() => pred(events), ms, what),
    waitForLog: (text, ms) => waitUntil(() => err.includes(text), ms, `"${text}" on stderr`),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    exited,
  };
}

/** A raw producer connection, with everything the receiver sent back. */
export interface Producer {
  socket: Socket;
  received: () => Buffer;
  waitForBytes(n: number, ms: number): Promise<void>;
  closed: Promise<void>;
}

export function produce(target: { path: string } | { host: string; port: number }): Promise<Producer> {
  return new Promise((resolve, reject) => {
    const socket = 'path' in target ? connect(target.path) : connect(target.port, target.host);
    let got = Buffer.alloc(0);
    const waiters = new Set<() => void>();
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      waiters.forEach((w) => w());
    });
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined); // a reset is part of some tests; 'close' follows
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => got,
        closed,
        waitForBytes: (n, ms) =>
          new Promise((res, rej) => {
            const t = setTimeout(() => rej(new Error(`waited ${ms} ms for ${n} bytes, got ${got.length}`)), ms);
            const w = () => {
              if (got.length >= n) {
                clearTimeout(t);
                waiters.delete(w);
                res();
              }
            };
            waiters.add(w);
            w();
          }),
      }),
    );
    socket.once('error', reject);
  });
}
