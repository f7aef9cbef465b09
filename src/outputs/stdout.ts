// Text lines to stdout (or any writable stream). One write per batch; a full pipe makes
// write() return a promise until 'drain'. When the reader goes away (`dnslens ... | head`)
// the write fails with EPIPE: the output then ends quietly and discards what follows.
import type { Writable } from 'node:stream';
import type { DnsEvent } from '../event.js';
import { log } from '../log.js';
import { encodeLines, encodeHeader, formatOptions, textFormat, type TextFormat } from './format.js';
import { defineOutput, type Output } from '../component.js';
import type { Counters, Stats } from '../stats.js';
import { int, outputType, tuning } from '../options.js';

export interface StdoutOutput extends Output {
  /** True once the reader has gone (EPIPE): later batches are discarded. */
  readonly ended: boolean;
  /** Events not delivered because the reader had gone (or the write failed). */
  readonly discarded: number;
}

// Errors that mean "nobody is reading any more", not a fault of ours.
const READER_GONE = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END']);

/** counts: where events written and discarded are counted (the component's counters, and the
 *  run's drops as stdout:reader-gone). */
export function stdoutOutput(fmt: TextFormat, stream: Writable = process.stdout, counts?: { counters: Counters; stats: Stats }): StdoutOutput {
  let header: Buffer | null = fmt.header === undefined ? null : encodeHeader(fmt);
  let ended = false;
  let discarded = 0;
  let failure: Error | null = null;
  const discard = (n: number): void => {
    discarded += n;
    counts?.counters.add('discarded', n);
  };

  const onError = (err: NodeJS.ErrnoException): void => {
    if (READER_GONE.has(err.code ?? '')) {
      if (!ended) log.debug({ code: err.code }, 'stdout reader has gone; discarding further output');
      ended = true;
    } else {
      failure ??= new Error(`stdout output: write failed: ${err.message}`);
    }
  };
  stream.on('error', onError);

  // Resolves on 'drain', or when the stream fails or closes (nothing more will drain).
  const drained = (): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        stream.off('drain', done);
        stream.off('close', done);
        stream.off('error', done);
        resolve();
      };
      stream.on('drain', done);
      stream.on('close', done);
      stream.on('error', done);
    });

  const isStd = stream === process.stdout || stream === process.stderr;

  return {
    name: 'stdout',
    get ended() {
      return ended;
    },
    get discarded() {
      return discarded;
    },
    write(events: readonly DnsEvent[]): void | Promise<void> {
      if (failure) throw failure;
      if (ended || stream.destroyed) {
        ended = true;
        discard(events.length);
        return;
      }
      if (events.length === 0) return;
      let bytes = encodeLines(fmt, events);
      if (header) {
        bytes = Buffer.concat([header, bytes]);
        header = null;
      }
      const n = events.length;
      const ok = stream.write(bytes, (err) => {
        if (err) discard(n); // this batch did not get through (in full)
        else counts?.counters.add('written', n);
      });
      if (!ok) return drained();
    },
    async close(): Promise<void> {
      if (!ended && !stream.destroyed) {
        if (header && !failure) stream.write(header); // no events: still a valid CSV
        if (isStd) {
          // stdout/stderr cannot be ended; a callback on an empty write fires after all earlier writes.
          await new Promise<void>((resolve) => stream.write('', () => resolve()));
        } else {
          await new Promise<void>((resolve) => {
            stream.once('close', resolve);
            stream.once('error', () => resolve());
            stream.end(() => resolve());
          });
        }
      }
      // `dnslens ... | head`: what the reader did not take is counted, not lost silently.
      if (discarded) counts?.stats.dropped('stdout', 'reader-gone', discarded);
      stream.off('error', onError);
      // Keep a listener: a late EPIPE after close must not become an uncaught exception.
      stream.on('error', () => {});
      if (failure) throw failure;
    },
  };
}

const S = 'stdout_output';

export const stdout = defineOutput({
  kind: 'output',
  name: 'stdout',
  section: S,
  options: [
    outputType('stdout', S, 'stdout'),
    ...formatOptions('stdout', S, 'stdout'),
    tuning(int('stdoutOutputWorkerCount', S, 8, 'Number of stdout workers', 'ready', 1)),
  ],
  typeOption: 'stdoutOutputType',
  counters: { written: 'events written', discarded: 'events discarded, reader gone' },
  check: (s) => void (s.stdoutOutputType > 0 && textFormat(s.stdoutOutputFormat, s.stdoutOutputGoTemplate, 'stdoutOutputGoTemplate')),
  open: async ({ settings, counters, stats }) => ({
    output: stdoutOutput(textFormat(settings.stdoutOutputFormat, settings.stdoutOutputGoTemplate, 'stdoutOutputGoTemplate'), process.stdout, { counters, stats }),
  }),
});
