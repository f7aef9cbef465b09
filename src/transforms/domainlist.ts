// Skip and allow lists (dnsmonster's --skipDomainsFile / --allowDomainsFile): CSV rows
// "domain,logic" with logic prefix | suffix | fqdn. Suffix matching is label-aware:
// "google.com" matches "google.com" and "mail.google.com", never "evilgoogle.com".
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { log } from '../log.js';
import type { NameMatcher } from '../component.js';

export class DomainList {
  readonly fqdn = new Set<string>();
  readonly suffix = new Set<string>();
  readonly prefix: string[] = [];

  get size(): number {
    return this.fqdn.size + this.suffix.size + this.prefix.length;
  }

  matches(qname: string): boolean {
    if (this.fqdn.has(qname)) return true;
    if (this.suffix.size > 0) {
      if (this.suffix.has(qname)) return true;
      for (let i = qname.indexOf('.'); i >= 0; i = qname.indexOf('.', i + 1)) {
        if (!escaped(qname, i) && this.suffix.has(qname.slice(i + 1))) return true;
      }
    }
    for (const p of this.prefix) if (qname.startsWith(p)) return true;
    return false;
  }
}

// A "." inside a label is written "\." in a qname: after an odd run of backslashes it is not a boundary.
function escaped(name: string, dot: number): boolean {
  let n = 0;
  while (dot - n - 1 >= 0 && name.charCodeAt(dot - n - 1) === 0x5c) n++;
  return n % 2 === 1;
}

/** Parses list text; throws with the line number on a bad row. */
export function parseDomainList(text: string, source: string): DomainList {
  const list = new DomainList();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const [rawName, rawLogic = 'fqdn', extra] = line.split(',').map((s) => s.trim());
    if (extra !== undefined || rawName === '') throw new Error(`${source}:${i + 1}: expected "domain,prefix|suffix|fqdn", got "${line}"`);
    const logic = rawLogic.toLowerCase();
    // Whole names are stored like qname: lower case, no trailing dot (dnsmonster lists carry one).
    // A prefix is compared as written ("ads." must not match "adsl.net").
    const name = rawName.toLowerCase();
    // Names hold what a qname can (escapes included); anything else means this is not a list
    // (an HTML error page served with status 200, say).
    if (!/^[a-z0-9._*\\-]+$/.test(name)) throw new Error(`${source}:${i + 1}: "${rawName}" is not a domain name`);
    const whole = name === '.' ? '.' : name.replace(/\.$/, ''); // the root is "." as a qname too
    if (logic === 'fqdn') list.fqdn.add(whole);
    else if (logic === 'suffix') list.suffix.add(whole.replace(/^\./, ''));
    else if (logic === 'prefix') list.prefix.push(name);
    else throw new Error(`${source}:${i + 1}: unknown logic "${rawLogic}" (use prefix, suffix or fqdn)`);
  }
  return list;
}

export function loadDomainList(path: string): DomainList {
  if (isUrl(path)) throw new Error(`${path}: a URL is read with ReloadingList.open`);
  return parseDomainList(readFileSync(path, 'utf8'), path);
}

export function isUrl(location: string): boolean {
  return /^https?:\/\//i.test(location);
}

export interface ReloadOptions {
  intervalMs: number; // background reload period; 0 = only on reload() (SIGHUP)
  timeoutMs?: number; // a URL that takes longer fails this reload
  maxBytes?: number; // a larger list fails this reload
  signal?: AbortSignal; // aborts a read in flight (the list is stopping)
  skipTlsVerify?: boolean; // --skipTLSVerification: an https server's certificate is not checked
}

export const LIST_TIMEOUT_MS = 30_000;
export const LIST_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A skip or allow list from a file or an http(s) URL, reloaded in the background. Matching
 * always uses the last good list: a reload that is slow, fails or brings a bad list changes
 * nothing but a warning in the log.
 */
export class ReloadingList implements NameMatcher {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<boolean> | null = null;
  private queued: Promise<boolean> | null = null; // the read after the one in flight
  private readonly stopping = new AbortController(); // stop() cuts a read in flight short
  reloads = 0; // successful reloads after the first load
  failures = 0; // reloads that kept the previous list

  private constructor(
    readonly location: string,
    private list: DomainList,
    private readonly opts: ReloadOptions,
  ) {}

  /** The first load; throws when the list cannot be read or parsed. */
  static async open(location: string, opts: ReloadOptions): Promise<ReloadingList> {
    return new ReloadingList(location, await readDomainList(location, opts), opts);
  }

  get current(): DomainList {
    return this.list;
  }

  matches(qname: string): boolean {
    return this.list.matches(qname);
  }

  /**
   * Reads the list again; true when it was replaced. Never throws. One read runs at a time; a
   * reload asked for meanwhile reads once more after it (that read may predate a change), and
   * further requests until then share that second read.
   */
  reload(): Promise<boolean> {
    if (this.inFlight) {
      this.queued ??= this.inFlight.then(() => {
        this.queued = null;
        return this.reload();
      });
      return this.queued;
    }
    if (this.stopping.signal.aborted) return Promise.resolve(false);
    this.inFlight = readDomainList(this.location, { ...this.opts, signal: this.stopping.signal })
      .then(
        (list) => {
          this.list = list;
          this.reloads++;
          log.info({ list: this.location, entries: list.size }, 'domain list reloaded');
          return true;
        },
        (e: unknown) => {
          if (this.stopping.signal.aborted) return false; // stopped: not a failure of the list
          this.failures++;
          log.warn({ list: this.location, err: (e as Error).message }, 'domain list reload failed; keeping the previous list');
          return false;
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  /** Starts the periodic reload (the timer does not keep the process alive). */
  start(): void {
    if (this.opts.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.reload(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** Stops the periodic reload, cuts a read in flight short (a stopping run does not wait out
   *  a slow server) and waits for it to end. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    const queued = this.queued;
    await this.inFlight;
    await queued;
  }
}

/** Reads and parses a list from a file or URL, within the time and size limits. */
export async function readDomainList(location: string, opts: Partial<ReloadOptions> = {}): Promise<DomainList> {
  const text = isUrl(location)
    ? await fetchText(location, opts.timeoutMs ?? LIST_TIMEOUT_MS, opts.maxBytes ?? LIST_MAX_BYTES, opts.skipTlsVerify ?? false, opts.signal)
    : await readFile(location, 'utf8');
  return parseDomainList(text, location);
}

async function fetchText(url: string, timeoutMs: number, maxBytes: number, skipTlsVerify: boolean, stop?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = stop ? AbortSignal.any([timeout, stop]) : timeout;
  let res: IncomingMessage;
  try {
    res = await getFollowing(new URL(url), signal, skipTlsVerify);
  } catch (e) {
    if (stop?.aborted) throw new Error('stopped');
    throw new Error(signal.aborted ? `no answer within ${timeoutMs} ms` : (e as Error).message);
  }
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 299) {
    res.destroy();
    throw new Error(`HTTP ${status} ${res.statusMessage ?? ''}`.trim());
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        throw new Error(`larger than ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (e) {
    if (stop?.aborted) throw new Error('stopped');
    if (signal.aborted) throw new Error(`not read completely within ${timeoutMs} ms`);
    throw e;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
}

const MAX_REDIRECTS = 5;

// A GET on node:http(s), not fetch: fetch cannot be told to skip certificate verification without
// undici, which Node does not expose. Redirects are followed (to http or https URLs only); the
// answer comes back with its body unread.
async function getFollowing(url: URL, signal: AbortSignal, skipTlsVerify: boolean): Promise<IncomingMessage> {
  for (let hop = 0; ; hop++) {
    const https = url.protocol === 'https:';
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = https ? httpsGet(url, { signal, rejectUnauthorized: !skipTlsVerify }, resolve) : httpGet(url, { signal }, resolve);
      req.once('error', reject);
    });
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (status < 300 || status > 399 || location === undefined) return res;
    res.resume(); // the redirect's own body is not wanted
    if (hop === MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
    url = new URL(location, url);
    if (!isUrl(url.href)) throw new Error(`redirected to ${url.protocol} (only http and https)`);
  }
}
