import { describe, expect, it } from '@jest/globals';
import { buildGraph, renderDot, renderMermaid, type GraphEntity, type GraphOptions } from '../../../src/interop/graph.ts';

/** A small shop: web → api-svc → db; worker dependencyOf api-svc; api-svc provides orders-api, web consumes it; a missing and a foreign dependency. */
const ENTITIES: GraphEntity[] = [
  {
    ref: 'component:shop/web',
    refs: [
      { field: 'owner', ref: 'group:shop/team' },
      { field: 'dependsOn', ref: 'component:shop/api-svc' },
      { field: 'consumesApis', ref: 'api:shop/orders-api' },
    ],
  },
  {
    ref: 'component:shop/api-svc',
    refs: [
      { field: 'dependsOn', ref: 'resource:shop/db' },
      { field: 'dependsOn', ref: 'resource:shop/gone' },
      { field: 'dependsOn', ref: 'component:platform/auth' },
      { field: 'providesApis', ref: 'api:shop/orders-api' },
    ],
  },
  { ref: 'component:shop/worker', refs: [{ field: 'dependencyOf', ref: 'component:shop/api-svc' }] },
  { ref: 'resource:shop/db', refs: [] },
  { ref: 'api:shop/orders-api', refs: [{ field: 'system', ref: 'system:shop/s' }] },
  { ref: 'system:shop/s', refs: [] },
  { ref: 'component:shop/lonely', refs: [] },
];

const base: GraphOptions = { apis: false, namespaceRead: (ns) => ns === 'shop' };
const graph = (more: Partial<GraphOptions> = {}) => buildGraph(ENTITIES, { ...base, ...more });

describe('buildGraph', () => {
  it('draws Components and Resources with their dependencies, dependencyOf read from the other side', () => {
    const g = graph();
    expect(g.nodes).toEqual([
      { ref: 'component:platform/auth', state: 'unknown' },
      { ref: 'component:shop/api-svc', state: 'found' },
      { ref: 'component:shop/lonely', state: 'found' },
      { ref: 'component:shop/web', state: 'found' },
      { ref: 'component:shop/worker', state: 'found' },
      { ref: 'resource:shop/db', state: 'found' },
      { ref: 'resource:shop/gone', state: 'missing' },
    ]);
    expect(g.edges.map((e) => `${e.from} ${e.relation} ${e.to}`)).toEqual([
      'component:shop/api-svc dependsOn component:platform/auth',
      'component:shop/api-svc dependsOn component:shop/worker',
      'component:shop/api-svc dependsOn resource:shop/db',
      'component:shop/api-svc dependsOn resource:shop/gone',
      'component:shop/web dependsOn component:shop/api-svc',
    ]);
  });

  it('adds APIs with provides and consumes edges when asked', () => {
    const g = graph({ apis: true });
    expect(g.nodes.map((n) => n.ref)).toContain('api:shop/orders-api');
    expect(g.nodes.map((n) => n.ref)).not.toContain('system:shop/s');
    expect(g.edges.filter((e) => e.relation !== 'dependsOn').map((e) => `${e.from} ${e.relation} ${e.to}`)).toEqual([
      'component:shop/api-svc provides api:shop/orders-api',
      'component:shop/web consumes api:shop/orders-api',
    ]);
  });

  it.each([
    [
      'component:shop/web',
      undefined,
      false,
      ['component:platform/auth', 'component:shop/api-svc', 'component:shop/web', 'component:shop/worker', 'resource:shop/db', 'resource:shop/gone'],
    ],
    ['component:shop/web', 0, false, ['component:shop/web']],
    ['component:shop/web', 1, false, ['component:shop/api-svc', 'component:shop/web']],
    ['component:shop/web', 1, true, ['api:shop/orders-api', 'component:shop/api-svc', 'component:shop/web']],
    ['api:shop/orders-api', 1, true, ['api:shop/orders-api', 'component:shop/api-svc']],
    ['resource:shop/db', undefined, false, ['resource:shop/db']],
    ['component:shop/worker', undefined, false, ['component:shop/worker']],
  ])('from %s, depth %s, apis %s: %j', (from, depth, apis, refs) => {
    const g = graph({ from, apis, ...(depth !== undefined ? { depth } : {}) });
    expect(g.nodes.map((n) => n.ref)).toEqual(refs);
    for (const e of g.edges) expect(refs).toEqual(expect.arrayContaining([e.from, e.to]));
  });
});

describe('rendering', () => {
  const g = graph({ apis: true, from: 'component:shop/web', depth: 2 });

  it('renders Mermaid', () => {
    expect(renderMermaid(g)).toBe(
      [
        'flowchart LR',
        '  n1{{"api:shop/orders-api"}}',
        '  n2["component:platform/auth (not read)"]',
        '  n3["component:shop/api-svc"]',
        '  n4["component:shop/web"]',
        '  n5["component:shop/worker"]',
        '  n6[("resource:shop/db")]',
        '  n7[("resource:shop/gone (not found)")]',
        '  n3 -.->|provides| n1',
        '  n3 --> n2',
        '  n3 --> n5',
        '  n3 --> n6',
        '  n3 --> n7',
        '  n4 -.->|consumes| n1',
        '  n4 --> n3',
        '  classDef missing stroke-dasharray: 5 5,stroke:#d33',
        '  class n7 missing',
        '  classDef unknown stroke-dasharray: 5 5',
        '  class n2 unknown',
        '',
      ].join('\n'),
    );
  });

  it('renders DOT', () => {
    expect(renderDot(g)).toBe(
      [
        'digraph backlot {',
        '  rankdir=LR;',
        '  node [fontname="Helvetica"];',
        '  edge [fontname="Helvetica"];',
        '  "api:shop/orders-api" [shape=hexagon];',
        '  "component:platform/auth" [shape=box, style=dashed, label="component:platform/auth (not read)"];',
        '  "component:shop/api-svc" [shape=box];',
        '  "component:shop/web" [shape=box];',
        '  "component:shop/worker" [shape=box];',
        '  "resource:shop/db" [shape=cylinder];',
        '  "resource:shop/gone" [shape=cylinder, style=dashed, label="resource:shop/gone (not found)", color=red];',
        '  "component:shop/api-svc" -> "api:shop/orders-api" [style=dashed, label="provides"];',
        '  "component:shop/api-svc" -> "component:platform/auth";',
        '  "component:shop/api-svc" -> "component:shop/worker";',
        '  "component:shop/api-svc" -> "resource:shop/db";',
        '  "component:shop/api-svc" -> "resource:shop/gone";',
        '  "component:shop/web" -> "api:shop/orders-api" [style=dashed, label="consumes"];',
        '  "component:shop/web" -> "component:shop/api-svc";',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('renders an empty graph as a valid, empty diagram', () => {
    const empty = buildGraph([], base);
    expect(renderMermaid(empty)).toBe('flowchart LR\n');
    expect(renderDot(empty)).toContain('digraph backlot {');
  });
});
