// Skip and allow lists (dnsmonster's --skipDomainsFile / --allowDomainsFile): CSV rows
// "domain,logic" with logic prefix | suffix | fqdn. Suffix matching is label-aware:
// "google.com" matches "google.com" and "mail.google.com", never "evilgoogle.com".
import { readFileSync } from 'node:fs';
import type { DnsEvent } from '../event.js';
import type { Output } from '../outputs/output.js';
import type { Stats } from '../stats.js';

export class DomainList {
  readonly fqdn = new Set<string>();
  readonly suffix = new Set<string>();
  readonly prefix: string[] = [];

  get size(): number {
    return this.fqdn.size + this.suffix.size + this.prefix.length;
  }

  matches(qname: string): boolean {
    if (this.fqdn.has(qname)) return true;
    if (this.suffix.size > 0) {
      if (this.suffix.has(qname)) return true;
      for (let i = qname.indexOf('.'); i >= 0; i = qname.indexOf('.', i + 1)) {
        if (this.suffix.has(qname.slice(i + 1))) return true;
      }
    }
    for (const p of this.prefix) if (qname.startsWith(p)) return true;
    return false;
  }
}

/** Parses list text; throws with the line number on a bad row. */
export function parseDomainList(text: string, source: string): DomainList {
  const list = new DomainList();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const [rawName, rawLogic = 'fqdn', extra] = line.split(',').map((s) => s.trim());
    if (extra !== undefined || rawName === '') throw new Error(`${source}:${i + 1}: expected "domain,prefix|suffix|fqdn", got "${line}"`);
    const logic = rawLogic.toLowerCase();
    // Whole names are stored like qname: lower case, no trailing dot (dnsmonster lists carry one).
    // A prefix is compared as written ("ads." must not match "adsl.net").
    const name = rawName.toLowerCase();
    const whole = name.replace(/\.$/, '');
    if (logic === 'fqdn') list.fqdn.add(whole);
    else if (logic === 'suffix') list.suffix.add(whole.replace(/^\./, ''));
    else if (logic === 'prefix') list.prefix.push(name);
    else throw new Error(`${source}:${i + 1}: unknown logic "${rawLogic}" (use prefix, suffix or fqdn)`);
  }
  return list;
}

export function loadDomainList(path: string): DomainList {
  if (/^https?:\/\//i.test(path)) throw new Error(`${path}: lists from URLs are not implemented yet (transforms issue)`);
  return parseDomainList(readFileSync(path, 'utf8'), path);
}

export interface Lists {
  skip?: DomainList;
  allow?: DomainList;
}

/** Wraps an output with dnsmonster's output type 1–4 logic; filtered events are counted per output. */
export function filteredOutput(out: Output, type: number, lists: Lists, stats: Stats): Output {
  const skip = type === 2 || type === 4 ? lists.skip : undefined;
  const allow = type === 3 || type === 4 ? lists.allow : undefined;
  if (!skip && !allow) return out;
  return {
    name: out.name,
    write(events: readonly DnsEvent[]) {
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
      return kept.length ? out.write(kept) : undefined;
    },
    close: () => out.close(),
  };
}
