/**
 * Multi-document YAML in and out, keeping the position of every document so that errors can
 * name the file and the document they come from. Pure: the text is read elsewhere.
 */
import { parseAllDocuments, stringify } from 'yaml';

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

/** The documents of one file. Empty documents (a trailing `---`) are left out; a document YAML cannot parse becomes a problem. */
export function parseDocuments(file: string, text: string): { documents: SourceDocument[]; problems: DocumentProblem[] } {
  const documents: SourceDocument[] = [];
  const problems: DocumentProblem[] = [];
  parseAllDocuments(text).forEach((doc, index) => {
    const error = doc.errors[0];
    if (error) {
      problems.push({ file, index, message: `not valid YAML: ${(error.message.split('\n')[0] ?? error.message).replace(/:$/, '')}` });
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 1000 });
    if (value === null || value === undefined) return;
    documents.push({ file, index, value });
  });
  return { documents, problems };
}

/** A multi-document stream, `---` between documents, as `kubectl apply -f -` and Backstage read it. */
export function stringifyDocuments(values: readonly unknown[]): string {
  return values.map((v) => stringify(v, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
