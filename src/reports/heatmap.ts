// `dnslens report heatmap`: queries per hour of day, and per weekday and hour, in the report's
// zone (the seed guide's 5.3: when to warm caches). A terminal gets them drawn with block
// characters; csv and json get the numbers.
import { col, LOG, rollup, type NamedReport, type ReportResult } from './named.js';
import { count } from './table.js';

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const hh = (h: number) => String(h).padStart(2, '0');
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export const heatmap: NamedReport = {
  name: 'heatmap',
  description: 'queries per hour of day, and per weekday and hour, drawn with block characters',
  async run(ctx) {
    const cells = await ctx.section({
      name: 'cells',
      title: 'Queries per weekday and hour',
      columns: [col('weekday'), col('hour'), col('queries')],
      // the hour rollup only in the store's own zone (named.ts); minutes fit any zone
      sources: [rollup('dns_names_{period}', 'rollup', ['hour', 'minute']), LOG('log')],
    });
    const grid = Array.from({ length: 24 }, () => DAYS.map(() => 0)); // [hour][weekday]
    for (const r of cells.rows) grid[Number(r.hour)][Number(r.weekday) - 1] = Number(r.queries);
    const total = sum(grid.map(sum));
    return [
      {
        ...cells,
        name: 'hours',
        title: `Queries by hour of day (${ctx.zone})`,
        columns: [col('hour', 'text'), col('queries'), col('share', 'share')],
        rows: grid.map((row, h) => ({ hour: hh(h), queries: sum(row), share: total > 0 ? sum(row) / total : null })),
      },
      {
        ...cells,
        name: 'weekdays',
        title: `Queries by weekday and hour (${ctx.zone})`,
        columns: [col('hour', 'text'), ...DAYS.map((d) => col(d))],
        rows: grid.map((row, h) => ({ hour: hh(h), ...Object.fromEntries(DAYS.map((d, i) => [d, row[i]])) })),
      },
    ];
  },
  draw,
};

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const SHADES = ['░', '▒', '▓', '█'];
const WIDTH = 40;

/** A bar of v against max, WIDTH cells at most, to an eighth of a cell. */
function bar(v: number, max: number): string {
  const eighths = max > 0 ? Math.round((v / max) * WIDTH * 8) : 0;
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

// The 24 hours as bars, then the week as a grid of shades (a quarter of the busiest cell each).
function draw(r: ReportResult): string {
  const [hours, week] = r.sections;
  const perHour = hours.rows.map((x) => Number(x.queries));
  const maxHour = Math.max(0, ...perHour);
  const out = [hours.title];
  hours.rows.forEach((x, h) => {
    out.push(`${x.hour}  ${bar(perHour[h], maxHour).padEnd(WIDTH + 1)} ${count(perHour[h]).padStart(count(maxHour).length)}`);
  });
  const cells = week.rows.map((x) => DAYS.map((d) => Number(x[d])));
  const maxCell = Math.max(0, ...cells.flat());
  out.push('', `${week.title}: ${SHADES.join(' ')} up to 1/4, 1/2, 3/4, all of the busiest (${count(maxCell)}); · none`);
  out.push('     ' + cells.map((_, h) => hh(h)).join(' '));
  DAYS.forEach((d, i) => {
    const shade = (v: number) => (v === 0 ? '· ' : SHADES[Math.max(0, Math.ceil((4 * v) / maxCell) - 1)].repeat(2));
    out.push((`${d[0].toUpperCase()}${d.slice(1)}  ` + cells.map((row) => shade(row[i])).join(' ')).trimEnd());
  });
  return out.join('\n') + '\n';
}
