/**
 * Backlot entities → Backstage catalog descriptors (`backstage.io/v1alpha1`), ready to be
 * registered as a Backstage location.
 *
 * References are written canonical, `kind:namespace/name`; names renamed at import come back
 * from their annotation, for the entity itself and for every reference to it; fields import
 * kept aside come back; Components and Resources get the `backstage.io/kubernetes-id`
 * annotation (and `backstage.io/kubernetes-label-selector` when they claim by another
 * selector), so Backstage's Kubernetes plugin shows the workloads Backlot matched.
 * docs/backstage.md lists every way the output differs from what was imported. Pure.
 */
import type { LabelSelector } from '../api/workloads.ts';
import { KINDS, type KindInfo } from '../api/kinds.ts';
import { EntityRefError, parseRefField, type EntityRef } from '../catalog/ref.ts';
import {
  BACKSTAGE_API_VERSION,
  BACKSTAGE_DEFAULT_NAMESPACE,
  BACKSTAGE_FIELDS_ANNOTATION,
  BACKSTAGE_FIELDS_MAX_BYTES,
  BACKSTAGE_NAME,
  BACKSTAGE_NAME_ANNOTATION,
  backstageSpecFields,
  isRecord,
  KUBERNETES_ID_ANNOTATION,
  KUBERNETES_LABEL_SELECTOR_ANNOTATION,
  METADATA_IN_SPEC,
  MISSING_DEFINITION,
  type BackstageEntity,
} from './backstage.ts';
import { stringifyDocuments } from './yaml.ts';
import { isPrototypeKey, nullPrototypeRecord, PROTOTYPE_KEYS_TEXT } from '../util/object-keys.ts';

/** The slice of a Backlot entity export reads. */
export interface ExportableEntity {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

export interface ExportOptions {
  /** The Kubernetes namespace whose entities go to Backstage's `default` namespace. */
  defaultNamespace: string;
  /**
   * Where an API's definition is to be read, for a catalog exported from caches that do not
   * keep definitions: the definition is then written as a Backstage `$text` placeholder for
   * this URL (relative to the exported file), not inline.
   */
  definitionUrl?: (namespace: string, name: string) => string;
  /** Told of each entity exported without some of what it holds, and why; nothing stops the export. */
  onProblem?: (problem: ExportProblem) => void;
}

/** Something of an entity that export left out. */
export interface ExportProblem {
  /** The entity's Kubernetes reference, e.g. `api:shop/orders`. */
  entity: string;
  message: string;
}

/** Annotations that belong to Kubernetes or to Backlot, never to the Backstage entity. */
const INTERNAL_ANNOTATION_PREFIXES = ['backlot.dev/', 'kubectl.kubernetes.io/'];

/** The order export writes kinds in: who, then what. */
const KIND_ORDER = ['Group', 'Domain', 'System', 'Component', 'Resource', 'API'];

interface Named {
  info: KindInfo;
  entity: ExportableEntity;
  namespace: string;
  name: string;
}

export function exportBackstage(entities: readonly ExportableEntity[], options: ExportOptions): BackstageEntity[] {
  const named: Named[] = [];
  for (const entity of entities) {
    const info = KINDS.find((k) => k.kind === entity.kind);
    const name = entity.metadata?.name;
    if (!info || !name) continue;
    named.push({ info, entity, namespace: entity.metadata?.namespace ?? 'default', name });
  }
  named.sort(
    (a, b) => KIND_ORDER.indexOf(a.info.kind) - KIND_ORDER.indexOf(b.info.kind) || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
  );

  const originals = new Map<string, string>();
  for (const n of named) originals.set(`${n.info.refKind}:${n.namespace}/${n.name}`, backstageName(n));
  const namespaceOf = (ns: string) => (ns === options.defaultNamespace ? BACKSTAGE_DEFAULT_NAMESPACE : ns);
  const canonical = (ref: EntityRef) => `${ref.kind}:${namespaceOf(ref.namespace)}/${originals.get(`${ref.kind}:${ref.namespace}/${ref.name}`) ?? ref.name}`;

  const report = options.onProblem ?? (() => {});
  return named.map((n) =>
    toBackstage(n, {
      namespace: namespaceOf(n.namespace),
      canonical,
      report: (message) => report({ entity: `${n.info.refKind}:${n.namespace}/${n.name}`, message }),
      ...(options.definitionUrl ? { definitionUrl: options.definitionUrl } : {}),
    }),
  );
}

/** The multi-document catalog-info.yaml of the entities. */
export function renderCatalogInfo(entities: readonly ExportableEntity[], options: ExportOptions): string {
  return stringifyDocuments(exportBackstage(entities, options));
}

function backstageName(n: Named): string {
  const original = n.entity.metadata?.annotations?.[BACKSTAGE_NAME_ANNOTATION];
  return original !== undefined && BACKSTAGE_NAME.test(original) ? original : n.name;
}

interface EntityContext {
  /** The Backstage namespace. */
  namespace: string;
  canonical: (ref: EntityRef) => string;
  report: (message: string) => void;
  definitionUrl?: (namespace: string, name: string) => string;
}

function toBackstage(n: Named, ctx: EntityContext): BackstageEntity {
  const { info, entity } = n;
  const spec = entity.spec ?? {};
  const sourceAnnotations = entity.metadata?.annotations ?? {};

  const outSpec: Record<string, unknown> = {};
  for (const field of backstageSpecFields(info)) {
    const value = spec[field];
    if (value === undefined) continue;
    const refField = info.refs.find((r) => r.field === field);
    if (!refField) outSpec[field] = value;
    else if (refField.list && Array.isArray(value)) outSpec[field] = value.map((v: unknown) => exportRef(v, refField, n.namespace, ctx.canonical));
    else outSpec[field] = exportRef(value, refField, n.namespace, ctx.canonical);
  }
  if (info.kind === 'API' && ctx.definitionUrl && typeof spec.definition === 'string') outSpec.definition = { $text: ctx.definitionUrl(n.namespace, n.name) };

  const annotations = nullPrototypeRecord<string>();
  for (const [key, value] of Object.entries(sourceAnnotations)) if (!INTERNAL_ANNOTATION_PREFIXES.some((p) => key.startsWith(p))) annotations[key] = value;
  if (info.kind === 'Component' || info.kind === 'Resource') Object.assign(annotations, kubernetesAnnotations(n.name, annotations, spec.workloads));

  const labels = entity.metadata?.labels ?? {};
  const metadata: BackstageEntity['metadata'] = { name: backstageName(n), namespace: ctx.namespace };
  for (const key of METADATA_IN_SPEC) if (spec[key] !== undefined) metadata[key] = spec[key] as never;
  if (Object.keys(labels).length > 0) metadata.labels = { ...labels };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;

  const out: BackstageEntity = { apiVersion: BACKSTAGE_API_VERSION, kind: info.kind, metadata, spec: outSpec };
  restoreFields(out, sourceAnnotations[BACKSTAGE_FIELDS_ANNOTATION], ctx.report);
  if (info.kind === 'Group' && outSpec.children === undefined) outSpec.children = [];
  if (info.kind === 'API' && outSpec.definition === undefined) outSpec.definition = MISSING_DEFINITION;
  return out;
}

function exportRef(value: unknown, field: KindInfo['refs'][number], namespace: string, canonical: (ref: EntityRef) => string): unknown {
  try {
    return canonical(parseRefField(value, { field, namespace }));
  } catch (err) {
    // Only an object the API server did not validate can hold a bad reference: pass it on as it is.
    if (err instanceof EntityRefError) return value;
    throw err;
  }
}

/**
 * `backstage.io/kubernetes-id` from the entity's own annotation, else the label value its
 * selector asks for, else its name (the label Backlot claims by default); plus the selector
 * as `backstage.io/kubernetes-label-selector` when the entity claims by another one.
 */
function kubernetesAnnotations(name: string, annotations: Record<string, string>, workloads: unknown): Record<string, string> {
  const selector = isRecord(workloads) && isRecord(workloads.selector) ? (workloads.selector as LabelSelector) : undefined;
  const labels = selector?.matchLabels ?? {};
  const onlyId =
    selector !== undefined && !selector.matchExpressions?.length && Object.keys(labels).length === 1 && labels[KUBERNETES_ID_ANNOTATION] !== undefined;
  const out: Record<string, string> = {};
  if (annotations[KUBERNETES_ID_ANNOTATION] === undefined) out[KUBERNETES_ID_ANNOTATION] = onlyId ? labels[KUBERNETES_ID_ANNOTATION]! : name;
  if (selector && !onlyId && annotations[KUBERNETES_LABEL_SELECTOR_ANNOTATION] === undefined)
    out[KUBERNETES_LABEL_SELECTOR_ANNOTATION] = selectorString(selector);
  return out;
}

/** A label selector in the string form `kubectl -l` and the Kubernetes plugin take. */
export function selectorString(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') terms.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') terms.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') terms.push(e.key);
    else terms.push(`!${e.key}`);
  }
  return terms.join(',');
}

/**
 * Puts back the fields import kept aside, never over a field the entity has now. The paths are
 * the tenant's own text: one that goes through `__proto__`, `constructor` or `prototype` would
 * walk off the descriptor onto a prototype the whole process shares, so it is not restored,
 * and reported; the others are. An annotation over BACKSTAGE_FIELDS_MAX_BYTES (which import
 * never writes) is not read at all, and reported.
 */
function restoreFields(out: BackstageEntity, annotation: string | undefined, report: (message: string) => void): void {
  if (annotation === undefined) return;
  const bytes = Buffer.byteLength(annotation);
  if (bytes > BACKSTAGE_FIELDS_MAX_BYTES) {
    report(
      `${BACKSTAGE_FIELDS_ANNOTATION}: not restored: ${bytes.toLocaleString('en')} bytes, more than the ${BACKSTAGE_FIELDS_MAX_BYTES / 1024} KiB export restores`,
    );
    return;
  }
  let fields: unknown;
  try {
    fields = JSON.parse(annotation);
  } catch {
    return;
  }
  if (!isRecord(fields)) return;
  const refused: string[] = [];
  for (const [path, value] of Object.entries(fields)) {
    const parts = path.split('.');
    if (parts.some(isPrototypeKey)) refused.push(path);
    else restoreField(out, parts, value);
  }
  if (refused.length > 0) {
    report(
      `${BACKSTAGE_FIELDS_ANNOTATION}: not restored: ${refused.map((p) => JSON.stringify(p)).join(', ')} (a field path cannot go through ${PROTOTYPE_KEYS_TEXT})`,
    );
  }
}

/** Sets the field at `parts` unless it is set, making the objects on the way; nothing when one on the way is not an object. */
function restoreField(out: Record<string, unknown>, parts: readonly string[], value: unknown): void {
  let target = out;
  for (const part of parts.slice(0, -1)) {
    const next = ownField(target, part) ?? {};
    if (!isRecord(next)) return;
    target[part] = next;
    target = next;
  }
  const last = parts.at(-1)!;
  if (ownField(target, last) === undefined) target[last] = value;
}

function ownField(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
