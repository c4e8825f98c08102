/**
 * The readiness oracle: any entity's own health, computed from the world.
 */
import type { ParsedEntity } from './entities.ts';
import type { Derived } from './facts-memo.ts';
import { claimFacts } from './workload-facts.ts';
import type { World } from './world.ts';

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

  constructor(world: World, known: Derived = world.derived()) {
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
        return (['Component', 'Resource', 'API'] as const).every((kind) =>
          world.acceptedNaming(kind, 'system', entity.ref).every((p) => this.ready(p.parsed.ref)),
        );
      case 'Domain':
        return world.acceptedNaming('System', 'domain', entity.ref).every((p) => this.ready(p.parsed.ref));
      case 'Group':
        return entity.refs.every((r) => r.ref.startsWith('user:') || (world.exists(r.ref) && world.relationAccepted(entity, r)));
    }
  }
}
