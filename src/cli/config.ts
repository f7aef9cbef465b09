// Builds the effective configuration from command line > environment > INI file > defaults,
// validating every value before any work starts.

import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import yargs from 'yargs';
import { formatDuration, parseDuration } from '../durations.js';
import { ConfigError, NO_EFFECT_NOTE, type OptionSpec, type Ratio } from '../options.js';
import type { Component } from '../component.js';
import type { CoreSettings } from './core.js';
import { envNames, registry as defaultRegistry, type Registry } from './registry.js';

export { ConfigError };

/** The effective configuration: the run's own options typed, every component's by name. */
export type Config = CoreSettings & Record<string, unknown>;

/** Where an option's effective value came from. */
export type Origin =
  | { kind: 'default' }
  | { kind: 'cli' }
  | { kind: 'env'; name: string }
  | { kind: 'ini'; file: string; line: number };

const sources = new WeakMap<object, Map<string, Origin>>();

/** The source of each option of a config returned by loadConfig. */
export function sourceOf(config: Config, name: string): Origin {
  return sources.get(config)?.get(name) ?? { kind: 'default' };
}

// ---------------------------------------------------------------- values

/** Parse one option value from its text form(s). Throws Error with a short explanation. */
export function parseValue(spec: OptionSpec, raw: string | string[]): unknown {
  if (spec.kind === 'list' || spec.kind === 'portList') {
    const items = (Array.isArray(raw) ? raw : [raw]).flatMap((r) => r.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    if (spec.kind === 'list') return items;
    const ports: number[] = [];
    for (const item of items) {
      const p = parseInteger(item, 1, 65535);
      if (!ports.includes(p)) ports.push(p);
    }
    if (ports.length === 0) throw new Error('needs at least one port');
    return ports;
  }
  const text = (Array.isArray(raw) ? raw[raw.length - 1] : raw).trim(); // a scalar given twice: the last wins
  switch (spec.kind) {
    case 'string':
      return Array.isArray(raw) ? raw[raw.length - 1] : raw;
    case 'int':
      return parseInteger(text, spec.min, spec.max);
    case 'number': {
      const n = Number(text);
      if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(text) || !Number.isFinite(n)) throw new Error(`${JSON.stringify(text)} is not a number`);
      if (n < (spec.min ?? 0) || (spec.max !== undefined && n > spec.max)) {
        throw new Error(spec.max === undefined ? `${n} is below the minimum ${spec.min ?? 0}` : `${n} is out of range ${spec.min ?? 0}..${spec.max}`);
      }
      return n;
    }
    case 'outputType':
      return parseInteger(text, 0, 4);
    case 'bool':
      return parseBool(text);
    case 'duration':
      return parseDuration(text);
    case 'bytes':
      return parseBytes(text);
    case 'memory':
      return parseMemory(text, spec.min ?? 0);
    case 'ratio': {
      const m = /^(\d+):(\d+)$/.exec(text);
      if (!m) throw new Error(`${JSON.stringify(text)} is not a ratio a:b (e.g. 1:10)`);
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (a < 1 || a > b) throw new Error(`${text} needs 1 <= a <= b`);
      return { a, b } satisfies Ratio;
    }
    case 'enum': {
      const lower = text.toLowerCase();
      const hit = spec.choices?.find((c) => c.toLowerCase() === lower) ?? spec.aliases?.[lower];
      if (hit === undefined) throw new Error(`${JSON.stringify(text)} is not one of ${spec.choices?.join(', ')}`);
      return hit;
    }
  }
}

/** The text form of a value, as accepted back by parseValue (and written to INI). */
export function formatValue(spec: OptionSpec, value: unknown): string {
  switch (spec.kind) {
    case 'list':
    case 'portList':
      return (value as unknown[]).join(',');
    case 'duration':
      return formatDuration(value as number);
    case 'bytes':
      return formatBytes(value as number);
    case 'memory':
      return value === 'auto' ? 'auto' : value === 0 ? 'unlimited' : formatMemory(value as number);
    case 'ratio': {
      const r = value as Ratio;
      return `${r.a}:${r.b}`;
    }
    default:
      return String(value);
  }
}

function parseInteger(text: string, min = 0, max?: number): number {
  if (!/^[+-]?\d+$/.test(text)) throw new Error(`${JSON.stringify(text)} is not a whole number`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`${text} is too large`);
  if (n < min || (max !== undefined && n > max)) {
    throw new Error(max === undefined ? `${n} is below the minimum ${min}` : `${n} is out of range ${min}..${max}`);
  }
  return n;
}

function parseBool(text: string): boolean {
  const t = text.toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes' || t === 'on') return true;
  if (t === 'false' || t === '0' || t === 'no' || t === 'off') return false;
  throw new Error(`${JSON.stringify(text)} is not true or false`);
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/** "0", "1048576", "10MB" (10^6), "1GiB" (2^30) -> bytes. */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = m ? BYTE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`${JSON.stringify(text)} is not a size (e.g. 0, 500000, 100MB, 1GiB)`);
  const n = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n)) throw new Error(`${text} is too large`);
  return n;
}

/** A memory limit: "auto", "0" or "unlimited" (-> 0), or a size of at least min bytes. */
function parseMemory(text: string, min: number): number | 'auto' {
  const t = text.toLowerCase();
  if (t === 'auto') return 'auto';
  if (t === 'unlimited') return 0;
  let n: number;
  try {
    n = parseBytes(text);
  } catch {
    throw new Error(`${JSON.stringify(text)} is not a memory size (e.g. 400MB, 1GB, 0 or unlimited, auto)`);
  }
  if (n > 0 && n < min) throw new Error(`${text} is below the minimum ${formatMemory(min)} (0 or unlimited for no limit)`);
  return n;
}

// Memory sizes read best in the decimal units they are usually given in (400MB, 1GB).
function formatMemory(n: number): string {
  for (const [unit, size] of [['GB', 1e9], ['MB', 1e6]] as const) if (n % size === 0) return `${n / size}${unit}`;
  return formatBytes(n);
}

export function formatBytes(n: number): string {
  if (n === 0) return '0';
  for (const [unit, size] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10], ['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['KB', 1e3]] as const) {
    if (n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

// ---------------------------------------------------------------- INI

interface IniValue {
  values: string[];
  line: number; // of the last occurrence
}

/** Read an INI file into option name -> values, rejecting syntax errors and unknown keys. */
function readIni(file: string, registry: Registry): Map<string, IniValue> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('config', `--config: cannot read ${file}: ${(err as Error).message}`);
  }
  const out = new Map<string, IniValue>();
  let section: string | undefined; // undefined before the first [section]: any key is accepted there
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const at = `${file}:${i + 1}`;
    const line = lines[i].trim();
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const head = /^\[([^\]]*)\]$/.exec(line);
    if (head) {
      const name = head[1].trim().toLowerCase();
      section = registry.sections.find((s) => s === name);
      if (!section) throw new ConfigError('config', `--config: ${at}: unknown section [${head[1]}] (known: ${registry.sections.join(', ')})`);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError('config', `--config: ${at}: cannot parse ${JSON.stringify(line)} (expected [section], key = value or ; comment)`);
    const key = line.slice(0, eq).trim();
    const spec = registry.findOption(key);
    if (!spec) {
      const near = registry.closestOption(key);
      throw new ConfigError(key, `--config: ${at}: unknown option ${JSON.stringify(key)}${near ? ` (did you mean ${near}?)` : ''}`);
    }
    if (spec.cliOnly) throw new ConfigError(spec.name, `--config: ${at}: ${spec.name} can only be given on the command line`);
    if (section && spec.section !== section) {
      throw new ConfigError(spec.name, `--config: ${at}: ${spec.name} belongs in [${spec.section}], not [${section}]`);
    }
    const value = unquote(line.slice(eq + 1).trim(), at);
    const prev = out.get(spec.name);
    const many = spec.kind === 'list' || spec.kind === 'portList';
    if (prev && !many) throw new ConfigError(spec.name, `--config: ${at}: ${spec.name} is set twice (also on line ${prev.line})`);
    if (prev) {
      prev.values.push(value);
      prev.line = i + 1;
    } else {
      out.set(spec.name, { values: [value], line: i + 1 });
    }
  }
  return out;
}

// Values are taken literally (a ";" or "#" inside stays part of it); a double-quoted value is JSON-unquoted.
function unquote(value: string, at: string): string {
  if (!value.startsWith('"')) return value;
  try {
    const v: unknown = JSON.parse(value);
    if (typeof v === 'string') return v;
  } catch {
    // fall through to the error below
  }
  throw new ConfigError('config', `--config: ${at}: bad quoted value ${value}`);
}

function quoteIfNeeded(text: string): string {
  return text !== text.trim() || text.startsWith('"') || /[\r\n]/.test(text) ? JSON.stringify(text) : text;
}

// ---------------------------------------------------------------- command line

// Rewrite argv into canonical "--name=value" tokens: flag names are matched without case,
// "--flag value" is joined, and a lone boolean flag becomes "--flag=true".
function normaliseArgv(argv: readonly string[], registry: Registry): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (tok === '-h') {
      out.push('--help=true');
      continue;
    }
    if (tok === '--') {
      if (i + 1 < argv.length) throw new ConfigError(argv[i + 1], `unexpected argument ${JSON.stringify(argv[i + 1])}`);
      break;
    }
    if (!tok.startsWith('--')) {
      const hint = tok.startsWith('-') && registry.findOption(tok.replace(/^-+/, '').split('=')[0]) ? ` (flags start with --)` : '';
      throw new ConfigError(tok, `unexpected argument ${JSON.stringify(tok)}${hint}`);
    }
    const eq = tok.indexOf('=');
    const typed = tok.slice(2, eq < 0 ? undefined : eq);
    const spec = registry.findOption(typed);
    if (!spec) {
      const near = registry.closestOption(typed);
      throw new ConfigError(typed, `unknown flag --${typed}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    let value: string;
    if (eq >= 0) {
      value = tok.slice(eq + 1);
    } else if (spec.kind === 'bool') {
      const next = argv[i + 1]?.toLowerCase();
      value = next === 'true' || next === 'false' ? argv[++i] : 'true';
    } else {
      const next = argv[i + 1];
      const nextIsFlag = next?.startsWith('--') && registry.findOption(next.slice(2).split('=')[0]) !== undefined;
      if (next === undefined || nextIsFlag) throw new ConfigError(spec.name, `--${spec.name}: expects a value`);
      value = next;
      i++;
    }
    if (spec.kind === 'bool') {
      // checked here: yargs would read any other word as false
      try {
        value = String(parseBool(value));
      } catch (err) {
        throw new ConfigError(spec.name, `--${spec.name}: ${(err as Error).message}`);
      }
    }
    out.push(`--${spec.name}=${value}`);
  }
  return out;
}

function describe(spec: OptionSpec): string {
  let d = spec.description;
  if (spec.noEffect) d += ` (${NO_EFFECT_NOTE})`;
  if (spec.status !== 'ready') d += ` [not implemented yet: ${spec.status.later}]`;
  return `${d} [env: ${envNames(spec)[0]}]`;
}

function parser(registry: Registry) {
  let y = yargs()
    .scriptName('dnslens')
.usage('$0 [options]\n\nPassive DNS analytics. Flags are case-insensitive and keep dnsmonster\'s names.')
    .parserConfiguration({
      'camel-case-expansion': false,
      'dot-notation': false,
      'boolean-negation': false,
      'short-option-groups': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'greedy-arrays': false,
    })
    .strict()
    .help(false)
    .version(false)
    .exitProcess(false)
    .wrap(Math.min(120, process.stdout.columns || 100))
    .epilog(
      'Every flag can also be set as DNSLENS_<FLAG> (DNSMONSTER_<FLAG> is accepted too) or in an INI file given with --config.\n' +
        'Precedence: command line > environment > INI file > default.',
    )
    .fail((msg, err) => {
      throw new ConfigError('argv', msg || String(err));
    });
  for (const spec of registry.options) {
    y = y.option(spec.name, {
      type: spec.kind === 'bool' ? 'boolean' : 'string',
      description: describe(spec),
      defaultDescription: spec.default === '' ? undefined : spec.default,
    });
  }
  for (const section of registry.sections) {
    y = y.group(registry.options.filter((o) => o.section === section).map((o) => o.name), `${section}:`);
  }
  return y;
}

/** The --help text. */
const COMMANDS = [
  'Commands (each with its own --help):',
  '  dnslens report [NAME]   the summary, or a named report (top, nxdomain, latency, ...); --html FILE: a page',
  '  dnslens sql QUERY       ad hoc SQL on the store (-f FILE; --format table|csv|json|tsv)',
  '  dnslens schema migrate  bring the store up to date (schema print: its SQL, without connecting)',
  '  dnslens psql migrate    the PostgreSQL output\'s schema (psql rollup --since --until: rebuild rollups)',
].join('\n');

export function helpText(registry: Registry = defaultRegistry): string {
  let text = '';
  parser(registry).showHelp((s: string) => {
    text = s;
  });
  // The commands go after the usage lines, unwrapped (yargs would re-flow them).
  const cut = text.indexOf('\n\n', text.indexOf('\n\n') + 2);
  return cut < 0 ? text + '\n\n' + COMMANDS : text.slice(0, cut) + '\n\n' + COMMANDS + text.slice(cut);
}

function readArgv(argv: readonly string[], registry: Registry): Map<string, string[]> {
  const parsed = parser(registry).parseSync(normaliseArgv(argv, registry)) as Record<string, unknown>;
  const out = new Map<string, string[]>();
  for (const spec of registry.options) {
    const v = parsed[spec.name];
    if (v === undefined) continue;
    out.set(spec.name, (Array.isArray(v) ? v : [v]).map(String));
  }
  return out;
}

// ---------------------------------------------------------------- loading

function where(source: Origin): string {
  switch (source.kind) {
    case 'cli':
      return '';
    case 'env':
      return ` (from ${source.name})`;
    case 'ini':
      return ` (in ${source.file}:${source.line})`;
    case 'default':
      return ' (default)';
  }
}

function envValue(spec: OptionSpec, env: NodeJS.ProcessEnv): { name: string; value: string } | undefined {
  for (const name of envNames(spec)) {
    const value = env[name];
    if (value !== undefined && value !== '') return { name, value }; // an empty variable counts as unset
  }
  return undefined;
}

function checkFile(spec: OptionSpec, path: string, source: Origin): void {
  if (path === '' || !spec.file) return;
  if (spec.stdin && path === '-') return;
  if (spec.file === 'inputOrUrl' && /^https?:\/\//i.test(path)) return;
  let problem: string | undefined;
  try {
    if (statSync(path).isDirectory()) problem = 'is a directory';
    else accessSync(path, constants.R_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problem = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable' : (err as Error).message;
  }
  if (problem) throw new ConfigError(spec.name, `--${spec.name}: ${path}: ${problem}${where(source)}`);
}

/**
 * Build the effective configuration. `argv` is the arguments after the program name
 * (process.argv.slice(2)). Throws ConfigError naming the option on the first bad value, or on
 * a component's own check (unless checkComponents is false).
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, registry: Registry = defaultRegistry, opts: { checkComponents?: boolean } = {}): Config {
  const cli = readArgv(argv, registry);
  const config: Record<string, unknown> = {};
  const from = new Map<string, Origin>();

  // --help and --version need nothing else to be valid.
  const wantsHelp = cli.get('help')?.some((v) => v === 'true');
  const wantsVersion = cli.get('version')?.some((v) => v === 'true');
  if (wantsHelp || wantsVersion) {
    for (const spec of registry.options) config[spec.name] = parseValue(spec, spec.default);
    config.help = Boolean(wantsHelp);
    config.version = Boolean(wantsVersion);
    sources.set(config, from);
    return config as Config;
  }

  const configSpec = registry.findOption('config')!;
  const configEnv = envValue(configSpec, env);
  const configFile = cli.get('config')?.at(-1) ?? configEnv?.value ?? '';
  if (configFile !== '') checkFile(configSpec, configFile, cli.has('config') ? { kind: 'cli' } : { kind: 'env', name: configEnv!.name });
  const ini = configFile !== '' ? readIni(configFile, registry) : new Map<string, IniValue>();

  for (const spec of registry.options) {
    let raw: string | string[] = spec.default;
    let source: Origin = { kind: 'default' };
    const fromCli = cli.get(spec.name);
    const fromEnv = envValue(spec, env);
    const fromIni = ini.get(spec.name);
    if (fromCli) {
      raw = fromCli;
      source = { kind: 'cli' };
    } else if (fromEnv) {
      raw = fromEnv.value;
      source = { kind: 'env', name: fromEnv.name };
    } else if (fromIni) {
      raw = fromIni.values;
      source = { kind: 'ini', file: configFile, line: fromIni.line };
    }
    let value: unknown;
    try {
      value = parseValue(spec, raw);
    } catch (err) {
      throw new ConfigError(spec.name, `--${spec.name}: ${(err as Error).message}${where(source)}`);
    }
    if (source.kind !== 'default') checkSettable(spec, value, source);
    if (spec.kind === 'string') checkFile(spec, value as string, source);
    config[spec.name] = value;
    from.set(spec.name, source);
  }
  sources.set(config, from);
  // Component checks (templates, key files, socket addresses) concern a capture run, not `dnslens sql`.
  if (opts.checkComponents !== false) for (const c of registry.components) checkComponent(c, config as Config, from);
  return config as Config;
}

// A `later` option must stay at its default; so must an enum value that is not implemented yet.
function checkSettable(spec: OptionSpec, value: unknown, source: Origin): void {
  const text = formatValue(spec, value);
  if (spec.status !== 'ready' && text !== formatValue(spec, parseValue(spec, spec.default))) {
    throw new ConfigError(spec.name, `--${spec.name}: not implemented yet (${spec.status.later})${where(source)}`);
  }
  const what = spec.laterValues?.[text];
  if (what) throw new ConfigError(spec.name, `--${spec.name}: ${text}: not implemented yet (${what})${where(source)}`);
}

/** A component's own settings: its options' values, by name. */
export function settingsOf<C extends Component>(config: Config, component: C): Parameters<C['open']>[0]['settings'] {
  const out: Record<string, unknown> = {};
  for (const o of component.options) out[o.name] = config[o.name];
  return out as Parameters<C['open']>[0]['settings'];
}

// A component's own checks (several options together, files it reads).
function checkComponent(c: Component, config: Config, from: Map<string, Origin>): void {
  if (!c.check) return;
  const origin = (name: string) => where(from.get(name) ?? { kind: 'default' });
  (c.check as (s: unknown, from: (n: string) => string) => void)(settingsOf(config, c), origin);
}

/**
 * For a real run (not --help, --version, --writeConfig or --checkConfig): exactly one input
 * and at least one enabled output.
 */
export function checkRunnable(config: Config, registry: Registry = defaultRegistry): void {
  const given = registry.inputs.map((c) => c.given(settingsOf(config, c))).filter((n): n is string => n !== undefined);
  if (given.length === 0) throw new ConfigError('pcapFile', '--pcapFile: no input given (set --pcapFile, or "-" for stdin)');
  // One packet or dnstap input at a time; resolver logs may go beside it.
  const packets = given.filter((n) => n !== 'bindLogFile' && n !== 'dnsmasqLogFile');
  if (packets.length > 1) throw new ConfigError(packets[1], `--${packets[1]}: only one input at a time (also given: --${packets[0]}; resolver logs may go beside one)`);
  // A capture file is an import the store records; beside logs its batches could not be cut from
  // its rows alone, and it would be stored again by every run.
  if (packets.length > 0 && packets.length < given.length) {
    const file = (['pcapFile', 'dnstapFile'] as const).find((o) => packets.includes(o) && config[o] !== '-');
    if (file) throw new ConfigError(file, `--${file}: a capture file and resolver logs are read one after the other, not in one run (each file is then recorded as imported)`);
  }
  const stdin = registry.options.filter((o) => o.stdin && (Array.isArray(config[o.name]) ? (config[o.name] as string[]).includes('-') : config[o.name] === '-'));
  if (stdin.length > 1) throw new ConfigError(stdin[1].name, `--${stdin[1].name}: "-" (stdin) is already the input of --${stdin[0].name}`);
  if (!registry.outputs.some((o) => (config[o.typeOption] as number) > 0)) {
    const ready = registry.outputs.filter((o) => registry.findOption(o.typeOption)?.status === 'ready').map((o) => `--${o.typeOption}`);
    const list = ready.length > 1 ? `${ready.slice(0, -1).join(', ')} or ${ready.at(-1)}` : ready.join('');
    throw new ConfigError(ready[0].slice(2), `--${ready[0].slice(2)}: no output enabled (set ${list} to 1..4)`);
  }
}

/**
 * The effective config as a commented INI file that loadConfig reads back to the same values.
 * With `redact`, secrets (passwords, tokens) are replaced by "<redacted>".
 */
export function formatIni(config: Config, opts: { redact?: boolean } = {}, registry: Registry = defaultRegistry): string {
  const lines = [
    '; dnslens configuration',
    '; Precedence: command line > environment (DNSLENS_<FLAG>, DNSMONSTER_<FLAG>) > this file > defaults.',
    `; Command line only: ${registry.options.filter((o) => o.cliOnly).map((o) => `--${o.name}`).join(', ')}.`,
  ];
  for (const section of registry.sections) {
    lines.push('', `[${section}]`);
    for (const spec of registry.options) {
      if (spec.section !== section || spec.cliOnly) continue;
      const value = formatValue(spec, config[spec.name]);
      lines.push(`; ${spec.description}`);
      if (spec.noEffect) lines.push(`; ${NO_EFFECT_NOTE}`);
      if (spec.status !== 'ready') lines.push(`; not implemented yet (${spec.status.later})`);
      lines.push(`; default: ${spec.default === '' ? '(empty)' : spec.default}`);
      const source = sourceOf(config, spec.name);
      if (source.kind === 'env') lines.push(`; set by ${source.name}`);
      if (source.kind === 'cli') lines.push(`; set by --${spec.name}`);
      const shown = opts.redact && spec.secret && value !== '' ? '<redacted>' : quoteIfNeeded(value);
      lines.push(`${spec.name} = ${shown}`, '');
    }
    lines.pop();
  }
  return lines.join('\n') + '\n';
}
