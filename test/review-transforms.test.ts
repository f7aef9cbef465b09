// Review of the pipeline transforms (issue #4): defects the module tests did not reach, each with
// its input and expected result.
import { openTransforms } from './wiring.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/cli/config.js';
import { newEvent, type DnsEvent } from '../src/event.js';
import { Stats } from '../src/stats.js';
import { parseDomainList, ReloadingList } from '../src/transforms/domainlist.js';
import { Matcher } from '../src/transforms/match.js';
import { AddressMasker } from '../src/transforms/mask.js';
import { PCAP_DIR } from './data.js';

const KEY = 'review-key-0123456789abcdef';

function query(id: number, port: number, timeSec: number, client = '192.0.2.10'): DnsEvent {
  return Object.assign(newEvent(), {
    timeSec,
    ipVersion: client.includes(':') ? 6 : 4,
    srcIp: client,
    srcPort: port,
    dstIp: client.includes(':') ? '2001:db8::53' : '192.0.2.53',
    dstPort: 53,
    id,
    qname: 'example.com',
    qtype: 1,
    qclass: 1,
  });
}

function response(q: DnsEvent): DnsEvent {
  return { ...q, qr: true, srcIp: q.dstIp, dstIp: q.srcIp, srcPort: q.dstPort, dstPort: q.srcPort };
}

describe('matcher memory when capture time stands still', () => {
  it('answered queries are not kept while the clock does not move (equal timestamps)', () => {
    // Captures with zeroed or frozen timestamps, or a clock stepped back, never move the matcher's
    // clock forward: nothing expires, so answered queries must still leave the table.
    const stats = new Stats();
    const m = new Matcher({ timeoutMs: 5000, stats });
    const out: DnsEvent[] = [];
    out.push(...m.apply([query(1, 1000, 0)])); // never answered, at the head of the queue
    for (let i = 0; i < 50_000; i++) {
      const q = query(i & 0xffff, 2000 + (i % 20_000), 0);
      out.push(...m.apply([q, response(q)]));
    }
    expect(stats.counters('match').get('answered')).toBe(50_000);
    expect(m.pending).toBe(1);
    expect(out).toHaveLength(100_000);
    // What the matcher still references: one waiting query (and a bounded amount of bookkeeping).
    const queue = (m as unknown as { queue: unknown[]; head: number }).queue;
    const head = (m as unknown as { head: number }).head;
    expect(queue.length - head).toBeLessThan(10_000);
    out.push(...m.flush());
    expect(out).toHaveLength(100_001);
    expect(stats.counters('match').get('unanswered')).toBe(1);
  });
});

describe('suffix lists and escaped dots', () => {
  const list = parseDomainList('google.com,suffix', 'test.csv');

  it('a "\\." inside a label is not a label boundary', () => {
    // qname text escapes a dot inside a label as \. (docs/event.md): "evil\.google.com" is the
    // label "evil.google" under "com", not a name under google.com.
    expect(list.matches('evil\\.google.com')).toBe(false);
    expect(list.matches('a.evil\\.google.com')).toBe(false);
  });

  it('an escaped backslash before a dot leaves the dot a boundary', () => {
    // "a\\.google.com": the label "a\" then google.com.
    expect(list.matches('a\\\\.google.com')).toBe(true);
    expect(list.matches('x\\..mail.google.com')).toBe(true); // label "x." then mail.google.com
  });
});

describe('masks on IPv4-mapped IPv6 addresses', () => {
  it('an IPv4 client written as ::ffff:a.b.c.d gets at most the IPv4 mask', () => {
    // dnstap from a dual-stack socket reports IPv4 clients this way; --maskSize4 24 must not let
    // them through whole because --maskSize6 is left at 128.
    const m = new AddressMasker(24, 128);
    expect(m.mask('::ffff:192.0.2.77')).toBe('::ffff:192.0.2.0');
    expect(m.mask('2001:db8::77')).toBe('2001:db8::77');
    expect(new AddressMasker(24, 48).mask('::ffff:192.0.2.77')).toBe('::');
    expect(new AddressMasker(32, 128).active).toBe(false);
  });
});

describe('client ids with a mask set for one address family only', () => {
  it('--maskSize4 alone keeps masked IPv4 clients but does not keep IPv6 clients whole', () => {
    const cfg = loadConfig(['--pcapFile', join(PCAP_DIR, 'arkime__dns-wiresharkrepo.pcap'), '--stdoutOutputType', '1', '--clientIdKey', KEY, '--maskSize4', '24'], {});
    const privacy = openTransforms(cfg, new Stats()).find((t) => t.name === 'privacy')!;
    const [v4, v6] = privacy.apply([query(1, 1000, 0, '192.0.2.10'), query(2, 1000, 0, '2001:db8:1:2::10')]);
    expect(v4.srcIp).toBe('192.0.2.0');
    expect(v4.clientId).toMatch(/^[0-9a-f]{16}$/);
    expect(v6.clientId).toMatch(/^[0-9a-f]{16}$/);
    expect(v6.srcIp).toBe(''); // no IPv6 mask was asked for: the pseudonym alone stands for the client
    expect(v6.dstIp).toBe('2001:db8::53'); // the server side is kept
  });
});

describe('domain list reload requested while another is in flight', () => {
  let server: Server | undefined;
  afterAll(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

  it('a reload asked for after the list changed reads the changed list, even if an older read is still running', async () => {
    let body = 'old.example,fqdn\n';
    let delayNext = false;
    server = createServer((_, res) => {
      const text = body; // what the list is when the request arrives
      const send = () => res.end(text);
      if (delayNext) {
        delayNext = false;
        setTimeout(send, 300);
      } else {
        send();
      }
    });
    await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/list.csv`;
    const list = await ReloadingList.open(url, { intervalMs: 0, timeoutMs: 5000 });
    delayNext = true;
    const periodic = list.reload(); // e.g. the background timer: reads the old list slowly
    await new Promise((r) => setTimeout(r, 50)); // its request has reached the server
    body = 'new.example,fqdn\n';
    const hup = list.reload(); // SIGHUP after the edit
    await Promise.all([periodic, hup]);
    expect(list.matches('new.example')).toBe(true);
    expect(list.matches('old.example')).toBe(false);
    await list.stop();
  });
});
