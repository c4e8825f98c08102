/**
 * The entity reconciler: gather the facts about one entity from the cache, decide its
 * status, and write it once, through the status subresource, only when it differs from what
 * the cache holds. Status transitions are recorded as Events.
 *
 * Keys are canonical references, e.g. component:shop/checkout.
 */
import type { Logger } from 'pino';
import { API_VERSION } from '../api/common.ts';
import { ConditionType } from '../api/conditions.ts';
import type { Condition } from '../api/status.ts';
import { decideStatus, type DecidedStatus } from '../catalog/entity-status.ts';
import type { Apply } from '../k8s/apply.ts';
import type { EventRecorder, EventSpec } from '../k8s/events.ts';
import type { Clock } from '../util/clock.ts';
import { gatherEntityFacts } from './facts.ts';
import { RecentWrites } from './recent-writes.ts';
import type { World } from './world.ts';
import { entityResource, type AnyEntityStatus, type EntityObject } from '../api/kinds.ts';

export interface EntityReconcilerOptions {
  world: World;
  /** Writes the status (server-side apply to the status subresource). */
  apply: Apply;
  clock: Clock;
  events: Pick<EventRecorder, 'record'>;
  logger: Logger;
}

/**
 * Whether two JSON-like values would serialize to the same JSON whatever their key order: a
 * property that is undefined counts as absent, as JSON.stringify leaves it out. Compared in
 * place, without building either text (every reconcile compares a status).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    defined++;
    if (!sameJson(x[key], y[key])) return false;
  }
  for (const key in y) if (y[key] !== undefined) defined--;
  return defined === 0;
}

/** The events a change of conditions deserves: one per condition whose status or reason moved. */
export function transitionEvents(obj: EntityObject, before: readonly Condition[] | undefined, after: readonly Condition[]): EventSpec[] {
  const out: EventSpec[] = [];
  const seen = new Set<string>();
  for (const c of after) {
    // Root causes only, as the alerts: a dependency that fails says so in its own Events; its
    // dependents show it in their DependenciesReady condition, without an Event each (one
    // broken database would otherwise post one per dependent, and again on recovery).
    if (c.type === ConditionType.DependenciesReady) continue;
    const was = before?.find((b) => b.type === c.type);
    if (was && was.status === c.status && was.reason === c.reason) continue;
    // A new entity that starts healthy is not news.
    if (!was && c.status !== 'False') continue;
    if (c.status === 'Unknown') continue;
    const failing = c.status === 'False' || c.reason === 'ClaimConflict';
    // Ready of a Component or Resource repeats WorkloadsReady: one event tells it.
    const reason = failing ? c.reason : c.type === ConditionType.Ready ? 'Ready' : c.type;
    if (seen.has(reason)) continue;
    seen.add(reason);
    out.push({
      regarding: obj,
      reason,
      action: 'Reconcile',
      type: failing ? 'Warning' : 'Normal',
      note: `${c.type} is ${c.status}: ${c.message}`,
    });
  }
  return out;
}

export class EntityReconciler {
  private readonly options: EntityReconcilerOptions;
  private readonly recent: RecentWrites<DecidedStatus>;

  constructor(options: EntityReconcilerOptions) {
    this.options = options;
    this.recent = new RecentWrites();
  }

  async reconcile(key: string, signal?: AbortSignal): Promise<void> {
    const { world, clock } = this.options;
    const parts = world.objectRef(key);
    if (!parts) return;
    const obj = world.caches.entities[parts.kind].get(`${parts.namespace}/${parts.name}`);
    // Gone from the cache: deleted, and its status went with it. Nothing to do.
    if (!obj) {
      this.recent.forget(key);
      return;
    }
    // The status as it stands: the one just written if the cache has not seen it yet. Deciding
    // from it keeps lastTransitionTime, so a quick second pass writes nothing new.
    const current: AnyEntityStatus = this.recent.pending(key, obj) ?? obj.status ?? {};
    const facts = { ...gatherEntityFacts(world, parts.kind, obj), previousConditions: current.conditions };
    const status = decideStatus(facts, new Date(clock.now()));
    if (sameJson(current, status)) return;
    await this.options.apply({
      resource: entityResource(parts.kind),
      namespace: parts.namespace,
      name: parts.name,
      status: true,
      body: { apiVersion: API_VERSION, kind: parts.kind, metadata: { name: parts.name, namespace: parts.namespace }, status },
      ...(signal ? { signal } : {}),
    });
    this.recent.record(key, obj, status);
    for (const event of transitionEvents(obj, current.conditions, status.conditions)) this.options.events.record(event);
  }
}
