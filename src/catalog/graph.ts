/**
 * The dependsOn graph. Cycles are found by a depth-first walk from one entity, bounded by what
 * it can reach, so reconciling an entity never recomputes the whole graph.
 */

/** Returns the entity's direct dependencies (canonical references). */
export type Edges = (ref: string) => Iterable<string>;

/**
 * A cycle through `start` — the path start → … → start — or undefined when following dependsOn
 * from `start` never leads back to it. Cycles that do not pass through `start` are its
 * dependencies' concern, and are reported on them.
 */
export function findCycle(start: string, edges: Edges, limit = 10_000): string[] | undefined {
  const visited = new Set<string>();
  // Iterative DFS keeping the current path, so deep graphs cannot overflow the stack.
  const path: string[] = [start];
  const iterators: Iterator<string>[] = [edges(start)[Symbol.iterator]()];
  visited.add(start);
  while (iterators.length > 0) {
    const next = iterators[iterators.length - 1]!.next();
    if (next.done) {
      iterators.pop();
      path.pop();
      continue;
    }
    const ref = next.value;
    if (ref === start) return [...path, start];
    if (visited.has(ref) || visited.size >= limit) continue;
    visited.add(ref);
    path.push(ref);
    iterators.push(edges(ref)[Symbol.iterator]());
  }
  return undefined;
}

/** "a → b → a" */
export function formatCycle(cycle: readonly string[]): string {
  return cycle.join(' → ');
}
