// A Frame Streams file of dnstap messages, as BIND's `dnstap-output file`, `dnstap -w` or
// `fstrm_capture` write it ('-' reads stdin). Damage after a valid start ends the read with
// stats.damage set; a file that is not Frame Streams at all throws.
import { createReadStream } from 'node:fs';
import type { DnsEvent } from '../../event.js';
import type { Stats } from '../../stats.js';
import { DnstapDecoder } from './event.js';
import { DnstapStream, type EventSink } from './stream.js';

export interface DnstapFileOptions {
  server: string; // --serverName
  useIdentity: boolean; // --useDnstapIdentity
  maxFrameSize?: number;
  signal?: AbortSignal; // stop reading
}

const BATCH = 1024;

export async function* readDnstapFile(path: string, stats: Stats, opts: DnstapFileOptions): AsyncGenerator<DnsEvent[]> {
  const input = path === '-' ? process.stdin : createReadStream(path, { highWaterMark: 1 << 20 });
  const decoder = new DnstapDecoder(stats, { server: opts.server, useIdentity: opts.useIdentity, inputName: path });
  const sink: EventSink = { events: [] };
  const stream = new DnstapStream({ decoder, sink, stats, maxFrameSize: opts.maxFrameSize });
  const broken = (): Error | null => {
    const where = `${path}: ${stream.error} at byte ${stream.offset}`;
    if (stream.offset === 0) return new Error(`${path}: not a Frame Streams (dnstap) file (${stream.error})`);
    stats.damage = where;
    return null;
  };
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) break;
      if (!stream.push(chunk)) {
        const fatal = broken();
        if (fatal) throw fatal;
        break;
      }
      if (sink.events.length >= BATCH) {
        const batch = sink.events;
        sink.events = [];
        yield batch;
      }
    }
    if (stream.error === null && !opts.signal?.aborted && !stream.end()) {
      const fatal = broken();
      if (fatal) throw fatal;
    }
    if (sink.events.length > 0) yield sink.events;
  } finally {
    if (path !== '-') (input as ReturnType<typeof createReadStream>).destroy();
  }
}
