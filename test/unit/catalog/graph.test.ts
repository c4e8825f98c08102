import { describe, expect, it } from '@jest/globals';
import { findCycle, formatCycle } from '../../../src/catalog/graph.ts';

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
