/**
 * What Backlot writes onto a claimed workload: canonical references in annotations, and the
 * owner's name and namespace in labels so that `kubectl get deploy -l backlot.dev/owner=team-payments`
 * works, and tells apart two Groups of one name in different namespaces.
 * Nothing is written for an unclaimed workload; an apply without these fields removes the ones
 * Backlot wrote before, and never touches anyone else's.
 */
import { sameStrings } from '../k8s/object.ts';

export const ENTITY_ANNOTATION = 'backlot.dev/entity';
export const OWNER_ANNOTATION = 'backlot.dev/owner';
export const SYSTEM_ANNOTATION = 'backlot.dev/system';
export const LIFECYCLE_ANNOTATION = 'backlot.dev/lifecycle';
export const OWNER_LABEL = 'backlot.dev/owner';
export const OWNER_NAMESPACE_LABEL = 'backlot.dev/owner-namespace';

export const OWNERSHIP_ANNOTATIONS = [ENTITY_ANNOTATION, OWNER_ANNOTATION, SYSTEM_ANNOTATION, LIFECYCLE_ANNOTATION] as const;
export const OWNERSHIP_LABELS = [OWNER_LABEL, OWNER_NAMESPACE_LABEL] as const;

export interface Ownership {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface OwnerFacts {
  /** Canonical reference of the claiming entity. */
  entity: string;
  /** Canonical reference of its owner, if it has one that takes effect (see API.md, "Tenancy"). */
  owner?: string;
  system?: string;
  lifecycle?: string;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** The name part of a canonical reference: group:shop/team-payments → team-payments. */
export function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** The namespace part of a canonical reference: group:shop/team-payments → shop. */
export function refNamespace(ref: string): string {
  return ref.slice(ref.indexOf(':') + 1, ref.lastIndexOf('/'));
}

function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

export function desiredOwnership(facts: OwnerFacts | undefined): Ownership {
  if (!facts) return { labels: {}, annotations: {} };
  const annotations: Record<string, string> = { [ENTITY_ANNOTATION]: facts.entity };
  const labels: Record<string, string> = {};
  if (facts.owner) {
    annotations[OWNER_ANNOTATION] = facts.owner;
    const name = refName(facts.owner);
    const namespace = refNamespace(facts.owner);
    if (isLabelValue(name)) labels[OWNER_LABEL] = name;
    if (isLabelValue(namespace)) labels[OWNER_NAMESPACE_LABEL] = namespace;
  }
  if (facts.system) annotations[SYSTEM_ANNOTATION] = facts.system;
  if (facts.lifecycle) annotations[LIFECYCLE_ANNOTATION] = facts.lifecycle;
  return { labels, annotations };
}

/** Backlot's keys as they are on the object now. */
export function currentOwnership(metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } | undefined): Ownership {
  const pick = (from: Record<string, string> | undefined, keys: readonly string[]) => {
    const out: Record<string, string> = {};
    for (const k of keys) if (from?.[k] !== undefined) out[k] = from[k];
    return out;
  };
  return { labels: pick(metadata?.labels, OWNERSHIP_LABELS), annotations: pick(metadata?.annotations, OWNERSHIP_ANNOTATIONS) };
}

export function sameOwnership(a: Ownership, b: Ownership): boolean {
  return sameStrings(a.labels, b.labels) && sameStrings(a.annotations, b.annotations);
}

/**
 * Whether an apply is needed: the object's values differ from the desired ones, or they match
 * but Backlot does not hold them yet (so a later removal would not take them away), or Backlot
 * holds fields that it no longer wants. `heldByBacklot` says whether the field manager has
 * an entry on the object.
 */
export function needsApply(desired: Ownership, current: Ownership, heldByBacklot: boolean): boolean {
  const wantsNothing = Object.keys(desired.annotations).length === 0 && Object.keys(desired.labels).length === 0;
  if (wantsNothing) return heldByBacklot;
  return !sameOwnership(desired, current) || !heldByBacklot;
}
