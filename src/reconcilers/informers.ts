/**
 * The informers the catalog needs, with what each cache keeps (only the fields Backlot reads)
 * and the indexes (indexes.ts) the World looks things up by.
 */
import { WORKLOAD_KINDS, WORKLOAD_RESOURCES, type WorkloadKind } from '../api/workloads.ts';
import { FIELD_MANAGER } from '../k8s/apply.ts';
import type { KubeObject } from '../k8s/object.ts';
import { ENDPOINT_SLICES, JOBS, NAMESPACES } from '../k8s/resource.ts';
import type { InformerRequest } from '../runtime/factory.ts';
import type { Informer } from '../runtime/informer.ts';
import { managedFieldsCut } from '../k8s/managed-fields-text.ts';
import { dropAnnotations, dropManagedFields, keepPaths, parsedWithout, type Transform } from '../runtime/transform.ts';
import { API_VERSION } from '../api/common.ts';
import { ENTITY_KINDS, entityResource, type EntityKind, type EntityObject } from '../api/kinds.ts';
import type { EntityParser } from './entities.ts';
import { entityIndexers, jobIndexers, SERVICE_NAME_LABEL, sliceIndexers } from './indexes.ts';
import type { WorldCaches } from './world.ts';

/*
 * The built-in resources' managedFields is cut out of the text before it is parsed (Backlot's
 * own entries kept for the workloads): half the bytes of a list of them. Their schemas have
 * no other field of that name. The catalog's entities are parsed whole: their schemas keep
 * fields they do not know, and a field of that name there would be cut too.
 */
const CUT_ALL_MANAGED_FIELDS = managedFieldsCut();
const CUT_OTHERS_MANAGED_FIELDS = managedFieldsCut(FIELD_MANAGER);

/**
 * What a cached workload keeps of Backlot's own managedFields entry: that there is one. It is
 * the only entry Backlot reads, and only to tell whether the ownership fields on the workload
 * are Backlot's to remove (ownManagedFields(obj).length > 0); the entry itself (its time and
 * its fieldsV1, an object per field) came to some 870 bytes per claimed workload. Shared by
 * every cached workload that has one: frozen.
 */
export const OWN_MANAGED_FIELDS: readonly { manager: string; operation: string }[] = Object.freeze([
  Object.freeze({ manager: FIELD_MANAGER, operation: 'Apply' }),
]);

/** Keeps the given paths plus the mark of Backlot's own managedFields entry (OWN_MANAGED_FIELDS). */
function keepWithOwnManagedFields(paths: readonly string[]): Transform {
  const base = keepPaths(paths);
  return parsedWithout((obj) => {
    const out = base(obj);
    const own = ((obj.metadata?.managedFields ?? []) as { manager?: string; subresource?: string }[]).some(
      (e) => e.manager === FIELD_MANAGER && !e.subresource,
    );
    if (own && out.metadata) out.metadata.managedFields = OWN_MANAGED_FIELDS as unknown[];
    return out;
  }, CUT_OTHERS_MANAGED_FIELDS);
}

/**
 * List responses leave apiVersion and kind off their items; every cached object gets them
 * back, so that whatever refers to it (an Event, an apply) can name its type.
 */
export function withTypeMeta<T extends KubeObject>(apiVersion: string, kind: string, transform: Transform<T>): Transform<T> {
  const typed: Transform<T> = (obj) => {
    const out = transform(obj);
    return out.apiVersion === apiVersion && out.kind === kind ? out : { ...out, apiVersion, kind };
  };
  return transform.beforeParse ? parsedWithout(typed, transform.beforeParse) : typed;
}

/** kubectl apply's copy of the whole object as last applied: as large as the object, and read by nothing here. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What an API's cache holds in place of a definition it has. Nothing the operator decides
 * reads a definition, and one may take 1 MiB; the served export links to it instead, and
 * the link's handler reads it from the API server (interop/catalog-info.ts).
 */
export const DEFINITION_LEFT_OUT = "The definition is not kept in the operator's cache.";

/**
 * What an entity cache keeps: the whole object, as parsed (entity schemas keep fields they do
 * not know, so no text is cut before parsing), less what no decision reads and can be large:
 * managedFields, kubectl's last-applied-configuration, and an API's definition.
 */
export function entityTransform(kind: EntityKind): Transform<EntityObject> {
  const lean = (obj: KubeObject): EntityObject => {
    const out: EntityObject = dropAnnotations(dropManagedFields(obj), [LAST_APPLIED_ANNOTATION]);
    if (kind !== 'API' || typeof out.spec?.definition !== 'string') return out;
    return { ...out, spec: { ...out.spec, definition: DEFINITION_LEFT_OUT } };
  };
  return withTypeMeta(API_VERSION, kind, lean);
}

type Condition = { type?: string; status?: string; reason?: string; lastTransitionTime?: string };

/**
 * The transform, keeping of `status.conditions` only the conditions `keep` accepts, and of
 * each only the given fields (a condition's message and times are most of its bytes).
 */
function withConditions(transform: Transform, keep: (c: Condition) => boolean, fields: readonly (keyof Condition)[]): Transform {
  const narrowed: Transform = (obj) => {
    const out = transform(obj);
    const status = out.status as { conditions?: unknown } | undefined;
    if (!Array.isArray(status?.conditions)) return out;
    const kept = (status.conditions as Condition[]).filter((c) => c !== null && typeof c === 'object' && keep(c));
    const conditions = kept.map((c) => Object.fromEntries(fields.flatMap((f) => (c[f] === undefined ? [] : [[f, c[f]]]))));
    return { ...out, status: { ...status, conditions } };
  };
  return transform.beforeParse ? parsedWithout(narrowed, transform.beforeParse) : narrowed;
}

/**
 * What each workload cache keeps: the fields the readiness rules (catalog/readiness.ts) and
 * claims read, and nothing else of spec and status. Of a Deployment's conditions that is the
 * Progressing one's status and reason (a rollout past its progress deadline).
 */
export const WORKLOAD_TRANSFORMS: Readonly<Record<WorkloadKind, Transform>> = {
  Deployment: withConditions(
    keepWithOwnManagedFields([
      'spec.replicas',
      'status.observedGeneration',
      'status.replicas',
      'status.updatedReplicas',
      'status.readyReplicas',
      'status.availableReplicas',
      'status.conditions',
    ]),
    (c) => c.type === 'Progressing',
    ['type', 'status', 'reason'],
  ),
  StatefulSet: keepWithOwnManagedFields([
    'spec.replicas',
    'spec.updateStrategy',
    'status.observedGeneration',
    'status.readyReplicas',
    'status.updatedReplicas',
    'status.replicas',
  ]),
  DaemonSet: keepWithOwnManagedFields([
    'status.observedGeneration',
    'status.desiredNumberScheduled',
    'status.numberReady',
    'status.numberAvailable',
    'status.updatedNumberScheduled',
  ]),
  CronJob: keepWithOwnManagedFields(['spec.suspend', 'status.lastScheduleTime', 'status.lastSuccessfulTime', 'status.active']),
  Service: keepWithOwnManagedFields(['spec.type']),
};

/**
 * What the Job cache keeps: what CronJob readiness and the Job triggers read. Its name, its
 * creation time, its controller (the one owner reference the index and the trigger read, with
 * the fields they read), its completion time and the conditions that say it finished, with
 * their time: a Failed or Complete condition that is True (cronJobReadiness looks at no other).
 * Not its labels and annotations, which the Job controller fills with its own bookkeeping.
 */
export const JOB_TRANSFORM: Transform = withConditions(
  parsedWithout((obj) => {
    const m = obj.metadata ?? {};
    const owner = ((m.ownerReferences ?? []) as { kind?: string; name?: string; uid?: string; controller?: boolean }[]).find((o) => o?.controller);
    const metadata: KubeObject['metadata'] = {
      name: m.name,
      namespace: m.namespace,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    };
    if (owner) metadata.ownerReferences = [{ kind: owner.kind, name: owner.name, uid: owner.uid, controller: true }];
    const status = obj.status as { conditions?: unknown; completionTime?: unknown } | undefined;
    const kept: Record<string, unknown> = {};
    if (status?.conditions !== undefined) kept.conditions = status.conditions;
    if (status?.completionTime !== undefined) kept.completionTime = status.completionTime;
    return { apiVersion: obj.apiVersion, kind: obj.kind, metadata, ...(status ? { status: kept } : {}) };
  }, CUT_ALL_MANAGED_FIELDS),
  (c) => c.status === 'True' && (c.type === 'Failed' || c.type === 'Complete'),
  ['type', 'status', 'lastTransitionTime'],
);

/**
 * An endpoint as a cached EndpointSlice holds it: whether it is ready, all that Service
 * readiness reads of it (an absent ready condition counts as ready). Shared by every endpoint
 * of its readiness: frozen.
 */
const READY_ENDPOINT = Object.freeze({ conditions: Object.freeze({ ready: true }) });
const UNREADY_ENDPOINT = Object.freeze({ conditions: Object.freeze({ ready: false }) });

/**
 * What the EndpointSlice cache keeps: the slice's name, its Service (the one label read, which
 * the index files it under) and whether each endpoint is ready. The rest of an endpoint
 * (addresses, its pod, node and zone) and of the slice's metadata (the Service's labels,
 * copied onto each slice, its owner reference and annotations) is read by nothing here.
 */
export const SLICE_TRANSFORM: Transform = parsedWithout((obj) => {
  const m = obj.metadata ?? {};
  const service = m.labels?.[SERVICE_NAME_LABEL];
  const metadata: KubeObject['metadata'] = { name: m.name, namespace: m.namespace, resourceVersion: m.resourceVersion };
  if (service !== undefined) metadata.labels = { [SERVICE_NAME_LABEL]: service };
  const endpoints = Array.isArray(obj.endpoints)
    ? (obj.endpoints as { conditions?: { ready?: boolean } }[]).map((e) => (e?.conditions?.ready === false ? UNREADY_ENDPOINT : READY_ENDPOINT))
    : undefined;
  return { apiVersion: obj.apiVersion, kind: obj.kind, metadata, ...(endpoints ? { endpoints } : {}) };
}, CUT_ALL_MANAGED_FIELDS);
const NAMESPACE_TRANSFORM = parsedWithout(keepPaths([]), CUT_ALL_MANAGED_FIELDS);

export interface CatalogInformers {
  all: Informer[];
  caches: WorldCaches;
  entities: Readonly<Record<EntityKind, Informer<EntityObject>>>;
  workloads: Readonly<Record<WorkloadKind, Informer>>;
  jobs: Informer;
  endpointSlices: Informer;
  namespaces: Informer;
}

/** How the catalog's informers are made: the runtime's InformerFactory, shared with the rest of the process. */
export type MakeInformer = <T extends KubeObject>(request: InformerRequest<T>) => Informer<T>;

/** The catalog's informers; the entity caches' indexes parse through `parser`, which the World is to share. */
export function createCatalogInformers(make: MakeInformer, parser: EntityParser): CatalogInformers {
  const entities = Object.fromEntries(
    ENTITY_KINDS.map((kind) => [
      kind,
      make<EntityObject>({ resource: entityResource(kind), transform: entityTransform(kind), indexers: entityIndexers(kind, parser) }),
    ]),
  ) as Record<EntityKind, Informer<EntityObject>>;
  const workloads = Object.fromEntries(
    WORKLOAD_KINDS.map((kind) => [
      kind,
      make({ resource: WORKLOAD_RESOURCES[kind], transform: withTypeMeta(WORKLOAD_RESOURCES[kind].apiVersion, kind, WORKLOAD_TRANSFORMS[kind]) }),
    ]),
  ) as Record<WorkloadKind, Informer>;
  const jobs = make({ resource: JOBS, transform: JOB_TRANSFORM, indexers: jobIndexers() });
  const endpointSlices = make({ resource: ENDPOINT_SLICES, transform: SLICE_TRANSFORM, indexers: sliceIndexers() });
  const namespaces = make({ resource: NAMESPACES, transform: NAMESPACE_TRANSFORM, namespaces: [] });

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
