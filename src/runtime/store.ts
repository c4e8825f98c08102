/**
 * The informer's cache: objects by key, plus indexes that map an index value (a namespace,
 * a label value) to the keys of the objects that have it. Objects in the cache are shared
 * with every reader and must not be mutated; copy before changing one.
 */
import { objectKey, sameStrings, type KubeObject } from '../k8s/object.ts';

/** The values an object is filed under in one index; [] leaves it out. */
export type IndexFunc<T extends KubeObject> = (obj: T) => readonly string[];

/** The index every store has: object namespace ('' for cluster-scoped objects). */
export const NAMESPACE_INDEX = 'namespace';
export const byNamespace: IndexFunc<KubeObject> = (obj) => [obj.metadata?.namespace ?? ''];

/** An index by the value of one label; objects without the label are left out. */
export function byLabel(label: string): IndexFunc<KubeObject> {
  return (obj) => {
    const value = obj.metadata?.labels?.[label];
    return value === undefined ? [] : [value];
  };
}

/** What readers of the cache get: no way to change it. */
export interface CacheReader<T extends KubeObject> {
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  readonly size: number;
  /** Moves on every change of the cache: a reader can keep what it derived from it until then. */
  readonly version: number;
  /**
   * Moves when an object is added or deleted (or replaced by another of the same name), or its
   * generation, labels, annotations or owners change:
   * not on an update of its status alone. What is derived from names, specs and metadata
   * (who claims which workload) can be kept until it does.
   */
  readonly metadataVersion: number;
  /** `metadataVersion` for the objects of one namespace. */
  namespaceMetadataVersion(namespace: string): number;
  /**
   * The keys of the objects of `namespace` whose metadata version moved after `version` (a
   * value `namespaceMetadataVersion(namespace)` returned): added, deleted, or changed other
   * than in status, oldest first, a key once per change. Undefined when the store no longer
   * remembers that far back (it keeps the last JOURNAL_LIMIT changes of each namespace): the
   * reader must then look at the whole namespace again.
   */
  metadataChangesSince(namespace: string, version: number): readonly string[] | undefined;
  /** Objects filed under `value` in the index `indexName`; throws on an unknown index. */
  byIndex(indexName: string, value: string): T[];
  /** The values the index `indexName` files at least one object under; throws on an unknown index. */
  indexValues(indexName: string): string[];
  indexNames(): string[];
}

export interface ReplaceResult<T> {
  added: T[];
  updated: Array<{ oldObj: T; newObj: T }>;
  deleted: T[];
}

/** Metadata changes a store remembers for each namespace (see metadataChangesSince). */
export const JOURNAL_LIMIT = 512;

/** One namespace's recent metadata changes: `versions[i]` is the metadata version `keys[i]`'s change moved to. */
interface Journal {
  versions: number[];
  keys: string[];
  /** The version of the newest change no longer kept (0 while nothing has been dropped). */
  forgotten: number;
}

export class Store<T extends KubeObject> implements CacheReader<T> {
  private readonly items = new Map<string, T>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** Per index, the keys filed under each value: see Filed. */
  private readonly indices = new Map<string, Map<string, Filed>>();
  private changes = 0;
  private metadataChanges = 0;
  /**
   * Per namespace, its recent metadata changes; the last one's version is the namespace's
   * metadata version (a journal never forgets its newest half).
   */
  private readonly journals = new Map<string, Journal>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.addIndexer(NAMESPACE_INDEX, byNamespace);
    for (const [name, fn] of Object.entries(indexers)) this.addIndexer(name, fn);
  }

  /** Adds an index and files the objects already cached under it. A name can be used once. */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    const existing = this.indexers.get(name);
    if (existing === fn) return;
    if (existing) throw new Error(`index "${name}" already exists with a different function`);
    this.indexers.set(name, fn);
    const index = new Map<string, Filed>();
    this.indices.set(name, index);
    for (const [key, obj] of this.items) fileUnder(index, fn(obj), key);
  }

  indexNames(): string[] {
    return [...this.indexers.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  get version(): number {
    return this.changes;
  }

  get metadataVersion(): number {
    return this.metadataChanges;
  }

  namespaceMetadataVersion(namespace: string): number {
    return this.journals.get(namespace)?.versions.at(-1) ?? 0;
  }

  metadataChangesSince(namespace: string, version: number): readonly string[] | undefined {
    const journal = this.journals.get(namespace);
    if (!journal) return [];
    if (version < journal.forgotten) return undefined;
    let first = journal.versions.length;
    while (first > 0 && journal.versions[first - 1]! > version) first--;
    return journal.keys.slice(first);
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  byIndex(indexName: string, value: string): T[] {
    const index = this.indexNamed(indexName);
    const filed = index.get(value);
    if (filed === undefined) return [];
    if (typeof filed === 'string') {
      const obj = this.items.get(filed);
      return obj === undefined ? [] : [obj];
    }
    const out: T[] = [];
    for (const key of filed) {
      const obj = this.items.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  indexValues(indexName: string): string[] {
    return [...this.indexNamed(indexName).keys()];
  }

  private indexNamed(indexName: string): Map<string, Filed> {
    const index = this.indices.get(indexName);
    if (!index) throw new Error(`unknown index "${indexName}" (known: ${this.indexNames().join(', ')})`);
    return index;
  }

  /** Inserts or replaces; returns the object it replaced. */
  upsert(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.changed(key, obj, !old || !sameMetadata(old, obj));
    this.items.set(key, obj);
    this.index(key, obj);
    return old;
  }

  /** Removes by key; returns what was there. */
  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.changed(key, old, true);
    this.items.delete(key);
    return old;
  }

  /**
   * Makes the objects for which `inScope` holds exactly `objects` (the result of a list of
   * that scope) and reports the difference. An object whose resourceVersion did not change
   * is kept and not reported.
   */
  replace(objects: readonly T[], inScope: (obj: T) => boolean): ReplaceResult<T> {
    const result: ReplaceResult<T> = { added: [], updated: [], deleted: [] };
    const seen = new Set<string>();
    for (const obj of objects) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.items.get(key);
      if (!old) {
        this.upsert(obj);
        result.added.push(obj);
      } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.upsert(obj);
        result.updated.push({ oldObj: old, newObj: obj });
      }
    }
    for (const [key, obj] of [...this.items]) {
      if (!seen.has(key) && inScope(obj)) {
        this.delete(key);
        result.deleted.push(obj);
      }
    }
    return result;
  }

  private changed(key: string, obj: T, metadata: boolean): void {
    this.changes++;
    if (!metadata) return;
    this.metadataChanges++;
    const namespace = obj.metadata?.namespace ?? '';
    let journal = this.journals.get(namespace);
    if (!journal) this.journals.set(namespace, (journal = { versions: [], keys: [], forgotten: 0 }));
    journal.versions.push(this.metadataChanges);
    journal.keys.push(key);
    if (journal.keys.length > JOURNAL_LIMIT) {
      // Forget the older half at once: the kept half moves down once every JOURNAL_LIMIT / 2
      // changes, so a change costs the same on average however long the store runs.
      const drop = journal.keys.length - JOURNAL_LIMIT / 2;
      journal.forgotten = journal.versions[drop - 1]!;
      journal.versions.splice(0, drop);
      journal.keys.splice(0, drop);
    }
  }

  private index(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) fileUnder(this.indices.get(name)!, fn(obj), key);
  }

  private unindex(key: string, obj: T): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      for (const value of fn(obj)) unfile(index, value, key);
    }
  }
}

type OwnerReference = { uid?: string; controller?: boolean };

/** The same owners, in the same order, with the same controller among them. */
function sameOwners(a: readonly OwnerReference[] | undefined, b: readonly OwnerReference[] | undefined): boolean {
  if (a === b) return true;
  if ((a?.length ?? 0) !== (b?.length ?? 0)) return false;
  return (a ?? []).every((o, i) => o.uid === b![i]!.uid && o.controller === b![i]!.controller);
}

/** Whether two versions of an object (the same object: the same uid) differ in status (or resourceVersion) alone. */
function sameMetadata(a: KubeObject, b: KubeObject): boolean {
  const ma = a.metadata;
  const mb = b.metadata;
  return (
    ma?.uid === mb?.uid &&
    ma?.generation === mb?.generation &&
    sameStrings(ma?.labels, mb?.labels) &&
    sameStrings(ma?.annotations, mb?.annotations) &&
    sameOwners(ma?.ownerReferences as OwnerReference[] | undefined, mb?.ownerReferences as OwnerReference[] | undefined)
  );
}

/**
 * The keys filed under one index value: the key itself while it is the only one (most values
 * of the refs, service and controller indexes name one object, and a Set of one costs some
 * 150 bytes beside the key), a Set once there are more.
 */
type Filed = string | Set<string>;

function fileUnder(index: Map<string, Filed>, values: readonly string[], key: string): void {
  for (const value of values) {
    const filed = index.get(value);
    if (filed === undefined) index.set(value, key);
    else if (typeof filed !== 'string') filed.add(key);
    else if (filed !== key) index.set(value, new Set([filed, key]));
  }
}

function unfile(index: Map<string, Filed>, value: string, key: string): void {
  const filed = index.get(value);
  if (filed === undefined) return;
  if (typeof filed === 'string') {
    if (filed === key) index.delete(value);
    return;
  }
  filed.delete(key);
  // Back to the key alone once it is the last one.
  if (filed.size === 1) index.set(value, filed.values().next().value!);
  else if (filed.size === 0) index.delete(value);
}
