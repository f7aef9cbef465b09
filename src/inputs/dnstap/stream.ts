// One Frame Streams stream carrying dnstap: a socket connection or a file. Follows the control
// sequence, answers a bidirectional producer, and turns data frames into events.
import type { DnsEvent } from '../../event.js';
import type { Stats } from '../../stats.js';
import type { DnstapDecoder } from './event.js';
import {
  CONTROL_ACCEPT,
  CONTROL_FINISH,
  CONTROL_READY,
  CONTROL_START,
  CONTROL_STOP,
  controlFrame,
  controlName,
  DNSTAP_CONTENT_TYPE,
  FrameReader,
} from './framestream.js';

type State = 'open' | 'ready' | 'started' | 'stopped';

/** Where decoded events collect; the owner takes them by replacing the array. Streams may share one. */
export interface EventSink {
  events: DnsEvent[];
}

export interface StreamOptions {
  decoder: DnstapDecoder;
  sink: EventSink;
  stats: Stats;
  /** Writes to the producer; absent for files (no handshake possible). */
  reply?: (bytes: Buffer) => void;
  maxFrameSize?: number;
}

export class DnstapStream {
  private state: State = 'open';
  private bidirectional = false; // the producer sent READY, so it waits for ACCEPT and FINISH
  private readonly reader: FrameReader;
  private readonly stats: Stats;
  private readonly decoder: DnstapDecoder;
  private readonly sink: EventSink;
  private readonly reply?: (bytes: Buffer) => void;
  /** Set when the stream is broken; it has been counted once, the owner closes the stream. */
  error: string | null = null;

  constructor(opts: StreamOptions) {
    this.stats = opts.stats;
    this.decoder = opts.decoder;
    this.sink = opts.sink;
    this.reply = opts.reply;
    this.reader = new FrameReader(
      {
        data: (buf, start, end) => {
          if (this.error !== null) return; // broken: the rest of this chunk is not trusted
          if (this.state === 'started') this.decoder.decode(buf, start, end, this.sink.events);
          else this.fail('framestream:data-outside-start-stop');
        },
        control: (type, types) => this.control(type, types),
      },
      opts.maxFrameSize,
    );
  }

  /** True after STOP (and FINISH, when the producer asked for one). */
  get stopped(): boolean {
    return this.state === 'stopped';
  }

  /** Byte offset in the stream of the first byte not yet parsed. */
  get offset(): number {
    return this.reader.offset;
  }

  /** Feeds bytes; false when the stream is broken (counted) and must be closed. */
  push(chunk: Uint8Array): boolean {
    if (this.error !== null) return false;
    const r = this.reader.push(chunk);
    if (r !== null) this.fail(r);
    return this.error === null;
  }

  /** End of the bytes: a frame cut short is counted as one malformed frame. Returns false then. */
  end(): boolean {
    if (this.error !== null) return false;
    if (this.reader.pending > 0) {
      this.fail('framestream:truncated-frame');
      return false;
    }
    return true;
  }

  private fail(reason: string): void {
    if (this.error !== null) return;
    this.error = reason;
    if (reason === 'framestream:content-type') this.stats.unsupported(reason);
    else this.stats.malformedAs(reason);
  }

  private control(type: number, types: string[]): string | null {
    if (this.error !== null) return this.error;
    const dnstap = types.includes(DNSTAP_CONTENT_TYPE);
    switch (type) {
      case CONTROL_READY:
        if (this.state !== 'open' || !this.reply) return `framestream:unexpected-${controlName(type).toLowerCase()}`;
        if (!dnstap) return 'framestream:content-type';
        this.reply(controlFrame(CONTROL_ACCEPT, [DNSTAP_CONTENT_TYPE]));
        this.bidirectional = true;
        this.state = 'ready';
        return null;
      case CONTROL_START:
        if (this.state === 'started') return 'framestream:unexpected-start';
        // START names at most one content type; none means "whatever was agreed" (or unknown).
        if (types.length > 0 && !dnstap) return 'framestream:content-type';
        this.state = 'started';
        return null;
      case CONTROL_STOP:
        if (this.state !== 'started') return 'framestream:unexpected-stop';
        this.state = 'stopped';
        if (this.bidirectional && this.reply) this.reply(controlFrame(CONTROL_FINISH));
        return null;
      default:
        // ACCEPT and FINISH go from the receiver to the producer, never to us.
        return `framestream:unexpected-${controlName(type).toLowerCase()}`;
    }
  }
}
