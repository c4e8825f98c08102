/**
 * Command-line flags the way kubectl takes them: `--name value`, `--name=value`, `-n value`,
 * `-n=value`, `-nvalue`, boolean `--all-namespaces` / `-A` (or `--flag=false`), positional
 * arguments anywhere, `--` ending the flags, and `-` as a positional (standard input).
 * An unknown flag or a missing value is a UsageError.
 */
import { UsageError } from './command.ts';

export interface FlagSpec {
  /** The long name, without dashes: `namespace`. */
  name: string;
  /** A one-letter alias: `n`. */
  short?: string;
  type: 'string' | 'boolean';
}

export interface ParsedFlags {
  strings: Map<string, string>;
  booleans: Map<string, boolean>;
  positionals: string[];
}

export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean' };

function lookup(specs: readonly FlagSpec[], token: string): { spec: FlagSpec; inline: string | undefined } | undefined {
  if (token.startsWith('--')) {
    const eq = token.indexOf('=');
    const name = eq === -1 ? token.slice(2) : token.slice(2, eq);
    const spec = specs.find((s) => s.name === name);
    return spec ? { spec, inline: eq === -1 ? undefined : token.slice(eq + 1) } : undefined;
  }
  const spec = specs.find((s) => s.short === token[1]);
  if (!spec) return undefined;
  const rest = token.slice(2);
  if (rest === '') return { spec, inline: undefined };
  if (spec.type === 'boolean' && !rest.startsWith('=')) return undefined;
  return { spec, inline: rest.startsWith('=') ? rest.slice(1) : rest };
}

function parseBoolean(flag: string, value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`flag ${flag} takes true or false, not "${value}"`);
}

export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const all = [...specs, HELP_FLAG];
  const out: ParsedFlags = { strings: new Map(), booleans: new Map(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!token.startsWith('-') || token === '-') {
      out.positionals.push(token);
      continue;
    }
    const found = lookup(all, token);
    if (!found) throw new UsageError(`unknown flag "${token}"`);
    const { spec, inline } = found;
    const shown = token.startsWith('--') ? `--${spec.name}` : `-${spec.short ?? ''}`;
    if (spec.type === 'boolean') {
      out.booleans.set(spec.name, inline === undefined ? true : parseBoolean(shown, inline));
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) throw new UsageError(`flag ${shown} needs a value`);
      i++;
    }
    out.strings.set(spec.name, value);
  }
  return out;
}

/** An integer flag value of at least `min`. */
export function intFlag(flags: ParsedFlags, name: string, min: number): number | undefined {
  const raw = flags.strings.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`flag --${name} takes a whole number of at least ${min}, not "${raw}"`);
  return value;
}

/** `-o`/`--output` checked against the formats a command supports. */
export function outputFlag<T extends string>(flags: ParsedFlags, allowed: readonly T[], fallback: T): T {
  const raw = flags.strings.get('output');
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`unsupported output format "${raw}": use one of ${allowed.join(', ')}`);
  return raw as T;
}

export const OUTPUT_FLAG: FlagSpec = { name: 'output', short: 'o', type: 'string' };
