// The PostgreSQL output (issue #15) against a real PostgreSQL (Debian's, started here): shared
// captures and a dnsmasq log written end to end and read back; the seed guide's chapter 5 queries
// run as written; replays, rebuilds and a server restart mid-load that count nothing twice and lose
// nothing; wrong credentials; hostile names.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newEvent, type DnsEvent } from '../src/event.js';
import { log } from '../src/log.js';
import { apexOf } from '../src/outputs/clickhouse/columns.js';
import { connect } from '../src/outputs/postgres/connect.js';
import { psqlOutput } from '../src/outputs/postgres/output.js';
import { migrate } from '../src/outputs/postgres/schema.js';
import { Stats } from '../src/stats.js';
import { dnslensAsync } from './cli-async.js';
import { LOGS_DIR, PCAP_DIR, SEEDS_DIR } from './data.js';
import { MAIN } from './dnstap-helpers.js';
import { dnslens } from './import-helpers.js';
import { describeWithPeers } from './peers.js';
import { PG_PASSWORD, PG_USER, pgBin, startPostgres, type Postgres } from './postgres.js';

const CAPTURES = ['arkime__dns-wiresharkrepo.pcap', 'dnscap__dns.pcap', 'dnsjit__pellets.pcap', 'zeek__naptr.pcap', 'pktvisor__dns_udp_tcp_random.pcap'];
const PEERS = pgBin() ? [] : ['postgresql'];

interface JsonEvent {
  time: string;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  qr: boolean;
  qname: string;
  qtype: number;
  rcode: number;
  id: number;
  size: number;
  transport: string;
}

describeWithPeers('PostgreSQL output against a real server', ['setpriv', ...PEERS], () => {
  let server: Postgres;
  let db: pg.Client;
  const events: JsonEvent[] = [];
  const rows = async <T extends pg.QueryResultRow = Record<string, string>>(sql: string, params: unknown[] = []) => (await db.query<T>(sql, params)).rows;
  const psqlFlags = (schema = 'dnslens') => ['--psqlOutputType', '1', '--psqlEndpoint', server.url(), '--psqlSchema', schema, '--timezone', 'UTC'];

  beforeAll(async () => {
    server = await startPostgres();
    db = new pg.Client({ connectionString: server.url() });
    db.on('error', () => undefined); // the restart test stops the server under it
    await db.connect();
    // Every capture into PostgreSQL, and the same events as JSON lines from the same run.
    for (const file of CAPTURES) {
      // (the JSON lines of the larger captures pass dnslens()'s 1 MB output buffer)
      const r = spawnSync(process.execPath, [MAIN, '--pcapFile', join(PCAP_DIR, file), ...psqlFlags(), '--psqlSaveFullQuery', '--stdoutOutputType', '1'], {
        encoding: 'utf8',
        maxBuffer: 256 << 20,
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      events.push(...r.stdout.trim().split('\n').map((l) => JSON.parse(l) as JsonEvent));
    }
  }, 180_000);

  afterAll(async () => {
    await db?.end();
    server?.close();
  });

  const queries = () => events.filter((e) => !e.qr);

  it('stores every event the run wrote, each field where the schema says', async () => {
    const stored = await rows<{ full_query: JsonEvent; queried_at: Date; client_ip: string; client_port: number; server_ip: string; domain: string; apex_domain: string; qtype_code: number; response_rcode: string | null; size: number; message_id: number; transport: string }>(
      'SELECT full_query, queried_at, host(client_ip) AS client_ip, client_port, host(server_ip) AS server_ip, domain, apex_domain, qtype_code, response_rcode, size, message_id, transport FROM dnslens.dns_queries',
    );
    const key = (e: JsonEvent) => JSON.stringify(e);
    expect(stored.map((r) => key(r.full_query)).sort()).toEqual(events.map(key).sort());
    for (const r of stored) {
      const e = r.full_query;
      expect(r.queried_at.toISOString().slice(0, 23)).toBe(e.time.slice(0, 23));
      expect([r.client_ip, r.client_port, r.server_ip]).toEqual(e.qr ? [e.dstIp, e.dstPort, e.srcIp] : [e.srcIp, e.srcPort, e.dstIp]);
      expect([r.domain, r.apex_domain, r.qtype_code, r.size, r.message_id, r.transport]).toEqual([e.qname, apexOf(e.qname), e.qtype, e.size, e.id, e.transport]);
      expect(r.response_rcode === null).toBe(!e.qr);
    }
    // one partition per local day, named as the guide's cron job names them
    const parts = await rows<{ name: string; n: string }>('SELECT tableoid::regclass::text AS name, count(*) AS n FROM dnslens.dns_queries GROUP BY 1');
    for (const p of parts) expect(p.name).toMatch(/^(dnslens\.)?dns_queries_\d{8}$/);
  });

  it('makes the partitions of today and the days ahead', async () => {
    const today = new Date().toISOString().slice(0, 10).replaceAll('-', '');
    const names = (await rows<{ relname: string }>("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'dns_queries_2%' AND relnamespace = 'dnslens'::regnamespace")).map((r) => r.relname);
    expect(names).toContain(`dns_queries_${today}`);
    expect(names.filter((n) => n >= `dns_queries_${today}`).length).toBe(4); // --psqlPartitionsAhead 3
  });

  it("the seed guide's chapter 5 queries, run as written, give the numbers counted from the events", async () => {
    const guide = readFileSync(join(SEEDS_DIR, '000_4c41d666c2863afa.txt'), 'utf8');
    const section = (title: string) => {
      const from = guide.indexOf('sql\n', guide.indexOf(title)) + 4;
      return guide.slice(from, guide.indexOf(';', from) + 1);
    };
    // As written, except the window: the captures are from 2005-2019, so "the last 7 days" ends
    // at the day after the newest capture and reaches back far enough to hold them all.
    const asWritten = (sql: string) => sql.replaceAll("CURRENT_DATE - INTERVAL '7 days'", "DATE '2000-01-01'");
    await db.query('SET search_path = dnslens');
    const perApex = new Map<string, number>();
    for (const e of queries()) perApex.set(apexOf(e.qname), (perApex.get(apexOf(e.qname)) ?? 0) + 1);

    const top = await rows<{ apex_domain: string; category: string | null; total_queries: string; pct: string }>(asWritten(section('5.1 Top 50 Domains')));
    expect(top.length).toBe(Math.min(50, perApex.size));
    for (const r of top) {
      expect(Number(r.total_queries), r.apex_domain).toBe(perApex.get(r.apex_domain));
      expect(Number(r.pct)).toBeCloseTo((100 * perApex.get(r.apex_domain)!) / queries().length, 1);
    }
    expect(top.find((r) => r.apex_domain === 'google.com')?.category).toBe('search');

    const cats = await rows<{ category: string; total_queries: string }>(asWritten(section('5.2 By Category')));
    expect(cats.reduce((n, r) => n + Number(r.total_queries), 0)).toBe(queries().length);

    const heat = await rows<{ hour: string; queries: string; bar: string }>(asWritten(section('5.3 24-Hour Heatmap')));
    const perHour = new Map<number, number>();
    for (const e of queries()) perHour.set(new Date(e.time).getUTCHours(), (perHour.get(new Date(e.time).getUTCHours()) ?? 0) + 1);
    expect(heat.map((r) => [r.hour, Number(r.queries)])).toEqual([...perHour.entries()].sort((a, b) => a[0] - b[0]).map(([h, n]) => [`${String(h).padStart(2, '0')}:00`, n]));

    const nx = await rows<{ apex_domain: string; total: string; failures: string }>(asWritten(section('5.4 NXDOMAIN Analysis')));
    const nxPerApex = new Map<string, number>();
    for (const e of events) if (e.qr && e.rcode === 3) nxPerApex.set(apexOf(e.qname), (nxPerApex.get(apexOf(e.qname)) ?? 0) + 1);
    const want = [...nxPerApex.entries()].filter(([, n]) => n > 10);
    expect(nx.map((r) => r.apex_domain).sort()).toEqual(want.map(([a]) => a).sort());
    for (const r of nx) expect([Number(r.total), Number(r.failures)]).toEqual([perApex.get(r.apex_domain) ?? 0, nxPerApex.get(r.apex_domain)]);
    await db.query('RESET search_path');
  });

  // The rollups as a GROUP BY over the raw rows: what `psql rollup` rebuilds must equal them too.
  const ROLLUP_CHECKS = [
    [
      'SELECT stat_date, domain, apex_domain, qtype, hit_count, unique_clients, nxdomain_count, servfail_count, first_seen, last_seen FROM dnslens.dns_daily_stats ORDER BY 1, 2, 4',
      `SELECT (queried_at AT TIME ZONE 'UTC')::date, domain, min(apex_domain), qtype, count(*) FILTER (WHERE NOT qr), count(DISTINCT client_ip),
              count(*) FILTER (WHERE response_rcode = 'NXDOMAIN'), count(*) FILTER (WHERE response_rcode = 'SERVFAIL'), min(queried_at), max(queried_at)
       FROM dnslens.dns_queries GROUP BY 1, 2, 4 ORDER BY 1, 2, 4`,
    ],
    [
      'SELECT stat_date, hour_of_day, apex_domain, query_count FROM dnslens.dns_hourly_heatmap ORDER BY 1, 2, 3',
      `SELECT (queried_at AT TIME ZONE 'UTC')::date, extract(hour FROM queried_at AT TIME ZONE 'UTC')::smallint, apex_domain, count(*)
       FROM dnslens.dns_queries WHERE NOT qr GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    ],
    [
      'SELECT week_start, apex_domain, total_queries, unique_clients FROM dnslens.dns_weekly_stats ORDER BY 1, 2',
      `SELECT date_trunc('week', queried_at AT TIME ZONE 'UTC')::date, apex_domain, count(*) FILTER (WHERE NOT qr), count(DISTINCT client_ip)
       FROM dnslens.dns_queries GROUP BY 1, 2 ORDER BY 1, 2`,
    ],
    [
      'SELECT year_month, apex_domain, total_queries, unique_clients FROM dnslens.dns_monthly_stats ORDER BY 1, 2',
      `SELECT to_char(queried_at AT TIME ZONE 'UTC', 'YYYY-MM'), apex_domain, count(*) FILTER (WHERE NOT qr), count(DISTINCT client_ip)
       FROM dnslens.dns_queries GROUP BY 1, 2 ORDER BY 1, 2`,
    ],
  ] as const;
  const asArrays = async (sql: string) => (await db.query({ text: sql, rowMode: 'array' })).rows.map((r: unknown[]) => r.map(String));

  it('keeps every rollup equal to a GROUP BY over the raw rows', async () => {
    for (const [rollup, raw] of ROLLUP_CHECKS) expect(await asArrays(rollup), rollup).toEqual(await asArrays(raw));
    const [{ n }] = await rows<{ n: string }>('SELECT count(*) AS n FROM dnslens.dns_monthly_stats');
    expect(Number(n)).toBeGreaterThan(0);
  });

  it('counts nothing twice when a file is written again, and `psql rollup` rebuilds the same rollups', async () => {
    const before = await Promise.all(ROLLUP_CHECKS.map(([rollup]) => asArrays(rollup)));
    const [{ n: raw }] = await rows<{ n: string }>('SELECT count(*) AS n FROM dnslens.dns_queries');
    const r = dnslens(['--pcapFile', join(PCAP_DIR, CAPTURES[1]), ...psqlFlags()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rows stored already \(a replayed batch\), left out\s+[1-9]/);
    expect((await rows<{ n: string }>('SELECT count(*) AS n FROM dnslens.dns_queries'))[0].n).toBe(raw);
    const rebuilt = dnslens(['psql', 'rollup', '--since', '2000-01-01', '--until', '2030-01-01', '--psqlEndpoint', server.url(), '--timezone', 'UTC']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.stdout).toMatch(/^rebuilt \d+ day\(s\)/);
    expect(await Promise.all(ROLLUP_CHECKS.map(([rollup]) => asArrays(rollup)))).toEqual(before);
  });

  it('answers top, categories, heatmap and nxdomain with the numbers the ClickHouse store gives for the same captures', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dnslens-pg-vs-ch-'));
    try {
      for (const file of CAPTURES) expect(dnslens(['--pcapFile', join(PCAP_DIR, file), '--dataDir', dir, '--timezone', 'UTC']).code).toBe(0);
      const report = (args: string[], store: string[]) => {
        const r = dnslens(['report', ...args, '--format', 'json', '--limit', '500', ...store]);
        expect(r.code, r.stderr).toBe(0);
        const res = JSON.parse(r.stdout) as { sections: { name: string; rows: Record<string, unknown>[]; table: string }[] };
        // shares and averages as floats: equal to 9 places
        const round = (v: unknown) => (typeof v === 'number' ? Math.round(v * 1e9) / 1e9 : v);
        return { tables: res.sections.map((s) => s.table), rows: res.sections.map((s) => [s.name, s.rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, round(v)])))]) };
      };
      // the whole store (the rollups answer) and a window cut inside captures (the raw rows answer)
      const windows = [[], ['--since', '2016-10-20 15:23:30', '--until', '2021-03-04 16:10:50']];
      const cases = [['top'], ['top', '--by', 'name'], ['categories'], ['heatmap'], ['nxdomain'], ['nxdomain', '--by', 'prefix']];
      const tablesRead = new Set<string>();
      for (const w of windows) {
        for (const c of cases) {
          const pgAnswer = report([...c, ...w], ['--psqlEndpoint', server.url()]);
          const chAnswer = report([...c, ...w], ['--dataDir', dir]);
          expect(pgAnswer.rows, `${c.join(' ')} ${w.join(' ')}`).toEqual(chAnswer.rows);
          if (w.length === 0) expect(pgAnswer.rows.every(([, r]) => (r as unknown[]).length > 0), c.join(' ')).toBe(true);
          for (const t of pgAnswer.tables) tablesRead.add(t);
        }
      }
      expect([...tablesRead].sort()).toEqual(['dns_daily_stats', 'dns_hourly_heatmap', 'dns_queries']); // the rollups and the raw rows both answered
      // hostile values are data: no rows, no error, the table still there
      for (const v of ["'; DROP TABLE dnslens.dns_queries; --", 'a\\b"c']) expect(dnslens(['report', 'top', '--server', v, '--psqlEndpoint', server.url()]).code).toBe(0);
      expect(dnslens(['report', 'top', '--client', "1.2.3.4'; DROP TABLE x", '--psqlEndpoint', server.url()]).code).not.toBe(0);
      expect(dnslens(['report', 'latency', '--psqlEndpoint', server.url()]).stderr).toMatch(/not from PostgreSQL \(it answers top, categories, heatmap, nxdomain\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it('reads a dnsmasq log into the Raspberry Pi logger columns; reading it again adds nothing', async () => {
    const file = join(LOGS_DIR, 'dnsmasq__wilan_of_shame_dnsmasq.log');
    const run = () => dnslens(['--dnsmasqLogFile', file, ...psqlFlags('pihole'), '--keepRawLine']);
    const first = run();
    expect(first.code, first.stderr).toBe(0);
    const [a] = await rows<{ n: string; hashes: string; raw: string; results: string }>(
      "SELECT count(*) AS n, count(DISTINCT event_hash) AS hashes, count(raw_line) AS raw, string_agg(DISTINCT result, ',' ORDER BY result) AS results FROM pihole.dns_queries",
    );
    expect(Number(a.n)).toBeGreaterThan(100);
    expect(a.hashes).toBe(a.n);
    expect(a.raw).toBe(a.n);
    expect(a.results).toMatch(/forwarded/);
    expect(run().code).toBe(0);
    expect((await rows<{ n: string }>('SELECT count(*) AS n FROM pihole.dns_queries'))[0].n).toBe(a.n);
  });

  it('stops with exit code 2 and a clear message on a wrong password or a missing database', () => {
    const file = join(PCAP_DIR, CAPTURES[0]);
    const wrong = dnslens(['--pcapFile', file, '--psqlOutputType', '1', '--psqlEndpoint', server.url('dnslens', 'dnslens', 'not-the-password')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/password authentication failed.*\(wrong password\)/);
    expect(wrong.stderr).not.toContain('not-the-password');
    const missing = dnslens(['--pcapFile', file, '--psqlOutputType', '1', '--psqlEndpoint', server.url('nosuchdb')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/database "nosuchdb" does not exist \(no such database\)/);
  });

  it('takes the password from --psqlPasswordFile, and the whole connection from the PG* variables', async () => {
    const file = join(PCAP_DIR, CAPTURES[0]);
    const pw = join(server.dir, 'password-file');
    execFileSync('sh', ['-c', `printf '%s\\n' '${PG_PASSWORD}' > ${pw}`]);
    const noPassword = server.url().replace(`:${encodeURIComponent(PG_PASSWORD)}@`, '@');
    const withFile = dnslens(['--pcapFile', file, '--psqlOutputType', '1', '--psqlEndpoint', noPassword, '--psqlPasswordFile', pw, '--psqlSchema', 'pwfile', '--timezone', 'UTC']);
    expect(withFile.code, withFile.stderr).toBe(0);
    const env = { ...process.env, PGHOST: '127.0.0.1', PGPORT: String(server.port), PGUSER: PG_USER, PGPASSWORD: PG_PASSWORD, PGDATABASE: 'dnslens' };
    const fromEnv = spawnSync(process.execPath, [MAIN, '--pcapFile', file, '--psqlOutputType', '1', '--psqlSchema', 'pgenv', '--timezone', 'UTC'], { encoding: 'utf8', env, timeout: 60_000 });
    expect(fromEnv.status, fromEnv.stderr).toBe(0);
    const [{ a, b }] = await rows<{ a: string; b: string }>('SELECT (SELECT count(*) FROM pwfile.dns_queries) AS a, (SELECT count(*) FROM pgenv.dns_queries) AS b');
    expect([a, b]).toEqual(['38', '38']);
  });

  it('works as on Supabase: a role that is not a superuser, row-level security on every table', async () => {
    await db.query("CREATE ROLE supa LOGIN PASSWORD 'supa-pass'");
    await db.query('GRANT CREATE ON DATABASE dnslens TO supa');
    const flags = ['--psqlOutputType', '1', '--psqlEndpoint', server.url('dnslens', 'supa', 'supa-pass'), '--psqlSchema', 'supa', '--timezone', 'UTC'];
    const file = join(PCAP_DIR, CAPTURES[0]);
    expect(dnslens(['--pcapFile', file, ...flags]).code).toBe(0);
    const tables = await rows<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'supa'");
    for (const { t } of tables) await db.query(`ALTER TABLE supa.${t} ENABLE ROW LEVEL SECURITY`);
    const again = dnslens(['--pcapFile', join(PCAP_DIR, CAPTURES[1]), ...flags]);
    expect(again.code, again.stderr).toBe(0);
    const [{ n, hits }] = await rows<{ n: string; hits: string }>('SELECT (SELECT count(*) FROM supa.dns_queries) AS n, (SELECT sum(hit_count) FROM supa.dns_daily_stats) AS hits');
    const [{ m, q }] = await rows<{ m: string; q: string }>(
      "SELECT count(*) AS m, count(*) FILTER (WHERE NOT qr) AS q FROM dnslens.dns_queries WHERE input_name LIKE '%' || $1 OR input_name LIKE '%' || $2",
      [CAPTURES[0], CAPTURES[1]],
    );
    expect([n, hits]).toEqual([m, q]);
  });

  it('follows sslmode in the URI: verify-full against the given CA writes; a CA that did not sign the server is refused with exit 2; require with no CA writes only with --skipTLSVerification, over TLS still', async () => {
    const tls = join(server.dir, 'tls');
    const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: server.dir, stdio: 'pipe' });
    sh(`mkdir -p ${tls} && cd ${tls} &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dnslens-test-ca -keyout ca.key -out ca.pem 2>/dev/null &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.pem 2>/dev/null &&
      openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null &&
      printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext &&
      openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem 2>/dev/null &&
      chmod 600 server.key && chown -R --reference=${server.dir} ${tls} && chmod 755 ${tls}`);
    server.psql(`ALTER SYSTEM SET ssl = on; ALTER SYSTEM SET ssl_cert_file = '${tls}/server.pem'; ALTER SYSTEM SET ssl_key_file = '${tls}/server.key'`);
    server.psql('SELECT pg_reload_conf()');
    const file = join(PCAP_DIR, CAPTURES[0]);
    const run = (query: string, schema = 'tls', more: string[] = []) => dnslens(['--pcapFile', file, '--psqlOutputType', '1', '--psqlEndpoint', `${server.url()}?${query}`, '--psqlSchema', schema, '--timezone', 'UTC', ...more]);
    const good = run(`sslmode=verify-full&sslrootcert=${tls}/ca.pem`);
    expect(good.code, good.stderr).toBe(0);
    const bad = run(`sslmode=verify-full&sslrootcert=${tls}/other.pem`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/TLS: check sslmode and the server certificate/);
    expect((await rows<{ n: string }>('SELECT count(*) AS n FROM tls.dns_queries'))[0].n).toBe('38');
    // sslmode=require with no CA given (pg checks it as verify-full): refused, unless --skipTLSVerification
    const unverified = run('sslmode=require', 'tls_skip');
    expect(unverified.code).toBe(2);
    expect(unverified.stderr).toMatch(/TLS: check sslmode and the server certificate/);
    const skipped = run('sslmode=require', 'tls_skip', ['--skipTLSVerification']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect((await rows<{ n: string }>('SELECT count(*) AS n FROM tls_skip.dns_queries'))[0].n).toBe('38');
    // ... and the connection is still TLS
    const c = await connect({ endpoint: `${server.url()}?sslmode=require`, passwordFile: '', timeoutMs: 10_000, skipTlsVerify: true }, () => undefined);
    try {
      expect((await c.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows).toEqual([{ ssl: true }]);
    } finally {
      await c.end();
    }
  });

  it('drops day partitions past --psqlRetentionDays at start-up; rows of such days that arrive later are counted, not stored', async () => {
    const day = 86_400;
    const now = Math.floor(Date.now() / 1000);
    const at = (sec: number, i: number) => {
      const e = newEvent();
      e.timeSec = sec;
      e.srcIp = '192.0.2.7';
      e.dstIp = '192.0.2.53';
      e.srcPort = 2000 + i;
      e.qname = `old${i}.example`;
      e.qtype = 1;
      return e;
    };
    // kept for good: a day 10 days back, and today
    await writeDirect(server, 'aged', [at(now - 10 * day, 0), at(now, 1)], 10);
    const parts = async () => (await rows<{ relname: string }>("SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = 'aged'::regnamespace AND relname LIKE 'dns_queries_%' ORDER BY 1")).map((r) => r.relname);
    const old = `dns_queries_${new Date((now - 10 * day) * 1000).toISOString().slice(0, 10).replaceAll('-', '')}`;
    expect(await parts()).toContain(old);
    // a run with a 5-day retention drops that partition, and does not store another old row
    const r = dnslens(['--pcapFile', join(PCAP_DIR, CAPTURES[0]), '--psqlOutputType', '1', '--psqlEndpoint', server.url(), '--psqlSchema', 'aged', '--timezone', 'UTC', '--psqlRetentionDays', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rows older than --psqlRetentionDays, not stored\s+38/); // the 2005 capture
    expect(await parts()).not.toContain(old);
    const [{ n, hits }] = await rows<{ n: string; hits: string }>('SELECT (SELECT count(*) FROM aged.dns_queries) AS n, (SELECT sum(hit_count) FROM aged.dns_daily_stats) AS hits');
    expect([n, hits]).toEqual(['1', '2']); // today's row; the rollups keep the dropped day's
  });

  it('stores hostile names exactly (NUL as \\000), and one bad name never breaks its batch', async () => {
    const names = ["it's", 'back\\slash', 'tab\there', 'new\nline', 'nul\0byte', 'caf\u00e9.example', '\ufffd\ufffd.bad-utf8', "'; DROP TABLE dns_queries; --", '"quoted"', '\\.\\000.escaped'];
    const list = names.map((qname, i) => {
      const e = newEvent();
      e.timeSec = 1_700_000_000 + i;
      e.srcIp = '192.0.2.1';
      e.dstIp = '192.0.2.53';
      e.srcPort = 1000 + i;
      e.dstPort = 53;
      e.qname = qname;
      e.qtype = 1;
      e.qclass = 1;
      e.rawLine = `raw ${qname}`;
      e.server = 'hostile';
      return e;
    });
    await writeDirect(server, 'hostile', list, 4);
    const stored = await rows<{ domain: string; raw_line: string }>('SELECT domain, raw_line FROM hostile.dns_queries ORDER BY queried_at');
    const expected = names.map((n) => n.replaceAll('\0', '\\000'));
    expect(stored.map((r) => r.domain)).toEqual(expected);
    expect(stored.map((r) => r.raw_line)).toEqual(expected.map((n) => `raw ${n}`));
  });

  it('loses nothing when the server stops mid-load and comes back 10 s later (pg_ctl stop -m fast)', async () => {
    const total = 60_000;
    const list: DnsEvent[] = [];
    for (let i = 0; i < total; i++) {
      const e = newEvent();
      e.timeSec = 1_750_000_000 + Math.floor(i / 100);
      e.timeNsec = (i % 100) * 1000;
      e.srcIp = `10.0.${(i >> 8) & 255}.${i & 255}`;
      e.dstIp = '10.0.0.53';
      e.srcPort = 40000 + (i % 1000);
      e.dstPort = 53;
      e.id = i & 0xffff;
      e.qname = `host${i % 500}.example.org`;
      e.qtype = 1;
      e.qclass = 1;
      list.push(e);
    }
    const stats = new Stats();
    const admin = new pg.Client({ connectionString: server.url() });
    admin.on('error', () => undefined);
    await admin.connect();
    const tz = await migrate(admin, 'restart', 'UTC');
    const out = await psqlOutput(
      { conn: { endpoint: server.url(), passwordFile: '', timeoutMs: 5000 }, schema: 'restart', tz, retentionDays: 0, workers: 1, batchSize: 1000, delayMs: 100, fullQuery: false, partitionsAhead: 0, rollupIntervalMs: 1000, spoolDir: '', stats, counters: stats.counters('psql'), log, retryInitialMs: 100, closeTimeoutMs: 60_000 },
      admin,
    );
    let restarted: Promise<void> | null = null;
    for (let i = 0; i < total; i += 500) {
      await out.write(list.slice(i, i + 500));
      if (i === 20_000) {
        server.stop();
        restarted = new Promise((resolve) => setTimeout(() => resolve(server.start()), 10_000));
      }
      await new Promise((r) => setTimeout(r, 20)); // a steady stream, about 25 s of it
    }
    await restarted;
    await out.close();
    // the test's own connection went down with the server too
    db = new pg.Client({ connectionString: server.url() });
    await db.connect();
    const counters = stats.counters('psql');
    expect(counters.get('failed')).toBeGreaterThan(0); // it did meet the outage
    const [{ n, hits }] = await rows<{ n: string; hits: string }>('SELECT (SELECT count(*) FROM restart.dns_queries) AS n, (SELECT sum(hit_count) FROM restart.dns_daily_stats) AS hits');
    expect([Number(n), Number(hits)]).toEqual([total, total]);
  }, 120_000);

  it('waits for a server that is down at start-up, retrying, and stores every event once it is up (issue #17)', async () => {
    await db.end().catch(() => undefined);
    server.stop();
    let restarted = false;
    try {
      const run = dnslensAsync(['--pcapFile', join(PCAP_DIR, CAPTURES[4]), ...psqlFlags('late'), '--metricFlushInterval', '0'], 60_000);
      await new Promise((r) => setTimeout(r, 3000)); // a few failed attempts
      server.start();
      restarted = true;
      const r = await run;
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/PostgreSQL at postgres:\/\/.*cannot be reached; waiting for it, retrying with backoff/);
      expect(r.stderr).toMatch(/rows sent\s+5,851\n/);
      expect(r.stderr).not.toMatch(/dropped or filtered\n\s+psql:/);
      expect(r.stderr).toMatch(/rows dropped\s+0\n/);
      expect(server.psql('SELECT count(*) FROM late.dns_queries').trim()).toBe('5851');
    } finally {
      if (!restarted) server.start();
      db = new pg.Client({ connectionString: server.url() });
      db.on('error', () => undefined);
      await db.connect();
    }
  }, 90_000);
});

/** Events written through the output in-process (for events no capture holds). */
async function writeDirect(server: Postgres, schema: string, list: DnsEvent[], batchSize: number, retentionDays = 0): Promise<Stats> {
  const stats = new Stats();
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  const tz = await migrate(admin, schema, 'UTC');
  const out = await psqlOutput(
    { conn: { endpoint: server.url(), passwordFile: '', timeoutMs: 5000 }, schema, tz, retentionDays, workers: 1, batchSize, delayMs: 50, fullQuery: true, partitionsAhead: 0, rollupIntervalMs: 1000, spoolDir: '', stats, counters: stats.counters('psql'), log },
    admin,
  );
  await out.write(list);
  await out.close();
  expect(stats.counters('psql').get('sent')).toBe(list.length);
  expect(stats.counters('psql').get('rejected')).toBe(0);
  return stats;
}
