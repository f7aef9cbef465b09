import { describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { parseDomainList } from '../src/transforms/domainlist.js';
import { filteredOutput } from '../src/outputs/filter.js';
import type { Output } from '../src/component.js';
import { Stats } from '../src/stats.js';

const list = parseDomainList(
  ['# comment', 'google.com.,suffix', 'ads.,prefix', 'exact.example.org,fqdn', '.co.uk,suffix', ''].join('\n'),
  'test.csv',
);

describe('domain lists', () => {
  it('matches suffixes on label boundaries only', () => {
    expect(list.matches('google.com')).toBe(true);
    expect(list.matches('mail.google.com')).toBe(true);
    expect(list.matches('a.b.mail.google.com')).toBe(true);
    expect(list.matches('evilgoogle.com')).toBe(false);
    expect(list.matches('google.com.evil.net')).toBe(false);
    expect(list.matches('bbc.co.uk')).toBe(true);
    expect(list.matches('co.uk')).toBe(true);
    expect(list.matches('uk')).toBe(false);
  });

  it('matches prefixes and exact names', () => {
    expect(list.matches('ads.tracker.net')).toBe(true);
    expect(list.matches('adsl.net')).toBe(false);
    expect(list.matches('exact.example.org')).toBe(true);
    expect(list.matches('sub.exact.example.org')).toBe(false);
  });

  it('lists the root as "." (its qname), matching only the root', () => {
    const root = parseDomainList('.,fqdn\n', 'root.csv');
    expect(root.matches('.')).toBe(true);
    expect(root.matches('com')).toBe(false);
  });

  it('rejects bad rows with the line number', () => {
    expect(() => parseDomainList('a.com,suffix\nb.com,middle', 'x.csv')).toThrow(/x\.csv:2: unknown logic "middle"/);
    expect(() => parseDomainList('a,b,c', 'x.csv')).toThrow(/x\.csv:1/);
  });

  it('applies output types 2-4 and counts what it filters', async () => {
    const allow = parseDomainList('example.org,suffix', 'allow.csv');
    const names = ['mail.google.com', 'www.example.org', 'other.net', 'exact.example.org'];
    const events: DnsEvent[] = names.map((n) => Object.assign(newEvent(), { qname: n }));
    const run = async (type: number) => {
      const seen: string[] = [];
      const sink: Output = { name: 'sink', write: (evs) => void seen.push(...evs.map((e) => e.qname)), close: async () => {} };
      const stats = new Stats();
      await filteredOutput(sink, type, { skip: list, allow }, stats).write(events);
      return { seen, dropped: Object.fromEntries(stats.droppedBy) };
    };
    expect((await run(1)).seen).toEqual(names);
    expect(await run(2)).toEqual({ seen: ['www.example.org', 'other.net'], dropped: { 'filter:sink:skip-list': 2 } });
    expect(await run(3)).toEqual({ seen: ['www.example.org', 'exact.example.org'], dropped: { 'filter:sink:not-in-allow-list': 2 } });
    expect(await run(4)).toEqual({
      seen: ['www.example.org'],
      dropped: { 'filter:sink:skip-list': 2, 'filter:sink:not-in-allow-list': 1 },
    });
  });
});
