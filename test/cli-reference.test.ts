import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { END, START, cliReference, extractReference, replaceReference } from '../src/cli/reference.js';
import { envNames, registry } from '../src/cli/registry.js';

const OPTIONS = registry.options;

const README = fileURLToPath(new URL('../README.md', import.meta.url));

describe('README CLI reference', () => {
  it('matches the options table', () => {
    const section = extractReference(readFileSync(README, 'utf8'));
    expect(section, `README.md has no ${START} ... ${END} section: run npm run docs`).toBeDefined();
    expect(section === cliReference(), 'README.md CLI reference is out of date: run npm run docs').toBe(true);
  });

  it('has a row for every option, with its environment variable and component, and marks later ones', () => {
    const ref = cliReference();
    for (const o of OPTIONS) {
      const row = ref.split('\n').find((l) => l.startsWith(`| \`--${o.name}\` |`));
      expect(row, o.name).toBeDefined();
      expect(row).toContain(envNames(o)[0]);
      const owner = registry.ownerOf(o.name);
      expect(row).toContain(owner ? `| ${owner.kind} \`${owner.name}\` |` : '| run |');
      if (o.status !== 'ready') expect(row).toContain(`later: ${o.status.later}`);
      if (o.noEffect) expect(row).toContain('no effect in dnslens');
    }
    // a "|" inside a cell is escaped, so every row has the same number of columns
    for (const l of ref.split('\n').filter((x) => x.startsWith('| `--'))) {
      expect(l.replace(/\\\|/g, '').split('|').length, l).toBe(9);
    }
  });

  it('replaces only the marked section, or appends markers when missing', () => {
    const withMarkers = `# Title\n\ntext\n\n${START}\nold\n${END}\n\n## After\n`;
    const out = replaceReference(withMarkers, 'new\n');
    expect(out).toBe(`# Title\n\ntext\n\n${START}\nnew\n${END}\n\n## After\n`);
    expect(extractReference(out)).toBe('new\n');
    expect(replaceReference('# Title\n', 'x\n')).toBe(`# Title\n\n${START}\nx\n${END}\n`);
    expect(extractReference('# no markers\n')).toBeUndefined();
  });
});
