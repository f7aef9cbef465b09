// --sampleRatio a:b: keep exactly a of every b packets (or, for dnstap and log inputs, messages).
// A counter, not a random draw, so a run is repeatable and a test can state the count: of every
// run of b the first a are kept.
import { defineTransform, type EventTransform } from '../component.js';
import type { DnsEvent } from '../event.js';
import type { Ratio } from '../options.js';
import type { Stats } from '../stats.js';

/** True when the ratio drops anything (1:1, or a >= b, keeps all). */
export function isSampling(r: Ratio): boolean {
  return r.a < r.b;
}

export class Sampler {
  private n = 0; // position in the current run of b

  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 1 && b >= a)) throw new Error(`bad sample ratio ${a}:${b}`);
  }

  keep(): boolean {
    const k = this.n < this.a;
    this.n = this.n + 1 === this.b ? 0 : this.n + 1;
    return k;
  }
}

/** The keepPacket test for --sampleRatio: drops are counted as sample:ratio and in skippedPackets. */
export function packetSampler(ratio: Ratio, stats: Stats): () => boolean {
  const sampler = new Sampler(ratio.a, ratio.b);
  return () => {
    if (sampler.keep()) return true;
    stats.dropped('sample', 'ratio');
    stats.skippedPackets++;
    return false;
  };
}

/** Events from inputs without packets (dnstap, logs): packet inputs are sampled before decoding. */
export function isMessageInput(ev: DnsEvent): boolean {
  return ev.inputKind === 'dnstap' || ev.inputKind === 'log';
}

/** Per-message sampling for dnstap and log events; other events pass untouched. Drops are counted as sample:ratio. */
export function sampleMessages(ratio: Ratio, stats: Stats): EventTransform {
  const sampler = new Sampler(ratio.a, ratio.b);
  return {
    name: 'sample',
    apply(events) {
      let kept: DnsEvent[] | null = null; // allocated on the first drop
      for (let i = 0; i < events.length; i++) {
        const ev = events[i];
        if (!isMessageInput(ev) || sampler.keep()) {
          kept?.push(ev);
          continue;
        }
        stats.dropped('sample', 'ratio');
        kept ??= events.slice(0, i);
      }
      return kept ?? events;
    },
  };
}

export const sample = defineTransform({
  kind: 'transform',
  name: 'sample',
  section: 'capture',
  options: [{ name: 'sampleRatio', section: 'capture', kind: 'ratio', default: '1:1', description: 'Keep exactly a of every b packets (dnstap: messages), counted; 1:1 keeps all', status: 'ready' }],
  open({ settings, stats }) {
    const ratio = settings.sampleRatio;
    if (!isSampling(ratio)) return null;
    return { packet: packetSampler(ratio, stats), event: sampleMessages(ratio, stats) };
  },
});
