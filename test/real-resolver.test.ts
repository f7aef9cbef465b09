// Real traffic end to end: dig asks local Unbound, dnsmasq and named, tcpdump captures it
// on four link types, dnslens reads the files, and every field of every event must equal
// what tshark reports for the same frame.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsAnswer, DnsEvent } from '../src/event.js';
import { decodeFrame } from '../src/decode/packet.js';
import { readCapture } from '../src/inputs/pcap/reader.js';
import { Stats } from '../src/stats.js';
import { describeWithPeers } from './peers.js';
import { DNSMASQ_ZONE, NAMED_ZONE, UNBOUND_AUTH_ZONE, UNBOUND_ZONE, startDnsmasq, startNamed, startUnbound, type Resolver } from './resolvers.js';
import { dnsPortArgs, tsharkDns, type TsharkAnswer, type TsharkMsg } from './tshark.js';

const execFileP = promisify(execFile);

const TYPE_NAMES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 64: 'SVCB', 65: 'HTTPS', 257: 'CAA' };
function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

interface Query {
  server: '127.0.0.1' | '::1';
  name: string;
  type: string;
  opts?: string[];
}

// One dig per query, so each sends exactly one UDP query (no retries, no search list).
type Kind = 'unbound' | 'dnsmasq' | 'named';
const START: Record<Kind, () => Promise<Resolver>> = { unbound: startUnbound, dnsmasq: startDnsmasq, named: startNamed };

function queries(kind: Kind): Query[] {
  const v4 = '127.0.0.1' as const;
  const v6 = '::1' as const;
  if (kind === 'unbound') {
    const L = UNBOUND_ZONE;
    const A = UNBOUND_AUTH_ZONE;
    return [
      { server: v4, name: `a.${L}`, type: 'A' },
      { server: v4, name: `a.${L}`, type: 'AAAA' },
      { server: v4, name: L, type: 'MX' },
      { server: v4, name: `txt.${L}`, type: 'TXT' },
      { server: v4, name: `web.${L}`, type: 'HTTPS' },
      { server: v4, name: `svc.${L}`, type: 'SVCB' },
      { server: v4, name: `_sip._udp.${L}`, type: 'SRV' },
      { server: v4, name: '1.2.0.192.in-addr.arpa', type: 'PTR' },
      { server: v4, name: `alias.${L}`, type: 'A' },
      { server: v4, name: `c1.${A}`, type: 'A' }, // three CNAMEs, then the A
      { server: v4, name: L, type: 'CAA' },
      { server: v4, name: L, type: 'NS' },
      { server: v4, name: L, type: 'SOA' },
      { server: v4, name: `nope.${L}`, type: 'A' }, // NXDOMAIN, local zone
      { server: v4, name: `missing.${A}`, type: 'AAAA' }, // NXDOMAIN, through the iterator
      { server: v4, name: 'example.com', type: 'A' }, // REFUSED: outside the local zones
      { server: v4, name: `a.${L}`, type: 'A', opts: ['+dnssec'] },
      { server: v4, name: `a.${L}`, type: 'A', opts: ['+subnet=192.0.2.0/24'] },
      { server: v4, name: `a.${L}`, type: 'AAAA', opts: ['+subnet=2001:db8::/56'] },
      { server: v4, name: `a.${L}`, type: 'A', opts: ['+bufsize=1232'] },
      { server: v4, name: `a.${L}`, type: 'A', opts: ['+bufsize=512', '+cd'] },
      { server: v4, name: `a.${L}`, type: 'A', opts: ['+norecurse'] },
      { server: v4, name: `a.${L}`, type: 'A', opts: ['+noedns', '+noadflag'] },
      { server: v4, name: `A.Lz.TeSt`, type: 'A' }, // mixed case: the event is lower case
      { server: v4, name: `C1.Az.TEST`, type: 'AAAA' },
      { server: v6, name: `a.${L}`, type: 'AAAA' },
      { server: v6, name: `TXT.${L.toUpperCase()}`, type: 'TXT', opts: ['+dnssec', '+subnet=192.0.2.0/24'] },
      { server: v6, name: `nope.${L}`, type: 'MX' },
    ];
  }
  if (kind === 'named') {
    const Z = NAMED_ZONE;
    return [
      { server: v4, name: `www.${Z}`, type: 'A' }, // NS in authority, glue A and AAAA in additional
      { server: v4, name: `www.${Z}`, type: 'AAAA' },
      { server: v4, name: Z, type: 'MX' },
      { server: v4, name: `txt.${Z}`, type: 'TXT' }, // a tab inside: \009
      { server: v4, name: `alias.${Z}`, type: 'A' }, // two CNAMEs, then the A
      { server: v4, name: `_imaps._tcp.${Z}`, type: 'SRV' },
      { server: v4, name: '61.2.0.192.in-addr.arpa', type: 'PTR' },
      { server: v4, name: Z, type: 'CAA' },
      { server: v4, name: `web.${Z}`, type: 'HTTPS' },
      { server: v4, name: Z, type: 'NS' },
      { server: v4, name: Z, type: 'SOA' },
      { server: v4, name: `nope.${Z}`, type: 'A' }, // NXDOMAIN with the SOA in authority
      { server: v4, name: `www.${Z}`, type: 'TXT' }, // NODATA
      { server: v4, name: 'example.com', type: 'A' }, // REFUSED: not authoritative, no recursion
      { server: v4, name: `www.${Z}`, type: 'A', opts: ['+dnssec', '+norecurse'] },
      { server: v4, name: `www.${Z}`, type: 'A', opts: ['+subnet=192.0.2.0/24', '+bufsize=512'] },
      { server: v4, name: `www.${Z}`, type: 'A', opts: ['+noedns', '+cd'] },
      { server: v4, name: 'WwW.Bd.TeSt', type: 'AAAA' },
      { server: v6, name: `www.${Z}`, type: 'AAAA' },
      { server: v6, name: `MAIL.${Z}`, type: 'A', opts: ['+subnet=2001:db8::/56'] },
    ];
  }
  const D = DNSMASQ_ZONE;
  return [
    { server: v4, name: `addr.${D}`, type: 'A' },
    { server: v4, name: `addr.${D}`, type: 'AAAA' },
    { server: v4, name: `host.${D}`, type: 'AAAA' },
    { server: v4, name: D, type: 'MX' },
    { server: v4, name: `txt.${D}`, type: 'TXT' },
    { server: v4, name: `_sip._udp.${D}`, type: 'SRV' },
    { server: v4, name: '11.2.0.192.in-addr.arpa', type: 'PTR' },
    { server: v4, name: `alias.${D}`, type: 'A' }, // two CNAMEs, then the A
    { server: v4, name: D, type: 'CAA' },
    { server: v4, name: `web.${D}`, type: 'HTTPS' },
    { server: v4, name: `nope.${D}`, type: 'A' }, // NXDOMAIN
    { server: v4, name: 'example.com', type: 'A' }, // REFUSED: no upstream
    { server: v4, name: `host.${D}`, type: 'A', opts: ['+dnssec'] },
    { server: v4, name: `host.${D}`, type: 'A', opts: ['+subnet=192.0.2.0/24'] },
    { server: v4, name: `host.${D}`, type: 'A', opts: ['+bufsize=1232', '+cd'] },
    { server: v4, name: `host.${D}`, type: 'A', opts: ['+norecurse'] },
    { server: v4, name: `host.${D}`, type: 'A', opts: ['+noedns'] },
    { server: v4, name: 'HoSt.Dm.TeSt', type: 'A' },
    { server: v6, name: `host.${D}`, type: 'AAAA' },
    { server: v6, name: `AlIaS.${D}`, type: 'AAAA', opts: ['+subnet=2001:db8::/56'] },
  ];
}

async function dig(port: number, q: Query): Promise<void> {
  const args = [`@${q.server}`, '-p', String(port), '+time=2', '+tries=1', '+nosearch', ...(q.opts ?? []), q.name, q.type];
  const { stdout } = await execFileP('dig', args, { timeout: 10_000 });
  // A dig that got no answer would leave the expected counts short; say so here.
  if (!stdout.includes('->>HEADER<<-')) throw new Error(`dig ${args.join(' ')} got no answer:\n${stdout}`);
}

// The link types captured: tcpdump writes pcap; editcap turns the lo one into pcapng.
const CAPTURES: { label: string; args: string[] }[] = [
  { label: 'lo, Ethernet (pcap)', args: ['-i', 'lo'] },
  { label: 'any, Linux SLL (pcap)', args: ['-i', 'any', '-y', 'LINUX_SLL'] },
  { label: 'any, Linux SLL2 (pcap)', args: ['-i', 'any', '-y', 'LINUX_SLL2'] },
];
const PCAPNG_LABEL = 'lo, Ethernet (pcapng via editcap)';
const LINK_TYPES: Record<string, number> = {
  [CAPTURES[0].label]: 1,
  [CAPTURES[1].label]: 113,
  [CAPTURES[2].label]: 276,
  [PCAPNG_LABEL]: 1,
};

// tcpdump with -c stops by itself after the expected packets; SIGINT is the fallback.
interface Running {
  done: Promise<string>;
  interrupt(): void;
}

// Any tcpdump a failed test leaves behind is ended with the test process.
const tcpdumps = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of tcpdumps) c.kill('SIGKILL');
});

async function startTcpdump(file: string, args: string[], port: number, packets: number): Promise<Running> {
  const child = spawn('tcpdump', ['--immediate-mode', '-U', '-n', '-c', String(packets), ...args, '-w', file, 'port', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  tcpdumps.add(child);
  let err = '';
  const done = new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, sig) => {
      tcpdumps.delete(child);
      if (code === 0 || sig === 'SIGINT') resolve(err);
      else reject(new Error(`tcpdump ${args.join(' ')}: ${code ?? sig}: ${err}`));
    });
  });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump ${args.join(' ')} not listening after 10 s: ${err}`)), 10_000);
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString();
      if (err.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
    done.catch((e: unknown) => {
      clearTimeout(t);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
  return { done, interrupt: () => child.kill('SIGINT') };
}

/** Waits for tcpdump to stop by itself, interrupting it after ms. */
async function waitFor(r: Running, ms: number): Promise<{ log: string; complete: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const first = await Promise.race([r.done.then(() => 'done' as const), late]);
  clearTimeout(timer);
  if (first === 'late') r.interrupt();
  return { log: (await r.done).replace(/\s+/g, ' '), complete: first === 'done' };
}

interface Round {
  files: Map<string, string>; // capture label -> file
  logs: Map<string, string>; // capture label -> tcpdump's closing stderr
  complete: boolean; // every tcpdump saw all the packets it waited for
}

/** Starts the tcpdumps, sends every query, and waits for each tcpdump to stop. */
async function captureRound(dir: string, port: number, sent: Query[], attempt: number): Promise<Round> {
  const round: Round = { files: new Map(), logs: new Map(), complete: true };
  const running: Running[] = [];
  try {
    for (const [i, c] of CAPTURES.entries()) {
      const file = join(dir, `capture-${attempt}-${i}.pcap`);
      round.files.set(c.label, file);
      running.push(await startTcpdump(file, c.args, port, 2 * sent.length));
    }
    for (const q of sent) await dig(port, q);
  } finally {
    for (const [i, r] of running.entries()) {
      const { log, complete } = await waitFor(r, 5000);
      round.logs.set(CAPTURES[i].label, log);
      round.complete &&= complete;
    }
  }
  const lo = round.files.get(CAPTURES[0].label) ?? '';
  const ng = join(dir, `capture-${attempt}-lo.pcapng`);
  await execFileP('editcap', ['-F', 'pcapng', lo, ng], { timeout: 30_000 });
  round.files.set(PCAPNG_LABEL, ng);
  round.logs.set(PCAPNG_LABEL, round.logs.get(CAPTURES[0].label) ?? '');
  return round;
}

interface Decoded {
  frame: number;
  index: number;
  ev: DnsEvent;
}

async function decodeFile(file: string, port: number, stats: Stats): Promise<{ events: Decoded[]; frames: number; linkTypes: number[] }> {
  const ctx = { stats, ports: new Set([port]), server: 'resolver-test', inputKind: 'pcap' as const, inputName: file };
  const events: Decoded[] = [];
  let frame = 0;
  const linkTypes = new Set<number>();
  const out: DnsEvent[] = [];
  for await (const batch of readCapture(file, stats)) {
    for (const f of batch) {
      frame++;
      linkTypes.add(f.linkType);
      out.length = 0;
      decodeFrame(f, ctx, out);
      out.forEach((ev, index) => events.push({ frame, index, ev }));
    }
  }
  return { events, frames: frame, linkTypes: [...linkTypes] };
}

// Answer data is compared for the types tshark's oracle renders; the others by type, TTL, name.
function answerView(a: DnsAnswer | TsharkAnswer, compared: boolean): TsharkAnswer {
  return { name: a.name, type: a.type, class: a.class, ttl: a.ttl, data: compared ? a.data : null };
}

function eventView(ev: DnsEvent, want: TsharkMsg): Record<string, unknown> {
  return {
    timeSec: ev.timeSec,
    timeNsec: ev.timeNsec,
    ipVersion: ev.ipVersion,
    srcIp: ev.srcIp,
    dstIp: ev.dstIp,
    srcPort: ev.srcPort,
    dstPort: ev.dstPort,
    transport: ev.transport,
    id: ev.id,
    qr: ev.qr,
    opcode: ev.opcode,
    aa: ev.aa,
    tc: ev.tc,
    rd: ev.rd,
    ra: ev.ra,
    ad: ev.ad,
    cd: ev.cd,
    rcode: ev.rcode,
    qname: ev.qname,
    qtype: ev.qtype,
    qclass: ev.qclass,
    qdCount: ev.qdCount,
    anCount: ev.anCount,
    nsCount: ev.nsCount,
    arCount: ev.arCount,
    answers: ev.answers.map((a, i) => answerView(a, want.answers[i]?.data !== null)),
    ednsPresent: ev.ednsPresent,
    ednsUdpSize: ev.ednsUdpSize,
    ednsDo: ev.ednsDo,
    ednsClientSubnet: ev.ednsClientSubnet,
    size: ev.size,
  };
}

function tsharkView(m: TsharkMsg): Record<string, unknown> {
  return {
    timeSec: m.timeSec,
    timeNsec: m.timeNsec,
    ipVersion: m.ipVersion,
    srcIp: m.srcIp,
    dstIp: m.dstIp,
    srcPort: m.srcPort,
    dstPort: m.dstPort,
    transport: m.transport,
    id: m.id,
    qr: m.qr,
    opcode: m.opcode,
    aa: m.aa,
    tc: m.tc,
    rd: m.rd,
    ra: m.ra,
    ad: m.ad,
    cd: m.cd,
    rcode: m.rcode,
    qname: m.qname,
    qtype: m.qtype,
    qclass: m.qclass,
    qdCount: m.qdCount,
    anCount: m.anCount,
    nsCount: m.nsCount,
    arCount: m.arCount,
    answers: m.answers.map((a) => answerView(a, a.data !== null)),
    ednsPresent: m.ednsPresent,
    ednsUdpSize: m.ednsUdpSize,
    ednsDo: m.ednsDo,
    ednsClientSubnet: m.ednsClientSubnet,
    size: m.size,
  };
}

describeWithPeers(
  'real resolvers: dig -> tcpdump -> dnslens vs tshark',
  ['tshark', 'tcpdump', 'editcap', 'dig', 'unbound', 'dnsmasq', 'named'],
  () => {
    for (const kind of ['unbound', 'dnsmasq', 'named'] as const) {
      describe(kind, () => {
        const sent = queries(kind);
        let round: Round | undefined;
        let resolver: Resolver | undefined;
        let dir = '';

        beforeAll(async () => {
          dir = mkdtempSync(join(tmpdir(), `dnslens-capture-${kind}-`));
          resolver = await START[kind]();
          // A loaded machine can make a just-started tcpdump miss a packet; one more round then.
          for (let attempt = 1; attempt <= 2; attempt++) {
            round = await captureRound(dir, resolver.port, sent, attempt);
            if (round.complete) break;
            console.warn(`[${kind}] capture round ${attempt} missed packets: ${[...round.logs.values()].join(' | ')}`);
          }
        });

        afterAll(async () => {
          await resolver?.stop();
          if (dir) rmSync(dir, { recursive: true, force: true });
        });

        for (const label of [...CAPTURES.map((c) => c.label), PCAPNG_LABEL]) {
          it(`${label}: every event equals tshark's message`, async () => {
            const file = round?.files.get(label) ?? '';
            const port = resolver?.port ?? 0;
            const stats = new Stats();
            const [want, got] = await Promise.all([tsharkDns(file, dnsPortArgs([port])), decodeFile(file, port, stats)]);

            // What was sent: one query and one response per dig, nothing else on the port.
            const asked = sent.map((q) => `${q.name} ${q.type}`).sort();
            const why = `tcpdump said: ${round?.logs.get(label) ?? ''}`;
            expect(want.filter((m) => !m.qr).map((m) => `${m.qnameRaw} ${typeName(m.qtype)}`).sort(), why).toEqual(asked);
            expect(want.filter((m) => m.qr).map((m) => `${m.qnameRaw} ${typeName(m.qtype)}`).sort(), why).toEqual(asked);
            expect(got.events.filter((d) => !d.ev.qr)).toHaveLength(sent.length);
            expect(got.events.filter((d) => d.ev.qr)).toHaveLength(sent.length);
            expect(got.frames).toBe(2 * sent.length);
            expect(stats.packets).toBe(2 * sent.length);
            expect(stats.dnsMessages).toBe(2 * sent.length);
            expect(stats.malformed).toBe(0);
            expect(stats.notDns).toBe(0);
            expect(stats.damage).toBeNull();
            expect(want.every((m) => !m.malformed && !m.qnameLossy)).toBe(true);

            // Every field, message by message, in frame order.
            expect(got.events.map((d) => `${d.frame}:${d.index}`)).toEqual(want.map((m) => `${m.frame}:${m.index}`));
            got.events.forEach((d, i) => {
              const m = want[i];
              expect(eventView(d.ev, m), `frame ${m.frame} (${m.qr ? 'response' : 'query'} ${m.qnameRaw} ${m.qtype})`).toEqual(tsharkView(m));
              expect(d.ev.server).toBe('resolver-test');
              expect(d.ev.inputKind).toBe('pcap');
              expect(d.ev.inputName).toBe(file);
              expect(d.ev.responseTimeUs).toBeNull();
            });

            // The capture really holds what the comparison is meant to cover.
            expect(got.linkTypes).toEqual([LINK_TYPES[label]]);
            const qs = want.filter((m) => !m.qr);
            const rs = want.filter((m) => m.qr);
            const mixed = sent.filter((q) => q.name !== q.name.toLowerCase()).length;
            expect(qs.filter((m) => m.qnameRaw !== m.qname)).toHaveLength(mixed);
            expect(qs.filter((m) => m.ednsDo)).toHaveLength(sent.filter((q) => q.opts?.includes('+dnssec')).length);
            expect(qs.filter((m) => m.ednsClientSubnet !== '').map((m) => m.ednsClientSubnet).sort()).toEqual(
              sent.flatMap((q) => q.opts?.filter((o) => o.startsWith('+subnet=')).map((o) => o.slice(8)) ?? []).sort(),
            );
            expect(qs.filter((m) => !m.ednsPresent)).toHaveLength(sent.filter((q) => q.opts?.includes('+noedns')).length);
            expect(qs.filter((m) => m.ednsUdpSize === 512)).toHaveLength(sent.filter((q) => q.opts?.includes('+bufsize=512')).length);
            expect(qs.filter((m) => m.cd)).toHaveLength(sent.filter((q) => q.opts?.includes('+cd')).length);
            expect(qs.filter((m) => !m.rd)).toHaveLength(sent.filter((q) => q.opts?.includes('+norecurse')).length);
            expect(want.filter((m) => m.ipVersion === 6)).toHaveLength(2 * sent.filter((q) => q.server === '::1').length);
            expect(rs.some((m) => m.rcode === 3)).toBe(true); // NXDOMAIN
            expect(rs.some((m) => m.rcode === 5)).toBe(true); // REFUSED
            expect(rs.some((m) => m.aa)).toBe(true);
            const types = new Set(rs.flatMap((m) => m.answers.map((a) => a.type)));
            for (const t of [1, 28, 5, 15, 16, 12, 33, 65, 257]) expect(types, `answer type ${t}`).toContain(t);
            expect(rs.some((m) => m.answers.filter((a) => a.type === 5).length >= 2)).toBe(true); // a CNAME chain
            expect(rs.some((m) => m.answers.some((a) => a.type === 16 && a.data?.includes('\\"') && a.data.includes('" "')))).toBe(true);
          });
        }
      });
    }
  },
  { root: true },
);
