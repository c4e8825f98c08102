/**
 * The ownership reconciler: for one workload, find the entity that holds its claim and make
 * Backlot's labels and annotations on it say so, with one server-side apply, only when they
 * do not already. A workload nobody claims gets an apply without them, which removes what
 * Backlot wrote before and nothing else.
 *
 * Keys are `<Kind>/<namespace>/<name>`, e.g. Deployment/shop/checkout.
 */
import type { Logger } from 'pino';
import { WORKLOAD_KINDS, WORKLOAD_RESOURCES, type WorkloadKind } from '../api/workloads.ts';
import { currentOwnership, desiredOwnership, ENTITY_ANNOTATION, needsApply, sameOwnership, type OwnerFacts, type Ownership } from '../catalog/ownership.ts';
import { ownManagedFields, type Apply } from '../k8s/apply.ts';
import type { EventRecorder } from '../k8s/events.ts';
import { sameStrings, type KubeObject } from '../k8s/object.ts';
import { RecentWrites } from './recent-writes.ts';
import type { World } from './world.ts';

export function workloadKey(kind: WorkloadKind, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

export function splitWorkloadKey(key: string): { kind: WorkloadKind; namespace: string; name: string } | undefined {
  const [kind, namespace, name, ...rest] = key.split('/');
  if (!kind || !namespace || !name || rest.length > 0 || !(WORKLOAD_KINDS as readonly string[]).includes(kind)) return undefined;
  return { kind: kind as WorkloadKind, namespace, name };
}

/**
 * The apply that makes Backlot's fields on a workload `desired`. The uid makes it a
 * precondition on this very object, never a re-created one. An empty map is left out rather
 * than sent as {}: the API server would keep Backlot's managedFields entry for an empty map,
 * and a workload whose claim ended would then look held by Backlot to every new process,
 * which would release it again after each restart. With neither map, the entry goes.
 */
export function ownershipApplyBody(target: { kind: WorkloadKind; namespace: string; name: string }, uid: string | undefined, desired: Ownership): KubeObject {
  const metadata: Record<string, unknown> = { name: target.name, namespace: target.namespace, uid };
  if (Object.keys(desired.labels).length > 0) metadata.labels = desired.labels;
  if (Object.keys(desired.annotations).length > 0) metadata.annotations = desired.annotations;
  return { apiVersion: WORKLOAD_RESOURCES[target.kind].apiVersion, kind: target.kind, metadata };
}

export interface OwnershipReconcilerOptions {
  world: World;
  /** Writes Backlot's fields onto a workload (server-side apply). */
  apply: Apply;
  events: Pick<EventRecorder, 'record'>;
  logger: Logger;
}

export class OwnershipReconciler {
  private readonly options: OwnershipReconcilerOptions;
  private readonly recent = new RecentWrites<Ownership>();

  constructor(options: OwnershipReconcilerOptions) {
    this.options = options;
  }

  /** Writes whose echo the cache has not shown yet (see RecentWrites). */
  get pendingWrites(): number {
    return this.recent.size;
  }

  /** Who should own the workload, from the cache. */
  ownerFacts(kind: WorkloadKind, obj: KubeObject): OwnerFacts | undefined {
    const { world } = this.options;
    const namespace = obj.metadata?.namespace ?? '';
    const winner = world.claimsIn(namespace).byWorkload.get(`${kind}/${obj.metadata?.name ?? ''}`)?.claimants[0];
    if (!winner) return undefined;
    const entity = world.entity(winner.ref);
    if (!entity) return undefined;
    // An owner or system in a namespace that does not accept this one's relations is no owner
    // or system of these workloads: it must not route anything to that namespace's teams.
    const ref = (field: string) => {
      const r = entity.parsed.refs.find((x) => x.field === field);
      return r && world.relationAccepted(entity.parsed, r) ? r.ref : undefined;
    };
    const lifecycle = entity.obj.spec?.lifecycle;
    const owner = ref('owner');
    const system = ref('system');
    return {
      entity: winner.ref,
      ...(owner ? { owner } : {}),
      ...(system ? { system } : {}),
      ...(typeof lifecycle === 'string' ? { lifecycle } : {}),
    };
  }

  async reconcile(key: string, signal?: AbortSignal): Promise<void> {
    const { world } = this.options;
    const parts = splitWorkloadKey(key);
    if (!parts) return;
    const obj = world.workload(parts.kind, parts.namespace, parts.name);
    if (!obj) {
      this.recent.forget(key);
      return;
    }
    // Asked first, so that the record of a write goes once the cache shows it: the echo of
    // every write is reconciled, and finds the workload as it should be (one record per
    // claimed workload would otherwise stay for the life of the process).
    const justWritten = this.recent.pending(key, obj);
    const facts = this.ownerFacts(parts.kind, obj);
    const desired = desiredOwnership(facts);
    const current = currentOwnership(obj.metadata);
    if (!needsApply(desired, current, ownManagedFields(obj).length > 0)) return;
    if (justWritten && sameOwnership(justWritten, desired)) return;
    const resource = WORKLOAD_RESOURCES[parts.kind];
    const annotationsChange = !sameStrings(desired.annotations, current.annotations);
    if (annotationsChange) world.ownGenerations.expect(obj);
    let applied: KubeObject;
    try {
      applied = await this.options.apply({
        resource,
        namespace: parts.namespace,
        name: parts.name,
        body: ownershipApplyBody(parts, obj.metadata?.uid, desired),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      world.ownGenerations.forget(obj);
      throw err;
    }
    if (annotationsChange) world.ownGenerations.confirm(obj, applied);
    this.recent.record(key, obj, desired);
    this.recordClaimChange(obj, current.annotations[ENTITY_ANNOTATION], facts?.entity);
  }

  private recordClaimChange(workload: KubeObject, before: string | undefined, after: string | undefined): void {
    if (before === after) return;
    const what = `${workload.kind ?? 'workload'} ${workload.metadata?.name ?? ''}`;
    const lost = before ? this.options.world.entity(before) : undefined;
    // Claims move in bulk (a first install, a relabelled namespace): an entity's claim Events
    // that wait to be sent together are combined into one that lists the workloads.
    if (lost) {
      const note = (list: string, count: number) =>
        after ? `${list} ${count > 1 ? 'are' : 'is'} now claimed by ${after}` : `${list} ${count > 1 ? 'are' : 'is'} no longer claimed`;
      this.options.events.record({
        regarding: lost.obj,
        related: workload,
        reason: 'ClaimLost',
        action: 'Unclaim',
        type: 'Normal',
        note: note(what, 1),
        combine: { group: after ?? '', item: what, note },
      });
    }
    const gained = after ? this.options.world.entity(after) : undefined;
    if (gained) {
      const note = (list: string) => `claimed ${list}`;
      this.options.events.record({
        regarding: gained.obj,
        related: workload,
        reason: 'ClaimGained',
        action: 'Claim',
        type: 'Normal',
        note: note(what),
        combine: { group: '', item: what, note },
      });
    }
  }
}
