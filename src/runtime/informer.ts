/**
 * An informer: a cache of one resource kept in step with the API server by one reflector
 * per scope (all namespaces, or each namespace of a list), and event handlers told of every
 * change. `synced` turns true once every scope's first full list is in the cache.
 *
 * Handlers run synchronously, in event order, and must be quick (typically: add keys to a
 * workqueue). A handler that throws or rejects is logged and counted; it never stops the
 * informer nor the process.
 */
import type { Logger } from 'pino';
import type { InformerMetrics } from './metrics.ts';
import { narrowError } from '../k8s/errors.ts';
import { objectKey, type KubeObject } from '../k8s/object.ts';
import { resourceName, type ResourceRef } from '../k8s/resource.ts';
import type { RestClient } from '../k8s/rest.ts';
import { DEFAULT_RECONNECT_BACKOFF, validateBackoffPolicy, type BackoffPolicy } from './backoff.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { Reflector, type ReflectorStats } from './reflector.ts';
import { Store, type CacheReader, type IndexFunc } from './store.ts';
import { dropManagedFields, type Transform } from './transform.ts';
import { internStrings, type StringPool } from './intern.ts';

export interface EventHandler<T extends KubeObject> {
  onAdd?(obj: T): unknown;
  onUpdate?(oldObj: T, newObj: T): unknown;
  /** `obj` is the last state the informer knew; when the deletion was found by a relist it may be stale. */
  onDelete?(obj: T): unknown;
}

export interface InformerOptions<T extends KubeObject> {
  resource: ResourceRef;
  client: RestClient;
  logger: Logger;
  /** For namespaced resources: watch only these namespaces (one list/watch each). Empty or absent: all. */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** What the cache keeps of each object; by default everything but metadata.managedFields. */
  transform?: Transform<T>;
  /** Extra indexes beside the built-in `namespace` one. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Where the string values of what the cache keeps are shared with other objects' (see StringPool); none by default. */
  strings?: StringPool;
  metrics?: InformerMetrics;
  clock?: Clock;
  random?: () => number;
  /** Reconnect backoff; 800 ms doubling to 30 s by default. */
  backoff?: BackoffPolicy;
  /** Items per list page; 500 by default. */
  pageSize?: number;
  /** Server-side watch timeout range in seconds; 300 to 600 by default. */
  watchTimeoutSeconds?: { min: number; max: number };
  /** Deadline of one list page request; 60 s by default. */
  listTimeoutMs?: number;
}

export interface InformerStats extends ReflectorStats {
  handlerErrors: number;
  transformErrors: number;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly resource: ResourceRef;
  /** `deployments.apps`: the label of this informer's metrics and logs. */
  readonly name: string;
  readonly transform: Transform<T>;
  readonly labelSelector: string | undefined;
  readonly fieldSelector: string | undefined;
  readonly namespaces: readonly string[];
  private readonly store: Store<T>;
  private readonly strings: StringPool | undefined;
  private readonly handlers = new Set<EventHandler<T>>();
  private readonly reflectors: Reflector[];
  private readonly log: Logger;
  private readonly metrics: InformerMetrics | undefined;
  private readonly pendingScopes: Set<string>;
  private readonly syncedPromise: Promise<void>;
  private resolveSynced!: () => void;
  private isSynced = false;
  private handlerErrors = 0;
  private transformErrors = 0;
  private running: { controller: AbortController; done: Promise<void> } | undefined;

  constructor(options: InformerOptions<T>) {
    const { resource } = options;
    this.resource = resource;
    this.name = resourceName(resource);
    this.transform = options.transform ?? (dropManagedFields as Transform<T>);
    this.labelSelector = options.labelSelector;
    this.fieldSelector = options.fieldSelector;
    this.namespaces = resource.namespaced ? [...new Set(options.namespaces ?? [])].sort() : [];
    if (!resource.namespaced && options.namespaces && options.namespaces.length > 0) {
      throw new Error(`${this.name} is cluster-scoped: it cannot be limited to namespaces (got ${options.namespaces.join(', ')})`);
    }
    const backoff = options.backoff ?? DEFAULT_RECONNECT_BACKOFF;
    validateBackoffPolicy(backoff);
    const watchTimeoutSeconds = options.watchTimeoutSeconds ?? { min: 300, max: 600 };
    if (!(watchTimeoutSeconds.min >= 1 && watchTimeoutSeconds.max >= watchTimeoutSeconds.min)) {
      throw new RangeError(`watchTimeoutSeconds needs 1 <= min <= max (got min=${watchTimeoutSeconds.min}, max=${watchTimeoutSeconds.max})`);
    }
    this.store = new Store<T>(options.indexers);
    this.strings = options.strings;
    this.log = options.logger.child({ resource: this.name });
    this.metrics = options.metrics;
    this.metrics?.synced.set(0);
    this.syncedPromise = new Promise((resolve) => (this.resolveSynced = resolve));

    const scopes: Array<string | undefined> = this.namespaces.length > 0 ? [...this.namespaces] : [undefined];
    this.pendingScopes = new Set(scopes.map((s) => s ?? ''));
    this.reflectors = scopes.map(
      (namespace) =>
        new Reflector({
          resource,
          namespace,
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          client: options.client,
          clock: options.clock ?? systemClock,
          random: options.random ?? Math.random,
          logger: this.log,
          backoff,
          pageSize: options.pageSize ?? 500,
          watchTimeoutSeconds,
          listTimeoutMs: options.listTimeoutMs ?? 60_000,
          onWatchRestart: () => this.metrics?.watchRestarts.inc(),
          ...(options.transform?.beforeParse ? { beforeParse: options.transform.beforeParse } : {}),
          sink: {
            keep: (obj) => this.transformed(obj),
            replace: (objects, ns) => this.replace(objects as T[], ns),
            event: (type, obj) => this.event(type, obj),
          },
        }),
    );
  }

  /** The cache. Its objects are shared: never mutate them. */
  get cache(): CacheReader<T> {
    return this.store;
  }

  /** True once every scope's first full list has been applied to the cache. */
  get synced(): boolean {
    return this.isSynced;
  }

  /** Resolves when `synced` turns true. */
  whenSynced(): Promise<void> {
    return this.syncedPromise;
  }

  get started(): boolean {
    return this.running !== undefined;
  }

  stats(): InformerStats {
    const total: InformerStats = {
      lists: 0,
      relists: 0,
      watches: 0,
      watchRestarts: 0,
      gone: 0,
      failures: 0,
      handlerErrors: this.handlerErrors,
      transformErrors: this.transformErrors,
    };
    for (const r of this.reflectors) {
      for (const k of Object.keys(r.stats) as Array<keyof ReflectorStats>) total[k] += r.stats[k];
    }
    return total;
  }

  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.store.addIndexer(name, fn);
  }

  /**
   * Registers a handler. With `replay`, it is first told of every cached object as an add,
   * so a consumer that starts late sees the same world as one that started first.
   * Returns the function that unregisters it.
   */
  addEventHandler(handler: EventHandler<T>, options: { replay?: boolean } = {}): () => void {
    this.handlers.add(handler);
    if (options.replay) for (const obj of this.store.list()) this.call(handler, 'onAdd', () => handler.onAdd?.(obj));
    return () => {
      this.handlers.delete(handler);
    };
  }

  start(): void {
    if (this.running) return;
    const controller = new AbortController();
    this.log.info({ namespaces: this.namespaces, labelSelector: this.labelSelector }, 'informer starting');
    const done = Promise.all(this.reflectors.map((r) => r.run(controller.signal))).then(() => undefined);
    this.running = { controller, done };
  }

  /** Stops every list/watch loop and waits for them to end. The cache stays readable. */
  async stop(): Promise<void> {
    const running = this.running;
    if (!running) return;
    running.controller.abort();
    await running.done;
    this.running = undefined;
    this.log.info('informer stopped');
  }

  private transformed(obj: KubeObject): T {
    try {
      const kept = this.transform(obj);
      if (this.strings) internStrings(this.strings, kept);
      return kept;
    } catch (err) {
      this.transformErrors += 1;
      this.metrics?.handlerErrors.inc();
      this.log.error({ err: narrowError(err).message, key: safeKey(obj) }, 'cache transform failed, caching the object as received');
      return obj as T;
    }
  }

  private replace(items: T[], namespace: string | undefined): void {
    const inScope = namespace === undefined ? () => true : (obj: T) => obj.metadata?.namespace === namespace;
    const diff = this.store.replace(items, inScope);
    for (const obj of diff.added) this.notify('onAdd', (h) => h.onAdd?.(obj));
    for (const { oldObj, newObj } of diff.updated) this.notify('onUpdate', (h) => h.onUpdate?.(oldObj, newObj));
    for (const obj of diff.deleted) this.notify('onDelete', (h) => h.onDelete?.(obj));
    if (diff.deleted.length > 0 || diff.updated.length > 0) {
      this.log.debug({ added: diff.added.length, updated: diff.updated.length, deleted: diff.deleted.length }, 'relist changed the cache');
    }
    if (!this.isSynced && this.pendingScopes.delete(namespace ?? '') && this.pendingScopes.size === 0) {
      this.isSynced = true;
      this.metrics?.synced.set(1);
      this.log.info({ objects: this.store.size }, 'informer synced');
      this.resolveSynced();
    }
  }

  private event(type: 'ADDED' | 'MODIFIED' | 'DELETED', raw: KubeObject): void {
    const obj = this.transformed(raw);
    if (type === 'DELETED') {
      const old = this.store.delete(objectKey(obj));
      this.notify('onDelete', (h) => h.onDelete?.(old ?? obj));
      return;
    }
    const old = this.store.upsert(obj);
    if (old) this.notify('onUpdate', (h) => h.onUpdate?.(old, obj));
    else this.notify('onAdd', (h) => h.onAdd?.(obj));
  }

  private notify(kind: keyof EventHandler<T>, fn: (h: EventHandler<T>) => unknown): void {
    for (const handler of this.handlers) this.call(handler, kind, () => fn(handler));
  }

  private call(_handler: EventHandler<T>, kind: keyof EventHandler<T>, fn: () => unknown): void {
    const fail = (err: unknown) => {
      this.handlerErrors += 1;
      this.metrics?.handlerErrors.inc();
      this.log.error({ handler: kind, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'informer event handler failed');
    };
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  }
}

function safeKey(obj: KubeObject): string {
  try {
    return objectKey(obj);
  } catch {
    return '(no name)';
  }
}
