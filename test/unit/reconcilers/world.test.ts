import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import type { Store } from '../../../src/runtime/store.ts';
import { JOURNAL_LIMIT } from '../../../src/runtime/store.ts';
import { EntityParser } from '../../../src/reconcilers/entities.ts';
import { World } from '../../../src/reconcilers/world.ts';
import type { NamespaceClaims } from '../../../src/reconcilers/world-claims.ts';
import type { EntityObject } from '../../../src/api/kinds.ts';
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
    expect(
      world
        .claimants('shop')
        .all.map((c) => c.ref)
        .sort(),
    ).toEqual(['component:shop/cart', 'component:shop/checkout']);

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
  const newer = entity(
    'Component',
    'shop',
    'checkout-v2',
    { type: 'service', lifecycle: 'production', owner: 'team' },
    { annotations: { 'backstage.io/kubernetes-label-selector': 'backstage.io/kubernetes-id=checkout' } },
  );

  it("lists each claimant's workloads, won or not, with every claimant winner first", () => {
    const world = worldOf({ entities: [older, newer], workloads: [deployment('shop', 'checkout', 'checkout'), deployment('shop', 'stray', 'stray')] });
    const claims = world.claimsIn('shop');
    const expected = {
      kind: 'Deployment',
      name: 'checkout',
      claimants: [expect.objectContaining({ ref: 'component:shop/checkout' }), expect.objectContaining({ ref: 'component:shop/checkout-v2' })],
    };
    expect(claims.byClaimant.get('component:shop/checkout')).toEqual([expected]);
    expect(claims.byClaimant.get('component:shop/checkout-v2')).toEqual([expected]);
    expect([...claims.byWorkload.keys()]).toEqual(['Deployment/checkout']);
  });

  it('shares one frozen list among the workloads a claimant claims alone, and gives a contested one its own', () => {
    const deployments = [
      deployment('shop', 'checkout', 'checkout'),
      deployment('shop', 'checkout-api', 'checkout'),
      deployment('shop', 'checkout-worker', 'checkout'),
    ];
    const world = worldOf({ entities: [older, component('cart', { 'backstage.io/kubernetes-label-selector': 'app=checkout' })], workloads: deployments });
    const claims = world.claimsIn('shop');
    const alone = claims.byWorkload.get('Deployment/checkout-api')!.claimants;
    expect(alone.map((c) => c.ref)).toEqual(['component:shop/checkout']);
    expect(Object.isFrozen(alone)).toBe(true);
    expect(claims.byWorkload.get('Deployment/checkout-worker')!.claimants).toBe(alone);
    // A workload added later, folded in alone, shares it too.
    (world.caches.workloads.Deployment as Store<KubeObject>).upsert(deployment('shop', 'checkout-cron', 'checkout'));
    expect(world.claimsIn('shop').byWorkload.get('Deployment/checkout-cron')!.claimants).toBe(alone);
    const contested = workload('Deployment', 'shop', 'both', { 'backstage.io/kubernetes-id': 'checkout', app: 'checkout' });
    (world.caches.workloads.Deployment as Store<KubeObject>).upsert(contested);
    expect(
      world
        .claimsIn('shop')
        .byWorkload.get('Deployment/both')!
        .claimants.map((c) => c.ref),
    ).toEqual(['component:shop/checkout', 'component:shop/cart']);
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
    components.upsert({
      ...older,
      metadata: { ...older.metadata, resourceVersion: '100', generation: 2 },
      spec: { ...older.spec, workloads: { selector: { matchLabels: { app: 'none' } } } },
    });
    expect(world.claimsIn('shop').byWorkload.size).toBe(0);
  });
});

describe('World.claimsIn, kept up to date', () => {
  /** Claims as plain, ordered data: who claims each workload, and each claimant's workloads. */
  const plain = (claims: NamespaceClaims) => ({
    byWorkload: [...claims.byWorkload].map(([id, c]) => [id, c.kind, c.name, c.claimants.map((x) => x.ref)] as const).sort((a, b) => a[0].localeCompare(b[0])),
    byClaimant: [...claims.byClaimant]
      .map(([ref, list]) => [ref, list.map((c) => `${c.kind}/${c.name}`).sort()] as const)
      .sort((a, b) => a[0].localeCompare(b[0])),
  });

  it('folds in added, relabelled and deleted workloads as a fresh pass over the same caches would find them', () => {
    let x = 11;
    const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
    const ids = ['checkout', 'cart', 'search', 'nobody'];
    const entities = [
      ...['checkout', 'cart', 'search'].map((name, i) =>
        entity('Component', 'shop', name, { type: 'service', lifecycle: 'production', owner: 'team' }, { created: `2026-01-0${i + 1}T00:00:00Z` }),
      ),
      // A second claimant of cart's workloads, and one whose selector files under no single pair.
      entity(
        'Resource',
        'shop',
        'cart-db',
        { type: 'database', owner: 'team' },
        { annotations: { 'backstage.io/kubernetes-label-selector': 'backstage.io/kubernetes-id=cart' } },
      ),
      entity(
        'Component',
        'shop',
        'tiers',
        { type: 'service', lifecycle: 'production', owner: 'team' },
        { annotations: { 'backstage.io/kubernetes-label-selector': 'tier in (web,api)' } },
      ),
    ];
    const world = worldOf({ entities });
    const caches = world.caches.workloads;
    let rv = 1;
    let folded = 0;
    let last: NamespaceClaims | undefined;
    for (let step = 0; step < 600; step++) {
      const kind = pick(['Deployment', 'Service', 'StatefulSet'] as const);
      const name = `w${Math.floor(next() * 30)}`;
      const store = caches[kind] as Store<KubeObject>;
      if (next() < 0.2) store.delete(`shop/${name}`);
      else {
        const labels: Record<string, string> = { 'backstage.io/kubernetes-id': pick(ids) };
        if (next() < 0.4) labels.tier = pick(['web', 'api', 'batch']);
        if (next() < 0.1) labels['backlot.dev/ignore'] = 'true';
        store.upsert(workload(kind, 'shop', name, labels, { metadata: { name, namespace: 'shop', resourceVersion: String(++rv), labels } }));
      }
      // Read now and then, so that between two reads one change or several are folded in.
      if (next() < 0.5) {
        const now = world.claimsIn('shop');
        // The same object as at the last read: the changes since were folded into it.
        if (now === last) folded++;
        last = now;
        expect(plain(now)).toEqual(plain(new World(world.caches).claimsIn('shop')));
      }
    }
    expect(folded).toBeGreaterThan(200);
    expect(world.claimsIn('shop').byWorkload.size).toBeGreaterThan(5);
  });

  it('is one object, updated in place, whose lists read before a change stay as they were', () => {
    const world = worldOf({
      entities: [component('checkout')],
      workloads: [workload('Deployment', 'shop', 'a', { 'backstage.io/kubernetes-id': 'checkout' })],
    });
    const claims = world.claimsIn('shop');
    const list = claims.byClaimant.get('component:shop/checkout')!;
    expect(list.map((c) => c.name)).toEqual(['a']);
    (world.caches.workloads.Deployment as Store<KubeObject>).upsert(workload('Deployment', 'shop', 'b', { 'backstage.io/kubernetes-id': 'checkout' }));
    expect(world.claimsIn('shop')).toBe(claims);
    expect(
      claims.byClaimant
        .get('component:shop/checkout')!
        .map((c) => c.name)
        .sort(),
    ).toEqual(['a', 'b']);
    expect(list.map((c) => c.name)).toEqual(['a']);
  });

  it('works the namespace out again once more workloads changed than the caches remember', () => {
    const world = worldOf({ entities: [component('checkout')] });
    const first = world.claimsIn('shop');
    const deployments = world.caches.workloads.Deployment as Store<KubeObject>;
    for (let i = 0; i <= JOURNAL_LIMIT; i++) deployments.upsert(workload('Deployment', 'shop', `w${i}`, { 'backstage.io/kubernetes-id': 'checkout' }));
    const again = world.claimsIn('shop');
    expect(again).not.toBe(first);
    expect(again.byWorkload.size).toBe(JOURNAL_LIMIT + 1);
    expect(plain(again)).toEqual(plain(new World(world.caches).claimsIn('shop')));
  });
});

describe('EntityParser', () => {
  it('parses an object once for the index functions and every reader, and a new version of it anew', () => {
    const obj = component('checkout');
    const world = worldOf({ entities: [obj] });
    const parsedEntity = (kind: 'Component' | 'Resource', o: EntityObject) => world.parser.parsed(kind, o);
    const first = parsedEntity('Component', obj);
    expect(world.parsed('Component', obj)).toBe(first);
    expect(world.entity('component:shop/checkout')?.parsed).toBe(first);
    const renamed = component('checkout', { 'backstage.io/kubernetes-label-selector': 'app=checkout' });
    expect(parsedEntity('Component', renamed)).not.toBe(first);
    expect(parsedEntity('Component', renamed).claim).toEqual(expect.objectContaining({ ok: true }));
    // Asked as another kind, the same object is parsed as that kind.
    expect(parsedEntity('Resource', obj).ref).toBe('resource:shop/checkout');
  });

  it('splits canonical references, keeping each split, and knows no user: object', () => {
    const parser = new EntityParser();
    expect(parser.objectRef('component:shop/checkout')).toEqual({ kind: 'Component', namespace: 'shop', name: 'checkout' });
    expect(parser.objectRef('component:shop/checkout')).toBe(parser.objectRef('component:shop/checkout'));
    expect(parser.objectRef('api:shop/orders')).toEqual({ kind: 'API', namespace: 'shop', name: 'orders' });
    expect(parser.objectRef('user:default/jane')).toBeUndefined();
    expect(parser.objectRef('checkout')).toBeUndefined();
  });
});
