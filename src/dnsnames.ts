// Number -> mnemonic tables for DNS parameters (IANA "Domain Name System (DNS) Parameters").
// One source for text outputs, filters and the ClickHouse dictionaries.
// Names are the presentation mnemonics dig/BIND print (upper case); numbers with no
// assigned name print in the RFC 3597 style: TYPE123, CLASS123, plus RCODE12 / OPCODE3.

/** All assigned RR types (data, meta and QTYPEs). 255 prints as ANY (IANA lists it as "*"). */
export const RR_TYPES: ReadonlyArray<readonly [number, string]> = [
  [1, 'A'], [2, 'NS'], [3, 'MD'], [4, 'MF'], [5, 'CNAME'], [6, 'SOA'], [7, 'MB'], [8, 'MG'],
  [9, 'MR'], [10, 'NULL'], [11, 'WKS'], [12, 'PTR'], [13, 'HINFO'], [14, 'MINFO'], [15, 'MX'],
  [16, 'TXT'], [17, 'RP'], [18, 'AFSDB'], [19, 'X25'], [20, 'ISDN'], [21, 'RT'], [22, 'NSAP'],
  [23, 'NSAP-PTR'], [24, 'SIG'], [25, 'KEY'], [26, 'PX'], [27, 'GPOS'], [28, 'AAAA'], [29, 'LOC'],
  [30, 'NXT'], [31, 'EID'], [32, 'NIMLOC'], [33, 'SRV'], [34, 'ATMA'], [35, 'NAPTR'], [36, 'KX'],
  [37, 'CERT'], [38, 'A6'], [39, 'DNAME'], [40, 'SINK'], [41, 'OPT'], [42, 'APL'], [43, 'DS'],
  [44, 'SSHFP'], [45, 'IPSECKEY'], [46, 'RRSIG'], [47, 'NSEC'], [48, 'DNSKEY'], [49, 'DHCID'],
  [50, 'NSEC3'], [51, 'NSEC3PARAM'], [52, 'TLSA'], [53, 'SMIMEA'], [55, 'HIP'], [56, 'NINFO'],
  [57, 'RKEY'], [58, 'TALINK'], [59, 'CDS'], [60, 'CDNSKEY'], [61, 'OPENPGPKEY'], [62, 'CSYNC'],
  [63, 'ZONEMD'], [64, 'SVCB'], [65, 'HTTPS'], [66, 'DSYNC'], [67, 'HHIT'], [68, 'BRID'],
  [99, 'SPF'], [100, 'UINFO'], [101, 'UID'], [102, 'GID'], [103, 'UNSPEC'], [104, 'NID'],
  [105, 'L32'], [106, 'L64'], [107, 'LP'], [108, 'EUI48'], [109, 'EUI64'], [128, 'NXNAME'],
  [249, 'TKEY'], [250, 'TSIG'], [251, 'IXFR'], [252, 'AXFR'], [253, 'MAILB'], [254, 'MAILA'],
  [255, 'ANY'], [256, 'URI'], [257, 'CAA'], [258, 'AVC'], [259, 'DOA'], [260, 'AMTRELAY'],
  [261, 'RESINFO'], [262, 'WALLET'], [263, 'CLA'], [264, 'IPN'], [32768, 'TA'], [32769, 'DLV'],
];

/** Assigned classes (0 and 65535 are reserved, 2 is unassigned: they print as CLASSn). */
export const CLASSES: ReadonlyArray<readonly [number, string]> = [
  [1, 'IN'], [3, 'CH'], [4, 'HS'], [254, 'NONE'], [255, 'ANY'],
];

/** Response codes 0-23 (12-15 unassigned). 16 is BADVERS in an OPT record, BADSIG in TSIG. */
export const RCODES: ReadonlyArray<readonly [number, string]> = [
  [0, 'NOERROR'], [1, 'FORMERR'], [2, 'SERVFAIL'], [3, 'NXDOMAIN'], [4, 'NOTIMP'], [5, 'REFUSED'],
  [6, 'YXDOMAIN'], [7, 'YXRRSET'], [8, 'NXRRSET'], [9, 'NOTAUTH'], [10, 'NOTZONE'], [11, 'DSOTYPENI'],
  [16, 'BADVERS'], [17, 'BADKEY'], [18, 'BADTIME'], [19, 'BADMODE'], [20, 'BADNAME'], [21, 'BADALG'],
  [22, 'BADTRUNC'], [23, 'BADCOOKIE'],
];

/** Opcodes (3 and 7-15 unassigned). */
export const OPCODES: ReadonlyArray<readonly [number, string]> = [
  [0, 'QUERY'], [1, 'IQUERY'], [2, 'STATUS'], [4, 'NOTIFY'], [5, 'UPDATE'], [6, 'DSO'],
];

// Dense arrays for the small number ranges keep lookups on the output hot path cheap.
function dense(table: ReadonlyArray<readonly [number, string]>, size: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < size; i++) out.push(prefix + i);
  for (const [n, name] of table) if (n < size) out[n] = name;
  return out;
}

const TYPE_LOW = dense(RR_TYPES, 512, 'TYPE');
const TYPE_HIGH = new Map(RR_TYPES.filter(([n]) => n >= 512));
const CLASS_LOW = dense(CLASSES, 256, 'CLASS');
const RCODE_LOW = dense(RCODES, 24, 'RCODE');
const OPCODE_LOW = dense(OPCODES, 16, 'OPCODE');

export function typeName(n: number): string {
  return TYPE_LOW[n] ?? TYPE_HIGH.get(n) ?? `TYPE${n}`;
}

export function className(n: number): string {
  return CLASS_LOW[n] ?? `CLASS${n}`;
}

export function rcodeName(n: number): string {
  return RCODE_LOW[n] ?? `RCODE${n}`;
}

export function opcodeName(n: number): string {
  return OPCODE_LOW[n] ?? `OPCODE${n}`;
}

function reverse(table: ReadonlyArray<readonly [number, string]>): Map<string, number> {
  return new Map(table.map(([n, name]) => [name, n]));
}

const TYPE_BY_NAME = reverse(RR_TYPES).set('*', 255); // IANA's own name for ANY
const CLASS_BY_NAME = reverse(CLASSES);

// "A", "aaaa", "TYPE65" -> number; undefined for an unknown mnemonic or an out of range number.
function parseName(s: string, byName: Map<string, number>, prefix: string): number | undefined {
  const up = s.trim().toUpperCase();
  const known = byName.get(up);
  if (known !== undefined) return known;
  if (up.startsWith(prefix) && /^\d{1,5}$/.test(up.slice(prefix.length))) {
    const n = Number(up.slice(prefix.length));
    return n <= 65535 ? n : undefined;
  }
  return undefined;
}

/** RR type number for a mnemonic ("AAAA", "https") or RFC 3597 form ("TYPE65"). */
export function typeFromName(s: string): number | undefined {
  return parseName(s, TYPE_BY_NAME, 'TYPE');
}

/** Class number for a mnemonic ("IN", "ch") or RFC 3597 form ("CLASS3"). */
export function classFromName(s: string): number | undefined {
  return parseName(s, CLASS_BY_NAME, 'CLASS');
}
