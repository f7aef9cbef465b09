// The NATS JetStream output: batches of events published to a JetStream stream, each message one
// subject's share of a batch (subject.ts), as JSON lines or the compact binary encoding
// (src/bus/codec.ts, docs/nats.md), with the message's SHA-256 as its id (the stream drops a repeat
// within its duplicate window). A batch counts as sent once the stream acknowledged every message
// of it (PubAck); until then it is retried with backoff, queued, and spooled to disk with
// --natsSpoolDir (sink toolkit). Flags in dnsmonster's pattern (--natsOutputType, ...Server,
// ...Subject). The sending side (output.ts) and the client library load when the output opens.
import { defineOutput } from '../../component.js';
import { authOf, authOptions, checkAuth, checkServers } from '../../bus/nats.js';
import { choice, ConfigError, dur, int, list, outputType, str } from '../../options.js';
import { SINK_COUNTERS } from '../sink/writer.js';
import { parseSubject } from './subject.js';

const S = 'nats_output';

export const OPTIONS = [
  outputType('nats', S, 'NATS JetStream'),
  list('natsOutputServer', S, 'NATS server URL(s), nats://host:port or tls://host:port; comma separated or repeated (the client moves to the next one when a server goes away)'),
  str('natsOutputSubject', S, 'dnslens.{server}', 'Subject template: literal text and {field} placeholders, e.g. dns.{server}.{qr} (docs/nats.md); each subject of a batch is a message of its own'),
  choice('natsOutputFormat', S, 'binary', ['binary', 'json'], 'Message body: binary (compact, schema in docs/nats.md) or json (JSON lines, as --stdoutOutputFormat json)'),
  str('natsOutputStream', S, 'DNSLENS', 'JetStream stream to create when no stream stores the subjects yet (on the template literal leading tokens, e.g. dnslens.>); empty: an administrator creates it'),
  dur('natsOutputStreamMaxAge', S, '168h', 'Only for a stream dnslens creates: how long it keeps messages (0: until deleted)'),
  int('natsBatchSize', S, 10000, 'Events per batch (one message per subject, cut at the server maximum payload); a collector stores each message as one insert', 'ready', 1),
  dur('natsBatchDelay', S, '5s', 'Send a partial NATS batch after this long (longer: fewer, larger inserts at the collector)'),
  str('natsSpoolDir', S, '', 'Directory where batches wait on disk while the server is down (and at exit), replayed in order, also by the next run; empty: in memory only'),
  ...authOptions('natsOutput', S),
] as const;

export type NatsOptions = typeof OPTIONS;

// The toolkit's counters but that of file imports (resumed), and the stream's acknowledgements.
const { resumed: _fileImportsOnly, ...SENDING } = SINK_COUNTERS;
export const NATS_COUNTERS: Readonly<Record<string, string>> = {
  ...SENDING,
  messages: 'messages published',
  duplicates: 'duplicate messages', // sent again after a lost acknowledgement: the stream had them
};

export const nats = defineOutput({
  kind: 'output',
  name: 'nats',
  section: S,
  options: OPTIONS,
  typeOption: 'natsOutputType',
  counters: NATS_COUNTERS,
  check(s, from) {
    if (s.natsOutputType === 0) return;
    checkServers('natsOutputServer', s.natsOutputServer, from);
    let streamSubject: string | null;
    try {
      streamSubject = parseSubject(s.natsOutputSubject).streamSubject;
    } catch (e) {
      throw new ConfigError('natsOutputSubject', `--natsOutputSubject: ${(e as Error).message}${from('natsOutputSubject')}`);
    }
    if (streamSubject === null && s.natsOutputStream !== '') {
      throw new ConfigError('natsOutputSubject', `--natsOutputSubject: a stream dnslens creates needs a fixed first token (e.g. dnslens.{server}); or leave --natsOutputStream empty and create the stream yourself${from('natsOutputSubject')}`);
    }
    checkAuth('natsOutput', authOf(s, 'natsOutput'), from as (o: string) => string);
  },
  open: async (ctx) => (await import('./output.js')).openNats(ctx),
});
