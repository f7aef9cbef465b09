// Start-up checks shared by the HTTP outputs (Splunk, Elasticsearch, VictoriaLogs, Zinc,
// Sentinel): endpoint URLs, proxy URIs and certificate files. Each bad value stops the run with a
// ConfigError naming the option (exit 2). Light on purpose: index.ts files import it at start-up.
import { accessSync, constants } from 'node:fs';
import { ConfigError } from '../../options.js';
import { SINK_COUNTERS } from './writer.js';

/** The toolkit's counters without those of the spool and of file imports (HTTP outputs have neither). */
export const HTTP_COUNTERS: Readonly<Record<string, string>> = {
  sent: SINK_COUNTERS.sent,
  batches: SINK_COUNTERS.batches,
  failed: SINK_COUNTERS.failed,
  retried: SINK_COUNTERS.retried,
  rejected: SINK_COUNTERS.rejected,
  dropped: SINK_COUNTERS.dropped,
};

type From<N extends string> = (option: N) => string;

/** An http:// or https:// URL; `what` says what it is for, in the message. */
export function httpUrl<N extends string>(option: N, text: string, from: From<N>, what = 'an http:// or https:// URL'): URL {
  const t = text.trim();
  if (t === '') throw new ConfigError(option, `--${option}: needed: ${what}${from(option)}`);
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    throw new ConfigError(option, `--${option}: "${text}" is not a URL; give ${what}${from(option)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(option, `--${option}: unknown scheme "${u.protocol}" in "${text}": use http:// or https://${from(option)}`);
  }
  return u;
}

/** A proxy URI (http://[user:password@]host:port), or undefined when empty. */
export function proxyUrl<N extends string>(option: N, text: string, from: From<N>): URL | undefined {
  if (text.trim() === '') return undefined;
  const u = httpUrl(option, text, from, 'an http:// proxy URI, e.g. http://proxy:3128');
  if (u.protocol !== 'http:') throw new ConfigError(option, `--${option}: only http:// proxies are supported (https:// targets go through them with CONNECT), not "${text}"${from(option)}`);
  return u;
}

/** A file that must be readable when set (a CA certificate). */
export function readableFile<N extends string>(option: N, path: string, from: From<N>): void {
  if (path === '') return;
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    throw new ConfigError(option, `--${option}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}${from(option)}`);
  }
}

/** A CA file only makes sense with an https:// endpoint. */
export function caFile<N extends string>(option: N, path: string, endpoints: readonly URL[], from: From<N>): void {
  if (path === '') return;
  if (!endpoints.some((u) => u.protocol === 'https:')) throw new ConfigError(option, `--${option}: only for https:// endpoints${from(option)}`);
  readableFile(option, path, from);
}

/** A value that must be given. */
export function needed<N extends string>(option: N, value: string, from: From<N>, what: string): void {
  if (value.trim() === '') throw new ConfigError(option, `--${option}: needed: ${what}${from(option)}`);
}

/** The URL with `path` when it has none (a bare http://host:port). */
export function withPath(u: URL, path: string): URL {
  const url = new URL(u.href);
  if (url.pathname === '/' || url.pathname === '') url.pathname = path;
  return url;
}

/** `<endpoint>/_bulk`, unless the URL already ends so. */
export function bulkUrl(u: URL): URL {
  const url = new URL(u.href);
  if (!/\/_bulk\/?$/.test(url.pathname)) url.pathname = url.pathname.replace(/\/$/, '') + '/_bulk';
  return url;
}
