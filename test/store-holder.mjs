// A second dnslens-like process for the store tests: it holds an embedded store (chdb locks
// the data dir to one process), optionally stores synthetic events, serves the local endpoint,
// prints one JSON line when ready, and closes cleanly on SIGTERM or when stdin ends.
// Runs the compiled code in dist/ (test/global-setup.ts builds it).
//   node test/store-holder.mjs <dataDir> [--events N] [--port P] [--token T] [--memoryLimit BYTES] [--no-endpoint]
import { openStore } from '../dist/src/store/connection.js';
import { startEndpoint } from '../dist/src/store/endpoint.js';
import { DNS_LOG_COLUMNS } from '../dist/src/outputs/clickhouse/columns.js';
import { encodeNative } from '../dist/src/outputs/clickhouse/native.js';
import { prepareSchema, syntheticEvents } from './store-fixtures.mjs';

const args = process.argv.slice(2);
const dataDir = args[0];
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const events = Number(opt('--events') ?? 0);
const port = Number(opt('--port') ?? 0);
const token = opt('--token');

const store = await openStore({ dataDir, memoryLimit: Number(opt('--memoryLimit') ?? 0) });
if (store.kind !== 'embedded') {
  console.log(JSON.stringify({ error: `expected to hold the store, got ${store.kind}` }));
  process.exit(3);
}
await prepareSchema(store);
if (events > 0) {
  const evs = syntheticEvents(events, 0);
  await store.insertBatch({ columns: [...DNS_LOG_COLUMNS], rows: evs.length, format: 'Native', data: encodeNative(evs, Math.floor(Date.now() / 1000)) });
}
const endpoint = args.includes('--no-endpoint') ? null : await startEndpoint(store, { port, token });

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await endpoint?.close();
  await store.close();
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();
console.log(JSON.stringify({ ready: true, pid: process.pid, port: endpoint?.port ?? null }));
