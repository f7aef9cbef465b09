// Domain names on the hot path: decode (with compression), skip, and the text helpers rdata shares.
//
// Output convention (src/event.ts): lower-case A-Z only, no trailing dot, "." for the root,
// and RFC 1035 master-file escapes for anything outside printable ASCII or a '.'/'\' in a label.
//
// Loop safety: a pointer must target an offset before the start of the label run that contains it.
// Every jump then strictly lowers the read position, so a name ends after at most one pass.

// Negative results of readName/skipName; see nameError().
export const E_TRUNCATED = -1;
export const E_BAD_LABEL = -2;
export const E_POINTER_LOOP = -3;
export const E_FORWARD_POINTER = -4;
export const E_TOO_LONG = -5;

const REASONS = ['', 'dns:truncated-name', 'dns:bad-label', 'dns:pointer-loop', 'dns:forward-pointer', 'dns:name-too-long'];

/** The malformed reason for a negative readName/skipName result. */
export function nameError(code: number): string {
  return REASONS[-code] ?? 'dns:bad-name';
}

// ---- text output buffer -------------------------------------------------------------------

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
// Buffer's native latin1Slice turns bytes into a string in one call, without the argument
// handling of toString('latin1') (~25% faster on short names); it accepts any Uint8Array.
// Fall back if it ever disappears.
const nativeLatin1 = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slice }).latin1Slice;
const latin1Slice: Latin1Slice =
  typeof nativeLatin1 === 'function'
    ? nativeLatin1
    : function (this: Uint8Array, s: number, e: number) {
        return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('latin1', s, e);
      };

/** Shared output bytes for building strings; only one string is built at a time. */
export let out = new Uint8Array(4096);

/** Make room for n bytes of output (rdata text can be up to 4x its 64 KiB wire size). */
export function ensureOut(n: number): Uint8Array {
  if (n > out.length) {
    const bigger = new Uint8Array(Math.max(n, out.length * 2));
    bigger.set(out);
    out = bigger;
  }
  return out;
}

/** out[0, n) as a string. */
export function outString(n: number): string {
  return latin1Slice.call(out, 0, n);
}

/** bytes[s, e) as a string (for bytes already known to be printable ASCII). */
export function bytesString(bytes: Uint8Array, s: number, e: number): string {
  return latin1Slice.call(bytes, s, e);
}

// For each byte: the byte to emit inside a name label (A-Z lowered), or 0 when it needs an escape.
const LABEL_MAP = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) LABEL_MAP[c] = c >= 0x41 && c <= 0x5a ? c + 32 : c;
LABEL_MAP[0x2e] = 0; // '.'
LABEL_MAP[0x5c] = 0; // '\'

/** Writes the \DDD escape of c at out[o]; returns the new length. */
export function putDecimalEscape(o: number, c: number): number {
  out[o] = 0x5c;
  out[o + 1] = 0x30 + ((c / 100) | 0);
  out[o + 2] = 0x30 + (((c / 10) | 0) % 10);
  out[o + 3] = 0x30 + (c % 10);
  return o + 4;
}

// ---- compression cache --------------------------------------------------------------------
// Responses point back at names already decoded (the qname at offset 12, a CNAME target).
// For each label start decoded in this message we remember the finished string and where the
// suffix starts in it, so a pointer to it costs one slice instead of a re-decode.

const MAX_PTR = 0x4000; // pointers are 14 bits
const cacheGen = new Int32Array(MAX_PTR);
const cacheSlot = new Uint16Array(MAX_PTR);
const MAX_SLOTS = 512;
const slotName: string[] = new Array<string>(MAX_SLOTS).fill('');
const slotChar = new Int32Array(MAX_SLOTS); // suffix start in slotName (chars)
const slotWire = new Int32Array(MAX_SLOTS); // suffix length on the wire, terminal zero included
const slotOff = new Int32Array(MAX_SLOTS); // message offset of the label
let gen = 0;
let slots = 0;
let cacheOn = true;
let record = true; // whether this message's names go into the cache
let base = 0; // message start in the current buffer

/** Turns the compression cache off or on (tests compare both: the output must not change). */
export function useNameCache(on: boolean): void {
  cacheOn = on;
}

/** Starts a new message at buf offset msgStart: forgets the previous message's names.
 *  remember=false skips filling the cache (a query: nothing after the question points back
 *  into it but the additional section, which skipName validates the same without it). */
export function beginMessage(msgStart: number, remember = true): void {
  base = msgStart;
  record = remember && cacheOn;
  slots = 0;
  if (++gen === 0x7fffffff) {
    cacheGen.fill(0);
    gen = 1;
  }
}

/** Frees the slots a failed name took; returns its error code. */
function drop(first: number, code: number): number {
  slots = first;
  return code;
}

/** The string read by the last successful readName. */
export let nameText = '';

/**
 * Decodes the name at pos into nameText. Labels read before the first pointer must end by
 * limit (the rdata end for names inside rdata); after a jump they may run to end.
 * Returns the position just after the name as stored at pos, or a negative E_* code.
 */
export function readName(buf: Uint8Array, pos: number, limit: number, end: number): number {
  let p = pos;
  let lim = limit;
  let seg = pos; // start of the current run of labels
  let after = -1; // position after the name, known at the first jump
  let o = 0; // output length
  let wire = 0; // octets so far (labels and their length bytes)
  // Labels read before the first jump take cache slots [first, slots); they are published in the
  // cache only once the name is complete (slotWire holds their wire offset until then). A name
  // that fails inside rdata does not fail the message, so it must leave no trace.
  const first = slots;
  let suffix: string | null = null;
  let suffixWire = 0;
  const ob = out;
  for (;;) {
    if (p >= lim) return drop(first, E_TRUNCATED);
    const len = buf[p];
    if (len === 0) {
      p++;
      wire++;
      break;
    }
    if (len < 0x40) {
      const s = p + 1;
      const e = s + len;
      if (e > lim) return drop(first, E_TRUNCATED);
      if (wire + len + 1 > 254) return drop(first, E_TOO_LONG); // with the terminal zero it would pass 255
      const off = p - base;
      if (record && after < 0 && slots < MAX_SLOTS && off < MAX_PTR) {
        slotOff[slots] = off;
        slotChar[slots] = o === 0 ? 0 : o + 1; // the suffix starts after the '.'
        slotWire[slots] = wire;
        slots++;
      }
      wire += len + 1;
      if (o !== 0) ob[o++] = 0x2e;
      for (let i = s; i < e; i++) {
        const c = buf[i];
        const m = LABEL_MAP[c];
        if (m !== 0) ob[o++] = m;
        else if (c === 0x2e || c === 0x5c) {
          ob[o++] = 0x5c;
          ob[o++] = c;
        } else o = putDecimalEscape(o, c);
      }
      p = e;
      continue;
    }
    if (len < 0xc0) return drop(first, E_BAD_LABEL); // 0x40 extended and 0x80 reserved label types
    if (p + 1 >= lim) return drop(first, E_TRUNCATED);
    const target = base + (((len & 0x3f) << 8) | buf[p + 1]);
    if (target > p) return drop(first, E_FORWARD_POINTER);
    if (target >= seg) return drop(first, E_POINTER_LOOP);
    if (after < 0) after = p + 2;
    const off = target - base;
    if (cacheGen[off] === gen) {
      const slot = cacheSlot[off];
      const from = slotChar[slot];
      suffix = from === 0 ? slotName[slot] : slotName[slot].slice(from);
      suffixWire = slotWire[slot];
      if (wire + suffixWire > 255) return drop(first, E_TOO_LONG);
      break;
    }
    p = target;
    seg = target;
    lim = end;
  }
  let name: string;
  if (suffix === null) name = o === 0 ? '.' : outString(o);
  else name = o === 0 ? suffix : outString(o) + '.' + suffix;
  nameText = name;
  const total = wire + suffixWire;
  for (let i = first; i < slots; i++) {
    slotName[i] = name;
    slotWire[i] = total - slotWire[i];
    cacheGen[slotOff[i]] = gen;
    cacheSlot[slotOff[i]] = i;
  }
  return after < 0 ? p : after;
}

// ---- last question name --------------------------------------------------------------------
// A response usually follows its query, so over half the messages ask the same name as the
// message before. Comparing its wire bytes is cheaper than decoding it and building a string.
// Only names without pointers or escapes are kept: their label offsets equal the suffix
// starts in the text, so the compression cache can be filled from the wire alone.

const lastWire = new Uint8Array(256);
let lastLen = 0; // 0: nothing kept
let lastName = '';

/** readName for the first question name (limit = end); same results. */
export function readQuestionName(buf: Uint8Array, pos: number, end: number): number {
  const n = lastLen;
  if (n !== 0 && pos + n <= end) {
    let i = 0;
    while (i < n && buf[pos + i] === lastWire[i]) i++;
    if (i === n) {
      nameText = lastName;
      if (record) {
        const off0 = pos - base;
        for (let r = 0; lastWire[r] !== 0; r += lastWire[r] + 1) {
          const off = off0 + r;
          if (slots === MAX_SLOTS || off >= MAX_PTR) break;
          slotName[slots] = lastName;
          slotChar[slots] = r;
          slotWire[slots] = n - r;
          cacheGen[off] = gen;
          cacheSlot[off] = slots;
          slots++;
        }
      }
      return pos + n;
    }
  }
  const r = readName(buf, pos, end, end);
  if (r < 0) return r;
  // Keep it if it is labels only (no pointer) and its text has no escapes.
  const len = r - pos;
  let q = pos;
  while (q < r && buf[q] !== 0 && buf[q] < 0x40) q += buf[q] + 1;
  if (q === r - 1 && buf[q] === 0 && len > 1 && nameText.length === len - 2) {
    for (let i = 0; i < len; i++) lastWire[i] = buf[pos + i];
    lastLen = len;
    lastName = nameText;
  } else lastLen = 0;
  return r;
}

/**
 * Validates the name at pos without building its text (authority and additional owners).
 * Same rules and results as readName.
 */
export function skipName(buf: Uint8Array, pos: number, limit: number, end: number): number {
  let p = pos;
  let lim = limit;
  let seg = pos;
  let after = -1;
  let wire = 0;
  for (;;) {
    if (p >= lim) return E_TRUNCATED;
    const len = buf[p];
    if (len === 0) {
      p++;
      break;
    }
    if (len < 0x40) {
      wire += len + 1;
      if (wire > 254) return E_TOO_LONG;
      p += len + 1;
      if (p > lim) return E_TRUNCATED;
      continue;
    }
    if (len < 0xc0) return E_BAD_LABEL;
    if (p + 1 >= lim) return E_TRUNCATED;
    const target = base + (((len & 0x3f) << 8) | buf[p + 1]);
    if (target > p) return E_FORWARD_POINTER;
    if (target >= seg) return E_POINTER_LOOP;
    if (after < 0) after = p + 2;
    const off = target - base;
    if (cacheGen[off] === gen) {
      if (wire + slotWire[cacheSlot[off]] > 255) return E_TOO_LONG;
      break;
    }
    p = target;
    seg = target;
    lim = end;
  }
  return after < 0 ? p : after;
}
