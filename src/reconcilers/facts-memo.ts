/**
 * The memos of fact gathering, owned by the World (World.facts): what the statuses of many
 * entities read in common, kept while the world stays at the version it was derived at.
 */
import type { ClaimFacts } from '../catalog/entity-status.ts';

/**
 * What the statuses of many entities read in common: readiness and claims, kept while the
 * world stays at the version they were derived at (any change of the caches moves it). A
 * System reads the health of each of its parts, every dependent its dependencies', an API its
 * providers'; on a restart's first pass, when nothing changes, each is worked out once
 * instead of once per reader. Shared: never change what it holds.
 */
export class Derived {
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
export class Graph {
  readonly dependencies = new Map<string, string[]>();
  /** Whether an entity lies on a dependsOn cycle (see onCycle). */
  readonly onCycle = new Map<string, boolean>();
  readonly version: number;

  constructor(version: number) {
    this.version = version;
  }
}

/**
 * The World's memo of Derived facts: current() hands out the facts of the world's present
 * version, keeping the dependsOn graph's across versions while the entities' specs stay.
 */
export class FactsMemo {
  private known: Derived | undefined;

  /** The facts for a world at `version` whose entities' specs are at `specVersion`. */
  current(version: number, specVersion: number): Derived {
    const known = this.known;
    if (known?.version === version) return known;
    const graph = known?.graph.version === specVersion ? known.graph : new Graph(specVersion);
    return (this.known = new Derived(version, graph));
  }
}

/** The memo's value for `key`, worked out the first time it is asked for. */
export function remembered<V>(memo: Map<string, V>, key: string, workOut: () => V): V {
  let value = memo.get(key);
  if (value === undefined) {
    value = workOut();
    memo.set(key, value);
  }
  return value;
}
