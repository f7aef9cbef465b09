// How a component declares its options: one spec per flag. The CLI parses, validates, documents
// (--help, the README reference, --writeConfig) and reads them from the environment and INI
// files from these specs alone. Names and sections follow dnsmonster.

export type Kind =
  | 'string'
  | 'int'
  | 'number' // a decimal number ("3.6"), within min..max
  | 'bool'
  | 'duration' // Go style "1s", "500ms", "1h30m" -> milliseconds
  | 'ratio' // "a:b", 1 <= a <= b
  | 'portList' // "53,5353" or repeated -> number[]
  | 'list' // comma separated or repeated -> string[]
  | 'enum'
  | 'outputType' // 0..4, see OUTPUT_TYPE_HELP
  | 'bytes' // "0", "1048576", "10MB", "1GiB" -> number of bytes
  | 'memory'; // a size as for 'bytes', "0"/"unlimited" -> 0, or "auto" (decided by the machine's memory)

/** 'ready', or not implemented yet: a non-default value stops the program. */
export type Status = 'ready' | { later: string };

export interface Ratio {
  a: number;
  b: number;
}

export interface OptionSpec<N extends string = string, K extends Kind = Kind> {
  name: N; // canonical camelCase flag name
  section: string; // INI section
  kind: K;
  default: string; // the default as it would be written on the command line or in INI
  description: string;
  status: Status;
  min?: number;
  max?: number;
  choices?: readonly string[]; // enum values
  aliases?: Readonly<Record<string, string>>; // enum spellings accepted for a choice
  laterValues?: Readonly<Record<string, string>>; // enum values that are not implemented yet -> what
  noEffect?: boolean; // accepted for dnsmonster compatibility (Go runtime tuning), type-checked, then unused
  cliOnly?: boolean; // an action or the config path itself: not read from or written to INI
  file?: 'input' | 'inputOrUrl'; // must exist when set
  stdin?: boolean; // with file: '-' means standard input
  secret?: boolean; // hidden when the effective config is printed
}

/** The value an option of kind K holds once parsed. */
export type ValueOf<K extends Kind> = K extends 'string' | 'enum'
  ? string
  : K extends 'int' | 'number' | 'outputType' | 'duration' | 'bytes'
    ? number
    : K extends 'memory'
      ? number | 'auto'
      : K extends 'bool'
        ? boolean
        : K extends 'ratio'
          ? Ratio
          : K extends 'portList'
            ? number[]
            : K extends 'list'
              ? string[]
              : never;

/** The parsed values of a list of option specs, typed by name. */
export type Settings<O extends readonly OptionSpec[]> = { readonly [S in O[number] as S['name']]: ValueOf<S['kind']> };

/** A bad option value or combination; the message names the option. Exit code 2. */
export class ConfigError extends Error {
  constructor(
    public option: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const OUTPUT_TYPE_HELP = '0 off, 1 all, 2 apply skipDomains, 3 apply allowDomains, 4 apply both';
export const NO_EFFECT_NOTE = 'accepted, no effect in dnslens';

// ------------------------------------------------------------------ spec builders

export function str<const N extends string>(name: N, section: string, def: string, description: string, status: Status = 'ready'): OptionSpec<N, 'string'> {
  return { name, section, kind: 'string', default: def, description, status };
}

export function int<const N extends string>(name: N, section: string, def: number, description: string, status: Status = 'ready', min = 0, max?: number): OptionSpec<N, 'int'> {
  return { name, section, kind: 'int', default: String(def), description, status, min, max };
}

export function num<const N extends string>(name: N, section: string, def: number, description: string, min = 0, max?: number): OptionSpec<N, 'number'> {
  return { name, section, kind: 'number', default: String(def), description, status: 'ready', min, max };
}

export function bool<const N extends string>(name: N, section: string, description: string, status: Status = 'ready'): OptionSpec<N, 'bool'> {
  return { name, section, kind: 'bool', default: 'false', description, status };
}

export function dur<const N extends string>(name: N, section: string, def: string, description: string, status: Status = 'ready'): OptionSpec<N, 'duration'> {
  return { name, section, kind: 'duration', default: def, description, status };
}

export function list<const N extends string>(name: N, section: string, description: string, status: Status = 'ready'): OptionSpec<N, 'list'> {
  return { name, section, kind: 'list', default: '', description, status };
}

export function choice<const N extends string>(
  name: N,
  section: string,
  def: string,
  choices: readonly string[],
  description: string,
  extra: Pick<OptionSpec, 'aliases' | 'laterValues'> = {},
): OptionSpec<N, 'enum'> {
  return { name, section, kind: 'enum', default: def, choices, description, status: 'ready', ...extra };
}

/** A memory size: bytes with a unit, 0 or "unlimited", or "auto" (the default, which the run
 *  decides from the machine's memory). min: smallest size accepted, in bytes. */
export function memory<const N extends string>(name: N, section: string, description: string, min: number): OptionSpec<N, 'memory'> {
  return { name, section, kind: 'memory', default: 'auto', description, status: 'ready', min };
}

/** dnsmonster's `<prefix>OutputType`: 0 off, 1 all, 2-4 with the domain lists. */
export function outputType<const P extends string>(prefix: P, section: string, what: string, status: Status = 'ready'): OptionSpec<`${P}OutputType`, 'outputType'> {
  return { name: `${prefix}OutputType`, section, kind: 'outputType', default: '0', description: `What to write to ${what}: ${OUTPUT_TYPE_HELP}`, status };
}

/** Accepted for dnsmonster compatibility (Go runtime tuning), type-checked, otherwise unused. */
export function tuning<S extends OptionSpec>(spec: S): S {
  return { ...spec, noEffect: true };
}

export function secret<S extends OptionSpec>(spec: S): S {
  return { ...spec, secret: true };
}

/** Options of a feature dnslens does not have yet: each keeps its default or stops the run. */
export function later<S extends OptionSpec>(what: string, specs: readonly S[]): S[] {
  return specs.map((s) => ({ ...s, status: { later: what } }));
}
