// The syslog output: every event as one syslog message (RFC 5424, or RFC 3164), its body the
// event's JSON line or RFC 5424 structured data, over UDP, TCP or TLS (octet-counted framing),
// through the sink toolkit (batches, retries with backoff, reconnection, counters). Keeps
// dnsmonster's --syslogOutputType and --syslogOutputEndpoint. The sending side (output.ts) loads
// when the output opens.
import { accessSync, constants } from 'node:fs';
import { defineOutput } from '../../component.js';
import { choice, ConfigError, dur, int, outputType, str } from '../../options.js';
import { SINK_COUNTERS } from '../sink/writer.js';
import { BODIES, FACILITIES, FORMATS } from './message.js';
import { parseEndpoint } from './transport.js';

const S = 'syslog_output';

export const OPTIONS = [
  outputType('syslog', S, 'syslog'),
  str('syslogOutputEndpoint', S, 'udp://127.0.0.1:514', 'Syslog receiver: udp://host:port, tcp://host:port or tls://host:port (TCP and TLS use octet-counted framing)'),
  choice('syslogOutputFormat', S, 'rfc5424', FORMATS, 'Syslog message format: rfc5424, or the older BSD rfc3164'),
  choice('syslogOutputBody', S, 'json', BODIES, "Message body: json (the event's JSON line) or sd (RFC 5424 structured data with the main fields; rfc5424 only)"),
  choice('syslogOutputFacility', S, 'daemon', FACILITIES, 'Syslog facility (messages have severity info)'),
  str('syslogOutputAppName', S, 'dnslens', 'APP-NAME (rfc5424) or TAG (rfc3164) of the messages'),
  int('syslogOutputMaxDatagramSize', S, 2048, 'UDP only: longest message in bytes; longer ones are cut and counted as truncated', 'ready', 480, 65507),
  int('syslogBatchSize', S, 1000, 'Syslog messages per batch', 'ready', 1),
  dur('syslogBatchDelay', S, '1s', 'Send a partial syslog batch after this long'),
  str('syslogCACertificatePath', S, '', 'tls:// only: CA certificate(s) that sign the receiver certificate (default: the system CAs)'),
  str('syslogTLSCertificatePath', S, '', 'tls:// only: client certificate, for receivers that ask for one'),
  str('syslogTLSKeyPath', S, '', 'tls:// only: key of the client certificate'),
] as const;

export type SyslogOptions = typeof OPTIONS;

export const syslog = defineOutput({
  kind: 'output',
  name: 'syslog',
  section: S,
  options: OPTIONS,
  typeOption: 'syslogOutputType',
  // The toolkit's counters without those of the spool and of file imports (this sink has neither).
  counters: {
    sent: SINK_COUNTERS.sent,
    batches: SINK_COUNTERS.batches,
    failed: SINK_COUNTERS.failed,
    retried: SINK_COUNTERS.retried,
    dropped: SINK_COUNTERS.dropped,
    truncated: 'rows truncated (UDP)',
  },
  check(s, from) {
    if (s.syslogOutputType === 0) return;
    let scheme: string;
    try {
      scheme = parseEndpoint(s.syslogOutputEndpoint).scheme;
    } catch (e) {
      throw new ConfigError('syslogOutputEndpoint', `--syslogOutputEndpoint: ${(e as Error).message}${from('syslogOutputEndpoint')}`);
    }
    if (s.syslogOutputBody === 'sd' && s.syslogOutputFormat !== 'rfc5424') {
      throw new ConfigError('syslogOutputBody', `--syslogOutputBody sd: structured data needs --syslogOutputFormat rfc5424${from('syslogOutputBody')}`);
    }
    const files = ['syslogCACertificatePath', 'syslogTLSCertificatePath', 'syslogTLSKeyPath'] as const;
    for (const name of files) {
      const path = s[name];
      if (path === '') continue;
      if (scheme !== 'tls') throw new ConfigError(name, `--${name}: only for a tls:// endpoint, not ${s.syslogOutputEndpoint}${from(name)}`);
      try {
        accessSync(path, constants.R_OK);
      } catch (e) {
        throw new ConfigError(name, `--${name}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}${from(name)}`);
      }
    }
    if ((s.syslogTLSCertificatePath === '') !== (s.syslogTLSKeyPath === '')) {
      const missing = s.syslogTLSKeyPath === '' ? 'syslogTLSKeyPath' : 'syslogTLSCertificatePath';
      throw new ConfigError(missing, `--${missing}: needed with --${missing === 'syslogTLSKeyPath' ? 'syslogTLSCertificatePath' : 'syslogTLSKeyPath'}`);
    }
  },
  open: async (ctx) => (await import('./output.js')).openSyslog(ctx),
});
