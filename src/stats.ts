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
  dedupEvicted = 0; // dedup keys forgotten early because the table was full (a later repeat may pass)
  damage: string | null = null; // set when the input file is truncated or corrupt
  // Query/response matching (src/transforms/match.ts); every event still goes out.
  matched = 0; // responses paired with their query
  unanswered = 0; // queries released after --matchTimeout (or at end of input) without a response
  orphanResponses = 0; // responses whose query was not seen (or already given up)
  duplicateQueries = 0; // a query repeated while the first still waited (retransmission)
  matchEvicted = 0; // queries released unmatched because the table of waiting queries was full
  readonly startedAt = process.hrtime.bigint();

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

  /** Every scalar counter by name (the counts by reason are the maps above): what the periodic log
   *  line and the dnslens_health table report. */
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
      ['dedupEvicted', this.dedupEvicted],
      ['matched', this.matched],
      ['unanswered', this.unanswered],
      ['orphanResponses', this.orphanResponses],
      ['duplicateQueries', this.duplicateQueries],
      ['matchEvicted', this.matchEvicted],
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
