// Aligned text tables for the terminal, and the number formats in them, shared by every report
// and `dnslens sql`.

export interface Column {
  title: string;
  right?: boolean; // numbers
}

/** Columns padded to their widest cell, numbers right-aligned, a rule under the header. */
export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => rows.reduce((w, r) => Math.max(w, width(r[i] ?? '')), width(c.title)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i] - width(cell)));
        return columns[i].right ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.title)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(line(columns.map((_, i) => r[i] ?? '')));
  return out.join('\n') + '\n';
}

/** Label/value lines, values in one column. */
export function formatPairs(pairs: readonly (readonly [string, string])[]): string {
  const w = pairs.reduce((m, [k]) => Math.max(m, width(k)), 0);
  return pairs.map(([k, v]) => `${k}${' '.repeat(w - width(k))}  ${v}`).join('\n') + '\n';
}

// Terminal width of a string: code points, so a UTF-8 name does not skew the columns.
function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}


/** A number from a ClickHouse row (64-bit integers come as strings); null and missing are 0. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v ?? 0);
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** part of whole as a percentage with one decimal; '-' when whole is 0. */
export function share(part: number, whole: number): string {
  return whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '-';
}

/** Microseconds as µs, ms or s. */
export function micros(us: unknown): string {
  const v = num(us);
  if (!Number.isFinite(v)) return '-';
  return v < 1000 ? `${Math.round(v)} µs` : v < 1e6 ? `${(v / 1000).toFixed(1)} ms` : `${(v / 1e6).toFixed(2)} s`;
}
