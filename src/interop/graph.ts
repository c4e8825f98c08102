/**
 * The dependency graph of a catalog, and its rendering as Mermaid or Graphviz DOT.
 *
 * Nodes are Components and Resources (and APIs when asked for). Edges point at what an
 * entity needs: `A → B` when A names B in dependsOn or B names A in dependencyOf (Backstage's
 * two spellings of one edge), `A → API` when A consumes it, and `P → API` labelled
 * "provides". A walk from one entity follows dependencies, consumed APIs, and from an API the
 * components that provide it. Pure: the entities come in, text goes out.
 */
import { ENTITY_REF_KINDS } from '../api/refs.ts';

export type Relation = 'dependsOn' | 'consumes' | 'provides';

/** An entity as the graph needs it: its canonical reference and the references of its spec. */
export interface GraphEntity {
  /** Canonical, e.g. component:shop/checkout. */
  ref: string;
  refs: readonly { field: string; ref: string }[];
}

export interface GraphNode {
  ref: string;
  /** `found` is in the catalog; `missing` is referenced, in a namespace that was read, but absent; `unknown` lies outside what was read. */
  state: 'found' | 'missing' | 'unknown';
}

export interface GraphEdge {
  from: string;
  to: string;
  relation: Relation;
}

export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface GraphOptions {
  /** Include APIs and the provides/consumes edges. */
  apis: boolean;
  /** Only what is reachable from this entity (canonical reference). */
  from?: string;
  /** How many edges away from `from` to go; unlimited when absent. */
  depth?: number;
  /** Whether the catalog was read in the namespace of a reference, so an absent entity is really missing. */
  namespaceRead: (namespace: string) => boolean;
}

const kindOf = (ref: string) => ref.slice(0, ref.indexOf(':'));
const namespaceOf = (ref: string) => ref.slice(ref.indexOf(':') + 1, ref.indexOf('/'));
const GRAPH_KINDS = new Set(['component', 'resource']);

function allEdges(entities: readonly GraphEntity[], apis: boolean): GraphEdge[] {
  const edges = new Map<string, GraphEdge>();
  const add = (from: string, to: string, relation: Relation) => edges.set(`${from} ${relation} ${to}`, { from, to, relation });
  for (const e of entities) {
    if (!GRAPH_KINDS.has(kindOf(e.ref))) continue;
    for (const r of e.refs) {
      if (r.field === 'dependsOn') add(e.ref, r.ref, 'dependsOn');
      else if (r.field === 'dependencyOf') add(r.ref, e.ref, 'dependsOn');
      else if (apis && r.field === 'consumesApis') add(e.ref, r.ref, 'consumes');
      else if (apis && r.field === 'providesApis') add(e.ref, r.ref, 'provides');
    }
  }
  return [...edges.values()];
}

/** Where a walk goes next from a node: along dependsOn and consumes edges, from an API to its providers. */
function neighbours(edges: readonly GraphEdge[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const link = (a: string, b: string) => out.set(a, [...(out.get(a) ?? []), b]);
  for (const e of edges) {
    if (e.relation === 'provides') {
      link(e.to, e.from);
      link(e.from, e.to);
    } else link(e.from, e.to);
  }
  return out;
}

function reachable(start: string, edges: readonly GraphEdge[], depth: number | undefined): Set<string> {
  const next = neighbours(edges);
  const seen = new Set([start]);
  let frontier = [start];
  for (let level = 0; frontier.length > 0 && (depth === undefined || level < depth); level++) {
    const following: string[] = [];
    for (const ref of frontier) {
      for (const n of next.get(ref) ?? []) {
        if (seen.has(n)) continue;
        seen.add(n);
        following.push(n);
      }
    }
    frontier = following;
  }
  return seen;
}

export function buildGraph(entities: readonly GraphEntity[], options: GraphOptions): Graph {
  const known = new Set(entities.map((e) => e.ref));
  let edges = allEdges(entities, options.apis);
  const nodeRefs = new Set<string>();
  for (const e of entities) if (GRAPH_KINDS.has(kindOf(e.ref)) || (options.apis && kindOf(e.ref) === 'api')) nodeRefs.add(e.ref);
  for (const e of edges) nodeRefs.add(e.from).add(e.to);
  if (options.from !== undefined) {
    const keep = reachable(options.from, edges, options.depth);
    for (const ref of [...nodeRefs]) if (!keep.has(ref)) nodeRefs.delete(ref);
    edges = edges.filter((e) => nodeRefs.has(e.from) && nodeRefs.has(e.to));
  }
  const nodes = [...nodeRefs]
    .sort()
    .map((ref): GraphNode => ({ ref, state: known.has(ref) ? 'found' : options.namespaceRead(namespaceOf(ref)) ? 'missing' : 'unknown' }));
  edges.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.relation.localeCompare(b.relation));
  return { nodes, edges };
}

const MERMAID_SHAPE: Record<string, (label: string) => string> = {
  component: (l) => `["${l}"]`,
  resource: (l) => `[("${l}")]`,
  api: (l) => `{{"${l}"}}`,
};

const NOTE = { found: '', missing: ' (not found)', unknown: ' (not read)' } as const;

/** A Mermaid flowchart, left to right; node ids are n1, n2... in reference order. */
export function renderMermaid(graph: Graph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.ref, `n${i + 1}`]));
  const lines = ['flowchart LR'];
  for (const n of graph.nodes) lines.push(`  ${ids.get(n.ref)}${(MERMAID_SHAPE[kindOf(n.ref)] ?? MERMAID_SHAPE.component!)(`${n.ref}${NOTE[n.state]}`)}`);
  for (const e of graph.edges) {
    const arrow = e.relation === 'dependsOn' ? '-->' : `-.->|${e.relation}|`;
    lines.push(`  ${ids.get(e.from)} ${arrow} ${ids.get(e.to)}`);
  }
  for (const state of ['missing', 'unknown'] as const) {
    const members = graph.nodes.filter((n) => n.state === state).map((n) => ids.get(n.ref));
    if (members.length === 0) continue;
    lines.push(`  classDef ${state} stroke-dasharray: 5 5${state === 'missing' ? ',stroke:#d33' : ''}`);
    lines.push(`  class ${members.join(',')} ${state}`);
  }
  return `${lines.join('\n')}\n`;
}

const DOT_SHAPE: Record<string, string> = { component: 'box', resource: 'cylinder', api: 'hexagon' };

/** A Graphviz digraph; nodes are named by their references. */
export function renderDot(graph: Graph): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = ['digraph backlot {', '  rankdir=LR;', '  node [fontname="Helvetica"];', '  edge [fontname="Helvetica"];'];
  for (const n of graph.nodes) {
    const attrs = [`shape=${DOT_SHAPE[kindOf(n.ref)] ?? 'box'}`];
    if (n.state !== 'found') attrs.push('style=dashed', `label=${q(`${n.ref}${NOTE[n.state]}`)}`);
    if (n.state === 'missing') attrs.push('color=red');
    lines.push(`  ${q(n.ref)} [${attrs.join(', ')}];`);
  }
  for (const e of graph.edges) lines.push(`  ${q(e.from)} -> ${q(e.to)}${e.relation === 'dependsOn' ? '' : ` [style=dashed, label=${q(e.relation)}]`};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** The kinds a graph's `--from` may start at. */
export const GRAPH_START_KINDS: readonly string[] = ENTITY_REF_KINDS.filter((k) => k === 'component' || k === 'resource' || k === 'api');
