// Test helper: the UDP port-53 DNS payloads of a classic pcap file, via pcap-parser plus a
// minimal link/IP/UDP strip (Ethernet with VLAN tags, Linux SLL/SLL2, raw IP). IP fragments
// and anything that is not UDP are left out: these tests are about the DNS decoder.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pcapp = require('pcap-parser') as {
  parse(path: string): {
    on(ev: 'globalHeader', f: (h: { linkLayerType: number }) => void): void;
    on(ev: 'packet', f: (p: { data: Buffer }) => void): void;
    on(ev: 'end', f: () => void): void;
    on(ev: 'error', f: (e: Error) => void): void;
  };
};

import { PCAP_DIR } from './data.js';

export { PCAP_DIR };

export interface Payload {
  frame: number; // 1-based frame number, as tshark counts
  data: Buffer; // the UDP payload
}

/** Frames as Buffers plus the link type. */
export function readPcap(path: string): Promise<{ linkType: number; frames: Buffer[] }> {
  return new Promise((resolve, reject) => {
    const parser = pcapp.parse(path);
    let linkType = -1;
    const frames: Buffer[] = [];
    parser.on('globalHeader', (h) => (linkType = h.linkLayerType));
    parser.on('packet', (p) => frames.push(p.data));
    parser.on('end', () => resolve({ linkType, frames }));
    parser.on('error', reject);
  });
}

/** Offset of the IP header in a frame, or -1. */
function ipOffset(linkType: number, f: Buffer): number {
  switch (linkType) {
    case 1: {
      let o = 12;
      while (o + 2 <= f.length && (f.readUInt16BE(o) === 0x8100 || f.readUInt16BE(o) === 0x88a8)) o += 4;
      if (o + 2 > f.length) return -1;
      const et = f.readUInt16BE(o);
      return et === 0x0800 || et === 0x86dd ? o + 2 : -1;
    }
    case 101:
    case 228:
    case 229:
      return 0;
    case 113:
      return 16;
    case 276:
      return 20;
    default:
      return -1;
  }
}

/** The UDP DNS payload of one frame, or null. */
export function udpDnsPayload(linkType: number, f: Buffer): Buffer | null {
  const ip = ipOffset(linkType, f);
  if (ip < 0 || ip >= f.length) return null;
  const version = f[ip] >> 4;
  let udp: number;
  let ipEnd: number;
  if (version === 4) {
    if (ip + 20 > f.length || f[ip + 9] !== 17) return null;
    if ((f.readUInt16BE(ip + 6) & 0x3fff) !== 0) return null; // a fragment
    udp = ip + (f[ip] & 15) * 4;
    ipEnd = ip + f.readUInt16BE(ip + 2);
  } else if (version === 6) {
    if (ip + 40 > f.length || f[ip + 6] !== 17) return null;
    udp = ip + 40;
    ipEnd = udp + f.readUInt16BE(ip + 4);
  } else return null;
  if (udp + 8 > f.length) return null;
  const sport = f.readUInt16BE(udp);
  const dport = f.readUInt16BE(udp + 2);
  if (sport !== 53 && dport !== 53) return null;
  const end = Math.min(udp + f.readUInt16BE(udp + 4), ipEnd, f.length);
  return end > udp + 8 ? f.subarray(udp + 8, end) : null;
}

/** All UDP DNS payloads of a pcap file. */
export async function dnsPayloads(path: string): Promise<Payload[]> {
  const { linkType, frames } = await readPcap(path);
  const out: Payload[] = [];
  frames.forEach((f, i) => {
    const data = udpDnsPayload(linkType, f);
    if (data) out.push({ frame: i + 1, data });
  });
  return out;
}
