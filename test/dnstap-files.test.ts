// dnstap files: the shared captures (and a generated file with every message type, both address
// families and every transport) decode to the messages Debian's dnstap-ldns prints for them.
// Also the protobuf walker and the Frame Streams reader on hostile input.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dnsPacket from 'dns-packet';
import { afterAll, describe, expect, it } from 'vitest';
import type { DnsEvent } from '../src/event.js';
import { rcodeName, typeName } from '../src/dnsnames.js';
import { Stats } from '../src/stats.js';
import { readDnstapFile } from '../src/inputs/dnstap/file.js';
import { DnstapFields, parseDnstap } from '../src/inputs/dnstap/protobuf.js';
import { encodeDnstap, frameStreamFile, type DnstapMessageInit } from './dnstap-encode.js';
import { DnstapDecoder, MESSAGE_TYPES } from '../src/inputs/dnstap/event.js';
import { FrameReader, controlFrame, CONTROL_START, dataFrame } from '../src/inputs/dnstap/framestream.js';
import { describeWithPeers } from './peers.js';
import { MAIN } from './dnstap-helpers.js';
import { rng } from './synthetic.js';
import { SHARED_DIR } from './data.js';

const DATA = join(SHARED_DIR, 'data/dnstap');
const tmp = mkdtempSync(join(tmpdir(), 'dnslens-dnstap-files-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function readAll(path: string, opts: { useIdentity?: boolean } = {}): Promise<{ events: DnsEvent[]; stats: Stats }> {
  const stats = new Stats();
  const events: DnsEvent[] = [];
  for await (const batch of readDnstapFile(path, stats, { server: 'sensor', useIdentity: opts.useIdentity ?? false })) events.push(...batch);
  return { events, stats };
}

interface LdnsMessage {
  type: string;
  time: string; // "YYYY-MM-DD HH:MM:SS.uuuuuu", the query time for queries, else the response time
  family?: string;
  protocol?: string;
  queryAddress?: string;
  responseAddress?: string;
  queryPort?: number;
  responsePort?: number;
  qname?: string;
  qtype?: string;
  rcode?: string;
  identity: string;
}

/** dnstap-ldns -y output, one record per message. */
function ldns(path: string): LdnsMessage[] {
  const text = execFileSync('dnstap-ldns', ['-y', '-r', path], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const out: LdnsMessage[] = [];
  for (const doc of text.split(/^---$/m)) {
    if (!doc.includes('message:')) continue;
    const get = (re: RegExp) => re.exec(doc)?.[1];
    const type = get(/^ {2}type: (\S+)$/m) as string;
    const response = type.endsWith('RESPONSE');
    const qt = get(/^ {2}query_time: !!timestamp (.+)$/m);
    const rt = get(/^ {2}response_time: !!timestamp (.+)$/m);
    const section = doc.split(response ? 'response_message: |' : 'query_message: |')[1] ?? '';
    const question = /QUESTION SECTION:\n\s+;(\S*)\s+\S+\s+(\S+)/.exec(section);
    out.push({
      type,
      time: (response ? (rt ?? qt) : (qt ?? rt)) as string,
      family: get(/^ {2}socket_family: (\S+)$/m),
      protocol: get(/^ {2}socket_protocol: (\S+)$/m),
      queryAddress: get(/^ {2}query_address: "?([^"\n]+)"?$/m),
      responseAddress: get(/^ {2}response_address: "?([^"\n]+)"?$/m),
      queryPort: Number(get(/^ {2}query_port: (\d+)$/m) ?? NaN),
      responsePort: Number(get(/^ {2}response_port: (\d+)$/m) ?? NaN),
      qname: question?.[1],
      qtype: question?.[2],
      rcode: /rcode: (\w+)/.exec(section)?.[1],
      identity: get(/^identity: "(.*)"$/m) ?? '',
    });
  }
  return out;
}

/** Our event's time as dnstap-ldns prints it (microseconds, truncated). */
function ldnsTime(e: DnsEvent): string {
  const iso = new Date(e.timeSec * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${String(Math.floor(e.timeNsec / 1000)).padStart(6, '0')}`;
}

function compare(events: DnsEvent[], theirs: LdnsMessage[]): void {
  expect(events.length).toBe(theirs.length);
  events.forEach((e, i) => {
    const t = theirs[i];
    const at = `message ${i}`;
    expect(e.messageType, at).toBe(t.type);
    expect(e.qr, at).toBe(t.type.endsWith('RESPONSE'));
    expect(ldnsTime(e), at).toBe(t.time);
    const [initiator, responder] = e.qr ? [e.dstIp, e.srcIp] : [e.srcIp, e.dstIp];
    const [iPort, rPort] = e.qr ? [e.dstPort, e.srcPort] : [e.srcPort, e.dstPort];
    expect(initiator, at).toBe(t.queryAddress ?? '');
    expect(responder, at).toBe(t.responseAddress ?? '');
    if (!Number.isNaN(t.queryPort)) expect(iPort, at).toBe(t.queryPort);
    if (!Number.isNaN(t.responsePort)) expect(rPort, at).toBe(t.responsePort);
    expect(e.ipVersion, at).toBe(t.family === 'INET' ? 4 : t.family === 'INET6' ? 6 : 0);
    const proto = { UDP: 'udp', TCP: 'tcp', DOT: 'dot', DOH: 'doh', DOQ: 'doq', DNSCryptUDP: 'dnscrypt', DNSCryptTCP: 'dnscrypt' }[t.protocol ?? 'UDP'];
    if (proto) expect(e.transport, at).toBe(proto);
    expect(e.qname, at).toBe((t.qname as string).toLowerCase().replace(/\.$/, '') || '.');
    expect(typeName(e.qtype), at).toBe(t.qtype);
    expect(rcodeName(e.rcode), at).toBe(t.rcode);
  });
}

describeWithPeers('dnstap files against dnstap-ldns', ['dnstap-ldns'], () => {
  const files = readdirSync(DATA).sort();

  it('has the shared dnstap files', () => {
    expect(files).toEqual(['dns-collector__dnstap.fstrm', 'pktvisor__fixture.dnstap']);
  });

  for (const name of files) {
    it(`${name}: every message as dnstap-ldns prints it`, async () => {
      const path = join(DATA, name);
      const { events, stats } = await readAll(path);
      compare(events, ldns(path));
      expect(stats.dnsMessages).toBe(events.length);
    });
  }

  it('pktvisor__fixture.dnstap ends inside a frame: 153 messages, then damage reported (dnstap-ldns also stops at 153)', async () => {
    const { events, stats } = await readAll(join(DATA, 'pktvisor__fixture.dnstap'));
    expect(events).toHaveLength(153);
    expect(stats.malformedBy.get('framestream:truncated-frame')).toBe(1);
    expect(stats.damage).toMatch(/truncated-frame at byte 20280/);
    const r = spawnSync(process.execPath, [MAIN, '--dnstapFile', join(DATA, 'pktvisor__fixture.dnstap'), '--stdoutOutputType', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(3); // damaged input, everything before the damage written
    expect(r.stdout.trim().split('\n')).toHaveLength(153);
  });

  // dnstap-ldns (-y) knows message types 1-12 and UDP/TCP only: this file stays within those.
  it('a generated file with message types 1-12, IPv4 and IPv6, UDP and TCP', async () => {
    const messages = generated(120, 12, 2);
    const path = join(tmp, 'ldns-types.fstrm');
    writeFileSync(path, frameStreamFile(messages.map(encodeDnstap)));
    const { events, stats } = await readAll(path, { useIdentity: true });
    expect(stats.dnsMessages).toBe(120);
    compare(events, ldns(path));
    events.forEach((e, i) => {
      expect(e.server).toBe(`ns${i % 2}`);
      if (e.qr) expect(e.responseTimeUs).toBe(1); // response_time - query_time = 1000 ns
      else expect(e.responseTimeUs).toBeNull();
    });
  });
});

// Debian's golang-dnstap CLI names the newer types (UPDATE_*) and DoT/DoH; DNSCrypt and DoQ it
// prints as numbers.
describeWithPeers('dnstap files against golang-dnstap', ['dnstap'], () => {
  it('all 14 message types and all 7 socket protocols', async () => {
    const messages = generated(140, 14, 7);
    const path = join(tmp, 'all-types.fstrm');
    writeFileSync(path, frameStreamFile(messages.map(encodeDnstap)));
    const { events, stats } = await readAll(path);
    expect(stats.dnsMessages).toBe(140);
    expect(new Set(events.map((e) => e.messageType))).toEqual(new Set(MESSAGE_TYPES.slice(1)));
    expect(new Set(events.map((e) => e.transport))).toEqual(new Set(['udp', 'tcp', 'dot', 'doh', 'dnscrypt', 'doq']));
    const yaml = execFileSync('dnstap', ['-y', '-r', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const docs = yaml.split(/^---$/m).filter((d) => d.includes('message:'));
    expect(docs).toHaveLength(140);
    const protocols: Record<string, string> = { UDP: 'udp', TCP: 'tcp', DOT: 'dot', DOH: 'doh', '5': 'dnscrypt', '6': 'dnscrypt', '7': 'doq' };
    docs.forEach((d, i) => {
      const e = events[i];
      const get = (k: string) => new RegExp(`^ {2}${k}: (\\S+)$`, 'm').exec(d)?.[1];
      expect(e.messageType).toBe(get('type'));
      expect(e.transport).toBe(protocols[get('socket_protocol') as string]);
      expect(e.qr ? e.dstIp : e.srcIp).toBe(get('query_address'));
      expect(e.qr ? e.srcIp : e.dstIp).toBe(get('response_address'));
      expect(e.qr ? e.dstPort : e.srcPort).toBe(Number(get('query_port')));
    });
  });
});

/** n messages cycling through message types 1..types and socket protocols 1..protocols. */
function generated(n: number, types: number, protocols: number): DnstapMessageInit[] {
  const random = rng(5);
  const messages: DnstapMessageInit[] = [];
  for (let i = 0; i < n; i++) {
    const type = (i % types) + 1;
    const v6 = i % 3 === 0;
    const addr = (last: number) => (v6 ? Uint8Array.from([0x20, 1, 0xd, 0xb8, ...new Array<number>(11).fill(0), last]) : Uint8Array.from([192, 0, 2, last]));
    const response = type % 2 === 0;
    const qtypes = ['A', 'AAAA', 'MX', 'TXT', 'PTR'] as const;
    const wire = dnsPacket.encode({
      type: response ? 'response' : 'query',
      id: i,
      flags: response ? (i % 4 === 0 ? 3 : 0) | dnsPacket.RECURSION_DESIRED : dnsPacket.RECURSION_DESIRED,
      questions: [{ type: qtypes[i % qtypes.length], name: `n${i}.Example.ORG`, class: 'IN' }],
    });
    const sec = 1_700_000_000 + i;
    const qnsec = Math.floor(random() * 999_000_000);
    const m: DnstapMessageInit = {
      type,
      identity: `ns${i % 2}`,
      family: v6 ? 2 : 1,
      protocol: (Math.floor(i / types) % protocols) + 1,
      queryAddress: addr(10 + (i % 5)),
      responseAddress: addr(53),
      queryPort: 1024 + Math.floor(random() * 60000),
      responsePort: 53,
      queryTime: [sec, qnsec],
    };
    if (response) {
      m.responseTime = [sec, qnsec + 1000];
      m.responseMessage = wire;
    } else {
      m.queryMessage = wire;
    }
    messages.push(m);
  }
  return messages;
}

describe('dnstap protobuf walker', () => {
  const good = encodeDnstap({
    type: 5,
    identity: 'x',
    family: 1,
    protocol: 1,
    queryAddress: Uint8Array.from([10, 0, 0, 1]),
    queryPort: 5353,
    queryTime: [1_700_000_000, 5],
    queryMessage: dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'a.example', class: 'IN' }] }),
  });

  it('reads every field of a frame', () => {
    const f = new DnstapFields();
    expect(parseDnstap(good, 0, good.length, f)).toBeNull();
    expect(f.type).toBe(5);
    expect(f.queryPort).toBe(5353);
    expect(f.queryTimeSec).toBe(1_700_000_000);
    expect(f.queryTimeNsec).toBe(5);
    expect(f.dnstapType).toBe(1);
    expect(Buffer.from(good.subarray(f.identityStart, f.identityEnd)).toString()).toBe('x');
  });

  it('counts a port above 65535 as malformed instead of storing it wrapped', () => {
    const stats = new Stats();
    const dec = new DnstapDecoder(stats, { server: 's', useIdentity: false, inputName: 'test' });
    const bad = encodeDnstap({ type: 5, family: 1, protocol: 1, queryAddress: Uint8Array.from([10, 0, 0, 1]), queryPort: 70_000, queryTime: [1_700_000_000, 5], queryMessage: dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'a.example', class: 'IN' }] }) });
    const out: DnsEvent[] = [];
    dec.decode(good, 0, good.length, out);
    dec.decode(bad, 0, bad.length, out);
    expect(out).toHaveLength(1);
    expect(out[0].srcPort).toBe(5353);
    expect(stats.malformedBy.get('dnstap:bad-port')).toBe(1);
  });

  it('skips unknown fields of every wire type', () => {
    // extra = 3 (bytes), an unknown varint 20, fixed64 21, fixed32 22 around the known frame
    const extra = Uint8Array.from([0x1a, 2, 0x61, 0x62, 0xa0, 0x01, 0x96, 0x01, 0xa9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0xb5, 0x01, 1, 2, 3, 4]);
    const buf = Buffer.concat([extra, good]);
    const f = new DnstapFields();
    expect(parseDnstap(buf, 0, buf.length, f)).toBeNull();
    expect(f.type).toBe(5);
    expect(f.queryPort).toBe(5353);
  });

  it('reports every truncation of a frame, and groups, without throwing', () => {
    const f = new DnstapFields();
    const reasons = new Set<string | null>();
    for (let n = 0; n < good.length; n++) reasons.add(parseDnstap(good, 0, n, f));
    expect([...reasons].filter((r) => r !== null).every((r) => r === 'dnstap:truncated')).toBe(true);
    expect(reasons.has('dnstap:truncated')).toBe(true);
    expect(parseDnstap(Uint8Array.from([0x0b, 0x0c]), 0, 2, f)).toBe('dnstap:bad-wire-type');
    expect(parseDnstap(Uint8Array.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 12, f)).toBe('dnstap:truncated');
  });

  it('survives 20,000 random mutations of a frame, each counted in exactly one bucket', async () => {
    const random = rng(11);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) {
      const b = Uint8Array.from(good);
      const flips = 1 + Math.floor(random() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(random() * b.length)] = Math.floor(random() * 256);
      // cut some short too; never to 0 bytes, which Frame Streams reads as a control frame escape
      frames.push(b.subarray(0, Math.floor(random() * 4) === 0 ? 1 + Math.floor(random() * (b.length - 1)) : b.length));
    }
    const path = join(tmp, 'mutated.fstrm');
    writeFileSync(path, frameStreamFile(frames));
    const { events, stats } = await readAll(path);
    expect(stats.packets).toBe(20_000);
    expect(stats.dnsMessages + stats.malformed + stats.unsupportedTotal).toBe(20_000);
    expect(events).toHaveLength(stats.dnsMessages);
    expect(stats.damage).toBeNull();
  });
});

describe('Frame Streams reader', () => {
  function collect(chunks: Uint8Array[], max?: number) {
    const data: string[] = [];
    const controls: number[] = [];
    const r = new FrameReader(
      {
        data: (b, s, e) => data.push(Buffer.from(b.subarray(s, e)).toString()),
        control: (t) => {
          controls.push(t);
          return null;
        },
      },
      max,
    );
    let err: string | null = null;
    for (const c of chunks) err ??= r.push(c);
    return { data, controls, err, pending: r.pending };
  }

  it('reassembles frames split at every byte', () => {
    const bytes = Buffer.concat([controlFrame(CONTROL_START, ['protobuf:dnstap.Dnstap']), dataFrame(Buffer.from('hello')), dataFrame(Buffer.from('world!'))]);
    for (let cut = 1; cut < bytes.length; cut++) {
      const r = collect([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(r.err).toBeNull();
      expect(r.data).toEqual(['hello', 'world!']);
      expect(r.controls).toEqual([CONTROL_START]);
    }
    const single = collect([...bytes].map((b) => Uint8Array.of(b)));
    expect(single.data).toEqual(['hello', 'world!']);
  });

  it('refuses an oversize frame and a malformed control frame', () => {
    expect(collect([dataFrame(Buffer.alloc(100))], 64).err).toBe('framestream:oversize-frame');
    const badControl = Buffer.from([0, 0, 0, 0, 0, 0, 0x10, 0]); // control length 4096 > 512
    expect(collect([badControl]).err).toBe('framestream:bad-control-frame');
    const unknownField = Buffer.from([0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0]);
    expect(collect([unknownField]).err).toBe('framestream:bad-control-frame');
  });

  it('a file that is not Frame Streams is an error; garbage after a good start is damage', async () => {
    const notFstrm = join(tmp, 'not.fstrm');
    writeFileSync(notFstrm, readFileSync(join(import.meta.dirname, '../samples/dns-sample.pcap')));
    await expect(readAll(notFstrm)).rejects.toThrow(/not a Frame Streams/);
    const r = spawnSync(process.execPath, [MAIN, '--dnstapFile', notFstrm, '--stdoutOutputType', '1'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a Frame Streams \(dnstap\) file/);
    const damaged = join(tmp, 'damaged.fstrm');
    const ok = frameStreamFile([good2()]);
    writeFileSync(damaged, Buffer.concat([ok.subarray(0, ok.length - 12), Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3])]));
    const { events, stats } = await readAll(damaged);
    expect(events).toHaveLength(1);
    expect(stats.damage).toMatch(/oversize-frame/);
  });
});

function good2(): Uint8Array {
  return encodeDnstap({
    type: 6,
    family: 1,
    protocol: 2,
    responseAddress: Uint8Array.from([10, 0, 0, 2]),
    responseTime: [1_700_000_000, 0],
    responseMessage: dnsPacket.encode({ type: 'response', id: 2, questions: [{ type: 'A', name: 'b.example', class: 'IN' }] }),
  });
}
