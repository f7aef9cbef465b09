// Where syslog batches go: UDP datagrams, or one TCP or TLS connection (made on the first send
// and made again after the receiver closed it or a write failed). A send resolves when the bytes
// are handed to the kernel: plain syslog has no acknowledgement (see the README on what that
// means when a receiver dies). A failed send rejects, and the sink toolkit retries the batch
// with backoff, so a receiver that is down at start-up or restarts is waited for, not fatal.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { SinkBatch, SinkTarget } from '../sink/writer.js';

export interface Endpoint {
  scheme: 'udp' | 'tcp' | 'tls';
  host: string; // without IPv6 brackets
  port: number;
}

/** Parses `udp://host:port`, `tcp://host:port` or `tls://host:port`; throws an Error saying what is wrong. */
export function parseEndpoint(text: string): Endpoint {
  const m = /^([a-z]+):\/\/(\[[^\]]+\]|[^:/\[\]]+):(\d+)\/?$/i.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not scheme://host:port (udp://, tcp:// or tls://)`);
  const scheme = m[1].toLowerCase();
  if (scheme !== 'udp' && scheme !== 'tcp' && scheme !== 'tls') throw new Error(`unknown scheme "${m[1]}" in "${text}": use udp://, tcp:// or tls://`);
  const port = Number(m[3]);
  if (!(port >= 1 && port <= 65535)) throw new Error(`port ${m[3]} in "${text}" is not 1..65535`);
  const host = m[2].startsWith('[') ? m[2].slice(1, -1) : m[2];
  if (m[2].startsWith('[') && isIP(host) !== 6) throw new Error(`"${m[2]}" in "${text}" is not an IPv6 address`);
  return { scheme, host, port };
}

const CONNECT_TIMEOUT_MS = 10_000;
const WRITE_TIMEOUT_MS = 30_000;

/** UDP: each chunk of a batch is one datagram. */
export class UdpTarget implements SinkTarget<null> {
  private socket: UdpSocket | null = null;
  private address: string | null = null;

  constructor(private readonly ep: Endpoint) {}

  get where(): string {
    return `udp://${fmtHost(this.ep.host)}:${this.ep.port}`;
  }

  async send(batch: SinkBatch<null>): Promise<void> {
    if (!batch.data) throw new Error('syslog: a batch without data');
    if (!this.socket) {
      const { address, family } = await lookup(this.ep.host);
      const s = createSocket(family === 6 ? 'udp6' : 'udp4');
      s.on('error', () => undefined); // reported by each send's callback
      s.unref();
      this.socket = s;
      this.address = address;
    }
    const s = this.socket;
    const sends = batch.data.map(
      (d) => new Promise<void>((resolve, reject) => s.send(d, this.ep.port, this.address!, (err) => (err ? reject(err) : resolve()))),
    );
    try {
      await Promise.all(sends);
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  private reset(): void {
    this.socket?.close();
    this.socket = null;
  }

  async close(): Promise<void> {
    this.reset();
  }
}

/** TCP or TLS with octet-counted messages: each batch is written as it was encoded. */
export class StreamTarget implements SinkTarget<null> {
  private socket: Socket | null = null;
  private alive = false; // connected, and the receiver has not closed its side

  constructor(
    private readonly ep: Endpoint,
    private readonly tls?: ConnectionOptions,
  ) {}

  get where(): string {
    return `${this.ep.scheme}://${fmtHost(this.ep.host)}:${this.ep.port}`;
  }

  private connect(): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const { host, port } = this.ep;
      const readyEvent = this.tls ? 'secureConnect' : 'connect';
      const s: Socket = this.tls
        ? tlsConnect({ ...this.tls, host, port, servername: isIP(host) ? undefined : host })
        : netConnect({ host, port });
      const timer = setTimeout(() => fail(new Error(`connecting to ${this.where} timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      function fail(err: Error): void {
        clearTimeout(timer);
        s.destroy();
        reject(err);
      }
      s.once('error', fail);
      s.once(readyEvent, () => {
        clearTimeout(timer);
        s.off('error', fail);
        s.setNoDelay(true);
        s.setKeepAlive(true, 30_000);
        resolve(s);
      });
    });
  }

  async send(batch: SinkBatch<null>): Promise<void> {
    if (!batch.data) throw new Error('syslog: a batch without data');
    if (!this.socket || !this.alive) {
      this.drop();
      const s = await this.connect();
      this.socket = s;
      this.alive = true;
      // A syslog receiver sends nothing; its end of the stream means it closed the connection
      // (stopped, restarted): the next batch goes on a new one.
      const gone = (): void => {
        if (this.socket === s) this.alive = false;
      };
      s.on('data', () => undefined);
      s.on('end', gone);
      s.on('close', gone);
      s.on('error', gone);
    }
    const s = this.socket!;
    const data = batch.data.length === 1 ? batch.data[0] : Buffer.concat(batch.data);
    // A receiver that takes the connection but stops reading would hold this send (and close())
    // for ever: after WRITE_TIMEOUT_MS the connection is dropped and the batch retried.
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.alive = false;
        s.destroy();
        reject(new Error(`writing to ${this.where} timed out after ${WRITE_TIMEOUT_MS} ms (the receiver does not read)`));
      }, WRITE_TIMEOUT_MS);
      s.write(data, (err) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) {
          this.alive = false;
          reject(err);
        } else resolve();
      });
    });
  }

  private drop(): void {
    this.socket?.destroy();
    this.socket = null;
    this.alive = false;
  }

  /** Ends the connection after what was written (TLS: with close_notify), waiting at most timeoutMs. */
  async close(timeoutMs = 5000): Promise<void> {
    const s = this.socket;
    this.socket = null;
    this.alive = false;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        s.destroy();
        resolve();
      }, timeoutMs);
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      s.end();
    });
  }
}

function fmtHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}
