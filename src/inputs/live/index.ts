// --devName: live capture, one tcpdump child per interface (capture.ts says why tcpdump).
import { defineInput } from '../../component.js';
import { bool, ConfigError, dur, int, list, str, tuning } from '../../options.js';
import { BadFilterError, openLive, UnknownInterfaceError } from './capture.js';

export const live = defineInput({
  kind: 'input',
  name: 'live',
  section: 'capture',
  options: [
    list('devName', 'capture', 'Capture live from these network interfaces (comma separated or repeated; one tcpdump each, run as root or with CAP_NET_RAW and CAP_NET_ADMIN)'),
    int('afpacketBuffersizeMb', 'capture', 64, 'Kernel capture buffer per interface in MB (tcpdump -B)', 'ready', 1),
    str('filter', 'capture', '', 'Kernel (BPF) filter for live capture, tcpdump syntax; empty: DNS on the --port list over UDP and TCP, plus IP fragments'),
    tuning(bool('useAfpacket', 'capture', 'Use AF_PACKET for live capture (tcpdump uses it on Linux anyway)')),
    bool('noPromiscuous', 'capture', 'Do not put the interface in promiscuous mode (tcpdump -p)'),
    dur('captureStatsDelay', 'general', '1s', 'How often live capture reads interface and kernel drop counters (drops are logged as they appear)'),
  ],
  given: (s) => (s.devName.length > 0 ? 'devName' : undefined),
  async open({ settings, stats, run }) {
    try {
      const capture = await openLive(
        {
          interfaces: settings.devName,
          filter: settings.filter,
          ports: [...run.ports],
          promiscuous: !settings.noPromiscuous,
          bufferMb: settings.afpacketBuffersizeMb,
          statsIntervalMs: settings.captureStatsDelay,
          signal: run.signal,
        },
        stats,
      );
      return {
        feeds: capture.captures.map((c) => ({ kind: 'frames' as const, frames: c.frames, inputKind: 'live' as const, inputName: c.iface })),
        close: capture.close,
        endsOnAbort: run.signal !== undefined,
        live: true,
      };
    } catch (e) {
      if (e instanceof UnknownInterfaceError) throw new ConfigError('devName', `--devName: ${e.message}`);
      if (e instanceof BadFilterError) throw new ConfigError('filter', `--filter: ${e.message}`);
      throw e;
    }
  },
});
