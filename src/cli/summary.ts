// The end-of-run summary on stderr, and the progress line shown while reading on a TTY.
import type { Stats } from '../stats.js';

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
  if (stats.droppedBy.size > 0) {
    lines.push('  dropped or filtered');
    for (const [key, n] of [...stats.droppedBy].sort()) lines.push(`    ${key.padEnd(28)} ${fmt.format(n)}`);
  }
  lines.push(`  elapsed          ${secs.toFixed(2)} s, ${rate(stats.packets, secs)} packets/s, ${rate(stats.dnsMessages, secs)} messages/s`);
  if (stats.damage) lines.push(`  INPUT DAMAGED    ${stats.damage}`);
  return lines.join('\n') + '\n';
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
