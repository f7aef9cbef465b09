// The store the report tests read: real captures imported with the CLI as a user would, each under
// its own --serverName, into a store in Europe/Berlin (test/named-reports.test.ts,
// test/html-report.test.ts).
import { join } from 'node:path';
import { expect } from 'vitest';
import { PCAP_DIR } from './data.js';
import { dnslens } from './import-helpers.js';

export const ZONE = 'Europe/Berlin';
// A capture's --serverName made of SQL's special characters: it must come back as data.
export const ODD_SERVER = "o'brien\\lab'; DROP TABLE DNS_LOG; --";
export const CAPTURES: [string, string][] = [
  ['arkime__dns-wiresharkrepo.pcap', 'arkime'], // 2005-03-30 08:47:46-08:52:25 UTC; 6 NXDOMAIN (PROVENANCE.md)
  ['dnsjit__pellets.pcap', 'pellets'], // 2019-10-11, 29 clients
  ['elastic-examples__dns-tunnel-iodine.pcap', 'iodine'], // 2010-08-21
  ['pktvisor__dns_udp_tcp_random.pcap', ODD_SERVER], // 2021-03-04 16:10:32-16:11:02 UTC, latency
];

/** Imports a capture file into the store in dataDir with the CLI, under the server name given. */
export function importCapture(dataDir: string, path: string, server: string): void {
  const r = dnslens(['--pcapFile', path, '--dataDir', dataDir, '--serverName', server, '--timezone', ZONE]);
  expect(r.code, r.stderr).toBe(0);
}

/** The store of CAPTURES in dataDir. */
export function importCaptures(dataDir: string): void {
  for (const [file, server] of CAPTURES) importCapture(dataDir, join(PCAP_DIR, file), server);
}
