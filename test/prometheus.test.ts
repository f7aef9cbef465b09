// --metricEndpointType prometheus, scraped by Debian's real Prometheus server (started here on a
// loopback port, scrape interval 1 s): the run's counters, a component's own counters and the
// process metrics come back through Prometheus' HTTP API; /healthz answers once the run is open.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CONTROL_START, CONTROL_STOP, controlFrame, dataFrame, DNSTAP_CONTENT_TYPE } from '../src/inputs/dnstap/framestream.js';
import { encodeDnstap } from './dnstap-encode.js';
import { produce, runCli } from './dnstap-helpers.js';
import { describeWithPeers, which } from './peers.js';
import { freePort } from './resolvers.js';
import { dnsQuery } from './wire.js';

const dir = mkdtempSync(join(tmpdir(), 'dnslens-prometheus-'));
let prometheus: ChildProcess | null = null;
afterAll(() => {
  prometheus?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const LO = Uint8Array.of(127, 0, 0, 1);
const N = 300;

async function poll<T>(what: string, ms: number, get: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeWithPeers('metrics for Prometheus', ['prometheus'], () => {
  it("a real Prometheus scrapes the run's counters, a component's counters and the process metrics", async () => {
    const port = await freePort();
    const sock = join(dir, 'tap.sock');
    const run = runCli([
      '--dnstapSocket', `unix://${sock}`, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', '--matchTimeout', '0',
      '--metricEndpointType', 'prometheus', '--metricPrometheusEndpoint', `http://127.0.0.1:${port}/metrics`,
    ]);
    try {
      await run.waitForLog('dnstap: listening', 20_000);
      await poll('/healthz', 10_000, async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined));
      const p = await produce({ path: sock });
      const frames = [controlFrame(CONTROL_START, [DNSTAP_CONTENT_TYPE])];
      for (let i = 0; i < N; i++) {
        frames.push(dataFrame(encodeDnstap({ type: 5, family: 1, protocol: 1, queryAddress: LO, responseAddress: LO, queryPort: 20_000 + i, responsePort: 53, queryTime: [1_700_000_000, i * 1000], queryMessage: dnsQuery(i, `m${i}.prom.test`) })));
      }
      p.socket.end(Buffer.concat([...frames, controlFrame(CONTROL_STOP)]));
      await run.waitFor((ev) => ev.length >= N, 20_000, 'every event');

      const web = await freePort();
      writeFileSync(
        join(dir, 'prometheus.yml'),
        ['global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: dnslens', '    static_configs:', `      - targets: ['127.0.0.1:${port}']`].join('\n') + '\n',
      );
      prometheus = spawn(which('prometheus') as string, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${web}`], { stdio: 'ignore' });
      const query = async (q: string): Promise<number | undefined> => {
        const r = (await (await fetch(`http://127.0.0.1:${web}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { value: [number, string] }[] } };
        const v = r.data.result[0]?.value[1];
        return v === undefined ? undefined : Number(v);
      };
      const atLeast = (q: string, min: number) => poll(q, 30_000, async () => {
        const v = await query(q);
        return v !== undefined && v >= min ? v : undefined;
      });
      expect(await atLeast('up{job="dnslens"}', 1)).toBe(1);
      expect(await atLeast('dnslens_dns_messages_total', N)).toBe(N);
      expect(await atLeast('dnslens_component_total{component="stdout",counter="written"}', N)).toBe(N);
      expect(await atLeast('dnslens_malformed_total', 0)).toBe(0);
      expect(await atLeast('dnslens_process_cpu_seconds_total', 0)).toBeGreaterThan(0);
    } finally {
      prometheus?.kill('SIGTERM');
      expect(await run.stop('SIGTERM')).toBe(0);
    }
  }, 90_000);

  it('refuses an endpoint that is not an http URL, with exit code 2', async () => {
    const run = runCli(['--pcapFile', join(import.meta.dirname, '..', 'samples', 'dns-sample.pcap'), '--stdoutOutputType', '1', '--metricEndpointType', 'prometheus', '--metricPrometheusEndpoint', 'ftp://x']);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('--metricPrometheusEndpoint: "ftp://x": only http:// is served');
  });
});
