#!/usr/bin/env node
// dnslens entry point: `dnslens [flags]` captures (run.ts); `sql`, `report` and `schema` work on the store.
import { readFile } from 'node:fs/promises';
import { log } from '../log.js';
import { ConfigError } from './config.js';
import { EXIT_CONFIG, EXIT_RUNTIME, runCapture } from './run.js';

// The store (and so @clickhouse/client and chdb) is loaded only when a command needs it.
const STORE_COMMANDS = ['sql', 'report', 'schema'];

async function packageVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const stop = new AbortController();

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'psql') return (await import('./psql-commands.js')).psqlCommand(argv.slice(1));
  if (argv[0] && STORE_COMMANDS.includes(argv[0])) return (await import('./store-commands.js')).storeCommand(argv[0], argv.slice(1));
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`\ndnslens: second ${sig}, exiting without flushing\n`);
      process.exit(130);
    }
    log.info({ signal: sig }, 'stopping: flushing outputs');
    stop.abort();
  };
  return runCapture(argv, {
    signal: stop.signal,
    // Until outputs open, a signal ends the process at once (nothing to flush yet).
    onCapture: () => {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    },
    version: packageVersion,
    // SIGHUP reloads the skip/allow lists in the background; capture goes on with the old ones meanwhile.
    onReload: (reload) => {
      const onHup = () => void reload();
      process.on('SIGHUP', onHup);
      return () => process.off('SIGHUP', onHup);
    },
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Stopped by a signal: the outputs are closed and the summary written. A connection attempt to
    // a server still in flight (one that drops packets times out only later) must not hold the exit.
    if (stop.signal.aborted) process.exit(code);
  },
  (e: unknown) => {
    if (e instanceof ConfigError) {
      process.stderr.write(`dnslens: ${e.message}\n`);
      process.exitCode = EXIT_CONFIG;
    } else {
      process.stderr.write(`dnslens: ${(e as Error)?.message ?? String(e)}\n`);
      log.debug({ err: e }, 'failure');
      process.exitCode = EXIT_RUNTIME;
    }
  },
);
