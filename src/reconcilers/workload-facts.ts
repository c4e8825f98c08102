/**
 * A workload as the catalog sees it, read through the World: its claim target, its readiness
 * (with Backlot's own generation bumps taken out), its claimants; and the claims of a
 * Component or Resource, won and lost, with their readiness.
 */
import type { V1CronJob, V1DaemonSet, V1Deployment, V1EndpointSlice, V1Job, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { WorkloadKind } from '../api/workloads.ts';
import { isIgnored, type Claimant, type ClaimantIndex, type ClaimTarget } from '../catalog/claims.ts';
import type { ClaimedWorkload, ClaimFacts, LostWorkload } from '../catalog/entity-status.ts';
import { cronJobReadiness, daemonSetReadiness, deploymentReadiness, serviceReadiness, statefulSetReadiness, type Readiness } from '../catalog/readiness.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { ParsedEntity } from './entities.ts';
import { remembered, type Derived } from './facts-memo.ts';
import type { World } from './world.ts';

export function claimTarget(kind: WorkloadKind, obj: KubeObject): ClaimTarget {
  return {
    kind,
    namespace: obj.metadata?.namespace ?? '',
    name: obj.metadata?.name ?? '',
    labels: obj.metadata?.labels,
    annotations: obj.metadata?.annotations,
  };
}

/** What a workload's readiness reads besides the workload: the World, or a test's stand-in for it. */
export type ReadinessSources = Pick<World, 'ownGenerations' | 'jobsOf' | 'slicesOf'>;

export function workloadReadiness(world: ReadinessSources, kind: WorkloadKind, cached: KubeObject): Readiness {
  const obj = world.ownGenerations.effective(cached);
  switch (kind) {
    case 'Deployment':
      return deploymentReadiness(obj as V1Deployment);
    case 'StatefulSet':
      return statefulSetReadiness(obj as V1StatefulSet);
    case 'DaemonSet':
      return daemonSetReadiness(obj as V1DaemonSet);
    case 'CronJob':
      return cronJobReadiness(obj as unknown as V1CronJob, world.jobsOf(obj.metadata?.uid ?? '') as unknown as V1Job[]);
    case 'Service':
      return serviceReadiness(obj as V1Service, world.slicesOf(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '') as unknown as V1EndpointSlice[]);
  }
}

/** A workload's claimants, winner first; [] for a workload Backlot does not consider. */
export function workloadClaimants(world: World, kind: WorkloadKind, obj: KubeObject, claimants?: ClaimantIndex): Claimant[] {
  const target = claimTarget(kind, obj);
  if (isIgnored(target)) return [];
  return (claimants ?? world.claimants(target.namespace)).claimantsOf(target);
}

/** The workloads a Component or Resource claims, won and lost (memoized, see Derived). */
export function claimFacts(world: World, entity: ParsedEntity, known: Derived = world.derived()): ClaimFacts {
  return remembered(known.claims, entity.ref, () => workOutClaims(world, entity));
}

/** Status lists are sorted as people read them; one collator, not one per comparison (localeCompare). */
export const collator = new Intl.Collator();

function workOutClaims(world: World, entity: ParsedEntity): ClaimFacts {
  if (!entity.claim) return { won: [], lost: [] };
  if (!entity.claim.ok) return { selectorError: entity.claim.message, won: [], lost: [] };
  const me = entity.claim.claimant;
  const won: ClaimedWorkload[] = [];
  const lost: LostWorkload[] = [];
  for (const { kind, name, claimants: all } of world.claimsIn(entity.namespace).byClaimant.get(me.ref) ?? []) {
    const winner = all[0]!;
    if (winner.ref !== me.ref) {
      lost.push({ kind, name, heldBy: winner.ref });
      continue;
    }
    const obj = world.workload(kind, entity.namespace, name);
    if (!obj) continue;
    const r = workloadReadiness(world, kind, obj);
    won.push({
      kind,
      name,
      ready: r.ready,
      detail: r.detail,
      alsoClaimedBy: all.slice(1).map((c) => c.ref),
      ...(r.replicas !== undefined ? { replicas: r.replicas } : {}),
      ...(r.readyReplicas !== undefined ? { readyReplicas: r.readyReplicas } : {}),
    });
  }
  const order = (a: { kind: string; name: string }, b: { kind: string; name: string }) => collator.compare(a.kind, b.kind) || collator.compare(a.name, b.name);
  return { won: won.sort(order), lost: lost.sort(order) };
}
