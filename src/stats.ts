// Counters for everything the pipeline sees. Nothing is dropped without a counter here.

export class Stats {
  packets = 0; // frames read from the input
  bytes = 0;
  dnsMessages = 0; // DNS messages decoded into events
  notDns = 0; // frames that were valid but not DNS (other ports, ARP, ICMP, ...)
  malformed = 0; // frames or DNS messages that failed to decode
  readonly malformedBy = new Map<string, number>();
  readonly unsupportedBy = new Map<string, number>(); // not handled yet or unknown (link type, IP fragment, TCP ...)
  readonly droppedBy = new Map<string, number>(); // stage:reason -> count
  damage: string | null = null; // set when the input file is truncated or corrupt
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

  elapsedSeconds(): number {
    return Number(process.hrtime.bigint() - this.startedAt) / 1e9;
  }
}
