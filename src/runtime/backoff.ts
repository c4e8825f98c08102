/**
 * Exponential backoff with jitter, for reconnect loops (informer list/watch, leader
 * election). Pure: the random source is passed in.
 */
export interface BackoffPolicy {
  /** Delay before the first retry, in milliseconds. */
  initialMs: number;
  /** No delay is ever longer than this. */
  maxMs: number;
  /** Growth per consecutive failure; 2 doubles. */
  factor: number;
  /**
   * Fraction in [0, 1] of each delay that is randomised: the delay is drawn from
   * [d·(1 − jitter), d]. Drawing below the nominal delay keeps `maxMs` a true cap while
   * still spreading the retries of many clients that failed at the same moment.
   */
  jitter: number;
}

/** The informer's reconnect policy, as client-go's reflector: 800 ms doubling to 30 s. */
export const DEFAULT_RECONNECT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0.5 });

export function validateBackoffPolicy(policy: BackoffPolicy): void {
  const problems: string[] = [];
  if (!(policy.initialMs > 0)) problems.push(`initialMs must be > 0 (got ${policy.initialMs})`);
  if (!(policy.maxMs >= policy.initialMs)) problems.push(`maxMs must be >= initialMs (got ${policy.maxMs} < ${policy.initialMs})`);
  if (!(policy.factor >= 1)) problems.push(`factor must be >= 1 (got ${policy.factor})`);
  if (!(policy.jitter >= 0 && policy.jitter <= 1)) problems.push(`jitter must be within [0, 1] (got ${policy.jitter})`);
  if (problems.length > 0) throw new RangeError(`invalid backoff policy: ${problems.join('; ')}`);
}

/** The delay before retry number `failures` (1 = the first retry). */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number): number {
  const exponent = Math.max(0, failures - 1);
  const nominal = Math.min(policy.maxMs, policy.initialMs * policy.factor ** exponent);
  return nominal * (1 - policy.jitter * random());
}

/** Counts consecutive failures; `reset()` after a success starts over from `initialMs`. */
export class Backoff {
  private readonly policy: BackoffPolicy;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: { policy: BackoffPolicy; random?: () => number }) {
    validateBackoffPolicy(options.policy);
    this.policy = { ...options.policy };
    this.random = options.random ?? Math.random;
  }

  /** Records one more failure and returns how long to wait before the next attempt. */
  next(): number {
    this.failures += 1;
    return backoffDelay(this.policy, this.failures, this.random);
  }

  reset(): void {
    this.failures = 0;
  }

  get consecutiveFailures(): number {
    return this.failures;
  }
}
