// --metricEndpointType statsd: every counter of the run sent to a statsd agent over UDP (hot-shots),
// every --metricFlushInterval and once more at exit. Counters go as statsd counters of their
// increase since the previous flush (so the agent's sums are the run's totals), gauges as gauges,
// with a few process metrics. The names mirror the Prometheus endpoint's, dotted:
//
//   dnslens.<counter>                          packets, bytes, dns_messages, not_dns, malformed, ...   |c
//   dnslens.malformed_by_reason.<reason>       |c
//   dnslens.unsupported_by_reason.<reason>     |c
//   dnslens.dropped.<stage>.<reason>           (a stage "filter:stdout" is two parts: filter.stdout)  |c
//   dnslens.component.<component>.<counter>    each input's, transform's and output's own counters   |c
//   dnslens.component_gauge.<component>.<gauge>                                                      |g
//   dnslens.process.{rss,heap_used,heap_total,external}_bytes, uptime_seconds,
//     event_loop_lag_{p99,max}_ms (over the interval)                                                |g
//   dnslens.process.cpu_{user,system}_us                                                             |c
//
// Every part of a name is cut to statsd-safe characters (A-Z a-z 0-9 _ -; anything else becomes _).
// Components are read from Stats when flushing, so a new component shows up with no edit here.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { StatsD } from 'hot-shots';
import { log } from '../log.js';
import type { Stats } from '../stats.js';

export const DEFAULT_STATSD_PORT = 8125;
/** One datagram carries several lines ("\n"-separated), kept under a 1500-byte MTU. */
const MAX_DATAGRAM = 1432;

export interface StatsdAgent {
  readonly host: string;
  readonly port: number;
}

export interface StatsdSender {
  readonly agent: string; // host:port, as sent to
  /** Sends what moved since the last flush (counters) and the current readings (gauges). */
  flush(): void;
  /** A last flush, then the socket closed (the process can exit). Safe to call twice. */
  close(): Promise<void>;
}

/** host and port of an agent given as HOST:PORT, [IPv6]:PORT, an IPv6 address or HOST alone
 *  (port 8125). Throws with a reason. */
export function parseAgent(text: string): StatsdAgent {
  const t = text.trim();
  if (t === '') throw new Error('empty (expected HOST:PORT, e.g. 127.0.0.1:8125)');
  if (t.includes('://')) throw new Error(`"${text}": give HOST:PORT, not a URL (statsd is sent over UDP)`);
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(t);
  if (bracketed) {
    [, host, portText] = bracketed;
    if (isIP(host) !== 6) throw new Error(`"${text}": "${host}" is not an IPv6 address`);
  } else if (isIP(t) === 6) {
    host = t;
  } else {
    const colon = t.lastIndexOf(':');
    if (colon >= 0 && t.indexOf(':') !== colon) throw new Error(`"${text}": write an IPv6 address in brackets, e.g. [::1]:8125`);
    host = colon >= 0 ? t.slice(0, colon) : t;
    portText = colon >= 0 ? t.slice(colon + 1) : undefined;
    if (host === '') throw new Error(`"${text}": no host`);
    if (isIP(host) === 0 && !/^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/.test(host)) {
      throw new Error(`"${text}": "${host}" is not a host name or IP address`);
    }
  }
  let port = DEFAULT_STATSD_PORT;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) throw new Error(`"${text}": port "${portText}" is not a number from 1 to 65535`);
  }
  return { host, port };
}

/** Resolves a host name once, so a name that cannot resolve is refused at start. */
export async function checkResolves(agent: StatsdAgent): Promise<void> {
  if (isIP(agent.host) !== 0) return;
  try {
    await lookup(agent.host);
  } catch (e) {
    throw new Error(`"${agent.host}" does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** One part of a statsd name: statsd-safe characters only, never empty. */
export const part = (name: string): string => name.replace(/[^A-Za-z0-9_-]/g, '_') || '_';
const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const dotted = (...parts: string[]): string => ['dnslens', ...parts.map(part)].join('.');

/** Every counter of the run by statsd name, with its running total (gauges apart). */
export function counterTotals(stats: Stats): Map<string, number> {
  const out = new Map<string, number>();
  const add = (name: string, n: number) => out.set(name, (out.get(name) ?? 0) + n); // two reasons may meet once sanitized
  for (const [name, n] of stats.scalars()) add(dotted(snake(name)), n);
  for (const [reason, n] of stats.malformedBy) add(dotted('malformed_by_reason', reason), n);
  for (const [reason, n] of stats.unsupportedBy) add(dotted('unsupported_by_reason', reason), n);
  for (const [key, n] of stats.droppedBy) add(dotted('dropped', ...key.split(':')), n);
  for (const c of stats.components.values()) for (const [counter, n] of c.values) add(dotted('component', c.component, counter), n);
  return out;
}

/** Every gauge of the run by statsd name: each component's readings. */
export function gaugeReadings(stats: Stats): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of stats.components.values()) for (const [gauge, v] of c.readings()) out.set(dotted('component_gauge', c.component, gauge), v);
  return out;
}

/** Starts sending to the agent every intervalMs (0: only at close()). */
export function startStatsd(agent: StatsdAgent, stats: Stats, intervalMs: number): StatsdSender {
  const where = `${agent.host.includes(':') ? `[${agent.host}]` : agent.host}:${agent.port}`;
  let lastError = 0;
  const client = new StatsD({
    host: agent.host,
    port: agent.port,
    protocol: 'udp',
    maxBufferSize: MAX_DATAGRAM,
    bufferFlushInterval: 1000,
    cacheDns: true, // a host name is looked up again every minute, not for every datagram
    cacheDnsTtl: 60_000,
    // plain statsd lines: no Datadog tags, telemetry or aggregation, whatever DD_* the environment holds
    datadog: false,
    includeDataDogTags: false,
    includeDatadogTelemetry: false,
    aggregation: false,
    errorHandler: (e: Error) => {
      // an agent that is down must not flood the log: one warning a minute
      if (Date.now() - lastError < 60_000) return;
      lastError = Date.now();
      log.warn({ agent: where, err: e.message }, 'statsd: sending failed');
    },
  });
  const sent = new Map<string, number>();
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  let cpu = process.cpuUsage();
  const gauge = (name: string, v: number) => {
    if (!Number.isFinite(v)) return;
    if (v < 0) client.gauge(name, 0); // a signed gauge value is a change in statsd: set 0, then subtract
    client.gauge(name, v);
  };
  const flush = () => {
    for (const [name, total] of counterTotals(stats)) {
      client.increment(name, total - (sent.get(name) ?? 0)); // 0 too: the series stays continuous
      sent.set(name, total);
    }
    for (const [name, v] of gaugeReadings(stats)) gauge(name, v);
    const mem = process.memoryUsage();
    gauge('dnslens.process.rss_bytes', mem.rss);
    gauge('dnslens.process.heap_used_bytes', mem.heapUsed);
    gauge('dnslens.process.heap_total_bytes', mem.heapTotal);
    gauge('dnslens.process.external_bytes', mem.external);
    gauge('dnslens.process.uptime_seconds', Math.round(stats.elapsedSeconds() * 1000) / 1000);
    if (lag.count > 0) {
      gauge('dnslens.process.event_loop_lag_p99_ms', Math.round(lag.percentile(99) / 1e3) / 1e3);
      gauge('dnslens.process.event_loop_lag_max_ms', Math.round(lag.max / 1e3) / 1e3);
      lag.reset();
    }
    const now = process.cpuUsage();
    client.increment('dnslens.process.cpu_user_us', now.user - cpu.user);
    client.increment('dnslens.process.cpu_system_us', now.system - cpu.system);
    cpu = now;
    client.flush(); // out now, not at hot-shots' own buffer interval
  };
  const timer = intervalMs > 0 ? setInterval(flush, intervalMs) : undefined;
  timer?.unref();
  let closing: Promise<void> | undefined;
  return {
    agent: where,
    flush,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        clearInterval(timer);
        flush();
        lag.disable();
        // hot-shots sends what is buffered, waits for it to leave, then closes the socket
        client.close((e?: Error) => {
          if (e) log.warn({ agent: where, err: e.message }, 'statsd: closing failed');
          resolve();
        });
      })),
  };
}
