/**
 * The catalog's sources: through a term's first pass each object puts only its own key on its
 * queue; once every cache is complete, changes go through the triggers.
 */
import { describe, expect, it } from '@jest/globals';
import { WORKLOAD_KINDS } from '../../../src/api/workloads.ts';
import type { KubeObject } from '../../../src/k8s/object.ts';
import { catalogSource } from '../../../src/reconcilers/catalog.ts';
import type { CatalogInformers } from '../../../src/reconcilers/informers.ts';
import type { World } from '../../../src/reconcilers/world.ts';
import { ENTITY_KINDS } from '../../../src/api/kinds.ts';
import type { EventHandler } from '../../../src/runtime/informer.ts';
import { LOW_PRIORITY } from '../../../src/runtime/workqueue.ts';
import { entity, workload, worldOf } from '../../support/world.ts';

/** An informer stand-in: a fixed cache to replay, handlers to tell of changes, and a synced flag. */
class StubInformer {
  synced: boolean;
  readonly handlers: EventHandler<KubeObject>[] = [];
  private readonly objects: KubeObject[];
  constructor(objects: KubeObject[], synced: boolean) {
    this.objects = objects;
    this.synced = synced;
  }
  whenSynced(): Promise<void> {
    return Promise.resolve();
  }
  addEventHandler(handler: EventHandler<KubeObject>, options: { replay?: boolean } = {}): () => void {
    this.handlers.push(handler);
    if (options.replay) for (const obj of this.objects) handler.onAdd?.(obj);
    return () => undefined;
  }
  add(obj: KubeObject): void {
    for (const h of this.handlers) h.onAdd?.(obj);
  }
  update(oldObj: KubeObject, newObj: KubeObject): void {
    for (const h of this.handlers) h.onUpdate?.(oldObj, newObj);
  }
}

const checkout = entity('Component', 'shop', 'checkout', { type: 'service', lifecycle: 'production', owner: 'team-payments', system: 'webshop' });
const cart = entity('Component', 'shop', 'cart', { type: 'service', lifecycle: 'production', owner: 'team-payments', dependsOn: ['component:checkout'] });
const webshop = entity('System', 'shop', 'webshop', { owner: 'team-payments' });
const deployment = (ready: number) =>
  workload(
    'Deployment',
    'shop',
    'checkout',
    { 'backstage.io/kubernetes-id': 'checkout' },
    {
      spec: { replicas: 2 },
      status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: ready, availableReplicas: ready },
    },
  );
const stray = workload('Deployment', 'shop', 'stray', { app: 'stray' });

function setup(synced: boolean) {
  const world: World = worldOf({ entities: [checkout, cart, webshop], workloads: [deployment(2), stray] });
  const stub = (objects: KubeObject[]) => new StubInformer(objects, synced);
  const entities = Object.fromEntries(ENTITY_KINDS.map((k) => [k, stub([checkout, cart, webshop].filter((e) => e.kind === k))]));
  const workloads = Object.fromEntries(WORKLOAD_KINDS.map((k) => [k, stub(k === 'Deployment' ? [deployment(2), stray] : [])]));
  const jobs = stub([]);
  const endpointSlices = stub([]);
  const namespaces = stub([]);
  const all = [...Object.values(entities), ...Object.values(workloads), jobs, endpointSlices, namespaces];
  const informers = { all, entities, workloads, jobs, endpointSlices, namespaces } as unknown as CatalogInformers;
  const keys = { entity: [] as string[], workload: [] as string[] };
  const priorities: number[] = [];
  const recorder =
    (side: 'entity' | 'workload') =>
    (key: string, priority = 0) => {
      keys[side].push(key);
      priorities.push(priority);
    };
  catalogSource(informers, world, 'entity').register(recorder('entity'));
  catalogSource(informers, world, 'workload').register(recorder('workload'));
  const deployments = workloads.Deployment!;
  return { keys, all, deployments, priorities };
}

describe('catalog sources', () => {
  it('a replay of complete caches (a new term) puts each object on its own queue once, at low priority, nothing more', () => {
    const { keys, priorities } = setup(true);
    expect(keys.entity.sort()).toEqual(['component:shop/cart', 'component:shop/checkout', 'system:shop/webshop']);
    expect(keys.workload.sort()).toEqual(['Deployment/shop/checkout', 'Deployment/shop/stray']);
    expect(new Set(priorities)).toEqual(new Set([LOW_PRIORITY]));
  });

  it('changes during the initial lists add own keys only; once every cache is complete they go through the triggers', () => {
    const { keys, all, deployments } = setup(false);
    keys.entity.length = 0;
    keys.workload.length = 0;
    // A readiness change while the caches fill: only the workload's own key.
    deployments.update(deployment(2), deployment(1));
    expect(keys).toEqual({ entity: [], workload: ['Deployment/shop/checkout'] });

    for (const i of all) i.synced = true;
    keys.workload.length = 0;
    deployments.update(deployment(1), deployment(2));
    // Now its claimant and whoever reads its health look again.
    expect(keys.entity.sort()).toEqual(['component:shop/cart', 'component:shop/checkout', 'system:shop/webshop']);
    expect(keys.workload).toEqual(['Deployment/shop/checkout']);
  });
});
