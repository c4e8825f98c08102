/**
 * The answers `backlot orphans` and `backlot owners` print, computed from a World with the
 * operator's own claim survey (src/reconcilers/survey.ts), so the command line and the
 * `backlot_orphaned_workload` metric never disagree. Pure.
 */
import { WORKLOAD_KINDS } from '../api/workloads.ts';
import { orphans, surveyClaims, type Orphan } from '../reconcilers/survey.ts';
import type { World } from '../reconcilers/world.ts';
import { ENTITY_KINDS } from '../api/kinds.ts';

const kindRank = (kind: string) => (WORKLOAD_KINDS as readonly string[]).indexOf(kind);

/** The orphaned workloads, by namespace, kind (in API.md's order) and name. */
export function orphanReport(world: World, excludedNamespaces: ReadonlySet<string>): Orphan[] {
  return orphans(world, surveyClaims(world), excludedNamespaces).sort(
    (a, b) => a.namespace.localeCompare(b.namespace) || kindRank(a.kind) - kindRank(b.kind) || a.name.localeCompare(b.name),
  );
}

export interface OwnedEntity {
  /** Canonical reference. */
  ref: string;
  kind: string;
  namespace: string;
  name: string;
  /** The workloads whose claim it holds, `Kind/name`, in its namespace. */
  workloads: string[];
}

export interface OwnerEntry {
  /** The owner's canonical reference, e.g. group:shop/team-payments. */
  owner: string;
  /** Whether the group exists; null when its namespace was not read. */
  found: boolean | null;
  displayName?: string;
  email?: string;
  entities: OwnedEntity[];
}

/**
 * Who owns what: every entity with an owner, grouped by that owner, with the workloads each
 * one holds the claim to. Owners and entities are sorted by reference.
 */
export function ownersReport(world: World, options: { namespaceRead: (namespace: string) => boolean; owner?: string }): OwnerEntry[] {
  const held = new Map<string, string[]>();
  for (const claim of surveyClaims(world)) {
    const holder = claim.claimants[0];
    if (holder !== undefined) held.set(holder, [...(held.get(holder) ?? []), `${claim.kind}/${claim.name}`]);
  }
  const byOwner = new Map<string, OwnedEntity[]>();
  for (const kind of ENTITY_KINDS) {
    for (const obj of world.caches.entities[kind].list()) {
      const parsed = world.parsed(kind, obj);
      const owner = parsed.refs.find((r) => r.field === 'owner')?.ref;
      if (owner === undefined || (options.owner !== undefined && owner !== options.owner)) continue;
      const entity: OwnedEntity = { ref: parsed.ref, kind, namespace: parsed.namespace, name: parsed.name, workloads: held.get(parsed.ref) ?? [] };
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), entity]);
    }
  }
  return [...byOwner.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([owner, entities]) => {
      const group = world.entity(owner);
      const profile = (group?.obj.spec?.profile ?? {}) as { displayName?: string; email?: string };
      const namespace = owner.slice(owner.indexOf(':') + 1, owner.indexOf('/'));
      return {
        owner,
        found: group ? true : options.namespaceRead(namespace) ? false : null,
        ...(profile.displayName ? { displayName: profile.displayName } : {}),
        ...(profile.email ? { email: profile.email } : {}),
        entities: entities.sort((a, b) => a.ref.localeCompare(b.ref)),
      };
    });
}
