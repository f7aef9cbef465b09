// What Grafana and the ClickHouse datasource plugin (grafana-clickhouse-datasource 4.x) do to a
// panel's SQL before ClickHouse sees it, in the same order:
//  1. the plugin's frontend replaces $__conditionalAll(condition, $var) by "1=1" when $var is
//     "All" (or empty), else by the condition;
//  2. Grafana's template service replaces variables with the plugin's format: $var / ${var} of a
//     multi-value variable as 'a','b' (not escaped), ${var:singlequote} as 'a','b' with quotes in
//     values escaped as \';
//  3. the plugin's backend (sqlds) expands its macros: $__name, optionally followed directly by a
//     bracketed argument list (nested brackets allowed, arguments split on top-level commas).
// Macro expansions are the plugin's pkg/macros/macros.go.

export interface Selection {
  all: boolean; // "All" chosen
  values: string[]; // the values chosen (for All: every option)
}

export interface ExpandContext {
  fromMs: number;
  toMs: number;
  intervalMs: number; // Grafana's interval for the panel
  vars: Record<string, Selection>;
}

/** Grafana's interval for a panel: the range over max data points, rounded as Grafana rounds it
 * (rangeutil roundInterval: each step is taken up to about 1.5 times its size, so 43 min gives
 * 30m, not 1h), at least the panel's min interval. */
export function panelIntervalMs(fromMs: number, toMs: number, minInterval: string | undefined, maxDataPoints = 1000): number {
  const raw = (toMs - fromMs) / maxDataPoints;
  const step = ROUNDING.find(([upTo]) => raw <= upTo)?.[1] ?? 365 * 86_400_000;
  return Math.max(step, minInterval ? durationMs(minInterval) : 0);
}

// [raw interval up to (ms), Grafana's step (ms)]
const ROUNDING: [number, number][] = [
  [9.999, 1], [15, 10], [35, 20], [75, 50], [150, 100], [350, 200], [750, 500],
  [1_500, 1_000], [3_500, 2_000], [7_500, 5_000], [12_500, 10_000], [17_500, 15_000], [25_000, 20_000], [45_000, 30_000],
  [90_000, 60_000], [210_000, 120_000], [450_000, 300_000], [750_000, 600_000], [1_050_000, 900_000], [1_500_000, 1_200_000], [2_700_000, 1_800_000],
  [5_400_000, 3_600_000], [9_000_000, 7_200_000], [16_200_000, 10_800_000], [32_400_000, 21_600_000], [86_400_000, 43_200_000],
  [604_800_000, 86_400_000], [1_814_400_000, 604_800_000], [3_628_800_000 - 1, 2_592_000_000],
];

function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`bad interval ${d}`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

/** The text after `open` up to its matching ')' (open is the index of '('), or null. */
function bracketed(s: string, open: number): { inner: string; end: number } | null {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return { inner: s.slice(open + 1, i), end: i + 1 };
  }
  return null;
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out;
}

/** Every $__name (with its bracketed arguments when they follow at once) replaced by fn's result. */
function replaceMacro(sql: string, name: string, fn: (args: string[]) => string): string {
  const re = new RegExp(`\\$__${name}\\b`, 'g');
  let out = '';
  let last = 0;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const after = m.index + m[0].length;
    let args: string[] = [];
    let end = after;
    if (sql[after] === '(') {
      const b = bracketed(sql, after);
      if (!b) throw new Error(`$__${name}: missing close bracket`);
      args = splitTopLevel(b.inner);
      end = b.end;
    }
    out += sql.slice(last, m.index) + fn(args);
    last = end;
    re.lastIndex = end;
  }
  return out + sql.slice(last);
}

function arity(name: string, args: string[], n: number): void {
  if (args.length !== n) throw new Error(`$__${name}: expected ${n} argument(s), received ${args.length}`);
}

const sec = (ms: number) => Math.floor(ms / 1000);
const dateOf = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;

export function expand(sql: string, ctx: ExpandContext): string {
  // 1. conditional All (frontend)
  sql = replaceMacro(sql, 'conditionalAll', (args) => {
    arity('conditionalAll', args, 2);
    const v = /^\$\{?(\w+)\}?$/.exec(args[1]);
    if (!v) throw new Error(`$__conditionalAll: second argument must be a plain variable, got ${args[1]}`);
    const sel = ctx.vars[v[1]];
    if (!sel) throw new Error(`unknown variable ${v[1]}`);
    return sel.all || sel.values.length === 0 ? '1=1' : args[0];
  });
  // 2. template variables
  sql = sql.replace(/\$\{(\w+)(?::(\w+))?\}|\$(?!__)(\w+)/g, (whole, braced: string | undefined, format: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare!;
    const sel = ctx.vars[name];
    if (!sel) return whole; // not a variable (ClickHouse syntax such as $1 never appears here)
    if (format === 'singlequote') return sel.values.map((x) => `'${x.replace(/'/g, "\\'")}'`).join(',');
    if (format) throw new Error(`format ${format} not handled`);
    // no format: the plugin's own (CHDatasource format()): a multi-value variable's values in quotes
    return `'${sel.values.join("','")}'`;
  });
  // 3. the plugin's macros (backend); the _ms forms before theirs is not needed: \b keeps them apart
  const { fromMs, toMs } = ctx;
  const dt = (ms: number) => `toDateTime(${sec(ms)})`;
  const dt64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.floor(ms)})`;
  const intervalS = Math.max(1, Math.floor(ctx.intervalMs / 1000));
  const intervalMs = Math.max(1, Math.floor(ctx.intervalMs));
  const macros: Record<string, (a: string[]) => string> = {
    fromTime: () => dt(fromMs),
    toTime: () => dt(toMs),
    fromTime_ms: () => dt64(fromMs),
    toTime_ms: () => dt64(toMs),
    timeFilter: (a) => (arity('timeFilter', a, 1), `${a[0]} >= ${dt(fromMs)} AND ${a[0]} <= ${dt(toMs)}`),
    timeFilter_ms: (a) => (arity('timeFilter_ms', a, 1), `${a[0]} >= ${dt64(fromMs)} AND ${a[0]} <= ${dt64(toMs)}`),
    dateFilter: (a) => (arity('dateFilter', a, 1), `${a[0]} >= ${dateOf(fromMs)} AND ${a[0]} <= ${dateOf(toMs)}`),
    dateTimeFilter: (a) => (arity('dateTimeFilter', a, 2), `(${a[0]} >= ${dateOf(fromMs)} AND ${a[0]} <= ${dateOf(toMs)}) AND (${a[1]} >= ${dt(fromMs)} AND ${a[1]} <= ${dt(toMs)})`),
    timeInterval: (a) => (arity('timeInterval', a, 1), `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${intervalS} second)`),
    timeInterval_ms: (a) => (arity('timeInterval_ms', a, 1), `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${intervalMs} millisecond)`),
    interval_s: () => String(intervalS),
  };
  macros.dt = macros.dateTimeFilter;
  for (const [name, fn] of Object.entries(macros)) sql = replaceMacro(sql, name, fn);
  const left = /\$__\w+|\$\{\w+/.exec(sql);
  if (left) throw new Error(`unexpanded ${left[0]} in: ${sql}`);
  return sql;
}
