import { createRequire } from 'node:module';
import type { Logger } from 'pino';

// Logs go to stderr so stdout stays clean for event output.
// pino is loaded on first use: importing it costs ~40 ms of start-up, which short runs
// (decode-only benchmark, a small capture that logs nothing) should not pay.
const require = createRequire(import.meta.url);
let real: Logger | null = null;
let format: 'json' | 'text' = 'json';

function logger(): Logger {
  if (real === null) {
    const { pino } = require('pino') as typeof import('pino');
    const opts = { level: process.env.DNSLENS_LOG_LEVEL ?? 'info', base: undefined };
    if (format === 'text') {
      // pino-pretty as a synchronous stream on stderr: lines stay in order with the summary
      const pretty = require('pino-pretty') as (o: object) => NodeJS.WritableStream;
      real = pino(opts, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) as never);
    } else {
      real = pino(opts, pino.destination(2));
    }
  }
  return real;
}

/** JSON lines (for log collectors) or readable text (for a person); 'auto' is text on a terminal.
 *  Set before the first log line. */
export function setLogFormat(f: 'json' | 'text' | 'auto'): void {
  const want = f === 'auto' ? (process.stderr.isTTY ? 'text' : 'json') : f;
  if (want === format) return;
  const level = real?.level;
  format = want;
  real = null; // made again on the next line, in the new format
  if (level) logger().level = level;
}

type LogFn = Logger['info'];
type AnyFn = (...args: unknown[]) => void;

export const log = {
  debug: ((...args: unknown[]) => (logger().debug as AnyFn)(...args)) as LogFn,
  info: ((...args: unknown[]) => (logger().info as AnyFn)(...args)) as LogFn,
  warn: ((...args: unknown[]) => (logger().warn as AnyFn)(...args)) as LogFn,
  error: ((...args: unknown[]) => (logger().error as AnyFn)(...args)) as LogFn,
  get level(): string {
    return logger().level;
  },
  set level(level: string) {
    logger().level = level;
  },
};

export function setLogLevel(level: string): void {
  log.level = level;
}

/** The logging calls a component gets. */
export type Log = Pick<typeof log, 'debug' | 'info' | 'warn' | 'error'>;

/** A logger whose lines carry `bindings` (e.g. the component's name); pino is still loaded on first use. */
export function childLog(bindings: Record<string, unknown>): Log {
  let child: Logger | null = null;
  const get = (): Logger => (child ??= logger().child(bindings));
  return {
    debug: ((...args: unknown[]) => (get().debug as AnyFn)(...args)) as LogFn,
    info: ((...args: unknown[]) => (get().info as AnyFn)(...args)) as LogFn,
    warn: ((...args: unknown[]) => (get().warn as AnyFn)(...args)) as LogFn,
    error: ((...args: unknown[]) => (get().error as AnyFn)(...args)) as LogFn,
  };
}
