// Live capture: one `tcpdump -U -w -` child per interface, its pcap stream parsed by the file
// reader. Chosen by measurement (README "Live capture"): tcpdump keeps up with no kernel drops at
// the rates the machine can generate and costs less CPU than the libpcap bindings for Node.
// tcpdump prints its counters on stderr when sent SIGUSR1 and when it exits; both are parsed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Frame } from '../../frame.js';
import { readCapture } from '../pcap/reader.js';
import type { Stats } from '../../stats.js';
import { log } from '../../log.js';

export interface LiveOptions {
  interfaces: string[];
  filter: string; // tcpdump syntax, compiled into the kernel; '' = defaultFilter(ports)
  ports: number[];
  promiscuous: boolean;
  bufferMb: number; // kernel capture buffer (tcpdump -B)
  statsIntervalMs: number; // how often interface and drop counters are read (0 = only at the end)
  signal?: AbortSignal; // stops every capture
}

/** Counters of one interface: tcpdump's (since its start) and the kernel's interface statistics (deltas). */
export interface InterfaceCounters {
  captured: number; // "packets captured": written by tcpdump
  read: number; // frames dnslens read from it
  received: number; // "packets received by filter"
  kernelDrops: number; // "packets dropped by kernel": lost by the capture
  interfaceDrops: number; // "packets dropped by interface", as libpcap reports it
  rxPackets: number; // /sys/class/net/IFACE/statistics, since the capture started
  txPackets: number;
  rxDropped: number;
}

export interface LiveCapture {
  iface: string;
  frames: AsyncIterable<Frame[]>;
  counters(): InterfaceCounters;
}

export interface LiveCaptures {
  captures: LiveCapture[];
  /** Stops every child, waits until their output is drained and their counters are read. */
  close(): Promise<void>;
}

const STARTUP_MS = 10_000; // tcpdump says "listening on" once its filter is in the kernel
const STOP_MS = 5_000; // then SIGKILL
// tcpdump asks libpcap for a 1 s buffer timeout: the kernel hands a capture block over at the latest then.
const DRAIN_MS = 1_100;
const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;
const SBIN = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** The default kernel filter: DNS ports over UDP and TCP, and IP fragments (for reassembly):
 * IPv4 fragments after the first (the first carries the ports) and every IPv6 fragment. */
export function defaultFilter(ports: number[]): string {
  const p = ports.map((n) => `port ${n}`).join(' or ');
  return `((udp or tcp) and (${p})) or (ip[6:2] & 0x1fff != 0) or (ip6[6] == 44)`;
}

/** Interfaces the kernel knows, from /sys/class/net. */
export function listInterfaces(): string[] {
  try {
    return readdirSync('/sys/class/net').sort();
  } catch {
    return [];
  }
}

/** Path of the tcpdump binary, or null. */
export function findTcpdump(): string | null {
  return findProgram('tcpdump');
}

/** Path of an executable, or null; sbin directories are searched too (often not on a user's PATH). */
export function findProgram(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN];
  for (const d of dirs) {
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Names of the capture capabilities this process lacks in its effective set (CapEff). */
export function missingCapabilities(status = readProcStatus()): string[] {
  const m = /^CapEff:\s*([0-9a-f]+)$/im.exec(status);
  if (!m) return [];
  const eff = BigInt(`0x${m[1]}`);
  const missing: string[] = [];
  if ((eff & (1n << BigInt(CAP_NET_RAW))) === 0n) missing.push('CAP_NET_RAW');
  if ((eff & (1n << BigInt(CAP_NET_ADMIN))) === 0n) missing.push('CAP_NET_ADMIN');
  return missing;
}

function readProcStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}

/** The tcpdump command line for one interface. */
export function tcpdumpArgs(iface: string, opts: Pick<LiveOptions, 'filter' | 'ports' | 'promiscuous' | 'bufferMb'>): string[] {
  const args = ['-U', '-w', '-', '-s', '0', '-i', iface, '-B', String(opts.bufferMb * 1024)];
  if (!opts.promiscuous) args.push('-p');
  args.push(opts.filter.trim() !== '' ? opts.filter : defaultFilter(opts.ports));
  return args;
}

// tcpdump's counter lines; "packet" is singular for 1.
const CAPTURED = /(\d+) packets? captured/g;
const RECEIVED = /(\d+) packets? received by filter/g;
const KERNEL = /(\d+) packets? dropped by kernel/g;
const IFDROP = /(\d+) packets? dropped by interface/g;

function lastNumber(re: RegExp, text: string): number | null {
  let last: number | null = null;
  for (const m of text.matchAll(re)) last = Number(m[1]);
  return last;
}

function sysCounter(iface: string, name: string): number {
  try {
    return Number(readFileSync(`/sys/class/net/${iface}/statistics/${name}`, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Starts one tcpdump per interface; resolves once every one is capturing. Kernel drops go to
 * stats.dropped('kernel', iface) when the captures end. */
export async function openLive(opts: LiveOptions, stats: Stats): Promise<LiveCaptures> {
  const tcpdump = findTcpdump();
  if (tcpdump === null) {
    throw new Error('live capture runs tcpdump, which is not installed: apt-get install tcpdump (Debian, Ubuntu; dnf install tcpdump elsewhere)');
  }
  const known = listInterfaces();
  const unknown = opts.interfaces.filter((i) => !known.includes(i));
  if (unknown.length > 0) {
    throw new UnknownInterfaceError(`no such network interface: ${unknown.join(', ')} (interfaces here: ${known.join(', ') || 'none found in /sys/class/net'})`);
  }
  const children: Child[] = [];
  try {
    for (const iface of new Set(opts.interfaces)) children.push(await startChild(tcpdump, iface, opts, stats));
  } catch (e) {
    await Promise.all(children.map((c) => c.close()));
    throw e;
  }
  let timer: NodeJS.Timeout | null = null;
  if (opts.statsIntervalMs > 0) {
    timer = setInterval(() => children.forEach((c) => c.poll()), opts.statsIntervalMs);
    timer.unref();
  }
  const stopAll = (): void => {
    if (timer) clearInterval(timer);
    for (const c of children) void c.stop();
  };
  // Abort stops the children; their streams then end, so the captures drain and end by themselves.
  opts.signal?.addEventListener('abort', stopAll, { once: true });
  if (opts.signal?.aborted) stopAll();
  const close = async (): Promise<void> => {
    stopAll();
    await Promise.all(children.map((c) => c.close()));
  };
  return {
    captures: children.map((c) => ({ iface: c.iface, frames: c.frames, counters: () => c.counters })),
    close,
  };
}

/** A bad --devName or --filter: the caller turns them into configuration errors. */
export class UnknownInterfaceError extends Error {}
export class BadFilterError extends Error {}

interface Child {
  iface: string;
  frames: AsyncIterable<Frame[]>;
  counters: InterfaceCounters;
  poll(): void;
  /** Stops capturing; what was captured is still read until the output ends. */
  stop(): Promise<void>;
  /** After reading is over: stops the child and takes its last counters. */
  close(): Promise<void>;
}

// Every child started, so a crash of dnslens does not leave captures running.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

async function startChild(tcpdump: string, iface: string, opts: LiveOptions, stats: Stats): Promise<Child> {
  // Its own process group: a terminal's Ctrl-C reaches dnslens only, which then stops the
  // children in order and drains what they captured.
  const { out, writeFd } = kernelPipe();
  let proc: ChildProcess & { stderr: NonNullable<ChildProcess['stderr']> };
  try {
    proc = spawn(tcpdump, tcpdumpArgs(iface, opts), { stdio: ['ignore', writeFd, 'pipe'], detached: true }) as typeof proc;
  } finally {
    closeSync(writeFd); // the child holds its copy; the read end sees EOF when the child exits
  }
  running.add(proc);
  let stderr = '';
  let stopping = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.once('exit', (code, signal) => resolve({ code, signal }));
    proc.once('error', () => resolve({ code: null, signal: null }));
  });
  let spawnError: Error | null = null;
  proc.once('error', (e) => {
    spawnError = e;
  });
  const sys0 = { rx: sysCounter(iface, 'rx_packets'), tx: sysCounter(iface, 'tx_packets'), drop: sysCounter(iface, 'rx_dropped') };
  const counters: InterfaceCounters = { captured: 0, read: 0, received: 0, kernelDrops: 0, interfaceDrops: 0, rxPackets: 0, txPackets: 0, rxDropped: 0 };
  let reported = 0; // kernel drops already logged
  const readCounters = (): void => {
    counters.captured = lastNumber(CAPTURED, stderr) ?? counters.captured;
    counters.received = lastNumber(RECEIVED, stderr) ?? counters.received;
    counters.kernelDrops = lastNumber(KERNEL, stderr) ?? counters.kernelDrops;
    counters.interfaceDrops = lastNumber(IFDROP, stderr) ?? counters.interfaceDrops;
    counters.rxPackets = sysCounter(iface, 'rx_packets') - sys0.rx;
    counters.txPackets = sysCounter(iface, 'tx_packets') - sys0.tx;
    counters.rxDropped = sysCounter(iface, 'rx_dropped') - sys0.drop;
    // Counter lines are all we need of old output: keep the text short.
    if (stderr.length > 64_000) stderr = stderr.slice(-16_000);
  };

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump on ${iface} did not start within ${STARTUP_MS / 1000} s: ${stderr.trim()}`)), STARTUP_MS);
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (/listening on /.test(stderr)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(startError(iface, tcpdump, spawnError, code, signal, stderr));
    });
  });
  try {
    await ready;
  } catch (e) {
    running.delete(proc);
    proc.kill('SIGKILL');
    out.destroy();
    throw e;
  }
  log.info({ iface, filter: opts.filter || defaultFilter(opts.ports), promiscuous: opts.promiscuous }, 'capturing');

  const poll = (): void => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGUSR1'); // tcpdump answers with one counter line on stderr
    // The answer arrives with the next stderr read: log what the previous poll asked for.
    readCounters();
    const { received, kernelDrops } = counters;
    const fields = { iface, received, kernelDrops, rxPackets: counters.rxPackets, rxDropped: counters.rxDropped, captured: stats.packets };
    if (kernelDrops > reported) {
      log.warn(fields, 'kernel dropped captured packets (the capture does not keep up)');
      reported = kernelDrops;
    } else log.debug(fields, 'capture counters');
  };

  // Once the child has exited: its last counters, kernel drops into stats (once).
  let finished: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  const finish = () =>
    (finished ??= (async () => {
      const r = await exited;
      running.delete(proc);
      // stderr may still hold the last lines after 'exit': wait for the stream to close
      if (!proc.stderr.closed) await new Promise<void>((res) => proc.stderr.once('close', () => res()));
      readCounters();
      // Recorded even when 0: the summary then shows that the capture kept up.
      stats.dropped('kernel', iface, counters.kernelDrops);
      log.info({ iface, ...counters }, 'capture ended');
      return r;
    })());

  // SIGTERM: tcpdump flushes, prints its counters and exits 0; its stdout then ends. It drops
  // what the kernel still holds in the capture block it has not handed over yet, so to drain,
  // wait until the kernel's block timeout has passed first.
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const stop = async (drain: boolean): Promise<void> => {
    stopping = true;
    if (drain && alive()) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (t = setTimeout(r, DRAIN_MS)))]);
      clearTimeout(t);
    }
    if (alive()) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), STOP_MS);
      await exited;
      clearTimeout(t);
    }
  };

  async function* frames(): AsyncGenerator<Frame[]> {
    let drained = false;
    try {
      for await (const batch of readCapture(iface, stats, { stream: out, live: true })) {
        counters.read += batch.length;
        yield batch;
      }
      drained = true;
    } finally {
      // Ended early (packet limit, error): nobody reads any more, so stop the child.
      if (!drained) {
        out.destroy();
        await stop(false);
      }
      const { code, signal } = await finish();
      const external = signal === 'SIGINT' || signal === 'SIGTERM';
      if (drained && !stopping && !external && code !== 0) {
        throw new Error(`tcpdump on ${iface} stopped (${signal ?? `exit ${code}`}): ${lastLines(stderr)}`);
      }
    }
  }

  return {
    iface,
    frames: frames(),
    get counters() {
      return counters;
    },
    poll,
    stop: () => stop(true),
    close: async () => {
      out.destroy();
      await stop(false);
      await finish();
    },
  };
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' / ');
}

/** Why tcpdump would not start, said in terms of what to do. */
function startError(iface: string, tcpdump: string, spawnError: Error | null, code: number | null, signal: string | null, stderr: string): Error {
  if (spawnError) return new Error(`cannot run ${tcpdump}: ${spawnError.message} (install it: apt-get install tcpdump)`);
  const text = lastLines(stderr);
  if (/permission|not permitted/i.test(stderr)) {
    const missing = missingCapabilities();
    const what = missing.length > 0 ? `this process lacks ${missing.join(' and ')}` : 'tcpdump was refused';
    return new Error(
      `cannot capture on ${iface}: ${what}. Run as root, or grant tcpdump the capabilities: ` +
        `setcap cap_net_raw,cap_net_admin+eip ${tcpdump} (tcpdump said: ${text})`,
    );
  }
  if (/syntax error|can't parse filter|illegal|unknown (host|port|proto)/i.test(stderr)) {
    return new BadFilterError(`not a filter tcpdump can compile: ${text}`);
  }
  return new Error(`tcpdump on ${iface} exited before capturing (${signal ?? `exit ${code}`}): ${text}`);
}

/** A kernel pipe for tcpdump's output. Node's own child pipes are socket pairs, and tcpdump -U
 * writes every packet separately: into a pipe that cost a third of the CPU and dropped nothing
 * where the socket pair dropped packets (measured on lo at 150,000 packets/s). */
function kernelPipe(): { out: Socket; writeFd: number } {
  const dir = mkdtempSync(join(tmpdir(), 'dnslens-live-'));
  try {
    const path = join(dir, 'pcap');
    execFileSync('mkfifo', ['-m', '600', path]);
    // Non-blocking read end first, so opening the write end does not wait for a reader.
    const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(path, constants.O_WRONLY);
    return { out: new Socket({ fd: readFd, readable: true, writable: false }), writeFd };
  } finally {
    rmSync(dir, { recursive: true, force: true }); // the open ends keep the pipe alive
  }
}
