/**
 * Who claims which workload, namespace by namespace, kept for the World: the claimants of a
 * namespace (its Components and Resources with usable selectors) and the claims they make on
 * its workloads, both ways round. Worked out once and then kept up to date as the caches
 * change, so that the many readers of a namespace's claims (every status, every trigger) do
 * not match its workloads again each.
 */
import type { EntityObject } from '../api/kinds.ts';
import { WORKLOAD_KINDS, type WorkloadKind } from '../api/workloads.ts';
import { ClaimantIndex, type Claimant } from '../catalog/claims.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { CacheReader } from '../runtime/store.ts';
import type { EntityParser } from './entities.ts';

/** A claimed workload of a namespace: its kind and name, and every claimant, winner first. */
export interface WorkloadClaim {
  kind: WorkloadKind;
  name: string;
  claimants: readonly Claimant[];
}

/** The claims of one namespace, both ways round. Shared, and kept up to date by the World: never change them. */
export interface NamespaceClaims {
  /** Every workload a claimant's selector takes, won or not, by the claimant's ref. */
  byClaimant: Map<string, WorkloadClaim[]>;
  /** Claimed workloads by `Kind/name`. */
  byWorkload: Map<string, WorkloadClaim>;
}

/** A namespace's claims, and what they are up to date with: the claimants' version, and each workload cache's namespaceMetadataVersion in WORKLOAD_KINDS order. */
interface ClaimsMemo {
  claimantsVersion: string;
  versions: number[];
  claims: NamespaceClaims;
  /** The claimant lists of one claimant, one per claimant, shared by the workloads it alone claims. */
  alone: Map<Claimant, readonly Claimant[]>;
}

/**
 * Files one workload's claim, if anyone claims it. With `copy`, the claimants' lists are
 * replaced rather than grown, so that a list read before the change stays as it was.
 */
function fileClaim(
  memo: Pick<ClaimsMemo, 'claims' | 'alone'>,
  claimants: ClaimantIndex,
  kind: WorkloadKind,
  namespace: string,
  obj: KubeObject,
  copy: boolean,
): void {
  const { claims } = memo;
  const name = obj.metadata?.name ?? '';
  const all = claimants.claimantsOf({ kind, namespace, name, labels: obj.metadata?.labels, annotations: obj.metadata?.annotations });
  if (all.length === 0) return;
  // Kept as long as the namespace's claims, one per claimed workload. Most workloads have one
  // claimant, whose list they share; others get a copy of their list at its length (the list
  // that was pushed to has room for 16 more, some 130 bytes).
  const claim: WorkloadClaim = { kind, name, claimants: all.length === 1 ? aloneList(memo.alone, all[0]!) : all.slice() };
  claims.byWorkload.set(`${kind}/${name}`, claim);
  for (const c of all) {
    const mine = claims.byClaimant.get(c.ref);
    if (!mine) claims.byClaimant.set(c.ref, [claim]);
    else if (copy) claims.byClaimant.set(c.ref, [...mine, claim]);
    else mine.push(claim);
  }
}

/** The caches claims are made of: the claimants' and the workloads'. */
export interface ClaimCaches {
  entities: Readonly<Record<'Component' | 'Resource', CacheReader<EntityObject>>>;
  workloads: Readonly<Record<WorkloadKind, CacheReader<KubeObject>>>;
}

/** The shared, frozen list of `claimant` alone. */
function aloneList(alone: Map<Claimant, readonly Claimant[]>, claimant: Claimant): readonly Claimant[] {
  let list = alone.get(claimant);
  if (!list) alone.set(claimant, (list = Object.freeze([claimant])));
  return list;
}

export class NamespaceClaimsMemo {
  private readonly caches: ClaimCaches;
  private readonly parser: EntityParser;
  /** Claimants per namespace, for the Component and Resource caches at claimantsMemoVersion. */
  private readonly claimantsMemo = new Map<string, ClaimantIndex>();
  private claimantsMemoVersion = '';
  /** Claims per namespace, each with the versions it is up to date with. */
  private readonly claimsMemo = new Map<string, ClaimsMemo>();

  constructor(caches: ClaimCaches, parser: EntityParser) {
    this.caches = caches;
    this.parser = parser;
  }

  /**
   * The Components and Resources of a namespace that claim workloads, with usable selectors.
   * Kept per namespace until either cache changes other than in status (a claim is made of
   * names, specs and annotations): every workload look-up asks for them, and the echo of each
   * status write would otherwise throw them away. Shared: never change it.
   */
  claimants(namespace: string): ClaimantIndex {
    const version = `${this.caches.entities.Component.metadataVersion}/${this.caches.entities.Resource.metadataVersion}`;
    if (this.claimantsMemoVersion !== version) {
      this.claimantsMemo.clear();
      this.claimsMemo.clear();
      this.claimantsMemoVersion = version;
    }
    const known = this.claimantsMemo.get(namespace);
    if (known) return known;
    const out: Claimant[] = [];
    for (const kind of ['Component', 'Resource'] as const) {
      for (const obj of this.caches.entities[kind].byIndex('namespace', namespace)) {
        const claim = this.parser.parsed(kind, obj).claim;
        if (claim?.ok) out.push(claim.claimant);
      }
    }
    const index = new ClaimantIndex(out);
    this.claimantsMemo.set(namespace, index);
    return index;
  }

  /**
   * Who claims what in a namespace, worked out once for all its workloads and then kept up to
   * date: a System's status reads the claims of each of its parts, every dependent reads its
   * dependencies', and each would otherwise match every workload of the namespace again. A
   * change of a workload's status, the bulk of the traffic, claims nothing anew and changes
   * nothing here. A workload added, deleted or relabelled is folded in alone (the caches
   * remember which changed, see metadataChangesSince), so that a namespace of thousands of
   * workloads, each relabelled once by Backlot's own ownership write, is not worked out again
   * for each. A change of a claimant, or more workload changes than the caches remember, work
   * the namespace out again. Kept up to date in place: read it within one synchronous step,
   * never keep it.
   */
  claimsIn(namespace: string): NamespaceClaims {
    const claimants = this.claimants(namespace);
    const known = this.claimsMemo.get(namespace);
    if (known?.claimantsVersion === this.claimantsMemoVersion && this.foldChanges(namespace, known, claimants)) return known.claims;
    const versions = WORKLOAD_KINDS.map((kind) => this.caches.workloads[kind].namespaceMetadataVersion(namespace));
    const claims: NamespaceClaims = { byClaimant: new Map(), byWorkload: new Map() };
    const memo: ClaimsMemo = { claimantsVersion: this.claimantsMemoVersion, versions, claims, alone: new Map() };
    if (claimants.all.length > 0) {
      for (const kind of WORKLOAD_KINDS) {
        for (const obj of this.caches.workloads[kind].byIndex('namespace', namespace)) fileClaim(memo, claimants, kind, namespace, obj, false);
      }
      // The lists were grown by pushes, with room to spare; they are kept at their length.
      for (const [ref, list] of claims.byClaimant) claims.byClaimant.set(ref, list.slice());
    }
    this.claimsMemo.set(namespace, memo);
    return claims;
  }

  /**
   * Brings `known` up to date with the workloads of its namespace changed since it was, in
   * place. False when it cannot: a cache no longer remembers that far back.
   */
  private foldChanges(namespace: string, known: ClaimsMemo, claimants: ClaimantIndex): boolean {
    let changed: Array<{ at: number; version: number; keys: readonly string[] }> | undefined;
    for (let at = 0; at < WORKLOAD_KINDS.length; at++) {
      const cache = this.caches.workloads[WORKLOAD_KINDS[at]!];
      const version = cache.namespaceMetadataVersion(namespace);
      if (version === known.versions[at]) continue;
      const keys = cache.metadataChangesSince(namespace, known.versions[at]!);
      if (keys === undefined) return false;
      (changed ??= []).push({ at, version, keys });
    }
    if (!changed) return true;
    const { claims } = known;
    for (const { at, version, keys } of changed) {
      const kind = WORKLOAD_KINDS[at]!;
      for (const key of new Set(keys)) {
        const name = key.slice(namespace.length + 1);
        const id = `${kind}/${name}`;
        const old = claims.byWorkload.get(id);
        if (old) {
          claims.byWorkload.delete(id);
          for (const c of old.claimants) {
            const kept = (claims.byClaimant.get(c.ref) ?? []).filter((claim) => claim !== old);
            if (kept.length > 0) claims.byClaimant.set(c.ref, kept);
            else claims.byClaimant.delete(c.ref);
          }
        }
        const obj = this.workload(kind, namespace, name);
        if (obj && claimants.all.length > 0) fileClaim(known, claimants, kind, namespace, obj, true);
      }
      known.versions[at] = version;
    }
    return true;
  }

  private workload(kind: WorkloadKind, namespace: string, name: string): KubeObject | undefined {
    return this.caches.workloads[kind].get(`${namespace}/${name}`);
  }
}
