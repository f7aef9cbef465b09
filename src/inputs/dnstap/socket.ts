// The dnstap collector: listens on a unix or TCP socket for any number of producers (BIND,
// Unbound, Knot, dnsdist, CoreDNS ...) and yields their messages as event batches.
// A broken stream (oversize or malformed frame, wrong content type) closes that connection
// only, counted in Stats; the others go on.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { DnsEvent } from '../../event.js';
import { log } from '../../log.js';
import type { Stats } from '../../stats.js';
import { DnstapDecoder } from './event.js';
import { DnstapStream, type EventSink } from './stream.js';

export type DnstapAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** Parses unix:///path or tcp://host:port (an IPv6 host in brackets); throws with a readable message. */
export function parseDnstapAddress(text: string): DnstapAddress {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) throw new Error(`${text}: expected unix:///absolute/path`);
    return { kind: 'unix', path };
  }
  const m = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/[\]]+):(\d{1,5})$/.exec(text);
  if (m) {
    const port = Number(m[2]);
    if (port > 65535) throw new Error(`${text}: port out of range`);
    return { kind: 'tcp', host: m[1].replace(/^\[|\]$/g, ''), port };
  }
  throw new Error(`${text}: expected unix:///path or tcp://host:port`);
}

/** Parses an octal permission such as "755" or "0660". */
export function parsePermission(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text)) throw new Error(`${text}: expected an octal mode such as 755 or 0660`);
  return parseInt(text, 8);
}

export interface DnstapListenOptions {
  address: string; // unix:///path or tcp://host:port
  stats: Stats;
  server: string; // --serverName
  useIdentity: boolean; // --useDnstapIdentity
  permission?: number; // mode of the unix socket file
  maxFrameSize?: number;
  maxConnections?: number; // producers connected at once; more are refused (counted)
  batchSize?: number; // events per yielded batch (fewer when traffic is light)
  signal?: AbortSignal; // closes the listener
}

export interface DnstapListener {
  /** Event batches until close(); the iterable ends once every connection has ended. */
  events: AsyncIterable<DnsEvent[]>;
  /** Where it listens: unix:///path or tcp://host:port with the bound port. */
  address: string;
  /** Connections accepted so far, closed because their stream was broken, refused over the cap. */
  readonly connections: { accepted: number; open: number; broken: number; refused: number };
  /** Stops accepting, lets open connections deliver what they sent (up to 1 s), ends the events. */
  close(): Promise<void>;
}

const BATCH = 1024;
const FLUSH_MS = 50; // a partial batch waits at most this long
const HIGH_WATER = 256 * 1024; // queued events above which producers are paused (their own buffers take over)
const LOW_WATER = 64 * 1024;
const CLOSE_GRACE_MS = 1000;
// Each connection may hold a partial frame (up to maxFrameSize): the cap bounds their sum.
const MAX_CONNECTIONS = 1024;

/** Refuses a path that is in use; removes a socket file no process listens on. */
async function claimUnixPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (!isSocket) throw new Error(`${path} exists and is not a socket: not replacing it`);
  const live = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (live) throw new Error(`${path}: another process is listening on this socket`);
  unlinkSync(path); // stale: left by a process that died
}

export async function listenDnstap(opts: DnstapListenOptions): Promise<DnstapListener> {
  const where = parseDnstapAddress(opts.address);
  const { stats } = opts;
  const batchSize = opts.batchSize ?? BATCH;
  const decoder = new DnstapDecoder(stats, { server: opts.server, useIdentity: opts.useIdentity, inputName: opts.address });
  const sink: EventSink = { events: [] };
  const queue: DnsEvent[][] = [];
  let queued = 0;
  let paused = false;
  let closing = false;
  let wake: (() => void) | null = null;
  let flushTimer: NodeJS.Timeout | null = null;
  const sockets = new Set<Socket>();
  const connections = { accepted: 0, open: 0, broken: 0, refused: 0 };

  const signalConsumer = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  // Moves the collected events to the queue.
  const flush = (): void => {
    if (flushTimer !== null) {
      clearTimeout(flushTimer);
      flushTimer = null;
    }
    if (sink.events.length === 0) return;
    queue.push(sink.events);
    queued += sink.events.length;
    sink.events = [];
    if (queued > HIGH_WATER && !paused) {
      paused = true;
      for (const s of sockets) s.pause();
    }
    signalConsumer();
  };
  const afterChunk = (): void => {
    if (sink.events.length >= batchSize || wake !== null) flush();
    else if (sink.events.length > 0 && flushTimer === null) flushTimer = setTimeout(flush, FLUSH_MS);
  };

  const onConnection = (socket: Socket): void => {
    connections.accepted++;
    connections.open++;
    sockets.add(socket);
    if (paused) socket.pause();
    const peer = where.kind === 'tcp' ? `${socket.remoteAddress}:${socket.remotePort}` : where.path;
    log.debug({ peer }, 'dnstap producer connected');
    const stream = new DnstapStream({
      decoder,
      sink,
      stats,
      reply: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      maxFrameSize: opts.maxFrameSize,
    });
    socket.on('data', (chunk: Buffer) => {
      const ok = stream.push(chunk);
      afterChunk();
      if (!ok) {
        connections.broken++;
        log.warn({ peer, reason: stream.error, offset: stream.offset }, 'dnstap stream broken: connection closed');
        socket.destroy();
      }
    });
    socket.on('end', () => {
      if (!stream.end()) {
        connections.broken++;
        log.warn({ peer, reason: stream.error }, 'dnstap stream ended inside a frame');
      }
      afterChunk();
      socket.end();
    });
    socket.on('error', (e) => log.debug({ peer, err: e.message }, 'dnstap connection error'));
    socket.on('close', () => {
      connections.open--;
      sockets.delete(socket);
      log.debug({ peer }, 'dnstap producer disconnected');
      if (closing && sockets.size === 0) flush();
      signalConsumer();
    });
  };

  const server: Server = createServer(onConnection);
  server.maxConnections = opts.maxConnections ?? MAX_CONNECTIONS;
  server.on('drop', (d) => {
    connections.refused++;
    log.warn({ peer: d?.remoteAddress ? `${d.remoteAddress}:${d.remotePort}` : where.kind === 'unix' ? where.path : '', max: server.maxConnections }, 'dnstap producer refused: too many connections');
  });
  let address: string;
  if (where.kind === 'unix') {
    await claimUnixPath(where.path);
    await listen(server, () => withUmaskFor(opts.permission, () => server.listen(where.path)));
    if (opts.permission !== undefined) chmodSync(where.path, opts.permission);
    address = `unix://${where.path}`;
  } else {
    await listen(server, () => server.listen(where.port, where.host));
    const a = server.address();
    const port = typeof a === 'object' && a ? a.port : where.port;
    address = `tcp://${where.host.includes(':') ? `[${where.host}]` : where.host}:${port}`;
  }
  server.on('error', (e) => log.error({ address, err: e.message }, 'dnstap listener error'));
  log.info({ address }, 'dnstap: listening');

  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      // server.close() reports only once every connection has ended: end them first.
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      if (where.kind === 'unix') {
        try {
          unlinkSync(where.path);
        } catch {
          // already gone (the server may have removed it)
        }
      }
      // Ask producers to finish; what they already sent is still read, then they are cut off.
      for (const s of sockets) {
        s.resume();
        s.end();
      }
      if (sockets.size > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, CLOSE_GRACE_MS);
          const check = setInterval(() => {
            if (sockets.size === 0) {
              clearTimeout(t);
              clearInterval(check);
              resolve();
            }
          }, 20);
          t.unref?.();
          setTimeout(() => clearInterval(check), CLOSE_GRACE_MS + 10);
        });
        for (const s of sockets) s.destroy();
      }
      await stopped;
      flush();
      signalConsumer();
    })();
    return closed;
  };
  opts.signal?.addEventListener('abort', () => void close(), { once: true });
  if (opts.signal?.aborted) void close();

  async function* events(): AsyncGenerator<DnsEvent[]> {
    try {
      for (;;) {
        if (queue.length > 0) {
          const batch = queue.shift() as DnsEvent[];
          queued -= batch.length;
          if (paused && queued < LOW_WATER) {
            paused = false;
            for (const s of sockets) s.resume();
          }
          yield batch;
          continue;
        }
        if (sink.events.length > 0) {
          flush();
          continue;
        }
        if (closing && sockets.size === 0 && closed !== null) {
          await closed;
          if (queue.length === 0 && sink.events.length === 0) return;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      await close();
      // A consumer that stops early (pipeline error) leaves events behind: counted, not lost silently.
      const left = queued + sink.events.length;
      if (left > 0) stats.dropped('dnstap', 'consumer-stopped', left);
      queue.length = 0;
      queued = 0;
      sink.events = [];
    }
  }

  return { events: events(), address, connections, close };
}

/** Runs bind (synchronous in server.listen) under a umask that leaves at most `permission`: the
 * socket file never has the wider mode a permissive umask would give it before the chmod. The
 * umask is only ever made stricter, and only for the length of the call. */
function withUmaskFor(permission: number | undefined, bind: () => void): void {
  if (permission === undefined) return bind();
  const old = process.umask(0o777);
  process.umask(old | (0o777 & ~permission));
  try {
    bind();
  } finally {
    process.umask(old);
  }
}

function listen(server: Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    start();
  });
}
