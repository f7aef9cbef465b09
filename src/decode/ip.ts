// IPv4 / IPv6 / UDP (and the TCP ports) of one packet, plus fast address text.
import type { Stats } from '../stats.js';

export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
/** Transport4.protocol of an IP fragment (not an IP protocol number): the defragmenter takes it. */
export const PROTO_FRAGMENT = 256;

/** The transport view of a packet; filled by decodeIp. Addresses stay as offsets until needed. */
export interface Transport4 {
  version: number; // 4 or 6
  srcOff: number; // offset of the source address in the frame
  dstOff: number;
  protocol: number; // PROTO_UDP, PROTO_TCP or PROTO_FRAGMENT
  srcPort: number;
  dstPort: number;
  payloadStart: number; // UDP payload, TCP segment data, or fragment data
  payloadEnd: number;
  tcpHeader: number; // TCP: offset of the TCP header; fragment: offset of the IPv6 fragment header (IPv4: the IP header)
}

const MAX_IPV6_EXT = 16; // more extension headers than this is hostile

/**
 * Decodes the IP header at offset and the UDP or TCP header after it; the frame ends at
 * frameEnd (at most data.length). Returns true and fills out (an IP fragment comes back as
 * protocol PROTO_FRAGMENT, ports unset), or returns false after counting the packet:
 * stats.notDns (other protocols, ESP) or stats.malformedAs('ip:...' / 'udp:...' / 'tcp:...').
 */
export function decodeIp(data: Uint8Array, offset: number, version: number, frameEnd: number, stats: Stats, out: Transport4): boolean {
  const avail = frameEnd - offset;
  let l4: number;
  let end: number;
  let proto: number;
  if (version === 4) {
    if (avail < 20) return bad(stats, 'ip:short');
    const b0 = data[offset];
    if (b0 >> 4 !== 4) return bad(stats, 'ip:bad-version');
    const ihl = (b0 & 15) * 4;
    if (ihl < 20) return bad(stats, 'ip:bad-header-length');
    let total = (data[offset + 2] << 8) | data[offset + 3];
    if (total === 0) total = avail; // segmentation offload: the NIC fills the length in later
    if (total < ihl) return bad(stats, 'ip:bad-length');
    if (total > avail) return bad(stats, 'ip:truncated');
    proto = data[offset + 9];
    l4 = offset + ihl;
    end = offset + total;
    out.srcOff = offset + 12;
    out.dstOff = offset + 16;
    // More-fragments flag or a fragment offset: the defragmenter's.
    if ((((data[offset + 6] << 8) | data[offset + 7]) & 0x3fff) !== 0) return fragment(out, version, offset, l4, end);
  } else {
    if (avail < 40) return bad(stats, 'ip6:short');
    if (data[offset] >> 4 !== 6) return bad(stats, 'ip6:bad-version');
    const plen = (data[offset + 4] << 8) | data[offset + 5];
    end = plen === 0 ? frameEnd : offset + 40 + plen; // 0: jumbogram or segmentation offload
    if (end > frameEnd) return bad(stats, 'ip6:truncated');
    proto = data[offset + 6];
    l4 = offset + 40;
    out.srcOff = offset + 8;
    out.dstOff = offset + 24;
    for (let n = 0; ; n++) {
      let hlen: number;
      if (proto === 0 || proto === 43 || proto === 60) {
        // hop-by-hop, routing, destination options: length in 8-byte units after the first 8
        if (end - l4 < 8) return bad(stats, 'ip6:bad-extension');
        hlen = (data[l4 + 1] + 1) * 8;
      } else if (proto === 44) {
        if (end - l4 < 8) return bad(stats, 'ip6:bad-extension');
        // An atomic fragment (offset 0, no more fragments; RFC 6946) is a whole packet.
        if ((((data[l4 + 2] << 8) | data[l4 + 3]) & 0xfff9) !== 0) return fragment(out, version, l4, l4 + 8, end);
        hlen = 8;
      } else if (proto === 51) {
        // AH: length in 4-byte units, minus 2
        if (end - l4 < 8) return bad(stats, 'ip6:bad-extension');
        hlen = (data[l4 + 1] + 2) * 4;
      } else {
        break;
      }
      if (n === MAX_IPV6_EXT) return bad(stats, 'ip6:too-many-headers');
      if (end - l4 < hlen) return bad(stats, 'ip6:bad-extension');
      proto = data[l4];
      l4 += hlen;
    }
  }
  out.version = version;
  out.protocol = proto;
  if (proto === PROTO_UDP) {
    if (end - l4 < 8) return bad(stats, 'udp:short');
    let ulen = (data[l4 + 4] << 8) | data[l4 + 5];
    if (ulen === 0 && version === 6) ulen = end - l4; // jumbogram (RFC 2675)
    if (ulen < 8) return bad(stats, 'udp:bad-length');
    if (ulen > end - l4) return bad(stats, 'udp:truncated');
    out.srcPort = (data[l4] << 8) | data[l4 + 1];
    out.dstPort = (data[l4 + 2] << 8) | data[l4 + 3];
    out.payloadStart = l4 + 8;
    out.payloadEnd = l4 + ulen;
    return true;
  }
  if (proto === PROTO_TCP) {
    if (end - l4 < 20) return bad(stats, 'tcp:short');
    const hlen = (data[l4 + 12] >> 4) * 4;
    if (hlen < 20 || hlen > end - l4) return bad(stats, 'tcp:bad-header-length');
    out.srcPort = (data[l4] << 8) | data[l4 + 1];
    out.dstPort = (data[l4 + 2] << 8) | data[l4 + 3];
    out.payloadStart = l4 + hlen;
    out.payloadEnd = end;
    out.tcpHeader = l4;
    return true;
  }
  stats.notDns++; // ICMP, ESP, no next header, other protocols
  return false;
}

function fragment(out: Transport4, version: number, header: number, start: number, end: number): true {
  out.version = version;
  out.protocol = PROTO_FRAGMENT;
  out.tcpHeader = header;
  out.payloadStart = start;
  out.payloadEnd = end;
  return true;
}

function bad(stats: Stats, reason: string): false {
  stats.malformedAs(reason);
  return false;
}
