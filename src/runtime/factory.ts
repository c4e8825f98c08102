/**
 * The process's informers, in one place: registrations ask it for the informers they need
 * (one shared informer per resource, selector and namespace set), the composition root
 * starts and stops them all, and /readyz asks it which have not synced yet.
 */
import type { Logger } from 'pino';
import type { KubeObject } from '../k8s/object.ts';
import { resourceName, type ResourceRef } from '../k8s/resource.ts';
import type { RestClient } from '../k8s/rest.ts';
import type { RuntimeMetricsProvider } from './metrics.ts';
import type { BackoffPolicy } from './backoff.ts';
import type { Clock } from '../util/clock.ts';
import { Informer } from './informer.ts';
import type { IndexFunc } from './store.ts';
import type { Transform } from './transform.ts';
import { StringPool } from './intern.ts';

export interface InformerFactoryOptions {
  client: RestClient;
  logger: Logger;
  metrics?: RuntimeMetricsProvider;
  clock?: Clock;
  /** Namespaced resources are watched in these namespaces only, unless a request says otherwise; empty: all. */
  namespaces?: readonly string[];
  backoff?: BackoffPolicy;
  /** Where the informers share the strings their caches hold; one pool of the factory's own by default. */
  strings?: StringPool;
}

export interface InformerRequest<T extends KubeObject> {
  resource: ResourceRef;
  labelSelector?: string;
  fieldSelector?: string;
  /** Overrides the factory's namespaces for this informer. */
  namespaces?: readonly string[];
  transform?: Transform<T>;
  indexers?: Record<string, IndexFunc<T>>;
}

export class InformerFactory {
  private readonly options: InformerFactoryOptions;
  private readonly byKey = new Map<string, Informer<KubeObject>>();
  /** One pool for every informer: a namespace's name, a label value, a condition's message are shared across resources. */
  private readonly strings: StringPool;
  private readonly all: Informer<KubeObject>[] = [];
  private started = false;

  constructor(options: InformerFactoryOptions) {
    this.options = options;
    this.strings = options.strings ?? new StringPool();
  }

  /**
   * The informer for `request`, created on first use and shared after. Two requests for the
   * same resource, selectors and namespaces get the same informer; they must then agree on
   * the transform (the cache holds one shape of object), and their indexes are merged.
   */
  informer<T extends KubeObject = KubeObject>(request: InformerRequest<T>): Informer<T> {
    const namespaces = request.resource.namespaced ? [...new Set(request.namespaces ?? this.options.namespaces ?? [])].sort() : [];
    const key = [resourceName(request.resource), request.resource.version, request.labelSelector ?? '', request.fieldSelector ?? '', namespaces.join(',')].join(
      '|',
    );
    const existing = this.byKey.get(key) as Informer<T> | undefined;
    if (existing) {
      if (request.transform && request.transform !== existing.transform) {
        throw new Error(
          `an informer for ${existing.name} already exists with a different cache transform: informers are shared, so requests for the same resource must pass the same transform function`,
        );
      }
      for (const [name, fn] of Object.entries(request.indexers ?? {})) existing.addIndexer(name, fn);
      return existing;
    }
    const name = resourceName(request.resource);
    const metrics = this.options.metrics?.informer(name);
    const informer = new Informer<T>({
      resource: request.resource,
      client: this.options.client,
      logger: this.options.logger,
      namespaces,
      ...(request.labelSelector !== undefined ? { labelSelector: request.labelSelector } : {}),
      ...(request.fieldSelector !== undefined ? { fieldSelector: request.fieldSelector } : {}),
      ...(request.transform ? { transform: request.transform } : {}),
      ...(request.indexers ? { indexers: request.indexers } : {}),
      strings: this.strings,
      ...(metrics ? { metrics } : {}),
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
    });
    this.byKey.set(key, informer as unknown as Informer<KubeObject>);
    this.adopt(informer);
    return informer;
  }

  /** Takes charge of an informer built elsewhere: started, stopped and checked for sync with the rest. */
  adopt<T extends KubeObject>(informer: Informer<T>): void {
    const general = informer as unknown as Informer<KubeObject>;
    if (this.all.includes(general)) return;
    this.all.push(general);
    if (this.started) informer.start();
  }

  get informers(): readonly Informer<KubeObject>[] {
    return this.all;
  }

  start(): void {
    this.started = true;
    for (const informer of this.all) informer.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    await Promise.all(this.all.map((i) => i.stop()));
  }

  /** Informers whose first list has not been applied yet, by name (deduplicated, sorted). */
  unsynced(): string[] {
    return [...new Set(this.all.filter((i) => !i.synced).map((i) => i.name))].sort();
  }

  /** Resolves once every informer has synced; informers adopted later are not waited for. */
  async waitForSync(): Promise<void> {
    await Promise.all(this.all.map((i) => i.whenSynced()));
  }
}
