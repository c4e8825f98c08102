/**
 * `backlot import FILE... | -`: Backstage catalog descriptors → Backlot custom resources on
 * standard output, a summary on standard error. See docs/backstage.md for the mapping.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { importBackstage, inDocumentOrder, MAX_IMPORT_DOCUMENTS, MAX_IMPORT_FILE_BYTES, type ImportResult } from '../interop/import.ts';
import { formatProblem, parseDocuments, stringifyDocuments, type DocumentProblem, type SourceDocument } from '../interop/yaml.ts';
import { BACKSTAGE_NAMESPACE } from '../interop/backstage.ts';
import { UsageError, type Command, type CommandIo } from './command.ts';
import { parseFlags } from './flags.ts';

const HELP = `Usage: backlot import [flags] FILE... | -

Reads Backstage catalog descriptors (catalog-info.yaml files, any number of documents each;
a directory means the .yaml and .yml files under it; - means standard input) and prints the
Backlot custom resources they describe, ready for kubectl apply. A summary goes to standard
error: entities imported by kind, names changed, documents skipped by kind, warnings.

Component, System, Resource, API, Group and Domain are imported. Other kinds (User,
Location, Template...) are counted and reported, never dropped silently. Names Kubernetes
refuses (upper case, "_") are rewritten, the original kept in the annotation
backlot.dev/backstage-name, and references to them rewritten too: import files that refer
to each other in one run. The mapping is described in docs/backstage.md.

Examples:
  # A repository's catalog, into the cluster
  backlot import catalog-info.yaml | kubectl apply -f -

  # Every catalog file of a monorepo; Backstage's default namespace becomes "shop"
  find . -name catalog-info.yaml | xargs backlot import --default-namespace shop | kubectl apply -f -

  # From standard input, creating the namespaces too
  curl -fsS https://git.example.com/acme/app/raw/main/catalog-info.yaml | backlot import --create-namespaces - | kubectl apply -f -

Flags:
      --default-namespace NS   the Kubernetes namespace for entities in Backstage's default
                               namespace (default: default)
      --create-namespaces      also print a Namespace for each namespace the entities live in
  -h, --help                   show this help

Exit status: 0 when every document was imported or skipped; 1 when a document is invalid
(every problem is listed with its file, document and field, and nothing is printed on
standard output); 2 for a usage error.
`;

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
      out.problems.push(`${file}: more than ${MAX_IMPORT_DOCUMENTS.toLocaleString('en')} documents in one import (the most it reads): import the catalog in parts, each with what it refers to`);
    }
    return !parsed.truncated;
  };
  const tooLarge = (file: string) => `${file}: larger than ${MAX_IMPORT_FILE_BYTES / MiB} MiB, the most import reads from one file: split it into several files`;
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

function summary(result: ImportResult, sources: { files: number; documents: number }, problems: readonly string[]): string {
  const lines: string[] = [];
  const from = `from ${plural(sources.files, 'file')} (${plural(sources.documents, 'document')})`;
  if (problems.length > 0) {
    lines.push(`Nothing was imported: ${plural(problems.length, 'problem')} ${from}:`);
    for (const p of problems) lines.push(`  ${p}`);
  } else {
    const kinds = counts(result.objects.map((o) => o.kind), ['Group', 'Domain', 'System', 'Component', 'Resource', 'API']);
    lines.push(`Imported ${plural(result.objects.length, 'entity', 'entities')} ${from}${kinds ? `: ${kinds}` : ''}.`);
    if (result.renamed.length > 0) {
      lines.push(`Renamed ${plural(result.renamed.length, 'entity', 'entities')} (the original name is kept in the annotation backlot.dev/backstage-name):`);
      for (const r of result.renamed) lines.push(`  ${r.from} → ${r.to}`);
    }
  }
  if (result.skipped.length > 0) lines.push(`Skipped ${plural(result.skipped.length, 'document')} of kinds Backlot does not model: ${counts(result.skipped.map((s) => s.kind))}.`);
  if (result.warnings.length > 0) {
    lines.push(`${plural(result.warnings.length, 'warning')}:`);
    for (const w of result.warnings) lines.push(`  ${formatProblem(w)}`);
  }
  return `${lines.join('\n')}\n`;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'Turn Backstage catalog-info.yaml files into Backlot custom resources',
  async run(argv, io: CommandIo) {
    const flags = parseFlags(argv, [
      { name: 'default-namespace', type: 'string' },
      { name: 'create-namespaces', type: 'boolean' },
    ]);
    if (flags.booleans.get('help')) {
      io.stdout.write(HELP);
      return 0;
    }
    if (flags.positionals.length === 0) throw new UsageError('name at least one file, directory, or - for standard input');
    const defaultNamespace = flags.strings.get('default-namespace') ?? 'default';
    if (!BACKSTAGE_NAMESPACE.test(defaultNamespace)) throw new UsageError(`--default-namespace "${defaultNamespace}" is not a Kubernetes namespace name (a DNS label such as shop)`);

    const { files, documents, parseProblems, problems: sourceProblems } = await readSources(flags.positionals, io);
    const result = importBackstage(documents, { defaultNamespace });
    const problems = [...sourceProblems, ...inDocumentOrder([...parseProblems, ...result.errors]).map(formatProblem)];
    io.stderr.write(summary(result, { files, documents: documents.length + parseProblems.length }, problems));
    if (problems.length > 0) return 1;

    const namespaces = flags.booleans.get('create-namespaces')
      ? [...new Set(result.objects.map((o) => o.metadata.namespace))].sort().map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }))
      : [];
    const objects = [...namespaces, ...result.objects];
    if (objects.length > 0) io.stdout.write(stringifyDocuments(objects));
    return 0;
  },
};
