/**
 * Cache transforms: what an informer keeps of each object. Objects in a large cluster are
 * mostly fields Backlot never reads; dropping them at the door is the biggest memory saving
 * an operator can make (managedFields alone is often half an object).
 */
import type { KubeObject } from '../k8s/object.ts';
import { isPrototypeKey } from '../util/object-keys.ts';

export type Transform<T extends KubeObject = KubeObject> = ((obj: KubeObject) => T) & {
  /**
   * What the transform would drop, cut out of the response text before it is parsed (so that
   * it is never parsed); the transform still runs on what is left.
   */
  readonly beforeParse?: (text: string) => string;
};

/** The transform, told to cut out of the text before parsing what it would drop anyway. */
export function parsedWithout<T extends KubeObject>(transform: Transform<T>, beforeParse: (text: string) => string): Transform<T> {
  return Object.assign((obj: KubeObject) => transform(obj), { beforeParse });
}

/** The default: the object without metadata.managedFields. */
export const dropManagedFields: Transform = (obj) => {
  if (!obj.metadata || !('managedFields' in obj.metadata)) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
};

/** The object without the given annotations, e.g. kubectl's last-applied-configuration; the input is not touched. */
export function dropAnnotations<T extends KubeObject>(obj: T, keys: readonly string[]): T {
  const annotations = obj.metadata?.annotations;
  if (!annotations || !keys.some((k) => Object.hasOwn(annotations, k))) return obj;
  const kept = { ...annotations };
  for (const k of keys) delete kept[k];
  return { ...obj, metadata: { ...obj.metadata, annotations: kept } };
}

/** Metadata fields every consumer of the cache may rely on. */
const KEPT_METADATA = [
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'labels',
  'annotations',
  'ownerReferences',
  'creationTimestamp',
  'deletionTimestamp',
] as const;

/**
 * A stricter transform: apiVersion, kind, the usual metadata (not managedFields), and only
 * the given paths of the rest, e.g. `keepPaths(['spec.replicas', 'spec.selector', 'status'])`.
 * Paths name object fields separated by dots; a path that is absent is skipped.
 */
export function keepPaths<T extends KubeObject = KubeObject>(paths: readonly string[]): Transform<T> {
  const split = paths.map((p) => {
    const parts = p.split('.');
    if (parts.some((s) => s === '' || isPrototypeKey(s))) throw new Error(`invalid field path "${p}": expected dot-separated field names like "spec.replicas"`);
    return parts;
  });
  return (obj) => {
    const out: KubeObject = { apiVersion: obj.apiVersion, kind: obj.kind };
    if (obj.metadata) {
      const metadata: Record<string, unknown> = {};
      for (const field of KEPT_METADATA) if (obj.metadata[field] !== undefined) metadata[field] = obj.metadata[field];
      out.metadata = metadata;
    }
    for (const parts of split) copyPath(obj, out, parts);
    return out as T;
  };
}

function copyPath(from: Record<string, unknown>, to: Record<string, unknown>, parts: readonly string[]): void {
  const [head, ...rest] = parts;
  if (head === undefined || !Object.hasOwn(from, head)) return;
  const value = from[head];
  if (rest.length === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) {
    to[head] = value;
    return;
  }
  const existing = to[head];
  const target = existing && typeof existing === 'object' ? (existing as Record<string, unknown>) : {};
  to[head] = target;
  copyPath(value as Record<string, unknown>, target, rest);
}
