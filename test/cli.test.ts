// The CLI as a user runs it: the built dist/ entry point in a child process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PCAP_DIR } from './data.js';

const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const SAMPLE = join(import.meta.dirname, '../samples/dns-sample.pcap');

function run(args: string[], opts: { env?: Record<string, string>; input?: Buffer } = {}) {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...opts.env },
    input: opts.input,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dnslens CLI', () => {
  it('prints one JSON event per DNS message and a summary on stderr', () => {
    const r = run(['--pcapFile', SAMPLE, '--stdoutOutputType', '1']);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events).toHaveLength(38);
    expect(events.filter((e) => e.qr)).toHaveLength(19);
    expect(events.filter((e) => e.rcode === 3)).toHaveLength(6);
    expect(r.stderr).toMatch(/packets read\s+38 /);
    expect(r.stderr).toMatch(/DNS messages\s+38\n/);
  });

  it('reads stdin with "-" and matches flags case-insensitively', () => {
    const r = run(['--PCAPFILE=-', '--stdoutoutputtype', '1', '--stdoutOutputFormat', 'csv_no_header'], {
      input: readFileSync(SAMPLE),
    });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(38);
  });

  it('takes options from the environment (DNSLENS_ over DNSMONSTER_) below the command line', () => {
    const env = { DNSMONSTER_STDOUTOUTPUTTYPE: '1', DNSLENS_SERVERNAME: 'from-env', DNSMONSTER_SERVERNAME: 'ignored' };
    const r = run(['--pcapFile', SAMPLE, '--stdoutOutputFormat', 'gotemplate', '--stdoutOutputGoTemplate', '{{.server}}'], { env });
    expect(new Set(r.stdout.trim().split('\n'))).toEqual(new Set(['from-env']));
    const r2 = run(['--pcapFile', SAMPLE, '--serverName', 'from-flag', '--stdoutOutputFormat', 'gotemplate', '--stdoutOutputGoTemplate', '{{.server}}'], { env });
    expect(new Set(r2.stdout.trim().split('\n'))).toEqual(new Set(['from-flag']));
  });

  it('writes a config file that reproduces the run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-cli-'));
    const ini = join(dir, 'dnslens.ini');
    const w = run(['--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'csv', '--port', '53,5353', '--writeConfig', ini]);
    expect(w.code).toBe(0);
    expect(readFileSync(ini, 'utf8')).toMatch(/stdoutOutputFormat\s*=\s*csv/i);
    const r = run(['--config', ini]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^Year,Month,Day/);
    expect(r.stdout.trim().split('\n')).toHaveLength(39);
  });

  it.each([
    [['--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--maskSize4', '40'], /--maskSize4/],
    [['--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--sampleRatio', '3:2'], /--sampleRatio/],
    [['--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'xml'], /--stdoutOutputFormat/],
    [['--pcapFile', '/nonexistent.pcap', '--stdoutOutputType', '1'], /--pcapFile/],
    [['--pcapFile', SAMPLE, '--stdoutOutputType', '0'], /no output enabled/],
    [['--pcapFile', SAMPLE, '--stdoutOutputType', '2'], /--skipDomainsFile/],
    [['--pcapFile', SAMPLE, '--stdoutOutputType', '1', '--stdoutOutputFormat', 'gotemplate', '--stdoutOutputGoTemplate', '{{.nope}}'], /nope/],
    [['--pcapFile', SAMPLE, '--devName', 'lo', '--stdoutOutputType', '1'], /--devName: only one input at a time/],
    [['--pcapFile', SAMPLE, '--noSuchFlag'], /noSuchFlag/],
  ])('refuses bad configuration %j with exit code 2, naming the option', (args, message) => {
    const r = run(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stdout).toBe('');
  });

  it('processes everything before damage in a truncated file, reports it, and exits 3', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-cli-'));
    const cut = join(dir, 'cut.pcap');
    const whole = readFileSync(SAMPLE);
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    const r = run(['--pcapFile', cut, '--stdoutOutputType', '1']);
    expect(r.code).toBe(3);
    expect(r.stdout.trim().split('\n')).toHaveLength(37);
    expect(r.stderr).toMatch(/INPUT DAMAGED/);
  });

  it('reassembles IP fragments and TCP streams, and the summary accounts for both', () => {
    const frags = run(['--pcapFile', join(PCAP_DIR, 'dnscap__frags.pcap'), '--stdoutOutputType', '1']);
    expect(frags.code).toBe(0);
    expect(frags.stdout.trim().split('\n')).toHaveLength(82);
    expect(frags.stderr).toMatch(/DNS messages\s+82\n/);
    expect(frags.stderr).toMatch(/IP fragments\s+495 \(reassembled into 82 datagrams/);
    const tcp = run(['--pcapFile', join(PCAP_DIR, 'dnscap__dnso1tcp.pcap'), '--stdoutOutputType', '1']);
    expect(tcp.code).toBe(0);
    expect(tcp.stdout.trim().split('\n')).toHaveLength(82);
    expect(tcp.stderr).toMatch(/TCP segments\s+212 on DNS ports \(82 DNS messages/);
  });

  it('applies a skip list with output type 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-cli-'));
    const skip = join(dir, 'skip.csv');
    writeFileSync(skip, 'google.com.,suffix\n');
    const r = run(['--pcapFile', SAMPLE, '--stdoutOutputType', '2', '--skipDomainsFile', skip, '--stdoutOutputFormat', 'gotemplate', '--stdoutOutputGoTemplate', '{{.qname}}']);
    expect(r.code).toBe(0);
    const names = r.stdout.trim().split('\n');
    expect(names.some((n) => n === 'google.com' || n.endsWith('.google.com'))).toBe(false);
    expect(names.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/filter:stdout:skip-list/);
  });
});
