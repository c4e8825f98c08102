import { describe, expect, it } from '@jest/globals';
import type { LeaderRecord } from '../../../src/k8s/leases.ts';
import { decide, observe, releasedRecord, validateLeaseTiming } from '../../../src/runtime/lease.ts';

const T0 = 1_000_000;
const held = (holder: string, renewTime = T0, transitions = 3): LeaderRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: T0 - 60_000,
  renewTime,
  leaseTransitions: transitions,
});

describe('decide', () => {
  it.each([
    [
      'no lease: create it',
      undefined,
      undefined,
      T0,
      { kind: 'create', record: { holderIdentity: 'me', acquireTime: T0, renewTime: T0, leaseTransitions: 0, leaseDurationSeconds: 15 } },
    ],
    ['held by another, just observed: wait 15 s from now', held('other'), undefined, T0, { kind: 'held', holder: 'other', expiresAt: T0 + 15_000 }],
    [
      'held by another, observed 14.9 s ago unchanged: still wait',
      held('other'),
      { record: held('other'), observedAt: T0 - 14_900 },
      T0,
      { kind: 'held', expiresAt: T0 + 100 },
    ],
    [
      'held by another, unchanged for 15 s: take it over',
      held('other'),
      { record: held('other'), observedAt: T0 - 15_000 },
      T0,
      { kind: 'update', record: { holderIdentity: 'me', acquireTime: T0, renewTime: T0, leaseTransitions: 4 } },
    ],
    [
      'held by another, renewed since last observed: the clock restarts',
      held('other', T0 + 1),
      { record: held('other'), observedAt: T0 - 60_000 },
      T0 + 5,
      { kind: 'held', expiresAt: T0 + 5 + 15_000 },
    ],
    [
      'released (no holder): take it at once',
      { ...held(''), leaseDurationSeconds: 1 },
      undefined,
      T0,
      { kind: 'update', record: { holderIdentity: 'me', leaseTransitions: 4, leaseDurationSeconds: 15 } },
    ],
    [
      'held by me: renew, keeping acquireTime and transitions',
      held('me'),
      undefined,
      T0 + 2_000,
      { kind: 'update', record: { holderIdentity: 'me', acquireTime: T0 - 60_000, renewTime: T0 + 2_000, leaseTransitions: 3 } },
    ],
  ] as const)('%s', (_name, current, observation, now, expected) => {
    expect(decide({ identity: 'me', now, leaseDurationSeconds: 15, current, observation })).toMatchObject(expected);
  });

  it('judges expiry by the duration the holder wrote', () => {
    const short = { ...held('other'), leaseDurationSeconds: 5 };
    expect(decide({ identity: 'me', now: T0 + 5_000, leaseDurationSeconds: 15, current: short, observation: { record: short, observedAt: T0 } }).kind).toBe(
      'update',
    );
  });
});

describe('observe', () => {
  it('keeps the first observation time while the record is unchanged, restarts it on change', () => {
    const first = observe(undefined, held('a'), T0);
    expect(observe(first, held('a'), T0 + 9_000)).toBe(first);
    expect(observe(first, held('a', T0 + 2_000), T0 + 9_000)).toEqual({ record: held('a', T0 + 2_000), observedAt: T0 + 9_000 });
  });
});

describe('releasedRecord', () => {
  it('empties the holder and shortens the duration to 1 s', () => {
    expect(releasedRecord(held('me'), T0 + 1)).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: T0 + 1,
      renewTime: T0 + 1,
      leaseTransitions: 3,
    });
  });
});

describe('validateLeaseTiming', () => {
  it('accepts the defaults', () => {
    expect(() => validateLeaseTiming({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).not.toThrow();
  });
  it.each([
    [
      { leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 },
      'lease duration (10000 ms) must be greater than the renew deadline (10000 ms)',
    ],
    [
      { leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 },
      'renew deadline (2000 ms) must be greater than 1.2 × the retry period (2000 ms)',
    ],
    [{ leaseDurationMs: 15_500, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, 'lease duration must be whole seconds (got 15500 ms)'],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }, 'retry period must be > 0 (got 0 ms)'],
  ])('rejects %o', (timing, message) => {
    expect(() => validateLeaseTiming(timing)).toThrow(message);
  });
});
