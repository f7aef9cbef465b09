// Counters for everything the pipeline sees. Nothing is dropped without a counter here.
//
// Accounting. Decoding works on units: every frame read is a unit, and so is every datagram
// rebuilt from IP fragments and every DNS message cut out of a TCP stream. Each unit lands in
// exactly one bucket: dnsMessages, notDns, malformed, unsupported, ipFragments (handed to the
// defragmenter), tcpSegments (a TCP segment on a DNS port, handed to the stream reassembler) or
// skippedPackets (sampled out or a duplicate, before IP decoding):
//
//   packets + ipDatagrams + tcpMessages
//     == dnsMessages + notDns + malformed + unsupportedTotal + ipFragments + tcpSegments + skippedPackets
//
// (see balanced()). What the reassemblers drop is counted with dropped(): 'defrag:<reason>' in
// fragments (duplicate, expired, overlap-conflict, too-big, too-many-fragments, datagram-limit,
// memory-limit, incomplete-at-end) and 'tcp:<reason>' in segments (retransmit, unsynced: seen
// mid-stream before a message boundary) or in messages cut short ('partial-message-at-<why>',
// why = fin, rst, idle, gap, reused, stream-limit, memory-limit, end) with the out-of-order
// segments never placed ('unplaced-segments-at-<why>').

/** Counters reported even when they did not move (rates then read 0, not "no data"). */
export const CORE_COUNTERS: readonly string[] = ['packets', 'bytes', 'dnsMessages', 'notDns', 'malformed'];

/**
 * One component's own counters (sent, failed, ...) and gauges (queued, ...). The summary, the
 * stats log line and the health table list them without knowing the component.
 */
export class Counters {
  readonly values = new Map<string, number>();
  private readonly gauges = new Map<string, () => number | null>();

  /** declared: counter name -> its label in the summary; declared counters are listed even at 0. */
  constructor(
    readonly component: string,
    readonly declared: Readonly<Record<string, string>> = {},
  ) {
    for (const name of Object.keys(declared)) this.values.set(name, 0);
  }

  /** How the summary names a counter. */
  label(name: string): string {
    return this.declared[name] ?? name;
  }

  add(name: string, n = 1): void {
    this.values.set(name, (this.values.get(name) ?? 0) + n);
  }

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** A reading that goes up and down (rows waiting, the last send's duration), read when reported; null = no reading yet. */
  gauge(name: string, read: () => number | null): void {
    this.gauges.set(name, read);
  }

  /** The gauges' current readings. */
  readings(): [string, number][] {
    const out: [string, number][] = [];
    for (const [name, read] of this.gauges) {
      const v = read();
      if (v !== null) out.push([name, v]);
    }
    return out;
  }
}

export class Stats {
  packets = 0; // frames read from the input
  bytes = 0;
  dnsMessages = 0; // DNS messages decoded into events
  notDns = 0; // frames that were valid but not DNS (other ports, ARP, ICMP, ...)
  malformed = 0; // frames or DNS messages that failed to decode
  readonly malformedBy = new Map<string, number>();
  readonly unsupportedBy = new Map<string, number>(); // not handled: unknown link types, nested fragments ...
  readonly droppedBy = new Map<string, number>(); // stage:reason -> count
  ipFragments = 0; // IP fragments handed to the defragmenter (frames)
  ipDatagrams = 0; // datagrams rebuilt from fragments, then decoded as units of their own
  tcpSegments = 0; // TCP segments on a DNS port handed to the stream reassembler
  tcpMessages = 0; // length-prefixed DNS messages cut out of TCP streams, decoded as units
  skippedPackets = 0; // frames left out before IP decoding by --sampleRatio / --dedup (also in droppedBy)
  damage: string | null = null; // set when the input file is truncated or corrupt
  readonly startedAt = process.hrtime.bigint();
  /** Each component's own counters, by component name, in the order they were opened. */
  readonly components = new Map<string, Counters>();

  /** The counters of one component (made on first use, with its declared counters at 0). */
  counters(component: string, declared: Readonly<Record<string, string>> = {}): Counters {
    let c = this.components.get(component);
    if (!c) {
      c = new Counters(component, declared);
      this.components.set(component, c);
    }
    return c;
  }

  malformedAs(reason: string): void {
    this.malformed++;
    this.malformedBy.set(reason, (this.malformedBy.get(reason) ?? 0) + 1);
  }

  unsupported(reason: string): void {
    this.unsupportedBy.set(reason, (this.unsupportedBy.get(reason) ?? 0) + 1);
  }

  dropped(stage: string, reason: string, n = 1): void {
    const key = `${stage}:${reason}`;
    this.droppedBy.set(key, (this.droppedBy.get(key) ?? 0) + n);
  }

  get unsupportedTotal(): number {
    let n = 0;
    for (const v of this.unsupportedBy.values()) n += v;
    return n;
  }

  /** Every scalar counter by name (the counts by reason are the maps above; each component's own
   *  are in components): what the periodic log line and the dnslens_health table report. */
  scalars(): [string, number][] {
    return [
      ['packets', this.packets],
      ['bytes', this.bytes],
      ['dnsMessages', this.dnsMessages],
      ['notDns', this.notDns],
      ['malformed', this.malformed],
      ['ipFragments', this.ipFragments],
      ['ipDatagrams', this.ipDatagrams],
      ['tcpSegments', this.tcpSegments],
      ['tcpMessages', this.tcpMessages],
      ['skippedPackets', this.skippedPackets],
    ];
  }

  /** True when every unit landed in exactly one bucket (the equation above). */
  balanced(): boolean {
    const units = this.packets + this.ipDatagrams + this.tcpMessages;
    return units === this.dnsMessages + this.notDns + this.malformed + this.unsupportedTotal + this.ipFragments + this.tcpSegments + this.skippedPackets;
  }

  elapsedSeconds(): number {
    return Number(process.hrtime.bigint() - this.startedAt) / 1e9;
  }
}
