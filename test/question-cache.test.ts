// The decoder reuses the previous message's question name when the wire bytes match (and then
// fills the compression cache from those bytes). A message must decode the same whether or not
// the name before it was the same: each one here is checked against a decode after an unrelated
// message (so the reused path and the fresh path give the same event) and against known text.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeDnsInto } from '../src/decode/dns.js';
import { newEvent, type DnsEvent } from '../src/event.js';

const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any */
const dnsPacket = require('dns-packet') as { encode(p: any): Buffer };

function decode(msg: Uint8Array, at = 0): { ev: DnsEvent; reason: string | null } {
  const ev = newEvent();
  const buf = new Uint8Array(at + msg.length);
  buf.set(msg, at); // a different offset in the buffer each time: pointers are message-relative
  return { ev, reason: decodeDnsInto(ev, buf, at, buf.length) };
}

const other = dnsPacket.encode({ type: 'query', id: 9, questions: [{ type: 'A', name: 'unrelated.test' }] });

/** The labels of a name in presentation format ("." is the root): \DDD is a byte, \X is X. */
function wireLabels(text: string): string[] {
  if (text === '.') return [];
  const labels: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      const ddd = /^\d{3}/.exec(text.slice(i + 1));
      if (ddd) {
        cur += String.fromCharCode(Number(ddd[0]));
        i += 3;
      } else cur += text[++i];
    } else if (c === '.') {
      labels.push(cur);
      cur = '';
    } else cur += c;
  }
  labels.push(cur);
  return labels;
}

/** Decodes msg fresh (after an unrelated name), then twice more right after itself. */
function threeWays(msg: Uint8Array): DnsEvent {
  decode(other);
  const fresh = decode(msg, 3);
  const again = decode(msg, 0);
  const third = decode(msg, 7);
  expect(fresh.reason).toBeNull();
  expect(again).toEqual(fresh);
  expect(third).toEqual(fresh);
  return fresh.ev;
}

describe('question name reuse', () => {
  it('a response after its query: answers pointing into the question name keep their text', () => {
    const name = 'www.Example.co.uk';
    const query = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name }] });
    // The response by hand, compressed the way servers do: the question name starts at offset
    // 12 ("www" at 12, "example" at 16, "co" at 24, "uk" at 27).
    const qname = [3, 0x77, 0x77, 0x77, 7, ...Buffer.from('Example'), 2, 0x63, 0x6f, 2, 0x75, 0x6b, 0];
    const rr = (owner: number[], type: number, rdata: number[]) => [...owner, 0, type, 0, 1, 0, 0, 0, 60, 0, rdata.length, ...rdata];
    const response = Uint8Array.from([
      0, 1, 0x81, 0x80, 0, 1, 0, 4, 0, 0, 0, 0,
      ...qname, 0, 1, 0, 1,
      ...rr([0xc0, 12], 5, [0xc0, 16]), // www.example.co.uk CNAME example.co.uk
      ...rr([0xc0, 16], 5, [3, 0x63, 0x64, 0x6e, 0xc0, 24]), // example.co.uk CNAME cdn.co.uk
      ...rr([0xc0, 27], 5, [0xc0, 24]), // uk CNAME co.uk
      ...rr([0xc0, 24], 1, [192, 0, 2, 7]), // co.uk A 192.0.2.7
    ]);
    expect(threeWays(query).qname).toBe('www.example.co.uk');
    decode(query); // the response now follows a query for the same name
    const ev = decode(response).ev;
    expect(ev.qname).toBe('www.example.co.uk');
    expect(ev.answers.map((a) => [a.name, a.data])).toEqual([
      ['www.example.co.uk', 'example.co.uk'],
      ['example.co.uk', 'cdn.co.uk'],
      ['uk', 'co.uk'],
      ['co.uk', '192.0.2.7'],
    ]);
    expect(threeWays(response)).toEqual(ev);
  });

  it('names with escapes, the root and a one-label name decode the same when repeated, and their text is the wire name', () => {
    // dns-packet does not read escapes: 'a\\.b' goes on the wire as the labels "a\\" and "b"
    const names = ['a\\.b.example', 'sp ace.example', '.', 'localhost', 'x'.repeat(63) + '.y', 'tab\there.example', 'caf\u00e9.example'];
    for (const name of names) {
      const msg = dnsPacket.encode({
        type: 'response',
        id: 2,
        questions: [{ type: 'TXT', name }],
        answers: [{ type: 'TXT', name, data: ['t'] }],
      });
      const ev = threeWays(msg);
      expect(ev.answers[0].name).toBe(ev.qname);
      // the oracle: the question's labels read straight from the message bytes; an independent
      // reading of our text as presentation format (RFC 1035 5.1: \DDD and \X) gives them back
      const wire = Buffer.from(msg.subarray(12));
      const labels: string[] = [];
      for (let p = 0; wire[p] !== 0; p += 1 + wire[p]) labels.push(wire.subarray(p + 1, p + 1 + wire[p]).toString('latin1'));
      expect(wireLabels(ev.qname), name).toEqual(labels);
      expect(ev.qname).toMatch(/^[\x21-\x7e]+$/); // printable ASCII only: anything else escaped
    }
  });

  it('a repeated name cut short by the message end is still reported truncated', () => {
    const msg = dnsPacket.encode({ type: 'query', id: 3, questions: [{ type: 'A', name: 'cut.example' }] });
    decode(msg);
    const cut = msg.subarray(0, 12 + 6); // header plus part of the name
    const { reason } = decode(cut);
    expect(reason).toBe('dns:truncated-name');
  });
});
