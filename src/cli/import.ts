/**
 * `backlot import FILE... | -` and `backlot import --from-backstage URL`: Backstage catalog
 * descriptors, from files or from a running Backstage's catalog API, → Backlot custom
 * resources on standard output, a summary on standard error. See docs/backstage.md for the
 * mapping.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { importBackstage, inDocumentOrder, MAX_IMPORT_DOCUMENTS, MAX_IMPORT_FILE_BYTES, type ImportResult } from '../interop/import.ts';
import { formatProblem, parseDocuments, stringifyDocuments, type DocumentProblem, type SourceDocument } from '../interop/yaml.ts';
import { BACKSTAGE_NAMESPACE } from '../interop/backstage.ts';
import {
  BACKSTAGE_TOKEN_ENV,
  BackstageUrlError,
  catalogApiUrl,
  checkToken,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  readBackstageCatalog,
} from '../interop/backstage-api.ts';
import { parseDuration } from '../util/duration.ts';
import { UsageError, type Command, type CommandIo } from './command.ts';
import { commandHelp, intFlag, parseFlags, type FlagSpec } from './flags.ts';

const FLAGS: readonly FlagSpec[] = [
  { name: 'default-namespace', type: 'string', value: 'NS', help: "the Kubernetes namespace for entities in Backstage's default namespace (default: default)" },
  { name: 'create-namespaces', type: 'boolean', help: 'also print a Namespace for each namespace the entities live in' },
  {
    name: 'from-backstage',
    type: 'string',
    value: 'URL',
    help: 'read the entities from the Backstage backend at URL (its base address, or its /api/catalog) instead of files',
  },
  { name: 'token', type: 'string', value: 'TOKEN', help: 'the bearer token for --from-backstage (default: $BACKSTAGE_TOKEN)' },
  { name: 'page-size', type: 'string', value: 'N', help: `entities asked for in one request, 1 to ${MAX_PAGE_SIZE} (default: ${DEFAULT_PAGE_SIZE})` },
  { name: 'request-timeout', type: 'string', value: 'DUR', help: 'how long one request to Backstage may take (default: 30s)' },
];

const HELP = commandHelp({
  usage: 'backlot import [flags] FILE... | -\n       backlot import [flags] --from-backstage URL',
  description: `
Reads Backstage catalog descriptors (catalog-info.yaml files, any number of documents each;
a directory means the .yaml and .yml files under it; - means standard input) and prints the
Backlot custom resources they describe, ready for kubectl apply. A summary goes to standard
error: entities imported by kind, names changed, documents skipped by kind, warnings.

With --from-backstage, the entities come from a running Backstage instead: its catalog REST
API (URL/api/catalog), read page by page, with the same mapping and summary. What Backstage
adds to the entities it serves (relations, status, metadata.uid and etag, the location
annotations) is left out. The token, if the catalog needs one, is read from $BACKSTAGE_TOKEN
(or --token, which shows in the shell's history and the process list); it is never printed.

Component, System, Resource, API, Group and Domain are imported. Other kinds (User,
Location, Template...) are counted and reported, never dropped silently. Names Kubernetes
refuses (upper case, "_") are rewritten, the original kept in the annotation
backlot.dev/backstage-name, and references to them rewritten too: import files that refer
to each other in one run. The mapping is described in docs/backstage.md.`,
  examples: `
  # A repository's catalog, into the cluster
  backlot import catalog-info.yaml | kubectl apply -f -

  # Every catalog file of a monorepo; Backstage's default namespace becomes "shop"
  find . -name catalog-info.yaml | xargs backlot import --default-namespace shop | kubectl apply -f -

  # From standard input, creating the namespaces too
  curl -fsS https://git.example.com/acme/app/raw/main/catalog-info.yaml | backlot import --create-namespaces - | kubectl apply -f -

  # Every Component, System, Resource, API, Group and Domain of a running Backstage
  export BACKSTAGE_TOKEN=...   # a token from backend.auth.externalAccess
  backlot import --from-backstage https://backstage.example.com --default-namespace shop > catalog.yaml
  kubectl apply -f catalog.yaml`,
  flags: FLAGS,
  notes: `
Exit status: 0 when every document was imported or skipped; 1 when a document is invalid
(every problem is listed with its file, document and field, and nothing is printed on
standard output) or Backstage could not be read; 2 for a usage error.`,
});

function requireStdin(io: CommandIo): NodeJS.ReadableStream {
  if (!io.stdin) throw new UsageError('"-" reads standard input, and there is none here');
  return io.stdin;
}

/** A file or standard input larger than MAX_IMPORT_FILE_BYTES. */
class InputTooLarge extends Error {}

/** The stream's text, read no further than MAX_IMPORT_FILE_BYTES (so /dev/zero or an endless pipe ends too). */
async function readBounded(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    // Leaving the loop destroys the stream.
    if (size > MAX_IMPORT_FILE_BYTES) throw new InputTooLarge();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function yamlFilesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const out: string[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await yamlFilesUnder(path)));
    else if (/\.ya?ml$/.test(e.name)) out.push(path);
  }
  return out;
}

interface Sources {
  files: number;
  documents: SourceDocument[];
  parseProblems: DocumentProblem[];
  /** Files that could not be read, or input past a limit. */
  problems: string[];
}

const MiB = 1024 * 1024;

/**
 * Reads and parses the arguments' files one after the other (each file's text is let go once
 * parsed), within MAX_IMPORT_FILE_BYTES a file and MAX_IMPORT_DOCUMENTS in all: past the
 * documents limit nothing more is read.
 */
async function readSources(args: readonly string[], io: CommandIo): Promise<Sources> {
  const out: Sources = { files: 0, documents: [], parseProblems: [], problems: [] };
  let left = MAX_IMPORT_DOCUMENTS;
  const parse = (file: string, text: string): boolean => {
    out.files++;
    const parsed = parseDocuments(file, text, { maxDocuments: left });
    out.documents.push(...parsed.documents);
    out.parseProblems.push(...parsed.problems);
    left -= parsed.read;
    if (parsed.truncated) {
      out.problems.push(
        `${file}: more than ${MAX_IMPORT_DOCUMENTS.toLocaleString('en')} documents in one import (the most it reads): import the catalog in parts, each with what it refers to`,
      );
    }
    return !parsed.truncated;
  };
  const tooLarge = (file: string) =>
    `${file}: larger than ${MAX_IMPORT_FILE_BYTES / MiB} MiB, the most import reads from one file: split it into several files`;
  for (const arg of args) {
    if (arg === '-') {
      try {
        if (!parse('<stdin>', await readBounded(requireStdin(io)))) return out;
      } catch (err) {
        if (!(err instanceof InputTooLarge)) throw err;
        out.problems.push(tooLarge('<stdin>'));
      }
      continue;
    }
    try {
      const paths = (await stat(arg)).isDirectory() ? await yamlFilesUnder(arg) : [arg];
      for (const path of paths) {
        let text: string;
        try {
          text = await readBounded(createReadStream(path));
        } catch (err) {
          if (!(err instanceof InputTooLarge)) throw err;
          out.problems.push(tooLarge(path));
          continue;
        }
        if (!parse(path, text)) return out;
      }
    } catch (err) {
      const code = (err as { code?: string }).code;
      out.problems.push(`${arg}: cannot read it${code === 'ENOENT' ? ': no such file or directory' : `: ${err instanceof Error ? err.message : String(err)}`}`);
    }
  }
  return out;
}

/** `Group 4, Component 7`: in the order given, else in the order of first appearance. */
function counts(items: readonly string[], order: readonly string[] = []): string {
  const c = new Map<string, number>(order.filter((k) => items.includes(k)).map((k) => [k, 0]));
  for (const i of items) c.set(i, (c.get(i) ?? 0) + 1);
  return [...c.entries()].map(([k, n]) => `${k} ${n}`).join(', ');
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * `from` says where the documents came from; `unit` is what one of them is called (one, many);
 * `skippedKinds` counts, by kind, what was skipped without being read (a Backstage catalog's
 * other kinds).
 */
function summary(
  result: ImportResult,
  source: { from: string; unit: readonly [string, string]; skippedKinds?: ReadonlyMap<string, number> },
  problems: readonly string[],
): string {
  const lines: string[] = [];
  const { from } = source;
  if (problems.length > 0) {
    lines.push(`Nothing was imported: ${plural(problems.length, 'problem')} ${from}:`);
    for (const p of problems) lines.push(`  ${p}`);
  } else {
    const kinds = counts(
      result.objects.map((o) => o.kind),
      ['Group', 'Domain', 'System', 'Component', 'Resource', 'API'],
    );
    lines.push(`Imported ${plural(result.objects.length, 'entity', 'entities')} ${from}${kinds ? `: ${kinds}` : ''}.`);
    if (result.renamed.length > 0) {
      lines.push(`Renamed ${plural(result.renamed.length, 'entity', 'entities')} (the original name is kept in the annotation backlot.dev/backstage-name):`);
      for (const r of result.renamed) lines.push(`  ${r.from} → ${r.to}`);
    }
  }
  const skipped = [...result.skipped.map((s) => s.kind), ...[...(source.skippedKinds ?? [])].flatMap(([kind, n]) => Array<string>(n).fill(kind))];
  if (skipped.length > 0) lines.push(`Skipped ${plural(skipped.length, ...source.unit)} of kinds Backlot does not model: ${counts(skipped)}.`);
  if (result.warnings.length > 0) {
    lines.push(`${plural(result.warnings.length, 'warning')}:`);
    for (const w of result.warnings) lines.push(`  ${formatProblem(w)}`);
  }
  return `${lines.join('\n')}\n`;
}

interface Read {
  documents: SourceDocument[];
  parseProblems: DocumentProblem[];
  problems: string[];
  source: Parameters<typeof summary>[1];
}

async function fromFiles(args: readonly string[], io: CommandIo): Promise<Read> {
  const { files, documents, parseProblems, problems } = await readSources(args, io);
  const from = `from ${plural(files, 'file')} (${plural(documents.length + parseProblems.length, 'document')})`;
  return { documents, parseProblems, problems, source: { from, unit: ['document', 'documents'] } };
}

/** --from-backstage URL: the flags that go with it checked, the catalog read (a failure to read it is thrown). */
async function fromBackstage(given: string, flags: ReturnType<typeof parseFlags>, io: CommandIo): Promise<Read> {
  const pageSize = intFlag(flags, 'page-size', 1) ?? DEFAULT_PAGE_SIZE;
  if (pageSize > MAX_PAGE_SIZE) throw new UsageError(`flag --page-size takes at most ${MAX_PAGE_SIZE}, not ${pageSize}`);
  const timeout = flags.strings.get('request-timeout');
  const requestTimeoutMs = timeout === undefined ? undefined : parseDuration(timeout);
  if (requestTimeoutMs === 0 || (timeout !== undefined && requestTimeoutMs === undefined))
    throw new UsageError(`flag --request-timeout takes a duration such as 30s or 2m, not "${timeout ?? ''}"`);
  const flagToken = flags.strings.get('token');
  const token = flagToken ?? (io.env[BACKSTAGE_TOKEN_ENV] || undefined);
  let url: URL;
  try {
    url = catalogApiUrl(given);
    if (token !== undefined) checkToken(token, flagToken !== undefined ? '--token' : BACKSTAGE_TOKEN_ENV);
  } catch (err) {
    if (err instanceof BackstageUrlError) throw new UsageError(`--from-backstage: ${err.message}`);
    throw err;
  }
  const catalog = await readBackstageCatalog({
    url,
    pageSize,
    signal: io.signal,
    ...(token !== undefined ? { token } : {}),
    ...(requestTimeoutMs !== undefined ? { requestTimeoutMs } : {}),
  });
  const from = `from the Backstage catalog at ${url.href.replace(/\/$/, '')} (${plural(catalog.documents.length, 'entity', 'entities')} read in ${plural(catalog.pages, 'page')})`;
  return { documents: catalog.documents, parseProblems: [], problems: [], source: { from, unit: ['entity', 'entities'], skippedKinds: catalog.skipped } };
}

/** The flags that only --from-backstage takes, each with a value. */
const BACKSTAGE_ONLY_FLAGS = ['token', 'page-size', 'request-timeout'];

export const importCommand: Command = {
  name: 'import',
  summary: "Turn catalog-info.yaml files, or a running Backstage's catalog, into Backlot custom resources",
  async run(argv, io: CommandIo) {
    const flags = parseFlags(argv, FLAGS, { command: 'import', positionals: true });
    if (flags.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const backstage = flags.strings.get('from-backstage');
    if (backstage === undefined && flags.positionals.length === 0)
      throw new UsageError('name at least one file, directory, or - for standard input, or --from-backstage URL');
    if (backstage !== undefined && flags.positionals.length > 0)
      throw new UsageError(`--from-backstage reads no files: drop "${flags.positionals[0] ?? ''}", or import the files in a run of their own`);
    const withBackstage = BACKSTAGE_ONLY_FLAGS.filter((f) => flags.strings.has(f));
    if (backstage === undefined && withBackstage.length > 0) throw new UsageError(`--${withBackstage[0] ?? ''} goes with --from-backstage URL`);
    const defaultNamespace = flags.strings.get('default-namespace') ?? 'default';
    if (!BACKSTAGE_NAMESPACE.test(defaultNamespace))
      throw new UsageError(`--default-namespace "${defaultNamespace}" is not a Kubernetes namespace name (a DNS label such as shop)`);

    const read = backstage === undefined ? await fromFiles(flags.positionals, io) : await fromBackstage(backstage, flags, io);
    const result = importBackstage(read.documents, { defaultNamespace });
    const problems = [...read.problems, ...inDocumentOrder([...read.parseProblems, ...result.errors]).map(formatProblem)];
    io.stderr.write(summary(result, read.source, problems));
    if (problems.length > 0) return 1;

    const namespaces = flags.booleans.get('create-namespaces')
      ? [...new Set(result.objects.map((o) => o.metadata.namespace))].sort().map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))
      : [];
    const objects = [...namespaces, ...result.objects];
    if (objects.length > 0) io.stdout.write(stringifyDocuments(objects));
    return 0;
  },
};
