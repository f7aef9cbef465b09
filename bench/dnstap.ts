// The `dnstap` bench step. Input: a Frame Streams file made (once, cached next to the capture)
// from the generated capture's UDP DNS messages, as a resolver would log them: CLIENT_QUERY and
// CLIENT_RESPONSE, the response carrying its query's time. Measured, whole process each:
//   (a) dnslens listening on a unix socket, one bidirectional producer replaying the file:
//       into /dev/null (JSON) and into a fresh embedded ClickHouse;
//   (b) dnslens --dnstapFile, JSON into /dev/null;
//   (c) Debian's golang-dnstap `dnstap -r FILE -q` (and -y) into /dev/null, the reference.
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Ctx, Row, Step } from './run.js';
import { encodeDnstap } from '../test/dnstap-encode.js';
import {
  CONTROL_ACCEPT,
  CONTROL_FINISH,
  CONTROL_READY,
  CONTROL_START,
  CONTROL_STOP,
  controlFrame,
  DNSTAP_CONTENT_TYPE,
} from '../src/inputs/dnstap/framestream.js';

const TARGET_SOCKET = 500_000; // messages/s into /dev/null over a unix socket
const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const rate = (n: number): string => `${int(n)} msg/s`;

// ---------------------------------------------------------------- the input file

interface DnstapInput {
  path: string;
  messages: number;
}

/** The capture's UDP DNS messages as a Frame Streams file; cached beside the capture. */
export function dnstapFromCapture(capture: string): DnstapInput {
  const path = join(dirname(capture), basename(capture, '.pcap') + '.dnstap.fstrm');
  const countFile = path + '.count';
  if (existsSync(path) && existsSync(countFile)) return { path, messages: Number(readFileSync(countFile, 'utf8')) };
  const pcap = readFileSync(capture);
  if (pcap.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${capture}: expected a little-endian microsecond pcap`);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  const queryTimes = new Map<string, [number, number]>(); // client address, port, DNS id -> query time
  let parts: Uint8Array[] = [controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE])];
  let pending = 0;
  let messages = 0;
  const flush = (): void => {
    writeSync(fd, Buffer.concat(parts));
    parts = [];
    pending = 0;
  };
  for (let p = 24; p + 16 <= pcap.length; ) {
    const sec = pcap.readUInt32LE(p);
    const usec = pcap.readUInt32LE(p + 4);
    const incl = pcap.readUInt32LE(p + 8);
    const f = p + 16;
    p = f + incl;
    if (p > pcap.length) break;
    const ethertype = pcap.readUInt16BE(f + 12);
    let ip = f + 14;
    let v6: boolean;
    let udp: number;
    if (ethertype === 0x0800) {
      if (pcap[ip + 9] !== 17) continue;
      v6 = false;
      udp = ip + (pcap[ip] & 15) * 4;
    } else if (ethertype === 0x86dd) {
      if (pcap[ip + 6] !== 17) continue;
      v6 = true;
      udp = ip + 40;
    } else {
      continue;
    }
    const src = pcap.subarray(v6 ? ip + 8 : ip + 12, v6 ? ip + 24 : ip + 16);
    const dst = pcap.subarray(v6 ? ip + 24 : ip + 16, v6 ? ip + 40 : ip + 20);
    const sport = pcap.readUInt16BE(udp);
    const dport = pcap.readUInt16BE(udp + 2);
    const dns = pcap.subarray(udp + 8, Math.min(p, udp + pcap.readUInt16BE(udp + 4)));
    if (dns.length < 12) continue;
    const response = (dns[2] & 0x80) !== 0;
    const time: [number, number] = [sec, usec * 1000];
    const client = response ? dst : src;
    const clientPort = response ? dport : sport;
    const key = `${client.toString('hex')}:${clientPort}:${dns.readUInt16BE(0)}`;
    let queryTime: [number, number] | undefined;
    if (response) {
      queryTime = queryTimes.get(key);
      queryTimes.delete(key);
    } else {
      queryTimes.set(key, time);
      if (queryTimes.size > 200_000) queryTimes.clear(); // unanswered queries must not pile up
    }
    const frame = encodeDnstap({
      identity: 'bench-resolver',
      type: response ? 6 : 5,
      family: v6 ? 2 : 1,
      protocol: 1,
      queryAddress: client,
      responseAddress: response ? src : dst,
      queryPort: clientPort,
      responsePort: response ? sport : dport,
      queryTime: response ? queryTime : time,
      responseTime: response ? time : undefined,
      queryMessage: response ? undefined : dns,
      responseMessage: response ? dns : undefined,
    });
    const len = Buffer.alloc(4);
    len.writeUInt32BE(frame.length);
    parts.push(len, frame);
    messages++;
    if (++pending >= 8192) flush();
  }
  parts.push(controlFrame(CONTROL_STOP));
  flush();
  closeSync(fd);
  renameSync(tmp, path);
  writeFileSync(countFile, String(messages));
  return { path, messages };
}

// ---------------------------------------------------------------- running things

interface Run {
  seconds: number;
  cpu: number | null; // user + system seconds of the child
  code: number | null;
  stderr: string; // the tail
}

interface Spawned {
  stderr: () => string;
  exited: Promise<Run>;
  kill: (sig: NodeJS.Signals) => void;
}

const TIME_BIN = '/usr/bin/time';

function start(cmd: string, args: string[], ctx: Ctx): Spawned {
  const started = process.hrtime.bigint();
  const out = openSync('/dev/null', 'w');
  // /usr/bin/time adds the CPU seconds: steadier than wall time on a machine others share.
  const timeFile = join(tmpdir(), `dnslens-bench-time-${process.pid}-${started}`);
  const argv = existsSync(TIME_BIN) ? [TIME_BIN, '-f', '%U %S', '-o', timeFile, cmd, ...args] : [cmd, ...args];
  const child = spawn(argv[0], argv.slice(1), { cwd: ctx.root, stdio: ['ignore', out, 'pipe'] });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-8192);
  });
  const timer = setTimeout(() => {
    kill('SIGKILL');
    child.kill('SIGKILL');
  }, ctx.timeoutMs);
  const exited = new Promise<Run>((resolve) => {
    const done = (code: number | null) => {
      clearTimeout(timer);
      closeSync(out);
      let cpu: number | null = null;
      try {
        const [u, sy] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
        if (Number.isFinite(u) && Number.isFinite(sy)) cpu = u + sy;
      } catch {
        // killed before time wrote it, or no /usr/bin/time
      }
      rmSync(timeFile, { force: true });
      resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, cpu, code, stderr: err });
    };
    child.once('error', (e) => {
      err += e.message;
      done(null);
    });
    child.once('close', (code) => done(code));
  });
  // Signals go to the measured program, not to /usr/bin/time (which would die and orphan it).
  const kill = (sig: NodeJS.Signals): void => {
    let pids: number[] = [];
    try {
      pids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      // no /proc, or already gone
    }
    if (argv[0] !== TIME_BIN || pids.length === 0) child.kill(sig);
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // exited meanwhile
      }
    }
  };
  return { stderr: () => err, exited, kill };
}

async function waitFor(s: Spawned, text: string, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  let gone = false;
  void s.exited.then(() => (gone = true));
  while (!s.stderr().includes(text)) {
    if (gone || Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** A bidirectional producer: READY, ACCEPT, then the file (START ... STOP) as is, then FINISH. */
function replay(socketPath: string, file: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const sock = connect(socketPath);
    const accept = controlFrame(CONTROL_ACCEPT, [DNSTAP_CONTENT_TYPE]);
    const finish = controlFrame(CONTROL_FINISH);
    let got = Buffer.alloc(0);
    let sending = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`producer: no FINISH after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('connect', () => sock.write(controlFrame(CONTROL_READY, [DNSTAP_CONTENT_TYPE])));
    sock.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (!sending && got.length >= accept.length) {
        if (!got.subarray(0, accept.length).equals(accept)) return reject(new Error('producer: no ACCEPT'));
        sending = true;
        createReadStream(file, { highWaterMark: 1 << 20 }).pipe(sock, { end: false });
      }
      if (got.length >= accept.length + finish.length) {
        clearTimeout(timer);
        sock.end();
        resolve(Number(process.hrtime.bigint() - started) / 1e9);
      }
    });
  });
}

function summaryCount(stderr: string): number {
  return Number((/DNS messages\s+([\d,]+)/.exec(stderr)?.[1] ?? '-1').replace(/,/g, ''));
}

function failed(what: string, r: Run): Row {
  const line = r.stderr.split('\n').filter(Boolean).pop() ?? '';
  return { step: 'dnstap', figure: what, value: 'failed', pass: false, note: `exit ${r.code}: ${line.slice(0, 200)}` };
}

/** dnslens on a unix socket with these output flags; the file replayed into it; SIGTERM after FINISH. */
async function socketRun(ctx: Ctx, input: DnstapInput, dir: string, output: string[]): Promise<{ run: Run; ingest: number } | Row> {
  const sockPath = join(dir, 'dnstap.sock');
  const main = join(ctx.root, 'dist', 'src', 'cli', 'main.js');
  const s = start(process.execPath, [main, '--dnstapSocket', `unix://${sockPath}`, ...output], ctx);
  if (!(await waitFor(s, 'dnstap: listening', 60_000))) {
    s.kill('SIGKILL');
    return failed('listener start', await s.exited);
  }
  let ingest: number;
  try {
    ingest = await replay(sockPath, input.path, ctx.timeoutMs);
  } catch (e) {
    s.kill('SIGKILL');
    return failed(`replay: ${(e as Error).message}`, await s.exited);
  }
  s.kill('SIGTERM'); // flush and exit: part of the measured whole-process time
  const run = await s.exited;
  if (run.code !== 0) return failed('dnslens', run);
  return { run, ingest };
}

// Output sinks: JSON (every field, the common case) and a one-field template (the least output
// work, so the figure is mostly ingest: Frame Streams, protobuf, DNS decode, pipeline).
const JSON_OUT = ['--stdoutOutputType', '1', '--stdoutOutputFormat', 'json'];
const CHEAP_OUT = ['--stdoutOutputType', '1', '--stdoutOutputFormat', 'gotemplate', '--stdoutOutputGoTemplate', '{{.qname}}'];

const cpuNote = (r: Run, n: number): string => (r.cpu === null ? '' : `, CPU ${r.cpu.toFixed(2)} s = ${rate(n / r.cpu)} per CPU second`);

export const dnstapStep: Step = {
  name: 'dnstap',
  title: 'dnstap: unix-socket ingest (to /dev/null, to embedded ClickHouse), --dnstapFile, golang-dnstap on the same file',
  async run(ctx) {
    const main = join(ctx.root, 'dist', 'src', 'cli', 'main.js');
    if (!existsSync(main)) return [{ step: 'dnstap', figure: 'messages/s', value: 'not run', note: `${main} is not built` }];
    const t0 = Date.now();
    const input = dnstapFromCapture(ctx.capture);
    const n = input.messages;
    const rows: Row[] = [
      { step: 'dnstap', figure: 'input', value: `${int(n)} msgs`, note: `${basename(input.path)}: the capture's UDP messages as CLIENT_QUERY/RESPONSE (${((Date.now() - t0) / 1000).toFixed(1)} s to prepare)` },
    ];
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-bench-dnstap-'));
    try {
      // (a) unix socket, whole process: start, replay (READY .. FINISH), SIGTERM, flush, exit.
      const socketRates = new Map<string, number>();
      for (const [label, out] of [['one-field template', CHEAP_OUT], ['JSON', JSON_OUT]] as const) {
        let best: { run: Run; ingest: number } | null = null;
        for (let i = 0; i < ctx.repeat; i++) {
          const r = await socketRun(ctx, input, dir, [...out]);
          if ('figure' in r) return [...rows, r];
          if (best === null || r.run.seconds < best.run.seconds) best = r;
        }
        const b = best as { run: Run; ingest: number };
        const got = summaryCount(b.run.stderr);
        const mps = n / b.run.seconds;
        socketRates.set(label, mps);
        const row: Row = { step: 'dnstap', figure: `unix socket -> ${label} > /dev/null`, value: rate(mps), note: `whole process ${b.run.seconds.toFixed(2)} s${cpuNote(b.run, n)}; replay ${b.ingest.toFixed(2)} s; ${int(got)} messages counted` };
        if (label === 'one-field template') Object.assign(row, { target: `≥ ${int(TARGET_SOCKET)} msg/s`, pass: mps >= TARGET_SOCKET && got === n });
        else Object.assign(row, { target: `= ${int(n)} messages`, pass: got === n });
        rows.push(row);
      }
      ctx.results.set('dnstap.socket.mps', socketRates.get('one-field template') as number);

      const dataDir = join(dir, 'data');
      const ch = await socketRun(ctx, input, dir, ['--clickhouseOutputType', '1', '--dataDir', dataDir]);
      if ('figure' in ch) rows.push(ch);
      else {
        const got = summaryCount(ch.run.stderr);
        rows.push({
          step: 'dnstap',
          figure: 'unix socket -> embedded ClickHouse',
          value: rate(n / ch.run.seconds),
          target: `= ${int(n)} messages`,
          pass: got === n,
          note: `whole process ${ch.run.seconds.toFixed(2)} s (schema migration, rollups)${cpuNote(ch.run, n)}; replay ${ch.ingest.toFixed(2)} s`,
        });
      }

      // (b) --dnstapFile and (c) golang-dnstap on the same file, like for like: short text lines
      // (-q vs one-field template) and full records (-j JSON vs JSON).
      const file = new Map<string, Run>();
      for (const [label, out] of [['one-field template', CHEAP_OUT], ['JSON', JSON_OUT]] as const) {
        const r = await start(process.execPath, [main, '--dnstapFile', input.path, ...out], ctx).exited;
        if (r.code !== 0) {
          rows.push(failed(`--dnstapFile, ${label}`, r));
          continue;
        }
        file.set(label, r);
        rows.push({ step: 'dnstap', figure: `--dnstapFile -> ${label} > /dev/null`, value: rate(n / r.seconds), note: `${r.seconds.toFixed(2)} s${cpuNote(r, n)}; ${int(summaryCount(r.stderr))} messages` });
      }
      for (const [flag, ours] of [['-q', 'one-field template'], ['-j', 'JSON'], ['-y', null]] as const) {
        const g = await start('dnstap', ['-r', input.path, flag], ctx).exited;
        if (g.code !== 0) {
          rows.push({ step: 'dnstap', figure: `golang-dnstap -r FILE ${flag}`, value: 'failed', note: g.stderr.split('\n').filter(Boolean).pop() });
          continue;
        }
        rows.push({ step: 'dnstap', figure: `golang-dnstap -r FILE ${flag} > /dev/null`, value: rate(n / g.seconds), note: `${g.seconds.toFixed(2)} s${cpuNote(g, n)}; the reference` });
        const mine = ours === null ? undefined : file.get(ours);
        if (mine) {
          const ratio = g.seconds / mine.seconds;
          rows.push({ step: 'dnstap', figure: `--dnstapFile ${ours} / golang ${flag}`, value: `${ratio.toFixed(2)}×`, target: '> 1×', pass: ratio > 1, note: mine.cpu && g.cpu ? `CPU-time ratio ${(g.cpu / mine.cpu).toFixed(2)}×` : undefined });
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
