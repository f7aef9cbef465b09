// A fast 64-bit (two 32-bit FNV-style lanes) hash as 16 hex digits: the stable identity of an
// event (eventHash). Not cryptographic: it tells apart events, it does not hide them.

/** The hash of text, salted by seed, a byte offset and an index k. */
export function eventHash(seed: readonly [number, number], offset: number, k: number, text: string): string {
  let h1 = Math.imul(seed[0] ^ (offset >>> 0), 0x01000193);
  let h2 = Math.imul(seed[1] ^ Math.floor(offset / 0x100000000), 0x01000193) ^ k;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15);
  }
  // one flat string from 16 character codes: Number#toString(16) cost 10 % of a BIND import
  const x = HEX;
  return String.fromCharCode(
    x[h1 >>> 28], x[(h1 >>> 24) & 15], x[(h1 >>> 20) & 15], x[(h1 >>> 16) & 15], x[(h1 >>> 12) & 15], x[(h1 >>> 8) & 15], x[(h1 >>> 4) & 15], x[h1 & 15],
    x[h2 >>> 28], x[(h2 >>> 24) & 15], x[(h2 >>> 20) & 15], x[(h2 >>> 16) & 15], x[(h2 >>> 12) & 15], x[(h2 >>> 8) & 15], x[(h2 >>> 4) & 15], x[h2 & 15],
  );
}

const HEX = new Uint8Array([...'0123456789abcdef'].map((c) => c.charCodeAt(0)));
