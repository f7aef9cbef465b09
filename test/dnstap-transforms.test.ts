// Masks, sampling, dedup and skip/allow lists apply to dnstap messages as they do to packets
// (the reference skips masks for dnstap). Through the CLI, on a file and on a socket.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { encodeDnstap, frameStreamFile } from './dnstap-encode.js';
import { CONTROL_START, CONTROL_STOP, controlFrame, dataFrame, DNSTAP_CONTENT_TYPE } from '../src/inputs/dnstap/framestream.js';
import { MAIN, produce, runCli } from './dnstap-helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'dnslens-dnstap-tx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** 100 query/response pairs; clients 192.0.2.x and 2001:db8::x; every fifth name under skip.test. */
function frames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    const v6 = i % 2 === 1;
    const client = v6 ? Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10 + i]) : Uint8Array.from([192, 0, 2, 10 + i]);
    const server = v6 ? Uint8Array.from([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 53]) : Uint8Array.from([198, 51, 100, 53]);
    const name = i % 5 === 0 ? `n${i}.skip.test` : `n${i}.keep.test`;
    const q = { type: 'query' as const, id: i, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A' as const, name, class: 'IN' as const }] };
    const base = { family: v6 ? 2 : 1, protocol: 1, queryAddress: client, responseAddress: server, queryPort: 40000 + i, responsePort: 53, queryTime: [1_700_000_000 + i, 0] as [number, number] };
    out.push(encodeDnstap({ ...base, type: 5, queryMessage: dnsPacket.encode(q) }));
    out.push(encodeDnstap({ ...base, type: 6, responseTime: [1_700_000_000 + i, 500_000], responseMessage: dnsPacket.encode({ ...q, type: 'response' }) }));
  }
  return out;
}

function run(file: string, extra: string[]): { events: DnsEvent[]; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [MAIN, '--dnstapFile', file, '--stdoutOutputFormat', 'json', ...extra], { encoding: 'utf8' });
  const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as DnsEvent);
  return { events, stderr: r.stderr, status: r.status };
}

describe('transforms on dnstap input', () => {
  const file = join(tmp, 'pairs.fstrm');
  writeFileSync(file, frameStreamFile(frames()));

  it('--maskSize4/--maskSize6 mask dnstap addresses', () => {
    const { events, status } = run(file, ['--stdoutOutputType', '1', '--maskSize4', '24', '--maskSize6', '64']);
    expect(status).toBe(0);
    expect(events).toHaveLength(200);
    for (const e of events) {
      for (const a of [e.srcIp, e.dstIp]) expect(a).toMatch(a.includes(':') ? /^2001:db8::$/ : /^(192\.0\.2|198\.51\.100)\.0$/);
    }
  });

  it('--sampleRatio keeps exactly a of every b messages, counted', () => {
    const { events, stderr } = run(file, ['--stdoutOutputType', '1', '--sampleRatio', '1:4', '--matchTimeout', '0']);
    expect(events).toHaveLength(50);
    expect(stderr).toMatch(/sample:ratio\s+150\n/);
  });

  it('--dedup drops a message delivered twice, counted', () => {
    const twice = join(tmp, 'twice.fstrm');
    writeFileSync(twice, frameStreamFile(frames().flatMap((f) => [f, f])));
    const { events, stderr } = run(twice, ['--stdoutOutputType', '1', '--dedup', '--matchTimeout', '0']);
    expect(events).toHaveLength(200);
    expect(stderr).toMatch(/dedup:duplicate\s+200\n/);
  });

  it('a skip list (output type 2) filters dnstap messages, counted', () => {
    const skip = join(tmp, 'skip.csv');
    writeFileSync(skip, 'skip.test,suffix\n');
    const { events, stderr } = run(file, ['--stdoutOutputType', '2', '--skipDomainsFile', skip, '--matchTimeout', '0']);
    expect(events).toHaveLength(160);
    expect(events.some((e) => e.qname.endsWith('skip.test'))).toBe(false);
    expect(stderr).toMatch(/skip-list\s+40\n/);
  });

  it('masks apply on the socket listener too', async () => {
    const path = join(tmp, 'tx.sock');
    const cli = runCli(['--dnstapSocket', `unix://${path}`, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', '--maskSize4', '16', '--maskSize6', '32']);
    await cli.waitForLog('dnstap: listening', 20_000);
    const p = await produce({ path });
    p.socket.end(Buffer.concat([controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE]), ...frames().map((f) => dataFrame(f)), controlFrame(CONTROL_STOP)]));
    await p.closed;
    await cli.waitFor((ev) => ev.length >= 200, 20_000, '200 events');
    expect(await cli.stop('SIGTERM')).toBe(0);
    expect(cli.events).toHaveLength(200);
    for (const e of cli.events) for (const a of [e.srcIp, e.dstIp]) expect(a).toMatch(/^(192\.0\.0\.0|198\.51\.0\.0|2001:db8::)$/);
  });
});
