/**
 * A World filled from plain objects, through the same Store and index functions the
 * informers use: for unit tests of what is computed from the cache.
 */
import { WORKLOAD_KINDS, type WorkloadKind } from '../../src/api/workloads.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { Store } from '../../src/runtime/store.ts';
import { entityIndexers, jobIndexers, sliceIndexers } from '../../src/reconcilers/indexes.ts';
import { EntityParser } from '../../src/reconcilers/entities.ts';
import { World } from '../../src/reconcilers/world.ts';
import { ENTITY_KINDS, type EntityKind, type EntityObject } from '../../src/api/kinds.ts';

export interface WorldObjects {
  entities?: EntityObject[];
  workloads?: KubeObject[];
  jobs?: KubeObject[];
  endpointSlices?: KubeObject[];
  namespaces?: KubeObject[];
}

export function worldOf(objects: WorldObjects): World {
  const parser = new EntityParser();
  const entities = Object.fromEntries(ENTITY_KINDS.map((k) => [k, new Store<EntityObject>(entityIndexers(k, parser))])) as Record<
    EntityKind,
    Store<EntityObject>
  >;
  const workloads = Object.fromEntries(WORKLOAD_KINDS.map((k) => [k, new Store<KubeObject>()])) as Record<WorkloadKind, Store<KubeObject>>;
  const jobs = new Store<KubeObject>(jobIndexers());
  const endpointSlices = new Store<KubeObject>(sliceIndexers());
  const namespaces = new Store<KubeObject>();
  for (const e of objects.entities ?? []) entities[e.kind as EntityKind].upsert(e);
  for (const w of objects.workloads ?? []) workloads[w.kind as WorkloadKind].upsert(w);
  for (const j of objects.jobs ?? []) jobs.upsert(j);
  for (const s of objects.endpointSlices ?? []) endpointSlices.upsert(s);
  for (const n of objects.namespaces ?? []) namespaces.upsert(n);
  return new World({ entities, workloads, jobs, endpointSlices, namespaces }, { parser });
}

const CREATED = '2026-11-01T00:00:00Z';

export function entity(
  kind: EntityKind,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  more: { status?: Record<string, unknown>; created?: string; annotations?: Record<string, string> } = {},
): EntityObject {
  return {
    apiVersion: 'catalog.backlot.dev/v1alpha1',
    kind,
    metadata: {
      name,
      namespace,
      uid: `uid-${kind}-${name}`,
      generation: 1,
      resourceVersion: '1',
      creationTimestamp: more.created ?? CREATED,
      ...(more.annotations ? { annotations: more.annotations } : {}),
    },
    spec,
    ...(more.status ? { status: more.status } : {}),
  };
}

export function workload(kind: WorkloadKind, namespace: string, name: string, labels: Record<string, string>, more: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: kind === 'Service' ? 'v1' : kind === 'CronJob' ? 'batch/v1' : 'apps/v1',
    kind,
    metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: '1', generation: 1, labels },
    ...more,
  };
}

export const readyCondition = (status: 'True' | 'False') => ({ type: 'Ready', status, reason: 'X', message: '', lastTransitionTime: CREATED });
