// Text formats for the line outputs (stdout, file, ...): one event -> one line.
// The formats themselves live in ./format/; docs/event.md describes each.
import type { DnsEvent } from '../event.js';
import { ConfigError } from '../options.js';
import { CSV_HEADER, formatCsv } from './format/csv.js';
import { ByteWriter } from './format/bytes.js';
import { encodeJson, formatJson } from './format/json.js';
import { formatOcsf } from './format/ocsf.js';
import { compileTemplate } from './format/template.js';

import type { Formatter } from './format/text.js';

export type { Formatter };

export const FORMATS = ['json', 'csv', 'csv_no_header', 'gotemplate', 'json-ocsf'] as const;
export type FormatName = (typeof FORMATS)[number];
/** Other spellings accepted for a format name. */
export const FORMAT_ALIASES: Readonly<Record<string, FormatName>> = { csv_no_headers: 'csv_no_header' };

/** A line output's format and template options (`<prefix>OutputFormat`, `<prefix>OutputGoTemplate`). */
export function formatOptions<const P extends string>(prefix: P, section: string, what: string) {
  return [
    { name: `${prefix}OutputFormat` as `${P}OutputFormat`, section, kind: 'enum' as const, default: 'json', choices: FORMATS, aliases: FORMAT_ALIASES, description: `Output format for ${what}`, status: 'ready' as const },
    { name: `${prefix}OutputGoTemplate` as `${P}OutputGoTemplate`, section, kind: 'string' as const, default: DEFAULT_TEMPLATE, description: 'Go-style template for the gotemplate format', status: 'ready' as const },
  ];
}

/** makeFormatter, with a bad template reported against its option. */
export function textFormat(format: string, template: string, templateOption: string): TextFormat {
  try {
    return makeFormatter(format as FormatName, template);
  } catch (e) {
    throw new ConfigError(templateOption, `--${templateOption}: ${(e as Error).message}`);
  }
}

/** A format ready to use: an optional header line (csv) and the per-event formatter. */
export interface TextFormat {
  header?: string;
  format: Formatter;
  /** Optional fast path: append the line's bytes (no newline) straight to a buffer. */
  encode?: (w: ByteWriter, ev: DnsEvent) => void;
}

/** dnsmonster's default template: the JSON line. */
export const DEFAULT_TEMPLATE = '{{.}}';

/**
 * Build a format by name. Throws an Error with a clear message on an unknown format or a bad
 * template, so configuration checks can call it at start-up.
 */
export function makeFormatter(format: FormatName, template?: string): TextFormat {
  switch (format as string) {
    case 'json':
      return { format: formatJson, encode: encodeJson };
    case 'csv':
      return { header: CSV_HEADER, format: formatCsv };
    case 'csv_no_header':
    case 'csv_no_headers': // the spelling in dnsmonster's prose docs
      return { format: formatCsv };
    case 'gotemplate': {
      const f = compileTemplate(template ?? DEFAULT_TEMPLATE);
      return f === formatJson ? { format: f, encode: encodeJson } : { format: f };
    }
    case 'json-ocsf':
      return { format: formatOcsf };
    default:
      throw new Error(`unknown output format "${String(format)}"; expected one of: ${FORMATS.join(', ')}`);
  }
}

const batchWriter = new ByteWriter(1 << 16);

/**
 * A batch as UTF-8 bytes, each line ending in "\n": one buffer, so a sink makes one write per
 * batch. When `ends` is given it receives the end offset of every line (for size rotation).
 */
export function encodeLines(fmt: TextFormat, events: readonly DnsEvent[], ends?: number[]): Buffer {
  const w = batchWriter;
  w.pos = 0;
  const encode = fmt.encode;
  const format = fmt.format;
  for (let i = 0; i < events.length; i++) {
    if (encode) encode(w, events[i]);
    else w.text(format(events[i]));
    w.byte(0x0a);
    if (ends) ends.push(w.pos);
  }
  return w.take();
}

/** The header line with its newline, as bytes; empty when the format has none. */
export function encodeHeader(fmt: TextFormat): Buffer {
  return fmt.header === undefined ? Buffer.alloc(0) : Buffer.from(fmt.header + '\n', 'utf8');
}

export { CSV_COLUMNS, CSV_HEADER } from './format/csv.js';
export { compileTemplate, TEMPLATE_FIELDS } from './format/template.js';
export { encodeJson, formatJson } from './format/json.js';
export { ByteWriter } from './format/bytes.js';
export { formatOcsf, OCSF_VERSION } from './format/ocsf.js';
