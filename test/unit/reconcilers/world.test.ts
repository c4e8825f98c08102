import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import type { Store } from '../../../src/runtime/store.ts';
import { parsedEntity, type EntityObject } from '../../../src/reconcilers/world.ts';
import { entity, workload, worldOf } from '../../support/world.ts';

const component = (name: string, annotations?: Record<string, string>) =>
  entity('Component', 'shop', name, { type: 'service', lifecycle: 'production', owner: 'team' }, annotations ? { annotations } : {});

describe('World.claimants', () => {
  it('is kept while the Component and Resource caches stay as they are, and follows them when they change', () => {
    const world = worldOf({ entities: [component('checkout'), entity('Group', 'shop', 'team', { type: 'team' })] });
    const first = world.claimants('shop');
    expect(first.all.map((c) => c.ref)).toEqual(['component:shop/checkout']);
    expect(world.claimants('shop')).toBe(first);

    const components = world.caches.entities.Component as Store<EntityObject>;
    components.upsert(component('cart'));
    expect(world.claimants('shop').all.map((c) => c.ref).sort()).toEqual(['component:shop/cart', 'component:shop/checkout']);

    // A new selector annotation on an existing Component is seen at once.
    components.upsert(component('cart', { 'backstage.io/kubernetes-label-selector': 'app=cart' }));
    const cart = world.claimants('shop').all.find((c) => c.ref === 'component:shop/cart')!;
    expect(cart.selector.matches({ app: 'cart' })).toBe(true);
    expect(cart.selector.matches({ 'backstage.io/kubernetes-id': 'cart' })).toBe(false);

    components.delete('shop/checkout');
    expect(world.claimants('shop').all.map((c) => c.ref)).toEqual(['component:shop/cart']);
    expect(world.claimants('other').all).toEqual([]);
  });
});

describe('World.claimsIn', () => {
  const deployment = (namespace: string, name: string, id: string) => workload('Deployment', namespace, name, { 'backstage.io/kubernetes-id': id });
  const older = entity('Component', 'shop', 'checkout', { type: 'service', lifecycle: 'production', owner: 'team' }, { created: '2026-01-01T00:00:00Z' });
  const newer = entity('Component', 'shop', 'checkout-v2', { type: 'service', lifecycle: 'production', owner: 'team' }, { annotations: { 'backstage.io/kubernetes-label-selector': 'backstage.io/kubernetes-id=checkout' } });

  it('lists each claimant\'s workloads, won or not, with every claimant winner first', () => {
    const world = worldOf({ entities: [older, newer], workloads: [deployment('shop', 'checkout', 'checkout'), deployment('shop', 'stray', 'stray')] });
    const claims = world.claimsIn('shop');
    const expected = { kind: 'Deployment', name: 'checkout', claimants: [expect.objectContaining({ ref: 'component:shop/checkout' }), expect.objectContaining({ ref: 'component:shop/checkout-v2' })] };
    expect(claims.byClaimant.get('component:shop/checkout')).toEqual([expected]);
    expect(claims.byClaimant.get('component:shop/checkout-v2')).toEqual([expected]);
    expect([...claims.byWorkload.keys()]).toEqual(['Deployment/checkout']);
  });

  it('is kept until a workload of the namespace or a claimant changes', () => {
    const world = worldOf({ entities: [older], workloads: [deployment('shop', 'checkout', 'checkout'), deployment('other', 'checkout', 'checkout')] });
    const first = world.claimsIn('shop');
    expect(world.claimsIn('shop')).toBe(first);

    const deployments = world.caches.workloads.Deployment as Store<KubeObject>;
    deployments.upsert(deployment('other', 'checkout', 'cart')); // another namespace
    expect(world.claimsIn('shop')).toBe(first);

    deployments.upsert(deployment('shop', 'checkout', 'cart')); // relabelled: nobody's now
    expect(world.claimsIn('shop').byWorkload.size).toBe(0);

    deployments.upsert(deployment('shop', 'checkout', 'checkout'));
    const before = world.claimsIn('shop');
    expect(before.byWorkload.size).toBe(1);
    (world.caches.entities.Component as Store<EntityObject>).delete('shop/checkout');
    expect(world.claimsIn('shop').byWorkload.size).toBe(0);
  });

  it('is kept through status updates of workloads and claimants, which claim nothing anew', () => {
    const world = worldOf({ entities: [older], workloads: [deployment('shop', 'checkout', 'checkout')] });
    const first = world.claimsIn('shop');
    const claimants = world.claimants('shop');

    const deployments = world.caches.workloads.Deployment as Store<KubeObject>;
    deployments.upsert({ ...deployment('shop', 'checkout', 'checkout'), status: { readyReplicas: 0 } });
    const components = world.caches.entities.Component as Store<EntityObject>;
    components.upsert({ ...older, metadata: { ...older.metadata, resourceVersion: '99' }, status: { readyWorkloads: 0 } });
    expect(world.claimsIn('shop')).toBe(first);
    expect(world.claimants('shop')).toBe(claimants);

    // A change of the claimant's spec (its generation moves) is looked at again.
    components.upsert({ ...older, metadata: { ...older.metadata, resourceVersion: '100', generation: 2 }, spec: { ...older.spec, workloads: { selector: { matchLabels: { app: 'none' } } } } });
    expect(world.claimsIn('shop').byWorkload.size).toBe(0);
  });
});

describe('parsedEntity', () => {
  it('parses an object once for the index functions and every reader, and a new version of it anew', () => {
    const obj = component('checkout');
    const world = worldOf({ entities: [obj] });
    const first = parsedEntity('Component', obj);
    expect(world.parsed('Component', obj)).toBe(first);
    expect(world.entity('component:shop/checkout')?.parsed).toBe(first);
    const renamed = component('checkout', { 'backstage.io/kubernetes-label-selector': 'app=checkout' });
    expect(parsedEntity('Component', renamed)).not.toBe(first);
    expect(parsedEntity('Component', renamed).claim).toEqual(expect.objectContaining({ ok: true }));
    // Asked as another kind, the same object is parsed as that kind.
    expect(parsedEntity('Resource', obj).ref).toBe('resource:shop/checkout');
  });
});
