/**
 * Which entity claims which workload. Components and Resources claim workloads in their own
 * namespace by label selector; when several match one workload, the claim goes to the oldest
 * entity (creationTimestamp), then the lowest canonical reference, so every replica of the
 * operator, and every pass, picks the same winner. Every claimant of a contested workload is
 * told of the conflict; only the winner's ownership is written onto it.
 */
import type { LabelSelector, WorkloadKind } from '../api/workloads.ts';
import { checkSelector, compileSelector, equalitySelector, labelValue, parseSelectorString, SelectorError, type Labels, type Selector } from './selector.ts';

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
  workloads?: { selector?: LabelSelector; kinds?: readonly WorkloadKind[] } | undefined;
}

export type SelectorResult = { ok: true; selector: Selector } | { ok: false; message: string };

/**
 * The selector an entity claims with: spec.workloads.selector, else the
 * backstage.io/kubernetes-label-selector annotation, else backstage.io/kubernetes-id=<name>.
 * Either of the first two is held to the rules admission holds the field to (checkSelector):
 * a bad one, or one without a positive requirement, claims nothing and is reported, with a
 * message naming where it came from, rather than claiming the whole namespace.
 */
export function claimSelector(source: ClaimSource): SelectorResult {
  const selector = source.workloads?.selector;
  if (selector) {
    return compiled(SPEC_SELECTOR_FIELD, () => {
      checkSelector(selector, 'field');
      return selector;
    });
  }
  const annotation = labelValue(source.annotations, LABEL_SELECTOR_ANNOTATION);
  if (annotation !== undefined) return compiled(`annotation ${LABEL_SELECTOR_ANNOTATION}`, () => parseSelectorString(annotation));
  return { ok: true, selector: equalitySelector(KUBERNETES_ID_LABEL, source.name) };
}

const SPEC_SELECTOR_FIELD = 'spec.workloads.selector';

function compiled(where: string, read: () => LabelSelector): SelectorResult {
  try {
    return { ok: true, selector: compileSelector(read()) };
  } catch (err) {
    if (err instanceof SelectorError) return { ok: false, message: `${where}: ${err.message}` };
    throw err;
  }
}

/** `backlot.dev/ignore: "true"` as a label or an annotation takes an object out of Backlot's view. */
export function isIgnored(target: { labels?: Labels; annotations?: Labels }): boolean {
  return labelValue(target.labels, IGNORE_KEY) === 'true' || labelValue(target.annotations, IGNORE_KEY) === 'true';
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
 * A selector that requires no pair (Exists, or In with several values, as its positive
 * requirement) is matched against every workload, as before.
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
      for (const [key, value] of Object.entries(labels)) {
        const filed = this.byPair.get(key)?.get(value);
        if (filed) for (const c of filed) if (claims(c, target)) matched.push(c);
      }
    }
    for (const c of this.unfiled) if (claims(c, target)) matched.push(c);
    return matched.length > 1 ? matched.sort(compareClaimants) : matched;
  }
}
