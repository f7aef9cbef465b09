// Container health check for the dnslens services (plain JS: it runs in the image as is).
//   node docker/health.mjs --store http://127.0.0.1:8123   the ClickHouse server answers /ping
//   node docker/health.mjs --process tcpdump               a tcpdump child is running (live capture)
//   node docker/health.mjs --tcp 127.0.0.1:6000            something accepts connections there
//   node docker/health.mjs --socket /run/dnstap/x.sock     a unix socket exists at that path
// Several checks may be given; exit 0 when all pass, 1 (with the reason on stderr) otherwise.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';

const TIMEOUT_MS = 3000;

async function store(url) {
  const res = await fetch(new URL('/ping', url.includes('://') ? url : `http://${url}`), { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`ClickHouse at ${url} answered HTTP ${res.status}`);
}

function processRunning(name) {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name) return;
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no ${name} process is running`);
}

function tcp(address) {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  const port = Number(address.slice(i + 1));
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, timeout: TIMEOUT_MS });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('timeout', () => {
      s.destroy();
      reject(new Error(`no answer on ${address}`));
    });
    s.once('error', (e) => reject(new Error(`cannot connect to ${address}: ${e.message}`)));
  });
}

function socket(path) {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`no socket at ${path}`);
  }
  if (!st.isSocket()) throw new Error(`${path} is not a socket`);
}

const CHECKS = { '--store': store, '--process': processRunning, '--tcp': tcp, '--socket': socket };

async function main(args) {
  if (args.length === 0 || args.length % 2 !== 0) throw new Error('usage: health.mjs (--store URL | --process NAME | --tcp HOST:PORT | --socket PATH)...');
  for (let i = 0; i < args.length; i += 2) {
    const check = CHECKS[args[i]];
    if (!check) throw new Error(`unknown check ${args[i]}`);
    await check(args[i + 1]);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`unhealthy: ${e.message}\n`);
    process.exit(1);
  },
);
