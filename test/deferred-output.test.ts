import { describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { deferredOutput } from '../src/outputs/deferred.js';
import type { Output } from '../src/outputs/output.js';

function events(n: number, from = 0): DnsEvent[] {
  return Array.from({ length: n }, (_, i) => ({ ...newEvent(), id: from + i }));
}

function recorder(): Output & { got: number[]; closed: boolean } {
  const o = {
    name: 'rec',
    got: [] as number[],
    closed: false,
    write(evs: readonly DnsEvent[]) {
      for (const e of evs) o.got.push(e.id);
    },
    async close() {
      o.closed = true;
    },
  };
  return o;
}

function opening(): { promise: Promise<Output>; open: (o: Output) => void; fail: (e: Error) => void } {
  let open!: (o: Output) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<Output>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

describe('deferred output', () => {
  it('holds events while the output opens, then passes them on in order', async () => {
    const o = opening();
    const out = deferredOutput('x', o.promise, 100);
    expect(out.write(events(10))).toBeUndefined(); // held, no waiting
    expect(out.write(events(10, 10))).toBeUndefined();
    const inner = recorder();
    o.open(inner);
    await new Promise((r) => setTimeout(r, 0));
    expect(inner.got).toHaveLength(20); // passed on as soon as it opened
    await out.write(events(5, 20));
    expect(inner.got).toEqual(Array.from({ length: 25 }, (_, i) => i));
    await out.close();
    expect(inner.closed).toBe(true);
  });

  it('makes the writer wait once the bound is reached', async () => {
    const o = opening();
    const out = deferredOutput('x', o.promise, 15);
    expect(out.write(events(10))).toBeUndefined();
    const waiting = out.write(events(10, 10));
    expect(waiting).toBeInstanceOf(Promise);
    let done = false;
    void waiting!.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    const inner = recorder();
    o.open(inner);
    await waiting;
    expect(inner.got).toHaveLength(20);
  });

  it('fails the next write and close when the opening fails', async () => {
    const o = opening();
    const out = deferredOutput('x', o.promise, 100);
    out.write(events(3));
    o.fail(new Error('store is locked'));
    await expect(out.close()).rejects.toThrow('store is locked');
    await expect(Promise.resolve(out.write(events(1000)))).rejects.toThrow('store is locked');
  });

  it('flushes what it holds on close even if nothing was written after opening', async () => {
    const o = opening();
    const out = deferredOutput('x', o.promise, 100);
    out.write(events(7));
    const inner = recorder();
    o.open(inner);
    await out.close();
    expect(inner.got).toHaveLength(7);
  });
});
