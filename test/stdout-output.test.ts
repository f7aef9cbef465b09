import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { CSV_HEADER, formatJson, makeFormatter } from '../src/outputs/format.js';
import { stdoutOutput } from '../src/outputs/stdout.js';
import { describeWithPeers } from './peers.js';

function events(from: number, count: number): DnsEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const ev = newEvent();
    ev.timeSec = 1700000000;
    ev.timeNsec = from + i;
    ev.id = (from + i) & 0xffff;
    ev.qname = `host${from + i}.example.com`;
    return ev;
  });
}

// A writable that keeps what it gets; `slow` defers each chunk so the buffer fills up.
function sink(opts: { highWaterMark?: number; slow?: boolean } = {}) {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: opts.highWaterMark ?? 16384,
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      if (opts.slow) setImmediate(cb);
      else cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('stdout output', () => {
  it('writes the csv header once, then one line per event, and ends the stream on close', async () => {
    const s = sink();
    const out = stdoutOutput(makeFormatter('csv'), s.stream);
    await out.write(events(0, 3));
    await out.write([]);
    await out.write(events(3, 2));
    await out.close();
    const lines = s.text().split('\n');
    expect(lines[0]).toBe(CSV_HEADER);
    expect(lines).toHaveLength(1 + 5 + 1); // trailing newline
    expect(s.stream.writableFinished).toBe(true);
    expect(out.ended).toBe(false);
  });

  it('still writes the csv header when no event came', async () => {
    const s = sink();
    const out = stdoutOutput(makeFormatter('csv'), s.stream);
    await out.close();
    expect(s.text()).toBe(CSV_HEADER + '\n');
  });

  it('returns a promise when the stream is full and loses nothing', async () => {
    const s = sink({ highWaterMark: 1024, slow: true });
    const out = stdoutOutput(makeFormatter('json'), s.stream);
    let promises = 0;
    for (let i = 0; i < 20; i++) {
      const r = out.write(events(i * 50, 50));
      if (r instanceof Promise) {
        promises++;
        await r;
      }
    }
    await out.close();
    expect(promises).toBeGreaterThan(0);
    expect(s.text()).toBe(events(0, 1000).map((e) => formatJson(e) + '\n').join(''));
  });

  it('ends quietly when the reader goes away (EPIPE)', async () => {
    const head = spawn('head', ['-n', '5'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let got = '';
    head.stdout.on('data', (d: Buffer) => (got += d.toString()));
    const exited = new Promise((r) => head.on('exit', r));
    const out = stdoutOutput(makeFormatter('json'), head.stdin);
    await out.write(events(0, 1000));
    await exited;
    for (let i = 1; i <= 100 && !out.ended; i++) {
      await out.write(events(i * 1000, 1000));
      await new Promise((r) => setImmediate(r));
    }
    expect(out.ended).toBe(true);
    expect(out.discarded).toBeGreaterThan(0);
    await out.close();
    expect(got.trimEnd().split('\n')).toEqual(events(0, 5).map(formatJson));
  });

  it('turns other write errors into a clear error', async () => {
    const stream = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error('disk on fire'), { code: 'EIO' }));
      },
    });
    const out = stdoutOutput(makeFormatter('json'), stream);
    await out.write(events(0, 1));
    await new Promise((r) => setImmediate(r));
    expect(() => out.write(events(1, 1))).toThrow(/stdout output: write failed: disk on fire/);
  });
});

// The real process.stdout of a child process, piped into `head`, and into /dev/null for a
// throughput figure. The child runs the compiled sources.
describeWithPeers('stdout output in a real process', ['head', 'bash'], () => {
  let build = '';
  beforeAll(() => {
    build = mkdtempSync(join(process.cwd(), 'node_modules', '.dnslens-stdout-test-'));
    execFileSync('npx', ['tsc', '--ignoreConfig', '--outDir', build, '--rootDir', '.', '--module', 'nodenext',
      '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck', '--types', 'node',
      'src/outputs/stdout.ts', 'src/event.ts'], { stdio: 'pipe' });
    writeFileSync(join(build, 'package.json'), '{"type":"module"}');
    mkdirSync(join(build, 'bin'), { recursive: true });
    writeFileSync(join(build, 'bin', 'child.mjs'), `
      import { newEvent } from '../src/event.js';
      import { makeFormatter } from '../src/outputs/format.js';
      import { stdoutOutput } from '../src/outputs/stdout.js';
      const batches = Number(process.argv[2]);
      const evs = Array.from({ length: 1000 }, (_, i) => {
        const e = newEvent();
        Object.assign(e, { timeSec: 1700000000, timeNsec: i, server: 'default', ipVersion: 4, srcIp: '192.0.2.' + (i % 250),
          dstIp: '192.0.2.53', srcPort: 40000 + i, dstPort: 53, id: i, qr: i % 2 === 1, rd: true, qname: 'host' + i + '.example.com',
          qtype: 1, qclass: 1, qdCount: 1, size: 60, inputName: 'bench' });
        if (e.qr) e.answers = [{ name: e.qname, type: 1, class: 1, ttl: 60, data: '192.0.2.' + (i % 200) }];
        return e;
      });
      const out = stdoutOutput(makeFormatter('json'));
      const t0 = process.hrtime.bigint();
      for (let b = 0; b < batches; b++) await out.write(evs);
      await out.close();
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      process.stderr.write('done ended=' + out.ended + ' discarded=' + out.discarded + ' rate=' + Math.round(batches * 1000 / s) + '\\n');
    `);
  }, 120_000);
  afterAll(() => {
    if (build) rmSync(build, { recursive: true, force: true });
  });

  it('exits cleanly when `head` closes the pipe', () => {
    const r = spawnSync('bash', ['-c', `node ${join(build, 'bin', 'child.mjs')} 200 | head -n 3; echo "status=\${PIPESTATUS[0]}" >&2`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(r.stderr).toMatch(/done ended=true discarded=\d+/);
    expect(r.stderr).toContain('status=0');
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });

  it('streams to /dev/null (throughput printed, not asserted)', () => {
    const r = spawnSync('bash', ['-c', `node ${join(build, 'bin', 'child.mjs')} 300 > /dev/null`], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/done ended=false discarded=0/);
    console.log(`json to /dev/null via stdoutOutput: ${/rate=(\d+)/.exec(r.stderr)?.[1]} events/s`);
  });
});
