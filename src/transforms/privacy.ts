// The last transform before the outputs: address masks and keyed client ids. It runs after
// matching, which pairs queries and responses on whole addresses.
import { defineTransform, type EventTransform } from '../component.js';
import type { DnsEvent } from '../event.js';
import { ConfigError, int, secret, str, type Settings } from '../options.js';
import { ClientIds, readClientIdKey } from './clientid.js';
import { AddressMasker } from './mask.js';

export interface PrivacyOptions {
  masker?: AddressMasker; // --maskSize4 / --maskSize6
  ids?: ClientIds; // --clientIdKey
  /**
   * With client ids on, keep the (masked) client address too. Off by default: storing the
   * address next to its pseudonym would undo the pseudonym. Per family when only one mask was set.
   */
  keepClientAddress?: boolean | { v4: boolean; v6: boolean };
}

/** The client side of a message: the source of a query, the destination of a response. */
export function clientAddress(ev: DnsEvent): string {
  return ev.qr ? ev.dstIp : ev.srcIp;
}

export function privacyTransform(opts: PrivacyOptions): EventTransform {
  const { masker, ids } = opts;
  const keep = opts.keepClientAddress ?? false;
  const keepOf = (client: string): boolean => (typeof keep === 'boolean' ? keep : client.indexOf(':') >= 0 ? keep.v6 : keep.v4);
  return {
    name: 'privacy',
    apply(events) {
      for (const ev of events) {
        if (ids) ev.clientId = ids.idOf(clientAddress(ev));
        if (ids && !keepOf(clientAddress(ev))) {
          if (ev.qr) ev.dstIp = '';
          else ev.srcIp = '';
          ev.ednsClientSubnet = ''; // the client's network, as seen by its resolver
        }
        if (masker) {
          ev.srcIp = masker.mask(ev.srcIp);
          ev.dstIp = masker.mask(ev.dstIp);
          if (ev.ednsClientSubnet !== '') ev.ednsClientSubnet = masker.maskSubnet(ev.ednsClientSubnet);
        }
      }
      return events;
    },
  };
}

const OPTIONS = [
  int('maskSize4', 'general', 32, 'Keep this many leading bits of IPv4 addresses (32 = whole address), on every input, before any output', 'ready', 0, 32),
  int('maskSize6', 'general', 128, 'Keep this many leading bits of IPv6 addresses (128 = whole address), on every input, before any output', 'ready', 0, 128),
  secret(str('clientIdKey', 'general', '', 'Secret key (at least 16 bytes) for keyed client ids: clientId = HMAC-SHA256(key, client address), 16 hex digits; the client address is then left out unless maskSize4/maskSize6 are set')),
  { ...str('clientIdKeyFile', 'general', '', 'File holding the client id key (instead of clientIdKey; a final line break is ignored)'), file: 'input' as const },
] as const;

function keyOf(s: Settings<typeof OPTIONS>): Buffer | null {
  try {
    return readClientIdKey(s.clientIdKey, s.clientIdKeyFile);
  } catch (e) {
    const option = s.clientIdKeyFile ? 'clientIdKeyFile' : 'clientIdKey';
    throw new ConfigError(option, `--${option}: ${(e as Error).message}`);
  }
}

/**
 * Masks and client ids, the last transform: nothing after it sees a real address. With client
 * ids, the client address is left out of the event unless --maskSize4 or --maskSize6 is set
 * explicitly: then the masked address is kept next to the id.
 */
export const privacy = defineTransform({
  kind: 'transform',
  name: 'privacy',
  section: 'general',
  options: OPTIONS,
  check: (s) => void keyOf(s),
  open({ settings, isSet }) {
    const key = keyOf(settings);
    const masker = new AddressMasker(settings.maskSize4, settings.maskSize6);
    if (!key && !masker.active) return null;
    // Per family: --maskSize4 alone does not keep IPv6 clients (unmasked) next to their ids.
    const keepClientAddress = { v4: isSet('maskSize4'), v6: isSet('maskSize6') };
    return { event: privacyTransform({ masker: masker.active ? masker : undefined, ids: key ? new ClientIds(key) : undefined, keepClientAddress }) };
  },
});
