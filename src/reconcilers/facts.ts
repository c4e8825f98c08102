/**
 * Gathering: reads the World into the plain inputs of the pure decisions in src/catalog.
 * Nothing here writes or decides; it only looks things up. Workloads are read through
 * workload-facts.ts, other entities' health through the ReadinessOracle, and what many
 * statuses read in common is kept in the World's FactsMemo.
 */
import type { EntityKind, EntityObject } from '../api/kinds.ts';
import type { Condition } from '../api/status.ts';
import type { DependencyFacts, EntityFacts, PartFacts, PartKey } from '../catalog/entity-status.ts';
import { findCycle, onCycle } from '../catalog/graph.ts';
import type { ParsedEntity } from './entities.ts';
import { remembered, type Derived } from './facts-memo.ts';
import { ReadinessOracle } from './readiness-oracle.ts';
import { claimFacts, collator } from './workload-facts.ts';
import type { World } from './world.ts';

export function conditionsOf(obj: EntityObject | undefined): Condition[] | undefined {
  return obj?.status?.conditions;
}

/**
 * An entity's dependencies: what its dependsOn names, and every entity that names it in
 * dependencyOf (Backstage's two ways of writing the same edge) from a namespace that its own
 * accepts relations from.
 * Sorted; shared (memoized, see Derived): never change it.
 */
export function dependencyRefs(world: World, entity: ParsedEntity, known: Derived = world.derived()): string[] {
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

function partFacts(
  world: World,
  oracle: ReadinessOracle,
  entity: ParsedEntity,
  parts: readonly { kind: EntityKind; field: string; key: PartKey }[],
): PartFacts {
  const counts: Partial<Record<PartKey, { total: number; ready: number }>> = {};
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
  const known = world.derived();
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
