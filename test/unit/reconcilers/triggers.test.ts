import { describe, expect, it } from '@jest/globals';
import { sameJson, transitionEvents } from '../../../src/reconcilers/entity.ts';
import { onEndpointSliceChange, onEntityChange, onJobChange, onWorkloadChange } from '../../../src/reconcilers/triggers.ts';
import { LOW_PRIORITY } from '../../../src/runtime/workqueue.ts';
import { entity, workload, worldOf } from '../../support/world.ts';

function recorder() {
  const entities = new Set<string>();
  const workloads = new Set<string>();
  return { entities, workloads, enqueue: { entity: (k: string) => entities.add(k), workload: (k: string) => workloads.add(k) } };
}

const checkout = entity('Component', 'shop', 'checkout', {
  type: 'service',
  lifecycle: 'production',
  owner: 'team-payments',
  system: 'webshop',
  dependsOn: ['resource:orders-db'],
});
const cart = entity('Component', 'shop', 'cart', { type: 'service', lifecycle: 'production', owner: 'team-payments', dependsOn: ['component:checkout'] });
const world = worldOf({
  entities: [checkout, cart, entity('System', 'shop', 'webshop', { owner: 'team-payments' }), entity('Group', 'shop', 'team-payments', { type: 'team' })],
  workloads: [
    workload('Deployment', 'shop', 'checkout', { 'backstage.io/kubernetes-id': 'checkout' }),
    {
      ...workload('CronJob', 'shop', 'report', { 'backstage.io/kubernetes-id': 'checkout' }),
      metadata: { name: 'report', namespace: 'shop', uid: 'cron-uid', labels: { 'backstage.io/kubernetes-id': 'checkout' } },
    },
    workload('Service', 'shop', 'checkout', { 'backstage.io/kubernetes-id': 'checkout' }),
    workload('Deployment', 'other', 'checkout', { 'backstage.io/kubernetes-id': 'checkout' }),
    workload('Deployment', 'shop', 'stray', { app: 'stray' }),
  ],
});

describe('what a change enqueues', () => {
  it('an entity: itself, what it references, what references it, and the workloads it claims (not the rest of its namespace)', () => {
    const r = recorder();
    onEntityChange(world, r.enqueue, 'Component', undefined, checkout);
    expect([...r.entities].sort()).toEqual([
      'component:shop/cart',
      'component:shop/checkout',
      'group:shop/team-payments',
      'resource:shop/orders-db',
      'system:shop/webshop',
    ]);
    expect([...r.workloads].sort()).toEqual(['CronJob/shop/report', 'Deployment/shop/checkout', 'Service/shop/checkout']);
  });

  it('a status-only change of an entity concerns only itself: statuses are never computed from other statuses', () => {
    const r = recorder();
    const withStatus = { ...checkout, metadata: { ...checkout.metadata, resourceVersion: '2' }, status: { observedGeneration: 1 } };
    onEntityChange(world, r.enqueue, 'Component', checkout, withStatus);
    expect(r.workloads.size).toBe(0);
    expect([...r.entities]).toEqual(['component:shop/checkout']);
  });

  it('a workload: itself, its claimants before and after a relabel, and whoever reads their health', () => {
    const r = recorder();
    const before = workload('Deployment', 'shop', 'checkout', { 'backstage.io/kubernetes-id': 'cart' });
    const after = workload('Deployment', 'shop', 'checkout', { 'backstage.io/kubernetes-id': 'checkout' });
    onWorkloadChange(world, r.enqueue, 'Deployment', before, after);
    expect([...r.workloads]).toEqual(['Deployment/shop/checkout']);
    // cart depends on checkout; webshop counts checkout as a part. The Group reads nobody's health.
    expect([...r.entities].sort()).toEqual(['component:shop/cart', 'component:shop/checkout', 'system:shop/webshop']);
  });

  it('puts what a change touches directly first, and what follows from it at low priority', () => {
    const keys = new Map<string, number>();
    const enqueue = { entity: (k: string, priority = 0) => keys.set(k, priority), workload: (k: string, priority = 0) => keys.set(k, priority) };
    const before = workload('Deployment', 'shop', 'checkout', { 'backstage.io/kubernetes-id': 'cart' });
    const after = workload('Deployment', 'shop', 'checkout', { 'backstage.io/kubernetes-id': 'checkout' });
    onWorkloadChange(world, enqueue, 'Deployment', before, after);
    // The workload and its claimant: default priority. cart (a dependent) and webshop (the System): low.
    expect(Object.fromEntries(keys)).toEqual({
      'Deployment/shop/checkout': 0,
      'component:shop/checkout': 0,
      'component:shop/cart': LOW_PRIORITY,
      'system:shop/webshop': LOW_PRIORITY,
    });

    keys.clear();
    const withStatus = { ...checkout, metadata: { ...checkout.metadata, resourceVersion: '2' }, status: { observedGeneration: 1 } };
    onEntityChange(world, enqueue, 'Component', checkout, withStatus);
    expect(Object.fromEntries(keys)).toEqual({ 'component:shop/checkout': LOW_PRIORITY });

    keys.clear();
    onEntityChange(world, enqueue, 'Component', undefined, checkout);
    expect(keys.get('component:shop/checkout')).toBe(0);
    expect(keys.get('system:shop/webshop')).toBe(LOW_PRIORITY);
  });

  it('a workload update that leaves its claimants and readiness as they were concerns only the workload', () => {
    const deployment = (labels: Record<string, string>, annotations: Record<string, string>, readyReplicas: number) =>
      workload(
        'Deployment',
        'shop',
        'checkout',
        { 'backstage.io/kubernetes-id': 'checkout' },
        {
          metadata: {
            name: 'checkout',
            namespace: 'shop',
            uid: 'uid-checkout',
            generation: 1,
            labels: { 'backstage.io/kubernetes-id': 'checkout', ...labels },
            annotations,
          },
          spec: { replicas: 2 },
          status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas, availableReplicas: readyReplicas },
        },
      );
    const r = recorder();
    // Backlot's own ownership write: its owner label and its annotations.
    const owned = { 'backlot.dev/entity': 'component:shop/checkout', 'backlot.dev/owner': 'group:shop/team-payments' };
    onWorkloadChange(world, r.enqueue, 'Deployment', deployment({}, {}, 2), deployment({ 'backlot.dev/owner': 'team-payments' }, owned, 2));
    // A label no selector reads.
    onWorkloadChange(world, r.enqueue, 'Deployment', deployment({}, {}, 2), deployment({ tier: 'web' }, {}, 2));
    expect([...r.workloads]).toEqual(['Deployment/shop/checkout']);
    expect(r.entities.size).toBe(0);
    // One replica fewer ready: the claimant and its health readers look again.
    onWorkloadChange(world, r.enqueue, 'Deployment', deployment({}, {}, 2), deployment({}, {}, 1));
    expect([...r.entities].sort()).toEqual(['component:shop/cart', 'component:shop/checkout', 'system:shop/webshop']);
  });

  it('a workload update that changes who claims it, or whether it is ignored, concerns the claimants before and after', () => {
    const deployment = (labels: Record<string, string>, annotations: Record<string, string> = {}) =>
      workload('Deployment', 'shop', 'checkout', labels, {
        metadata: { name: 'checkout', namespace: 'shop', uid: 'uid-checkout', generation: 1, labels, annotations },
        spec: { replicas: 2 },
        status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
      });
    const claimed = { 'backstage.io/kubernetes-id': 'checkout' };
    let r = recorder();
    onWorkloadChange(world, r.enqueue, 'Deployment', deployment({ app: 'checkout' }), deployment({ ...claimed, app: 'checkout' }));
    expect([...r.entities].sort()).toEqual(['component:shop/cart', 'component:shop/checkout', 'system:shop/webshop']);
    r = recorder();
    onWorkloadChange(world, r.enqueue, 'Deployment', deployment(claimed), deployment(claimed, { 'backlot.dev/ignore': 'true' }));
    expect([...r.entities].sort()).toEqual(['component:shop/cart', 'component:shop/checkout', 'system:shop/webshop']);
  });

  it("Backlot's own annotation write, which bumps a Deployment's generation, and its controller catching up, enqueue no entity", () => {
    const deployment = (generation: number, observedGeneration: number, annotations: Record<string, string> = {}) =>
      workload(
        'Deployment',
        'shop',
        'checkout',
        { 'backstage.io/kubernetes-id': 'checkout' },
        {
          metadata: { name: 'checkout', namespace: 'shop', uid: 'uid-own-bump', generation, labels: { 'backstage.io/kubernetes-id': 'checkout' }, annotations },
          spec: { replicas: 2 },
          status: { observedGeneration, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
        },
      );
    const w = worldOf({ entities: [checkout], workloads: [deployment(1, 1)] });
    const r = recorder();
    w.ownGenerations.expect(deployment(1, 1));
    const written = { 'backlot.dev/entity': 'component:shop/checkout' };
    onWorkloadChange(w, r.enqueue, 'Deployment', deployment(1, 1), deployment(2, 1, written));
    onWorkloadChange(w, r.enqueue, 'Deployment', deployment(2, 1, written), deployment(2, 2, written));
    expect(r.entities.size).toBe(0);
    expect([...r.workloads]).toEqual(['Deployment/shop/checkout']);
  });

  it('a Job: the claimants of the CronJob that controls it, and whoever reads their health', () => {
    const r = recorder();
    onJobChange(world, r.enqueue, {
      metadata: { name: 'report-1', namespace: 'shop', ownerReferences: [{ kind: 'CronJob', name: 'report', controller: true }] },
    });
    expect([...r.entities].sort()).toEqual(['component:shop/cart', 'component:shop/checkout', 'system:shop/webshop']);
  });

  it('an EndpointSlice: the claimants of its Service, and whoever reads their health', () => {
    const r = recorder();
    onEndpointSliceChange(world, r.enqueue, { metadata: { name: 'checkout-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'checkout' } } });
    expect([...r.entities].sort()).toEqual(['component:shop/cart', 'component:shop/checkout', 'system:shop/webshop']);
    onEndpointSliceChange(world, r.enqueue, { metadata: { name: 'orphan', namespace: 'shop' } });
    expect(r.entities.size).toBe(3);
  });
});

describe('who reads whose health', () => {
  const w = worldOf({
    entities: [
      entity('Component', 'shop', 'payments', {
        type: 'service',
        lifecycle: 'production',
        owner: 'team',
        system: 'webshop',
        providesApis: ['payments-api'],
        dependencyOf: ['component:refunds'],
      }),
      entity('Component', 'shop', 'checkout', { type: 'service', lifecycle: 'production', owner: 'team', dependsOn: ['component:payments'] }),
      entity('Component', 'shop', 'cart', { type: 'service', lifecycle: 'production', owner: 'team', dependsOn: ['component:checkout'] }),
      entity('Component', 'shop', 'refunds', { type: 'service', lifecycle: 'production', owner: 'team' }),
      entity('Component', 'shop', 'web', { type: 'website', lifecycle: 'production', owner: 'team', dependsOn: ['component:cart'] }),
      entity('API', 'shop', 'payments-api', { type: 'openapi', lifecycle: 'production', owner: 'team', system: 'billing', definition: 'x' }),
      entity('System', 'shop', 'webshop', { owner: 'team', domain: 'commerce' }),
      entity('System', 'shop', 'billing', { owner: 'team' }),
      entity('Domain', 'shop', 'commerce', { owner: 'team' }),
      entity('Group', 'shop', 'team', { type: 'team' }),
    ],
    workloads: [workload('Deployment', 'shop', 'payments', { 'backstage.io/kubernetes-id': 'payments' })],
  });

  it("a workload's health reaches the dependents of its claimant, its System and Domain, and the API it provides and that API's System", () => {
    const r = recorder();
    onWorkloadChange(w, r.enqueue, 'Deployment', undefined, workload('Deployment', 'shop', 'payments', { 'backstage.io/kubernetes-id': 'payments' }));
    // checkout depends on payments (dependsOn), refunds too (payments' dependencyOf); cart only
    // on checkout, whose own health does not change with its dependencies'.
    expect([...r.entities].sort()).toEqual([
      'api:shop/payments-api',
      'component:shop/checkout',
      'component:shop/payments',
      'component:shop/refunds',
      'domain:shop/commerce',
      'system:shop/billing',
      'system:shop/webshop',
    ]);
  });

  it('a deleted entity, already gone from the cache, reaches the wholes its old spec named, and theirs', () => {
    const payments = w.entity('component:shop/payments')!.obj;
    const without = worldOf({
      entities: [
        entity('API', 'shop', 'payments-api', { type: 'openapi', lifecycle: 'production', owner: 'team', system: 'billing', definition: 'x' }),
        entity('System', 'shop', 'webshop', { owner: 'team', domain: 'commerce' }),
        entity('System', 'shop', 'billing', { owner: 'team' }),
        entity('Domain', 'shop', 'commerce', { owner: 'team' }),
        entity('Group', 'shop', 'team', { type: 'team' }),
      ],
      workloads: [],
    });
    const r = recorder();
    onEntityChange(without, r.enqueue, 'Component', payments, undefined);
    // Its System's Domain counted its health through the System: it must look again too.
    expect([...r.entities]).toEqual(expect.arrayContaining(['system:shop/webshop', 'domain:shop/commerce', 'api:shop/payments-api', 'system:shop/billing']));
  });

  it('a change of dependencies reaches every entity whose dependsOn walk passes through it, for cycles', () => {
    const r = recorder();
    const payments = w.entity('component:shop/payments')!.obj;
    const changed = { ...payments, metadata: { ...payments.metadata, generation: 2 }, spec: { ...payments.spec, dependsOn: ['component:web'] } };
    onEntityChange(w, r.enqueue, 'Component', payments, changed);
    // web → cart → checkout → payments → web is now a cycle. cart is neither referenced by
    // payments nor references it, and must look again all the same.
    expect([...r.entities]).toEqual(expect.arrayContaining(['component:shop/web', 'component:shop/cart', 'component:shop/checkout']));
  });
});

describe('transitionEvents', () => {
  const c = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: 'm', lastTransitionTime: '2026-11-01T00:00:00Z' });

  it('records what turned bad, once per reason, and nothing for an unchanged condition', () => {
    const before = [c('Ready', 'True', 'AllWorkloadsReady'), c('WorkloadsReady', 'True', 'AllWorkloadsReady'), c('RefsResolved', 'True', 'AllRefsResolved')];
    const after = [c('Ready', 'False', 'WorkloadsNotReady'), c('WorkloadsReady', 'False', 'WorkloadsNotReady'), c('RefsResolved', 'True', 'AllRefsResolved')];
    const events = transitionEvents(checkout, before, after);
    expect(events.map((e) => [e.type, e.reason])).toEqual([['Warning', 'WorkloadsNotReady']]);
    expect(transitionEvents(checkout, after, after)).toEqual([]);
  });

  it('records recovery, and stays quiet about an entity that starts healthy', () => {
    expect(
      transitionEvents(checkout, [c('WorkloadsReady', 'False', 'WorkloadsNotReady')], [c('WorkloadsReady', 'True', 'AllWorkloadsReady')]).map((e) => [
        e.type,
        e.reason,
      ]),
    ).toEqual([['Normal', 'WorkloadsReady']]);
    expect(transitionEvents(checkout, undefined, [c('Ready', 'True', 'AllWorkloadsReady')])).toEqual([]);
    expect(transitionEvents(checkout, undefined, [c('RefsResolved', 'False', 'OwnerNotFound')]).map((e) => e.reason)).toEqual(['OwnerNotFound']);
  });

  it("records nothing when only a dependency's health moved: the dependency's own Event tells it", () => {
    const ready = [c('Ready', 'True', 'AllWorkloadsReady'), c('DependenciesReady', 'True', 'AllDependenciesReady')];
    const broken = [c('Ready', 'True', 'AllWorkloadsReady'), c('DependenciesReady', 'False', 'DependencyNotReady')];
    expect(transitionEvents(checkout, ready, broken)).toEqual([]);
    expect(transitionEvents(checkout, broken, ready)).toEqual([]);
  });

  it('compares statuses as their JSON: whatever their key order, an undefined property as absent', () => {
    expect(sameJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: 2 } }, { a: { c: 2, d: [1, { x: 1, y: 2 }] }, b: 1 })).toBe(true);
    expect(sameJson({ a: 1, gone: undefined }, { a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, gone: undefined })).toBe(true);
    const cases: [unknown, unknown][] = [
      [{ a: 1 }, { a: 2 }],
      [{ a: 1 }, { a: 1, b: 2 }],
      [{ a: 1, b: 2 }, { a: 1 }],
      [{ a: [1, 2] }, { a: [2, 1] }],
      [{ a: [1] }, { a: [1, 1] }],
      [{ a: [] }, { a: {} }],
      [{ a: null }, { a: {} }],
      [{ a: '1' }, { a: 1 }],
      [{ a: false }, {}],
    ];
    for (const [x, y] of cases) {
      expect([x, y, sameJson(x, y)]).toEqual([x, y, JSON.stringify(x) === JSON.stringify(y)]);
      expect(sameJson(y, x)).toBe(false);
    }
  });
});
