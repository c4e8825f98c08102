import { describe, expect, it } from '@jest/globals';
import type { Store } from '../../../src/runtime/store.ts';
import type { EntityObject } from '../../../src/reconcilers/world.ts';
import { entity, worldOf } from '../../support/world.ts';

const component = (name: string, annotations?: Record<string, string>) =>
  entity('Component', 'shop', name, { type: 'service', lifecycle: 'production', owner: 'team' }, annotations ? { annotations } : {});

describe('World.claimants', () => {
  it('is kept while the Component and Resource caches stay as they are, and follows them when they change', () => {
    const world = worldOf({ entities: [component('checkout'), entity('Group', 'shop', 'team', { type: 'team' })] });
    const first = world.claimants('shop');
    expect(first.map((c) => c.ref)).toEqual(['component:shop/checkout']);
    expect(world.claimants('shop')).toBe(first);

    const components = world.caches.entities.Component as Store<EntityObject>;
    components.upsert(component('cart'));
    expect(world.claimants('shop').map((c) => c.ref).sort()).toEqual(['component:shop/cart', 'component:shop/checkout']);

    // A new selector annotation on an existing Component is seen at once.
    components.upsert(component('cart', { 'backstage.io/kubernetes-label-selector': 'app=cart' }));
    const cart = world.claimants('shop').find((c) => c.ref === 'component:shop/cart')!;
    expect(cart.selector.matches({ app: 'cart' })).toBe(true);
    expect(cart.selector.matches({ 'backstage.io/kubernetes-id': 'cart' })).toBe(false);

    components.delete('shop/checkout');
    expect(world.claimants('shop').map((c) => c.ref)).toEqual(['component:shop/cart']);
    expect(world.claimants('other')).toEqual([]);
  });
});
