// Shared by the store tests and test/store-holder.mjs (which runs as a separate process).
import { newEvent } from '../dist/src/event.js';
import { DEFAULT_ROLLUP_TTL, DEFAULT_TTL_DAYS, migrate } from '../dist/src/store/migrate.js';

/** The real schema, through the real migrations. */
export async function prepareSchema(store) {
  await migrate(store, { ttlDays: DEFAULT_TTL_DAYS, rollupTtl: DEFAULT_ROLLUP_TTL, database: store.database });
}

/**
 * n deterministic events numbered from start: PacketTime grows with the number (so batch order
 * is visible), half queries, half responses, some NXDOMAIN and AAAA, IPv4 and IPv6 clients.
 */
export function syntheticEvents(n, start) {
  const out = [];
  for (let k = 0; k < n; k++) {
    const i = start + k;
    const e = newEvent();
    e.timeSec = 1_700_000_000 + Math.floor(i / 1000);
    e.timeNsec = (i % 1000) * 1_000_000;
    e.server = 'test';
    const v6 = i % 5 === 0;
    e.ipVersion = v6 ? 6 : 4;
    const client = v6 ? `2001:db8::${(i % 200).toString(16)}` : `192.0.2.${i % 200}`;
    const resolver = v6 ? '2001:db8::53' : '198.51.100.53';
    e.qr = i % 2 === 1;
    e.srcIp = e.qr ? resolver : client;
    e.dstIp = e.qr ? client : resolver;
    e.srcPort = e.qr ? 53 : 30000 + (i % 1000);
    e.dstPort = e.qr ? 30000 + (i % 1000) : 53;
    e.id = i & 0xffff;
    e.rd = true;
    e.ra = e.qr;
    e.qname = `host${i % 50}.example${i % 7}.co.uk`;
    e.qtype = i % 3 === 0 ? 28 : 1;
    e.qclass = 1;
    e.qdCount = 1;
    e.rcode = e.qr && i % 10 === 1 ? 3 : 0;
    if (e.qr && e.rcode === 0) {
      e.answers = [{ name: e.qname, type: e.qtype, class: 1, ttl: 300, data: e.qtype === 28 ? '2001:db8::1' : '203.0.113.7' }];
      e.anCount = 1;
    }
    e.size = 40 + (i % 60);
    e.inputKind = 'pcap';
    e.inputName = 'synthetic';
    out.push(e);
  }
  return out;
}
