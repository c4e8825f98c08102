/**
 * The one command-line parser and help layout of every `backlot` command, `backlot run`
 * included: Node's util.parseArgs underneath, with kubectl's syntax on top. `--name value`,
 * `--name=value`, `-n value`, `-n=value`, `-nvalue`; booleans as `--all-namespaces` / `-A` or
 * `--flag=false` (true, false, 1, 0 and the other forms Go's strconv.ParseBool takes); `--`
 * ends the flags, and `-` is a positional (standard input). An unknown flag, a missing or bad
 * value, a flag given twice or an argument a command does not take is a UsageError: exit
 * code 2 and a message naming the flag, the same for every command.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './command.ts';

export interface FlagSpec {
  /** The long name, without dashes: `namespace`. */
  name: string;
  /** A one-letter alias: `n`. */
  short?: string;
  type: 'string' | 'boolean';
  /**
   * How the value is shown in help and errors: `NS`, `PATH` for a string (`VALUE` when
   * absent); for a boolean, what follows its name, such as `[=true|false]` (nothing when absent).
   */
  value?: string;
  /** What it does, for --help; the layout wraps it. */
  help: string;
}

export interface ParsedFlags {
  strings: Map<string, string>;
  booleans: Map<string, boolean>;
  positionals: string[];
  /** -h or --help was given. */
  help: boolean;
}

export interface ParseOptions {
  /** The command's name, for messages: `unexpected argument "x": export takes flags only`. */
  command: string;
  /** Whether the command takes arguments besides its flags (import's files). Default: no. */
  positionals?: boolean;
}

export const HELP_FLAG: FlagSpec = { name: 'help', short: 'h', type: 'boolean', help: 'show this help' };

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

function booleanValue(spec: FlagSpec, value: string): boolean {
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  const flag = `--${spec.name}`;
  throw new UsageError(`${flag}: "${value}" is not a boolean; expected ${flag}, ${flag}=true or ${flag}=false`);
}

/** What a string flag's value looks like: `--namespace=NS`. */
function valueForm(spec: FlagSpec): string {
  return `--${spec.name}=${spec.value ?? 'VALUE'}`;
}

/** Parses `argv` against `specs` (and -h/--help); throws UsageError for anything it cannot take. */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], options: ParseOptions): ParsedFlags {
  const all = [...specs, HELP_FLAG];
  // Own entries only: `--constructor` or `--__proto__` is an unknown flag, not a look-up on a prototype.
  const byName = new Map(all.map((s) => [s.name, s]));
  const byShort = new Map(all.flatMap((s) => (s.short ? [[s.short, s] as const] : [])));
  // util.parseArgs reads `-n=shop` as the value "=shop": kubectl's form is written long for it.
  const end = argv.indexOf('--');
  const args = argv.map((arg, i) => {
    const m = (end < 0 || i < end) && /^-([^-])=(.*)$/s.exec(arg);
    const spec = m ? byShort.get(m[1]!) : undefined;
    return m && spec ? `--${spec.name}=${m[2]}` : arg;
  });
  const parsed = parseArgs({
    args,
    options: Object.fromEntries(all.map((s) => [s.name, { type: s.type, ...(s.short ? { short: s.short } : {}) }])),
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const out: ParsedFlags = { strings: new Map(), booleans: new Map(), positionals: [], help: false };
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') {
      if (!options.positionals) throw new UsageError(`unexpected argument "${token.value}": ${options.command} takes flags only`);
      out.positionals.push(token.value);
      continue;
    }
    const spec = byName.get(token.name);
    if (!spec) {
      const known = specs.map((s) => `--${s.name}`).join(', ');
      throw new UsageError(`unknown flag "${argv[token.index] ?? token.rawName}"${known ? ` (known flags: ${known})` : ''}`);
    }
    if (spec === HELP_FLAG) {
      out.help = token.value === undefined || booleanValue(spec, token.value);
      continue;
    }
    if (seen.has(spec.name)) throw new UsageError(`flag --${spec.name} given more than once`);
    seen.add(spec.name);
    if (spec.type === 'boolean') out.booleans.set(spec.name, token.value === undefined || booleanValue(spec, token.value));
    else if (token.value === undefined) throw new UsageError(`flag ${token.rawName} needs a value: ${valueForm(spec)}`);
    else out.strings.set(spec.name, token.value);
  }
  return out;
}

/** An integer flag value of at least `min`. */
export function intFlag(flags: ParsedFlags, name: string, min: number): number | undefined {
  const raw = flags.strings.get(name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min)
    throw new UsageError(`flag --${name} takes a whole number of at least ${min}, not "${raw}"`);
  return value;
}

/** `-o`/`--output` checked against the formats a command supports. */
export function outputFlag<T extends string>(flags: ParsedFlags, allowed: readonly T[], fallback: T): T {
  const raw = flags.strings.get('output');
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`unsupported output format "${raw}": use one of ${allowed.join(', ')}`);
  return raw as T;
}

/** `-o`/`--output`, with the formats a command supports in its help. */
export function outputFlagSpec(formats: string): FlagSpec {
  return { name: 'output', short: 'o', type: 'string', value: 'FORMAT', help: formats };
}

const HELP_WIDTH = 100;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

function flagColumn(s: FlagSpec): string {
  const long = `--${s.name}${s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : (s.value ?? '')}`;
  return s.short ? `-${s.short}, ${long}` : `    ${long}`;
}

/**
 * The flags as --help lists them: `  -n, --namespace NS   the namespace ...`, help wrapped
 * and aligned (at `nameWidth`, when several tables are to line up).
 */
export function flagTable(specs: readonly FlagSpec[], nameWidth = 0): string {
  const names = specs.map(flagColumn);
  const width = Math.max(nameWidth, ...names.map((n) => n.length));
  const indent = 2 + width + 3;
  return specs
    .flatMap((s, i) =>
      wrap(s.help, Math.max(40, HELP_WIDTH - indent)).map((line, j) => (j === 0 ? `  ${names[i]!.padEnd(width)}   ${line}` : `${' '.repeat(indent)}${line}`)),
    )
    .join('\n');
}

export interface CommandHelp {
  /** `backlot export [flags]`. */
  usage: string;
  /** What the command does, as written (line breaks kept). */
  description: string;
  /** Examples, as written. */
  examples?: string;
  flags: readonly FlagSpec[];
  /** Further groups of flags, each under its heading, such as the cluster flags. */
  moreFlags?: ReadonlyArray<{ heading: string; flags: readonly FlagSpec[] }>;
  /** Text after the flags, as written. */
  notes?: string;
}

/** The --help text of a command, in the one layout every command shares. */
export function commandHelp(help: CommandHelp): string {
  const sections = [`Usage: ${help.usage}`, help.description.trim()];
  if (help.examples) sections.push(`Examples:\n${help.examples.replace(/^\n+|\s+$/g, '')}`);
  const groups = [{ heading: 'Flags', flags: [...help.flags, HELP_FLAG] }, ...(help.moreFlags ?? [])];
  const width = Math.max(...groups.flatMap((g) => g.flags.map((f) => flagColumn(f).length)));
  for (const group of groups) sections.push(`${group.heading}:\n${flagTable(group.flags, width)}`);
  if (help.notes) sections.push(help.notes.trim());
  return `${sections.join('\n\n')}\n`;
}
