/**
 * A survey of every workload in the cache: who claims it, whether it is an orphan, and the
 * owner its Namespace names. Metrics render it at scrape time; `backlot orphans` prints it.
 */
import { WORKLOAD_KINDS, type WorkloadKind } from '../api/workloads.ts';
import { isIgnored } from '../catalog/claims.ts';
import { OWNER_LABEL, OWNER_NAMESPACE_LABEL } from '../catalog/ownership.ts';
import type { KubeObject } from '../k8s/object.ts';
import { NAMESPACE_INDEX } from '../runtime/store.ts';
import { claimTarget, workloadClaimants } from './workload-facts.ts';
import type { World } from './world.ts';

/** The namespaces whose workloads are never orphans, besides Backlot's own. */
export const DEFAULT_EXCLUDED_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'] as const;

export interface SurveyedWorkload {
  namespace: string;
  kind: WorkloadKind;
  name: string;
  /** Canonical references of every claimant, the holder of the claim first. */
  claimants: string[];
  /** Controlled by another object (ownerReference with controller: true): it belongs with that. */
  controlled: boolean;
}

export interface Orphan {
  namespace: string;
  kind: WorkloadKind;
  name: string;
  /** The backlot.dev/owner label of its Namespace, '' when there is none. */
  namespaceOwner: string;
  /**
   * The namespace of that owner Group: its Namespace's backlot.dev/owner-namespace label, else
   * the namespace itself; '' when there is no owner.
   */
  namespaceOwnerNamespace: string;
}

/** The API server's own Service, default/kubernetes: part of the cluster, owned by nobody's team. */
function isApiServerService(kind: WorkloadKind, obj: KubeObject): boolean {
  return kind === 'Service' && obj.metadata?.namespace === 'default' && obj.metadata?.name === 'kubernetes' && obj.metadata?.labels?.provider === 'kubernetes';
}

function hasController(obj: KubeObject): boolean {
  const owners = (obj.metadata?.ownerReferences ?? []) as { controller?: boolean }[];
  return owners.some((o) => o.controller === true);
}

/** The namespaces that hold at least one workload, sorted. */
export function workloadNamespaces(world: World): string[] {
  const namespaces = new Set<string>();
  for (const kind of WORKLOAD_KINDS) for (const namespace of world.caches.workloads[kind].indexValues(NAMESPACE_INDEX)) namespaces.add(namespace);
  return [...namespaces].sort();
}

/** The workloads of one namespace that Backlot considers (ignored ones left out), with their claimants. */
export function surveyNamespace(world: World, namespace: string): SurveyedWorkload[] {
  const out: SurveyedWorkload[] = [];
  const claimants = world.claimants(namespace);
  for (const kind of WORKLOAD_KINDS) {
    for (const obj of world.workloadsIn(kind, namespace)) {
      const target = claimTarget(kind, obj);
      if (isIgnored(target) || isApiServerService(kind, obj)) continue;
      out.push({
        namespace,
        kind,
        name: target.name,
        claimants: workloadClaimants(world, kind, obj, claimants).map((c) => c.ref),
        controlled: hasController(obj),
      });
    }
  }
  return out;
}

/** Every workload Backlot considers (ignored ones left out), with its claimants, namespace by namespace. */
export function surveyClaims(world: World): SurveyedWorkload[] {
  return workloadNamespaces(world).flatMap((namespace) => surveyNamespace(world, namespace));
}

/** The workloads nobody claims, outside the excluded namespaces. */
export function orphans(world: World, claims: readonly SurveyedWorkload[], excludedNamespaces: ReadonlySet<string>): Orphan[] {
  return claims
    .filter((c) => c.claimants.length === 0 && !c.controlled && !excludedNamespaces.has(c.namespace))
    .map((c) => ({ namespace: c.namespace, kind: c.kind, name: c.name, ...namespaceOwner(world, c.namespace) }));
}

/** The owner a Namespace names for its orphans (labels set by whoever administers the Namespace). */
function namespaceOwner(world: World, namespace: string): { namespaceOwner: string; namespaceOwnerNamespace: string } {
  const labels = world.namespace(namespace)?.metadata?.labels;
  const owner = labels?.[OWNER_LABEL] ?? '';
  return { namespaceOwner: owner, namespaceOwnerNamespace: owner === '' ? '' : (labels?.[OWNER_NAMESPACE_LABEL] ?? namespace) };
}
