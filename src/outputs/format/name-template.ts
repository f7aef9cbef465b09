// A name made per event from a template of literal text and {field} placeholders: a NATS subject
// (nats/subject.ts), a Kafka topic (kafka/mapping.ts). A field is any event field of the file
// template ({server}, {qtype}, {qtypeName}, {rcodeName}, {inputKind}, ...), except that {qr} reads
// "query" or "response". A value is made a safe name part: every character other than A-Z a-z 0-9
// _ - becomes "_" (so "ns1.example" is ns1_example), and an empty value is "_". The literal parts
// are the caller's to check (each bus has its own rules).
import type { DnsEvent } from '../../event.js';
import { TEMPLATE_FIELDS } from './template.js';

export interface NameTemplate {
  /** The literal text around the fields: one more than there are fields. */
  readonly literals: readonly string[];
  readonly fields: number;
  render(ev: DnsEvent): string;
  /** The template with every field as "x". */
  readonly sample: string;
}

const FIELD = /\{([A-Za-z]*)\}/g;

/** The template parsed; throws an Error naming an unknown field. */
export function parseNameTemplate(template: string): NameTemplate {
  const literals: string[] = [];
  const fields: ((ev: DnsEvent) => string)[] = [];
  let at = 0;
  for (const m of template.matchAll(FIELD)) {
    literals.push(template.slice(at, m.index));
    fields.push(fieldValue(m[1]));
    at = m.index + m[0].length;
  }
  literals.push(template.slice(at));
  const sample = literals.join('x');
  const render =
    fields.length === 0
      ? () => sample
      : (ev: DnsEvent) => {
          let s = literals[0];
          for (let i = 0; i < fields.length; i++) s += fields[i](ev) + literals[i + 1];
          return s;
        };
  return { literals, fields: fields.length, render, sample };
}

function fieldValue(name: string): (ev: DnsEvent) => string {
  if (name === 'qr') return (ev) => (ev.qr ? 'response' : 'query');
  const f = Object.hasOwn(TEMPLATE_FIELDS, name) ? TEMPLATE_FIELDS[name] : undefined;
  if (!f) throw new Error(`unknown field {${name}}; known fields: ${Object.keys(TEMPLATE_FIELDS).join(', ')}`);
  // The last value and its safe form: a batch repeats a few values many times.
  let last = '';
  let lastSafe = '_';
  return (ev) => {
    const v = f(ev);
    if (v !== last) {
      last = v;
      lastSafe = v === '' ? '_' : v.replace(/[^A-Za-z0-9_-]/g, '_');
    }
    return lastSafe;
  };
}
