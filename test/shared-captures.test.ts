// readCapture + decodeFrame over every shared capture, message by message against tshark with IP
// defragmentation and TCP reassembly on: every DNS message tshark finds (UDP, reassembled
// fragments, TCP streams) must be an event with the same fields, in the frame tshark puts it in.
// The expected counts per file come from PROVENANCE.md.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { decodeFrame, finishDecode, type DecodeContext } from '../src/decode/packet.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { Stats } from '../src/stats.js';
import { describeWithPeers } from './peers.js';
import { tsharkDns, type TsharkMsg } from './tshark.js';
import { PCAP_DIR } from './data.js';
import { REASSEMBLY_PREFS } from './wire.js';

const DATA = PCAP_DIR;

interface Expected {
  packets: number;
  dns?: number; // events: DNS messages over UDP, from reassembled datagrams and from TCP streams
  notDns?: number;
  malformed?: number;
  unsupported?: Record<string, number>;
  ipFragments?: number; // frames that were IP fragments
  ipDatagrams?: number; // datagrams rebuilt from them
  tcpSegments?: number; // TCP segments on port 53, handshakes and ACKs included
  tcpMessages?: number; // DNS messages cut out of the TCP streams
  dropped?: Record<string, number>;
}

// From PROVENANCE.md: frames, DNS messages and how they travel (UDP/TCP, fragments, other traffic).
const EXPECTED: Record<string, Expected> = {
  'arkime__dns-wiresharkrepo.pcap': { packets: 38, dns: 38 },
  // the query, and a response in 2 fragments
  'dns-collector__dnsdump_ip4_fragmented+udp.pcap': { packets: 3, dns: 2, ipFragments: 2, ipDatagrams: 1 },
  'dnscap__dns.pcap': { packets: 133, dns: 82, notDns: 51 }, // 41 ICMP echo, 10 ARP
  // one TCP connection to port 53 carrying 82 messages, 41 of them over several segments
  'dnscap__dnso1tcp.pcap': { packets: 212, dns: 82, tcpSegments: 212, tcpMessages: 82 },
  // every packet a fragment: 495 fragments of 82 datagrams
  'dnscap__frags.pcap': { packets: 495, dns: 82, ipFragments: 495, ipDatagrams: 82 },
  'dnscap__sll2.pcap': { packets: 2, dns: 2 },
  'dnscap__vlan11.pcap': { packets: 133, dns: 82, notDns: 51 },
  'dnsjit__pellets.pcap': { packets: 91, dns: 91 }, // raw IPv6
  'elastic-examples__dns-tunnel-iodine.pcap': { packets: 438, dns: 434, notDns: 4 }, // 4 ARP
  // 2971 UDP messages; 1423 TCP connections carry 2880 messages in 13176 segments, 44 of them
  // retransmissions. (PROVENANCE's 5824 messages come from tshark without out-of-order
  // reassembly, which loses 27 responses that arrive after the segment behind them.)
  'pktvisor__dns_udp_tcp_random.pcap': { packets: 16147, dns: 2971 + 2880, tcpSegments: 13176, tcpMessages: 2880, dropped: { 'tcp:retransmit': 44 } },
  // 20 queries pipelined in one segment, 20 responses
  'suricata-verify__dns-tcp-multirequest-buffer.pcap': { packets: 48, dns: 40, tcpSegments: 48, tcpMessages: 40 },
  'tcpdump__dns-badlabel.pcap': { packets: 1, malformed: 1 }, // tshark: name too long, malformed
  'tcpdump__edns-opts.pcap': { packets: 42, dns: 42 },
  'zeek__dns-https.pcap': { packets: 2, dns: 2 },
  'zeek__naptr.pcap': { packets: 2, dns: 2 }, // IPv6
};

interface Decoded {
  stats: Stats;
  fragments: Set<number>; // frames the defragmenter took
  segments: Set<number>; // frames the TCP reassembler took
  events: Map<number, DnsEvent[]>; // frame number -> the events decoding it produced
  malformedFrames: Map<number, string>; // frame number -> malformed reason
}

// The reader counts a whole batch of frames before they are decoded: count frames here instead.
const units = (s: Stats, frames: number) => frames + s.ipDatagrams + s.tcpMessages;
const buckets = (s: Stats) => s.dnsMessages + s.notDns + s.malformed + s.unsupportedTotal + s.ipFragments + s.tcpSegments + s.skippedPackets;

async function decodeFile(path: string): Promise<Decoded> {
  const stats = new Stats();
  const ctx: DecodeContext = { stats, ports: new Set([53]), server: 'test', inputKind: 'pcap' as const, inputName: path };
  const d: Decoded = { stats, fragments: new Set(), segments: new Set(), events: new Map(), malformedFrames: new Map() };
  const out: DnsEvent[] = [];
  let frame = 0;
  for await (const batch of readCapture(path, stats)) {
    for (const f of batch) {
      frame++;
      const before = { frags: stats.ipFragments, segs: stats.tcpSegments, malformed: new Map(stats.malformedBy), out: units(stats, frame - 1) - buckets(stats) };
      out.length = 0;
      decodeFrame(f, ctx, out);
      // Each frame, and whatever it completes, lands in exactly one bucket per unit.
      expect({ frame, balance: units(stats, frame) - buckets(stats) }).toEqual({ frame, balance: before.out });
      if (stats.ipFragments !== before.frags) d.fragments.add(frame);
      if (stats.tcpSegments !== before.segs) d.segments.add(frame);
      for (const [k, v] of stats.malformedBy) if (before.malformed.get(k) !== v) d.malformedFrames.set(frame, k);
      if (out.length > 0) d.events.set(frame, [...out]);
    }
  }
  out.length = 0;
  finishDecode(ctx, out);
  expect(out).toEqual([]);
  expect(stats.balanced()).toBe(true);
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
    index: m.index,
    id: ev.id,
    qr: ev.qr,
    qname: m.qnameLossy ? lossyOurs(ev.qname) : plainOurs(ev.qname),
    qtype: ev.qtype,
    rcode: ev.rcode,
    anCount: ev.anCount,
    transport: ev.transport,
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
    index: m.index,
    id: m.id,
    qr: m.qr,
    qname: m.qnameLossy ? lossyTshark(m.qname) : m.qname,
    qtype: m.qtype,
    rcode: m.rcode,
    anCount: m.anCount,
    transport: m.transport,
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
        ipFragments: stats.ipFragments,
        ipDatagrams: stats.ipDatagrams,
        tcpSegments: stats.tcpSegments,
        tcpMessages: stats.tcpMessages,
        dropped: Object.fromEntries(stats.droppedBy),
      }).toEqual({
        packets: exp.packets,
        dns: exp.dns ?? 0,
        notDns: exp.notDns ?? 0,
        malformed: exp.malformed ?? 0,
        unsupported: exp.unsupported ?? {},
        ipFragments: exp.ipFragments ?? 0,
        ipDatagrams: exp.ipDatagrams ?? 0,
        tcpSegments: exp.tcpSegments ?? 0,
        tcpMessages: exp.tcpMessages ?? 0,
        dropped: exp.dropped ?? {},
      });
      expect(stats.damage).toBeNull();

      // Fragments and TCP on port 53 are exactly the frames tshark says they are.
      const frags = tsharkFrames(path, 'ip.flags.mf == 1 || ip.frag_offset > 0 || (ipv6.fraghdr && !(ipv6.fraghdr.offset == 0 && ipv6.fraghdr.more == 0))');
      const tcp = tsharkFrames(path, 'tcp.port == 53');
      expect([...d.fragments]).toEqual([...frags].sort((a, b) => a - b));
      expect([...d.segments]).toEqual([...tcp].sort((a, b) => a - b));

      // Message by message, with reassembly: each tshark message is an event of the frame that
      // completed it, in the same order within the frame.
      const msgs = (await tsharkDns(path, REASSEMBLY_PREFS)).filter((m) => !m.icmpQuoted);
      const byFrame = new Map<number, TsharkMsg[]>();
      for (const m of msgs) byFrame.set(m.frame, [...(byFrame.get(m.frame) ?? []), m]);
      for (const [frame, ms] of byFrame) {
        const evs = d.events.get(frame) ?? [];
        if (evs.length === 0 && ms.length === 1 && ms[0].malformed) {
          // tshark flags it too; dnslens must count it as a malformed DNS message.
          expect({ frame, reason: d.malformedFrames.get(frame)?.startsWith('dns:') }).toEqual({ frame, reason: true });
          continue;
        }
        expect({ frame, messages: evs.length }).toEqual({ frame, messages: ms.length });
        ms.forEach((m, i) => expect(compare(m, evs[i])).toEqual(want(m)));
      }
      // And no event where tshark sees no DNS.
      for (const frame of d.events.keys()) expect({ frame, tshark: byFrame.has(frame) }).toEqual({ frame, tshark: true });
      let events = 0;
      for (const evs of d.events.values()) events += evs.length;
      expect(events).toBe(exp.dns ?? 0);
    });
  }

  it('tshark without out-of-order reassembly loses the TCP responses dnslens keeps', async () => {
    // pktvisor's capture has 27 TCP connections where the segment with a response's first bytes
    // arrives after the one behind it; tshark's default skips those responses.
    const path = join(DATA, 'pktvisor__dns_udp_tcp_random.pcap');
    const inOrder = await tsharkDns(path, ['-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'tcp.reassemble_out_of_order:FALSE']);
    const full = await tsharkDns(path, REASSEMBLY_PREFS);
    expect({ inOrder: inOrder.length, full: full.length }).toEqual({ inOrder: 5824, full: 5851 });
  });
});
