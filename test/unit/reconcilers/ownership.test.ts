import { describe, expect, it } from '@jest/globals';
import { desiredOwnership } from '../../../src/catalog/ownership.ts';
import { FIELD_MANAGER, type ApplyRequest } from '../../../src/k8s/apply.ts';
import type { EventSpec } from '../../../src/k8s/events.ts';
import type { KubeObject } from '../../../src/k8s/object.ts';
import { OwnershipReconciler, ownershipApplyBody } from '../../../src/reconcilers/ownership.ts';
import type { Store } from '../../../src/runtime/store.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';
import { entity, workload, worldOf } from '../../support/world.ts';

describe('the ownership apply', () => {
  const target = { kind: 'Service' as const, namespace: 'shop', name: 'cart' };

  it("carries Backlot's fields and the uid precondition", () => {
    expect(ownershipApplyBody(target, 'u1', desiredOwnership({ entity: 'component:shop/cart', owner: 'group:shop/t' }))).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'cart',
        namespace: 'shop',
        uid: 'u1',
        labels: { 'backlot.dev/owner': 't', 'backlot.dev/owner-namespace': 'shop' },
        annotations: { 'backlot.dev/entity': 'component:shop/cart', 'backlot.dev/owner': 'group:shop/t' },
      },
    });
  });

  it("releases a claim with no maps at all, so that the API server drops Backlot's managedFields entry", () => {
    expect(ownershipApplyBody({ ...target, kind: 'Deployment' }, 'u2', desiredOwnership(undefined))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cart', namespace: 'shop', uid: 'u2' },
    });
  });

  it('leaves out the labels of an entity whose owner routes nowhere', () => {
    expect(ownershipApplyBody(target, 'u3', desiredOwnership({ entity: 'component:shop/cart' })).metadata).not.toHaveProperty('labels');
  });
});

describe('OwnershipReconciler', () => {
  const KEY = 'Deployment/shop/web';
  const checkout = entity('Component', 'shop', 'checkout', { type: 'service', lifecycle: 'production', owner: 'team', system: 'webshop' });
  const team = entity('Group', 'shop', 'team', { type: 'team' });
  const webshop = entity('System', 'shop', 'webshop', { owner: 'team' });
  const OWNED = {
    labels: { 'backlot.dev/owner': 'team', 'backlot.dev/owner-namespace': 'shop' },
    annotations: {
      'backlot.dev/entity': 'component:shop/checkout',
      'backlot.dev/owner': 'group:shop/team',
      'backlot.dev/system': 'system:shop/webshop',
      'backlot.dev/lifecycle': 'production',
    },
  };
  const backlotEntry = { manager: FIELD_MANAGER, operation: 'Apply', fieldsV1: {} };
  /** The Deployment, claimed by checkout's kubernetes-id unless `id` says otherwise, with Backlot's fields when `owned`. */
  const web = (o: { id?: string; owned?: boolean; generation?: number } = {}): KubeObject => {
    const base = workload('Deployment', 'shop', 'web', { 'backstage.io/kubernetes-id': o.id ?? 'checkout', ...(o.owned ? OWNED.labels : {}) });
    return {
      ...base,
      metadata: { ...base.metadata, generation: o.generation ?? 1, ...(o.owned ? { annotations: OWNED.annotations, managedFields: [backlotEntry] } : {}) },
      status: { observedGeneration: o.generation ?? 1 },
    };
  };

  function setup(deployment: KubeObject, options: { failApply?: boolean } = {}) {
    const world = worldOf({ entities: [checkout, team, webshop], workloads: [deployment] });
    const applied: ApplyRequest[] = [];
    const events: EventSpec[] = [];
    const reconciler = new OwnershipReconciler({
      world,
      apply: (req) => {
        applied.push(req);
        if (options.failApply) return Promise.reject(new Error('apply refused'));
        // The API server bumps a Deployment's generation when its annotations change.
        return Promise.resolve({ metadata: { ...req.body.metadata, generation: (deployment.metadata?.generation ?? 1) + 1, resourceVersion: '2' } });
      },
      events: { record: (event) => events.push(event) },
      logger: recordingLogger('silent').logger,
    });
    return { world, applied, events, reconciler, deployments: world.caches.workloads.Deployment as Store<KubeObject> };
  }

  it("writes the claim's owner, system and lifecycle onto a claimed workload, with the uid as precondition, and tells the entity", async () => {
    const { world, applied, events, reconciler } = setup(web());
    await reconciler.reconcile(KEY);
    expect(applied).toEqual([
      {
        resource: expect.objectContaining({ group: 'apps', resource: 'deployments' }),
        namespace: 'shop',
        name: 'web',
        body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', uid: 'uid-web', ...OWNED } },
      },
    ]);
    expect(events.map((e) => [e.reason, e.regarding.metadata?.name, e.note])).toEqual([['ClaimGained', 'checkout', 'claimed Deployment web']]);
    // The annotations moved the generation: readiness is to read the Deployment as observed.
    expect(world.ownGenerations.size).toBe(1);
  });

  it('applies nothing while its last write is on its way to the cache, nor once the workload says what it should', async () => {
    const { applied, deployments, reconciler } = setup(web());
    await reconciler.reconcile(KEY);
    await reconciler.reconcile(KEY);
    expect(applied).toHaveLength(1);
    expect(reconciler.pendingWrites).toBe(1);
    const echo = web({ owned: true, generation: 2 });
    deployments.upsert({ ...echo, metadata: { ...echo.metadata, resourceVersion: '2' } });
    await reconciler.reconcile(KEY);
    expect(applied).toHaveLength(1);
    // The echo reconciled, the write is no longer remembered.
    expect(reconciler.pendingWrites).toBe(0);
  });

  it("releases a workload whose claim ended, taking only Backlot's fields, and tells the entity that lost it", async () => {
    const owned = web({ owned: true });
    const { applied, events, reconciler } = setup({ ...owned, metadata: { ...owned.metadata, labels: { 'backstage.io/kubernetes-id': 'other' } } });
    await reconciler.reconcile(KEY);
    expect(applied.map((r) => r.body)).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'shop', uid: 'uid-web' } }]);
    expect(events.map((e) => [e.reason, e.regarding.metadata?.name, e.note])).toEqual([['ClaimLost', 'checkout', 'Deployment web is no longer claimed']]);
  });

  it('leaves alone a workload nobody claims that Backlot never wrote to, and keys that name no workload', async () => {
    const { applied, reconciler } = setup(web({ id: 'nobody' }));
    await reconciler.reconcile(KEY);
    await reconciler.reconcile('Deployment/shop/gone');
    await reconciler.reconcile('Pod/shop/web');
    expect(applied).toEqual([]);
  });

  it('fails the reconcile when the apply fails, forgetting the generation it expected to move', async () => {
    const { world, events, reconciler } = setup(web(), { failApply: true });
    await expect(reconciler.reconcile(KEY)).rejects.toThrow('apply refused');
    expect(world.ownGenerations.size).toBe(0);
    expect(events).toEqual([]);
  });
});
