// Events straight into DNS_LOG through a store's insertBatch (one Native block), for tests that
// need rows in a store without the output's batching.
import type { DnsEvent } from '../src/event.js';
import { DNS_LOG_COLUMNS } from '../src/outputs/clickhouse/columns.js';
import { encodeNative } from '../src/outputs/clickhouse/native.js';
import type { Store } from '../src/store/connection.js';

/** DNS_LOG's column names, in the order the encoders write them. */
export function dnsLogColumnNames(): string[] {
  return [...DNS_LOG_COLUMNS];
}

export async function insertEvents(store: Pick<Store, 'insertBatch'>, events: readonly DnsEvent[]): Promise<void> {
  if (events.length === 0) return;
  await store.insertBatch({ columns: dnsLogColumnNames(), rows: events.length, format: 'Native', data: encodeNative(events, Math.floor(Date.now() / 1000)) });
}
