import { describe, expect, it } from '@jest/globals';
import { buildConditions, isTrue } from '../../../src/catalog/condition-set.ts';

const t0 = '2026-11-01T10:00:00Z';
const now = new Date('2026-11-21T12:34:56.789Z');

describe('buildConditions', () => {
  const before = [{ type: 'Ready', status: 'True' as const, reason: 'AllWorkloadsReady', message: '', lastTransitionTime: t0, observedGeneration: 1 }];

  it('keeps lastTransitionTime while the status holds, even when reason or message change', () => {
    const [ready] = buildConditions(
      before,
      [{ type: 'Ready', status: 'True', reason: 'AllWorkloadsReady', message: '2 workloads', observedGeneration: 2 }],
      now,
    );
    expect(ready).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'AllWorkloadsReady',
      message: '2 workloads',
      observedGeneration: 2,
      lastTransitionTime: t0,
    });
  });

  it('moves lastTransitionTime, in whole seconds, when the status changes', () => {
    const [ready] = buildConditions(before, [{ type: 'Ready', status: 'False', reason: 'WorkloadsNotReady', message: 'x', observedGeneration: 1 }], now);
    expect(ready!.lastTransitionTime).toBe('2026-11-21T12:34:56Z');
  });

  it('stamps a new condition with now', () => {
    const out = buildConditions(undefined, [{ type: 'RefsResolved', status: 'True', reason: 'AllRefsResolved', message: '' }], now);
    expect(out[0]!.lastTransitionTime).toBe('2026-11-21T12:34:56Z');
    expect(isTrue(out, 'RefsResolved')).toBe(true);
    expect(isTrue(out, 'Ready')).toBe(false);
  });
});
