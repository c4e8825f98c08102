/**
 * The entity reconciler over an in-memory World, with a fake apply and a recording event
 * sink: it writes the status it decides once, through the status subresource, writes nothing
 * while the world and its last write stand, and reports transitions as Events.
 */
import { describe, expect, it } from '@jest/globals';
import type { ApplyRequest } from '../../../src/k8s/apply.ts';
import type { EventSpec } from '../../../src/k8s/events.ts';
import type { KubeObject } from '../../../src/k8s/object.ts';
import { decideStatus } from '../../../src/catalog/entity-status.ts';
import { EntityReconciler } from '../../../src/reconcilers/entity.ts';
import { gatherEntityFacts } from '../../../src/reconcilers/facts.ts';
import type { EntityObject } from '../../../src/api/kinds.ts';
import type { Store } from '../../../src/runtime/store.ts';
import { FakeClock } from '../runtime/fake-clock.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';
import { entity, workload, worldOf } from '../../support/world.ts';

const CHECKOUT = 'component:shop/checkout';
const checkout = entity('Component', 'shop', 'checkout', { type: 'service', lifecycle: 'production', owner: 'team' });
const team = entity('Group', 'shop', 'team', { type: 'team' });
const web = (ready: boolean) =>
  workload(
    'Deployment',
    'shop',
    'web',
    { 'backstage.io/kubernetes-id': 'checkout' },
    {
      spec: { replicas: 1 },
      status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: ready ? 1 : 0, availableReplicas: ready ? 1 : 0 },
    },
  );

function setup(options: { failApply?: boolean } = {}) {
  const world = worldOf({ entities: [checkout, team], workloads: [web(false)] });
  const applied: ApplyRequest[] = [];
  const events: EventSpec[] = [];
  let fail = options.failApply ?? false;
  const clock = new FakeClock(Date.parse('2026-11-21T12:00:00Z'));
  const reconciler = new EntityReconciler({
    world,
    apply: (req) => {
      applied.push(req);
      return fail ? Promise.reject(new Error('apply refused')) : Promise.resolve({ metadata: { resourceVersion: String(100 + applied.length) } });
    },
    clock,
    events: { record: (event) => events.push(event) },
    logger: recordingLogger('silent').logger,
  });
  const components = world.caches.entities.Component as Store<EntityObject>;
  const workloads = world.caches.workloads.Deployment as Store<KubeObject>;
  return { world, applied, events, clock, reconciler, components, workloads, failApplies: (on: boolean) => (fail = on) };
}

describe('EntityReconciler', () => {
  it('applies the status it decides from the world to the status subresource, with only what Backlot owns', async () => {
    const { world, applied, clock, reconciler } = setup();
    await reconciler.reconcile(CHECKOUT);
    expect(applied).toHaveLength(1);
    const [req] = applied;
    expect(req).toMatchObject({ resource: { group: 'catalog.backlot.dev', resource: 'components' }, namespace: 'shop', name: 'checkout', status: true });
    expect(req!.body).toEqual({
      apiVersion: 'catalog.backlot.dev/v1alpha1',
      kind: 'Component',
      metadata: { name: 'checkout', namespace: 'shop' },
      status: decideStatus(gatherEntityFacts(world, 'Component', checkout), new Date(clock.now())),
    });
    expect(req!.body.status).toMatchObject({
      workloadSummary: '0/1',
      conditions: [
        expect.objectContaining({ type: 'Ready', status: 'False', reason: 'WorkloadsNotReady' }),
        expect.anything(),
        expect.anything(),
        expect.anything(),
      ],
    });
  });

  it('posts one Event for a new entity that starts unhealthy, none for what is fine', async () => {
    const { events, reconciler } = setup();
    await reconciler.reconcile(CHECKOUT);
    expect(events.map((e) => [e.type, e.reason, e.regarding.metadata?.name])).toEqual([['Warning', 'WorkloadsNotReady', 'checkout']]);
  });

  it('writes nothing again while the cache has not seen its last write, nor once it holds it', async () => {
    const { applied, components, reconciler } = setup();
    await reconciler.reconcile(CHECKOUT);
    await reconciler.reconcile(CHECKOUT);
    expect(applied).toHaveLength(1);
    // The write's echo: the cache now holds the status, at a new resourceVersion.
    const written = applied[0]!.body.status as EntityObject['status'];
    components.upsert({ ...checkout, metadata: { ...checkout.metadata, resourceVersion: '101' }, ...(written ? { status: written } : {}) });
    await reconciler.reconcile(CHECKOUT);
    expect(applied).toHaveLength(1);
  });

  it('writes again when the world changes, keeping the transition time of what did not', async () => {
    const { applied, events, components, workloads, clock, reconciler } = setup();
    await reconciler.reconcile(CHECKOUT);
    const first = applied[0]!.body.status as NonNullable<EntityObject['status']>;
    components.upsert({ ...checkout, metadata: { ...checkout.metadata, resourceVersion: '101' }, status: first });
    await clock.advance(60_000);
    workloads.upsert(web(true));
    await reconciler.reconcile(CHECKOUT);
    expect(applied).toHaveLength(2);
    const second = applied[1]!.body.status as NonNullable<EntityObject['status']>;
    const condition = (status: typeof first, type: string) => status.conditions?.find((c) => c.type === type);
    expect(condition(second, 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-21T12:01:00Z' });
    expect(condition(second, 'RefsResolved')?.lastTransitionTime).toBe(condition(first, 'RefsResolved')?.lastTransitionTime);
    expect(events.slice(1).map((e) => [e.type, e.reason])).toEqual([
      ['Normal', 'Ready'],
      ['Normal', 'WorkloadsReady'],
    ]);
  });

  it('does nothing for an entity gone from the cache, or a key that names no entity object', async () => {
    const { applied, components, reconciler } = setup();
    components.delete('shop/checkout');
    await reconciler.reconcile(CHECKOUT);
    await reconciler.reconcile('user:shop/jane');
    await reconciler.reconcile('not a reference');
    expect(applied).toEqual([]);
  });

  it('fails the reconcile when the apply fails, so that the key is retried, and writes it then', async () => {
    const { applied, events, reconciler, failApplies } = setup({ failApply: true });
    await expect(reconciler.reconcile(CHECKOUT)).rejects.toThrow('apply refused');
    expect(events).toEqual([]);
    failApplies(false);
    await reconciler.reconcile(CHECKOUT);
    expect(applied).toHaveLength(2);
    expect(events).toHaveLength(1);
  });
});
