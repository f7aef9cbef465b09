// Which offsets a Kafka consumer may commit: a record's offset is committed (as "read up to here")
// only when it and every earlier record of its partition taken so far are stored, so a collector
// killed mid-way re-reads what was not stored and nothing else. Pure: no client here.

/** Records of one consumer, by partition in the order they were taken; settle() says which
 *  record (the last of a stored run from the head of its partition) to commit, or null. */
export class CommitOrder<R> {
  private readonly partitions = new Map<string, { record: R; done: boolean }[]>();

  /** A record taken; the returned function settles it and gives the record to commit, if any. */
  take(partition: string, record: R): () => R | null {
    let queue = this.partitions.get(partition);
    if (!queue) this.partitions.set(partition, (queue = []));
    const entry = { record, done: false };
    queue.push(entry);
    return () => {
      if (entry.done) return null;
      entry.done = true;
      let last: R | null = null;
      while (queue.length > 0 && queue[0].done) last = queue.shift()!.record;
      return last;
    };
  }

  /** Records taken and not yet settled. */
  get pending(): number {
    let n = 0;
    for (const q of this.partitions.values()) n += q.length;
    return n;
  }
}
