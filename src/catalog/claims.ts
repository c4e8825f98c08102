/**
 * Which entity claims which workload. Components and Resources claim workloads in their own
 * namespace by label selector; when several match one workload, the claim goes to the oldest
 * entity (creationTimestamp), then the lowest canonical reference, so every replica of the
 * operator, and every pass, picks the same winner. Every claimant of a contested workload is
 * told of the conflict; only the winner's ownership is written onto it.
 */
import type { WorkloadKind } from '../api/workloads.ts';
import { compileSelector, equalitySelector, parseSelectorString, SelectorError, type Labels, type Selector } from './selector.ts';

export const KUBERNETES_ID_LABEL = 'backstage.io/kubernetes-id';
export const LABEL_SELECTOR_ANNOTATION = 'backstage.io/kubernetes-label-selector';
export const IGNORE_KEY = 'backlot.dev/ignore';

export interface Claimant {
  /** Canonical reference, e.g. component:shop/checkout. */
  ref: string;
  namespace: string;
  /** creationTimestamp in epoch milliseconds. */
  createdAt: number;
  selector: Selector;
  kinds: ReadonlySet<WorkloadKind>;
}

export interface ClaimTarget {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  labels?: Labels;
  annotations?: Labels;
}

/** The claim spec of an entity, as read from its spec and annotations. */
export interface ClaimSource {
  name: string;
  annotations?: Labels;
  workloads?: { selector?: Parameters<typeof compileSelector>[0]; kinds?: readonly WorkloadKind[] } | undefined;
}

export type SelectorResult = { ok: true; selector: Selector } | { ok: false; message: string };

/**
 * The selector an entity claims with: spec.workloads.selector, else the
 * backstage.io/kubernetes-label-selector annotation, else backstage.io/kubernetes-id=<name>.
 */
export function claimSelector(source: ClaimSource): SelectorResult {
  if (source.workloads?.selector) return { ok: true, selector: compileSelector(source.workloads.selector) };
  const annotation = source.annotations?.[LABEL_SELECTOR_ANNOTATION];
  if (annotation !== undefined) {
    try {
      return { ok: true, selector: compileSelector(parseSelectorString(annotation)) };
    } catch (err) {
      if (err instanceof SelectorError) return { ok: false, message: `annotation ${LABEL_SELECTOR_ANNOTATION}: ${err.message}` };
      throw err;
    }
  }
  return { ok: true, selector: equalitySelector(KUBERNETES_ID_LABEL, source.name) };
}

/** `backlot.dev/ignore: "true"` as a label or an annotation takes an object out of Backlot's view. */
export function isIgnored(target: { labels?: Labels; annotations?: Labels }): boolean {
  return target.labels?.[IGNORE_KEY] === 'true' || target.annotations?.[IGNORE_KEY] === 'true';
}

/** Claim precedence: older first, then the lower reference. */
export function compareClaimants(a: Pick<Claimant, 'createdAt' | 'ref'>, b: Pick<Claimant, 'createdAt' | 'ref'>): number {
  return a.createdAt - b.createdAt || (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0);
}

export function claims(claimant: Claimant, target: ClaimTarget): boolean {
  return claimant.namespace === target.namespace && claimant.kinds.has(target.kind) && !isIgnored(target) && claimant.selector.matches(target.labels);
}

/** Every entity that claims the target, winner first. Empty when nobody claims it. */
export function claimantsOf(target: ClaimTarget, candidates: Iterable<Claimant>): Claimant[] {
  const matched: Claimant[] = [];
  for (const c of candidates) if (claims(c, target)) matched.push(c);
  return matched.sort(compareClaimants);
}

/**
 * The claimants of one namespace, filed by a label pair each one's selector requires (the
 * first of `selector.required`), so that a workload is matched only against the claimants its
 * own labels could satisfy, not against every claimant of the namespace: a namespace with
 * thousands of Components costs each workload a few look-ups instead of thousands of matches.
 * A selector that requires no pair (only Exists, NotIn or several In values) is matched
 * against every workload, as before.
 */
export class ClaimantIndex {
  /** Every claimant, in the order given. */
  readonly all: readonly Claimant[];
  /** Label key → label value → the claimants filed under that pair. */
  private readonly byPair = new Map<string, Map<string, Claimant[]>>();
  private readonly unfiled: Claimant[] = [];

  constructor(claimants: readonly Claimant[]) {
    this.all = claimants;
    for (const c of claimants) {
      const pair = c.selector.required[0];
      if (!pair) {
        this.unfiled.push(c);
        continue;
      }
      const [key, value] = pair;
      let byValue = this.byPair.get(key);
      if (!byValue) this.byPair.set(key, (byValue = new Map<string, Claimant[]>()));
      const filed = byValue.get(value);
      if (filed) filed.push(c);
      else byValue.set(value, [c]);
    }
  }

  /** The same answer as `claimantsOf(target, this.all)`: every claimant of the target, winner first. */
  claimantsOf(target: ClaimTarget): Claimant[] {
    const matched: Claimant[] = [];
    const labels = target.labels;
    // The workload's own labels bound the look-ups, however many claimants there are.
    if (labels !== undefined && this.byPair.size > 0) {
      for (const key in labels) {
        const filed = this.byPair.get(key)?.get(labels[key]!);
        if (filed) for (const c of filed) if (claims(c, target)) matched.push(c);
      }
    }
    for (const c of this.unfiled) if (claims(c, target)) matched.push(c);
    return matched.length > 1 ? matched.sort(compareClaimants) : matched;
  }
}
