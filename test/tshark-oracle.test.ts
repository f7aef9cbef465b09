// The oracle checked against an independent account: PROVENANCE.md states, per shared capture,
// what tshark reported when the data was collected (frames, messages, queries, responses,
// transports, EDNS, DO, TC, several messages per frame). tsharkDns must find the same,
// which shows it splits frames into messages and reads flags and EDNS correctly.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { describeWithPeers } from './peers.js';
import { tsharkDns, type TsharkMsg } from './tshark.js';
import { SHARED_DIR } from './data.js';

// The shared data sits beside the work tree (../shared), locally and in CI.
const DATA = join(SHARED_DIR, 'data');

interface Entry {
  file: string;
  counts: Record<string, number>;
}

// "### pcap/x.pcap" sections; their "- DNS:" and "- Flags/features:" lines hold the counts.
function provenance(): Entry[] {
  const text = readFileSync(join(DATA, 'PROVENANCE.md'), 'utf8');
  const out: Entry[] = [];
  for (const sec of text.split(/^### /m).slice(1)) {
    const file = sec.slice(0, sec.indexOf('\n')).trim();
    if (!file.startsWith('pcap/')) continue;
    const counts: Record<string, number> = {};
    const dns = /^- DNS: (\d+) frames, (\d+) messages \((\d+) queries, (\d+) responses\); transport\/IP frames: (.*)$/m.exec(sec);
    if (!dns) throw new Error(`PROVENANCE.md: no DNS line for ${file}`);
    [counts.frames, counts.messages, counts.queries, counts.responses] = dns.slice(1, 5).map(Number);
    for (const part of dns[5].split(', ')) {
      const [k, v] = part.split(' ');
      counts[k] = Number(v);
    }
    const features = /^- Flags\/features: (.*)$/m.exec(sec);
    for (const part of features ? features[1].split('; ') : []) {
      const i = part.lastIndexOf(': ');
      counts[part.slice(0, i)] = Number(part.slice(i + 2));
    }
    out.push({ file, counts });
  }
  return out;
}

// The same counts from tsharkDns records. Keys absent here (IP fragments, TCP streams) are not compared.
function measure(msgs: TsharkMsg[]): Record<string, number> {
  const byFrame = new Map<number, TsharkMsg[]>();
  for (const m of msgs) byFrame.set(m.frame, [...(byFrame.get(m.frame) ?? []), m]);
  const frames = [...byFrame.values()];
  const countFrames = (p: (m: TsharkMsg) => boolean): number => frames.filter((f) => f.some(p)).length;
  return {
    frames: frames.length,
    messages: msgs.length,
    queries: msgs.filter((m) => !m.qr).length,
    responses: msgs.filter((m) => m.qr).length,
    UDP: countFrames((m) => m.transport === 'udp'),
    TCP: countFrames((m) => m.transport === 'tcp'),
    IPv4: countFrames((m) => m.ipVersion === 4),
    IPv6: countFrames((m) => m.ipVersion === 6),
    'EDNS(OPT) frames': countFrames((m) => m.ednsPresent),
    'DO-bit frames': countFrames((m) => m.ednsDo),
    'TC-bit frames': countFrames((m) => m.tc),
    'tshark-malformed frames': countFrames((m) => m.malformed),
    'frames carrying >1 DNS msg': frames.filter((f) => f.length > 1).length,
  };
}

describeWithPeers('tshark oracle vs PROVENANCE.md', ['tshark'], () => {
  const entries = provenance();

  it('covers every capture listed', () => {
    expect(entries.length).toBeGreaterThan(10);
  });

  for (const { file, counts } of entries) {
    it(file, async () => {
      const got = measure(await tsharkDns(join(DATA, file)));
      const want: Record<string, number> = {};
      const seen: Record<string, number> = {};
      for (const [k, v] of Object.entries(counts)) {
        if (!(k in got)) continue;
        want[k] = v;
        seen[k] = got[k];
      }
      expect(seen).toEqual(want);
      // Features PROVENANCE does not list are absent.
      for (const k of ['EDNS(OPT) frames', 'DO-bit frames', 'TC-bit frames', 'tshark-malformed frames', 'frames carrying >1 DNS msg']) {
        if (!(k in counts)) expect(got[k], `${k} in ${file}`).toBe(0);
      }
    });
  }
});
