// The systemd units in deploy/systemd/: each passes `systemd-analyze verify`, has the security
// settings the README promises (capabilities only on the live-capture unit, a dynamic user, a
// read-only system with a state directory for the embedded store), and its dnslens command line is
// one the real CLI accepts (`--checkConfig`).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeWithPeers } from './peers.js';

const DIR = join(import.meta.dirname, '../deploy/systemd');
const MAIN = join(import.meta.dirname, '../dist/src/cli/main.js');
const COMMAND = '/usr/bin/env dnslens';
const UNITS = ['dnslens-logs.service', 'dnslens-live@.service', 'dnslens-dnstap.service'];

type Unit = Record<string, Record<string, string[]>>;

/** A unit file as section -> key -> values (a key may repeat; comments and blank lines dropped). */
function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1];
      unit[section] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not a key=value line: ${line}`);
    const key = line.slice(0, eq).trim();
    (unit[section][key] ??= []).push(line.slice(eq + 1).trim());
  }
  return unit;
}

function one(unit: Unit, key: string): string | undefined {
  const v = unit.Service?.[key];
  return v === undefined ? undefined : v[v.length - 1];
}

function words(v: string | undefined): string[] {
  return (v ?? '').split(/\s+/).filter(Boolean).sort();
}

/** The dnslens arguments of ExecStart, the template's %i replaced by an interface. */
function dnslensArgs(unit: Unit, instance: string): string[] {
  const exec = one(unit, 'ExecStart') ?? '';
  expect(exec.startsWith(`${COMMAND} `)).toBe(true);
  return exec.slice(COMMAND.length).replaceAll('%i', instance).split(/\s+/).filter(Boolean);
}

describeWithPeers('systemd units (deploy/systemd)', ['systemd-analyze'], () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dnslens-systemd-'));

  function verify(path: string): { status: number | null; output: string } {
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } });
    return { status: r.status, output: (r.stdout + r.stderr).trim() };
  }

  for (const name of UNITS) {
    const text = readFileSync(join(DIR, name), 'utf8');
    const unit = parseUnit(text);

    it(`${name}: systemd-analyze verify accepts it as shipped, with no warning`, () => {
      // ExecStart runs /usr/bin/env, which exists on every system, so verify checks the unit as a
      // user installs it; an unknown or misspelt key is only a warning, so any output fails too.
      const copy = join(tmp, name);
      copyFileSync(join(DIR, name), copy);
      expect(verify(copy)).toEqual({ status: 0, output: '' });
    });

    it(`${name}: systemd-analyze verify accepts it with ExecStart naming a real dnslens`, () => {
      // verify fails when the ExecStart binary does not exist or is not executable. Where
      // `npm install -g` puts dnslens (/usr/bin or /usr/local/bin) it is not installed here, so
      // a copy of the unit names an executable wrapper around the built CLI instead: the unit's
      // command line then points at a dnslens that exists, as it will after installation.
      const wrapper = join(tmp, 'dnslens');
      writeFileSync(wrapper, `#!/bin/sh\nexec node ${JSON.stringify(MAIN)} "$@"\n`);
      chmodSync(wrapper, 0o755);
      const copy = join(tmp, 'real', name);
      spawnSync('mkdir', ['-p', join(tmp, 'real')]);
      writeFileSync(copy, text.replace(`ExecStart=${COMMAND} `, `ExecStart=${wrapper} `));
      expect(readFileSync(copy, 'utf8')).toContain(`ExecStart=${wrapper} `);
      expect(verify(copy)).toEqual({ status: 0, output: '' });
      // And verify does fail on a missing binary (so the check above means something).
      const missing = join(tmp, 'real', `missing-${name}`);
      writeFileSync(missing, text.replace(`ExecStart=${COMMAND} `, `ExecStart=${join(tmp, 'no-such-dnslens')} `));
      expect(verify(missing).status).not.toBe(0);
    });

    it(`${name}: security settings`, () => {
      expect(one(unit, 'DynamicUser')).toBe('yes');
      expect(one(unit, 'User')).toBe('dnslens');
      expect(one(unit, 'StateDirectory')).toBe('dnslens');
      expect(one(unit, 'ProtectSystem')).toBe('strict');
      expect(one(unit, 'ProtectHome')).toBe('yes');
      expect(one(unit, 'PrivateTmp')).toBe('yes');
      expect(one(unit, 'NoNewPrivileges')).toBe('yes');
      expect(one(unit, 'Restart')).toBe('on-failure');
      expect(one(unit, 'MemoryDenyWriteExecute')).toBeUndefined(); // Node's JIT needs W+X memory
      const mem = one(unit, 'MemoryMax') ?? '';
      expect(mem).toMatch(/^\d+M$/);
      const args = dnslensArgs(unit, 'lo');
      expect(args.slice(args.indexOf('--dataDir'), args.indexOf('--dataDir') + 2)).toEqual(['--dataDir', '/var/lib/dnslens']);
      const limit = args[args.indexOf('--memoryLimit') + 1];
      expect(limit).toMatch(/^\d+MB$/);
      // The cgroup limit leaves room above --memoryLimit (README "Memory": peak RSS ~1.5x the limit).
      expect(Number.parseInt(mem, 10)).toBeGreaterThanOrEqual(1.5 * Number.parseInt(limit, 10));

      const families = words(one(unit, 'RestrictAddressFamilies'));
      const caps = words(one(unit, 'CapabilityBoundingSet'));
      const ambient = words(one(unit, 'AmbientCapabilities'));
      if (name === 'dnslens-live@.service') {
        // Only the capture unit has capabilities, and only the two tcpdump needs, ambient so that
        // the unprivileged tcpdump child inherits them.
        expect(caps).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
        expect(ambient).toEqual(['CAP_NET_ADMIN', 'CAP_NET_RAW']);
        expect(families).toEqual(['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET', 'AF_UNIX']);
        expect(args.slice(0, 2)).toEqual(['--devName', 'lo']);
      } else {
        expect(caps).toEqual([]);
        expect(ambient).toEqual([]);
        expect(families).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
      }
      if (name === 'dnslens-logs.service') {
        expect(args).toContain('--logFollow');
        expect(args[args.indexOf('--dnsmasqLogFile') + 1]).toBe('/var/log/dnsmasq.log');
        expect(unit.Service.SupplementaryGroups).toEqual(['adm']);
      }
      if (name === 'dnslens-dnstap.service') {
        expect(one(unit, 'RuntimeDirectory')).toBe('dnslens');
        expect(one(unit, 'RuntimeDirectoryMode')).toBe('0750');
        expect(one(unit, 'Group')).toBe('dnstap');
        expect(args[args.indexOf('--dnstapSocket') + 1]).toBe('unix:///run/dnslens/dnstap.sock');
        expect(args[args.indexOf('--dnstapPermission') + 1]).toBe('660');
      }
    });

    it(`${name}: the real CLI accepts its dnslens arguments (--checkConfig)`, () => {
      const r = spawnSync(process.execPath, [MAIN, '--checkConfig', ...dnslensArgs(unit, 'lo')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toContain('dataDir = /var/lib/dnslens');
    });
  }
});
