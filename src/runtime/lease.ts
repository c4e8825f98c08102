/**
 * The pure rules of leader election on a coordination.k8s.io Lease, as client-go applies
 * them. No clock, no client: `now` and what was read are passed in.
 *
 * Expiry is judged by this process's own clock from the moment it *observed* the record
 * change, never from the renewTime written by another machine, so clock skew between
 * candidates cannot make a live lease look expired.
 */
import type { LeaderRecord } from '../k8s/leases.ts';

/** The last distinct record this candidate saw, and when (its own clock) it first saw it. */
export interface Observation {
  record: LeaderRecord;
  observedAt: number;
}

export type Decision =
  { kind: 'create'; record: LeaderRecord } | { kind: 'update'; record: LeaderRecord } | { kind: 'held'; holder: string; expiresAt: number };

export function sameRecord(a: LeaderRecord, b: LeaderRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.acquireTime === b.acquireTime &&
    a.renewTime === b.renewTime &&
    a.leaseTransitions === b.leaseTransitions
  );
}

/** The observation after reading `current` at `now`: the clock restarts only when the record changed. */
export function observe(previous: Observation | undefined, current: LeaderRecord, now: number): Observation {
  if (previous && sameRecord(previous.record, current)) return previous;
  return { record: current, observedAt: now };
}

/**
 * What a candidate should do, having read `current` (undefined: no Lease yet) and observed
 * it as `observation` (from `observe`). A lease held by someone else is left alone until
 * `observedAt + leaseDurationSeconds` has passed; an empty holder means it was released and
 * may be taken at once.
 */
export function decide(input: {
  identity: string;
  now: number;
  leaseDurationSeconds: number;
  current: LeaderRecord | undefined;
  observation: Observation | undefined;
}): Decision {
  const { identity, now, leaseDurationSeconds, current, observation } = input;
  if (!current) {
    return { kind: 'create', record: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } };
  }
  const holder = current.holderIdentity;
  if (holder !== '' && holder !== identity) {
    const observedAt = observation && sameRecord(observation.record, current) ? observation.observedAt : now;
    const expiresAt = observedAt + current.leaseDurationSeconds * 1000;
    if (now < expiresAt) return { kind: 'held', holder, expiresAt };
  }
  if (holder === identity) {
    return { kind: 'update', record: { ...current, leaseDurationSeconds, renewTime: now, acquireTime: current.acquireTime ?? now } };
  }
  return {
    kind: 'update',
    record: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: current.leaseTransitions + 1 },
  };
}

/** The record that hands the lease back (client-go's ReleaseOnCancel): no holder, a one-second duration. */
export function releasedRecord(current: LeaderRecord, now: number): LeaderRecord {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.leaseTransitions };
}

export interface LeaseTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEASE_TIMING: Readonly<LeaseTiming> = Object.freeze({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });

/** Acquire attempts are spaced retryPeriod · [1, 1 + ACQUIRE_JITTER). */
export const ACQUIRE_JITTER = 0.2;

/**
 * client-go's constraints: the leader must give up (renew deadline) before its lease can
 * expire for others (lease duration), and must get more than one retry within the deadline.
 */
export function validateLeaseTiming(t: LeaseTiming): void {
  const problems: string[] = [];
  if (!(t.retryPeriodMs > 0)) problems.push(`retry period must be > 0 (got ${t.retryPeriodMs} ms)`);
  if (!(t.leaseDurationMs > t.renewDeadlineMs))
    problems.push(`lease duration (${t.leaseDurationMs} ms) must be greater than the renew deadline (${t.renewDeadlineMs} ms)`);
  if (!(t.renewDeadlineMs > t.retryPeriodMs * (1 + ACQUIRE_JITTER))) {
    problems.push(`renew deadline (${t.renewDeadlineMs} ms) must be greater than ${1 + ACQUIRE_JITTER} × the retry period (${t.retryPeriodMs} ms)`);
  }
  if (t.leaseDurationMs % 1000 !== 0) problems.push(`lease duration must be whole seconds (got ${t.leaseDurationMs} ms)`);
  if (problems.length > 0) throw new RangeError(`invalid leader election timing: ${problems.join('; ')}`);
}
