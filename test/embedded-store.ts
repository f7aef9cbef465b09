// One embedded store with the DNS_LOG schema for a describe block, in a temp dir that is removed
// when the block ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { openStore, type Store } from '../src/store/connection.js';
// @ts-expect-error: plain JS shared with the holder process
import { prepareSchema } from './store-fixtures.mjs';

/** Opens the store before the block's tests (handing it to set) and closes it after; returns the temp dir. */
export function embeddedStore(prefix: string, set: (store: Store) => void): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let store: Store | undefined;
  beforeAll(async () => {
    store = await openStore({ dataDir: join(root, 'data') });
    await prepareSchema(store);
    set(store);
  });
  afterAll(async () => {
    await store?.close();
    rmSync(root, { recursive: true, force: true });
  });
  return root;
}
