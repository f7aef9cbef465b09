// What the decoder holds between packets of one input: IP fragments and TCP streams, with a
// clock in capture time that expires old state once per captured second.
import type { Stats } from '../stats.js';
import { Defragmenter, type DefragOptions } from './defrag.js';
import { TcpReassembler, type TcpOptions } from './tcp.js';

export interface TransportOptions {
  defrag?: Partial<DefragOptions>;
  tcp?: Partial<TcpOptions>;
}

export class TransportState {
  readonly defrag: Defragmenter;
  readonly tcp: TcpReassembler;
  /** The captured second of the last sweep; decodeFrame compares it with every frame's. */
  clockSec = Number.NaN;

  constructor(stats: Stats, opts: TransportOptions = {}) {
    this.defrag = new Defragmenter(stats, opts.defrag);
    this.tcp = new TcpReassembler(stats, opts.tcp);
  }

  /** A frame from another captured second than the last: expire what is too old. */
  tick(tsSec: number, tsNsec: number): void {
    this.clockSec = tsSec;
    const now = msOf(tsSec, tsNsec);
    this.defrag.expire(now);
    this.tcp.expire(now);
  }

  /** End of input: count what is still held (nothing more can complete it). */
  finish(): void {
    this.defrag.finish();
    this.tcp.finish();
  }
}

export function msOf(tsSec: number, tsNsec: number): number {
  return tsSec * 1000 + tsNsec / 1e6;
}
