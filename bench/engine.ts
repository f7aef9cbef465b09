// The embedded engine alone, as the reference of a whole-process figure into the store: chdb
// inserting the very rows a run stored, read back from Native files in the batches and with the
// insert settings, allocator options and engine arguments dnslens uses under the same
// --memoryLimit, into a freshly migrated store with every view, in a process of its own.
// No decoding, no parsing, no migration, no signals: a ceiling for dnslens on this machine.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { embeddedRows } from '../src/outputs/clickhouse/store.js';
import { resolveMemoryLimit } from '../src/memory.js';
import { EMBEDDED_INSERT_SETTINGS, engineSettings, sqlString } from '../src/store/connection.js';
import type { Ctx, Row } from './run.js';

// Inserts each Native file in turn into DNS_LOG of the data dir given first.
const INSERT_CHILD = `
const [dir, settings, allocator, args, ...files] = process.argv.slice(1);
if (allocator && !process.env.JE_MALLOC_CONF) process.env.JE_MALLOC_CONF = allocator; // read when chdb loads, as dnslens does
const { Session } = await import('chdb');
const s = new Session(dir, JSON.parse(args).length > 0 ? { connectionArgs: JSON.parse(args) } : undefined);
try {
  for (const f of files) await s.queryAsync('INSERT INTO DNS_LOG FROM INFILE ' + f + ' ' + settings + ' FORMAT Native');
} finally {
  s.close();
}
`;

export interface EngineRun {
  seconds: number; // spawn to exit
  maxRssKb: number | null;
  note: string; // what it did and what it took
}

/** The engine alone on what `filled` holds, under memoryLimit (bytes, 0 = none; by default the
 *  limit dnslens takes without --memoryLimit); a string says why it failed. */
export async function engineAlone(ctx: Ctx, tag: string, filled: string, memoryLimit = resolveMemoryLimit('auto')): Promise<EngineRun | string> {
  const run = await import('./run.js'); // at call time: importing bench/run.ts runs the bench
  try {
    const dir = run.freshDir(`${tag}-engine`);
    const batches = join(dirname(dir), 'batches');
    mkdirSync(batches, { recursive: true });
    // A checksum of every row, to show that the engine stored the very rows the run stored.
    const sum = 'SELECT count() AS n, toString(sum(cityHash64(*))) AS h FROM DNS_LOG';
    const [[want]] = await run.chdbRun(ctx, filled, [sum]);
    const size = embeddedRows(memoryLimit);
    const files: string[] = [];
    const dumps: string[] = [];
    for (let at = 0; at < Number(want.n); at += size) {
      const f = join(batches, `${files.length}.native`);
      files.push(f);
      // in arrival order, as the run inserted them; the hash orders ties, so the pages neither overlap nor miss a row
      dumps.push(`SELECT * FROM DNS_LOG ORDER BY PacketTime, QR, cityHash64(*) LIMIT ${at}, ${size} INTO OUTFILE ${sqlString(f)} FORMAT Native`);
    }
    await run.chdbRun(ctx, filled, dumps);
    const opts = { captureStdout: false, timeoutMs: ctx.timeoutMs, cwd: ctx.root };
    const migrated = await run.runTimed(process.execPath, [run.mainScript(ctx), 'schema', 'migrate', '--dataDir', dir], opts);
    if (migrated.code !== 0) return `schema migrate: ${run.failure(migrated)}`;
    const engine = engineSettings(memoryLimit);
    const args = ['--input-type=module', '-e', INSERT_CHILD, dir, EMBEDDED_INSERT_SETTINGS, engine.allocator ?? '', JSON.stringify(engine.args), ...files.map(sqlString)];
    const t = await run.runTimed(process.execPath, args, opts);
    if (t.code !== 0) return run.failure(t);
    const [[got]] = await run.chdbRun(ctx, dir, [sum]);
    if (got.n !== want.n || got.h !== want.h) return `the engine stored other rows (${String(got.n)} rows, checksum ${String(got.h)}; the run: ${String(want.n)}, ${String(want.h)})`;
    const note =
      `chdb alone: the ${run.int(Number(got.n))} rows stored (same checksum), in ${files.length} Native inserts into a migrated store with all views; ` +
      `${t.seconds.toFixed(2)} s spawn to exit, CPU ${run.cpu(t.cpuSeconds)}, peak RSS ${run.mb(t.maxRssKb)}`;
    return { seconds: t.seconds, maxRssKb: t.maxRssKb, note };
  } catch (e) {
    return (e as Error).message; // the step's other rows stand
  }
}

/** The row of an engine-alone figure (value: from its run), beside dnslens' own seconds when given. */
export function engineRow(step: string, figure: string, e: EngineRun | string, value: (e: EngineRun) => string, oursSeconds?: number): Row {
  if (typeof e === 'string') return { step, figure, value: 'failed', note: e };
  const share = oursSeconds === undefined ? '' : `; dnslens reaches ${((100 * e.seconds) / oursSeconds).toFixed(0)}% of it`;
  return { step, figure, value: value(e), note: e.note + share };
}
