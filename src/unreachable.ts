// Network-level failures: the server is not there (yet), not an answer from it. One list for the
// outputs that wait for their server at start-up, the NATS client and the ClickHouse failover.

/** Error codes of a connection that was refused, reset, timed out or had no route (DNS EAI_AGAIN). */
export const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** True when the error, or one of its causes, has one of `codes`. */
export function hasCode(err: unknown, codes: ReadonlySet<string>, depth = 0): boolean {
  const e = err as { code?: unknown; cause?: unknown } | null;
  if (typeof e?.code === 'string' && codes.has(e.code)) return true;
  return depth < 5 && e?.cause !== undefined && e.cause !== err ? hasCode(e.cause, codes, depth + 1) : false;
}

/** True for a connection-level error (refused, reset, timed out, no route, DNS EAI_AGAIN), also as a cause. */
export function isUnreachable(err: unknown): boolean {
  return hasCode(err, UNREACHABLE_CODES);
}
