// readCapture + decodeFrame over every shared capture, message by message against tshark.
// UDP, unfragmented DNS must match tshark; IP fragments and TCP (later stages) must be counted
// as unsupported, not lost. The expected counts per file come from PROVENANCE.md.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { decodeFrame } from '../src/decode/packet.js';
import { readCapture } from '../src/inputs/pcapfile.js';
import { Stats } from '../src/stats.js';
import { describeWithPeers } from './peers.js';
import { tsharkDns, type TsharkMsg } from './tshark.js';
import { PCAP_DIR } from './data.js';

const DATA = PCAP_DIR;

interface Expected {
  packets: number;
  dns?: number; // events (UDP DNS messages)
  notDns?: number;
  malformed?: number;
  unsupported?: Record<string, number>;
}

// From PROVENANCE.md: frames, DNS frames and how they travel (UDP/TCP, fragments, other traffic).
const EXPECTED: Record<string, Expected> = {
  'arkime__dns-wiresharkrepo.pcap': { packets: 38, dns: 38 },
  'dns-collector__dnsdump_ip4_fragmented+udp.pcap': { packets: 3, dns: 1, unsupported: { 'ip:fragment': 2 } }, // query + 2-fragment response
  'dnscap__dns.pcap': { packets: 133, dns: 82, notDns: 51 }, // 41 ICMP echo, 10 ARP
  'dnscap__dnso1tcp.pcap': { packets: 212, unsupported: { tcp: 212 } }, // one TCP connection to port 53
  'dnscap__frags.pcap': { packets: 495, unsupported: { 'ip:fragment': 495 } }, // every packet a fragment
  'dnscap__sll2.pcap': { packets: 2, dns: 2 },
  'dnscap__vlan11.pcap': { packets: 133, dns: 82, notDns: 51 },
  'dnsjit__pellets.pcap': { packets: 91, dns: 91 }, // raw IPv6
  'elastic-examples__dns-tunnel-iodine.pcap': { packets: 438, dns: 434, notDns: 4 }, // 4 ARP
  'pktvisor__dns_udp_tcp_random.pcap': { packets: 16147, dns: 2971, unsupported: { tcp: 13176 } }, // 2971 UDP DNS; TCP incl. handshakes
  'suricata-verify__dns-tcp-multirequest-buffer.pcap': { packets: 48, unsupported: { tcp: 48 } },
  'tcpdump__dns-badlabel.pcap': { packets: 1, malformed: 1 }, // tshark: name too long, malformed
  'tcpdump__edns-opts.pcap': { packets: 42, dns: 42 },
  'zeek__dns-https.pcap': { packets: 2, dns: 2 },
  'zeek__naptr.pcap': { packets: 2, dns: 2 }, // IPv6
};

type Bucket = 'dns' | 'notDns' | 'malformed' | 'unsupported';

interface Decoded {
  stats: Stats;
  buckets: Bucket[]; // per frame, index = frame number - 1
  reasons: string[]; // malformed or unsupported reason per frame, '' otherwise
  events: Map<number, DnsEvent>; // frame number -> its event
}

async function decodeFile(path: string): Promise<Decoded> {
  const stats = new Stats();
  const ctx = { stats, ports: new Set([53]), server: 'test', inputKind: 'pcap' as const, inputName: path };
  const d: Decoded = { stats, buckets: [], reasons: [], events: new Map() };
  const out: DnsEvent[] = [];
  let frame = 0;
  for await (const batch of readCapture(path, stats)) {
    for (const f of batch) {
      frame++;
      const before = { dns: stats.dnsMessages, notDns: stats.notDns, malformed: new Map(stats.malformedBy), unsupported: new Map(stats.unsupportedBy) };
      out.length = 0;
      decodeFrame(f, ctx, out);
      const changed = (now: Map<string, number>, then: Map<string, number>) => [...now].filter(([k, v]) => then.get(k) !== v).map(([k]) => k);
      const hits: [Bucket, string][] = [];
      if (stats.dnsMessages !== before.dns) hits.push(['dns', '']);
      if (stats.notDns !== before.notDns) hits.push(['notDns', '']);
      for (const k of changed(stats.malformedBy, before.malformed)) hits.push(['malformed', k]);
      for (const k of changed(stats.unsupportedBy, before.unsupported)) hits.push(['unsupported', k]);
      expect({ frame, hits: hits.length }).toEqual({ frame, hits: 1 });
      d.buckets.push(hits[0][0]);
      d.reasons.push(hits[0][1]);
      if (out.length > 0) d.events.set(frame, out[0]);
      expect(out.length).toBe(hits[0][0] === 'dns' ? 1 : 0);
    }
  }
  return d;
}

/** Frame numbers tshark selects with a display filter (IP reassembly off). */
function tsharkFrames(path: string, filter: string): Set<number> {
  const out = execFileSync('tshark', ['-r', path, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-Y', filter, '-T', 'fields', '-e', 'frame.number'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
  return new Set(out.split('\n').filter((l) => l !== '').map(Number));
}

// tshark prints raw label bytes as text (invalid UTF-8 as U+FFFD), events escape them as \DDD:
// reduce both to "?" runs so names with such bytes can still be compared.
const lossyOurs = (s: string) => s.replace(/\\(\d{3}|.)/g, '?').replace(/\?+/g, '?');
const lossyTshark = (s: string) => s.replace(/[^\x21-\x5b\x5d-\x7e]/gu, '?').replace(/\?+/g, '?');
// tshark also prints a "." or "\" inside a label as it is (dnscap__sll2.pcap asks for the one
// label ",."), where events write "\." and "\\".
const plainOurs = (s: string) => s.replace(/\\([.\\])/g, '$1');

function compare(m: TsharkMsg, ev: DnsEvent) {
  return {
    frame: m.frame,
    id: ev.id,
    qr: ev.qr,
    qname: m.qnameLossy ? lossyOurs(ev.qname) : plainOurs(ev.qname),
    qtype: ev.qtype,
    ipVersion: ev.ipVersion,
    srcIp: ev.srcIp,
    dstIp: ev.dstIp,
    srcPort: ev.srcPort,
    dstPort: ev.dstPort,
    time: [ev.timeSec, ev.timeNsec],
    size: ev.size,
  };
}

function want(m: TsharkMsg) {
  return {
    frame: m.frame,
    id: m.id,
    qr: m.qr,
    qname: m.qnameLossy ? lossyTshark(m.qname) : m.qname,
    qtype: m.qtype,
    ipVersion: m.ipVersion,
    srcIp: m.srcIp,
    dstIp: m.dstIp,
    srcPort: m.srcPort,
    dstPort: m.dstPort,
    time: [m.timeSec, m.timeNsec],
    size: m.size,
  };
}

const FILES = readdirSync(DATA).filter((f) => f.endsWith('.pcap')).sort();

describeWithPeers('shared captures against tshark', ['tshark'], () => {
  it('has expected counts for every shared capture', () => {
    expect(FILES).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const file of FILES) {
    it(file, async () => {
      const path = join(DATA, file);
      const d = await decodeFile(path);
      const { stats } = d;
      const exp = EXPECTED[file];

      // The stated counts.
      expect({
        packets: stats.packets,
        dns: stats.dnsMessages,
        notDns: stats.notDns,
        malformed: stats.malformed,
        unsupported: Object.fromEntries(stats.unsupportedBy),
      }).toEqual({ packets: exp.packets, dns: exp.dns ?? 0, notDns: exp.notDns ?? 0, malformed: exp.malformed ?? 0, unsupported: exp.unsupported ?? {} });
      expect(stats.damage).toBeNull();

      // Fragments and TCP on port 53 are exactly the frames tshark says they are.
      const frags = tsharkFrames(path, 'ip.flags.mf == 1 || ip.frag_offset > 0 || (ipv6.fraghdr && !(ipv6.fraghdr.offset == 0 && ipv6.fraghdr.more == 0))');
      const tcp = tsharkFrames(path, 'tcp.port == 53');
      d.buckets.forEach((b, i) => {
        const frame = i + 1;
        const reason = d.reasons[i];
        if (frags.has(frame)) expect({ frame, b, reason }).toEqual({ frame, b: 'unsupported', reason: 'ip:fragment' });
        else if (tcp.has(frame)) expect({ frame, b, reason }).toEqual({ frame, b: 'unsupported', reason: 'tcp' });
        else expect({ frame, b }).not.toEqual({ frame, b: 'unsupported' });
      });

      // Message by message: tshark's UDP, unfragmented, not ICMP-quoted DNS messages.
      const msgs = (await tsharkDns(path, ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE'])).filter(
        (m) => m.transport === 'udp' && !m.icmpQuoted && !frags.has(m.frame),
      );
      const tsharkFrameSet = new Set(msgs.map((m) => m.frame));
      for (const m of msgs) {
        const ev = d.events.get(m.frame);
        if (ev === undefined && m.malformed) {
          // tshark flags it too; dnslens must count it as a malformed DNS message.
          expect({ frame: m.frame, b: d.buckets[m.frame - 1], dnsReason: d.reasons[m.frame - 1].startsWith('dns:') }).toEqual({ frame: m.frame, b: 'malformed', dnsReason: true });
          continue;
        }
        expect(ev, `frame ${m.frame}: tshark sees a DNS message, dnslens counted ${d.buckets[m.frame - 1]} ${d.reasons[m.frame - 1]}`).toBeDefined();
        expect(compare(m, ev!)).toEqual(want(m));
      }
      // And no event where tshark sees no DNS.
      for (const frame of d.events.keys()) expect({ frame, tshark: tsharkFrameSet.has(frame) }).toEqual({ frame, tshark: true });
      expect(d.events.size).toBe(exp.dns ?? 0);
    });
  }
});
