import type { DnsEvent } from '../event.js';

// Every sink implements this. Batches keep per-event overhead off the hot path;
// a returned promise is back-pressure: the pipeline waits before sending more.
export interface Output {
  readonly name: string;
  write(events: readonly DnsEvent[]): void | Promise<void>;
  close(): Promise<void>; // flush everything, release resources
}
