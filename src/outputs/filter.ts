// dnsmonster's output types 2-4: an output sees only the events its domain lists let through.
import type { Lists, LogChunk, Output, Receipt } from '../component.js';
import type { DnsEvent } from '../event.js';
import type { Stats } from '../stats.js';

/** Wraps an output with dnsmonster's output type 1–4 logic; filtered events are counted per output. */
export function filteredOutput(out: Output, type: number, lists: Lists, stats: Stats): Output {
  const skip = type === 2 || type === 4 ? lists.skip : undefined;
  const allow = type === 3 || type === 4 ? lists.allow : undefined;
  if (!skip && !allow) return out;
  return {
    name: out.name,
    confirms: out.confirms,
    write(events: readonly DnsEvent[], chunk?: LogChunk, receipt?: Receipt) {
      const kept: DnsEvent[] = [];
      let skipped = 0;
      let notAllowed = 0;
      for (const ev of events) {
        if (skip?.matches(ev.qname)) skipped++;
        else if (allow && !allow.matches(ev.qname)) notAllowed++;
        else kept.push(ev);
      }
      if (skipped) stats.dropped(`filter:${out.name}`, 'skip-list', skipped);
      if (notAllowed) stats.dropped(`filter:${out.name}`, 'not-in-allow-list', notAllowed);
      if (kept.length === 0) return receipt?.settled(); // nothing of it is this output's to store
      return out.write(kept, chunk, receipt);
    },
    close: () => out.close(),
    inputEnded: () => out.inputEnded?.(),
    get ended() {
      return out.ended;
    },
  };
}
