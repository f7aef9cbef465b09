// --natsInputServer: the collector side of a bus. Consumes what dnslens sensors publish to a
// JetStream stream (the NATS output: JSON lines or the binary encoding, told apart per message)
// through a durable consumer, into any output. At-least-once: a message is acknowledged only once
// every output has its events (component.ts, Receipt); a message delivered again (a collector
// killed before it acknowledged) goes under the same deduplication token, so ClickHouse stores it
// once. The events went through the sensor's transforms: they go to the outputs as they come.
// The client library loads when the input opens (consumer.ts).
import { defineInput } from '../../component.js';
import { authOf, authOptions, checkAuth, checkServers } from '../../bus/nats.js';
import { ConfigError, dur, list, str } from '../../options.js';

const S = 'nats_input';

export const OPTIONS = [
  list('natsInputServer', S, 'Consume what dnslens sensors publish (--natsOutputType) from these NATS server URL(s), nats://host:port or tls://host:port; comma separated or repeated'),
  str('natsInputSubject', S, 'dnslens.>', 'Subjects to consume (wildcards * and > allowed); the default takes every subject of the default --natsOutputSubject'),
  str('natsInputStream', S, '', 'JetStream stream to read; empty: the one that stores --natsInputSubject'),
  str('natsInputDurable', S, 'dnslens', 'Durable consumer name: it keeps what was acknowledged across restarts, and collectors that share it share the messages'),
  dur('natsInputAckWait', S, '60s', 'A message not acknowledged this long is delivered again (its collector died); while the outputs still work on it, the server is told so three times as often'),
  ...authOptions('natsInput', S),
] as const;

export type NatsInputOptions = typeof OPTIONS;

// acked: every output has the message's events; redelivered: it had been delivered before and not
// acknowledged; undecodable: not a dnslens batch, terminated (the server does not deliver it again).
export const NATS_INPUT_COUNTERS = {
  messages: 'messages received',
  redelivered: 'messages delivered again',
  events: 'events',
  acked: 'messages acknowledged',
  undecodable: 'messages not dnslens batches',
};

const SUBJECT = /^[!-~]+$/; // printable ASCII, no spaces
const NAME = /^[A-Za-z0-9_-]+$/; // stream and consumer names

export const natsInput = defineInput({
  kind: 'input',
  name: 'nats-input',
  section: S,
  options: OPTIONS,
  counters: NATS_INPUT_COUNTERS,
  given: (s) => (s.natsInputServer.length > 0 ? 'natsInputServer' : undefined),
  isFile: () => false,
  check(s, from) {
    if (s.natsInputServer.length === 0) return;
    checkServers('natsInputServer', s.natsInputServer, from);
    if (!SUBJECT.test(s.natsInputSubject) || s.natsInputSubject.split('.').some((t) => t === '')) {
      throw new ConfigError('natsInputSubject', `--natsInputSubject: "${s.natsInputSubject}" is not a subject (tokens separated by single dots, no spaces)${from('natsInputSubject')}`);
    }
    for (const name of ['natsInputStream', 'natsInputDurable'] as const) {
      if ((s[name] !== '' || name === 'natsInputDurable') && !NAME.test(s[name])) {
        throw new ConfigError(name, `--${name}: "${s[name]}" is not a JetStream name (letters, digits, _ and -)${from(name)}`);
      }
    }
    if (s.natsInputAckWait < 1000) throw new ConfigError('natsInputAckWait', `--natsInputAckWait: at least 1s${from('natsInputAckWait')}`);
    checkAuth('natsInput', authOf(s, 'natsInput'), from as (o: string) => string);
  },
  open: async (ctx) => (await import('./consumer.js')).openNatsInput(ctx),
});
