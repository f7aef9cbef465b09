// --natsOutputSubject: the subject each event is published on, from a template of literal text and
// {field} placeholders, e.g. dns.{server}.{qr}. A field is any event field of the file template
// ({server}, {qtype}, {qtypeName}, {rcodeName}, {inputKind}, ...; docs/nats.md), except that {qr} reads
// "query" or "response". A value is made a safe subject token: every character other than A-Z a-z 0-9
// _ - becomes "_" (so "ns1.example" is ns1_example: one token), and an empty value is "_". Events of one
// batch on different subjects go as different messages: keep to fields with few values.
import type { DnsEvent } from '../../event.js';
import { TEMPLATE_FIELDS } from '../format/template.js';

export interface SubjectTemplate {
  render(ev: DnsEvent): string;
  /** The template with every field as "x": a subject to look up the stream that stores them. */
  readonly sample: string;
  /** What a stream made for the template stores: its literal leading tokens and ">" (the subject
   *  itself when it has no field); null when its first token holds a field. */
  readonly streamSubject: string | null;
}

const FIELD = /\{([A-Za-z]*)\}/g;
const LITERAL = /^[!-~]*$/; // printable ASCII
const NOT_LITERAL = /[{}*>]/; // braces, wildcards

/** The template parsed; throws an Error saying what is wrong. */
export function parseSubject(template: string): SubjectTemplate {
  const literals: string[] = [];
  const fields: ((ev: DnsEvent) => string)[] = [];
  let at = 0;
  for (const m of template.matchAll(FIELD)) {
    literals.push(template.slice(at, m.index));
    fields.push(fieldValue(m[1]));
    at = m.index + m[0].length;
  }
  literals.push(template.slice(at));
  for (const l of literals) {
    if (!LITERAL.test(l) || NOT_LITERAL.test(l)) throw new Error(`"${template}": a subject is printable ASCII without spaces, "*" or ">", and fields are written {name}`);
  }
  const sample = literals.join('x');
  if (sample.split('.').some((t) => t === '')) throw new Error(`"${template}": a subject is tokens separated by single dots (an empty token here)`);
  let streamSubject: string | null = sample;
  if (fields.length > 0) {
    const fixed = literals[0].split('.').slice(0, -1); // the tokens before the first field's
    streamSubject = fixed.length > 0 ? [...fixed, '>'].join('.') : null;
  }
  const render =
    fields.length === 0
      ? () => sample
      : (ev: DnsEvent) => {
          let s = literals[0];
          for (let i = 0; i < fields.length; i++) s += fields[i](ev) + literals[i + 1];
          return s;
        };
  return { render, sample, streamSubject };
}

function fieldValue(name: string): (ev: DnsEvent) => string {
  if (name === 'qr') return (ev) => (ev.qr ? 'response' : 'query');
  const f = Object.hasOwn(TEMPLATE_FIELDS, name) ? TEMPLATE_FIELDS[name] : undefined;
  if (!f) throw new Error(`unknown field {${name}}; known fields: ${Object.keys(TEMPLATE_FIELDS).join(', ')}`);
  // The last value and its token: a batch repeats a few values many times.
  let last = '';
  let lastToken = '_';
  return (ev) => {
    const v = f(ev);
    if (v !== last) {
      last = v;
      lastToken = v === '' ? '_' : v.replace(/[^A-Za-z0-9_-]/g, '_');
    }
    return lastToken;
  };
}
