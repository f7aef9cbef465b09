// The Splunk HTTP Event Collector output: every event in HEC's JSON envelope
// ({"time", "host", "source", "sourcetype", "index", "event"}), a batch per request, with
// `Authorization: Splunk <token>`, to one endpoint or several (failover). Keeps dnsmonster's
// flags. The sending side (output.ts) loads when the output opens.
import { defineOutput } from '../../component.js';
import { ConfigError, dur, int, list, outputType, secret, str } from '../../options.js';
import { caFile, HTTP_COUNTERS, httpUrl, needed, proxyUrl } from '../sink/http-check.js';

const S = 'splunk_output';
export const PLACEHOLDER_TOKEN = '00000000-0000-0000-0000-000000000000'; // dnsmonster's default

export const OPTIONS = [
  outputType('splunk', S, 'Splunk HEC'),
  list('splunkOutputEndpoint', S, 'Splunk HEC endpoint(s), e.g. https://splunk:8088 (/services/collector/event is added to a URL without a path); with several, the next is used when one fails; comma separated or repeated'),
  secret(str('splunkOutputToken', S, PLACEHOLDER_TOKEN, 'Splunk HEC token, sent as "Authorization: Splunk <token>" (the all-zero default is refused)')),
  str('splunkOutputIndex', S, 'temp', "Splunk index of the events; empty: the token's default index"),
  str('splunkOutputProxy', S, '', 'HTTP proxy for HEC requests, e.g. http://user:pass@proxy:3128 (https:// endpoints through CONNECT)'),
  str('splunkOutputSource', S, 'dnsmonster', 'Splunk source of the events'),
  str('splunkOutputSourceType', S, 'json', 'Splunk sourcetype of the events'),
  int('splunkBatchSize', S, 1000, 'Events per HEC request', 'ready', 1),
  dur('splunkBatchDelay', S, '1s', 'Send a partial Splunk batch after this long'),
  str('splunkCACertificatePath', S, '', 'https:// only: CA certificate(s) that sign the HEC certificate (default: the system CAs)'),
] as const;

export type SplunkOptions = typeof OPTIONS;

export const splunk = defineOutput({
  kind: 'output',
  name: 'splunk',
  section: S,
  options: OPTIONS,
  typeOption: 'splunkOutputType',
  counters: HTTP_COUNTERS,
  check(s, from) {
    if (s.splunkOutputType === 0) return;
    if (s.splunkOutputEndpoint.length === 0) throw new ConfigError('splunkOutputEndpoint', `--splunkOutputEndpoint: needed: the HEC URL, e.g. https://splunk:8088${from('splunkOutputEndpoint')}`);
    const urls = s.splunkOutputEndpoint.map((e) => httpUrl('splunkOutputEndpoint', e, from));
    needed('splunkOutputToken', s.splunkOutputToken === PLACEHOLDER_TOKEN ? '' : s.splunkOutputToken, from, 'the HEC token (not the all-zero default)');
    proxyUrl('splunkOutputProxy', s.splunkOutputProxy, from);
    caFile('splunkCACertificatePath', s.splunkCACertificatePath, urls, from);
  },
  open: async (ctx) => (await import('./output.js')).openSplunk(ctx),
});
