// Creating a directory and its missing parents. fs.mkdir({ recursive: true }) never returns on
// some paths (Node 20 under /proc: mkdir keeps answering ENOENT for a parent that exists, and it
// retries at full CPU), so a bad --dataDir or output path would hang the run. This walks up to
// the first directory that exists and creates each level below it once: every failure is an error.
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; ) {
    const st = await stat(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    if (st !== null) {
      if (st.isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}' (${d} is not a directory)`), { code: 'ENOTDIR' });
    }
    missing.push(d);
    const parent = dirname(d);
    if (parent === d) break;
    d = parent;
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err; // made meanwhile by someone else: fine
    });
  }
}
