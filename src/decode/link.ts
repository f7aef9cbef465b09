// Link layer: find where the IP packet starts in a captured frame.
import { log } from '../log.js';
import type { Stats } from '../stats.js';

/** Where the IP packet starts; filled by findIp. */
export interface IpStart {
  offset: number;
  version: number; // 4 or 6 as the link layer says (raw IP: the version nibble)
}

// LINKTYPE_* values (https://www.tcpdump.org/linktypes.html)
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const MAX_VLAN_TAGS = 8;

// Names for the warning and the unsupported counter; others show as their number.
const LINK_NAMES: Record<number, string> = {
  6: 'IEEE802_5', 8: 'SLIP', 9: 'PPP', 10: 'FDDI', 50: 'PPP_HDLC', 51: 'PPP_ETHER', 100: 'ATM_RFC1483',
  104: 'C_HDLC', 105: 'IEEE802_11', 107: 'FRELAY', 119: 'PRISM_HEADER', 127: 'IEEE802_11_RADIOTAP',
  138: 'APPLE_IP_OVER_IEEE1394', 143: 'DOCSIS', 163: 'IEEE802_11_AVS', 187: 'BLUETOOTH_HCI_H4', 189: 'USB_LINUX',
  192: 'PPI', 195: 'IEEE802_15_4_WITHFCS', 201: 'BLUETOOTH_HCI_H4_WITH_PHDR', 215: 'IEEE802_15_4_NONASK_PHY',
  220: 'USB_LINUX_MMAPPED', 230: 'IEEE802_15_4_NOFCS', 249: 'USBPCAP', 253: 'NETLINK',
  239: 'NFLOG', 252: 'WIRESHARK_UPPER_PDU', 147: 'USER0',
};

const warned = new Set<number>();

export function linkTypeName(linkType: number): string {
  return LINK_NAMES[linkType] ?? String(linkType);
}

/**
 * Finds the IP packet in the frame data[start, end) (out.offset is an index into data).
 * Returns true and fills out, or returns false after
 * counting the frame: stats.notDns (not IP), stats.malformedAs('link:...') (too short)
 * or stats.unsupported('link:NAME') (a link type not decoded).
 */
export function findIp(linkType: number, data: Uint8Array, start: number, end: number, stats: Stats, out: IpStart): boolean {
  const len = end - start;
  const s = start;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (len < 14) return short(stats);
      let p = 12;
      let type = (data[s + p] << 8) | data[s + p + 1];
      // 802.1Q / 802.1ad (QinQ) / legacy QinQ tags, possibly stacked
      for (let tags = 0; type === 0x8100 || type === 0x88a8 || type === 0x9100 || type === 0x9200; tags++) {
        if (tags === MAX_VLAN_TAGS) return malformed(stats, 'link:vlan-tags');
        p += 4;
        if (len < p + 2) return short(stats);
        type = (data[s + p] << 8) | data[s + p + 1];
      }
      return ethertype(type, s + p + 2, stats, out);
    }
    case LINKTYPE_LINUX_SLL:
      if (len < 16) return short(stats);
      return ethertype((data[s + 14] << 8) | data[s + 15], s + 16, stats, out);
    case LINKTYPE_LINUX_SLL2:
      if (len < 20) return short(stats);
      return ethertype((data[s] << 8) | data[s + 1], s + 20, stats, out);
    case LINKTYPE_RAW:
    case 12: // DLT_RAW on OpenBSD-derived systems
    case 14: // DLT_RAW on BSD/OS
      if (len < 1) return short(stats);
      return versionNibble(data, s, stats, out);
    case LINKTYPE_IPV4:
      out.offset = s;
      out.version = 4;
      return true;
    case LINKTYPE_IPV6:
      out.offset = s;
      out.version = 6;
      return true;
    case LINKTYPE_NULL: {
      // The address family is in the capturing host's byte order, which the file does not say.
      if (len < 4) return short(stats);
      const le = data[s] | (data[s + 1] << 8) | (data[s + 2] << 16) | (data[s + 3] << 24);
      const be = (data[s] << 24) | (data[s + 1] << 16) | (data[s + 2] << 8) | data[s + 3];
      return family(isFamily(le) ? le : be, s + 4, stats, out);
    }
    case LINKTYPE_LOOP:
      if (len < 4) return short(stats);
      return family((data[s] << 24) | (data[s + 1] << 16) | (data[s + 2] << 8) | data[s + 3], s + 4, stats, out);
    default:
      if (!warned.has(linkType)) {
        warned.add(linkType);
        log.warn({ linkType, name: linkTypeName(linkType) }, `unsupported link type ${linkTypeName(linkType)}: its frames are counted, not decoded`);
      }
      stats.unsupported(`link:${linkTypeName(linkType)}`);
      return false;
  }
}

function ethertype(type: number, offset: number, stats: Stats, out: IpStart): boolean {
  if (type === ETH_IPV4) out.version = 4;
  else if (type === ETH_IPV6) out.version = 6;
  else {
    stats.notDns++; // ARP, LLDP, 802.2 LLC (length field), ...
    return false;
  }
  out.offset = offset;
  return true;
}

function versionNibble(data: Uint8Array, offset: number, stats: Stats, out: IpStart): boolean {
  const v = data[offset] >> 4;
  if (v !== 4 && v !== 6) return malformed(stats, 'link:not-ip');
  out.offset = offset;
  out.version = v;
  return true;
}

// AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (NetBSD, OpenBSD, BSD/OS), 28 (FreeBSD), 30 (macOS).
function isFamily(af: number): boolean {
  return af === 2 || af === 10 || af === 24 || af === 28 || af === 30;
}

function family(af: number, offset: number, stats: Stats, out: IpStart): boolean {
  if (af === 2) out.version = 4;
  else if (af === 10 || af === 24 || af === 28 || af === 30) out.version = 6;
  else {
    stats.notDns++;
    return false;
  }
  out.offset = offset;
  return true;
}

function short(stats: Stats): false {
  stats.malformedAs('link:short');
  return false;
}

function malformed(stats: Stats, reason: string): false {
  stats.malformedAs(reason);
  return false;
}
