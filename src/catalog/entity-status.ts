/**
 * Deciding an entity's status from what was gathered about the world: pure functions, one per
 * condition, so each rule has a table test and the reconciler only gathers and writes.
 */
import { ConditionReason, ConditionType } from '../api/conditions.ts';
import type { AnyEntityStatus } from '../api/kinds.ts';
import { STATUS_LIMITS, type Condition, type DependencyStatus, type PartCount, type WorkloadEntityStatus, type WorkloadStatus } from '../api/status.ts';
import type { WorkloadKind } from '../api/workloads.ts';
import { buildConditions, type DesiredCondition } from './condition-set.ts';
import { formatCycle } from './graph.ts';
import { refNamespace } from './ownership.ts';

/** One reference of the spec, whether it names an existing entity, and whether it takes effect there. */
export interface RefFact {
  field: string;
  ref: string;
  found: boolean;
  /**
   * False when the reference needs the consent of the referenced entity's namespace and that
   * namespace does not accept relations from this one (API.md, "Tenancy"). Default true.
   */
  accepted?: boolean;
}

export interface ClaimedWorkload {
  kind: WorkloadKind;
  name: string;
  ready: boolean;
  replicas?: number;
  readyReplicas?: number;
  /** Why it is not ready. */
  detail: string;
  /** Other entities that also claim it (this entity won). */
  alsoClaimedBy: readonly string[];
}

export interface LostWorkload {
  kind: WorkloadKind;
  name: string;
  /** The entity that holds the claim. */
  heldBy: string;
}

export interface ClaimFacts {
  /** Set when the entity's selector cannot be used. */
  selectorError?: string;
  won: readonly ClaimedWorkload[];
  lost: readonly LostWorkload[];
}

export interface DependencyFacts {
  dependencies: readonly DependencyStatus[];
  /** A dependsOn cycle through this entity, start → … → start. */
  cycle?: readonly string[];
}

/** The kinds of part a System or Domain counts, as its status names them. */
export type PartKey = 'components' | 'resources' | 'apis' | 'systems';

export interface PartFacts {
  /** Per part kind: total and ready. */
  counts: Readonly<Partial<Record<PartKey, PartCount>>>;
  /** The parts that are not Ready, as references. */
  notReady: readonly string[];
}

export interface ProviderFacts {
  providers: readonly { ref: string; ready: boolean }[];
}

const MAX_LISTED = 10;

/** The longest condition message Backlot writes (metav1.Condition allows 32,768). */
export const MESSAGE_MAX_LENGTH = 4096;

/** "a, b, c" or, past `max` items, "a, b, c, ... and 4 more". */
export function listOf(items: readonly string[], max = MAX_LISTED): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, ... and ${items.length - max} more`;
}

/**
 * A message cut to `max` characters, ending "... and N more characters" when cut: every part
 * of a message is bounded, but a message assembled of many of them is bounded once more here.
 */
export function boundedMessage(message: string, max = MESSAGE_MAX_LENGTH): string {
  if (message.length <= max) return message;
  // The suffix's own length depends on N; leave room for the longest it can be.
  const room = max - ' ... and  more characters'.length - String(message.length).length;
  return `${message.slice(0, room)} ... and ${message.length - room} more characters`;
}

function condition(type: string, status: 'True' | 'False' | 'Unknown', reason: string, message: string, generation: number): DesiredCondition {
  return { type, status, reason, message: boundedMessage(message), observedGeneration: generation };
}

/**
 * "not accepted by namespace b: system system:b/s, owner group:b/t; not accepted by namespace
 * c: ...", namespaces in order, at most MAX_LISTED of them.
 */
function notAcceptedMessage(refs: readonly RefFact[]): string {
  const byNamespace = new Map<string, string[]>();
  for (const r of refs) {
    const namespace = refNamespace(r.ref);
    const list = byNamespace.get(namespace);
    if (list) list.push(`${r.field} ${r.ref}`);
    else byNamespace.set(namespace, [`${r.field} ${r.ref}`]);
  }
  const parts = [...byNamespace.keys()].sort().map((namespace) => `not accepted by namespace ${namespace}: ${listOf(byNamespace.get(namespace)!)}`);
  return listOf(parts).replaceAll(', not accepted', '; not accepted');
}

/**
 * RefsResolved. References to users are not checked: Backlot does not model users. A
 * reference that is not found outranks one that is not accepted (the owner first, as alerts
 * route to it); the message names both kinds.
 */
export function refsResolvedCondition(refs: readonly RefFact[], generation: number): DesiredCondition {
  const missing = refs.filter((r) => !r.found && !r.ref.startsWith('user:'));
  const refused = refs.filter((r) => r.found && r.accepted === false);
  if (missing.length === 0 && refused.length === 0)
    return condition(ConditionType.RefsResolved, 'True', ConditionReason.AllRefsResolved, 'every reference names an existing entity', generation);
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`not found: ${listOf(missing.map((r) => `${r.field} ${r.ref}`))}`);
  if (refused.length > 0) parts.push(notAcceptedMessage(refused));
  const reason = missing.some((r) => r.field === 'owner')
    ? ConditionReason.OwnerNotFound
    : missing.length > 0
      ? ConditionReason.RefsNotFound
      : ConditionReason.RelationNotAccepted;
  return condition(ConditionType.RefsResolved, 'False', reason, parts.join('; '), generation);
}

function describeWorkload(w: { kind: string; name: string }): string {
  return `${w.kind} ${w.name}`;
}

/** WorkloadsReady for a Component or Resource. */
export function workloadsReadyCondition(claim: ClaimFacts, generation: number): DesiredCondition {
  const type = ConditionType.WorkloadsReady;
  if (claim.selectorError) return condition(type, 'False', ConditionReason.InvalidSelector, claim.selectorError, generation);
  const notReady = claim.won.filter((w) => !w.ready);
  const conflicts = [
    ...claim.won.filter((w) => w.alsoClaimedBy.length > 0).map((w) => `${describeWorkload(w)} is also claimed by ${listOf(w.alsoClaimedBy, 3)}`),
    ...claim.lost.map((w) => `${describeWorkload(w)} is held by ${w.heldBy}`),
  ];
  const conflictNote = conflicts.length > 0 ? `; claim conflicts: ${listOf(conflicts)}` : '';
  if (notReady.length > 0) {
    const message = `${notReady.length}/${claim.won.length} workloads not ready: ${listOf(notReady.map((w) => `${describeWorkload(w)} (${w.detail})`))}${conflictNote}`;
    return condition(type, 'False', ConditionReason.WorkloadsNotReady, message, generation);
  }
  if (claim.won.length === 0) {
    if (claim.lost.length > 0)
      return condition(type, 'False', ConditionReason.ClaimConflict, `every workload it matches is claimed by an older entity${conflictNote}`, generation);
    return condition(type, 'Unknown', ConditionReason.NoWorkloadsMatched, 'the entity claims no workload in its namespace', generation);
  }
  if (conflicts.length > 0)
    return condition(type, 'True', ConditionReason.ClaimConflict, `all ${claim.won.length} claimed workloads are ready${conflictNote}`, generation);
  return condition(type, 'True', ConditionReason.AllWorkloadsReady, `all ${claim.won.length} claimed workloads are ready`, generation);
}

/** Ready for a Component or Resource: its workloads, never its dependencies. */
export function workloadEntityReadyCondition(workloadsReady: DesiredCondition): DesiredCondition {
  // No workload at all is not a failure: libraries and external services run nothing here.
  const status = workloadsReady.status === 'False' ? 'False' : 'True';
  return { ...workloadsReady, type: ConditionType.Ready, status };
}

/** DependenciesReady: dependsOn, and the entities that name this one in dependencyOf. */
export function dependenciesReadyCondition(facts: DependencyFacts, generation: number): DesiredCondition {
  const type = ConditionType.DependenciesReady;
  if (facts.cycle) return condition(type, 'False', ConditionReason.DependencyCycle, `dependency cycle: ${formatCycle(facts.cycle)}`, generation);
  if (facts.dependencies.length === 0) return condition(type, 'True', ConditionReason.NoDependencies, 'the entity declares no dependencies', generation);
  const missing = facts.dependencies.filter((d) => !d.found).map((d) => d.ref);
  if (missing.length > 0) return condition(type, 'False', ConditionReason.DependencyNotFound, `not found: ${listOf(missing)}`, generation);
  const notReady = facts.dependencies.filter((d) => !d.ready).map((d) => d.ref);
  if (notReady.length > 0) return condition(type, 'False', ConditionReason.DependencyNotReady, `not ready: ${listOf(notReady)}`, generation);
  return condition(type, 'True', ConditionReason.AllDependenciesReady, `all ${facts.dependencies.length} dependencies are ready`, generation);
}

/** Ready for a System or Domain, from its parts. */
export function partsReadyCondition(facts: PartFacts, generation: number): DesiredCondition {
  const total = Object.values(facts.counts).reduce((n, c) => n + c.total, 0);
  const ready = Object.values(facts.counts).reduce((n, c) => n + c.ready, 0);
  if (total === 0) return condition(ConditionType.Ready, 'True', ConditionReason.NoParts, 'nothing names this entity yet', generation);
  if (facts.notReady.length > 0)
    return condition(ConditionType.Ready, 'False', ConditionReason.PartsNotReady, `${ready}/${total} ready; not ready: ${listOf(facts.notReady)}`, generation);
  return condition(ConditionType.Ready, 'True', ConditionReason.AllPartsReady, `all ${total} are ready`, generation);
}

/** Ready for an API: served while at least one provider is Ready. */
export function apiReadyCondition(facts: ProviderFacts, generation: number): DesiredCondition {
  if (facts.providers.length === 0) return condition(ConditionType.Ready, 'Unknown', ConditionReason.NoProviders, 'no component provides this API', generation);
  const ready = facts.providers.filter((p) => p.ready);
  if (ready.length > 0)
    return condition(ConditionType.Ready, 'True', ConditionReason.ProviderReady, `provided by ${listOf(ready.map((p) => p.ref))}`, generation);
  return condition(
    ConditionType.Ready,
    'False',
    ConditionReason.NoProviderReady,
    `no provider is ready: ${listOf(facts.providers.map((p) => p.ref))}`,
    generation,
  );
}

/** Ready for a Group: its references. */
export function groupReadyCondition(refsResolved: DesiredCondition): DesiredCondition {
  const ok = refsResolved.status === 'True';
  return { ...refsResolved, type: ConditionType.Ready, status: ok ? 'True' : 'False', reason: ok ? ConditionReason.Resolved : ConditionReason.Unresolved };
}

/** Everything known about one entity that its status is decided from. */
export interface EntityFacts {
  kind: 'Component' | 'Resource' | 'System' | 'API' | 'Group' | 'Domain';
  generation: number;
  previousConditions: readonly Condition[] | undefined;
  refs: readonly RefFact[];
  claim?: ClaimFacts;
  dependencies?: DependencyFacts;
  parts?: PartFacts;
  providers?: ProviderFacts;
}

/** The status decideStatus writes: one of the kinds' status types, always with its generation and conditions. */
export type DecidedStatus = AnyEntityStatus & { observedGeneration: number; conditions: Condition[] };

/** Status fields of a Component or Resource besides its conditions. */
function workloadStatusFields(claim: ClaimFacts, dependencies: readonly DependencyStatus[]): Omit<WorkloadEntityStatus, 'observedGeneration' | 'conditions'> {
  const workloads: WorkloadStatus[] = claim.won.map((w) => ({
    kind: w.kind,
    name: w.name,
    ready: w.ready,
    ...(w.replicas !== undefined ? { replicas: w.replicas } : {}),
    ...(w.readyReplicas !== undefined ? { readyReplicas: w.readyReplicas } : {}),
  }));
  const readyCount = claim.won.filter((w) => w.ready).length;
  // Empty lists are left out rather than written as []: the API server may drop an empty
  // list, and a status that never compares equal to its stored form would be rewritten forever.
  // Lists are cut to the CRD's limits in their order (kind and name; ref), never refused
  // by the API server: the counts beside them stay whole.
  return {
    ...(workloads.length > 0 ? { workloads: workloads.slice(0, STATUS_LIMITS.workloads) } : {}),
    ...(dependencies.length > 0 ? { dependencies: dependencies.slice(0, STATUS_LIMITS.dependencies) } : {}),
    readyWorkloads: readyCount,
    totalWorkloads: claim.won.length,
    totalDependencies: dependencies.length,
    workloadSummary: `${readyCount}/${claim.won.length}`,
  };
}

/** The status the entity should have, conditions ordered Ready first and RefsResolved last. */
export function decideStatus(facts: EntityFacts, now: Date): DecidedStatus {
  const g = facts.generation;
  const refsResolved = refsResolvedCondition(facts.refs, g);
  const status = (desired: readonly DesiredCondition[]) => ({
    observedGeneration: g,
    conditions: buildConditions(facts.previousConditions, [...desired, refsResolved], now),
  });
  switch (facts.kind) {
    case 'Component':
    case 'Resource': {
      const claim = facts.claim ?? { won: [], lost: [] };
      const workloadsReady = workloadsReadyCondition(claim, g);
      const dependencies = facts.dependencies ?? { dependencies: [] };
      const conditions = [workloadEntityReadyCondition(workloadsReady), workloadsReady, dependenciesReadyCondition(dependencies, g)];
      return { ...status(conditions), ...workloadStatusFields(claim, dependencies.dependencies) };
    }
    case 'System': {
      const parts = facts.parts ?? { counts: {}, notReady: [] };
      const { components, resources, apis } = parts.counts;
      return {
        ...status([partsReadyCondition(parts, g)]),
        ...(components ? { components } : {}),
        ...(resources ? { resources } : {}),
        ...(apis ? { apis } : {}),
      };
    }
    case 'Domain':
      return status([partsReadyCondition(facts.parts ?? { counts: {}, notReady: [] }, g)]);
    case 'API':
      return status([apiReadyCondition(facts.providers ?? { providers: [] }, g)]);
    case 'Group':
      return status([groupReadyCondition(refsResolved)]);
  }
}
