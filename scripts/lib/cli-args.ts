/**
 * Command-line flags for the scripts, on Node's util.parseArgs. The scripts' own messages name
 * the bad flag: "unknown option --nope", "--outdir needs a value", "--json takes no value".
 */
import { parseArgs } from 'util';

export interface FlagSpec {
  type: 'boolean' | 'string';
}

export type FlagValues<T extends Record<string, FlagSpec>> = { [K in keyof T]?: T[K]['type'] extends 'string' ? string : boolean };

export type ParsedCli<T extends Record<string, FlagSpec>> =
  | { kind: 'ok'; values: FlagValues<T>; positionals: string[] }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/**
 * Parses argv against the flags (long names only; -h and --help are always known and ask for
 * help). Flags and positionals are read left to right and the first problem wins, so
 * `--help --nope` is help and `--nope --help` is an error. A string flag takes the next argument
 * or `--flag=value`; an empty value is an error. `--` ends the flags.
 */
export function parseCli<T extends Record<string, FlagSpec>>(argv: string[], flags: T, opts: { positionals: boolean }): ParsedCli<T> {
  const options: Record<string, { type: 'boolean' | 'string'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, spec] of Object.entries(flags)) options[name] = { type: spec.type };
  // strict: false so that every problem is reported by this function, in this project's words.
  const { tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') {
      if (!opts.positionals) return { kind: 'error', message: `unexpected argument ${t.value} (no positional arguments are taken)` };
      positionals.push(t.value);
      continue;
    }
    if (t.name === 'help') return { kind: 'help' };
    const spec = flags[t.name];
    if (!spec || !t.rawName.startsWith('--')) return { kind: 'error', message: `unknown option ${t.rawName}` };
    if (spec.type === 'boolean') {
      if (t.value !== undefined) return { kind: 'error', message: `${t.rawName} takes no value, got ${JSON.stringify(t.value)}` };
      values[t.name] = true;
    } else {
      if (t.value === undefined || t.value === '') return { kind: 'error', message: `${t.rawName} needs a value` };
      values[t.name] = t.value;
    }
  }
  return { kind: 'ok', values: values as FlagValues<T>, positionals };
}
