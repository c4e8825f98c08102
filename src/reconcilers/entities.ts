/**
 * What Backlot reads out of an entity object: its canonical reference, the references of its
 * spec and how it claims workloads. parseEntity is pure; an EntityParser keeps each cached
 * object's parse, and each canonical reference's split, for the index functions and the
 * World that share it.
 */
import { KINDS, type EntityKind, type EntityObject } from '../api/kinds.ts';
import type { WorkloadKind } from '../api/workloads.ts';
import { claimSelector, type Claimant } from '../catalog/claims.ts';
import { specRefs } from '../catalog/entity-refs.ts';
import { stringifyEntityRef } from '../catalog/ref.ts';

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

/** The object a canonical reference names: its Kubernetes kind, namespace and name. */
export type EntityObjectRef = { readonly kind: EntityKind; readonly namespace: string; readonly name: string };

const REF_KIND_TO_KIND = new Map(KINDS.map((k) => [k.refKind as string, k.kind]));
const KIND_TO_REF_KIND = new Map(KINDS.map((k) => [k.kind, k.refKind]));

/** Parses an entity object. Pure. */
export function parseEntity(kind: EntityKind, obj: EntityObject): ParsedEntity {
  const namespace = obj.metadata?.namespace ?? 'default';
  const name = obj.metadata?.name ?? '';
  const parsed = specRefs(kind, namespace, obj.spec ?? {});
  const ref = stringifyEntityRef({ kind: KIND_TO_REF_KIND.get(kind)!, namespace, name });
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

/** The object of a canonical reference (component:shop/checkout); undefined for one of no kind Backlot serves (user:). Pure. */
export function splitCanonicalRef(ref: string): EntityObjectRef | undefined {
  const m = /^([a-z]+):([^/]+)\/(.+)$/.exec(ref);
  const kind = m ? REF_KIND_TO_KIND.get(m[1]!) : undefined;
  return m && kind ? { kind, namespace: m[2]!, name: m[3]! } : undefined;
}

/** How many reference splits an EntityParser keeps before it starts again. */
const OBJECT_REFS_KEPT = 100_000;

/**
 * Parses kept for the objects of the caches and the references that name them. Cached
 * objects are never changed (a change arrives as a new object), so a parse holds for the
 * object's life: the two index functions and every reader share it instead of each parsing
 * the spec again. Every look-up of an entity by reference splits the reference, and a status
 * reads dozens (dependencies, parts, providers, each step of the cycle check): the splits are
 * kept too, up to a bound past which they are dropped and made again (references are
 * entities' names, so only a catalog that large, or names that came and went, reach it).
 */
export class EntityParser {
  private readonly parses = new WeakMap<EntityObject, ParsedEntity>();
  private readonly splits = new Map<string, EntityObjectRef | null>();

  /** An entity object's parse, worked out once per object. */
  parsed(kind: EntityKind, obj: EntityObject): ParsedEntity {
    let p = this.parses.get(obj);
    if (p?.kind !== kind) {
      p = parseEntity(kind, obj);
      this.parses.set(obj, p);
    }
    return p;
  }

  /** splitCanonicalRef, kept. */
  objectRef(ref: string): EntityObjectRef | undefined {
    let parts = this.splits.get(ref);
    if (parts === undefined) {
      parts = splitCanonicalRef(ref) ?? null;
      if (this.splits.size >= OBJECT_REFS_KEPT) this.splits.clear();
      this.splits.set(ref, parts);
    }
    return parts ?? undefined;
  }
}
