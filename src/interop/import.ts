/**
 * Backstage catalog descriptors → Backlot custom resources.
 *
 * Component, System, Resource, API, Group and Domain become objects of the same kind; every
 * other kind (User, Location, Template...) is counted and reported, never dropped silently.
 * Names Kubernetes refuses are rewritten (see names.ts) and the original kept in an
 * annotation; references to renamed entities are rewritten too. `metadata.title`,
 * `description`, `tags` and `links` move to `spec`; Backstage's `default` namespace becomes
 * the Kubernetes namespace the caller chooses. Fields Backlot does not model are kept in an
 * annotation so that export can give them back. Every object is validated against its kind's
 * schema and reference rules, and every problem names the file, the document and the field.
 * This file reads the documents and names the entities; import-entity.ts converts each one.
 * Pure: the documents are read and the output written elsewhere.
 */
import { BACKSTAGE_API_VERSIONS, BACKSTAGE_DEFAULT_NAMESPACE, BACKSTAGE_NAME, BACKSTAGE_NAMESPACE, isRecord, modelledKind } from './backstage.ts';
import { defaultNameMapping, renameKey } from './backstage-refs.ts';
import { convert, Problems, type BacklotEntity, type Candidate } from './import-entity.ts';
import { assignNames } from './names.ts';
import type { DocumentProblem, SourceDocument } from './yaml.ts';

/**
 * The most `backlot import` reads from one file (or standard input): hundreds of times a
 * large catalog, and a bound on what a hostile file costs to parse.
 */
export const MAX_IMPORT_FILE_BYTES = 8 * 1024 * 1024;
/** The most documents (not counting empty ones) one `backlot import` reads, over all its files. */
export const MAX_IMPORT_DOCUMENTS = 10_000;

export interface ImportOptions {
  /** The Kubernetes namespace for entities in Backstage's `default` namespace. */
  defaultNamespace: string;
}

/** A document left out because Backlot does not model its kind. */
export interface SkippedDocument {
  file: string;
  index: number;
  /** The kind, with the apiVersion when the kind is one Backlot models under another apiVersion. */
  kind: string;
}

/** A Backstage entity whose Kubernetes name differs from its Backstage name. */
export interface Rename {
  /** The Backstage reference, e.g. `component:default/My_Service`. */
  from: string;
  /** The Kubernetes reference, e.g. `component:default/my-service`. */
  to: string;
}

export interface ImportResult {
  /** In the order of the input. Empty when there are errors. */
  objects: BacklotEntity[];
  errors: DocumentProblem[];
  /** Things that are kept differently or not acted on, none of which stops the import. */
  warnings: DocumentProblem[];
  skipped: SkippedDocument[];
  renamed: Rename[];
}

export function importBackstage(documents: readonly SourceDocument[], options: ImportOptions): ImportResult {
  const errors: DocumentProblem[] = [];
  const warnings: DocumentProblem[] = [];
  const skipped: SkippedDocument[] = [];
  const candidates = classify(documents, options, { errors, skipped });

  const renames = renameTable(candidates);
  const mapping = defaultNameMapping(options.defaultNamespace, renames);
  const objects: BacklotEntity[] = [];
  const renamed: Rename[] = [];
  for (const c of candidates) {
    const errs = new Problems(c.doc, c.entity);
    const warns = new Problems(c.doc, c.entity);
    const object = convert(c, mapping, errs, warns);
    errors.push(...errs.list);
    warnings.push(...warns.list);
    if (!object) continue;
    objects.push(object);
    if (object.metadata.name !== c.name) {
      renamed.push({ from: c.entity, to: `${c.info.refKind}:${object.metadata.namespace}/${object.metadata.name}` });
    }
  }
  return { objects: errors.length > 0 ? [] : objects, errors: inDocumentOrder(errors), warnings: inDocumentOrder(warnings), skipped, renamed };
}

/** Problems by file, then document, in a stable order (the sort keeps each document's own order). */
export function inDocumentOrder(problems: readonly DocumentProblem[]): DocumentProblem[] {
  return [...problems].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.index - b.index));
}

/** First pass: the kind, name and namespace of every document; duplicates and foreign kinds sorted out. */
function classify(documents: readonly SourceDocument[], options: ImportOptions, out: { errors: DocumentProblem[]; skipped: SkippedDocument[] }): Candidate[] {
  const candidates: Candidate[] = [];
  const seen = new Map<string, SourceDocument>();
  for (const doc of documents) {
    const problems = new Problems(doc);
    const raw = doc.value;
    if (!isRecord(raw)) {
      problems.add(undefined, 'expected a catalog entity (a mapping with apiVersion, kind, metadata and spec)');
      out.errors.push(...problems.list);
      continue;
    }
    const { apiVersion, kind, metadata } = raw;
    if (typeof apiVersion !== 'string' || apiVersion === '') problems.add('apiVersion', 'is required, e.g. backstage.io/v1alpha1');
    if (typeof kind !== 'string' || kind === '') problems.add('kind', 'is required, e.g. Component');
    if (problems.list.length > 0 || typeof kind !== 'string' || typeof apiVersion !== 'string') {
      out.errors.push(...problems.list);
      continue;
    }
    const info = modelledKind(kind);
    if (!info || !BACKSTAGE_API_VERSIONS.includes(apiVersion)) {
      out.skipped.push({ file: doc.file, index: doc.index, kind: info ? `${kind} (${apiVersion})` : kind });
      continue;
    }
    if (!isRecord(metadata)) {
      problems.add('metadata', 'is required: a mapping with at least a name');
      out.errors.push(...problems.list);
      continue;
    }
    const name = metadata.name;
    if (typeof name !== 'string' || !BACKSTAGE_NAME.test(name)) {
      problems.add(
        'metadata.name',
        typeof name === 'string'
          ? `${JSON.stringify(name)} is not a Backstage entity name: use 1 to 63 letters and digits, with "-", "_" or "." inside, e.g. checkout-service`
          : 'is required, e.g. checkout-service',
      );
    }
    const rawNamespace = metadata.namespace ?? BACKSTAGE_DEFAULT_NAMESPACE;
    const backstageNamespace = typeof rawNamespace === 'string' ? rawNamespace.toLowerCase() : '';
    if (!BACKSTAGE_NAMESPACE.test(backstageNamespace)) {
      problems.add('metadata.namespace', `${JSON.stringify(rawNamespace)} is not a Backstage namespace: use a DNS label such as payments`);
    } else if (backstageNamespace !== BACKSTAGE_DEFAULT_NAMESPACE && backstageNamespace === options.defaultNamespace) {
      problems.add(
        'metadata.namespace',
        `Backstage namespace "${backstageNamespace}" and Backstage's default namespace would both become Kubernetes namespace "${backstageNamespace}": choose another namespace for the default one`,
      );
    }
    if (problems.list.length > 0 || typeof name !== 'string') {
      out.errors.push(...problems.list);
      continue;
    }
    const entity = `${info.refKind}:${backstageNamespace}/${name}`;
    const first = seen.get(entity.toLowerCase());
    if (first) {
      out.errors.push({
        file: doc.file,
        index: doc.index,
        entity,
        path: 'metadata.name',
        message: `duplicates the entity of ${first.file}, document ${first.index + 1} (Backstage compares names ignoring case)`,
      });
      continue;
    }
    seen.set(entity.toLowerCase(), doc);
    const namespace = backstageNamespace === BACKSTAGE_DEFAULT_NAMESPACE ? options.defaultNamespace : backstageNamespace;
    candidates.push({ doc, info, raw, metadata, name, backstageNamespace, namespace, entity });
  }
  return candidates;
}

/** Kubernetes names for every imported entity, by kind and namespace. */
function renameTable(candidates: readonly Candidate[]): Map<string, string> {
  const groups = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = `${c.info.refKind}:${c.namespace}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  const table = new Map<string, string>();
  for (const group of groups.values()) {
    const names = assignNames(group.map((c) => c.name));
    for (const c of group) table.set(renameKey(c.info.refKind, c.namespace, c.name), names.get(c.name.toLowerCase())!);
  }
  return table;
}
