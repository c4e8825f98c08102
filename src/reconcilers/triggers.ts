/**
 * Which keys a change in the cache puts on which queue. Level-based: a key says "look at this
 * again", never what happened; a reconcile that finds nothing to change writes nothing, so
 * erring towards more keys costs a cache read, never a write.
 */
import type { WorkloadKind } from '../api/workloads.ts';
import { WORKLOAD_KINDS } from '../api/workloads.ts';
import type { KubeObject } from '../k8s/object.ts';
import { affectedEntities, workloadClaimants } from './facts.ts';
import { workloadKey } from './ownership.ts';
import { SERVICE_NAME_LABEL, type EntityKind, type EntityObject, type World } from './world.ts';

export interface Enqueue {
  entity(key: string): void;
  workload(key: string): void;
}

function claimRelevantChange(oldObj: EntityObject | undefined, newObj: EntityObject | undefined): boolean {
  if (!oldObj || !newObj) return true;
  // Spec changes bump the generation; the selector annotation and the name are the rest.
  return (
    oldObj.metadata?.generation !== newObj.metadata?.generation ||
    oldObj.metadata?.annotations?.['backstage.io/kubernetes-label-selector'] !== newObj.metadata?.annotations?.['backstage.io/kubernetes-label-selector']
  );
}

/** An entity was added, changed or deleted (`oldObj` / `newObj` undefined accordingly). */
export function onEntityChange(world: World, enqueue: Enqueue, kind: EntityKind, oldObj: EntityObject | undefined, newObj: EntityObject | undefined): void {
  const keys = new Set<string>();
  for (const obj of [oldObj, newObj]) if (obj) for (const ref of affectedEntities(world, world.parsed(kind, obj))) keys.add(ref);
  for (const key of keys) enqueue.entity(key);

  if ((kind === 'Component' || kind === 'Resource') && claimRelevantChange(oldObj, newObj)) {
    const namespace = (newObj ?? oldObj)?.metadata?.namespace ?? '';
    const claimants = new Set<string>();
    for (const kindW of WORKLOAD_KINDS) {
      for (const w of world.workloadsIn(kindW, namespace)) {
        enqueue.workload(workloadKey(kindW, namespace, w.metadata?.name ?? ''));
        // Claims move between entities: every claimant of these workloads may need a new status.
        for (const c of workloadClaimants(world, kindW, w)) claimants.add(c.ref);
      }
    }
    for (const ref of claimants) enqueue.entity(ref);
  }
}

/** A workload was added, changed or deleted. */
export function onWorkloadChange(world: World, enqueue: Enqueue, kind: WorkloadKind, oldObj: KubeObject | undefined, newObj: KubeObject | undefined): void {
  const obj = newObj ?? oldObj;
  if (!obj) return;
  enqueue.workload(workloadKey(kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''));
  const refs = new Set<string>();
  for (const o of [oldObj, newObj]) if (o) for (const c of workloadClaimants(world, kind, o)) refs.add(c.ref);
  for (const ref of refs) enqueue.entity(ref);
}

/** A Job changed: the claimants of the CronJob that controls it look again. */
export function onJobChange(world: World, enqueue: Enqueue, job: KubeObject): void {
  const owners = (job.metadata?.ownerReferences ?? []) as { kind?: string; name?: string; controller?: boolean }[];
  const cron = owners.find((o) => o.controller && o.kind === 'CronJob');
  if (!cron?.name) return;
  const cronJob = world.workload('CronJob', job.metadata?.namespace ?? '', cron.name);
  if (cronJob) for (const c of workloadClaimants(world, 'CronJob', cronJob)) enqueue.entity(c.ref);
}

/** An EndpointSlice changed: the claimants of its Service look again. */
export function onEndpointSliceChange(world: World, enqueue: Enqueue, slice: KubeObject): void {
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!service) return;
  const svc = world.workload('Service', slice.metadata?.namespace ?? '', service);
  if (svc) for (const c of workloadClaimants(world, 'Service', svc)) enqueue.entity(c.ref);
}
