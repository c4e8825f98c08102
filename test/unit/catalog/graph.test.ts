import { describe, expect, it } from '@jest/globals';
import { findCycle, formatCycle, onCycle } from '../../../src/catalog/graph.ts';

const graph = (edges: Record<string, string[]>) => (ref: string) => edges[ref] ?? [];

describe('findCycle', () => {
  it.each([
    ['no dependencies', { a: [] }, 'a', undefined],
    ['a chain', { a: ['b'], b: ['c'] }, 'a', undefined],
    ['a self-dependency', { a: ['a'] }, 'a', ['a', 'a']],
    ['a two-cycle', { a: ['b'], b: ['a'] }, 'a', ['a', 'b', 'a']],
    ['a longer cycle behind a diamond', { a: ['b', 'c'], b: ['d'], c: ['d'], d: ['e'], e: ['a'] }, 'a', ['a', 'b', 'd', 'e', 'a']],
    ['a cycle that does not pass through the start', { a: ['b'], b: ['c'], c: ['b'] }, 'a', undefined],
    ['missing nodes', { a: ['ghost'] }, 'a', undefined],
  ])('%s', (_name, edges, start, expected) => {
    expect(findCycle(start, graph(edges))).toEqual(expected);
  });

  it('walks a deep chain without recursion', () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 50_000; i++) edges[`n${i}`] = [`n${i + 1}`];
    edges.n50000 = ['n0'];
    expect(findCycle('n0', graph(edges), 100_000)).toHaveLength(50_002);
  });

  it('formats a cycle for a message', () => {
    expect(formatCycle(['component:shop/a', 'component:shop/b', 'component:shop/a'])).toBe('component:shop/a → component:shop/b → component:shop/a');
  });
});

describe('onCycle', () => {
  const cases: [string, Record<string, string[]>][] = [
    ['no dependencies', { a: [] }],
    ['a chain', { a: ['b'], b: ['c'] }],
    ['a self-dependency', { a: ['a'], b: ['a'] }],
    ['a two-cycle', { a: ['b'], b: ['a'], c: ['a'] }],
    ['a longer cycle behind a diamond', { a: ['b', 'c'], b: ['d'], c: ['d'], d: ['e'], e: ['a'], f: ['c'] }],
    ['a cycle that does not pass through the start', { a: ['b'], b: ['c'], c: ['b'] }],
    ['two cycles joined by an edge', { a: ['b'], b: ['a', 'c'], c: ['d'], d: ['c', 'e'], e: [] }],
    ['missing nodes', { a: ['ghost'] }],
  ];

  it.each(cases)('agrees with findCycle for every entity of %s, in every order of asking', (_name, edges) => {
    const nodes = [...new Set([...Object.keys(edges), ...Object.values(edges).flat()])];
    const expected = Object.fromEntries(nodes.map((n) => [n, findCycle(n, graph(edges)) !== undefined]));
    for (const order of [nodes, [...nodes].reverse()]) {
      const known = new Map<string, boolean>();
      expect(Object.fromEntries(order.map((n) => [n, onCycle(n, graph(edges), known)]))).toEqual(expected);
      // One walk decided every entity it reached.
      expect([...known.keys()].sort()).toEqual([...nodes].sort());
    }
  });

  it('walks each entity once for the whole graph, however many are asked', () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 1_000; i++) edges[`n${i}`] = i + 1 < 1_000 ? [`n${i + 1}`] : [];
    let walked = 0;
    const counting = (ref: string) => {
      walked++;
      return edges[ref] ?? [];
    };
    const known = new Map<string, boolean>();
    for (let i = 999; i >= 0; i--) expect(onCycle(`n${i}`, counting, known)).toBe(false);
    expect(walked).toBe(1_000);
  });

  it('decides a deep cycle without recursion', () => {
    const edges: Record<string, string[]> = {};
    for (let i = 0; i < 50_000; i++) edges[`n${i}`] = [`n${i + 1}`];
    edges.n50000 = ['n0'];
    const known = new Map<string, boolean>();
    expect(onCycle('n0', graph(edges), known)).toBe(true);
    expect(known.size).toBe(50_001);
  });
});
