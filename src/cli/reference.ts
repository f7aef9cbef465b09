// The README's CLI reference, rendered from the registry's options.

import { NO_EFFECT_NOTE, OUTPUT_TYPE_HELP, type OptionSpec } from '../options.js';
import { envNames, registry as defaultRegistry, type Registry } from './registry.js';

export const START = '<!-- cli-reference:start -->';
export const END = '<!-- cli-reference:end -->';

function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function code(text: string): string {
  return text === '' ? '' : `\`${text}\``;
}

function typeOf(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'int':
      return spec.max !== undefined ? `int ${spec.min ?? 0}..${spec.max}` : spec.min ? `int >= ${spec.min}` : 'int >= 0';
    case 'number':
      return spec.max !== undefined ? `number ${spec.min ?? 0}..${spec.max}` : `number >= ${spec.min ?? 0}`;
    case 'enum':
      return `one of ${spec.choices?.map(code).join(', ')}`;
    case 'outputType':
      return 'output type 0..4';
    case 'duration':
      return 'duration';
    case 'ratio':
      return 'ratio a:b';
    case 'portList':
      return 'port list';
    case 'bytes':
      return 'size';
    case 'memory':
      return 'size, `unlimited` or `auto`';
    default:
      return spec.kind;
  }
}

function statusOf(spec: OptionSpec): string {
  if (spec.status !== 'ready') return `later: ${spec.status.later}`;
  const later = spec.laterValues ? Object.entries(spec.laterValues).map(([v, what]) => `${code(v)} later (${what})`) : [];
  return ['ready', ...later].join('; ');
}

function descriptionOf(spec: OptionSpec): string {
  let d = spec.description;
  if (spec.noEffect) d += ` (${NO_EFFECT_NOTE})`;
  if (spec.cliOnly) d += ' (not read from the INI file)';
  return d;
}

/** Markdown reference of every option: one table per INI section. */
export function cliReference(registry: Registry = defaultRegistry): string {
  const out = [
    'Flags keep dnsmonster\'s names and are case-insensitive (`--pcapFile`, `--pcapfile=x`, `--PCAPFILE x`). ' +
      'Booleans are `--flag`, `--flag=true` or `--flag=false`. ' +
      'Every flag can also be set in the environment as `DNSLENS_<FLAG>` (`DNSMONSTER_<FLAG>` is accepted too; `DNSLENS_` wins; an empty variable counts as unset) ' +
      'or in the INI file given with `--config` (or `DNSLENS_CONFIG`), under the section shown below, keys case-insensitive. ' +
      'Precedence: command line > environment > INI file > default.',
    '',
    'Types: a *duration* is Go style (`500ms`, `5s`, `1h30m`); a *size* is bytes with an optional unit (`100MB` = 10^6, `1GiB` = 2^30); ' +
      `a *list* or *port list* is comma separated or repeated; an *output type* is ${OUTPUT_TYPE_HELP}.`,
    '',
    'Component is the input, transform or output that declares the flag (src/cli/registry.ts lists them; docs/architecture.md); *run* flags belong to the run itself. ' +
      'Status *later* means not implemented yet: setting such a flag (or value) to anything but its default stops dnslens with exit code 2. ' +
      `Go runtime tuning flags are type-checked and otherwise ${NO_EFFECT_NOTE}.`,
  ];
  for (const section of registry.sections) {
    out.push('', `### [${section}]`, '', '| Flag | Environment | Type | Default | Description | Component | Status |', '|---|---|---|---|---|---|---|');
    for (const spec of registry.options) {
      if (spec.section !== section) continue;
      const owner = registry.ownerOf(spec.name);
      const component = owner ? `${owner.kind} ${code(owner.name)}` : 'run';
      const row = [code(`--${spec.name}`), code(envNames(spec)[0]), typeOf(spec), code(spec.default), descriptionOf(spec), component, statusOf(spec)];
      out.push(`| ${row.map(cell).join(' | ')} |`);
    }
  }
  return out.join('\n') + '\n';
}

/** The reference section of a README, or undefined when the markers are missing. */
export function extractReference(readme: string): string | undefined {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + START.length, end).replace(/^\r?\n/, '');
}

/** README text with the reference section replaced (markers appended at the end when missing). */
export function replaceReference(readme: string, reference: string): string {
  const block = `${START}\n${reference}${END}`;
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) {
    const sep = readme === '' ? '' : readme.endsWith('\n') ? '\n' : '\n\n';
    return `${readme}${sep}${block}\n`;
  }
  return readme.slice(0, start) + block + readme.slice(end + END.length);
}
