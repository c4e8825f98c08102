import { describe, expect, it } from '@jest/globals';
import { BucketRateLimiter, defaultControllerRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter } from '../../../src/runtime/ratelimit.ts';
import { FakeClock } from './fake-clock.ts';

describe('ItemExponentialRateLimiter', () => {
  it('doubles from 5 ms per key by default, independently for each key', () => {
    const limiter = new ItemExponentialRateLimiter();
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(5);
    expect(limiter.numRequeues('b')).toBe(1);
  });

  it('caps at 1000 s by default and does not overflow', () => {
    const limiter = new ItemExponentialRateLimiter();
    let last = 0;
    for (let i = 0; i < 2_000; i++) last = limiter.when('k');
    expect(last).toBe(1_000_000);
    // 5 ms · 2^17 = 655 s < 1000 s < 5 ms · 2^18
    const fresh = new ItemExponentialRateLimiter();
    const delays = Array.from({ length: 20 }, () => fresh.when('k'));
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
  });

  it('starts over after forget', () => {
    const limiter = new ItemExponentialRateLimiter({ baseMs: 100, maxMs: 1_000 });
    limiter.when('k');
    limiter.when('k');
    limiter.forget('k');
    expect(limiter.numRequeues('k')).toBe(0);
    expect(limiter.when('k')).toBe(100);
  });

  it('rejects a base above the cap, naming both', () => {
    expect(() => new ItemExponentialRateLimiter({ baseMs: 10, maxMs: 1 })).toThrow('baseMs=10, maxMs=1');
  });
});

describe('BucketRateLimiter', () => {
  it('lets a burst through at once, then spaces keys at 1/qps', () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter({ clock, qps: 10, burst: 3 });
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c')]).toEqual([0, 0, 0]);
    // Each further key reserves the next token: 100 ms, 200 ms, 300 ms from now.
    expect(limiter.when('d')).toBeCloseTo(100);
    expect(limiter.when('e')).toBeCloseTo(200);
    expect(limiter.when('f')).toBeCloseTo(300);
  });

  it('refills at qps up to the burst size', async () => {
    const clock = new FakeClock();
    const limiter = new BucketRateLimiter({ clock, qps: 10, burst: 2 });
    limiter.when('a');
    limiter.when('b');
    await clock.advance(100);
    expect(limiter.when('c')).toBe(0);
    expect(limiter.when('d')).toBeCloseTo(100);
    await clock.advance(60_000);
    expect([limiter.when('e'), limiter.when('f')]).toEqual([0, 0]);
    expect(limiter.when('g')).toBeCloseTo(100);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('takes the per-key backoff while the bucket has tokens', () => {
    const limiter = defaultControllerRateLimiter({ clock: new FakeClock() });
    expect([limiter.when('k'), limiter.when('k'), limiter.when('k')]).toEqual([5, 10, 20]);
  });

  it('takes the bucket delay once a failure storm has used up the burst', () => {
    const clock = new FakeClock();
    const limiter = defaultControllerRateLimiter({ clock, qps: 10, burst: 100 });
    for (let i = 0; i < 100; i++) expect(limiter.when(`key-${i}`)).toBe(5);
    // The 101st distinct key would get 5 ms from its own backoff but waits for a token.
    expect(limiter.when('key-100')).toBeCloseTo(100);
  });

  it('forgets in every limiter it combines', () => {
    const a = new ItemExponentialRateLimiter({ baseMs: 1, maxMs: 10 });
    const b = new ItemExponentialRateLimiter({ baseMs: 2, maxMs: 20 });
    const both = new MaxOfRateLimiter([a, b]);
    expect(both.when('k')).toBe(2);
    expect(both.when('k')).toBe(4);
    both.forget('k');
    expect([a.numRequeues('k'), b.numRequeues('k')]).toEqual([0, 0]);
  });
});
