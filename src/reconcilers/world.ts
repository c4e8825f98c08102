/**
 * The world as the informers cache it, with the look-ups reconcilers and metrics need:
 * entities by reference, what references what, workloads by namespace, a CronJob's Jobs,
 * a Service's EndpointSlices, who claims which workload, which namespaces accept whose
 * relations. Read-only; every look-up goes through an index, never a scan of the whole
 * cluster. What it keeps to answer fast (parses, claims, facts) it owns: nothing is kept at
 * module level.
 */
import { ENTITY_KINDS, type EntityKind, type EntityObject } from '../api/kinds.ts';
import { WORKLOAD_KINDS, type WorkloadKind } from '../api/workloads.ts';
import type { ClaimantIndex } from '../catalog/claims.ts';
import { ACCEPT_RELATIONS_ANNOTATION, ACCEPTS_NONE, acceptsFrom, needsConsent, parseRelationPolicy, type RelationPolicy } from '../catalog/tenancy.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { CacheReader } from '../runtime/store.ts';
import { EntityParser, type EntityObjectRef, type ParsedEntity } from './entities.ts';
import { FactsMemo, type Derived } from './facts-memo.ts';
import { OwnGenerations } from './generations.ts';
import { CONTROLLER_INDEX, REFERENCED_INDEX, REFS_INDEX, SERVICE_INDEX } from './indexes.ts';
import { NamespaceClaimsMemo, type NamespaceClaims } from './world-claims.ts';

export interface WorldCaches {
  entities: Readonly<Record<EntityKind, CacheReader<EntityObject>>>;
  workloads: Readonly<Record<WorkloadKind, CacheReader<KubeObject>>>;
  jobs: CacheReader<KubeObject>;
  endpointSlices: CacheReader<KubeObject>;
  namespaces: CacheReader<KubeObject>;
}

export interface WorldOptions {
  /** The parser the entity caches' indexes use, so that both share each parse; a new one by default. */
  parser?: EntityParser;
  ownGenerations?: OwnGenerations;
}

export class World {
  readonly caches: WorldCaches;
  /** Generations Backlot's own writes moved; readiness reads workloads through it. */
  readonly ownGenerations: OwnGenerations;
  /** The parses of the cached entities, shared with the entity caches' indexes. */
  readonly parser: EntityParser;
  /** What the statuses of many entities read in common, kept while the world stays as it is. */
  private readonly facts = new FactsMemo();
  private readonly claims: NamespaceClaimsMemo;
  /** Each cached Namespace object's relation policy (cached objects are never changed). */
  private readonly policies = new WeakMap<KubeObject, RelationPolicy>();

  constructor(caches: WorldCaches, options: WorldOptions = {}) {
    this.caches = caches;
    this.ownGenerations = options.ownGenerations ?? new OwnGenerations();
    this.parser = options.parser ?? new EntityParser();
    this.claims = new NamespaceClaimsMemo(caches, this.parser);
  }

  /** The facts many statuses read in common, for the world as it is now (see FactsMemo). */
  derived(): Derived {
    return this.facts.current(this.version, this.entitySpecVersion);
  }

  /** An entity object's parse (kept per object). */
  parsed(kind: EntityKind, obj: EntityObject): ParsedEntity {
    return this.parser.parsed(kind, obj);
  }

  /** The object a canonical reference names; undefined for a `user:` reference or one that is not canonical. */
  objectRef(ref: string): EntityObjectRef | undefined {
    return this.parser.objectRef(ref);
  }

  /** The entity a canonical reference names, if it exists. */
  entity(ref: string): { obj: EntityObject; parsed: ParsedEntity } | undefined {
    const parts = this.parser.objectRef(ref);
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
    const target = this.parser.objectRef(r.ref);
    return target === undefined || this.accepts(referrer.namespace, target.namespace);
  }

  /**
   * Entities of `kind` that name `ref` in `field` and whose namespace `ref`'s namespace
   * accepts: the parts, dependents and providers that count where `ref` lives.
   */
  acceptedNaming(kind: EntityKind, field: string, ref: string): { obj: EntityObject; parsed: ParsedEntity }[] {
    const named = this.naming(kind, field, ref);
    const target = this.parser.objectRef(ref);
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
   * Kept until either cache changes other than in status. Shared: never change it.
   */
  claimants(namespace: string): ClaimantIndex {
    return this.claims.claimants(namespace);
  }

  /**
   * Who claims what in a namespace, kept up to date in place as workloads and claimants change
   * (see NamespaceClaimsMemo): read it within one synchronous step, never keep it.
   */
  claimsIn(namespace: string): NamespaceClaims {
    return this.claims.claimsIn(namespace);
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
