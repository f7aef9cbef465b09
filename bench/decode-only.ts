// Decode-only benchmark child: read a capture and decode every frame into events that are then
// dropped. run.ts times this process from spawn to exit; it reports its counters and peak RSS
// as one JSON line on stdout.
//   node dist/bench/decode-only.js FILE [--port 53]
import { decodeFrame, type DecodeContext } from '../src/decode/packet.js';
import type { DnsEvent } from '../src/event.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { Stats } from '../src/stats.js';

export interface DecodeReport {
  packets: number;
  events: number;
  dnsMessages: number;
  notDns: number;
  malformed: number;
  unsupported: Record<string, number>;
  damage: string | null;
  seconds: number; // inside the process, reading and decoding only
  maxRssKb: number; // process.resourceUsage().maxRSS (kilobytes)
}

async function main(argv: string[]): Promise<void> {
  const path = argv[0];
  if (!path) throw new Error('usage: decode-only.js FILE [--port N]');
  const portAt = argv.indexOf('--port');
  const port = portAt > 0 ? Number(argv[portAt + 1]) : 53;
  const stats = new Stats();
  const ctx: DecodeContext = { stats, ports: new Set([port]), server: 'bench', inputKind: 'pcap', inputName: path };
  const out: DnsEvent[] = [];
  let events = 0;
  let sink = 0; // touch each event so the work cannot be optimised away
  for await (const batch of readCapture(path, stats)) {
    for (let i = 0; i < batch.length; i++) decodeFrame(batch[i], ctx, out);
    events += out.length;
    for (let i = 0; i < out.length; i++) sink += out[i].qtype;
    out.length = 0;
  }
  const report: DecodeReport & { sink: number } = {
    packets: stats.packets,
    events,
    dnsMessages: stats.dnsMessages,
    notDns: stats.notDns,
    malformed: stats.malformed,
    unsupported: Object.fromEntries(stats.unsupportedBy),
    damage: stats.damage,
    seconds: stats.elapsedSeconds(),
    maxRssKb: process.resourceUsage().maxRSS,
    sink,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`decode-only: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
