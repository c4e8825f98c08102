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

/** The most entities formatCycle names; a longer cycle's middle is counted. */
const CYCLE_NAMED = 12;

/** "a → b → a"; a long cycle "a → b → ... and N more → a", so a status message stays bounded. */
export function formatCycle(cycle: readonly string[]): string {
  if (cycle.length <= CYCLE_NAMED) return cycle.join(' → ');
  const head = cycle.slice(0, CYCLE_NAMED - 1);
  return `${head.join(' → ')} → ... and ${cycle.length - CYCLE_NAMED} more → ${cycle.at(-1)!}`;
}

/**
 * Whether `start` lies on a cycle: whether it shares a strongly connected component with
 * another entity, or depends on itself. Tarjan's algorithm over what `start` reaches; every
 * entity whose component it completes goes into `known`, and entities already there are not
 * walked again (a component is whole once found: anything on a cycle with an entity in
 * `known` was reached, and so decided, when that entity was). For one graph, then, deciding
 * every entity costs one walk of the graph, where findCycle from each would walk what each
 * reaches. `known` must be dropped when the graph changes.
 */
export function onCycle(start: string, edges: Edges, known: Map<string, boolean>): boolean {
  const decided = known.get(start);
  if (decided !== undefined) return decided;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const selfLoops = new Set<string>();
  // Iterative, keeping the walk's frames, so deep graphs cannot overflow the stack.
  const frames: { ref: string; next: Iterator<string> }[] = [];
  const visit = (ref: string) => {
    index.set(ref, index.size);
    low.set(ref, index.get(ref)!);
    stack.push(ref);
    onStack.add(ref);
    frames.push({ ref, next: edges(ref)[Symbol.iterator]() });
  };
  visit(start);
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    const step = frame.next.next();
    if (!step.done) {
      const to = step.value;
      if (to === frame.ref) selfLoops.add(to);
      if (known.has(to)) continue;
      if (!index.has(to)) visit(to);
      else if (onStack.has(to)) low.set(frame.ref, Math.min(low.get(frame.ref)!, index.get(to)!));
      continue;
    }
    frames.pop();
    const parent = frames[frames.length - 1];
    if (parent) low.set(parent.ref, Math.min(low.get(parent.ref)!, low.get(frame.ref)!));
    if (low.get(frame.ref) !== index.get(frame.ref)) continue;
    // frame.ref is the root of a component: it and everything above it on the stack.
    const members: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      members.push(member);
    } while (member !== frame.ref);
    for (const m of members) known.set(m, members.length > 1 || selfLoops.has(m));
  }
  return known.get(start)!;
}
