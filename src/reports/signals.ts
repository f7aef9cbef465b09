// `dnslens report signals`: what the signals (src/signals/, README "Signals") found, highest score
// first, with the evidence that made each fire.
import { col, oneQuery } from './named.js';

export const signals = oneQuery({
  name: 'signals',
  description: 'signals that fired (NXDOMAIN storms, tunnels, failures, bursts, beacons, DGA names, ...), highest score first',
  query: () => ({
    name: 'signals',
    title: 'Signals, highest score first',
    columns: [
      col('signal', 'text'),
      col('subject', 'text'),
      col('client', 'text'),
      col('score', 'number'),
      col('window_start', 'time', 'from'),
      col('window_end', 'time', 'until'),
      col('evidence', 'text'),
      col('examples', 'text'),
    ],
    sources: [{ table: 'dns_signals', sql: 'list', time: 'PacketTime', serverAddress: true }],
    logOnly: 'signals are kept in dns_signals only',
  }),
});
