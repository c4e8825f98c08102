/**
 * Gathering: reads the World into the plain inputs of the pure decisions in src/catalog.
 * Nothing here writes or decides; it only looks things up.
 */
import type { V1CronJob, V1DaemonSet, V1Deployment, V1EndpointSlice, V1Job, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import type { Condition } from '../api/status.ts';
import type { WorkloadKind } from '../api/workloads.ts';
import { isIgnored, type Claimant, type ClaimantIndex, type ClaimTarget } from '../catalog/claims.ts';
import type { ClaimedWorkload, ClaimFacts, DependencyFacts, EntityFacts, LostWorkload, PartFacts } from '../catalog/entity-status.ts';
import { findCycle, onCycle } from '../catalog/graph.ts';
import { cronJobReadiness, daemonSetReadiness, deploymentReadiness, serviceReadiness, statefulSetReadiness, type Readiness } from '../catalog/readiness.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { ParsedEntity, World } from './world.ts';
import { ENTITY_KINDS, type EntityKind, type EntityObject } from '../api/kinds.ts';

export function conditionsOf(obj: EntityObject | undefined): Condition[] | undefined {
  return obj?.status?.conditions;
}

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

/**
 * What the statuses of many entities read in common: readiness and claims, kept while the
 * world stays at the version they were derived at (any change of the caches moves it). A
 * System reads the health of each of its parts, every dependent its dependencies', an API its
 * providers'; on a restart's first pass, when nothing changes, each is worked out once
 * instead of once per reader. Shared: never change what it holds.
 */
class Derived {
  readonly ready = new Map<string, boolean>();
  readonly claims = new Map<string, ClaimFacts>();
  /** The dependsOn graph's facts, which outlive this (see Graph). */
  readonly graph: Graph;
  readonly version: number;

  constructor(version: number, graph: Graph) {
    this.version = version;
    this.graph = graph;
  }
}

/**
 * The dependsOn graph's facts: each entity's dependencies and whether it lies on a cycle.
 * They are made of the entities' specs alone, so they are kept until an entity is added,
 * deleted or changes other than in status (World.entitySpecVersion), through the status
 * writes and workload changes that move the world's version on nearly every reconcile: a
 * dependsOn chain of thousands would otherwise be walked again by each of its members.
 * Shared: never change what it holds.
 */
class Graph {
  readonly dependencies = new Map<string, string[]>();
  /** Whether an entity lies on a dependsOn cycle (see onCycle). */
  readonly onCycle = new Map<string, boolean>();
  readonly version: number;

  constructor(version: number) {
    this.version = version;
  }
}

const derivedByWorld = new WeakMap<World, Derived>();

function derived(world: World): Derived {
  const version = world.version;
  let known = derivedByWorld.get(world);
  if (known?.version !== version) {
    const specVersion = world.entitySpecVersion;
    known = new Derived(version, known?.graph.version === specVersion ? known.graph : new Graph(specVersion));
    derivedByWorld.set(world, known);
  }
  return known;
}

function remembered<V>(memo: Map<string, V>, key: string, workOut: () => V): V {
  let value = memo.get(key);
  if (value === undefined) {
    value = workOut();
    memo.set(key, value);
  }
  return value;
}

/**
 * The own health (the Ready condition's status) of any entity, computed from the world rather
 * than read from the status it was last written with. An entity's status depends on others'
 * health (dependencies, a system's parts, an API's providers); reading it from the world
 * means every entity converges in one write, whatever order the reconciles run in, instead of
 * rippling through stale statuses. Memoized while the world does not change (see Derived).
 */
export class ReadinessOracle {
  private readonly world: World;
  private readonly derived: Derived;
  private readonly memo: Map<string, boolean>;

  constructor(world: World, known: Derived = derived(world)) {
    this.world = world;
    this.derived = known;
    this.memo = known.ready;
  }

  ready(ref: string): boolean {
    const known = this.memo.get(ref);
    if (known !== undefined) return known;
    // Provisional answer while computing, so that a reference loop cannot recurse forever
    // (the kinds' readiness rules form no loop today: a Component's own health reads no other entity's).
    this.memo.set(ref, false);
    let value: boolean;
    try {
      const entity = this.world.entity(ref);
      value = entity ? this.compute(entity.parsed) : false;
    } catch (err) {
      // The memo outlives this reconcile: a provisional answer must not stay in it.
      this.memo.delete(ref);
      throw err;
    }
    this.memo.set(ref, value);
    return value;
  }

  private compute(entity: ParsedEntity): boolean {
    const world = this.world;
    switch (entity.kind) {
      case 'Component':
      case 'Resource': {
        const claim = claimFacts(world, entity, this.derived);
        return !claim.selectorError && claim.won.every((w) => w.ready) && !(claim.won.length === 0 && claim.lost.length > 0);
      }
      case 'API': {
        const providers = world.acceptedNaming('Component', 'providesApis', entity.ref);
        return providers.some((p) => this.ready(p.parsed.ref));
      }
      case 'System':
        return (['Component', 'Resource', 'API'] as const).every((kind) => world.acceptedNaming(kind, 'system', entity.ref).every((p) => this.ready(p.parsed.ref)));
      case 'Domain':
        return world.acceptedNaming('System', 'domain', entity.ref).every((p) => this.ready(p.parsed.ref));
      case 'Group':
        return entity.refs.every((r) => r.ref.startsWith('user:') || (world.exists(r.ref) && world.relationAccepted(entity, r)));
    }
  }
}

/** The workloads a Component or Resource claims, won and lost (memoized, see Derived). */
function claimFacts(world: World, entity: ParsedEntity, known: Derived = derived(world)): ClaimFacts {
  return remembered(known.claims, entity.ref, () => workOutClaims(world, entity));
}

/** Status lists are sorted as people read them; one collator, not one per comparison (localeCompare). */
const collator = new Intl.Collator();

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

/**
 * An entity's dependencies: what its dependsOn names, and every entity that names it in
 * dependencyOf (Backstage's two ways of writing the same edge) from a namespace that its own
 * accepts relations from.
 * Sorted; shared (memoized, see Derived): never change it.
 */
export function dependencyRefs(world: World, entity: ParsedEntity, known: Derived = derived(world)): string[] {
  return remembered(known.graph.dependencies, entity.ref, () => workOutDependencies(world, entity));
}

function workOutDependencies(world: World, entity: ParsedEntity): string[] {
  const refs = new Set(entity.refs.filter((r) => r.field === 'dependsOn').map((r) => r.ref));
  for (const kind of ['Component', 'Resource'] as const) {
    for (const other of world.acceptedNaming(kind, 'dependencyOf', entity.ref)) refs.add(other.parsed.ref);
  }
  return [...refs].sort();
}

function dependencyFacts(world: World, oracle: ReadinessOracle, entity: ParsedEntity, known: Derived): DependencyFacts {
  const dependencies = dependencyRefs(world, entity, known).map((ref) => {
    const found = world.exists(ref);
    return { ref, found, ready: found && oracle.ready(ref) };
  });
  const edges = (ref: string) => {
    const e = world.entity(ref);
    return e ? dependencyRefs(world, e.parsed, known) : [];
  };
  // The walk that finds the cycle's path runs only for an entity known to lie on one.
  const cycle = onCycle(entity.ref, edges, known.graph.onCycle) ? findCycle(entity.ref, edges) : undefined;
  return cycle ? { dependencies, cycle } : { dependencies };
}

function partFacts(world: World, oracle: ReadinessOracle, entity: ParsedEntity, parts: readonly { kind: EntityKind; field: string; key: string }[]): PartFacts {
  const counts: Record<string, { total: number; ready: number }> = {};
  const notReady: string[] = [];
  for (const { kind, field, key } of parts) {
    const named = world.acceptedNaming(kind, field, entity.ref);
    let ready = 0;
    for (const { parsed } of named) {
      if (oracle.ready(parsed.ref)) ready++;
      else notReady.push(parsed.ref);
    }
    counts[key] = { total: named.length, ready };
  }
  return { counts, notReady: notReady.sort() };
}

/** Everything the status of one entity is decided from. */
export function gatherEntityFacts(world: World, kind: EntityKind, obj: EntityObject): EntityFacts {
  const entity = world.parsed(kind, obj);
  const known = derived(world);
  const oracle = new ReadinessOracle(world, known);
  const facts: EntityFacts = {
    kind,
    generation: obj.metadata?.generation ?? 0,
    previousConditions: conditionsOf(obj),
    refs: entity.refs.map((r) => ({ ...r, found: world.exists(r.ref), accepted: world.relationAccepted(entity, r) })),
  };
  switch (kind) {
    case 'Component':
    case 'Resource':
      facts.claim = claimFacts(world, entity, known);
      facts.dependencies = dependencyFacts(world, oracle, entity, known);
      break;
    case 'System':
      facts.parts = partFacts(world, oracle, entity, [
        { kind: 'Component', field: 'system', key: 'components' },
        { kind: 'Resource', field: 'system', key: 'resources' },
        { kind: 'API', field: 'system', key: 'apis' },
      ]);
      break;
    case 'Domain':
      facts.parts = partFacts(world, oracle, entity, [{ kind: 'System', field: 'domain', key: 'systems' }]);
      break;
    case 'API':
      facts.providers = {
        providers: world
          .acceptedNaming('Component', 'providesApis', entity.ref)
          .map(({ parsed }) => ({ ref: parsed.ref, ready: oracle.ready(parsed.ref) }))
          .sort((a, b) => collator.compare(a.ref, b.ref)),
      };
      break;
    case 'Group':
      break;
  }
  return facts;
}

/**
 * The entities whose status may change when `entity`'s spec changes, is added or deleted:
 * those it references (a System counts its parts, an API its providers) and those that
 * reference it (owners, dependents). Its own key included.
 */
export function affectedEntities(world: World, entity: ParsedEntity): string[] {
  const refs = new Set<string>([entity.ref]);
  for (const r of entity.refs) refs.add(r.ref);
  for (const other of world.referrers(entity.ref)) refs.add(other.ref);
  return [...refs].filter((r) => !r.startsWith('user:'));
}

/** Entities that depend on `entity` directly: they name it in dependsOn, or it names them in dependencyOf. */
function directDependents(world: World, entity: ParsedEntity): string[] {
  const out: string[] = [];
  for (const kind of ['Component', 'Resource'] as const) for (const other of world.naming(kind, 'dependsOn', entity.ref)) out.push(other.parsed.ref);
  for (const r of entity.refs) if (r.field === 'dependencyOf') out.push(r.ref);
  return out;
}

/**
 * `ref` and every entity whose status reads its health, transitively. The ReadinessOracle
 * reads a Component's or Resource's health in its dependents, its System and the APIs it
 * provides; an API's in its System; a System's in its Domain. Statuses are computed from the
 * world, not from each other, so a change of health reaches them all at once, instead of
 * through a chain of status writes.
 */
export function healthReaders(world: World, ref: string, start?: ParsedEntity): string[] {
  const out = new Set<string>([ref]);
  const pending = [ref];
  while (pending.length > 0) {
    const next = pending.pop()!;
    // The entity as the change saw it: deleted, it is gone from the cache, and its old spec
    // names the wholes (its System, that System's Domain) whose health it counted in.
    const entity = next === ref && start ? start : world.entity(next)?.parsed;
    if (!entity) continue;
    const dependents = entity.kind === 'Component' || entity.kind === 'Resource' ? directDependents(world, entity) : [];
    const wholes = entity.refs.filter((r) => HEALTH_WHOLES[entity.kind].includes(r.field)).map((r) => r.ref);
    for (const reader of dependents) out.add(reader);
    // A dependent's own health does not depend on its dependencies; a whole's does, so its readers look too.
    for (const whole of wholes) {
      if (out.has(whole)) continue;
      out.add(whole);
      pending.push(whole);
    }
  }
  return [...out];
}

/** The spec fields naming a whole whose health counts this entity's (a part's System, a provider's API, a System's Domain). */
const HEALTH_WHOLES: Readonly<Record<EntityKind, readonly string[]>> = {
  Component: ['system', 'providesApis'],
  Resource: ['system'],
  API: ['system'],
  System: ['domain'],
  Domain: [],
  Group: [],
};

/**
 * Entities whose dependsOn walk passes through `entity` (its dependents, theirs, and so on):
 * when its dependencies change, a cycle through any of them may start or end.
 */
export function transitiveDependents(world: World, entity: ParsedEntity, limit = 10_000): string[] {
  const out = new Set<string>();
  const pending = [entity];
  while (pending.length > 0 && out.size < limit) {
    for (const ref of directDependents(world, pending.pop()!)) {
      if (out.has(ref)) continue;
      out.add(ref);
      const next = world.entity(ref);
      if (next) pending.push(next.parsed);
    }
  }
  return [...out];
}

export { ENTITY_KINDS };
