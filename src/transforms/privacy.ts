// The last transform before the outputs: address masks and keyed client ids. It runs after
// matching, which pairs queries and responses on whole addresses.
import type { DnsEvent } from '../event.js';
import type { EventTransform } from '../pipeline.js';
import type { ClientIds } from './clientid.js';
import type { AddressMasker } from './mask.js';

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
