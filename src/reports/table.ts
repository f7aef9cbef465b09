// Aligned text tables for the terminal, shared by every report and `dnslens sql`.

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

