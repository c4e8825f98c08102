import { describe, expect, it } from '@jest/globals';
import { RecentWrites } from '../../../src/reconcilers/recent-writes.ts';

const at = (resourceVersion: string) => ({ metadata: { name: 'x', resourceVersion } });

describe('RecentWrites', () => {
  it('stands for the cache while the cache still holds the version the write was based on', () => {
    const recent = new RecentWrites<string>();
    recent.record('k', at('10'), 'A');
    expect(recent.pending('k', at('10'))).toBe('A');
    expect(recent.pending('k', at('10'))).toBe('A');
  });

  it('hands back to the cache once it moves, to the write or to anyone else', () => {
    const recent = new RecentWrites<string>();
    recent.record('k', at('10'), 'A');
    expect(recent.pending('k', at('11'))).toBeUndefined();
    expect(recent.size).toBe(0);
  });

  it('knows nothing of keys it never wrote, or forgot', () => {
    const recent = new RecentWrites<string>();
    expect(recent.pending('k', at('1'))).toBeUndefined();
    recent.record('k', at('1'), 'A');
    recent.forget('k');
    expect(recent.pending('k', at('1'))).toBeUndefined();
  });
});
