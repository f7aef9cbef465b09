// What every packet input yields: one captured link-layer frame.

export interface Frame {
  tsSec: number; // capture time, seconds since the epoch
  tsNsec: number; // nanoseconds within the second
  linkType: number; // LINKTYPE_* value (pcap / pcapng interface)
  data: Uint8Array; // captured bytes (may be shorter than origLen)
  origLen: number; // length on the wire
}

/**
 * A frame whose bytes are buf[start, end) of a larger buffer (a file reader's chunk). data is a
 * view made only when read; the decoder reads buf in place (it checks instanceof, so a plain
 * copy such as {...frame, data} is decoded from its own data), saving an object per packet.
 * data is an accessor, so {...frame} alone does not copy it: write {...frame, data: frame.data}.
 */
export class BufferFrame implements Frame {
  private view: Uint8Array | null = null;

  constructor(
    public tsSec: number,
    public tsNsec: number,
    public linkType: number,
    public origLen: number,
    readonly buf: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {}

  get data(): Uint8Array {
    if (this.view === null) this.view = this.buf.subarray(this.start, this.end);
    return this.view;
  }
}
