// IP address text, as the decoder, dnstap reader and masks all write it (RFC 5952 for IPv6),
// with direct-mapped caches for the hot path.

const DEC: string[] = Array.from({ length: 256 }, (_, i) => String(i));
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16));
const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// Address text caches: captures repeat a few thousand addresses millions of times, so a
// direct-mapped table (one slot per hash, the last address wins) saves building the string
// (and its garbage) for nearly every packet. Keys are the address bytes as 32-bit words.
const V4_BITS = 12;
const v4Key = new Int32Array(1 << V4_BITS);
const v4Text: string[] = new Array<string>(1 << V4_BITS).fill('');
const V6_BITS = 10;
const v6Key = new Int32Array(4 << V6_BITS);
const v6Text: string[] = new Array<string>(1 << V6_BITS).fill('');

function word(d: Uint8Array, o: number): number {
  return (d[o] << 24) | (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3];
}

/** Dotted quad of the 4 bytes at o. */
export function ipv4Text(d: Uint8Array, o: number): string {
  const k = word(d, o);
  const i = Math.imul(k, 0x9e3779b1) >>> (32 - V4_BITS);
  const hit = v4Text[i];
  if (v4Key[i] === k && hit !== '') return hit;
  const s = DEC[d[o]] + '.' + DEC[d[o + 1]] + '.' + DEC[d[o + 2]] + '.' + DEC[d[o + 3]];
  v4Key[i] = k;
  v4Text[i] = s;
  return s;
}

/** ipv6Text through the cache. */
export function ipv6TextCached(d: Uint8Array, o: number): string {
  const a = word(d, o);
  const b = word(d, o + 4);
  const c = word(d, o + 8);
  const e = word(d, o + 12);
  const h = Math.imul(a ^ Math.imul(b ^ Math.imul(c ^ Math.imul(e, 0x85ebca6b), 0xc2b2ae35), 0x27d4eb2f), 0x9e3779b1);
  const i = h >>> (32 - V6_BITS);
  const k = i * 4;
  const hit = v6Text[i];
  if (hit !== '' && v6Key[k] === a && v6Key[k + 1] === b && v6Key[k + 2] === c && v6Key[k + 3] === e) return hit;
  const s = ipv6Text(d, o);
  v6Key[k] = a;
  v6Key[k + 1] = b;
  v6Key[k + 2] = c;
  v6Key[k + 3] = e;
  v6Text[i] = s;
  return s;
}

/** RFC 5952 text of the 16 bytes at o: lower case, no leading zeros, the longest run
 * (first on a tie) of two or more zero groups as "::", IPv4-mapped as ::ffff:a.b.c.d. */
export function ipv6Text(d: Uint8Array, o: number): string {
  let best = -1;
  let bestLen = 1; // a single zero group is not compressed
  let run = 0;
  for (let i = 0; i < 8; i++) {
    if (d[o + 2 * i] === 0 && d[o + 2 * i + 1] === 0) {
      run++;
      if (run > bestLen) {
        bestLen = run;
        best = i - run + 1;
      }
    } else {
      run = 0;
    }
  }
  if (best === 0 && bestLen === 5 && d[o + 10] === 0xff && d[o + 11] === 0xff) return '::ffff:' + ipv4Text(d, o + 12);
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      s += '::';
      i += bestLen - 1;
      continue;
    }
    if (s.length > 0 && i !== best + bestLen) s += ':';
    const hi = d[o + 2 * i];
    const lo = d[o + 2 * i + 1];
    s += hi === 0 ? HEX[lo] : HEX[hi] + HEX2[lo];
  }
  return s;
}
