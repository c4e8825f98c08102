/**
 * The world as the informers cache it, with the look-ups reconcilers and metrics need:
 * entities by reference, what references what, workloads by namespace, a CronJob's Jobs,
 * a Service's EndpointSlices. Read-only; every look-up goes through an index, never a scan
 * of the whole cluster.
 */
import { ENTITY_KINDS, KINDS, type EntityKind, type EntityObject } from '../api/kinds.ts';
import { WORKLOAD_KINDS, type WorkloadKind } from '../api/workloads.ts';
import { ClaimantIndex, claimSelector, type Claimant } from '../catalog/claims.ts';
import { specRefs } from '../catalog/entity-refs.ts';
import { stringifyEntityRef } from '../catalog/ref.ts';
import { ACCEPT_RELATIONS_ANNOTATION, ACCEPTS_NONE, acceptsFrom, needsConsent, parseRelationPolicy, type RelationPolicy } from '../catalog/tenancy.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { CacheReader, IndexFunc } from '../runtime/store.ts';
import { OwnGenerations } from './generations.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Index names. */
export const REFS_INDEX = 'refs';
export const REFERENCED_INDEX = 'referenced';
export const CONTROLLER_INDEX = 'controller';
export const SERVICE_INDEX = 'service';

/** What Backlot derives from an entity object, computed once per object version. */
export interface ParsedEntity {
  kind: EntityKind;
  /** Canonical reference, e.g. component:shop/checkout. */
  ref: string;
  namespace: string;
  name: string;
  createdAt: number;
  /** Every reference of the spec, canonical, with its field. */
  refs: readonly { field: string; ref: string }[];
  /** Spec references that could not be parsed (only for objects the API server did not validate). */
  refErrors: readonly string[];
  /** For Components and Resources: how they claim workloads. */
  claim?: { ok: true; claimant: Claimant } | { ok: false; message: string };
}

function refKindOf(kind: EntityKind): string {
  return KINDS.find((k) => k.kind === kind)!.refKind;
}

export function canonicalRef(kind: EntityKind, namespace: string, name: string): string {
  return `${refKindOf(kind)}:${namespace}/${name}`.toLowerCase();
}

/**
 * Parses of cached entity objects. Cached objects are never changed (a change arrives as a new
 * object), so a parse holds for the object's life; the two index functions and every reader
 * share it instead of each parsing the spec again.
 */
const parsedByObject = new WeakMap<EntityObject, ParsedEntity>();

/** An entity object's parse, worked out once per object (see parsedByObject). */
export function parsedEntity(kind: EntityKind, obj: EntityObject): ParsedEntity {
  let p = parsedByObject.get(obj);
  if (p?.kind !== kind) {
    p = parseEntity(kind, obj);
    parsedByObject.set(obj, p);
  }
  return p;
}

/** Parses an entity object. Pure. */
export function parseEntity(kind: EntityKind, obj: EntityObject): ParsedEntity {
  const namespace = obj.metadata?.namespace ?? 'default';
  const name = obj.metadata?.name ?? '';
  const parsed = specRefs(kind, namespace, obj.spec ?? {});
  const ref = canonicalRef(kind, namespace, name);
  const stamp = obj.metadata?.creationTimestamp;
  const created = typeof stamp === 'string' ? Date.parse(stamp) : Number.NaN;
  const entity: ParsedEntity = {
    kind,
    ref,
    namespace,
    name,
    createdAt: Number.isNaN(created) ? 0 : created,
    refs: parsed.refs.map((r) => ({ field: r.field, ref: stringifyEntityRef(r.ref) })),
    refErrors: parsed.errors.map((e) => e.message),
  };
  if (kind === 'Component' || kind === 'Resource') {
    const workloads = obj.spec?.workloads as { selector?: never; kinds?: WorkloadKind[] } | undefined;
    const selector = claimSelector({ name, annotations: obj.metadata?.annotations, workloads });
    const kinds = new Set<WorkloadKind>(workloads?.kinds ?? ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Service']);
    entity.claim = selector.ok ? { ok: true, claimant: { ref, namespace, createdAt: entity.createdAt, selector: selector.selector, kinds } } : selector;
  }
  return entity;
}

/** `field=ref` for every reference: "which entities name X in field F". */
export function refsIndex(kind: EntityKind): IndexFunc<EntityObject> {
  return (obj) => parsedEntity(kind, obj).refs.map((r) => `${r.field}=${r.ref}`);
}

/** Every entity referenced, whatever the field: "who must hear when X changes". */
export function referencedIndex(kind: EntityKind): IndexFunc<EntityObject> {
  return (obj) => [...new Set(parsedEntity(kind, obj).refs.map((r) => r.ref))];
}

/** The uid of an object's controller (ownerReferences with controller: true). */
export const byControllerUid: IndexFunc<KubeObject> = (obj) => {
  const owners = (obj.metadata?.ownerReferences ?? []) as { uid?: string; controller?: boolean }[];
  const controller = owners.find((o) => o.controller);
  return controller?.uid ? [controller.uid] : [];
};

/** An EndpointSlice's Service, as namespace/name. */
export const byServiceName: IndexFunc<KubeObject> = (obj) => {
  const service = obj.metadata?.labels?.[SERVICE_NAME_LABEL];
  return service ? [`${obj.metadata?.namespace ?? ''}/${service}`] : [];
};

export interface WorldCaches {
  entities: Readonly<Record<EntityKind, CacheReader<EntityObject>>>;
  workloads: Readonly<Record<WorkloadKind, CacheReader<KubeObject>>>;
  jobs: CacheReader<KubeObject>;
  endpointSlices: CacheReader<KubeObject>;
  namespaces: CacheReader<KubeObject>;
}

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
}

/**
 * Files one workload's claim, if anyone claims it. With `copy`, the claimants' lists are
 * replaced rather than grown, so that a list read before the change stays as it was.
 */
function fileClaim(claims: NamespaceClaims, claimants: ClaimantIndex, kind: WorkloadKind, namespace: string, obj: KubeObject, copy: boolean): void {
  const name = obj.metadata?.name ?? '';
  const all = claimants.claimantsOf({ kind, namespace, name, labels: obj.metadata?.labels, annotations: obj.metadata?.annotations });
  if (all.length === 0) return;
  const claim: WorkloadClaim = { kind, name, claimants: all };
  claims.byWorkload.set(`${kind}/${name}`, claim);
  for (const c of all) {
    const mine = claims.byClaimant.get(c.ref);
    if (!mine) claims.byClaimant.set(c.ref, [claim]);
    else if (copy) claims.byClaimant.set(c.ref, [...mine, claim]);
    else mine.push(claim);
  }
}

const REF_KIND_TO_KIND = new Map(KINDS.map((k) => [k.refKind as string, k.kind]));

/** The object a canonical reference names: its Kubernetes kind, namespace and name. */
export type EntityObjectRef = { readonly kind: EntityKind; readonly namespace: string; readonly name: string };

/**
 * Every lookup of an entity by reference splits the reference; a status reads dozens of them
 * (dependencies, parts, providers, each step of the cycle check). The splits are kept, up to
 * a bound past which they are dropped and made again: references are entities' names, so the
 * bound is only reached by a catalog that large or by names that came and went.
 */
const entityObjectRefs = new Map<string, EntityObjectRef | null>();
const OBJECT_REFS_KEPT = 100_000;

/** The object of a canonical reference (component:shop/checkout); undefined for one of no kind Backlot serves (user:). */
export function entityObjectRef(ref: string): EntityObjectRef | undefined {
  let parts = entityObjectRefs.get(ref);
  if (parts === undefined) {
    const m = /^([a-z]+):([^/]+)\/(.+)$/.exec(ref);
    const kind = m ? REF_KIND_TO_KIND.get(m[1]!) : undefined;
    parts = m && kind ? { kind, namespace: m[2]!, name: m[3]! } : null;
    if (entityObjectRefs.size >= OBJECT_REFS_KEPT) entityObjectRefs.clear();
    entityObjectRefs.set(ref, parts);
  }
  return parts ?? undefined;
}

export class World {
  readonly caches: WorldCaches;
  /** Generations Backlot's own writes moved; readiness reads workloads through it. */
  readonly ownGenerations: OwnGenerations;
  /** Claimants per namespace, for the Component and Resource caches at claimantsMemoVersion. */
  private readonly claimantsMemo = new Map<string, ClaimantIndex>();
  private claimantsMemoVersion = '';
  /** Claims per namespace, each with the versions it is up to date with. */
  private readonly claimsMemo = new Map<string, ClaimsMemo>();
  /** Each cached Namespace object's relation policy (cached objects are never changed). */
  private readonly policies = new WeakMap<KubeObject, RelationPolicy>();

  constructor(caches: WorldCaches, ownGenerations: OwnGenerations = new OwnGenerations()) {
    this.caches = caches;
    this.ownGenerations = ownGenerations;
  }

  parsed(kind: EntityKind, obj: EntityObject): ParsedEntity {
    return parsedEntity(kind, obj);
  }

  /** The entity a canonical reference names, if it exists. */
  entity(ref: string): { obj: EntityObject; parsed: ParsedEntity } | undefined {
    const parts = entityObjectRef(ref);
    if (!parts) return undefined;
    const obj = this.caches.entities[parts.kind].get(`${parts.namespace}/${parts.name}`);
    return obj ? { obj, parsed: this.parsed(parts.kind, obj) } : undefined;
  }

  exists(ref: string): boolean {
    return this.entity(ref) !== undefined;
  }

  /** Entities of `kind` that name `ref` in `field`. */
  naming(kind: EntityKind, field: string, ref: string): { obj: EntityObject; parsed: ParsedEntity }[] {
    return this.caches.entities[kind].byIndex(REFS_INDEX, `${field}=${ref}`).map((obj) => ({ obj, parsed: this.parsed(kind, obj) }));
  }

  /**
   * Whether namespace `to` accepts relations from namespace `from` (API.md, "Tenancy"): its
   * own always, others when its Namespace's backlot.dev/accept-relations-from names them.
   */
  accepts(from: string, to: string): boolean {
    if (from === to) return true;
    const ns = this.caches.namespaces.get(to);
    if (!ns) return false;
    let policy = this.policies.get(ns);
    if (!policy) {
      const annotation = ns.metadata?.annotations?.[ACCEPT_RELATIONS_ANNOTATION];
      policy = annotation === undefined ? ACCEPTS_NONE : parseRelationPolicy(annotation);
      this.policies.set(ns, policy);
    }
    return acceptsFrom(policy, from, to);
  }

  /** Whether a reference of `referrer` takes effect where it points: it needs no consent, or has it. */
  relationAccepted(referrer: { namespace: string }, r: { field: string; ref: string }): boolean {
    if (!needsConsent(r.field)) return true;
    const target = entityObjectRef(r.ref);
    return target === undefined || this.accepts(referrer.namespace, target.namespace);
  }

  /**
   * Entities of `kind` that name `ref` in `field` and whose namespace `ref`'s namespace
   * accepts: the parts, dependents and providers that count where `ref` lives.
   */
  acceptedNaming(kind: EntityKind, field: string, ref: string): { obj: EntityObject; parsed: ParsedEntity }[] {
    const named = this.naming(kind, field, ref);
    const target = entityObjectRef(ref);
    if (!target) return named;
    return named.filter((n) => this.accepts(n.parsed.namespace, target.namespace));
  }

  /** Every entity, of any kind, that references `ref`. */
  referrers(ref: string): ParsedEntity[] {
    const out: ParsedEntity[] = [];
    for (const kind of ENTITY_KINDS) for (const obj of this.caches.entities[kind].byIndex(REFERENCED_INDEX, ref)) out.push(this.parsed(kind, obj));
    return out;
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
        const claim = this.parsed(kind, obj).claim;
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
    if (claimants.all.length > 0) {
      for (const kind of WORKLOAD_KINDS) {
        for (const obj of this.workloadsIn(kind, namespace)) fileClaim(claims, claimants, kind, namespace, obj, false);
      }
    }
    this.claimsMemo.set(namespace, { claimantsVersion: this.claimantsMemoVersion, versions, claims });
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
        if (obj && claimants.all.length > 0) fileClaim(claims, claimants, kind, namespace, obj, true);
      }
      known.versions[at] = version;
    }
    return true;
  }

  /**
   * Moves on any change of the caches that entity statuses are computed from (entities,
   * workloads, Jobs, EndpointSlices, Namespaces) and of the generations Backlot moved itself. Each part
   * only ever grows, so their sum moves whenever one of them does. What is derived from the
   * whole world can be kept until it moves.
   */
  get version(): number {
    const { entities, workloads, jobs, endpointSlices, namespaces } = this.caches;
    let sum = jobs.version + endpointSlices.version + namespaces.version + this.ownGenerations.version;
    for (const kind of ENTITY_KINDS) sum += entities[kind].version;
    for (const kind of WORKLOAD_KINDS) sum += workloads[kind].version;
    return sum;
  }

  /**
   * Moves when an entity is added or deleted, or changes other than in status (its spec, labels
   * or annotations), and when a Namespace changes (which relations it accepts): what is derived
   * from the entities' specs alone, such as the dependsOn graph, can be kept until it moves,
   * through every status write and workload change.
   */
  get entitySpecVersion(): number {
    let sum = this.caches.namespaces.version;
    for (const kind of ENTITY_KINDS) sum += this.caches.entities[kind].metadataVersion;
    return sum;
  }

  workloadsIn(kind: WorkloadKind, namespace: string): KubeObject[] {
    return this.caches.workloads[kind].byIndex('namespace', namespace);
  }

  workload(kind: WorkloadKind, namespace: string, name: string): KubeObject | undefined {
    return this.caches.workloads[kind].get(`${namespace}/${name}`);
  }

  jobsOf(uid: string): KubeObject[] {
    return this.caches.jobs.byIndex(CONTROLLER_INDEX, uid);
  }

  slicesOf(namespace: string, service: string): KubeObject[] {
    return this.caches.endpointSlices.byIndex(SERVICE_INDEX, `${namespace}/${service}`);
  }

  namespace(name: string): KubeObject | undefined {
    return this.caches.namespaces.get(name);
  }
}
