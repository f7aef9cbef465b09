// A small template language in the style of Go's text/template, enough for custom log lines:
//   {{.field}}   a field of the event, by its JSON name (plus a few derived names below)
//   {{.}}        the whole event as its JSON line (dnsmonster's default template)
//   {{"text"}}   literal text, e.g. {{"{{"}} for two braces
// Everything else is copied as is. Whitespace inside the braces is allowed. A template is
// compiled once; an unknown field or action is an Error at start-up, never at run time.
import { className, opcodeName, rcodeName, typeName } from '../../dnsnames.js';
import type { Formatter } from './text.js';
import { formatJson } from './json.js';
import { answersText, rfc3339 } from './text.js';

const str = (v: string | number | boolean): string => String(v);

/** Field name -> its text. Exported for the docs test: every name here is documented. */
export const TEMPLATE_FIELDS: Readonly<Record<string, Formatter>> = {
  time: rfc3339,
  timeSec: (ev) => str(ev.timeSec),
  timeNsec: (ev) => str(ev.timeNsec),
  server: (ev) => ev.server,
  ipVersion: (ev) => str(ev.ipVersion),
  srcIp: (ev) => ev.srcIp,
  dstIp: (ev) => ev.dstIp,
  srcPort: (ev) => str(ev.srcPort),
  dstPort: (ev) => str(ev.dstPort),
  transport: (ev) => ev.transport,
  id: (ev) => str(ev.id),
  qr: (ev) => str(ev.qr),
  opcode: (ev) => str(ev.opcode),
  aa: (ev) => str(ev.aa),
  tc: (ev) => str(ev.tc),
  rd: (ev) => str(ev.rd),
  ra: (ev) => str(ev.ra),
  ad: (ev) => str(ev.ad),
  cd: (ev) => str(ev.cd),
  rcode: (ev) => str(ev.rcode),
  qname: (ev) => ev.qname,
  qtype: (ev) => str(ev.qtype),
  qclass: (ev) => str(ev.qclass),
  qdCount: (ev) => str(ev.qdCount),
  anCount: (ev) => str(ev.anCount),
  nsCount: (ev) => str(ev.nsCount),
  arCount: (ev) => str(ev.arCount),
  answers: (ev) => answersText(ev.answers),
  ednsPresent: (ev) => str(ev.ednsPresent),
  ednsUdpSize: (ev) => str(ev.ednsUdpSize),
  ednsDo: (ev) => str(ev.ednsDo),
  ednsClientSubnet: (ev) => ev.ednsClientSubnet,
  size: (ev) => str(ev.size),
  inputKind: (ev) => ev.inputKind,
  inputName: (ev) => ev.inputName,
  responseTimeUs: (ev) => (ev.responseTimeUs === null ? '' : str(ev.responseTimeUs)),
  unanswered: (ev) => str(ev.unanswered),
  clientId: (ev) => ev.clientId,
  messageType: (ev) => ev.messageType,
  resolution: (ev) => ev.resolution,
  upstream: (ev) => ev.upstream,
  eventHash: (ev) => ev.eventHash,
  rawLine: (ev) => ev.rawLine,
  // derived: mnemonics for the numeric codes
  qtypeName: (ev) => typeName(ev.qtype),
  qclassName: (ev) => className(ev.qclass),
  rcodeName: (ev) => rcodeName(ev.rcode),
  opcodeName: (ev) => opcodeName(ev.opcode),
};

const FIELD_ACTION = /^\.([A-Za-z][A-Za-z0-9]*)$/;

function fieldFormatter(name: string, action: string): Formatter {
  const f = Object.hasOwn(TEMPLATE_FIELDS, name) ? TEMPLATE_FIELDS[name] : undefined;
  if (f) return f;
  const close = Object.keys(TEMPLATE_FIELDS).find((k) => k.toLowerCase() === name.toLowerCase());
  const hint = close ? ` (did you mean {{.${close}}}?)` : `; known fields: ${Object.keys(TEMPLATE_FIELDS).join(', ')}`;
  throw new Error(`template: unknown field "${name}" in {{${action}}}${hint}`);
}

function actionFormatter(action: string): Formatter | string {
  if (action === '.') return formatJson;
  const m = FIELD_ACTION.exec(action);
  if (m) return fieldFormatter(m[1], action);
  if (action.startsWith('"')) {
    try {
      const text: unknown = JSON.parse(action);
      if (typeof text === 'string') return text;
    } catch {
      // fall through to the error below
    }
    throw new Error(`template: bad string literal {{${action}}}`);
  }
  const dnsmonster = /^\.(Timestamp|DNS|IPVersion|SrcIP|DstIP|Protocol|PacketLength)\b/.test(action)
    ? '; dnsmonster\'s Go struct fields are not available, use the dnslens field names (docs/event.md)'
    : '';
  throw new Error(`template: unsupported action {{${action}}}: only {{.field}}, {{.}} and {{"text"}} are supported${dnsmonster}`);
}

// Where to look for the closing braces: past a string literal, which may itself hold "}}".
function afterString(t: string, from: number): number {
  let i = from;
  while (t[i] === ' ' || t[i] === '\t') i++;
  if (t[i] !== '"') return from;
  for (i++; i < t.length; i++) {
    if (t[i] === '\\') i++;
    else if (t[i] === '"') return i + 1;
  }
  return from; // unterminated: the action is reported as a bad literal
}

/** Compile a template into a formatter. Throws an Error naming the problem. */
export function compileTemplate(template: string): Formatter {
  if (template === '') throw new Error('template: empty template');
  const parts: (string | Formatter)[] = [];
  let pos = 0;
  while (pos < template.length) {
    const open = template.indexOf('{{', pos);
    if (open < 0) break;
    const close = template.indexOf('}}', afterString(template, open + 2));
    if (close < 0) throw new Error(`template: unclosed action starting at offset ${open}: ${template.slice(open, open + 20)}`);
    if (open > pos) parts.push(template.slice(pos, open));
    parts.push(actionFormatter(template.slice(open + 2, close).trim()));
    pos = close + 2;
  }
  if (pos < template.length) parts.push(template.slice(pos));

  // Merge neighbouring literal strings so the run-time loop only concatenates.
  const merged: (string | Formatter)[] = [];
  for (const p of parts) {
    const last = merged[merged.length - 1];
    if (typeof p === 'string' && typeof last === 'string') merged[merged.length - 1] = last + p;
    else merged.push(p);
  }
  if (merged.length === 1) {
    const only = merged[0];
    return typeof only === 'string' ? () => only : only;
  }
  return (ev) => {
    let s = '';
    for (const p of merged) s += typeof p === 'string' ? p : p(ev);
    return s;
  };
}
