// --metricEndpointType prometheus: every counter of the run on an HTTP endpoint for Prometheus to
// scrape (prom-client), with the process metrics and /healthz. Counters are read from Stats when
// scraped: the pipeline's own, by reason where they have one, and each component's counters and
// gauges under one metric with component and counter labels, so a new component shows up here
// with no edit.
import { createServer, type Server } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Stats } from '../stats.js';

export interface PrometheusEndpoint {
  readonly url: string; // where it listens
  /** Inputs and outputs are open: /healthz answers 200 from now on. */
  ready(): void;
  close(): Promise<void>;
}

/** host, port and path of an endpoint given as http://HOST:PORT/PATH. Throws with a reason. */
export function parseEndpoint(text: string): { host: string; port: number; path: string } {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`"${text}" is not a URL (http://0.0.0.0:2112/metrics)`);
  }
  if (u.protocol !== 'http:') throw new Error(`"${text}": only http:// is served`);
  const port = Number(u.port || 80);
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port, path: u.pathname || '/metrics' };
}

const snake = (name: string): string => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function registryFor(stats: Stats): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: 'dnslens_' });
  for (const [name] of stats.scalars()) {
    new Counter({
      name: `dnslens_${snake(name)}_total`,
      help: `dnslens ${name} (see the README's summary)`,
      registers: [register],
      collect() {
        this.reset();
        this.inc(stats.scalars().find(([n]) => n === name)?.[1] ?? 0);
      },
    });
  }
  const byReason = (name: string, help: string, map: () => ReadonlyMap<string, number>, split: boolean) =>
    new Counter({
      name,
      help,
      labelNames: split ? ['stage', 'reason'] : ['reason'],
      registers: [register],
      collect() {
        this.reset();
        for (const [key, n] of map()) {
          const cut = key.lastIndexOf(':');
          this.inc(split ? { stage: key.slice(0, cut), reason: key.slice(cut + 1) } : { reason: key }, n);
        }
      },
    });
  byReason('dnslens_malformed_by_reason_total', 'Malformed packets and messages, by reason', () => stats.malformedBy, false);
  byReason('dnslens_unsupported_by_reason_total', 'Packets not handled, by reason', () => stats.unsupportedBy, false);
  byReason('dnslens_dropped_total', 'Events dropped or filtered, by stage and reason', () => stats.droppedBy, true);
  new Counter({
    name: 'dnslens_component_total',
    help: "Each input's, transform's and output's own counters",
    labelNames: ['component', 'counter'],
    registers: [register],
    collect() {
      this.reset();
      for (const c of stats.components.values()) for (const [counter, n] of c.values) this.inc({ component: c.component, counter }, n);
    },
  });
  new Gauge({
    name: 'dnslens_component_gauge',
    help: "Each component's gauges (an output's rows waiting, its last send's duration in µs)",
    labelNames: ['component', 'gauge'],
    registers: [register],
    collect() {
      this.reset();
      for (const c of stats.components.values()) for (const [gauge, v] of c.readings()) this.set({ component: c.component, gauge }, v);
    },
  });
  return register;
}

/** Serves the metrics at the endpoint's path and /healthz (503 until ready()). */
export async function servePrometheus(endpoint: string, stats: Stats): Promise<PrometheusEndpoint> {
  const { host, port, path } = parseEndpoint(endpoint);
  const register = registryFor(stats);
  let isReady = false;
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url === '/healthz') {
      res.writeHead(isReady ? 200 : 503, { 'content-type': 'text/plain' }).end(isReady ? 'ok\n' : 'starting\n');
    } else if (url === path && req.method === 'GET') {
      register.metrics().then(
        (text) => res.writeHead(200, { 'content-type': register.contentType }).end(text),
        (e: unknown) => res.writeHead(500).end(String(e)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const actualPort = typeof bound === 'object' && bound ? bound.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}${path}`,
    ready: () => {
      isReady = true;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
