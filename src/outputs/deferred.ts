// An output that is still being opened (the embedded store takes about a second to load and
// migrate). Events wait in memory, up to a bound, so decoding overlaps the opening; past the bound,
// write() waits for the output (back-pressure). Once open, what waited is passed on at once.
// An opening that fails fails the next write and the close.
import type { DnsEvent } from '../event.js';
import type { Output } from './output.js';

export function deferredOutput(name: string, opening: Promise<Output>, maxHeld: number): Output {
  let held: DnsEvent[] = [];
  let inner: Output | null = null;
  // Settles when the output is open and what was held has been written to it.
  const ready: Promise<Output> = opening.then(async (o) => {
    // Writes that come while a batch is being passed on join the next one.
    while (held.length > 0) {
      const batch = held;
      held = [];
      await o.write(batch);
    }
    inner = o;
    return o;
  });
  ready.catch(() => undefined); // reported by the next write or close
  return {
    name,
    write(events) {
      if (inner !== null) return inner.write(events);
      for (let i = 0; i < events.length; i++) held.push(events[i]);
      if (held.length < maxHeld) return undefined;
      return ready.then(() => undefined);
    },
    async close() {
      await (await ready).close();
    },
  };
}
