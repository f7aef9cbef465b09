// --natsOutputSubject: the subject each event is published on, from a template of literal text and
// {field} placeholders, e.g. dns.{server}.{qr} (format/name-template.ts; docs/nats.md). A value is
// made a safe subject token (so "ns1.example" is ns1_example: one token). Events of one batch on
// different subjects go as different messages: keep to fields with few values.
import type { DnsEvent } from '../../event.js';
import { parseNameTemplate } from '../format/name-template.js';

export interface SubjectTemplate {
  render(ev: DnsEvent): string;
  /** The template with every field as "x": a subject to look up the stream that stores them. */
  readonly sample: string;
  /** What a stream made for the template stores: its literal leading tokens and ">" (the subject
   *  itself when it has no field); null when its first token holds a field. */
  readonly streamSubject: string | null;
}

const LITERAL = /^[!-~]*$/; // printable ASCII
const NOT_LITERAL = /[{}*>]/; // braces, wildcards

/** The template parsed; throws an Error saying what is wrong. */
export function parseSubject(template: string): SubjectTemplate {
  const { literals, fields, render, sample } = parseNameTemplate(template);
  for (const l of literals) {
    if (!LITERAL.test(l) || NOT_LITERAL.test(l)) throw new Error(`"${template}": a subject is printable ASCII without spaces, "*" or ">", and fields are written {name}`);
  }
  if (sample.split('.').some((t) => t === '')) throw new Error(`"${template}": a subject is tokens separated by single dots (an empty token here)`);
  let streamSubject: string | null = sample;
  if (fields > 0) {
    const fixed = literals[0].split('.').slice(0, -1); // the tokens before the first field's
    streamSubject = fixed.length > 0 ? [...fixed, '>'].join('.') : null;
  }
  return { render, sample, streamSubject };
}
