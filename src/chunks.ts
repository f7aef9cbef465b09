// Binary data kept as the chunks it was encoded in, written without joining them first.
import { open } from 'node:fs/promises';

/** A batch's bytes as chunks (no copy). */
export function chunksOf(data: Uint8Array | readonly Uint8Array[] | undefined): readonly Uint8Array[] {
  if (data === undefined) return [];
  return data instanceof Uint8Array ? [data] : data;
}

/** Write chunks to a new file in one writev, without joining them first. */
export async function writeChunks(path: string, chunks: readonly Uint8Array[]): Promise<void> {
  const fh = await open(path, 'w');
  try {
    let left = chunks.reduce((n, c) => n + c.byteLength, 0);
    let list = [...chunks];
    while (left > 0) {
      const { bytesWritten } = await fh.writev(list);
      left -= bytesWritten;
      if (left === 0) break;
      // a short write: drop what went out and go on with the rest
      let skip = bytesWritten;
      while (skip >= list[0].byteLength) skip -= list.shift()!.byteLength;
      list[0] = list[0].subarray(skip);
    }
  } finally {
    await fh.close();
  }
}
