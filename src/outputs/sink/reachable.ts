// A receiver that is down when its output opens (issue #17): the output waits for it, trying again
// with the writer's backoff (250 ms doubling up to 30 s, with jitter), rather than stopping the run.
// Only a failure to reach the server is waited out; one that will never go away (a bad URL, refused
// credentials, a refused certificate) is thrown at once, as before. While the output waits, the
// pipeline does (nothing is read); SIGINT/SIGTERM (the run's signal) ends the wait at once: the
// output then opens as stoppedOutput(), and the run ends with its summary.
import type { DnsEvent } from '../../event.js';
import type { Output } from '../../component.js';
import type { Log } from '../../log.js';
import type { Counters, Stats } from '../../stats.js';
export { isUnreachable } from '../../unreachable.js';

/** The run was stopped (SIGINT/SIGTERM) while the output waited for its server. */
export class StoppedWaiting extends Error {
  constructor(readonly what: string) {
    super(`stopped while waiting for ${what}`);
    this.name = 'StoppedWaiting';
  }
}

/** The sink toolkit's backoff (also the writer's): the step doubles from initialMs up to maxMs; the
 *  wait is between half and all of it, so many sensors do not all come back at the same instant. */
export function backoffMs(failures: number, initialMs = 250, maxMs = 30_000): number {
  const step = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 20));
  return step / 2 + Math.random() * (step / 2);
}

export interface UntilReachableOptions<T> {
  initialMs?: number; // first backoff, default 250 ms
  maxMs?: number; // backoff ceiling, default 30 s
  /** A result that came after the wait was stopped (a connection to close). */
  discard?: (late: T) => unknown;
}

/**
 * attempt() until it succeeds. A failure isConnectionError() accepts is logged (the first as a
 * warning naming `what` and the error, later ones at debug) and tried again after the backoff;
 * any other failure is thrown. Once `signal` aborts, throws StoppedWaiting without waiting for
 * the attempt in flight (its late result goes to opts.discard).
 */
export async function untilReachable<T>(
  what: string,
  attempt: () => Promise<T>,
  isConnectionError: (err: unknown) => boolean,
  log: Log,
  signal?: AbortSignal,
  opts: UntilReachableOptions<T> = {},
): Promise<T> {
  const since = Date.now();
  let failures = 0;
  for (;;) {
    if (signal?.aborted) throw new StoppedWaiting(what);
    const trying = attempt();
    let result: T;
    try {
      result = await abortable(trying, signal, what);
    } catch (err) {
      if (err instanceof StoppedWaiting) {
        trying.then((late) => opts.discard?.(late)).catch(() => undefined);
        throw err;
      }
      if (!isConnectionError(err)) throw err;
      failures++;
      const message = (err as Error)?.message || String((err as { code?: unknown })?.code ?? err);
      if (failures === 1) log.warn({ server: what, err: message }, `${what} cannot be reached; waiting for it, retrying with backoff`);
      else log.debug({ server: what, err: message, attempt: failures }, `${what} still cannot be reached`);
      await sleep(backoffMs(failures, opts.initialMs, opts.maxMs), signal);
      continue;
    }
    if (failures > 0) log.info({ server: what, waitedMs: Date.now() - since, attempts: failures + 1 }, `${what} reached`);
    return result;
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new StoppedWaiting(what));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

// Resolves after ms, or at once when the signal aborts (the loop then throws StoppedWaiting).
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The output of a run stopped while it waited for its server: it was given nothing (nothing was
 *  read yet); anything it is given all the same is counted as dropped ('stopped-before-connect'). */
export function stoppedOutput(name: string, stats: Stats, counters: Counters): Output {
  return {
    name,
    write(events: readonly DnsEvent[]) {
      if (events.length === 0) return;
      counters.add('dropped', events.length);
      stats.dropped(name, 'stopped-before-connect', events.length);
    },
    async close() {},
  };
}
