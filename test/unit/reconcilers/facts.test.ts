import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import { workloadsReadyCondition } from '../../../src/catalog/entity-status.ts';
import { gatherEntityFacts } from '../../../src/reconcilers/facts.ts';
import { ReadinessOracle } from '../../../src/reconcilers/readiness-oracle.ts';
import { entityIndexers } from '../../../src/reconcilers/indexes.ts';
import { World } from '../../../src/reconcilers/world.ts';
import type { EntityObject } from '../../../src/api/kinds.ts';
import { Store } from '../../../src/runtime/store.ts';
import { entity, workload, worldOf } from '../../support/world.ts';

const spec = (more: Record<string, unknown> = {}) => ({ type: 'service', lifecycle: 'production', owner: 'team', system: 'shop', ...more });
const deployment = (name: string, readyReplicas: number, resourceVersion: string) => {
  const d = workload(
    'Deployment',
    'shop',
    name,
    { 'backstage.io/kubernetes-id': name },
    {
      spec: { replicas: 1 },
      status: { observedGeneration: 1, replicas: 1, readyReplicas, updatedReplicas: 1, availableReplicas: readyReplicas },
    },
  );
  return { ...d, metadata: { ...d.metadata, resourceVersion } };
};

function shop(): World {
  return worldOf({
    entities: [
      entity('Group', 'shop', 'team', { type: 'team' }),
      entity('System', 'shop', 'shop', { owner: 'team' }),
      entity('Component', 'shop', 'checkout', spec({ dependsOn: ['component:cart'] })),
      entity('Component', 'shop', 'cart', spec()),
    ],
    workloads: [deployment('checkout', 1, '1'), deployment('cart', 1, '1')],
  });
}

const facts = (world: World, kind: 'System' | 'Component', name: string) => gatherEntityFacts(world, kind, world.caches.entities[kind].get(`shop/${name}`)!);

describe('gatherEntityFacts', () => {
  it('follows a change of a workload read through other entities, after the same facts were gathered before', () => {
    const world = shop();
    expect(facts(world, 'System', 'shop').parts?.counts.components).toEqual({ total: 2, ready: 2 });
    expect(facts(world, 'Component', 'checkout').dependencies?.dependencies).toEqual([{ ref: 'component:shop/cart', found: true, ready: true }]);

    (world.caches.workloads.Deployment as Store<KubeObject>).upsert(deployment('cart', 0, '2'));
    expect(facts(world, 'System', 'shop').parts).toEqual({
      counts: expect.objectContaining({ components: { total: 2, ready: 1 } }),
      notReady: ['component:shop/cart'],
    });
    expect(facts(world, 'Component', 'checkout').dependencies?.dependencies).toEqual([{ ref: 'component:shop/cart', found: true, ready: false }]);
    expect(facts(world, 'Component', 'cart').claim?.won).toEqual([expect.objectContaining({ name: 'cart', ready: false, readyReplicas: 0 })]);
  });

  it('follows a change of an entity: a dependency dropped, then deleted; a part added', () => {
    const world = shop();
    expect(facts(world, 'Component', 'checkout').dependencies?.dependencies).toHaveLength(1);
    const components = world.caches.entities.Component as Store<EntityObject>;
    const checkout = entity('Component', 'shop', 'checkout', spec());
    components.upsert({ ...checkout, metadata: { ...checkout.metadata, generation: 2, resourceVersion: '2' } });
    expect(facts(world, 'Component', 'checkout').dependencies?.dependencies).toEqual([]);
    components.upsert({ ...checkout, metadata: { ...checkout.metadata, generation: 3, resourceVersion: '3' }, spec: spec({ dependsOn: ['component:cart'] }) });
    components.delete('shop/cart');
    expect(facts(world, 'Component', 'checkout').dependencies?.dependencies).toEqual([{ ref: 'component:shop/cart', found: false, ready: false }]);
    (world.caches.workloads.Deployment as Store<KubeObject>).upsert(deployment('search', 0, '3'));
    expect(facts(world, 'System', 'shop').parts?.counts.components).toEqual({ total: 1, ready: 1 });
    components.upsert(entity('Component', 'shop', 'search', spec()));
    expect(facts(world, 'System', 'shop').parts).toEqual({
      counts: expect.objectContaining({ components: { total: 2, ready: 1 } }),
      notReady: ['component:shop/search'],
    });
  });
});

describe('gatherEntityFacts, a selector that would reach the whole namespace', () => {
  const hostile = (name: string, more: { annotations?: Record<string, string>; selector?: Record<string, unknown> }) =>
    entity(
      'Component',
      'shop',
      name,
      spec(more.selector ? { workloads: { selector: more.selector } } : {}),
      more.annotations ? { annotations: more.annotations } : {},
    );

  it.each([
    [
      'the annotation "!x"',
      hostile('grabber', { annotations: { 'backstage.io/kubernetes-label-selector': '!x' } }),
      'annotation backstage.io/kubernetes-label-selector: must have a positive requirement',
    ],
    [
      'a stored spec selector of DoesNotExist only',
      hostile('grabber', { selector: { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] } }),
      'spec.workloads.selector: must have a positive requirement',
    ],
  ])('claims nothing with %s, and says so in WorkloadsReady', (_what, grabber, message) => {
    const world = worldOf({
      entities: [grabber, entity('Component', 'shop', 'checkout', spec())],
      workloads: [deployment('checkout', 1, '1'), deployment('cart', 1, '1')],
    });
    const claim = facts(world, 'Component', 'grabber').claim!;
    expect(claim).toEqual({ selectorError: expect.stringContaining(message), won: [], lost: [] });
    expect(workloadsReadyCondition(claim, 1)).toMatchObject({
      type: 'WorkloadsReady',
      status: 'False',
      reason: 'InvalidSelector',
      message: expect.stringContaining(message),
    });
    // The namespace's other entities keep their workloads, unchallenged.
    expect(facts(world, 'Component', 'checkout').claim).toMatchObject({ won: [expect.objectContaining({ name: 'checkout' })], lost: [] });
  });

  it('claims nothing with a selector on constructor or toString, which no workload carries', () => {
    const world = worldOf({
      entities: [
        hostile('proto', { selector: { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] } }),
        hostile('tostring', { annotations: { 'backstage.io/kubernetes-label-selector': 'toString' } }),
      ],
      workloads: [deployment('checkout', 1, '1')],
    });
    for (const name of ['proto', 'tostring']) expect(facts(world, 'Component', name).claim).toMatchObject({ won: [], lost: [] });
  });
});

describe('gatherEntityFacts, the dependsOn graph', () => {
  const component = (name: string, dependsOn: string[], generation = 1, status?: Record<string, unknown>) => {
    const e = entity('Component', 'shop', name, spec({ dependsOn }), status ? { status } : {});
    return { ...e, metadata: { ...e.metadata, generation, resourceVersion: String(generation * 100 + (status ? 1 : 0)) } };
  };
  const cycleOf = (world: World, name: string) => facts(world, 'Component', name).dependencies?.cycle;

  it('is kept through status changes and follows every change of a spec, an addition and a deletion', () => {
    const world = worldOf({
      entities: [
        entity('Group', 'shop', 'team', { type: 'team' }),
        component('a', ['component:b']),
        component('b', ['component:a']),
        component('c', ['component:a']),
      ],
    });
    expect(cycleOf(world, 'a')).toEqual(['component:shop/a', 'component:shop/b', 'component:shop/a']);
    expect(cycleOf(world, 'c')).toBeUndefined();

    // Status writes and workload changes leave the graph as it was.
    const components = world.caches.entities.Component as Store<EntityObject>;
    components.upsert(component('b', ['component:a'], 1, { readyWorkloads: 0 }));
    (world.caches.workloads.Deployment as Store<KubeObject>).upsert(deployment('a', 0, '9'));
    expect(cycleOf(world, 'b')).toEqual(['component:shop/b', 'component:shop/a', 'component:shop/b']);

    // b's spec no longer depends on a: the cycle is gone.
    components.upsert(component('b', [], 2));
    expect(cycleOf(world, 'a')).toBeUndefined();
    expect(cycleOf(world, 'b')).toBeUndefined();

    // c closes a new one through a, and b's deletion ends it again.
    components.upsert(component('b', ['component:c'], 3));
    expect(cycleOf(world, 'a')).toEqual(['component:shop/a', 'component:shop/b', 'component:shop/c', 'component:shop/a']);
    components.delete('shop/b');
    expect(cycleOf(world, 'a')).toBeUndefined();
    expect(facts(world, 'Component', 'a').dependencies?.dependencies).toEqual([{ ref: 'component:shop/b', found: false, ready: false }]);
    components.upsert(component('b', ['component:c'], 1));
    expect(cycleOf(world, 'c')).toEqual(['component:shop/c', 'component:shop/a', 'component:shop/b', 'component:shop/c']);
  });
});

describe('ReadinessOracle', () => {
  it('keeps no provisional answer when working one out fails', () => {
    const full = shop();
    // A Component cache without its refs index: a System's readiness cannot be worked out.
    const components = new Store<EntityObject>();
    for (const c of full.caches.entities.Component.list()) components.upsert(c);
    const world = new World({ ...full.caches, entities: { ...full.caches.entities, Component: components } });
    expect(() => new ReadinessOracle(world).ready('system:shop/shop')).toThrow(/index/);
    components.addIndexer('refs', entityIndexers('Component', world.parser).refs!);
    // Adding an index moves no version: the memo is the same one, and must not answer false.
    expect(new ReadinessOracle(world).ready('system:shop/shop')).toBe(true);
  });
});

describe('World.version', () => {
  it('moves on a change of every cache a status is computed from, and of the generations Backlot moved', () => {
    const world = shop();
    let last = world.version;
    const moved = () => {
      const now = world.version;
      const did = now !== last;
      last = now;
      return did;
    };
    (world.caches.entities.Group as Store<EntityObject>).upsert(entity('Group', 'shop', 'ops', { type: 'team' }));
    expect(moved()).toBe(true);
    (world.caches.workloads.Service as Store<KubeObject>).upsert(workload('Service', 'shop', 'cart', {}));
    expect(moved()).toBe(true);
    (world.caches.endpointSlices as Store<KubeObject>).upsert({ metadata: { name: 's', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'cart' } } });
    expect(moved()).toBe(true);
    (world.caches.jobs as Store<KubeObject>).upsert({ metadata: { name: 'j', namespace: 'shop' } });
    expect(moved()).toBe(true);
    const before = deployment('cart', 1, '1');
    world.ownGenerations.expect(before);
    expect(moved()).toBe(true);
    world.ownGenerations.confirm(before, { ...before, metadata: { ...before.metadata, generation: 2 } });
    expect(moved()).toBe(true);
    world.ownGenerations.forget(before);
    expect(moved()).toBe(true);
    // Nothing changed: reading again does not move it.
    expect(moved()).toBe(false);
    world.ownGenerations.forget(before);
    expect(moved()).toBe(false);
  });
});
