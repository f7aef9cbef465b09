// System peers (tshark, tcpdump, resolvers, ...) for tests. Without them a suite skips and
// says why; under DNSLENS_REQUIRE_PEERS (CI sets 1; any true value: 1, true, yes, on) a missing
// peer fails the suite instead.
import { execFileSync } from 'node:child_process';
import { describe, it } from 'vitest';

/** True for the values a user means as "on" (1, true, yes, on; any case). */
export function truthy(value: string | undefined): boolean {
  return ['1', 'true', 'yes', 'on'].includes((value ?? '').trim().toLowerCase());
}

const REQUIRE = truthy(process.env.DNSLENS_REQUIRE_PEERS);
const PATHS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** Absolute path of a command, or null. Looks in the sbin dirs too (unbound, named, tcpdump live there). */
export function which(cmd: string): string | null {
  try {
    const env = { ...process.env, PATH: `${process.env.PATH ?? ''}:${PATHS.join(':')}` };
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { env, encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

export function missingPeers(cmds: string[]): string[] {
  return cmds.filter((c) => which(c) === null);
}

/** describe() that needs the given commands (and optionally root). */
export function describeWithPeers(title: string, cmds: string[], fn: () => void, opts: { root?: boolean } = {}): void {
  const missing = missingPeers(cmds);
  if (opts.root && process.getuid?.() !== 0) missing.push('root privileges');
  if (missing.length === 0) {
    describe(title, fn);
    return;
  }
  const why = `needs ${missing.join(', ')} (install: see .ci/run)`;
  if (REQUIRE) {
    describe(title, () => {
      it('has its system peers', () => {
        throw new Error(`DNSLENS_REQUIRE_PEERS=${process.env.DNSLENS_REQUIRE_PEERS} and this suite ${why}`);
      });
    });
    return;
  }
  console.warn(`[skip] ${title}: ${why}`);
  describe.skipIf(true)(title, fn);
}
