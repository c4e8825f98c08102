import { describe, expect, it } from '@jest/globals';
import { RecentWrites } from '../../../src/reconcilers/recent-writes.ts';

const at = (resourceVersion: string) => ({ metadata: { name: 'x', resourceVersion } });

describe('RecentWrites', () => {
  it('stands for the cache while the cache still holds the version the write was based on', () => {
    const recent = new RecentWrites();
    recent.record('k', at('10'), 'A');
    expect(recent.covers('k', at('10'), 'A')).toBe(true);
    expect(recent.covers('k', at('10'), 'B')).toBe(false);
  });

  it('hands back to the cache once it moves, to the write or to anyone else', () => {
    const recent = new RecentWrites();
    recent.record('k', at('10'), 'A');
    expect(recent.covers('k', at('11'), 'A')).toBe(false);
    expect(recent.size).toBe(0);
  });

  it('knows nothing of keys it never wrote, or forgot', () => {
    const recent = new RecentWrites();
    expect(recent.covers('k', at('1'), 'A')).toBe(false);
    recent.record('k', at('1'), 'A');
    recent.forget('k');
    expect(recent.covers('k', at('1'), 'A')).toBe(false);
  });
});
