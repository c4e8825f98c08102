/**
 * The normalisation docs/backstage.md documents, written down independently of the export
 * code: what a Backstage catalog is expected to look like after import → export. Round-trip
 * tests (unit and against the API server) compare export's output with this.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KINDS } from '../../../src/api/kinds.ts';

export const CORPUS_DIR = join(import.meta.dirname, '../../fixtures/backstage/corpus');

type Doc = Record<string, unknown> & { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec?: Record<string, unknown> };

/** The corpus: every file's documents, in file-name order. */
export function corpusFiles(): { file: string; text: string }[] {
  return readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => ({ file, text: readFileSync(join(CORPUS_DIR, file), 'utf8') }));
}

export function corpusDocuments(): Doc[] {
  return corpusFiles()
    .flatMap(({ text }) => parseAllDocuments(text).map((d) => d.toJS() as Doc | null))
    .filter((d): d is Doc => d !== null);
}

const MODELLED = new Map<string, (typeof KINDS)[number]>(KINDS.map((k) => [k.refKind, k]));
const LOCATION_ANNOTATIONS = ['backstage.io/managed-by-location', 'backstage.io/managed-by-origin-location', 'backstage.io/orphan'];

/** Entity key, `kind:namespace/name`, lower case as Backstage compares. */
export function entityKey(doc: { kind: string; metadata: { name?: unknown; namespace?: unknown } }): string {
  const { name, namespace } = doc.metadata;
  return `${doc.kind}:${typeof namespace === 'string' ? namespace : 'default'}/${typeof name === 'string' ? name : ''}`.toLowerCase();
}

/**
 * What export must return for these Backstage documents, keyed by entity. `kubernetesNames`
 * gives the Kubernetes name import chose for each entity (see kubernetesNamesOf).
 */
export function expectedExport(documents: readonly Doc[], kubernetesNames: ReadonlyMap<string, string>): Map<string, Doc> {
  const entities = documents.filter((d) => d.apiVersion.startsWith('backstage.io/') && MODELLED.has(d.kind.toLowerCase()));
  const names = new Map(entities.map((d) => [entityKey(d), String(d.metadata.name)]));
  const out = new Map<string, Doc>();
  for (const doc of entities) {
    const info = MODELLED.get(doc.kind.toLowerCase())!;
    const namespace = typeof doc.metadata.namespace === 'string' ? doc.metadata.namespace : 'default';
    const canonical = (value: string, defaultKind: string | undefined): string => {
      const slash = value.indexOf('/');
      let colon = value.indexOf(':');
      if (slash !== -1 && slash < colon) colon = -1;
      const kind = (colon === -1 ? defaultKind! : value.slice(0, colon)).toLowerCase();
      const ns = (slash === -1 ? namespace : value.slice(colon + 1, slash)).toLowerCase();
      const name = value.slice(Math.max(colon + 1, slash + 1));
      // A target the catalog holds keeps its own spelling; any other comes back under its Kubernetes name.
      return `${kind}:${ns}/${names.get(`${kind}:${ns}/${name}`.toLowerCase()) ?? name.toLowerCase().replace(/_/g, '-')}`;
    };
    const spec: Record<string, unknown> = { ...(doc.spec ?? {}) };
    for (const field of info.refs) {
      const value = spec[field.field];
      if (typeof value === 'string') spec[field.field] = canonical(value, field.defaultKind);
      else if (Array.isArray(value)) spec[field.field] = value.map((v: string) => canonical(v, field.defaultKind));
    }
    if (info.kind === 'Group' && spec.children === undefined) spec.children = [];
    const annotations: Record<string, string> = { ...((doc.metadata.annotations as Record<string, string> | undefined) ?? {}) };
    for (const a of LOCATION_ANNOTATIONS) delete annotations[a];
    if ((info.kind === 'Component' || info.kind === 'Resource') && annotations['backstage.io/kubernetes-id'] === undefined) {
      const name = kubernetesNames.get(entityKey(doc));
      if (name === undefined) throw new Error(`import produced no object for ${entityKey(doc)}`);
      annotations['backstage.io/kubernetes-id'] = name;
    }
    const { uid: _u, etag: _e, generation: _g, ...metadata } = doc.metadata;
    const { relations: _r, status: _s, ...rest } = doc;
    out.set(entityKey(doc), {
      ...rest,
      apiVersion: 'backstage.io/v1alpha1',
      kind: info.kind,
      metadata: { ...metadata, namespace: namespace.toLowerCase(), ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
      spec,
    });
  }
  return out;
}

interface ImportedObject {
  kind: string;
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
}

/** Entity key (in Backstage terms) → the Kubernetes name import gave it, read off import's output. */
export function kubernetesNamesOf(objects: readonly ImportedObject[], defaultNamespace: string): Map<string, string> {
  return new Map(
    objects.map((o) => {
      const namespace = o.metadata.namespace === defaultNamespace ? 'default' : o.metadata.namespace;
      const original = o.metadata.annotations?.['backlot.dev/backstage-name'] ?? o.metadata.name;
      return [entityKey({ kind: o.kind, metadata: { name: original, namespace } }), o.metadata.name];
    }),
  );
}

/** Export's output keyed by entity. */
export function byEntity(documents: readonly unknown[]): Map<string, Doc> {
  return new Map((documents as Doc[]).map((d) => [entityKey(d), d]));
}
