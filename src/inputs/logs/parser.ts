// What a resolver-log format is: a parser that turns lines into events. The reader (reader.ts)
// hands it every line of a file in order, with the line's byte offset; the input fills in what is
// the same for every format (server, input name, event hash, raw line).
import type { DnsEvent } from '../../event.js';

/** What the parser needs beyond the line. */
export interface ParseContext {
  /** Local time of the log (--timezone, else the host's zone) -> epoch seconds (src/zone.ts localClock). */
  toUtc(year: number, month: number, day: number, hour: number, minute: number, second: number): number;
  /** For timestamps without a year (syslog style): the year of the file's last change. */
  fileYear: number;
  /** The month (1-12) of the file's last change: a line of a later month than this is from the year before. */
  fileMonth: number;
  /** --keepRawLine: a parser whose events come from several lines sets each event's rawLine itself
   *  (the reader gives the others the line that completed them). */
  keepRawLine?: boolean;
}

/** What a line was. A DNS line is 'dns' (whether it completed events now or is held for its
 *  reply); a line that is not DNS (DHCP, start-up, configuration) is skipped under a kind
 *  ('dhcp', 'startup', ...: counted as log-skipped:<kind>); a line that looks like DNS but does not
 *  parse is 'bad' (counted, the first few logged with file and line number). */
export type LineKind = 'dns' | 'bad' | { skip: string };

export interface LineParser {
  /**
   * One line, without its line break. `offset` is the byte offset of its first byte in the file.
   * Appends the events this line completes to `out` (a query held for its reply is appended
   * later, by the line that answers it, or by end()).
   */
  line(text: string, offset: number, out: DnsEvent[]): LineKind;
  /** Byte offset of the oldest line whose event is still held, or -1 when nothing is held. A
   *  run that resumes at offset X reads from min(X, this) to rebuild what was held. */
  heldFrom(): number;
  /** Called by the reader at every cut of a chunk: queries held longer than maxHoldSec of log time
   *  before the last line seen go out unanswered, and a response still gathering lines is closed
   *  (appended to out). A run that resumes at a cut calls it there too, so both hold the same. */
  expire(out: DnsEvent[]): void;
  /** End of the input: every held query goes out unanswered. */
  end(out: DnsEvent[]): void;
}
