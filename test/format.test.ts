import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isoTime, newEvent, type DnsEvent } from '../src/event.js';
import {
  CLASSES, OPCODES, RCODES, RR_TYPES, className, classFromName, opcodeName, rcodeName, typeFromName, typeName,
} from '../src/dnsnames.js';
import { CSV_HEADER, encodeLines, FORMATS, formatJson, makeFormatter, TEMPLATE_FIELDS } from '../src/outputs/format.js';
import { describeWithPeers } from './peers.js';
import { PCAP_DIR } from './data.js';

// --- events built by hand -------------------------------------------------------------------

function query(): DnsEvent {
  const ev = newEvent();
  ev.timeSec = 1476976981; // 2016-10-20T15:23:01Z
  ev.timeNsec = 75993000;
  ev.server = 'default';
  ev.ipVersion = 4;
  ev.srcIp = '192.168.1.10';
  ev.dstIp = '8.8.8.8';
  ev.srcPort = 51234;
  ev.dstPort = 53;
  ev.id = 4660;
  ev.rd = true;
  ev.qname = 'google.com';
  ev.qtype = 1;
  ev.qclass = 1;
  ev.qdCount = 1;
  ev.ednsPresent = true;
  ev.ednsUdpSize = 4096;
  ev.ednsDo = true;
  ev.size = 39;
  ev.inputName = '/data/dns.pcap';
  return ev;
}

function response(): DnsEvent {
  const ev = query();
  ev.timeNsec = 5;
  [ev.srcIp, ev.dstIp, ev.srcPort, ev.dstPort] = [ev.dstIp, ev.srcIp, ev.dstPort, ev.srcPort];
  ev.qr = true;
  ev.ra = true;
  ev.ad = true;
  ev.anCount = 3;
  ev.answers = [
    { name: 'google.com', type: 5, class: 1, ttl: 300, data: 'www.google.com' },
    { name: 'www.google.com', type: 1, class: 1, ttl: 60, data: '216.58.218.206' },
    { name: 'www.google.com', type: 16, class: 1, ttl: 60, data: '"v=spf1, \\"quoted\\"" "second;string"' },
  ];
  ev.ednsClientSubnet = '192.0.2.0/24';
  ev.size = 120;
  ev.responseTimeUs = 1234;
  return ev;
}

// Every awkward character a text format must survive.
function awkward(): DnsEvent {
  const ev = response();
  ev.ipVersion = 6;
  ev.srcIp = '2001:db8::1';
  ev.dstIp = 'fe80::1%eth0';
  ev.transport = 'tcp';
  ev.server = 'sérveur "east", rack 1\r\nline two\t\u0001 😀';
  ev.qname = 'caf\\195\\169.ex\\.ample\\\\.com'; // RFC 1035 escapes, as the decoder writes them
  ev.inputName = 'we"ird,\nname\u2028.pcap';
  ev.answers = [{ name: 'x,y', type: 16, class: 3, ttl: 0, data: 'a"b,c\nd' }];
  ev.rcode = 3;
  ev.responseTimeUs = null;
  return ev;
}

const ALL = [query(), response(), awkward()];

// --- a small RFC 4180 parser (records may span lines inside quotes) -------------------------

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      i++;
      continue;
    } else field += c;
    i++;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

// --- json ------------------------------------------------------------------------------------

const JSON_KEYS = [
  'time', 'server', 'ipVersion', 'srcIp', 'dstIp', 'srcPort', 'dstPort', 'transport', 'id', 'qr', 'opcode',
  'aa', 'tc', 'rd', 'ra', 'ad', 'cd', 'rcode', 'qname', 'qtype', 'qclass', 'qdCount', 'anCount', 'nsCount',
  'arCount', 'answers', 'ednsPresent', 'ednsUdpSize', 'ednsDo', 'ednsClientSubnet', 'size', 'inputKind',
  'inputName', 'responseTimeUs', 'unanswered', 'clientId', 'messageType', 'resolution', 'upstream', 'eventHash', 'rawLine',
];

// What the JSON line must mean: the event with its two time fields replaced by "time".
function expectedJson(ev: DnsEvent): Record<string, unknown> {
  const { timeSec: _s, timeNsec: _n, ...rest } = ev;
  return { time: isoTime(ev), ...rest };
}

describe('json format', () => {
  const fmt = makeFormatter('json');

  it('prints the documented golden line for a query', () => {
    expect(fmt.header).toBeUndefined();
    expect(fmt.format(query())).toBe(
      '{"time":"2016-10-20T15:23:01.075993000Z","server":"default","ipVersion":4,"srcIp":"192.168.1.10",' +
        '"dstIp":"8.8.8.8","srcPort":51234,"dstPort":53,"transport":"udp","id":4660,"qr":false,"opcode":0,' +
        '"aa":false,"tc":false,"rd":true,"ra":false,"ad":false,"cd":false,"rcode":0,"qname":"google.com",' +
        '"qtype":1,"qclass":1,"qdCount":1,"anCount":0,"nsCount":0,"arCount":0,"answers":[],' +
        '"ednsPresent":true,"ednsUdpSize":4096,"ednsDo":true,"ednsClientSubnet":"","size":39,' +
        '"inputKind":"pcap","inputName":"/data/dns.pcap","responseTimeUs":null,"unanswered":false,"clientId":"","messageType":"","resolution":"","upstream":"","eventHash":"","rawLine":""}',
    );
  });

  it('parses back to the event, keys in schema order, awkward strings intact', () => {
    for (const ev of ALL) {
      const line = fmt.format(ev);
      expect(line).not.toMatch(/[\n\r\u0085\u2028\u2029]/); // one line, even with U+2028 in a value
      const back = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(back)).toEqual(JSON_KEYS);
      expect(back).toEqual(expectedJson(ev));
    }
  });

  it('keeps a lone surrogate as an escape instead of corrupting it', () => {
    const ev = query();
    ev.server = 'half \ud83d';
    const line = fmt.format(ev);
    expect(line).toContain('"server":"half \\ud83d"');
    expect((JSON.parse(line) as { server: string }).server).toBe('half \ud83d');
  });

  it('renders time like isoTime() at the edges of the nanosecond range', () => {
    for (const [sec, ns] of [[0, 0], [1476976981, 999_999_999], [4294967295, 1], [1700000000, 100_000_000]]) {
      const ev = query();
      ev.timeSec = sec;
      ev.timeNsec = ns;
      expect((JSON.parse(fmt.format(ev)) as { time: string }).time).toBe(isoTime(ev));
    }
  });

  it('stays valid JSON when a number field is not finite', () => {
    const ev = query();
    ev.size = Number.NaN;
    ev.responseTimeUs = Number.POSITIVE_INFINITY;
    const back = JSON.parse(fmt.format(ev)) as { size: unknown; responseTimeUs: unknown };
    expect(back.size).toBeNull();
    expect(back.responseTimeUs).toBeNull();
  });

  it('encodes a batch as the same lines, as UTF-8, with line ends', () => {
    const ends: number[] = [];
    const buf = encodeLines(fmt, ALL, ends);
    const text = buf.toString('utf8');
    expect(text).toBe(ALL.map((e) => fmt.format(e) + '\n').join(''));
    expect(ends).toHaveLength(ALL.length);
    expect(ends[ends.length - 1]).toBe(buf.length);
    expect(buf.subarray(0, ends[0]).toString('utf8')).toBe(fmt.format(ALL[0]) + '\n');
  });

  it('encodes a batch larger than the initial buffer', () => {
    const many = Array.from({ length: 2000 }, (_, i) => {
      const ev = response();
      ev.id = i;
      return ev;
    });
    const lines = encodeLines(fmt, many).toString('utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(2000);
    expect(lines.map((l) => (JSON.parse(l) as { id: number }).id)).toEqual(many.map((e) => e.id));
  });
});

// --- csv -------------------------------------------------------------------------------------

const CSV_NAMES = [
  'Year', 'Month', 'Day', 'Hour', 'Minute', 'Second', 'Ns', 'Server', 'IpVersion', 'SrcIP', 'DstIP', 'Protocol',
  'Qr', 'OpCode', 'Class', 'Type', 'ResponseCode', 'Question', 'Size', 'Edns0Present', 'DoBit', 'Id',
  'SrcPort', 'DstPort', 'Transport', 'AA', 'TC', 'RD', 'RA', 'AD', 'CD', 'QdCount', 'AnCount', 'NsCount',
  'ArCount', 'Answers', 'EdnsUdpSize', 'EdnsClientSubnet', 'InputKind', 'InputName', 'ResponseTimeUs', 'Unanswered', 'ClientId', 'MessageType',
];

describe('csv format', () => {
  const fmt = makeFormatter('csv');

  it("starts with dnsmonster's columns, then ours", () => {
    expect(fmt.header).toBe(CSV_NAMES.join(','));
    expect(CSV_HEADER).toBe(fmt.header);
    expect(makeFormatter('csv_no_header').header).toBeUndefined();
    expect(makeFormatter('csv_no_header').format(query())).toBe(fmt.format(query()));
  });

  it('prints the golden row for a query', () => {
    expect(fmt.format(query())).toBe(
      '2016,10,20,15,23,1,75993000,default,4,192.168.1.10,8.8.8.8,17,0,0,1,1,0,google.com,39,1,1,4660,' +
        '51234,53,udp,0,0,1,0,0,0,1,0,0,0,,4096,,pcap,/data/dns.pcap,,0,,',
    );
  });

  it('round-trips awkward fields through an RFC 4180 parser', () => {
    const text = [fmt.header, ...ALL.map((e) => fmt.format(e))].join('\r\n') + '\r\n';
    const rows = parseCsv(text);
    expect(rows).toHaveLength(1 + ALL.length);
    expect(rows[0]).toEqual(CSV_NAMES);
    const col = (row: string[], name: string): string => row[CSV_NAMES.indexOf(name)];
    for (let i = 0; i < ALL.length; i++) {
      const ev = ALL[i];
      const row = rows[i + 1];
      expect(row).toHaveLength(CSV_NAMES.length);
      expect(col(row, 'Server')).toBe(ev.server);
      expect(col(row, 'SrcIP')).toBe(ev.srcIp);
      expect(col(row, 'DstIP')).toBe(ev.dstIp);
      expect(col(row, 'Question')).toBe(ev.qname);
      expect(col(row, 'InputName')).toBe(ev.inputName);
      expect(col(row, 'Id')).toBe(String(ev.id));
      expect(col(row, 'Qr')).toBe(ev.qr ? '1' : '0');
      expect(col(row, 'Protocol')).toBe(ev.transport === 'udp' ? '17' : '6');
      expect(col(row, 'ResponseTimeUs')).toBe(ev.responseTimeUs === null ? '' : String(ev.responseTimeUs));
    }
    expect(col(rows[2], 'Answers')).toBe('CNAME:www.google.com;A:216.58.218.206;TXT:"v=spf1, \\"quoted\\"" "second;string"');
    expect(col(rows[3], 'Answers')).toBe('TXT:a"b,c\nd');
    expect(col(rows[2], 'Ns')).toBe('5');
    expect(col(rows[2], 'EdnsClientSubnet')).toBe('192.0.2.0/24');
  });
});

// --- gotemplate ------------------------------------------------------------------------------

describe('gotemplate format', () => {
  const tpl = (t: string) => makeFormatter('gotemplate', t).format;

  it('fills fields by their JSON names', () => {
    expect(tpl('{{.time}} {{.srcIp}} {{.qname}} {{.qtype}}')(query())).toBe(
      '2016-10-20T15:23:01.075993000Z 192.168.1.10 google.com 1',
    );
    expect(tpl('id={{ .id }} qr={{.qr}} rt={{.responseTimeUs}}|')(query())).toBe('id=4660 qr=false rt=|');
    expect(tpl('{{.qtypeName}}/{{.qclassName}}/{{.rcodeName}}/{{.opcodeName}} {{.timeSec}}.{{.timeNsec}}')(awkward())).toBe(
      'A/IN/NXDOMAIN/QUERY 1476976981.5',
    );
  });

  it('renders answers as type:data joined by ";"', () => {
    expect(tpl('{{.answers}}')(response())).toBe(
      'CNAME:www.google.com;A:216.58.218.206;TXT:"v=spf1, \\"quoted\\"" "second;string"',
    );
    expect(tpl('[{{.answers}}]')(query())).toBe('[]');
  });

  it('prints the JSON line for {{.}}, the default', () => {
    for (const ev of ALL) {
      expect(tpl('{{.}}')(ev)).toBe(formatJson(ev));
      expect(makeFormatter('gotemplate').format(ev)).toBe(formatJson(ev));
    }
    expect(tpl('>{{.}}<')(query())).toBe('>' + formatJson(query()) + '<');
  });

  it('supports string literals, including braces', () => {
    expect(tpl('{{"{{"}}.qname{{"}}"}} {{ "a\\"b" }}')(query())).toBe('{{.qname}} a"b');
    expect(tpl('no actions at all')(query())).toBe('no actions at all');
  });

  it('has a field for every JSON key', () => {
    for (const k of JSON_KEYS) expect(Object.keys(TEMPLATE_FIELDS)).toContain(k);
  });

  it('rejects bad templates at start-up with a message naming the problem', () => {
    expect(() => tpl('{{.qnmae}}')).toThrow(/unknown field "qnmae"/);
    expect(() => tpl('{{.QName}}')).toThrow(/did you mean \{\{\.qname\}\}/);
    expect(() => tpl('{{.constructor}}')).toThrow(/unknown field "constructor"/);
    expect(() => tpl('{{.qname')).toThrow(/unclosed action starting at offset 0/);
    expect(() => tpl('a {{.DNS.Id}}')).toThrow(/unsupported action \{\{\.DNS\.Id\}\}.*dnsmonster/);
    expect(() => tpl('{{range .answers}}x{{end}}')).toThrow(/unsupported action \{\{range \.answers\}\}/);
    expect(() => tpl('{{"open}}')).toThrow(/bad string literal/);
    expect(() => tpl('')).toThrow(/empty template/);
  });
});

// --- json-ocsf -------------------------------------------------------------------------------

describe('json-ocsf format', () => {
  const ocsf = (ev: DnsEvent) => JSON.parse(makeFormatter('json-ocsf').format(ev)) as Record<string, any>;

  it('maps a query to DNS Activity: Query', () => {
    const o = ocsf(query());
    expect(o).toMatchObject({
      class_uid: 4003,
      category_uid: 4,
      activity_id: 1,
      activity_name: 'Query',
      type_uid: 400301,
      severity_id: 1,
      time: 1476976981075,
      metadata: { version: '1.1.0', product: { name: 'dnslens', vendor_name: 'dnslens' } },
      src_endpoint: { ip: '192.168.1.10', port: 51234 },
      dst_endpoint: { ip: '8.8.8.8', port: 53 },
      connection_info: { protocol_name: 'udp', protocol_num: 17, protocol_ver_id: 4, direction_id: 0 },
      query: { hostname: 'google.com', type: 'A', class: 'IN', opcode_id: 0, packet_uid: 4660 },
    });
    expect(o).not.toHaveProperty('rcode_id');
    expect(o).not.toHaveProperty('rcode');
    expect(o).not.toHaveProperty('answers');
  });

  it('maps a response with its rcode and answers', () => {
    const o = ocsf(response());
    expect(o.activity_id).toBe(2);
    expect(o.type_uid).toBe(400302);
    expect(o.rcode_id).toBe(0);
    expect(o.rcode).toBe('NoError');
    expect(o.answers).toEqual([
      { rdata: 'www.google.com', type: 'CNAME', class: 'IN', ttl: 300, packet_uid: 4660 },
      { rdata: '216.58.218.206', type: 'A', class: 'IN', ttl: 60, packet_uid: 4660 },
      { rdata: '"v=spf1, \\"quoted\\"" "second;string"', type: 'TXT', class: 'IN', ttl: 60, packet_uid: 4660 },
    ]);
    const nx = ocsf(awkward());
    expect([nx.rcode_id, nx.rcode]).toEqual([3, 'NXDomain']);
    expect(nx.connection_info).toMatchObject({ protocol_name: 'tcp', protocol_num: 6, protocol_ver_id: 6 });
    expect(nx.answers[0].class).toBe('CH');
  });

  it('uses the OCSF catch-all ids for unassigned rcodes and opcodes', () => {
    const ev = response();
    ev.rcode = 12;
    ev.opcode = 9;
    const o = ocsf(ev);
    expect([o.rcode_id, o.rcode]).toEqual([24, 'Unassigned']);
    expect(o.query).toMatchObject({ opcode_id: 99, opcode: 'OPCODE9' });
    ev.rcode = 3841;
    expect(ocsf(ev).rcode_id).toBe(25);
    ev.rcode = 23;
    expect([ocsf(ev).rcode_id, ocsf(ev).rcode]).toEqual([23, 'BADCOOKIE']);
  });

  it('stays on one line', () => {
    const line = makeFormatter('json-ocsf').format(awkward());
    expect(line).not.toMatch(/[\n\r\u0085\u2028\u2029]/);
    expect(JSON.parse(line).query.hostname).toBe(awkward().qname);
  });

  it('leaves out what the event does not know', () => {
    const ev = newEvent();
    ev.inputKind = 'log';
    ev.transport = 'dot';
    const o = ocsf(ev);
    expect(o.src_endpoint).toEqual({});
    expect(o).not.toHaveProperty('query');
    expect(o.connection_info).toEqual({ protocol_name: 'tcp', protocol_num: 6, direction_id: 0, direction: 'Unknown' });
  });
});

// --- names and errors ------------------------------------------------------------------------

describe('makeFormatter', () => {
  it('knows every documented format and rejects others', () => {
    for (const f of FORMATS) expect(typeof makeFormatter(f).format).toBe('function');
    expect(() => makeFormatter('xml' as never)).toThrow(/unknown output format "xml"; expected one of: json, csv/);
    expect(makeFormatter('csv_no_headers' as never).header).toBeUndefined();
  });
});

describe('docs/event.md', () => {
  const doc = readFileSync(new URL('../docs/event.md', import.meta.url), 'utf8');

  it('documents every template field, csv column and format', () => {
    for (const name of Object.keys(TEMPLATE_FIELDS)) expect(doc).toContain('`' + name + '`');
    for (const col of CSV_NAMES) expect(doc).toContain('`' + col + '`');
    for (const f of FORMATS) expect(doc).toContain('`' + f + '`');
  });

  it('shows the json line the formatter prints', () => {
    expect(doc).toContain(formatJson(query()));
  });
});

describe('dnsnames', () => {
  it('names types, classes, rcodes and opcodes, RFC 3597 style when unassigned', () => {
    expect([typeName(1), typeName(28), typeName(64), typeName(65), typeName(255), typeName(32769)]).toEqual([
      'A', 'AAAA', 'SVCB', 'HTTPS', 'ANY', 'DLV',
    ]);
    expect([typeName(0), typeName(54), typeName(65280), typeName(70000)]).toEqual(['TYPE0', 'TYPE54', 'TYPE65280', 'TYPE70000']);
    expect([className(1), className(3), className(2), className(255)]).toEqual(['IN', 'CH', 'CLASS2', 'ANY']);
    expect([rcodeName(0), rcodeName(3), rcodeName(12), rcodeName(23), rcodeName(4095)]).toEqual([
      'NOERROR', 'NXDOMAIN', 'RCODE12', 'BADCOOKIE', 'RCODE4095',
    ]);
    expect([opcodeName(0), opcodeName(3), opcodeName(6)]).toEqual(['QUERY', 'OPCODE3', 'DSO']);
  });

  it('reads names back', () => {
    expect([typeFromName('https'), typeFromName('TYPE65'), typeFromName('*'), typeFromName('type70000')]).toEqual([
      65, 65, 255, undefined,
    ]);
    expect([typeFromName('NOPE'), classFromName('ch'), classFromName('CLASS2')]).toEqual([undefined, 3, 2]);
    for (const [n, name] of RR_TYPES) expect(typeFromName(name)).toBe(n);
  });

  it('has no duplicate numbers or names', () => {
    for (const table of [RR_TYPES, CLASSES, RCODES, OPCODES]) {
      expect(new Set(table.map(([n]) => n)).size).toBe(table.length);
      expect(new Set(table.map(([, s]) => s)).size).toBe(table.length);
    }
  });
});

// tshark's value tables are an independent copy of the IANA registries.
let tsharkTables: Map<string, Map<number, string>> | undefined;
function tsharkValues(field: string): Map<number, string> {
  if (!tsharkTables) {
    tsharkTables = new Map();
    const out = execFileSync('tshark', ['-G', 'values'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    for (const line of out.split('\n')) {
      const [kind, f, num, text] = line.split('\t');
      if (kind !== 'V' || !f.startsWith('dns.')) continue;
      if (!tsharkTables.has(f)) tsharkTables.set(f, new Map());
      tsharkTables.get(f)!.set(Number(num), text);
    }
  }
  return tsharkTables.get(field) ?? new Map();
}

describeWithPeers('dnsnames against tshark', ['tshark'], () => {
  it('agrees on every RR type tshark names', () => {
    const ts = tsharkValues('dns.qry.type');
    expect(ts.size).toBeGreaterThan(80);
    for (const [n, text] of ts) {
      if (n === 0 || n === 255 || n >= 65280) continue; // "Unused", "*", private use
      expect(`${n} ${typeName(n)}`).toBe(`${n} ${text.split(' ')[0]}`);
    }
  });

  it('has the same assigned rcodes, opcodes and classes', () => {
    expect(RCODES.map(([n]) => n)).toEqual([...tsharkValues('dns.flags.rcode').keys()]);
    expect(OPCODES.map(([n]) => n)).toEqual([...tsharkValues('dns.flags.opcode').keys()]);
    const classes = tsharkValues('dns.qry.class');
    for (const [n, name] of CLASSES) expect(classes.get(n)).toBe(name);
  });
});

// --- real traffic: events from a real capture, read back by independent parsers ---------------

function eventsFromTshark(pcap: string): DnsEvent[] {
  const fields = ['frame.time_epoch', 'ip.src', 'ip.dst', 'udp.srcport', 'udp.dstport', 'dns.id',
    'dns.flags.response', 'dns.qry.name', 'dns.qry.type', 'dns.flags.rcode', 'dns.a'];
  const out = execFileSync('tshark', ['-r', pcap, '-Y', 'dns', '-T', 'fields', '-E', 'separator=/t', '-E',
    'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
  return out.trimEnd().split('\n').map((line) => {
    const [time, src, dst, sport, dport, id, qr, qname, qtype, rcode, a] = line.split('\t');
    const [sec, frac] = time.split('.');
    const ev = newEvent();
    ev.timeSec = Number(sec);
    ev.timeNsec = Number(frac.padEnd(9, '0').slice(0, 9));
    Object.assign(ev, { ipVersion: 4, srcIp: src, dstIp: dst, srcPort: Number(sport), dstPort: Number(dport) });
    ev.id = Number(id);
    ev.qr = qr === 'True' || qr === '1';
    ev.qname = qname;
    ev.qtype = Number(qtype);
    ev.qclass = 1;
    ev.rcode = Number(rcode || 0);
    ev.answers = a ? a.split(',').map((ip) => ({ name: qname, type: 1, class: 1, ttl: 0, data: ip })) : [];
    ev.inputName = pcap;
    return ev;
  });
}

const python = (script: string, input: string): string =>
  execFileSync('python3', ['-c', script], { input, encoding: 'utf8', maxBuffer: 64 << 20 });

describeWithPeers('formats on a real capture', ['tshark', 'python3'], () => {
  const pcap = `${PCAP_DIR}/dnscap__dns.pcap`;
  const events = eventsFromTshark(pcap);

  it('reads the 82 DNS messages of dnscap__dns.pcap', () => {
    expect(events).toHaveLength(82); // PROVENANCE.md: 41 queries, 41 responses
    expect(events.filter((e) => e.qr)).toHaveLength(41);
  });

  it("json lines load in Python's json module", () => {
    const text = encodeLines(makeFormatter('json'), events).toString('utf8');
    const back = JSON.parse(python('import sys,json\nprint(json.dumps([json.loads(l) for l in sys.stdin]))', text)) as Record<string, unknown>[];
    expect(back).toEqual(events.map(expectedJson));
  });

  it("csv rows load in Python's csv module", () => {
    const fmt = makeFormatter('csv');
    const text = fmt.header + '\n' + encodeLines(fmt, events).toString('utf8');
    const rows = JSON.parse(python('import sys,csv,json\nprint(json.dumps(list(csv.reader(sys.stdin))))', text)) as string[][];
    expect(rows).toHaveLength(83);
    expect(rows).toEqual(parseCsv(text));
    const q = CSV_NAMES.indexOf('Question');
    expect(rows.slice(1).map((r) => r[q])).toEqual(events.map((e) => e.qname));
  });

  it('ocsf lines carry the same names and answers', () => {
    const lines = encodeLines(makeFormatter('json-ocsf'), events).toString('utf8').trimEnd().split('\n');
    const back = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(back.map((o) => o.query.hostname)).toEqual(events.map((e) => e.qname));
    expect(back.filter((o) => o.activity_id === 2)).toHaveLength(41);
    expect(back.flatMap((o) => (o.answers ?? []).map((a: { rdata: string }) => a.rdata))).toEqual(
      events.flatMap((e) => e.answers.map((a) => a.data)),
    );
  });
});
