/**
 * Multi-document YAML in and out, keeping the position of every document so that errors can
 * name the file and the document they come from. Pure: the text is read elsewhere.
 */
import { Composer, isScalar, LineCounter, Parser, stringify, type YAMLError } from 'yaml';

/** One document of a file; `index` counts from 0 in the order of the file, empty documents included. */
export interface SourceDocument {
  file: string;
  index: number;
  value: unknown;
}

/** A problem tied to one document of one file, and to a field of it when `path` is set. */
export interface DocumentProblem {
  file: string;
  index: number;
  /** The field, in the document's own terms, e.g. `spec.dependsOn[1]` or `metadata.name`. */
  path?: string;
  /** The entity, e.g. `component:default/My_Service`, once known. */
  entity?: string;
  message: string;
}

/** `catalog-info.yaml, document 2 (component:default/checkout): spec.owner: is required`. */
export function formatProblem(p: DocumentProblem): string {
  const where = `${p.file}, document ${p.index + 1}${p.entity ? ` (${p.entity})` : ''}`;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** What parseDocuments read of one file. */
export interface ParsedDocuments {
  /** Documents with a value, in the order of the file. */
  documents: SourceDocument[];
  problems: DocumentProblem[];
  /** Documents read that are neither empty nor null, those with problems included. */
  read: number;
  /** True when the file holds more documents than `maxDocuments`: only that many were read. */
  truncated: boolean;
}

/**
 * The documents of one file, read one after the other, stopping before the document past
 * the first `maxDocuments` that are not empty. Empty and null documents (a trailing `---`)
 * are left out; a document YAML cannot parse becomes a problem.
 */
export function parseDocuments(file: string, text: string, options: { maxDocuments?: number } = {}): ParsedDocuments {
  const max = options.maxDocuments ?? Infinity;
  const out: ParsedDocuments = { documents: [], problems: [], read: 0, truncated: false };
  const lines = new LineCounter();
  let index = -1;
  for (const doc of new Composer().compose(new Parser(lines.addNewLine).parse(text))) {
    index++;
    // Empty (or null) documents hold no entity; they cost nothing once passed.
    if (doc.errors.length === 0 && (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null))) continue;
    if (out.read >= max) {
      out.truncated = true;
      break;
    }
    out.read++;
    const error = doc.errors[0];
    if (error) {
      out.problems.push({ file, index, message: `not valid YAML: ${errorText(error, lines)}` });
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (err) {
      // An alias to no anchor, or more aliases than maxAliasCount (a "billion laughs"): found only when resolved.
      out.problems.push({ file, index, message: `not valid YAML: ${err instanceof Error ? err.message : String(err)}` });
      continue;
    }
    if (value === null || value === undefined) continue;
    out.documents.push({ file, index, value });
  }
  return out;
}

/** The first line of a parse error, with where it is (as `yaml`'s own prettyErrors words it). */
function errorText(error: YAMLError, lines: LineCounter): string {
  const first = (error.message.split('\n')[0] ?? error.message).replace(/:$/, '');
  if (error.pos[0] === -1) return first;
  const { line, col } = lines.linePos(error.pos[0]);
  return `${first} at line ${line}, column ${col}`;
}

/** A multi-document stream, `---` between documents, as `kubectl apply -f -` and Backstage read it. */
export function stringifyDocuments(values: readonly unknown[]): string {
  return values.map((v) => stringify(v, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
