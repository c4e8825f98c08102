/**
 * One Backstage entity → one Backlot object, the second pass of import.ts: names and
 * references mapped, metadata moved into the spec, labels and annotations checked, the
 * claim annotations read, what Backlot does not model kept in an annotation, and the result
 * validated against its kind's schema and reference rules. Pure.
 */
import type { z } from 'zod';
import { API_VERSION } from '../api/common.ts';
import { GroupProfile } from '../api/group.ts';
import type { KindInfo } from '../api/kinds.ts';
import { parseSelectorString, SelectorError } from '../catalog/selector.ts';
import { specRefs } from '../catalog/entity-refs.ts';
import {
  BACKSTAGE_FIELDS_ANNOTATION,
  BACKSTAGE_FIELDS_MAX_BYTES,
  BACKSTAGE_NAME_ANNOTATION,
  backstageSpecFields,
  isRecord,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  KUBERNETES_NAMESPACE_ANNOTATION,
  LABEL_VALUE,
  LOCATION_ANNOTATIONS,
  METADATA_IN_SPEC,
  MISSING_DEFINITION,
  QUALIFIED_KEY,
  SERVER_ENTITY_FIELDS,
  SERVER_METADATA_FIELDS,
} from './backstage.ts';
import { importRef, RefRewriteError, type NameMapping } from './backstage-refs.ts';
import type { DocumentProblem, SourceDocument } from './yaml.ts';
import { isPrototypeKey, nullPrototypeRecord, PROTOTYPE_KEYS_TEXT } from '../util/object-keys.ts';

/** A Backlot custom resource as import writes it. */
export interface BacklotEntity {
  apiVersion: typeof API_VERSION;
  kind: KindInfo['kind'];
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** What the first pass learns of a document of a modelled kind. */
export interface Candidate {
  doc: SourceDocument;
  info: KindInfo;
  raw: Record<string, unknown>;
  metadata: Record<string, unknown>;
  name: string;
  backstageNamespace: string;
  namespace: string;
  /** The Backstage reference, for messages. */
  entity: string;
}

const KNOWN_METADATA = new Set(['name', 'namespace', 'labels', 'annotations', ...METADATA_IN_SPEC, ...SERVER_METADATA_FIELDS]);
const KNOWN_TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', ...SERVER_ENTITY_FIELDS]);
const DROPPED_ANNOTATIONS = new Set([...LOCATION_ANNOTATIONS, BACKSTAGE_NAME_ANNOTATION, BACKSTAGE_FIELDS_ANNOTATION]);

/** Collects the problems of one document, each tied to the document and the entity. */
export class Problems {
  readonly list: DocumentProblem[] = [];
  private readonly doc: SourceDocument;
  private readonly entity: string | undefined;
  constructor(doc: SourceDocument, entity?: string) {
    this.doc = doc;
    this.entity = entity;
  }
  add(path: string | undefined, message: string): void {
    this.list.push({ file: this.doc.file, index: this.doc.index, ...(path ? { path } : {}), ...(this.entity ? { entity: this.entity } : {}), message });
  }
}

export function convert(c: Candidate, mapping: NameMapping, errs: Problems, warns: Problems): BacklotEntity | undefined {
  const { info, metadata } = c;
  const unmodelled = nullPrototypeRecord<unknown>();
  // The path becomes a key of the annotation that export walks back: a segment that reaches a
  // prototype is refused here, where the author can still be told.
  const keepUnmodelled = (path: string, value: unknown, what: string) => {
    const key = path.split('.').find(isPrototypeKey);
    if (key !== undefined) errs.add(path, `"${key}" cannot be a field name: Backlot keeps no field named ${PROTOTYPE_KEYS_TEXT}`);
    else {
      unmodelled[path] = value;
      warns.add(path, `${what}: kept in the annotation ${BACKSTAGE_FIELDS_ANNOTATION} and given back by export`);
    }
  };

  for (const key of Object.keys(c.raw)) if (!KNOWN_TOP_LEVEL.has(key)) keepUnmodelled(key, c.raw[key], 'not part of a Backlot entity');
  for (const key of Object.keys(metadata)) if (!KNOWN_METADATA.has(key)) keepUnmodelled(`metadata.${key}`, metadata[key], 'not part of a Backlot entity');

  const spec: Record<string, unknown> = {};
  for (const key of METADATA_IN_SPEC) if (metadata[key] !== undefined) spec[key] = metadata[key];

  const rawSpec = c.raw.spec ?? {};
  if (!isRecord(rawSpec)) {
    errs.add('spec', `must be a mapping of the ${info.kind}'s fields`);
    return undefined;
  }
  const fields = backstageSpecFields(info);
  for (const [key, value] of Object.entries(rawSpec)) {
    if (!fields.includes(key)) {
      keepUnmodelled(`spec.${key}`, value, `not a field of Backlot's ${info.kind}`);
      continue;
    }
    const refField = info.refs.find((r) => r.field === key);
    if (refField) spec[key] = importRefField(value, { field: refField, holderNamespace: c.backstageNamespace, mapping, errs, path: `spec.${key}` });
    else if (info.kind === 'Group' && key === 'profile' && isRecord(value)) spec[key] = splitProfile(value, keepUnmodelled);
    else if (info.kind === 'API' && key === 'definition' && value !== undefined && typeof value !== 'string') {
      keepUnmodelled('spec.definition', value, 'a definition that is not text (e.g. a $text placeholder) is not resolved by import');
    } else if (info.kind === 'API' && key === 'definition' && value === MISSING_DEFINITION) continue;
    else spec[key] = value;
  }

  const labels = importLabels(metadata.labels, errs);
  const annotations = importAnnotations(metadata.annotations, errs);
  const name = mapping.name(info.refKind, c.namespace, c.name);
  if (name !== c.name) annotations[BACKSTAGE_NAME_ANNOTATION] = c.name;
  if (Object.keys(unmodelled).length > 0) {
    const kept = JSON.stringify(unmodelled);
    const bytes = Buffer.byteLength(kept);
    if (bytes <= BACKSTAGE_FIELDS_MAX_BYTES) annotations[BACKSTAGE_FIELDS_ANNOTATION] = kept;
    else
      errs.add(
        undefined,
        `the fields Backlot does not model take ${bytes.toLocaleString('en')} bytes as JSON, more than the ${BACKSTAGE_FIELDS_MAX_BYTES / 1024} KiB the annotation ${BACKSTAGE_FIELDS_ANNOTATION} keeps: shorten or remove them`,
      );
  }
  if (info.kind === 'Component' || info.kind === 'Resource') claimFromAnnotations({ annotations, name, namespace: c.namespace, spec, errs, warns });

  validate(info, c.namespace, spec, errs);
  if (errs.list.length > 0) return undefined;
  return {
    apiVersion: API_VERSION,
    kind: info.kind,
    metadata: {
      name,
      namespace: c.namespace,
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    spec,
  };
}

function importRefField(
  value: unknown,
  o: { field: NonNullable<KindInfo['refs'][number]>; holderNamespace: string; mapping: NameMapping; errs: Problems; path: string },
): unknown {
  const one = (v: unknown, path: string): unknown => {
    try {
      return importRef(v, { field: o.field, holderNamespace: o.holderNamespace, mapping: o.mapping });
    } catch (err) {
      if (!(err instanceof RefRewriteError)) throw err;
      o.errs.add(path, err.message);
      return v;
    }
  };
  if (!o.field.list) return one(value, o.path);
  if (!Array.isArray(value)) {
    o.errs.add(o.path, `must be a list of entity references, e.g. [${o.field.example}]`);
    return value;
  }
  return value.map((v, i) => one(v, `${o.path}[${i}]`));
}

/** A Group's profile: displayName and email are Backlot's; the rest (picture) is kept aside. */
function splitProfile(profile: Record<string, unknown>, keep: (path: string, value: unknown, what: string) => void): Record<string, unknown> {
  const modelled = Object.keys(GroupProfile.shape);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(profile)) {
    if (modelled.includes(key)) out[key] = value;
    else keep(`spec.profile.${key}`, value, "not a field of Backlot's Group profile");
  }
  return out;
}

function importLabels(raw: unknown, errs: Problems): Record<string, string> {
  if (raw === undefined) return {};
  if (!isRecord(raw)) {
    errs.add('metadata.labels', 'must be a mapping of label keys to values');
    return {};
  }
  const out = nullPrototypeRecord<string>();
  for (const [key, value] of Object.entries(raw)) {
    const path = `metadata.labels[${JSON.stringify(key)}]`;
    if (!QUALIFIED_KEY.test(key)) errs.add(path, 'is not a label key: use [<dns-prefix>/]<name>, e.g. example.com/tier');
    else if (typeof value !== 'string' || !LABEL_VALUE.test(value))
      errs.add(path, 'is not a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit');
    else out[key] = value;
  }
  return out;
}

function importAnnotations(raw: unknown, errs: Problems): Record<string, string> {
  if (raw === undefined) return {};
  if (!isRecord(raw)) {
    errs.add('metadata.annotations', 'must be a mapping of annotation keys to strings');
    return {};
  }
  const out = nullPrototypeRecord<string>();
  for (const [key, value] of Object.entries(raw)) {
    if (DROPPED_ANNOTATIONS.has(key)) continue;
    const path = `metadata.annotations[${JSON.stringify(key)}]`;
    if (!QUALIFIED_KEY.test(key)) errs.add(path, 'is not an annotation key: use [<dns-prefix>/]<name>, e.g. github.com/project-slug');
    else if (typeof value !== 'string') errs.add(path, 'must be a string (quote numbers and booleans)');
    else out[key] = value;
  }
  return out;
}

/**
 * The Backstage Kubernetes plugin finds an entity's workloads by the label
 * `backstage.io/kubernetes-id: <annotation value>`; Backlot by default uses the entity's
 * Kubernetes name. When the two differ, the entity claims by the annotation's value, so it
 * claims what Backstage showed for it.
 */
function claimFromAnnotations(o: {
  annotations: Record<string, string>;
  name: string;
  namespace: string;
  spec: Record<string, unknown>;
  errs: Problems;
  warns: Problems;
}): void {
  const { annotations, spec } = o;
  const id = annotations[KUBERNETES_ID_ANNOTATION];
  const selector = annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION];
  if (id !== undefined && !LABEL_VALUE.test(id)) {
    o.errs.add(
      `metadata.annotations[${JSON.stringify(KUBERNETES_ID_ANNOTATION)}]`,
      `${JSON.stringify(id)} cannot be a label value: workloads could never carry it`,
    );
  } else if (id !== undefined && id !== o.name && selector === undefined && spec.workloads === undefined) {
    spec.workloads = { selector: { matchLabels: { [KUBERNETES_ID_ANNOTATION]: id } } };
  }
  if (selector !== undefined) {
    try {
      parseSelectorString(selector);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      o.warns.add(
        `metadata.annotations[${JSON.stringify(KUBERNETES_LABEL_SELECTOR_ANNOTATION)}]`,
        `${err.message}: the entity will claim no workloads until it is fixed`,
      );
    }
  }
  const ns = annotations[KUBERNETES_NAMESPACE_ANNOTATION];
  if (ns !== undefined && ns !== o.namespace) {
    o.warns.add(
      `metadata.annotations[${JSON.stringify(KUBERNETES_NAMESPACE_ANNOTATION)}]`,
      `Backlot claims workloads in the entity's own namespace "${o.namespace}" only, not in "${ns}"`,
    );
  }
}

/** Where a spec field came from in the Backstage document. */
function backstagePath(path: readonly PropertyKey[]): string {
  const root = (METADATA_IN_SPEC as readonly PropertyKey[]).includes(path[0] ?? '') ? 'metadata' : 'spec';
  return path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : `${acc}.${String(p)}`), root);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, p) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[p] : undefined), root);
}

function describeIssue(issue: z.core.$ZodIssue, spec: Record<string, unknown>): string {
  if (issue.code === 'invalid_type' && issue.input === undefined) return `is required (${issue.expected})`;
  if (issue.code === 'invalid_format' && issue.path[0] === 'tags') {
    return `${JSON.stringify(valueAt(spec, issue.path))} is not a Backstage tag: use lower-case words of letters, digits and ":+#" joined by dashes, e.g. postgres`;
  }
  if (issue.code === 'unrecognized_keys') return `has fields Backlot does not know: ${issue.keys.join(', ')}`;
  return issue.message;
}

function validate(info: KindInfo, namespace: string, spec: Record<string, unknown>, errs: Problems): void {
  const parsed = info.spec.safeParse(spec);
  if (!parsed.success) for (const issue of parsed.error.issues) errs.add(backstagePath(issue.path), describeIssue(issue, spec));
  if (errs.list.length > 0) return;
  // The reference rules the API server applies (CEL), checked here so a bad file fails before kubectl.
  for (const e of specRefs(info.kind, namespace, spec).errors) errs.add(e.path, e.message.replace(`${e.path}: `, ''));
}
