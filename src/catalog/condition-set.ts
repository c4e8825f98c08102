/**
 * Conditions as cert-manager and the API conventions keep them: one per type, and
 * lastTransitionTime moves only when the status changes, so rebuilding status every pass
 * writes nothing new for an unchanged world.
 */
import type { Condition } from '../api/status.ts';

export type DesiredCondition = Omit<Condition, 'lastTransitionTime'>;

/**
 * Returns the conditions after setting `desired` at `now`, keeping the previous
 * lastTransitionTime of a condition whose status did not change.
 */
export function buildConditions(previous: readonly Condition[] | undefined, desired: readonly DesiredCondition[], now: Date): Condition[] {
  return desired.map((d) => {
    const before = previous?.find((p) => p.type === d.type);
    const lastTransitionTime = before && before.status === d.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { ...d, lastTransitionTime };
  });
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}
