// --dnstapSocket (a Frame Streams listener for many producers) or --dnstapFile: ready-made events.
import { defineInput } from '../../component.js';
import { bool, ConfigError, str } from '../../options.js';
import { readDnstapFile } from './file.js';
import { listenDnstap, parseDnstapAddress, parsePermission } from './socket.js';

export const dnstap = defineInput({
  kind: 'input',
  name: 'dnstap',
  section: 'capture',
  options: [
    str('dnstapSocket', 'capture', '', 'Listen for dnstap (Frame Streams, any number of producers) on unix:///path or tcp://addr:port'),
    { ...str('dnstapFile', 'capture', '', 'Read dnstap frames from this Frame Streams file ("-" for stdin)'), file: 'input', stdin: true },
    bool('useDnstapIdentity', 'capture', 'Use the dnstap identity as the server name'),
    str('dnstapPermission', 'capture', '755', 'Permission (octal) of the dnstap unix socket file'),
  ],
  given: (s) => (s.dnstapSocket !== '' ? 'dnstapSocket' : s.dnstapFile !== '' ? 'dnstapFile' : undefined),
  isFile: (s) => s.dnstapSocket === '',
  filePath: (s) => (s.dnstapSocket === '' && s.dnstapFile) || undefined,
  check(s) {
    if (s.dnstapSocket !== '' && s.dnstapFile !== '') throw new ConfigError('dnstapFile', '--dnstapFile: only one input at a time (also given: --dnstapSocket)');
    if (s.dnstapSocket === '') return;
    try {
      parseDnstapAddress(s.dnstapSocket);
    } catch (e) {
      throw new ConfigError('dnstapSocket', `--dnstapSocket: ${(e as Error).message}`);
    }
    try {
      parsePermission(s.dnstapPermission);
    } catch (e) {
      throw new ConfigError('dnstapPermission', `--dnstapPermission: ${(e as Error).message}`);
    }
  },
  async open({ settings, stats, run }) {
    const server = run.server;
    const useIdentity = settings.useDnstapIdentity;
    const endsOnAbort = run.signal !== undefined;
    if (settings.dnstapFile !== '') {
      const events = readDnstapFile(settings.dnstapFile, stats, { server, useIdentity, signal: run.signal });
      return { feeds: [{ kind: 'events', events }], endsOnAbort, stdin: settings.dnstapFile === '-' };
    }
    const permission = parsePermission(settings.dnstapPermission);
    const listener = await listenDnstap({ address: settings.dnstapSocket, stats, server, useIdentity, permission, signal: run.signal });
    return { feeds: [{ kind: 'events', events: listener.events }], close: listener.close, endsOnAbort, live: true };
  },
});
