/**
 * Which keys a change in the cache puts on which queue. Level-based: a key says "look at this
 * again", never what happened; a reconcile that finds nothing to change writes nothing, so
 * erring towards more keys costs a cache read, never a write.
 */
import type { WorkloadKind } from '../api/workloads.ts';
import { WORKLOAD_KINDS } from '../api/workloads.ts';
import { sameStrings, type KubeObject } from '../k8s/object.ts';
import { claims, type Claimant } from '../catalog/claims.ts';
import { ACCEPT_RELATIONS_ANNOTATION } from '../catalog/tenancy.ts';
import { claimTarget, workloadClaimants, workloadReadiness } from './workload-facts.ts';
import { affectedEntities, healthReaders, transitiveDependents } from './fan-out.ts';
import { workloadKey } from './ownership.ts';
import { LOW_PRIORITY } from '../runtime/workqueue.ts';
import type { World } from './world.ts';
import { SERVICE_NAME_LABEL } from './indexes.ts';
import { ENTITY_KINDS, type EntityKind, type EntityObject } from '../api/kinds.ts';

/**
 * Where keys go. Each controller's source feeds one queue; the side it leaves out is not
 * computed at all (the same informer events reach both sources).
 *
 * What a change touches directly (the changed object, the claimants of a changed workload)
 * goes at the default priority; what only follows from it (whoever reads a claimant's
 * health, whatever references a changed entity, the echo of a status write) goes at
 * LOW_PRIORITY, so that under load an entity shows its own workloads' change before the
 * Systems and dependents that derive from it.
 */
export interface Enqueue {
  entity?: (key: string, priority?: number) => void;
  workload?: (key: string, priority?: number) => void;
}

function specOrSelectorChanged(oldObj: EntityObject | undefined, newObj: EntityObject | undefined): boolean {
  if (!oldObj || !newObj) return true;
  // Spec changes bump the generation; the selector annotation is the rest of what the spec
  // parse reads (the name and creation time never change).
  return (
    oldObj.metadata?.generation !== newObj.metadata?.generation ||
    oldObj.metadata?.annotations?.['backstage.io/kubernetes-label-selector'] !== newObj.metadata?.annotations?.['backstage.io/kubernetes-label-selector']
  );
}

/** What the dependsOn walk follows from an entity: a change of it may start or end a cycle. */
function dependencyEdges(obj: EntityObject | undefined): string {
  const spec = obj?.spec ?? {};
  return JSON.stringify([spec.dependsOn, spec.dependencyOf]);
}

/**
 * An entity was added, changed or deleted (`oldObj` / `newObj` undefined accordingly).
 *
 * A change of its status alone concerns only itself: every status is computed from specs and
 * workloads, never from another entity's status. A change of its spec concerns what it
 * references, what references it, whoever reads its health, and, when its dependencies
 * moved, every entity whose dependsOn walk passes through it.
 */
export function onEntityChange(world: World, enqueue: Enqueue, kind: EntityKind, oldObj: EntityObject | undefined, newObj: EntityObject | undefined): void {
  const { entity: enqueueEntity, workload: enqueueWorkload } = enqueue;
  if (!specOrSelectorChanged(oldObj, newObj)) {
    // A status-only change: most often the echo of Backlot's own write.
    const obj = newObj ?? oldObj;
    if (obj && enqueueEntity) enqueueEntity(world.parsed(kind, obj).ref, LOW_PRIORITY);
    return;
  }
  if (enqueueEntity) {
    const keys = new Set<string>();
    const edgesMoved = (kind === 'Component' || kind === 'Resource') && dependencyEdges(oldObj) !== dependencyEdges(newObj);
    let own: string | undefined;
    for (const obj of [oldObj, newObj]) {
      if (!obj) continue;
      const parsed = world.parsed(kind, obj);
      own = parsed.ref;
      for (const ref of affectedEntities(world, parsed)) keys.add(ref);
      for (const ref of healthReaders(world, parsed.ref, parsed)) keys.add(ref);
      if (edgesMoved) for (const ref of transitiveDependents(world, parsed)) keys.add(ref);
    }
    if (own) enqueueEntity(own);
    for (const key of keys) if (key !== own) enqueueEntity(key, LOW_PRIORITY);
  }

  if (kind === 'Component' || kind === 'Resource') {
    const namespace = (newObj ?? oldObj)?.metadata?.namespace ?? '';
    // Only the workloads it claimed or claims can change hands or owner; the rest keep theirs.
    const selectors: Claimant[] = [];
    for (const obj of [oldObj, newObj]) {
      const claim = obj ? world.parsed(kind, obj).claim : undefined;
      if (claim?.ok) selectors.push(claim.claimant);
    }
    const claimants = new Set<string>();
    for (const kindW of WORKLOAD_KINDS) {
      for (const w of world.workloadsIn(kindW, namespace)) {
        const target = claimTarget(kindW, w);
        if (!selectors.some((c) => claims(c, target))) continue;
        enqueueWorkload?.(workloadKey(kindW, namespace, w.metadata?.name ?? ''));
        // Claims move between entities: every claimant of these workloads may need a new status.
        if (enqueueEntity) for (const c of workloadClaimants(world, kindW, w)) claimants.add(c.ref);
      }
    }
    for (const ref of claimants) enqueueHealthReaders(world, enqueue, ref);
  }
}

/**
 * Whether an update of a workload leaves every entity's view of it as it was: the same
 * readiness and the same claimants, winner first (what its labels and ignore mark decide).
 * Backlot's own ownership writes are such updates (its owner label is read by no selector),
 * and so is most of a rollout's status traffic between two readiness changes.
 */
function sameForEntities(world: World, kind: WorkloadKind, oldObj: KubeObject, newObj: KubeObject): boolean {
  const a = workloadReadiness(world, kind, oldObj);
  const b = workloadReadiness(world, kind, newObj);
  if (a.ready !== b.ready || a.detail !== b.detail || a.replicas !== b.replicas || a.readyReplicas !== b.readyReplicas) return false;
  // Unchanged labels and annotations claim alike: the common case, decided without matching.
  if (sameStrings(oldObj.metadata?.labels, newObj.metadata?.labels) && sameStrings(oldObj.metadata?.annotations, newObj.metadata?.annotations)) return true;
  const before = workloadClaimants(world, kind, oldObj);
  const after = workloadClaimants(world, kind, newObj);
  return before.length === after.length && before.every((c, i) => c.ref === after[i]!.ref);
}

/** A workload was added, changed or deleted. */
export function onWorkloadChange(world: World, enqueue: Enqueue, kind: WorkloadKind, oldObj: KubeObject | undefined, newObj: KubeObject | undefined): void {
  const obj = newObj ?? oldObj;
  if (!obj) return;
  enqueue.workload?.(workloadKey(kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''));
  if (!enqueue.entity || (oldObj && newObj && sameForEntities(world, kind, oldObj, newObj))) return;
  const refs = new Set<string>();
  for (const o of [oldObj, newObj]) if (o) for (const c of workloadClaimants(world, kind, o)) refs.add(c.ref);
  for (const ref of refs) enqueueHealthReaders(world, enqueue, ref);
}

/** A claimant's workloads changed: it looks again first, then whoever reads its health. */
function enqueueHealthReaders(world: World, enqueue: Enqueue, ref: string): void {
  if (enqueue.entity) for (const reader of healthReaders(world, ref)) enqueue.entity(reader, reader === ref ? 0 : LOW_PRIORITY);
}

/** A Job changed: the claimants of the CronJob that controls it look again. */
export function onJobChange(world: World, enqueue: Enqueue, job: KubeObject): void {
  const owners = (job.metadata?.ownerReferences ?? []) as { kind?: string; name?: string; controller?: boolean }[];
  const cron = owners.find((o) => o.controller && o.kind === 'CronJob');
  if (!cron?.name) return;
  const cronJob = world.workload('CronJob', job.metadata?.namespace ?? '', cron.name);
  if (cronJob) for (const c of workloadClaimants(world, 'CronJob', cronJob)) enqueueHealthReaders(world, enqueue, c.ref);
}

/** An EndpointSlice changed: the claimants of its Service look again. */
export function onEndpointSliceChange(world: World, enqueue: Enqueue, slice: KubeObject): void {
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!service) return;
  const svc = world.workload('Service', slice.metadata?.namespace ?? '', service);
  if (svc) for (const c of workloadClaimants(world, 'Service', svc)) enqueueHealthReaders(world, enqueue, c.ref);
}

/**
 * A Namespace was added, changed or deleted. When the relations it accepts change, the
 * references into it from other namespaces start or stop taking effect: its entities that
 * are referenced from elsewhere look again (and whoever reads their health), so do the
 * referrers (their RefsResolved), and the referrers' workloads (the owner and system written
 * onto them).
 */
export function onNamespaceChange(world: World, enqueue: Enqueue, oldObj: KubeObject | undefined, newObj: KubeObject | undefined): void {
  if (oldObj?.metadata?.annotations?.[ACCEPT_RELATIONS_ANNOTATION] === newObj?.metadata?.annotations?.[ACCEPT_RELATIONS_ANNOTATION]) return;
  const namespace = (newObj ?? oldObj)?.metadata?.name ?? '';
  for (const kind of ENTITY_KINDS) {
    for (const obj of world.caches.entities[kind].byIndex('namespace', namespace)) {
      const target = world.parsed(kind, obj);
      const referrers = world.referrers(target.ref).filter((r) => r.namespace !== namespace);
      if (referrers.length === 0) continue;
      if (enqueue.entity) for (const reader of healthReaders(world, target.ref)) enqueue.entity(reader, LOW_PRIORITY);
      for (const referrer of referrers) {
        enqueue.entity?.(referrer.ref, LOW_PRIORITY);
        if (!enqueue.workload) continue;
        for (const claim of world.claimsIn(referrer.namespace).byClaimant.get(referrer.ref) ?? [])
          enqueue.workload(workloadKey(claim.kind, referrer.namespace, claim.name), LOW_PRIORITY);
      }
    }
  }
}
