/**
 * The catalog's part of the operator: its informers, the World over their caches, the two
 * controllers (entity status, workload ownership), and the state metrics. The composition
 * root starts the informers, runs the controllers while this process leads, and serves the
 * metrics.
 */
import type { Logger } from 'pino';
import { WORKLOAD_KINDS } from '../api/workloads.ts';
import { apply, type Apply } from '../k8s/apply.ts';
import { DEFAULT_EVENT_QUEUE_LIMIT, EventRecorder } from '../k8s/events.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { RestClient } from '../k8s/rest.ts';
import { createStateMetrics, type StateMetrics } from './state-metrics.ts';
import type { RuntimeMetricsProvider } from '../runtime/metrics.ts';
import type { Clock } from '../util/clock.ts';
import { Controller, type Source } from '../runtime/controller.ts';
import type { Informer } from '../runtime/informer.ts';
import { LOW_PRIORITY } from '../runtime/workqueue.ts';
import { EntityReconciler } from './entity.ts';
import { createCatalogInformers, type CatalogInformers, type MakeInformer } from './informers.ts';
import { OwnershipReconciler, splitWorkloadKey, workloadKey } from './ownership.ts';
import { DEFAULT_EXCLUDED_NAMESPACES } from './survey.ts';
import { onEndpointSliceChange, onEntityChange, onJobChange, onNamespaceChange, onWorkloadChange, type Enqueue } from './triggers.ts';
import { EntityParser } from './entities.ts';
import { World } from './world.ts';
import { ENTITY_KINDS, type EntityObject } from '../api/kinds.ts';

export interface CatalogOptions {
  /** How informers are made: the runtime's InformerFactory. */
  makeInformer: MakeInformer;
  client: RestClient;
  logger: Logger;
  clock: Clock;
  metrics: RuntimeMetricsProvider;
  /** Backlot's own namespace, never reported for orphans. */
  ownNamespace?: string;
  /** The name of this instance in Events (the pod name). */
  instance: string;
  /** Whether this process leads; only the leader exports the state metrics. Default: always. */
  isLeader?: () => boolean;
  workers?: number;
  /** Subscribes to the first pass of each leader term; claim Events are held over it. */
  onFirstPass?: (listener: (running: boolean) => void) => void;
  /**
   * Subscribes to leadership; Events are recorded only while this process leads, and those
   * still waiting when a term ends are dropped (on an orderly shutdown, after beforeRelease
   * has given them their chance). Without it, Events are always recorded.
   */
  onLeadership?: (listener: (leading: boolean) => void) => void;
  /** Subscribes to the moment before an orderly shutdown ends leadership (see RuntimeContext). */
  beforeRelease?: (listener: (timeoutMs: number) => Promise<void>) => void;
}

export interface Catalog {
  informers: CatalogInformers;
  world: World;
  controllers: Controller[];
  /** The state families (backlot_entity_*, backlot_workload_*, ...), for /metrics. */
  stateMetrics: StateMetrics;
  /** Where the controllers' Events go; on while this process leads. */
  events: EventRecorder;
}

type Side = 'entity' | 'workload';

/**
 * A source of keys for one queue, fed by every informer of the catalog through the triggers.
 *
 * The first pass of a term (the initial lists, or the replay of the caches when leadership
 * is regained) puts every object's own key on its queue, and workers start only once every
 * cache is complete; so while that pass lasts, an object adds its own key and nothing else:
 * working out whom else it concerns would find keys that are queued anyway, against caches
 * still being filled. Past it, every change goes through the triggers. The first pass's keys
 * go at LOW_PRIORITY: a change made while a large start-up is under way is taken first.
 */
export function catalogSource(informers: CatalogInformers, world: World, side: Side): Source {
  const all: Informer[] = informers.all;
  return {
    name: `catalog-${side}`,
    synced: () => Promise.all(all.map((i) => i.whenSynced())).then(() => undefined),
    register(enqueue) {
      const q: Enqueue = side === 'entity' ? { entity: enqueue } : { workload: enqueue };
      let replaying = true;
      const firstPass = () => replaying || !all.every((i) => i.synced);
      const offs: (() => void)[] = [];
      for (const kind of ENTITY_KINDS) {
        const own = (obj: EntityObject) => {
          if (side === 'entity') enqueue(world.parsed(kind, obj).ref, LOW_PRIORITY);
        };
        const change = (oldObj: EntityObject | undefined, newObj: EntityObject | undefined) =>
          firstPass() ? own((newObj ?? oldObj)!) : onEntityChange(world, q, kind, oldObj, newObj);
        offs.push(
          informers.entities[kind].addEventHandler(
            {
              onAdd: (obj) => change(undefined, obj),
              onUpdate: (oldObj, newObj) => change(oldObj, newObj),
              onDelete: (obj) => change(obj, undefined),
            },
            { replay: true },
          ),
        );
      }
      for (const kind of WORKLOAD_KINDS) {
        const change = (oldObj: KubeObject | undefined, newObj: KubeObject | undefined) => {
          if (!firstPass()) onWorkloadChange(world, q, kind, oldObj, newObj);
          else if (side === 'workload') {
            const obj = (newObj ?? oldObj)!;
            enqueue(workloadKey(kind, obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''), LOW_PRIORITY);
          }
        };
        offs.push(
          informers.workloads[kind].addEventHandler(
            {
              onAdd: (obj) => change(undefined, obj),
              onUpdate: (oldObj, newObj) => change(oldObj, newObj),
              onDelete: (obj) => {
                if (side === 'workload') world.ownGenerations.forget(obj);
                change(obj, undefined);
              },
            },
            { replay: true },
          ),
        );
      }
      if (side === 'entity') {
        const jobs = (obj: KubeObject) => {
          if (!firstPass()) onJobChange(world, q, obj);
        };
        const slices = (obj: KubeObject) => {
          if (!firstPass()) onEndpointSliceChange(world, q, obj);
        };
        offs.push(informers.jobs.addEventHandler({ onAdd: jobs, onUpdate: (_o, n) => jobs(n), onDelete: jobs }, { replay: true }));
        offs.push(informers.endpointSlices.addEventHandler({ onAdd: slices, onUpdate: (_o, n) => slices(n), onDelete: slices }, { replay: true }));
      }
      const namespaces = (oldObj: KubeObject | undefined, newObj: KubeObject | undefined) => {
        if (!firstPass()) onNamespaceChange(world, q, oldObj, newObj);
      };
      offs.push(
        informers.namespaces.addEventHandler(
          { onAdd: (obj) => namespaces(undefined, obj), onUpdate: (o, n) => namespaces(o, n), onDelete: (obj) => namespaces(obj, undefined) },
          { replay: true },
        ),
      );
      replaying = false;
      return () => offs.forEach((off) => off());
    },
  };
}

/**
 * While direct work is under way (a workload's claimants, a changed entity), the entity
 * controller's derived work (Systems, dependents, the echoes of status writes) holds at most
 * a quarter of its workers: the rest stay free for the next direct change, the API server has
 * fewer of Backlot's requests to share its time among, and derived keys that wait meanwhile
 * coalesce, so a System that several parts changed under is written once. A start-up pass,
 * all derived, still uses every worker. The ownership controller has no derived work (its
 * only LOW keys are a term's first pass, which the echoes of its own writes would otherwise
 * hold back), so it is not limited.
 */
export function lowPriorityWorkers(workers: number): number {
  return Math.max(1, Math.floor(workers / 4));
}

/**
 * The entity controller runs half as many workers as the ownership controller. Ownership is
 * bulk work, one apply per workload, most of it in a cold start, where more requests in
 * flight shorten the pass. Entity work is what a change waits for, and every worker holds a
 * request in flight at the API server, which answers each later the more it holds (the
 * churn's own writes and Backlot's statuses alike), so past a point more entity workers make
 * each change wait longer, not shorter (docs/benchmarks.md has the figures).
 */
export function entityWorkers(workers: number): number {
  return Math.max(1, Math.ceil(workers / 2));
}

/**
 * How many Events may wait to be sent: twice the entities cached, and at least the
 * recorder's default. A first install posts one combined claim Event per entity that claims
 * anything, held until the first pass has written the state they describe, so a fixed limit
 * would drop the claims of every entity past it in a large catalog; one or two Events per
 * entity stay within a kilobyte or two each, beside the entity's own cached object.
 */
export function eventQueueLimit(entities: number): number {
  return Math.max(DEFAULT_EVENT_QUEUE_LIMIT, 2 * entities);
}

export function createCatalog(options: CatalogOptions): Catalog {
  const { client, logger, clock, metrics } = options;
  const parser = new EntityParser();
  const informers = createCatalogInformers(options.makeInformer, parser);
  const world = new World(informers.caches, { parser });
  const cachedEntities = () => ENTITY_KINDS.reduce((n, kind) => n + informers.caches.entities[kind].size, 0);
  const events = new EventRecorder({ client, clock, logger, instance: options.instance, queueLimit: () => eventQueueLimit(cachedEntities()) });
  options.onLeadership?.((leading) => (leading ? events.enable() : events.disable()));
  options.onFirstPass?.((running) => events.hold(running));
  options.beforeRelease?.((timeoutMs) => events.flush(timeoutMs));
  const write: Apply = (req) => apply(client, req);
  const entities = new EntityReconciler({ world, apply: write, clock, events, logger });
  const ownership = new OwnershipReconciler({ world, apply: write, events, logger });
  const workers = options.workers ?? 32;
  const entityCount = entityWorkers(workers);

  const controller = (name: string, side: Side, reconciler: { reconcile(key: string, signal?: AbortSignal): Promise<void> }) =>
    new Controller({
      name,
      sources: [catalogSource(informers, world, side)],
      reconcile: (key, ctx) => reconciler.reconcile(key, ctx.signal),
      logger,
      metrics,
      clock,
      keyFields: side === 'entity' ? (key) => ({ ...world.objectRef(key) }) : (key) => ({ ...splitWorkloadKey(key) }),
      ...(side === 'entity' ? { workers: entityCount, lowPriorityWorkers: lowPriorityWorkers(entityCount) } : { workers }),
    });
  const controllers = [controller('entity', 'entity', entities), controller('ownership', 'workload', ownership)];

  const excluded = new Set<string>([...DEFAULT_EXCLUDED_NAMESPACES, ...(options.ownNamespace ? [options.ownNamespace] : [])]);
  const stateMetrics = createStateMetrics({ world, excludedNamespaces: excluded, ...(options.isLeader ? { exporting: options.isLeader } : {}) });
  return { informers, world, controllers, stateMetrics, events };
}
