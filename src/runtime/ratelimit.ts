/**
 * Rate limiters for the workqueue, with client-go's semantics: a per-key exponential
 * failure backoff combined with an overall token bucket, the slower of the two winning.
 */
import type { Clock } from '../util/clock.ts';

export interface RateLimiter {
  /** How long to wait before `key` may be processed again; counts as one more retry of `key`. */
  when(key: string): number;
  /** Clears the failure history of `key` (after a successful reconcile). */
  forget(key: string): void;
  /** How many times `key` has been rate-limited since it was last forgotten. */
  numRequeues(key: string): number;
}

/** Per key: baseMs · 2^failures, capped at maxMs. Defaults 5 ms to 1000 s. */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(options: { baseMs?: number; maxMs?: number } = {}) {
    this.baseMs = options.baseMs ?? 5;
    this.maxMs = options.maxMs ?? 1_000_000;
    if (!(this.baseMs > 0) || !(this.maxMs >= this.baseMs)) {
      throw new RangeError(`item rate limiter needs 0 < baseMs <= maxMs (got baseMs=${this.baseMs}, maxMs=${this.maxMs})`);
    }
  }

  when(key: string): number {
    const exponent = this.failures.get(key) ?? 0;
    this.failures.set(key, exponent + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** exponent);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

/**
 * A token bucket shared by all keys: `burst` tokens, refilled at `qps` per second. A key
 * that finds the bucket empty reserves a future token and waits for it, as golang.org/x/time/rate
 * does, so a burst of failures is spread out rather than dropped.
 */
export class BucketRateLimiter implements RateLimiter {
  private readonly clock: Clock;
  private readonly qps: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(options: { clock: Clock; qps?: number; burst?: number }) {
    this.clock = options.clock;
    this.qps = options.qps ?? 10;
    this.burst = options.burst ?? 100;
    if (!(this.qps > 0) || !(this.burst >= 1)) {
      throw new RangeError(`bucket rate limiter needs qps > 0 and burst >= 1 (got qps=${this.qps}, burst=${this.burst})`);
    }
    this.tokens = this.burst;
    this.last = this.clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    const elapsedMs = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs / 1000) * this.qps);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  forget(_key: string): void {
    // The bucket is shared: one key's success does not refund tokens.
  }

  numRequeues(_key: string): number {
    return 0;
  }
}

/** Combines limiters: the longest delay wins; forget and the retry count go to all of them. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(limiters: readonly RateLimiter[]) {
    if (limiters.length === 0) throw new RangeError('MaxOfRateLimiter needs at least one limiter');
    this.limiters = [...limiters];
  }

  when(key: string): number {
    return Math.max(...this.limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(...this.limiters.map((l) => l.numRequeues(key)));
  }
}

export interface ControllerRateLimiterOptions {
  clock: Clock;
  /** Per-key backoff; defaults 5 ms to 1000 s. */
  baseMs?: number;
  maxMs?: number;
  /** Overall bucket; defaults 10 qps, burst 100. */
  qps?: number;
  burst?: number;
}

/** client-go's DefaultControllerRateLimiter: per-key exponential backoff, overall token bucket. */
export function defaultControllerRateLimiter(options: ControllerRateLimiterOptions): RateLimiter {
  return new MaxOfRateLimiter([
    new ItemExponentialRateLimiter({ baseMs: options.baseMs, maxMs: options.maxMs }),
    new BucketRateLimiter({ clock: options.clock, qps: options.qps, burst: options.burst }),
  ]);
}
