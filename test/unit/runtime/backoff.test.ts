import { describe, expect, it } from '@jest/globals';
import { Backoff, backoffDelay, DEFAULT_RECONNECT_BACKOFF, validateBackoffPolicy } from '../../../src/runtime/backoff.ts';

describe('backoffDelay', () => {
  const policy = { initialMs: 100, maxMs: 1_000, factor: 2, jitter: 0.5 };
  it.each([
    // failures, random, expected
    [1, 0, 100],
    [2, 0, 200],
    [3, 0, 400],
    [4, 0, 800],
    [5, 0, 1_000],
    [30, 0, 1_000],
    [1, 1, 50],
    [4, 1, 400],
    [5, 0.5, 750],
  ])('after %i failure(s) with random %d waits %d ms', (failures, random, expected) => {
    expect(backoffDelay(policy, failures, () => random)).toBeCloseTo(expected);
  });

  it('never exceeds the cap, whatever the jitter draws', () => {
    for (let failures = 1; failures < 100; failures++) {
      for (const r of [0, 0.3, 0.999]) expect(backoffDelay(DEFAULT_RECONNECT_BACKOFF, failures, () => r)).toBeLessThanOrEqual(DEFAULT_RECONNECT_BACKOFF.maxMs);
    }
  });
});

describe('Backoff', () => {
  it('grows with consecutive failures and starts over after reset', () => {
    const backoff = new Backoff({ policy: { initialMs: 10, maxMs: 100, factor: 3, jitter: 0 } });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 30, 90, 100]);
    expect(backoff.consecutiveFailures).toBe(4);
    backoff.reset();
    expect(backoff.consecutiveFailures).toBe(0);
    expect(backoff.next()).toBe(10);
  });

  it.each([
    [{ initialMs: 0, maxMs: 10, factor: 2, jitter: 0 }, /initialMs must be > 0 \(got 0\)/],
    [{ initialMs: 10, maxMs: 5, factor: 2, jitter: 0 }, /maxMs must be >= initialMs \(got 5 < 10\)/],
    [{ initialMs: 10, maxMs: 50, factor: 0.5, jitter: 0 }, /factor must be >= 1/],
    [{ initialMs: 10, maxMs: 50, factor: 2, jitter: 2 }, /jitter must be within \[0, 1\] \(got 2\)/],
  ])('rejects %o with a message naming the field', (policy, message) => {
    expect(() => validateBackoffPolicy(policy)).toThrow(message);
  });
});
