// Elasticsearch/OpenSearch `_bulk` bodies, also taken by ZincSearch: NDJSON pairs of an action
// line and the event (the body ends with a newline, as _bulk requires), and what the answer says
// about each item. A bulk answer is 200 even when items failed: `errors` is true and each item
// has its own status. Items refused with 429 (a full write queue) or 5xx are sent again, alone;
// the others (a mapping conflict, say) are counted as rejected with the first reason logged.
// ZincSearch's own /api/_bulk answers {"record_count": n} instead of items.
import type { Log } from '../../log.js';
import type { Counters, Stats } from '../../stats.js';
import { encodeJson } from '../format/json.js';
import { httpOutput, type HttpClient, type HttpReply, type Taken } from './http.js';
import { lineCount, LinesEncoder, type RecordWriter } from './json-bodies.js';

export const BULK_HEADERS = { 'content-type': 'application/x-ndjson' } as const;

/** An action line for the index, then the event. `create` also writes to data streams. */
export function bulkLine(action: 'create' | 'index', index: string): RecordWriter {
  const head = Buffer.from(JSON.stringify({ [action]: { _index: index } }) + '\n');
  return (w, ev) => {
    w.bytes(head);
    encodeJson(w, ev);
  };
}

/** Events in a bulk body: two lines each. */
export function bulkRows(body: Uint8Array): number {
  return lineCount(body) / 2;
}

interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

function reason(status: number, e: BulkItem['error']): string {
  if (typeof e === 'string') return `${status} ${e}`;
  return `${status} ${e?.type ?? 'error'}: ${e?.reason ?? ''}`.trim();
}

/** Reads a 2xx bulk answer. */
export function bulkTaken(reply: HttpReply, body: Uint8Array): Taken {
  let doc: { errors?: boolean; items?: Record<string, BulkItem>[]; record_count?: number };
  try {
    doc = JSON.parse(reply.body) as typeof doc;
  } catch {
    return { refused: 0 }; // a 2xx without a JSON answer: nothing says an item failed
  }
  const docs = bulkRows(body);
  if (Array.isArray(doc.items)) {
    if (!doc.errors) return { refused: 0 };
    const lines = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').split('\n');
    const again: string[] = [];
    let refused = 0;
    let whyRefused: string | undefined;
    let whyAgain: string | undefined;
    doc.items.forEach((item, i) => {
      const r = Object.values(item ?? {})[0] ?? {};
      const status = r.status ?? 0;
      if (status >= 200 && status < 300) return;
      if (status === 429 || status >= 500) {
        again.push(lines[2 * i], lines[2 * i + 1]);
        whyAgain ??= reason(status, r.error);
      } else {
        refused++;
        whyRefused ??= reason(status, r.error);
      }
    });
    return { refused, again: again.length > 0 ? Buffer.from(again.join('\n') + '\n') : undefined, why: whyRefused ?? whyAgain };
  }
  if (typeof doc.record_count === 'number' && doc.record_count < docs) {
    return { refused: docs - doc.record_count, why: `the receiver took ${doc.record_count} of ${docs} records` };
  }
  return { refused: 0 };
}

export interface BulkOutputOptions {
  name: string;
  action: 'create' | 'index';
  index: string;
  url: URL; // the _bulk URL
  headers?: Readonly<Record<string, string>>; // a fixed authorization
  authHint: string;
  client: HttpClient;
  batchSize: number;
  delayMs: number;
  stats: Stats;
  counters: Counters;
  log: Log;
  maxQueueBytes?: number;
  stop?: AbortSignal;
}

/** An output that sends _bulk requests (Elasticsearch, OpenSearch, ZincSearch). */
export function bulkOutput(o: BulkOutputOptions): ReturnType<typeof httpOutput> {
  return httpOutput({
    ...o,
    encoder: new LinesEncoder(bulkLine(o.action, o.index)),
    protocol: { urls: [o.url], headers: { ...BULK_HEADERS, ...o.headers }, authHint: o.authHint, rows: bulkRows, taken: bulkTaken },
  });
}
