// The PostgreSQL sink: the sink toolkit (../sink) with the COPY encoder, one connection per
// --psqlWorkers. A batch is one transaction: COPY into a temporary table, make the day partitions
// it needs, move its rows into dns_queries (a row whose event_hash is there already is a replay
// and is left out), add what went in to the daily rollups, COMMIT. Loaded when the output opens.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { Context, LogChunk, OpenedOutput, Output, Receipt } from '../../component.js';
import type { DnsEvent } from '../../event.js';
import type { Log } from '../../log.js';
import type { Counters, Stats } from '../../stats.js';
import { StoppedWaiting, stoppedOutput, untilReachable } from '../sink/reachable.js';
import { Spool, type SpoolCodec } from '../sink/spool.js';
import { BatchWriter, Receipts, sinkContext, type SinkBatch, type SinkTarget } from '../sink/writer.js';
import { connect, isConnectionError, isFatal, startupError, where, type PgConnection } from './connect.js';
import { COPY_COLUMNS, CopyEncoder, FULL_QUERY_COLUMN } from './copy.js';
import type { PsqlOptions } from './index.js';
import { addFresh, FRESH_TABLE, insertStaged, rollPending } from './rollup.js';
import { dropOldPartitions, makePartitionsAhead, migrate, schemaName } from './schema.js';

export const NAME = 'psql';

export interface PgMeta {
  columns: readonly string[];
}

export interface PgSettings {
  conn: PgConnection;
  schema: string;
  tz: string; // the schema's zone (migrate() returns it)
  retentionDays: number; // 0: keep every day
}

/** One connection that writes batches. Reconnects on the next batch after the server went away. */
export class PgTarget implements SinkTarget<PgMeta> {
  private client: pg.Client | null = null;
  private readonly days = new Set<string>(); // day partitions known to exist

  constructor(
    private readonly s: PgSettings,
    private readonly counters: Counters,
    private readonly stats: Stats,
    private readonly log: Log,
  ) {}

  get where(): string {
    return where(this.s.conn);
  }

  private async connected(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = await connect(this.s.conn, (err) => {
      this.log.warn({ err: err.message }, 'PostgreSQL connection lost');
      if (this.client === client) this.client = null;
    });
    const cols = COPY_COLUMNS.map((c) => `${c}`).join(', ');
    try {
      await client.query(`CREATE TEMP TABLE stage ON COMMIT DELETE ROWS AS SELECT ${cols}, ${FULL_QUERY_COLUMN} FROM ${this.s.schema}.dns_queries WITH NO DATA`);
      await client.query(FRESH_TABLE);
    } catch (err) {
      await client.end().catch(() => undefined); // a session that cannot stage is closed, not leaked
      throw err;
    }
    this.client = client;
    return client;
  }

  async send(batch: SinkBatch<PgMeta>): Promise<void> {
    const { schema, tz } = this.s;
    const c = await this.connected();
    try {
      await c.query('BEGIN');
      await c.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(this.s.conn.timeoutMs))}`);
      const source = batch.path ? createReadStream(batch.path) : Readable.from(batch.data ?? []);
      await pipeline(source, c.query(copyStreams.from(`COPY stage (${batch.meta.columns.join(', ')}) FROM STDIN`)));
      if (this.s.retentionDays > 0) {
        const old = await c.query(`DELETE FROM stage WHERE queried_at < ((now() AT TIME ZONE $1)::date - $2::int)::timestamp AT TIME ZONE $1`, [tz, this.s.retentionDays]);
        if (old.rowCount) {
          this.counters.add('expired', old.rowCount);
          this.stats.dropped(NAME, 'expired', old.rowCount);
        }
      }
      const days = await c.query<{ d: string }>(`SELECT DISTINCT to_char((queried_at AT TIME ZONE $1)::date, 'YYYY-MM-DD') AS d FROM stage`, [tz]);
      const fresh = days.rows.map((r) => r.d).filter((d) => !this.days.has(d));
      if (fresh.length) await c.query(`SELECT ${schema}.ensure_day(d, $1) FROM unnest($2::date[]) AS d`, [tz, fresh]);
      const moved = await c.query(insertStaged(schema, batch.meta.columns), [tz]);
      for (const sql of addFresh(schema)) await c.query(sql);
      await c.query('COMMIT');
      for (const d of fresh) this.days.add(d);
      const replayed = batch.rows - (moved.rowCount ?? 0);
      if (replayed > 0) this.counters.add('duplicates', replayed);
    } catch (err) {
      if (isConnectionError(err)) {
        this.client = null;
        c.end().catch(() => undefined);
      } else await c.query('ROLLBACK').catch(() => undefined);
      // 23514: a row with no partition (one was dropped meanwhile): ask for them again.
      if ((err as { code?: string }).code === '23514') this.days.clear();
      throw err;
    }
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}

// At start-up, waited out: a server that cannot be reached (or is starting up, 57P03), not one
// that refused the login or the certificate (startupError() makes those exit 2).
const isStartupRetry = (err: unknown) => isConnectionError(err) && !isFatal(err);

// 22xxx: data exceptions (a value the column cannot take): the batch will never go in.
const isBadData = (err: unknown) => /^22/.test((err as { code?: string }).code ?? '');

const SPOOL_CODEC: SpoolCodec<PgMeta> = {
  describe: (meta, rows) => ({ version: 1, columns: [...meta.columns], rows, createdAt: new Date().toISOString() }),
  extension: () => 'copy',
  extensions: ['copy'],
  read(json) {
    const m = json as { columns?: unknown; rows?: unknown };
    if (!Array.isArray(m.columns) || typeof m.rows !== 'number') throw new Error('bad meta');
    return { meta: { columns: m.columns.map(String) }, rows: m.rows };
  },
};

export interface PsqlOutputOptions extends PgSettings {
  workers: number;
  batchSize: number;
  delayMs: number;
  fullQuery: boolean;
  partitionsAhead: number;
  rollupIntervalMs: number;
  spoolDir: string;
  stats: Stats;
  counters: Counters;
  log: Log;
  maxQueueBytes?: number;
  stop?: AbortSignal;
  retryInitialMs?: number;
  closeTimeoutMs?: number;
}

/** The output: writers (one per worker) and the schedule that keeps partitions and rollups. */
export async function psqlOutput(o: PsqlOutputOptions, first: pg.Client): Promise<Output> {
  // The schedule's own connection, made again after the server went away.
  let admin: pg.Client | null = first;
  first.on('error', () => (admin = null));
  const upkeep = async (): Promise<pg.Client> => {
    if (admin) return admin;
    const c = await connect(o.conn, () => (admin = null));
    admin = c;
    return c;
  };
  const meta: PgMeta = { columns: o.fullQuery ? [...COPY_COLUMNS, FULL_QUERY_COLUMN] : [...COPY_COLUMNS] };
  const targets: PgTarget[] = [];
  const writers: BatchWriter<PgMeta>[] = [];
  // A batch that comes with a receipt (the NATS input) is confirmed once its transaction committed.
  const receipts = new Receipts();
  for (let i = 0; i < o.workers; i++) {
    const target = new PgTarget(o, o.counters, o.stats, o.log);
    const spool = o.spoolDir ? await Spool.open(`${o.spoolDir}/${i}`, { maxBytes: 4 * 1024 ** 3, codec: SPOOL_CODEC }) : null;
    targets.push(target);
    writers.push(
      new BatchWriter(target, {
        name: NAME,
        encoder: new CopyEncoder(o.fullQuery),
        meta,
        stats: o.stats,
        maxQueueBytes: o.maxQueueBytes,
        stop: o.stop,
        counters: o.counters,
        log: o.log,
        batchSize: o.batchSize,
        delayMs: o.delayMs,
        spool,
        isBadData,
        onSent: (b) => receipts.done(b),
        onSetAside: (b) => receipts.done(b),
        retryInitialMs: o.retryInitialMs,
        closeTimeoutMs: o.closeTimeoutMs,
      }),
    );
  }

  // The schedule: pending weeks and months; once an hour, partitions ahead and retention.
  let lastHourly = Date.now();
  let running: Promise<void> | null = null;
  const tick = (hourly: boolean) => {
    running ??= (async () => {
      try {
        const c = await upkeep();
        if (hourly) {
          await makePartitionsAhead(c, o.schema, o.tz, o.partitionsAhead);
          const dropped = await dropOldPartitions(c, o.schema, o.tz, o.retentionDays);
          if (dropped.length) o.log.info({ partitions: dropped }, 'PostgreSQL partitions past --psqlRetentionDays dropped');
        }
        await rollPending(c, o.schema);
      } catch (err) {
        o.log.warn({ err: (err as Error).message }, 'PostgreSQL rollup or partition upkeep failed; tried again at the next interval');
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const timer = setInterval(() => {
    const hourly = Date.now() - lastHourly >= 3_600_000;
    if (hourly) lastHourly = Date.now();
    void tick(hourly);
  }, o.rollupIntervalMs);
  timer.unref();

  let next = 0;
  return {
    name: NAME,
    confirms: true,
    write(events: readonly DnsEvent[], _chunk?: LogChunk, receipt?: Receipt) {
      const w = writers[next];
      next = (next + 1) % writers.length;
      return receipt ? receipts.write(w, events, receipt) : w.write(events);
    },
    async close() {
      clearInterval(timer);
      try {
        await Promise.all(writers.map((w) => w.close()));
        await running;
        await tick(false);
      } finally {
        await Promise.all(targets.map((t) => t.close()));
        await admin?.end().catch(() => undefined);
      }
    },
  };
}

/** Opens the output: connects (a failure that retrying cannot fix exits 2; a server that cannot be
 *  reached is waited for, until SIGINT/SIGTERM), migrates, makes partitions. */
export async function openPsql(ctx: Context<PsqlOptions>): Promise<OpenedOutput> {
  const s = ctx.settings;
  const conn: PgConnection = { endpoint: s.psqlEndpoint, passwordFile: s.psqlPasswordFile, timeoutMs: s.psqlBatchTimeout, skipTlsVerify: ctx.run.skipTlsVerify };
  const schema = schemaName(s.psqlSchema);
  // One attempt: connect, migrate, make the partitions (the server may go away between them).
  const attempt = async (): Promise<{ admin: pg.Client; tz: string }> => {
    const admin = await connect(conn, (err) => ctx.log.warn({ err: err.message }, 'PostgreSQL connection lost'));
    try {
      const tz = await migrate(admin, schema, ctx.run.timezone);
      await makePartitionsAhead(admin, schema, tz, s.psqlPartitionsAhead);
      await dropOldPartitions(admin, schema, tz, s.psqlRetentionDays);
      return { admin, tz };
    } catch (err) {
      await admin.end().catch(() => undefined);
      throw err;
    }
  };
  let admin: pg.Client;
  let tz: string;
  try {
    ({ admin, tz } = await untilReachable(`PostgreSQL at ${where(conn)}`, attempt, isStartupRetry, ctx.log, ctx.run.signal, { discard: (late) => late.admin.end().catch(() => undefined) }));
  } catch (err) {
    if (err instanceof StoppedWaiting) return { output: stoppedOutput(NAME, ctx.stats, ctx.counters) };
    throw startupError(err, conn);
  }
  ctx.log.debug({ where: where(conn), schema, timezone: tz }, 'PostgreSQL output open');
  const output = await psqlOutput(
    {
      conn,
      schema,
      tz,
      retentionDays: s.psqlRetentionDays,
      workers: s.psqlWorkers,
      batchSize: s.psqlBatchSize,
      delayMs: s.psqlBatchDelay,
      fullQuery: s.psqlSaveFullQuery,
      partitionsAhead: s.psqlPartitionsAhead,
      rollupIntervalMs: s.psqlRollupInterval,
      spoolDir: s.psqlSpoolDir,
      ...sinkContext(ctx),
    },
    admin,
  );
  return { output };
}
