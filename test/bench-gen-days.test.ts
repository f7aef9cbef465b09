// The benchmark generator's days mode (the week step's capture), at a small rate: whole days from
// a Monday 00:00 UTC, the mean rate asked for, traffic that follows the daily cycle, every one of
// the 2,000 clients, the same bytes for the same seed, and its own cache name beside the packets
// mode's unchanged one.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedCapture, dailyCycle, GEN_VERSION, generateCapture, type GenOptions, type Summary } from '../bench/gen.js';

const OPTS: GenOptions = { days: 1, rate: 2, seed: 11 };
const DAY_START = Date.parse('2024-03-11T00:00:00Z') / 1000; // a Monday

/** Frames per hour of the day, from the pcap record headers. */
function framesPerHour(path: string): number[] {
  const b = readFileSync(path);
  const hours = new Array<number>(24).fill(0);
  for (let p = 24; p + 16 <= b.length; p += 16 + b.readUInt32LE(p + 8)) hours[Math.floor((b.readUInt32LE(p) - DAY_START) / 3600) % 24]++;
  return hours;
}

describe('bench capture generator, days mode', () => {
  let dir: string;
  let path: string;
  let summary: Summary;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dnslens-gen-days-'));
    path = join(dir, 'day.pcap');
    summary = await generateCapture(path, OPTS);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('covers the whole day at the mean rate asked for, from every client', () => {
    expect(Date.parse(summary.firstTime) / 1000).toBeLessThan(DAY_START + 60);
    expect(Date.parse(summary.firstTime) / 1000).toBeGreaterThanOrEqual(DAY_START);
    expect(Date.parse(summary.lastTime) / 1000).toBeGreaterThan(DAY_START + 86_400 - 60);
    expect(Date.parse(summary.lastTime) / 1000).toBeLessThan(DAY_START + 86_400 + 1);
    expect(summary.queries / 86_400).toBeGreaterThan(2 * 0.95);
    expect(summary.queries / 86_400).toBeLessThan(2 * 1.05);
    expect(summary.responses).toBe(summary.queries);
    expect(summary.distinctClients).toBe(2000);
    expect(summary).toMatchObject({ days: 1, rate: 2, other: 0 });
  });

  it('follows the daily cycle: quiet at night, a peak in the evening', () => {
    const hours = framesPerHour(path);
    expect(hours.reduce((a, b) => a + b, 0)).toBe(summary.packets);
    const mean = summary.packets / 24;
    for (let h = 0; h < 24; h++) {
      let curve = 0; // the curve's mean over the hour
      for (let m = 0; m < 60; m++) curve += dailyCycle((DAY_START + h * 3600 + m * 60 + 30) * 1e6) / 60;
      expect(hours[h] / mean, `hour ${h}`).toBeGreaterThan(curve * 0.85);
      expect(hours[h] / mean, `hour ${h}`).toBeLessThan(curve * 1.15);
    }
    const peak = hours.indexOf(Math.max(...hours));
    const trough = hours.indexOf(Math.min(...hours));
    expect(peak).toBeGreaterThanOrEqual(19);
    expect(peak).toBeLessThanOrEqual(21);
    expect(trough).toBeGreaterThanOrEqual(2);
    expect(trough).toBeLessThanOrEqual(4);
    expect(hours[peak] / hours[trough]).toBeGreaterThan(6);
  });

  it('is deterministic: the same options give the same bytes', async () => {
    const again = join(dir, 'again.pcap');
    expect(await generateCapture(again, OPTS)).toEqual(summary);
    const sha = (p: string): string => createHash('sha256').update(readFileSync(p)).digest('hex');
    expect(sha(again)).toBe(sha(path));
  });

  it('caches under its own name; the packets mode keeps its name', async () => {
    const cache = join(dir, 'cache');
    const days = await cachedCapture(cache, { days: 1, rate: 0.2, seed: 3 });
    expect(basename(days.path)).toBe(`gen-v${GEN_VERSION}-seed3-1d-0.2qps.pcap`);
    expect(days.generated).toBe(true);
    expect((await cachedCapture(cache, { days: 1, rate: 0.2, seed: 3 })).generated).toBe(false);
    const packets = await cachedCapture(cache, { packets: 1000, seed: 3 });
    expect(basename(packets.path)).toBe(`gen-v${GEN_VERSION}-seed3-1000.pcap`);
    expect(packets.summary.days).toBeUndefined();
  });

  it('refuses days out of bounds, both modes at once, and more frames than the limit', async () => {
    await expect(generateCapture(join(dir, 'x.pcap'), { days: 0, seed: 1 })).rejects.toThrow(/days must be/);
    await expect(generateCapture(join(dir, 'x.pcap'), { days: 1, packets: 1000, seed: 1 })).rejects.toThrow(/not both/);
    await expect(generateCapture(join(dir, 'x.pcap'), { days: 28, rate: 500, seed: 1 })).rejects.toThrow(/frames, over/);
  });
});
