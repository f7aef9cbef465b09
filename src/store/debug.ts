// --clickhouseDebug: every statement and insert a store runs, logged with its duration (and the
// error, when it fails). A proxy, so the store stays what it is (instanceof EmbeddedStore holds).
import type { Log } from '../log.js';
import type { InsertBatch, QueryParams, Store } from './connection.js';

const SQL_SHOWN = 500; // characters of a statement in the log

function bytesOf(data: InsertBatch['data']): number | undefined {
  if (!data) return undefined;
  let n = 0;
  for (const c of data instanceof Uint8Array ? [data] : data) n += c.byteLength;
  return n;
}

const shown = (sql: string) => (sql.length > SQL_SHOWN ? `${sql.slice(0, SQL_SHOWN)}…` : sql).replace(/\s+/g, ' ').trim();

export function debugStore(store: Store, log: Log): Store {
  const timed =
    <A extends unknown[], R>(what: string, f: (...args: A) => Promise<R>, fields: (...args: A) => Record<string, unknown>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        const r = await f.apply(store, args);
        log.info({ ...fields(...args), ms: Math.round(performance.now() - started), store: store.where }, `clickhouse ${what}`);
        return r;
      } catch (e) {
        log.warn({ ...fields(...args), ms: Math.round(performance.now() - started), store: store.where, err: (e as Error).message }, `clickhouse ${what} failed`);
        throw e;
      }
    };
  const wrapped: Partial<Store> = {
    exec: timed('exec', store.exec, (sql: string) => ({ sql: shown(sql) })),
    query: timed('query', store.query, (sql: string, params?: QueryParams) => ({ sql: shown(sql), params })) as Store['query'],
    queryText: timed('query', store.queryText, (sql: string, format: string) => ({ sql: shown(sql), format })),
    insertBatch: timed('insert', store.insertBatch, (b: InsertBatch) => ({ rows: b.rows, format: b.format, token: b.token, bytes: bytesOf(b.data), spooled: b.path })),
  };
  return new Proxy(store, {
    get(target, prop) {
      if (prop in wrapped) return wrapped[prop as keyof Store];
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
