// A subcommand's own flags apart from the shared configuration flags (store address, dataDir, ...).
import { ConfigError } from './config.js';

export interface CommandArgs {
  positional: string[];
  own: Map<string, string>;
  switches: Set<string>; // the command's own flags that take no value
  rest: string[]; // everything else: dnslens' own flags (store address, dataDir, ...)
}

/** Splits a command's own flags (given in `names`, and `switches` without a value) from the shared configuration flags. */
export function splitArgs(args: string[], names: string[], switches: string[] = []): CommandArgs {
  const out: CommandArgs = { positional: [], own: new Map(), switches: new Set(), rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^--?([A-Za-z]+)(?:=(.*))?$/.exec(a);
    if (m && switches.includes(m[1]) && m[2] === undefined) out.switches.add(m[1]);
    else if (m && names.includes(m[1])) {
      const value = m[2] ?? args[++i];
      if (value === undefined) throw new ConfigError(m[1], `${a}: needs a value`);
      out.own.set(m[1], value);
    } else if (a.startsWith('-') && a !== '-') {
      out.rest.push(a);
      if (!a.includes('=') && args[i + 1] !== undefined && !args[i + 1].startsWith('--')) out.rest.push(args[++i]);
    } else out.positional.push(a);
  }
  return out;
}
