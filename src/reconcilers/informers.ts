/**
 * The informers the catalog needs, with what each cache keeps (only the fields Backlot reads)
 * and the indexes the World looks things up by.
 */
import type { Logger } from 'pino';
import type { WorkloadKind } from '../api/workloads.ts';
import { WORKLOAD_KINDS } from '../api/workloads.ts';
import { FIELD_MANAGER } from '../k8s/apply.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { ResourceRef } from '../k8s/resource.ts';
import type { RestClient } from '../k8s/rest.ts';
import type { InformerMetrics } from '../metrics/runtime.ts';
import { Informer } from '../runtime/informer.ts';
import type { IndexFunc } from '../runtime/store.ts';
import { dropManagedFields, keepPaths, type Transform } from '../runtime/transform.ts';
import { API_VERSION } from '../api/common.ts';
import {
  byControllerUid,
  byServiceName,
  CONTROLLER_INDEX,
  ENDPOINT_SLICES,
  ENTITY_KINDS,
  entityResource,
  JOBS,
  NAMESPACES_RESOURCE,
  REFERENCED_INDEX,
  referencedIndex,
  REFS_INDEX,
  refsIndex,
  SERVICE_INDEX,
  WORKLOAD_RESOURCES,
  type EntityKind,
  type EntityObject,
  type WorldCaches,
} from './world.ts';

export function entityIndexers(kind: EntityKind): Record<string, IndexFunc<EntityObject>> {
  return { [REFS_INDEX]: refsIndex(kind), [REFERENCED_INDEX]: referencedIndex(kind) };
}

export function jobIndexers(): Record<string, IndexFunc<KubeObject>> {
  return { [CONTROLLER_INDEX]: byControllerUid };
}

export function sliceIndexers(): Record<string, IndexFunc<KubeObject>> {
  return { [SERVICE_INDEX]: byServiceName };
}

/**
 * Keeps the given paths plus Backlot's own managedFields entry (the only one it reads: it
 * tells whether the ownership annotations on a workload are Backlot's to remove).
 */
function keepWithOwnManagedFields(paths: readonly string[]): Transform {
  const base = keepPaths(paths);
  return (obj) => {
    const out = base(obj);
    const own = ((obj.metadata?.managedFields ?? []) as { manager?: string; subresource?: string }[]).filter((e) => e.manager === FIELD_MANAGER && !e.subresource);
    if (own.length > 0 && out.metadata) out.metadata.managedFields = own;
    return out;
  };
}

/**
 * List responses leave apiVersion and kind off their items; every cached object gets them
 * back, so that whatever refers to it (an Event, an apply) can name its type.
 */
export function withTypeMeta<T extends KubeObject>(apiVersion: string, kind: string, transform: Transform<T>): Transform<T> {
  return (obj) => {
    const out = transform(obj);
    return out.apiVersion === apiVersion && out.kind === kind ? out : { ...out, apiVersion, kind };
  };
}

/** What each workload cache keeps: the fields the readiness rules and claims read. */
export const WORKLOAD_TRANSFORMS: Readonly<Record<WorkloadKind, Transform>> = {
  Deployment: keepWithOwnManagedFields(['spec.replicas', 'status']),
  StatefulSet: keepWithOwnManagedFields(['spec.replicas', 'status.observedGeneration', 'status.readyReplicas', 'status.updatedReplicas', 'status.replicas']),
  DaemonSet: keepWithOwnManagedFields(['status']),
  CronJob: keepWithOwnManagedFields(['spec.suspend', 'spec.schedule', 'status']),
  Service: keepWithOwnManagedFields(['spec.type', 'spec.selector', 'spec.externalName']),
};

const JOB_TRANSFORM = keepPaths(['status.conditions', 'status.completionTime']);
const SLICE_TRANSFORM = keepPaths(['endpoints']);
const NAMESPACE_TRANSFORM = keepPaths([]);

export interface CatalogInformers {
  all: Informer[];
  caches: WorldCaches;
  entities: Readonly<Record<EntityKind, Informer<EntityObject>>>;
  workloads: Readonly<Record<WorkloadKind, Informer>>;
  jobs: Informer;
  endpointSlices: Informer;
  namespaces: Informer;
}

export interface CatalogInformerOptions {
  client: RestClient;
  logger: Logger;
  /** Watch only these namespaces; all when empty. */
  namespaces: readonly string[];
  metrics: (resource: ResourceRef) => InformerMetrics | undefined;
}

export function createCatalogInformers(options: CatalogInformerOptions): CatalogInformers {
  const base = { client: options.client, logger: options.logger, namespaces: options.namespaces };
  const make = <T extends KubeObject>(resource: ResourceRef, more: { transform?: Transform<T>; indexers?: Record<string, IndexFunc<T>> } = {}) =>
    new Informer<T>({ ...base, resource, ...more, ...(options.metrics(resource) ? { metrics: options.metrics(resource)! } : {}) });

  const entities = Object.fromEntries(
    ENTITY_KINDS.map((kind) => [kind, make<EntityObject>(entityResource(kind), { transform: withTypeMeta(API_VERSION, kind, dropManagedFields as Transform<EntityObject>), indexers: entityIndexers(kind) })]),
  ) as Record<EntityKind, Informer<EntityObject>>;
  const workloads = Object.fromEntries(
    WORKLOAD_KINDS.map((kind) => [kind, make(WORKLOAD_RESOURCES[kind], { transform: withTypeMeta(WORKLOAD_RESOURCES[kind].apiVersion, kind, WORKLOAD_TRANSFORMS[kind]) })]),
  ) as Record<WorkloadKind, Informer>;
  const jobs = make(JOBS, { transform: JOB_TRANSFORM, indexers: jobIndexers() });
  const endpointSlices = make(ENDPOINT_SLICES, { transform: SLICE_TRANSFORM, indexers: sliceIndexers() });
  const namespaces = new Informer({ client: options.client, logger: options.logger, resource: NAMESPACES_RESOURCE, transform: NAMESPACE_TRANSFORM, ...(options.metrics(NAMESPACES_RESOURCE) ? { metrics: options.metrics(NAMESPACES_RESOURCE)! } : {}) });

  const caches: WorldCaches = {
    entities: Object.fromEntries(ENTITY_KINDS.map((k) => [k, entities[k].cache])) as WorldCaches['entities'],
    workloads: Object.fromEntries(WORKLOAD_KINDS.map((k) => [k, workloads[k].cache])) as WorldCaches['workloads'],
    jobs: jobs.cache,
    endpointSlices: endpointSlices.cache,
    namespaces: namespaces.cache,
  };
  return {
    all: [...Object.values(entities), ...Object.values(workloads), jobs, endpointSlices, namespaces] as Informer[],
    caches,
    entities,
    workloads,
    jobs,
    endpointSlices,
    namespaces,
  };
}
