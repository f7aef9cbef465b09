// dnsmonster's outputs that dnslens does not have yet. Their flags are reserved with dnsmonster's
// names and defaults, so a dnsmonster configuration reads; any other value stops dnslens with
// exit code 2 (status `later` in the reference). Each becomes a folder of its own when built.
import { defineOutput, type OutputComponent } from '../component.js';
import { later, type OptionSpec } from '../options.js';

export function reserved(name: string, section: string, what: string, options: readonly OptionSpec[]): OutputComponent {
  const specs = later(what, options);
  return defineOutput({
    kind: 'output',
    name,
    section,
    options: specs,
    typeOption: specs[0].name,
    open: () => Promise.reject(new Error(`${what}: not implemented yet`)),
  });
}

// None now: Kafka, the last of them, is built (src/outputs/kafka/).
export const RESERVED: readonly OutputComponent[] = [];
