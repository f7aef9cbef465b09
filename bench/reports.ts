// The `reports` bench step (issue #14, "Speed"): the named reports on a store of 100 million DNS
// messages over 30 days, each timed as a user runs it (`dnslens report NAME --since ... --until ...
// --dataDir DIR`, whole process, best of 3), against the target: a 30-day `top` in under 1 second.
// In the same run, the references: the process start-up alone (`dnslens sql "SELECT 1"`), and `top`
// forced onto DNS_LOG by a window that does not start on a whole day, so the ratio shows what the
// rollups buy.
//
// The store is filled inside ClickHouse (INSERT INTO DNS_LOG SELECT ... FROM numbers(...), in
// chunks), so the materialized views fill the rollups exactly as a capture's inserts do; IndexTime
// is the hour of each message, as a live capture over those 30 days would have stored it. Then
// OPTIMIZE FINAL on every table leaves it as background merges would after a while (otherwise each
// report's process starts merging DNS_LOG's parts while it runs). It is made once per
// (STORE_VERSION, seed, size) and kept in ctx.cacheDir. Every value comes from cityHash64 of the
// seed and the message number, so a seed gives the same store every time.
//
// The traffic model (fillSql): a lookup is a query and its response (1 in ~120 goes unanswered: the
// query and a retry 1 s later), spread over 30 days (DAYS from FIRST_DAY, UTC) with a daily cycle
// (busiest at 16:00, quietest at 04:00, 4× apart). Names are Zipf-distributed (s = 1) over NAMES
// names under APEXES apexes, themselves Zipf-popular; the most popular apexes are those of
// clickhouse/dictionaries/domain_categories.tsv, so the categories report has something to show.
// 2% of lookups are random names under those apexes that do not exist (NXDOMAIN), 4% are PTR
// lookups of local addresses, and 4% of the other names do not exist either. ~CLIENTS clients (1 in 8 over IPv6),
// half the lookups from a Zipf-skewed few, half spread evenly, asking two resolvers. Query types:
// A, AAAA, HTTPS, TXT, MX, SRV, NS, SOA, CNAME, PTR. 65% of answers are cached (0.15-1.6 ms), the
// rest take 2-110 ms, 1% a second or two; 0.6% SERVFAIL, 0.1% REFUSED.
//
// bench/run.ts is loaded only when the step runs (it runs the bench as soon as it is imported).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ctx, Row, Step } from './run.js';

const STEP = 'reports';
/** Bump when the model or the schema of the filled store changes: it invalidates cached stores. */
export const STORE_VERSION = 2;
/** Retention of the bench store: 10 years from IndexTime (in FIRST_DAY's month) for every table. */
export const STORE_TTL_FLAGS = [
  '--clickhouseTTL', '3650',
  '--clickhouseRollupTTLMinute', '3650',
  '--clickhouseRollupTTLHour', '3650',
  '--clickhouseRollupTTLDay', '3650',
  '--clickhouseRollupTTLWeek', '3650',
  '--clickhouseRollupTTLMonth', '3650',
];
export const DAYS = 30;
export const FIRST_DAY = '2025-03-01'; // a fixed window, so that a seed always gives the same store
export const UNTIL_DAY = new Date(Date.parse(`${FIRST_DAY}T00:00:00Z`) + DAYS * 86_400_000).toISOString().slice(0, 10); // the day after
export const NAMES = 300_000;
export const APEXES = 10_000;
export const CLIENTS = 5_000;
/** Messages per INSERT: the rows of ~3 days, sent to the views in blocks of ~1M rows. */
const CHUNK = 10_000_000;
export const TARGET_TOP_SECONDS = 1;

/** The reports, in `dnslens report --help`'s order. */
const REPORT_NAMES = ['top', 'categories', 'heatmap', 'nxdomain', 'latency', 'clients', 'qtypes', 'rcodes', 'new-domains', 'signals'];

// Words the generated names are made of.
const SYLLABLES = ['ka', 'lo', 'mi', 'ra', 'ten', 'vo', 'zu', 'bel', 'cor', 'dan', 'el', 'fi', 'gar', 'hu', 'in', 'jo', 'kel', 'lum', 'mar', 'nor', 'or', 'pel', 'qui', 'ros', 'sal', 'tor', 'ul', 'ven', 'wex', 'yar', 'zen', 'al', 'bri', 'co', 'de', 'ex', 'fo', 'gen', 'ho', 'ix', 'lan', 'mo', 'net', 'ox', 'pix', 'stor', 'tech', 'ly', 'fy', 'hub', 'box', 'go', 'on', 'ar', 'is', 'um', 'sky', 'cloud', 'data'];
const TLDS = ['com', 'com', 'com', 'com', 'com', 'com', 'com', 'com', 'net', 'net', 'org', 'de', 'de', 'io', 'co.uk', 'fr', 'nl', 'eu', 'app', 'dev', 'info', 'co', 'it', 'pl', 'ch', 'se', 'jp', 'tv'];
const WORDS = ['api', 'cdn', 'static', 'img', 'images', 'm', 'mail', 'login', 'auth', 'app', 'assets', 'media', 'video', 'edge', 'push', 'sync', 'telemetry', 'update', 'ocsp', 'crl', 'events', 'metrics', 'analytics', 'tracking', 'ads', 'pixel', 'graph', 'ws', 'chat', 'files', 'download', 'dl', 'mirror', 'repo', 'docs', 'help', 'support', 'shop', 'store', 'news', 'blog', 'status', 'portal', 'accounts', 'id', 'sso', 'gateway', 'config', 'content', 'fonts', 'js', 'css', 's3', 'storage', 'backup', 'vpn', 'time', 'ntp', 'connect', 'collector', 'logs', 'beacon', 'secure', 'web', 'www2', 'v1'];
const REGIONS = ['eu', 'us', 'ap', 'eu-west-1', 'us-east-1', 'fra', 'ams', 'lhr', 'iad', 'sjc', 'nrt', 'syd', 'prod', 'global'];

const list = (xs: readonly string[]): string => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

/** The apexes of the categories dictionary: the most popular apexes of the generated traffic. */
export function knownApexes(root: string): string[] {
  const tsv = readFileSync(join(root, 'clickhouse', 'dictionaries', 'domain_categories.tsv'), 'utf8');
  return tsv
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t')[0])
    .filter((a) => /^[a-z0-9.-]+$/.test(a)); // names only: they go into the SQL as literals
}

/** SQL for a uniform number in [0, 1) from n bits of hash h, starting at bit from. */
const uniform = (h: string, from: number, n: number): string => `(bitAnd(bitShiftRight(${h}, ${from}), ${2 ** n - 1}) / ${2 ** n})`;
/** SQL for a Zipf-distributed (s = 1) rank in [0, n) from a uniform u: P(rank < k) = ln(k + 1) / ln(n + 1). */
const zipf = (u: string, n: number): string => `least(toUInt32(floor(exp(${u} * log(${n + 1})))) - 1, ${n - 1})`;

export interface FillOptions {
  seed: number;
  messages: number; // the store's total: lookups are spread over DAYS by it
  from: number; // first message of this chunk
  count: number;
  apexes: readonly string[]; // knownApexes()
}

/** One INSERT INTO DNS_LOG SELECT of messages [from, from + count): see the model at the top. */
export function fillSql(o: FillOptions): string {
  const s = o.seed;
  const lookups = Math.ceil(o.messages / 2);
  const start = Date.parse(`${FIRST_DAY}T00:00:00Z`) * 1000; // µs
  // A lookup's random bits: h (name, kind, type, rcode, unanswered), g (client, latency, transport),
  // f (ID, port, random names); a name's: nh (apex, shape, words, existence); an apex's: ah.
  return `INSERT INTO DNS_LOG (PacketTime, IndexTime, Server, IPVersion, ClientIPv4, ClientIPv6, ServerIPv4, ServerIPv6,
  ClientPort, ServerPort, Protocol, QR, OpCode, Class, Type, Edns0Present, DoBit, ResponseCode, Question, Size, ApexLength,
  ID, AA, TC, RD, RA, AD, CD, QdCount, AnCount, NsCount, ArCount, AnswerName, AnswerType, AnswerClass, AnswerTTL, AnswerData,
  EdnsUdpSize, EdnsClientSubnet, ResponseTimeUs, InputKind, InputName, Unanswered)
SELECT
  fromUnixTimestamp64Micro(at, 'UTC'), toStartOfHour(toDateTime(intDiv(at, 1000000), 'UTC')), 'default', if(v6, 6, 4),
  if(v6, toIPv4('0.0.0.0'), toIPv4(toUInt32(167837696 + 256 * intDiv(client, 250) + client % 250 + 2))),
  if(v6, toIPv6(concat('2001:db8:10:', hex(toUInt16(client)), '::', hex(toUInt16(client * 7919 % 65535 + 1)))), toIPv6('::')),
  if(v6, toIPv4('0.0.0.0'), if(client % 5 < 3, toIPv4('10.0.0.53'), toIPv4('10.0.1.53'))),
  if(v6, toIPv6('2001:db8:53::53'), toIPv6('::')),
  toUInt16(1024 + bitShiftRight(f, 16) % 64000), 53, if(${uniform('g', 57, 7)} < 0.02, 'tcp', 'udp'),
  QR, 0, 1, Type, edns, edns AND client % 10 = 1, if(QR = 1, rcode, 0), Question,
  toUInt16(12 + length(Question) + 6 + if(edns, 11, 0) + if(QR = 1, answers * if(Type = 1, 16, 28) + if(rcode = 3, 64, 0), 0)),
  toUInt16(length(Apex)), toUInt16(f % 65536),
  false, false, true, QR = 1, QR = 1 AND edns AND client % 10 = 1, false,
  1, if(QR = 1, answers, 0), if(QR = 1 AND rcode = 3, 1, 0), if(edns, 1, 0),
  if(QR = 1 AND answers = 1, [Question], []), if(QR = 1 AND answers = 1, [Type], []), if(QR = 1 AND answers = 1, [toUInt16(1)], []),
  if(QR = 1 AND answers = 1, [[20, 60, 300, 3600][1 + nh % 4]], []),
  if(QR = 1 AND answers = 1, [if(Type = 1, IPv4NumToString(toUInt32(bitAnd(nh, 4294967295))), concat('2606:4700:', lower(hex(toUInt16(nh % 65536))), '::', lower(hex(toUInt16(bitShiftRight(nh, 16) % 65536)))))], []),
  if(edns, 1232, 0), '', if(unanswered, NULL, latency), 'pcap', 'generated', unanswered
FROM (
  SELECT
    number AS n, intDiv(number, 2) AS j,
    cityHash64(${s}, j) AS h, cityHash64(${s}, j, 1) AS g, cityHash64(${s}, j, 2) AS f,
    -- when: 30 days of lookups in order, each day bent into a daily cycle
    (j + 0.5) * ${DAYS} / ${lookups} AS pos, floor(pos) AS day, pos - day AS x,
    x + 0.6 / (2 * pi()) * sin(2 * pi() * (x - 4 / 24)) AS bent, toInt64(${start} + (day + bent - floor(bent)) * 86400e6) AS asked,
    -- who: half the lookups from a skewed few clients, half spread over all
    if(bitAnd(g, 1) = 1, ${zipf(uniform('g', 1, 20), CLIENTS)}, bitShiftRight(g, 1) % ${CLIENTS}) AS client,
    client % 8 = 0 AS v6, client % 7 != 0 AS edns,
    -- what: a random name under an apex (2%), a PTR (4%), or one of the names
    ${uniform('h', 24, 10)} AS kindDraw, multiIf(kindDraw < 0.02, 'random', kindDraw < 0.06, 'ptr', 'name') AS kind,
    ${zipf(uniform('h', 0, 24), NAMES)} AS k, cityHash64(${s}, 'name', k) AS nh,
    if(k < ${o.apexes.length}, k, ${zipf(uniform('nh', 0, 20), APEXES)}) AS a, cityHash64(${s}, 'apex', a) AS ah,
    ${list(SYLLABLES)} AS syllables, ${list(TLDS)} AS tlds, ${list(WORDS)} AS words,
    if(a < ${o.apexes.length}, ${list(o.apexes)}[a + 1],
       concat(syllables[1 + ah % ${SYLLABLES.length}], syllables[1 + bitShiftRight(ah, 8) % ${SYLLABLES.length}],
              if(bitShiftRight(ah, 16) % 3 = 0, syllables[1 + bitShiftRight(ah, 24) % ${SYLLABLES.length}], ''),
              '.', tlds[1 + bitShiftRight(ah, 32) % ${TLDS.length}])) AS nameApex,
    bitShiftRight(nh, 20) % 100 AS shape,
    multiIf(shape < 8, 'www', shape < 12, '',
            shape < 42, words[1 + bitShiftRight(nh, 30) % ${WORDS.length}],
            shape < 57, concat(words[1 + bitShiftRight(nh, 30) % ${WORDS.length}], toString(1 + bitShiftRight(nh, 38) % 40)),
            shape < 72, concat(words[1 + bitShiftRight(nh, 30) % ${WORDS.length}], '.', words[1 + bitShiftRight(nh, 38) % ${WORDS.length}]),
            shape < 80, concat(words[1 + bitShiftRight(nh, 30) % ${WORDS.length}], '-', ${list(REGIONS)}[1 + bitShiftRight(nh, 38) % ${REGIONS.length}]),
            concat(substring(lower(hex(nh)), 1, 10), '.', ['edge', 'cdn', 'c', 't'][1 + bitShiftRight(nh, 46) % 4])) AS label,
    multiIf(kind = 'random', concat(substring(lower(hex(f)), 1, 8 + bitShiftRight(f, 61)), '.', nameApex),
            kind = 'ptr', concat(toString(client % 250 + 2), '.', toString(intDiv(client, 250)), '.1.10.in-addr.arpa'),
            label = '', nameApex, concat(label, '.', nameApex)) AS Question,
    if(kind = 'ptr', '10.in-addr.arpa', nameApex) AS Apex,
    -- the answer
    ${uniform('h', 34, 10)} AS typeDraw,
    if(kind = 'ptr', 12, if(kind = 'random', 1,
       multiIf(typeDraw < 0.54, 1, typeDraw < 0.84, 28, typeDraw < 0.91, 65, typeDraw < 0.94, 16, typeDraw < 0.96, 15,
               typeDraw < 0.975, 33, typeDraw < 0.985, 2, typeDraw < 0.993, 6, 5))) AS Type,
    ${uniform('h', 44, 10)} AS rcodeDraw,
    multiIf(kind = 'random', 3, kind = 'ptr' AND client % 4 = 0, 3, kind = 'name' AND k >= ${o.apexes.length} AND bitShiftRight(nh, 50) % 100 < 4, 3,
            rcodeDraw < 0.006, 2, rcodeDraw < 0.007, 5, 0) AS rcode,
    if(rcode = 0 AND Type IN (1, 28), 1, 0) AS answers,
    kind != 'random' AND ${uniform('h', 54, 10)} < 0.008 AS unanswered,
    if(unanswered, 0, n % 2) AS QR,
    asked + if(QR = 1, latency, if(n % 2 = 1, 1000000, 0)) AS at,
    toUInt32(multiIf(${uniform('g', 37, 10)} < 0.65, 150 + bitShiftRight(g, 21) % 1500,
                     ${uniform('g', 47, 10)} < 0.01, 800000 + bitShiftRight(g, 21) % 1200000,
                     2000 * exp(4 * ${uniform('g', 21, 16)}))) AS latency
  FROM numbers(${o.from}, ${o.count})
)
SETTINGS parallel_view_processing = 1, max_insert_threads = 2`;
}

// ---------------------------------------------------------------- the store, filled once and kept

type RunModule = typeof import('./run.js');

/** What the cache keeps beside a filled store: how it was made, and what it holds. */
export interface StoreMeta {
  version: number;
  seed: number;
  messages: number;
  filledAt: string; // ISO time
  fillSeconds: number; // the INSERTs only (schema migration apart)
  chunks: number;
  optimizeSeconds: number; // OPTIMIZE FINAL of every table afterwards
  profile: Record<string, number | string>; // over DNS_LOG: queries, names, clients, shares, first and last time
}

const PROFILE_SQL = `SELECT countIf(QR = 0) AS queries, countIf(QR = 1) AS responses, uniq(Question) AS names, uniq(Apex) AS apexes,
  uniq(ClientIPv4, ClientIPv6) AS clients, countIf(QR = 1 AND ResponseCode = 3) / responses AS nxdomain,
  countIf(Unanswered = 1 AND QR = 0) / queries AS unanswered, quantileIf(0.5)(ResponseTimeUs, QR = 1) AS p50us,
  min(PacketTime) AS first, max(PacketTime) AS last
FROM DNS_LOG`;

// The store's tables as they are now: active parts only (the parts OPTIMIZE replaced stay in the
// directory until ClickHouse's cleanup, which a short report process seldom reaches, removes them).
const SIZES_SQL = `SELECT table, sum(bytes_on_disk) AS bytes, sum(rows) AS rows, count() AS parts
FROM system.parts WHERE active AND database = currentDatabase() GROUP BY table ORDER BY bytes DESC`;

/** The filled store for (seed, messages) in ctx.cacheDir, filled now when missing or stale. */
async function cachedStore(ctx: Ctx, run: RunModule, messages: number): Promise<{ dir: string; meta: StoreMeta; filled: boolean }> {
  mkdirSync(ctx.cacheDir, { recursive: true });
  const base = join(ctx.cacheDir, `reports-v${STORE_VERSION}-seed${ctx.seed}-${messages}`);
  const metaPath = `${base}.json`;
  if (existsSync(base) && existsSync(metaPath)) {
    try {
      const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as StoreMeta;
      if (meta.version === STORE_VERSION && meta.messages === messages) return { dir: base, meta, filled: false };
    } catch {
      // unreadable: fill again below
    }
  }
  rmSync(metaPath, { force: true });
  rmSync(base, { recursive: true, force: true });
  const tmp = `${base}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  // The real schema, in UTC, with retention long enough for rows of FIRST_DAY's month.
  const migrate = await run.runTimed(process.execPath, [run.mainScript(ctx), 'schema', 'migrate', '--dataDir', tmp, '--timezone', 'UTC', ...STORE_TTL_FLAGS], {
    captureStdout: false,
    timeoutMs: ctx.timeoutMs,
    cwd: ctx.root,
  });
  if (migrate.code !== 0) throw new Error(`schema migrate: ${run.failure(migrate)}`);
  const apexes = knownApexes(ctx.root);
  let fillSeconds = 0;
  let chunks = 0;
  for (let from = 0; from < messages; from += CHUNK) {
    const count = Math.min(CHUNK, messages - from);
    const t0 = process.hrtime.bigint();
    await run.chdbRun(ctx, tmp, [fillSql({ seed: ctx.seed, messages, from, count, apexes })]);
    fillSeconds += Number(process.hrtime.bigint() - t0) / 1e9;
    chunks++;
    process.stderr.write(`bench: ${STEP}: ${run.int(from + count)} of ${run.int(messages)} messages stored, ${run.rate((from + count) / fillSeconds, 'msg')}\n`);
  }
  const t0 = process.hrtime.bigint();
  const [names] = await run.chdbRun(ctx, tmp, ["SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'"]);
  await run.chdbRun(ctx, tmp, names.map((t) => `OPTIMIZE TABLE \`${String(t.name)}\` FINAL`));
  const optimizeSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const [profile] = await run.chdbRun(ctx, tmp, [PROFILE_SQL]);
  renameSync(tmp, base);
  const meta: StoreMeta = {
    version: STORE_VERSION,
    seed: ctx.seed,
    messages,
    filledAt: new Date().toISOString(),
    fillSeconds,
    chunks,
    optimizeSeconds,
    profile: Object.fromEntries(Object.entries(profile[0]).map(([k, v]) => [k, typeof v === 'number' || /^[\d.]+$/.test(String(v)) ? Number(v) : String(v)])),
  };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
  return { dir: base, meta, filled: true };
}

// ---------------------------------------------------------------- the reports, timed

/** The tables a report read, from its --explain lines on stderr ("top apexes: read dns_domain_day: why"). */
function tablesRead(stderr: string): string {
  const read = [...stderr.matchAll(/^\S+ (\S+): read (\S+): /gm)].map((m) => `${m[1]}: ${m[2]}`);
  return read.length ? read.join(', ') : '?';
}

const secs = (s: number): string => `${s.toFixed(2)} s`;

export const reportsStep: Step = {
  name: STEP,
  title: 'the named reports over 30 days of stored messages (--messages, 100M by default; filled inside ClickHouse, cached), whole process, best of 3; top against DNS_LOG',
  async run(ctx: Ctx): Promise<Row[]> {
    const run = await import('./run.js'); // loaded already: it is the bench's entry point
    if (!existsSync(run.mainScript(ctx))) return [{ step: STEP, figure: 'top', value: 'not run', note: `${run.mainScript(ctx)} is not built` }];
    const { dir, meta, filled } = await cachedStore(ctx, run, ctx.messages);
    const p = meta.profile;
    const share = (x: number | string): string => `${(100 * Number(x)).toFixed(1)} %`;
    const [tables] = await run.chdbRun(ctx, dir, [SIZES_SQL]);
    const bytes = (t: Record<string, unknown>): number => Number(t.bytes);
    const raw = tables.find((t) => t.table === 'DNS_LOG');
    const rollups = tables.filter((t) => run.isRollup(String(t.table)));
    const rows: Row[] = [
      {
        step: STEP,
        figure: 'store',
        value: `${run.int(meta.messages)} messages`,
        note:
          `${p.first} .. ${p.last} UTC; ${run.int(Number(p.queries))} queries, ≈${run.int(Number(p.names))} names under ≈${run.int(Number(p.apexes))} apexes, ` +
          `≈${run.int(Number(p.clients))} clients, NXDOMAIN ${share(p.nxdomain)} of responses, unanswered ${share(p.unanswered)}, median response ${run.int(Number(p.p50us))} µs; ` +
          (filled ? 'filled now' : `cached, filled ${meta.filledAt.slice(0, 10)}`),
      },
      {
        step: STEP,
        figure: 'fill rate',
        value: run.rate(meta.messages / meta.fillSeconds, 'msg'),
        note:
          `INSERT INTO DNS_LOG SELECT ... FROM numbers() in ${meta.chunks} chunks, every view on: ${secs(meta.fillSeconds)}${filled ? '' : ' (when it was filled)'}; ` +
          `then OPTIMIZE FINAL ${secs(meta.optimizeSeconds)}`,
      },
      {
        step: STEP,
        figure: 'store size',
        value: `${(tables.reduce((n, t) => n + bytes(t), 0) / 1e9).toFixed(2)} GB`,
        note:
          `on disk (active parts); DNS_LOG ${run.megabytes(raw ? bytes(raw) : 0)} (${((raw ? bytes(raw) : 0) / meta.messages).toFixed(2)} B/message, ${raw?.parts ?? 0} parts), ` +
          `${rollups.length} rollups ${run.megabytes(rollups.reduce((n, t) => n + bytes(t), 0))}`,
      },
    ];

    const best = { ...ctx, repeat: Math.max(3, ctx.repeat) };
    const window = ['--since', FIRST_DAY, '--until', UNTIL_DAY];
    const startup = await run.bestOf(best, process.execPath, [run.mainScript(ctx), 'sql', '--dataDir', dir, 'SELECT 1']);
    if (startup.code !== 0) return [...rows, { step: STEP, figure: 'start-up', value: 'failed', note: run.failure(startup) }];
    rows.push({ step: STEP, figure: 'start-up', value: secs(startup.seconds), note: '`dnslens sql --dataDir DIR "SELECT 1"`: node, chdb and opening the store; part of every figure below' });

    const report = (name: string, win: string[]) => run.bestOf(best, process.execPath, [run.mainScript(ctx), 'report', name, ...win, '--dataDir', dir, '--explain']);
    let top: number | null = null;
    for (const name of REPORT_NAMES) {
      const t = await report(name, window);
      if (t.code !== 0) {
        rows.push({ step: STEP, figure: name, value: 'failed', pass: name === 'top' ? false : undefined, note: run.failure(t) });
        continue;
      }
      if (name === 'top') top = t.seconds;
      rows.push({
        step: STEP,
        figure: name,
        value: secs(t.seconds),
        ...(name === 'top' ? { target: `< ${TARGET_TOP_SECONDS} s`, pass: t.seconds < TARGET_TOP_SECONDS } : {}),
        note: `${secs(t.seconds - startup.seconds)} after start-up; read ${tablesRead(t.stderrTail)}`,
      });
    }
    // The reference: the same report on DNS_LOG, its window one second short of whole days.
    const ref = await report('top', ['--since', `${FIRST_DAY} 00:00:01`, '--until', UNTIL_DAY]);
    if (ref.code !== 0) rows.push({ step: STEP, figure: 'top on DNS_LOG', value: 'failed', note: run.failure(ref) });
    else {
      rows.push({ step: STEP, figure: 'top on DNS_LOG (reference)', value: secs(ref.seconds), note: `--since '${FIRST_DAY} 00:00:01': read ${tablesRead(ref.stderrTail)}` });
      if (top !== null) rows.push({ step: STEP, figure: 'DNS_LOG / rollup', value: `${(ref.seconds / top).toFixed(1)}×`, note: 'top, whole process each' });
    }
    rows[0].note += `; reports: ${window.join(' ')}`;
    return rows;
  },
};
