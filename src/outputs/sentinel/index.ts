// The Microsoft Sentinel output, through Azure Monitor's Logs Ingestion API: batches as JSON
// arrays (at most 1 MB a request) POSTed to a data collection rule's stream, with a bearer token
// from Entra ID (client credentials of an app registration allowed to write to the rule).
// dnsmonster used the HTTP Data Collector API (a shared key and a workspace id), which Microsoft
// retires in 2026: its two flags are kept so a dnsmonster configuration reads, and setting them
// stops the run with what to give instead. --sentinelOutputLogType, the proxy and the batch flags
// keep their meaning. The sending side (output.ts) loads when the output opens.
import { defineOutput } from '../../component.js';
import { ConfigError, dur, int, outputType, secret, str } from '../../options.js';
import { caFile, HTTP_COUNTERS, httpUrl, needed, proxyUrl } from '../sink/http-check.js';

const S = 'sentinel_output';
const INSTEAD = '--sentinelOutputEndpoint, --sentinelOutputDcrImmutableId, --sentinelOutputTenantId, --sentinelOutputClientId and --sentinelOutputClientSecret';
const RETIRED = `Retired with the HTTP Data Collector API (Microsoft, 2026): setting it stops the run; dnslens uses the Logs Ingestion API (${INSTEAD})`;

export const OPTIONS = [
  outputType('sentinel', S, 'Microsoft Sentinel'),
  secret(str('sentinelOutputSharedKey', S, '', `Workspace shared key. ${RETIRED}`)),
  str('sentinelOutputCustomerId', S, '', `Workspace (customer) id. ${RETIRED}`),
  str('sentinelOutputLogType', S, 'dnsmonster', 'Custom table of the events, without _CL: the stream is Custom-<this>_CL unless --sentinelOutputStream is given'),
  str('sentinelOutputProxy', S, '', 'HTTP proxy for the token and ingestion requests, e.g. http://proxy:3128 (https:// through CONNECT)'),
  int('sentinelBatchSize', S, 100, 'Events per batch (sent as several requests when over 1 MB)', 'ready', 1),
  dur('sentinelBatchDelay', S, '1s', 'Send a partial Sentinel batch after this long'),
  str('sentinelOutputEndpoint', S, '', 'Logs ingestion endpoint of the data collection rule (or of its DCE), e.g. https://my-dce-a1b2.westeurope-1.ingest.monitor.azure.com'),
  str('sentinelOutputDcrImmutableId', S, '', 'Immutable id of the data collection rule (dcr-...)'),
  str('sentinelOutputStream', S, '', 'Stream of the rule the events go to; empty: Custom-<sentinelOutputLogType>_CL'),
  str('sentinelOutputTenantId', S, '', 'Entra ID tenant (directory) id of the app registration'),
  str('sentinelOutputClientId', S, '', 'Application (client) id of the app registration that may write to the rule'),
  secret(str('sentinelOutputClientSecret', S, '', 'Client secret of the app registration')),
  str('sentinelOutputTokenEndpoint', S, 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token', 'Token endpoint (client credentials grant); {tenant} is replaced by --sentinelOutputTenantId'),
  str('sentinelOutputScope', S, 'https://monitor.azure.com//.default', 'Scope of the token (a sovereign cloud has its own)'),
  str('sentinelCACertificatePath', S, '', 'https:// only: CA certificate(s) that sign the endpoint certificates (default: the system CAs)'),
] as const;

export type SentinelOptions = typeof OPTIONS;

/** The token endpoint with the tenant in it. */
export function tokenUrl(template: string, tenant: string): string {
  return template.trim().replaceAll('{tenant}', encodeURIComponent(tenant.trim()));
}

/** The stream: given, or the custom table's. */
export function streamName(s: { sentinelOutputStream: string; sentinelOutputLogType: string }): string {
  return s.sentinelOutputStream.trim() || `Custom-${s.sentinelOutputLogType.trim()}_CL`;
}

export const sentinel = defineOutput({
  kind: 'output',
  name: 'sentinel',
  section: S,
  options: OPTIONS,
  typeOption: 'sentinelOutputType',
  counters: HTTP_COUNTERS,
  check(s, from) {
    if (s.sentinelOutputType === 0) return;
    for (const o of ['sentinelOutputSharedKey', 'sentinelOutputCustomerId'] as const) {
      if (s[o] !== '') {
        throw new ConfigError(o, `--${o}: the HTTP Data Collector API it was for is retired by Microsoft in 2026; dnslens sends through the Logs Ingestion API: give ${INSTEAD} instead${from(o)}`);
      }
    }
    const endpoint = httpUrl('sentinelOutputEndpoint', s.sentinelOutputEndpoint, from, 'the logs ingestion endpoint of the data collection rule');
    needed('sentinelOutputDcrImmutableId', s.sentinelOutputDcrImmutableId, from, 'the immutable id of the data collection rule (dcr-...)');
    if (s.sentinelOutputStream.trim() === '') needed('sentinelOutputLogType', s.sentinelOutputLogType, from, 'the custom table (or give --sentinelOutputStream)');
    if (s.sentinelOutputTokenEndpoint.includes('{tenant}')) needed('sentinelOutputTenantId', s.sentinelOutputTenantId, from, 'the Entra ID tenant id');
    needed('sentinelOutputClientId', s.sentinelOutputClientId, from, 'the application (client) id of the app registration');
    needed('sentinelOutputClientSecret', s.sentinelOutputClientSecret, from, 'the client secret of the app registration');
    const token = httpUrl('sentinelOutputTokenEndpoint', tokenUrl(s.sentinelOutputTokenEndpoint, s.sentinelOutputTenantId), from);
    needed('sentinelOutputScope', s.sentinelOutputScope, from, 'the scope of the token');
    proxyUrl('sentinelOutputProxy', s.sentinelOutputProxy, from);
    caFile('sentinelCACertificatePath', s.sentinelCACertificatePath, [endpoint, token], from);
  },
  open: async (ctx) => (await import('./output.js')).openSentinel(ctx),
});
