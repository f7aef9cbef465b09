// Real producers: Debian's BIND 9, Unbound, Knot DNS (knotd with mod-dnstap), dnsdist, Knot
// Resolver (kresd) and PowerDNS Recursor each send dnstap to
// a dnslens listener while dig asks them a bounded set of questions (1 in 10 over TCP, 1 in 10 to
// ::1, half NXDOMAIN); every message of those questions must arrive once, with its dnstap type,
// the producer's identity, addresses, ports, transport and rcode, and nothing may be malformed.
// Each server runs as a child in its own temp dir on a free loopback port; the three that forward
// (dnsdist, kresd, pdns_recursor) forward to a local Unbound authoritative for their test zone and
// are configured so that nothing else is ever asked (no root priming, no trust anchor updates, no
// security polling). The four Debian builds beyond BIND and Unbound have dnstap: `dnsdist -V` lists fstrm, knot-module-dnstap
// ships modules-3.2/dnstap.so, knot-resolver ships kres_modules/dnstap.so, `pdns_recursor --version`
// lists dnstap-framestream. knotd and kresd only write to unix sockets; dnsdist and pdns_recursor are
// tested over TCP.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { describeWithPeers } from './peers.js';
import { freePort, namedOptions } from './resolvers.js';
import { runCli, type CliRun } from './dnstap-helpers.js';
import {
  ask,
  bin,
  checkEvents,
  cleanup,
  questions,
  start,
  startAuthUnbound,
  tcpTapPort,
  tempDir,
  unboundAuthZone,
  waitAll,
  waitAnswering,
  zoneFile,
  type Expected,
  type Server,
} from './dnstap-producer-helpers.js';

const QUERIES = 40;

afterAll(cleanup);

interface Setup {
  zone: string; // the zone the producer serves or forwards
  dir: string;
  port: number; // where the producer answers dig
  sock: string; // the dnslens unix socket (tap 'unix')
  tapPort: number; // the dnslens TCP port (tap 'tcp')
  upstreamPort: number; // the local authoritative Unbound (upstream: true)
}

/** Starts dnslens, the upstream if any and the producer; asks; checks every message. */
async function runProducer(opts: {
  tag: string;
  zone: string;
  tap: 'unix' | 'tcp';
  upstream: boolean;
  launch: (s: Setup) => Server;
  expected: (s: Setup) => Expected;
}): Promise<void> {
  const dir = tempDir(opts.tag);
  const sock = join(dir, 'dnstap.sock');
  const servers: Server[] = [];
  let cli: CliRun | undefined;
  try {
    const up = opts.upstream ? await startAuthUnbound(dir, opts.zone) : null;
    if (up) servers.push(up.server);
    cli = runCli([
      '--dnstapSocket', opts.tap === 'unix' ? `unix://${sock}` : 'tcp://127.0.0.1:0',
      '--stdoutOutputType', '1', '--stdoutOutputFormat', 'json', '--useDnstapIdentity',
    ]);
    await cli.waitForLog('dnstap: listening', 20_000);
    const setup: Setup = {
      zone: opts.zone,
      dir,
      port: await freePort(),
      sock,
      tapPort: opts.tap === 'tcp' ? await tcpTapPort(cli) : 0,
      upstreamPort: up?.port ?? 0,
    };
    const server = opts.launch(setup);
    servers.unshift(server); // stopped first
    await waitAnswering(setup.port, opts.zone, server);
    const asked = questions(opts.zone, QUERIES);
    await ask(setup.port, asked, dir);
    await waitAll(cli, asked);
    for (const s of servers.splice(0)) await s.stop();
    const code = await cli.stop('SIGTERM');
    expect(code).toBe(0);
    checkEvents(cli.events, asked, opts.expected(setup));
    expect(cli.stderr()).toMatch(/malformed\s+0\n/);
  } finally {
    for (const s of servers) await s.stop();
    await cli?.stop('SIGKILL');
  }
}

/** One producer's suite: skipped without its programs, one test of every message it sends. */
function producerSuite(title: string, programs: string[], opts: Parameters<typeof runProducer>[0]): void {
  describeWithPeers(title, programs, () => {
    it(`delivers every message of ${QUERIES} dig questions once, with its type, identity, addresses and rcode`, () => runProducer(opts));
  });
}

/** The client's question as the producer saw it: from dig's address to the same one at port. */
const clientPath = (port: number) => (q: { server: string; transport: 'udp' | 'tcp' }) => ({
  transport: q.transport,
  from: q.server,
  to: q.server,
  toPort: port,
});

producerSuite('dnstap from BIND 9 over a unix socket', ['named', 'dig'], {
  tag: 'named',
  zone: 'bd.test',
  tap: 'unix',
  upstream: false,
  launch: ({ zone, dir, port, sock }) => {
    writeFileSync(join(dir, 'zone.db'), zoneFile(zone));
    const conf = [
      ...namedOptions(dir, port),
      // BIND reports queries with RD as CLIENT_QUERY only when it offers recursion; it only
      // ever answers from its own zone here (no forwarders, no root hints reachable).
      '  recursion yes;',
      '  allow-recursion { 127.0.0.1; ::1; };',
      '  dnssec-validation no;',
      '  notify no;',
      '  dnstap { client; resolver; };',
      `  dnstap-output unix "${sock}";`,
      '  dnstap-identity "bind-test";',
      '};',
      'controls { };',
      `zone "${zone}" { type primary; file "${join(dir, 'zone.db')}"; };`,
    ];
    writeFileSync(join(dir, 'named.conf'), conf.join('\n') + '\n');
    return start('named', bin('named'), ['-f', '-c', join(dir, 'named.conf')], dir);
  },
  expected: ({ port }) => ({ queryType: 'CLIENT_QUERY', responseType: 'CLIENT_RESPONSE', identity: 'bind-test', path: clientPath(port) }),
});

producerSuite('dnstap from Unbound over TCP', ['unbound', 'dig'], {
  tag: 'unbound',
  zone: 'ub.test',
  tap: 'tcp',
  upstream: false,
  launch: ({ zone, dir, port, tapPort }) => {
    const conf = [
      ...unboundAuthZone(dir, port, zone, 'zone.db'),
      'dnstap:',
      '  dnstap-enable: yes',
      `  dnstap-ip: 127.0.0.1@${tapPort}`,
      '  dnstap-tls: no',
      '  dnstap-send-identity: yes',
      '  dnstap-identity: "unbound-test"',
      '  dnstap-log-client-query-messages: yes',
      '  dnstap-log-client-response-messages: yes',
    ];
    writeFileSync(join(dir, 'unbound.conf'), conf.join('\n') + '\n');
    return start('unbound', bin('unbound'), ['-d', '-c', join(dir, 'unbound.conf')], dir);
  },
  expected: ({ port }) => ({ queryType: 'CLIENT_QUERY', responseType: 'CLIENT_RESPONSE', identity: 'unbound-test', path: clientPath(port) }),
});

producerSuite('dnstap from Knot DNS (knotd, mod-dnstap) over a unix socket', ['knotd', 'dig'], {
  tag: 'knotd',
  zone: 'kn.test',
  tap: 'unix',
  upstream: false,
  launch: ({ zone, dir, port, sock }) => {
    writeFileSync(join(dir, 'zone.db'), zoneFile(zone));
    const conf = [
      'server:',
      `    rundir: "${dir}"`,
      `    listen: [ 127.0.0.1@${port}, ::1@${port} ]`,
      '    udp-workers: 1',
      '    tcp-workers: 1',
      '    background-workers: 1',
      'log:',
      '  - target: stderr',
      '    any: info',
      'database:',
      `    storage: "${dir}"`,
      'control:',
      `    listen: "${join(dir, 'knot.sock')}"`,
      'mod-dnstap:',
      '  - id: tap',
      `    sink: "unix:${sock}"`,
      '    identity: "knot-test"',
      '    log-queries: on',
      '    log-responses: on',
      'template:',
      '  - id: default',
      `    storage: "${dir}"`,
      '    global-module: mod-dnstap/tap',
      'zone:',
      `  - domain: ${zone}`,
      `    file: "${join(dir, 'zone.db')}"`,
    ];
    writeFileSync(join(dir, 'knot.conf'), conf.join('\n') + '\n');
    return start('knotd', bin('knotd'), ['-c', join(dir, 'knot.conf')], dir);
  },
  expected: ({ port }) => ({
    queryType: 'AUTH_QUERY',
    responseType: 'AUTH_RESPONSE',
    identity: 'knot-test',
    path: clientPath(port),
    also: (_qe, re) => expect(re.aa).toBe(true),
  }),
});

producerSuite('dnstap from dnsdist over TCP', ['dnsdist', 'unbound', 'dig'], {
  tag: 'dnsdist',
  zone: 'dd.test',
  tap: 'tcp',
  upstream: true,
  launch: ({ zone, dir, port, tapPort, upstreamPort }) => {
    const conf = [
      'setSecurityPollSuffix("")', // no security polling over the internet
      `setLocal("127.0.0.1:${port}")`,
      `addLocal("[::1]:${port}")`,
      'setACL({"127.0.0.0/8", "::1/128"})',
      `newServer({address="127.0.0.1:${upstreamPort}", checkName="probe.w.${zone}."})`,
      `tap = newFrameStreamTcpLogger("127.0.0.1:${tapPort}")`,
      'addAction(AllRule(), DnstapLogAction("dnsdist-test", tap))',
      'addResponseAction(AllRule(), DnstapLogResponseAction("dnsdist-test", tap))',
    ];
    writeFileSync(join(dir, 'dnsdist.conf'), conf.join('\n') + '\n');
    return start('dnsdist', bin('dnsdist'), ['--supervised', '--disable-syslog', '-C', join(dir, 'dnsdist.conf')], dir);
  },
  expected: ({ port }) => ({
    queryType: 'CLIENT_QUERY',
    responseType: 'CLIENT_RESPONSE',
    identity: 'dnsdist-test',
    path: clientPath(port),
    also: (_qe, re) => expect(re.aa).toBe(true), // the upstream's answer, relayed as it is
  }),
});

producerSuite('dnstap from Knot Resolver (kresd) over a unix socket', ['kresd', 'unbound', 'dig'], {
  tag: 'kresd',
  zone: 'kr.test',
  tap: 'unix',
  upstream: true,
  launch: ({ zone, dir, port, sock, upstreamPort }) => {
    const conf = [
      "log_target('stderr')",
      `net.listen('127.0.0.1', ${port}, { kind = 'dns' })`,
      `net.listen('::1', ${port}, { kind = 'dns' })`,
      // Nothing but the test zone is ever asked: no root priming, no trust anchor work.
      "for _, m in ipairs({ 'priming', 'ta_update', 'ta_signal_query', 'ta_sentinel', 'detect_time_skew', 'detect_time_jump' }) do",
      '  modules.unload(m)',
      'end',
      "trust_anchors.remove('.')",
      'cache.size = 10 * MB', // in the rundir (the temp dir)
      'modules = {',
      '  dnstap = {',
      `    socket_path = '${sock}',`,
      "    identity = 'kresd-test',",
      '    client = { log_queries = true, log_responses = true },',
      '  },',
      '}',
      `policy.add(policy.suffix(policy.STUB({ '127.0.0.1@${upstreamPort}' }), { todname('${zone}.') }))`,
      'policy.add(policy.all(policy.REFUSE))',
    ];
    writeFileSync(join(dir, 'kresd.conf'), conf.join('\n') + '\n');
    return start('kresd', bin('kresd'), ['-n', '-c', join(dir, 'kresd.conf'), dir], dir);
  },
  expected: ({ port }) => ({
    queryType: 'CLIENT_QUERY',
    responseType: 'CLIENT_RESPONSE',
    identity: 'kresd-test',
    path: clientPath(port),
    also: (_qe, re) => {
      expect(re.ra).toBe(true);
      expect(re.aa).toBe(false); // a resolver's answer
    },
  }),
});

producerSuite('dnstap from PowerDNS Recursor over TCP', ['pdns_recursor', 'unbound', 'dig'], {
  tag: 'pdns',
  zone: 'pr.test',
  tap: 'tcp',
  upstream: true,
  launch: ({ zone, dir, port, tapPort, upstreamPort }) => {
    const conf = [
      `local-address=127.0.0.1:${port}, [::1]:${port}`,
      'allow-from=127.0.0.0/8, ::1/128',
      `socket-dir=${dir}`,
      'daemon=no',
      'write-pid=no',
      'disable-syslog=yes',
      'threads=1',
      'server-id=pdns-test', // the dnstap identity
      // Nothing but the test zone is ever asked: no root hints (no priming), no security
      // polling, no DNSSEC (no DS chase); full names, one outgoing query per question.
      'hint-file=no',
      'security-poll-suffix=',
      'dnssec=off',
      'qname-minimization=no',
      'nothing-below-nxdomain=no',
      `forward-zones=${zone}=127.0.0.1:${upstreamPort}`,
      `lua-config-file=${join(dir, 'recursor.lua')}`,
    ];
    writeFileSync(join(dir, 'recursor.conf'), conf.join('\n') + '\n');
    // dnstapFrameStreamServer logs the recursor's own queries upstream (RESOLVER_*).
    writeFileSync(join(dir, 'recursor.lua'), `dnstapFrameStreamServer({"127.0.0.1:${tapPort}"}, {logQueries=true, logResponses=true})\n`);
    return start('pdns_recursor', bin('pdns_recursor'), [`--config-dir=${dir}`], dir);
  },
  expected: ({ upstreamPort }) => ({
    queryType: 'RESOLVER_QUERY',
    responseType: 'RESOLVER_RESPONSE',
    identity: 'pdns-test',
    // Whatever way dig asked, the recursor asks its forwarder over UDP from 127.0.0.1.
    path: () => ({ transport: 'udp', from: '127.0.0.1', to: '127.0.0.1', toPort: upstreamPort }),
    also: (qe, re) => {
      expect(qe.rd).toBe(false); // forward-zones, not forward-zones-recurse
      expect(re.aa).toBe(true); // the authoritative upstream's answer
    },
  }),
});
