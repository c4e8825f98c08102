/**
 * Whom a change concerns: the entities whose status may move when an entity's spec, or its
 * health, changes. The triggers (triggers.ts) put these keys on the queues.
 */
import type { EntityKind } from '../api/kinds.ts';
import type { ParsedEntity } from './entities.ts';
import type { World } from './world.ts';

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
