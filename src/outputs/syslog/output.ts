// The syslog sink: the sink toolkit (../sink) with the syslog encoder and a UDP, TCP or TLS
// target. Loaded when the output opens.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ConnectionOptions } from 'node:tls';
import type { Context, OpenedOutput, Output } from '../../component.js';
import type { Counters, Stats } from '../../stats.js';
import type { Log } from '../../log.js';
import { sinkContext, writerOutput, type BatchWriter } from '../sink/writer.js';
import { FACILITIES, MessageWriter, SyslogEncoder, type SyslogBody, type SyslogFormat } from './message.js';
import { parseEndpoint, StreamTarget, UdpTarget, type Endpoint } from './transport.js';
import type { SyslogOptions } from './index.js';

export const NAME = 'syslog';

export interface SyslogOutputOptions {
  endpoint: Endpoint;
  format: SyslogFormat;
  body: SyslogBody;
  facility: number;
  hostname: string;
  appName: string;
  maxDatagram: number;
  batchSize: number;
  delayMs: number;
  tls?: ConnectionOptions;
  stats: Stats;
  counters: Counters;
  log: Log;
  maxQueueBytes?: number;
  stop?: AbortSignal;
  retryInitialMs?: number;
  retryMaxMs?: number;
  closeTimeoutMs?: number;
}

/** The syslog output over the sink toolkit. */
export function syslogOutput(o: SyslogOutputOptions): Output & { readonly writer: BatchWriter<null> } {
  const msg = new MessageWriter({ format: o.format, body: o.body, facility: o.facility, hostname: o.hostname, appName: o.appName, procId: String(process.pid) });
  const datagram = o.endpoint.scheme === 'udp';
  const encoder = new SyslogEncoder(msg, datagram ? { datagram: true, maxDatagram: o.maxDatagram, counters: o.counters } : { datagram: false });
  const target = datagram ? new UdpTarget(o.endpoint) : new StreamTarget(o.endpoint, o.endpoint.scheme === 'tls' ? (o.tls ?? {}) : undefined);
  const writerOptions = {
    name: NAME,
    encoder,
    meta: null,
    stats: o.stats,
    maxQueueBytes: o.maxQueueBytes,
    stop: o.stop,
    counters: o.counters,
    log: o.log,
    batchSize: o.batchSize,
    delayMs: o.delayMs,
    retryInitialMs: o.retryInitialMs,
    retryMaxMs: o.retryMaxMs,
    closeTimeoutMs: o.closeTimeoutMs,
  };
  return writerOutput(target, writerOptions, () => target.close());
}

/** The host name in the header: --serverName, or this host's name when it is left at "default". */
export function syslogHostname(server: string): string {
  return server === '' || server === 'default' ? hostname() : server;
}

/** TLS settings from the options (files are read here; check() made sure they are readable);
 *  skipTlsVerify: --skipTLSVerification. */
export function tlsOptions(s: { syslogCACertificatePath: string; syslogTLSCertificatePath: string; syslogTLSKeyPath: string }, skipTlsVerify: boolean): ConnectionOptions {
  const tls: ConnectionOptions = { rejectUnauthorized: !skipTlsVerify };
  if (s.syslogCACertificatePath !== '') tls.ca = readFileSync(s.syslogCACertificatePath);
  if (s.syslogTLSCertificatePath !== '') tls.cert = readFileSync(s.syslogTLSCertificatePath);
  if (s.syslogTLSKeyPath !== '') tls.key = readFileSync(s.syslogTLSKeyPath);
  return tls;
}

export async function openSyslog(ctx: Context<SyslogOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const endpoint = parseEndpoint(s.syslogOutputEndpoint); // check() has vetted it
  const output = syslogOutput({
    endpoint,
    format: s.syslogOutputFormat as SyslogFormat,
    body: s.syslogOutputBody as SyslogBody,
    facility: FACILITIES.indexOf(s.syslogOutputFacility as (typeof FACILITIES)[number]),
    hostname: syslogHostname(ctx.run.server),
    appName: s.syslogOutputAppName,
    maxDatagram: s.syslogOutputMaxDatagramSize,
    batchSize: s.syslogBatchSize,
    delayMs: s.syslogBatchDelay,
    tls: endpoint.scheme === 'tls' ? tlsOptions(s, ctx.run.skipTlsVerify) : undefined,
    ...sinkContext(ctx),
  });
  ctx.log.debug({ endpoint: s.syslogOutputEndpoint }, 'syslog output open');
  return { output };
}
