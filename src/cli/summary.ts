// The end-of-run summary on stderr, and the progress line shown while reading on a TTY.
import { CORE_COUNTERS, type Stats } from '../stats.js';

const fmt = new Intl.NumberFormat('en-US');

function rate(n: number, secs: number): string {
  return secs > 0 ? fmt.format(Math.round(n / secs)) : '-';
}

export function summaryText(stats: Stats): string {
  const secs = stats.elapsedSeconds();
  const lines = [
    'dnslens summary',
    `  packets read     ${fmt.format(stats.packets)} (${fmt.format(stats.bytes)} bytes)`,
    `  DNS messages     ${fmt.format(stats.dnsMessages)}`,
    `  not DNS          ${fmt.format(stats.notDns)}`,
    `  malformed        ${fmt.format(stats.malformed)}`,
  ];
  for (const [reason, n] of [...stats.malformedBy].sort()) lines.push(`    ${reason.padEnd(28)} ${fmt.format(n)}`);
  lines.push(`  unsupported      ${fmt.format(stats.unsupportedTotal)}`);
  for (const [reason, n] of [...stats.unsupportedBy].sort()) lines.push(`    ${reason.padEnd(28)} ${fmt.format(n)}`);
  // Reassembly: fragments and segments are buckets of their own; what they complete is decoded
  // and counted above again (packets + datagrams + TCP messages = the sum of the buckets).
  if (stats.ipFragments > 0) lines.push(`  IP fragments     ${fmt.format(stats.ipFragments)} (reassembled into ${fmt.format(stats.ipDatagrams)} datagrams, decoded above)`);
  if (stats.tcpSegments > 0) lines.push(`  TCP segments     ${fmt.format(stats.tcpSegments)} on DNS ports (${fmt.format(stats.tcpMessages)} DNS messages cut from the streams, decoded above)`);
  if (stats.skippedPackets > 0) lines.push(`  skipped          ${fmt.format(stats.skippedPackets)} (sampled out or duplicate, before IP decoding)`);
  if (stats.droppedBy.size > 0) {
    lines.push('  dropped or filtered');
    for (const [key, n] of [...stats.droppedBy].sort()) lines.push(`    ${key.padEnd(28)} ${fmt.format(n)}`);
  }
  // Each component's own counters (an output's sent, failed, ...), whatever the component.
  // A component that counted anything shows all its declared counters (0 included), then any other.
  for (const c of stats.components.values()) {
    if (![...c.values.values()].some((n) => n !== 0)) continue;
    lines.push(`  ${c.component}`);
    for (const [name, n] of c.values) if (n !== 0 || name in c.declared) lines.push(`    ${c.label(name).padEnd(28)} ${fmt.format(n)}`);
  }
  lines.push(`  elapsed          ${secs.toFixed(2)} s, ${rate(stats.packets, secs)} packets/s, ${rate(stats.dnsMessages, secs)} messages/s`);
  if (stats.damage) lines.push(`  INPUT DAMAGED    ${stats.damage}`);
  return lines.join('\n') + '\n';
}

/** The counters as one object, for the periodic pino log line (--metricFlushInterval). */
export function statsRecord(stats: Stats): Record<string, unknown> {
  const secs = stats.elapsedSeconds();
  const record: Record<string, unknown> = {
    elapsedSec: Math.round(secs * 1000) / 1000,
    packetsPerSec: secs > 0 ? Math.round(stats.packets / secs) : 0,
    unsupported: stats.unsupportedTotal,
  };
  for (const [name, n] of stats.scalars()) if (n > 0 || CORE_COUNTERS.includes(name)) record[name] = n;
  const maps = { malformedBy: stats.malformedBy, unsupportedBy: stats.unsupportedBy, droppedBy: stats.droppedBy };
  for (const [name, map] of Object.entries(maps)) if (map.size > 0) record[name] = Object.fromEntries(map);
  // Each component's counters and gauges under its name: {"clickhouse": {"sent": 1000, "queued": 0, ...}}.
  for (const c of stats.components.values()) {
    const entries = [...c.values, ...c.readings()];
    if (entries.length > 0) record[c.component] = Object.fromEntries(entries);
  }
  return record;
}

/** A one-line progress display, redrawn in place; `total` is the input size in bytes when known. */
export function progressLine(stats: Stats, total: number): string {
  const secs = stats.elapsedSeconds();
  // Frame bytes plus the 16-byte pcap record headers approximate the file offset.
  const done = stats.bytes + 16 * stats.packets;
  let bar = '';
  if (total > 0) {
    const frac = Math.min(1, done / total);
    const width = 30;
    const full = Math.round(frac * width);
    bar = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  `;
  }
  return `\r${bar}${fmt.format(stats.packets)} packets  ${fmt.format(stats.dnsMessages)} DNS  ${rate(stats.packets, secs)} packets/s `;
}
