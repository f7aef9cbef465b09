// Keyed client ids (--clientIdKey / --clientIdKeyFile): a stable pseudonym per client address,
// HMAC-SHA256(key, address) cut to 64 bits. Like the seed Raspberry Pi logger's salted client_id,
// but without the key nobody can rebuild the table by hashing every IPv4 address.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Shorter keys are refused: a guessable key would make the ids reversible again. */
export const MIN_KEY_BYTES = 16;
const CACHE_MAX = 65_536;

export class ClientIds {
  private readonly cache = new Map<string, string>();

  constructor(private readonly key: Uint8Array) {
    if (key.length < MIN_KEY_BYTES) throw new Error(`the key must be at least ${MIN_KEY_BYTES} bytes`);
  }

  /** 16 hex digits for an address; "" for an unknown (empty) address. */
  idOf(address: string): string {
    if (address === '') return '';
    let id = this.cache.get(address);
    if (id === undefined) {
      id = createHmac('sha256', this.key).update(address).digest('hex').slice(0, 16);
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(address, id);
    }
    return id;
  }
}

/**
 * The key from the flag or from the file (its content without the final line break), or null
 * when neither is set. Throws an Error saying what is wrong.
 */
export function readClientIdKey(key: string, keyFile: string): Buffer | null {
  if (key !== '' && keyFile !== '') throw new Error('set --clientIdKey or --clientIdKeyFile, not both');
  let bytes: Buffer;
  if (keyFile !== '') {
    bytes = readFileSync(keyFile);
    let end = bytes.length;
    while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
    bytes = bytes.subarray(0, end);
  } else if (key !== '') {
    bytes = Buffer.from(key, 'utf8');
  } else {
    return null;
  }
  if (bytes.length < MIN_KEY_BYTES) {
    throw new Error(`the key is ${bytes.length} bytes; use at least ${MIN_KEY_BYTES} random bytes (e.g. openssl rand -hex 32)`);
  }
  return bytes;
}
