// The statements of a schema file, and a statement without its comments: shared by the migration
// runner, the cluster rewriter and the views' rebuild.

/** Statements of a migration file: a ";" at the end of a non-comment line ends one. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const line of sql.replace(/\r\n/g, '\n').split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('--') && trimmed.endsWith(';')) {
      current.push(line.slice(0, line.lastIndexOf(';')));
      out.push(current.join('\n'));
      current = [];
    } else {
      current.push(line);
    }
  }
  out.push(current.join('\n'));
  // drop pieces with nothing but comments and blanks
  return out
    .map((s) => s.trim())
    .filter((s) => s.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('--')));
}

/** A statement without its whole-line comments. */
export function sqlOf(statement: string): string {
  return statement
    .split('\n')
    .filter((l) => !l.trim().startsWith('--'))
    .join('\n')
    .trim();
}

/** Rows of literal SQL values as the query an INSERT ... SELECT takes: `SELECT a, b UNION ALL SELECT
 *  c, d`. Not `INSERT ... VALUES`: the embedded engine (clickhouse-local) reads a VALUES insert's
 *  data from stdin when stdin is a pipe, which fails with stdin as an input (`--dnsmasqLogFile -`). */
export function selectRows(rows: readonly (readonly (string | number)[])[]): string {
  return rows.map((r) => `SELECT ${r.join(', ')}`).join(' UNION ALL ');
}
