/**
 * The state metric families, compared as whole exposition text (as kube-state-metrics tests
 * do): every family, every label, every value.
 */
import { describe, expect, it, jest } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import type { Store } from '../../../src/runtime/store.ts';
import { createStateMetrics } from '../../../src/reconcilers/state-metrics.ts';
import { entity, readyCondition, workload, worldOf } from '../../support/world.ts';

const dependenciesNotReady = {
  type: 'DependenciesReady',
  status: 'False',
  reason: 'DependencyNotReady',
  message: '',
  lastTransitionTime: '2026-11-01T00:00:00Z',
};

function world() {
  return worldOf({
    namespaces: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'backlot.dev/owner': 'team-payments' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } },
    ],
    entities: [
      entity('Group', 'shop', 'team-payments', { type: 'team' }, { status: { conditions: [readyCondition('True')] } }),
      entity('System', 'shop', 'webshop', { owner: 'team-payments' }, { status: { conditions: [readyCondition('False')] } }),
      entity(
        'Component',
        'shop',
        'checkout',
        { type: 'service', lifecycle: 'production', owner: 'team-payments', system: 'webshop', dependsOn: ['resource:orders-db'] },
        {
          status: { conditions: [readyCondition('True'), dependenciesNotReady], dependencies: [{ ref: 'resource:shop/orders-db', found: true, ready: false }] },
        },
      ),
      // Younger than checkout, so it loses the Deployment both claim.
      entity(
        'Resource',
        'shop',
        'orders-db',
        { type: 'database', owner: 'group:shop/team-data', system: 'webshop', workloads: { selector: { matchLabels: { app: 'shared' } } } },
        {
          created: '2026-11-02T00:00:00Z',
          status: { conditions: [readyCondition('False')] },
        },
      ),
    ],
    workloads: [
      workload('Deployment', 'shop', 'checkout', { 'backstage.io/kubernetes-id': 'checkout' }),
      workload('Service', 'shop', 'checkout', { 'backstage.io/kubernetes-id': 'checkout' }),
      workload('Deployment', 'shop', 'shared', { 'backstage.io/kubernetes-id': 'checkout', app: 'shared' }),
      workload('StatefulSet', 'shop', 'orders-db', { app: 'shared' }),
      workload('Deployment', 'shop', 'legacy', { app: 'legacy' }),
      workload('CronJob', 'scratch', 'cleanup', {}),
      workload('Deployment', 'shop', 'ignored', { 'backlot.dev/ignore': 'true' }),
      workload('Deployment', 'kube-system', 'coredns', {}),
      {
        ...workload('Deployment', 'shop', 'managed', {}),
        metadata: {
          name: 'managed',
          namespace: 'shop',
          uid: 'u',
          ownerReferences: [{ apiVersion: 'x/v1', kind: 'App', name: 'a', uid: 'p', controller: true }],
        },
      },
    ],
  });
}

const EXPECTED = `# HELP backlot_entity_info Every catalog entity, with its owner, system, lifecycle and type. Always 1.
# TYPE backlot_entity_info gauge
backlot_entity_info{kind="Component",namespace="shop",name="checkout",owner="team-payments",owner_namespace="shop",system="webshop",lifecycle="production",type="service"} 1
backlot_entity_info{kind="System",namespace="shop",name="webshop",owner="team-payments",owner_namespace="shop",system="",lifecycle="",type=""} 1
backlot_entity_info{kind="Resource",namespace="shop",name="orders-db",owner="team-data",owner_namespace="shop",system="webshop",lifecycle="",type="database"} 1
backlot_entity_info{kind="Group",namespace="shop",name="team-payments",owner="",owner_namespace="",system="",lifecycle="",type="team"} 1

# HELP backlot_entity_ready Whether the entity's own Ready condition is True (1) or not (0).
# TYPE backlot_entity_ready gauge
backlot_entity_ready{kind="Component",namespace="shop",name="checkout",owner="team-payments",owner_namespace="shop",system="webshop"} 1
backlot_entity_ready{kind="System",namespace="shop",name="webshop",owner="team-payments",owner_namespace="shop",system=""} 0
backlot_entity_ready{kind="Resource",namespace="shop",name="orders-db",owner="team-data",owner_namespace="shop",system="webshop"} 0
backlot_entity_ready{kind="Group",namespace="shop",name="team-payments",owner="",owner_namespace="",system=""} 1

# HELP backlot_entity_dependencies_ready Whether every dependency of a Component or Resource exists and is Ready (1) or not (0).
# TYPE backlot_entity_dependencies_ready gauge
backlot_entity_dependencies_ready{kind="Component",namespace="shop",name="checkout",owner="team-payments",owner_namespace="shop"} 0
backlot_entity_dependencies_ready{kind="Resource",namespace="shop",name="orders-db",owner="team-data",owner_namespace="shop"} 0

# HELP backlot_dependency_ready One dependency of a Component or Resource: 1 when it exists and is Ready, else 0.
# TYPE backlot_dependency_ready gauge
backlot_dependency_ready{kind="Component",namespace="shop",name="checkout",owner="team-payments",owner_namespace="shop",dependency="resource:shop/orders-db"} 0

# HELP backlot_workload_owner_info A claimed workload and the entity, owner and system it belongs to. Always 1; a join target for any workload metric.
# TYPE backlot_workload_owner_info gauge
backlot_workload_owner_info{namespace="shop",workload_kind="Deployment",workload="checkout",entity="component:shop/checkout",owner="team-payments",owner_namespace="shop",system="webshop"} 1
backlot_workload_owner_info{namespace="shop",workload_kind="Deployment",workload="shared",entity="component:shop/checkout",owner="team-payments",owner_namespace="shop",system="webshop"} 1
backlot_workload_owner_info{namespace="shop",workload_kind="StatefulSet",workload="orders-db",entity="resource:shop/orders-db",owner="team-data",owner_namespace="shop",system="webshop"} 1
backlot_workload_owner_info{namespace="shop",workload_kind="Service",workload="checkout",entity="component:shop/checkout",owner="team-payments",owner_namespace="shop",system="webshop"} 1

# HELP backlot_orphaned_workload A Deployment, StatefulSet, DaemonSet, CronJob or Service that no entity claims, with the owner its Namespace names and the namespace of that owner. Always 1.
# TYPE backlot_orphaned_workload gauge
backlot_orphaned_workload{namespace="scratch",workload_kind="CronJob",workload="cleanup",namespace_owner="",namespace_owner_namespace=""} 1
backlot_orphaned_workload{namespace="shop",workload_kind="Deployment",workload="legacy",namespace_owner="team-payments",namespace_owner_namespace="shop"} 1

# HELP backlot_workload_claim_conflict A workload that more than one entity claims. Always 1.
# TYPE backlot_workload_claim_conflict gauge
backlot_workload_claim_conflict{namespace="shop",workload_kind="Deployment",workload="shared"} 1
`;

/** The lines of one family in an exposition text. */
const family = (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.endsWith(` ${name} gauge`) || l.includes(` ${name} `));

describe('state metrics', () => {
  it('expose the catalog, ownership, orphans and conflicts', async () => {
    const state = createStateMetrics({ world: world(), excludedNamespaces: new Set(['kube-system']) });
    expect(await state.text()).toBe(EXPECTED);
  });

  it('forget what left the cache', async () => {
    const w = worldOf({ workloads: [workload('Deployment', 'shop', 'legacy', {})] });
    const state = createStateMetrics({ world: w, excludedNamespaces: new Set() });
    expect(family(await state.text(), 'backlot_orphaned_workload').join('\n')).toContain('workload="legacy"');
    (w.caches.workloads.Deployment as unknown as { delete(key: string): void }).delete('shop/legacy');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await state.text()).not.toContain('workload="legacy"');
  });

  it('come from the leader only: a standby exports the families without series', async () => {
    let leading = false;
    const state = createStateMetrics({ world: world(), excludedNamespaces: new Set(), exporting: () => leading });
    const standby = await state.text();
    expect(standby).toContain('# TYPE backlot_orphaned_workload gauge');
    expect(standby).not.toContain('backlot_orphaned_workload{');
    leading = true;
    expect(family(await state.text(), 'backlot_orphaned_workload').join('\n')).toContain('workload="legacy"');
  });

  it('serve the same text while the caches stay as they are, and rebuild it when one changes', async () => {
    const w = worldOf({ workloads: [workload('Deployment', 'shop', 'legacy', {})] });
    const state = createStateMetrics({ world: w, excludedNamespaces: new Set() });
    const deployments = w.caches.workloads.Deployment as unknown as Store<KubeObject>;
    const reads = jest.spyOn(deployments, 'byIndex');
    const first = await state.text();
    const before = reads.mock.calls.length;
    expect(before).toBeGreaterThan(0);
    expect(await state.text()).toBe(first);
    expect(reads.mock.calls.length).toBe(before);
    deployments.upsert(workload('Deployment', 'shop', 'late', {}));
    const second = await state.text();
    expect(reads.mock.calls.length).toBeGreaterThan(before);
    expect(second).toContain('workload="late"');
    expect(second).toContain('workload="legacy"');
  });

  it('rebuild nothing for a workload whose status alone changed', async () => {
    const w = world();
    const state = createStateMetrics({ world: w, excludedNamespaces: new Set() });
    const deployments = w.caches.workloads.Deployment as unknown as Store<KubeObject>;
    const first = await state.text();
    const reads = jest.spyOn(deployments, 'byIndex');
    const legacy = deployments.get('shop/legacy')!;
    deployments.upsert({ ...legacy, metadata: { ...legacy.metadata, resourceVersion: '2' }, status: { readyReplicas: 1 } });
    expect(await state.text()).toBe(first);
    expect(reads).not.toHaveBeenCalled();
  });

  it('rebuild the workload series of the changed namespace only', async () => {
    const w = world();
    const state = createStateMetrics({ world: w, excludedNamespaces: new Set() });
    await state.text();
    const deployments = w.caches.workloads.Deployment as unknown as Store<KubeObject>;
    const reads = jest.spyOn(deployments, 'byIndex');
    deployments.upsert(workload('Deployment', 'scratch', 'late', {}));
    const text = await state.text();
    expect(family(text, 'backlot_orphaned_workload')).toEqual([
      '# HELP backlot_orphaned_workload A Deployment, StatefulSet, DaemonSet, CronJob or Service that no entity claims, with the owner its Namespace names and the namespace of that owner. Always 1.',
      '# TYPE backlot_orphaned_workload gauge',
      'backlot_orphaned_workload{namespace="kube-system",workload_kind="Deployment",workload="coredns",namespace_owner="",namespace_owner_namespace=""} 1',
      'backlot_orphaned_workload{namespace="scratch",workload_kind="Deployment",workload="late",namespace_owner="",namespace_owner_namespace=""} 1',
      'backlot_orphaned_workload{namespace="scratch",workload_kind="CronJob",workload="cleanup",namespace_owner="",namespace_owner_namespace=""} 1',
      'backlot_orphaned_workload{namespace="shop",workload_kind="Deployment",workload="legacy",namespace_owner="team-payments",namespace_owner_namespace="shop"} 1',
    ]);
    expect(new Set(reads.mock.calls.map(([index, value]) => `${index}=${value}`))).toEqual(new Set(['namespace=scratch']));
  });

  it("follow an entity's status, and a Namespace's owner", async () => {
    const w = world();
    const state = createStateMetrics({ world: w, excludedNamespaces: new Set(['kube-system']) });
    expect(await state.text()).toBe(EXPECTED);
    const systems = w.caches.entities.System as unknown as Store<KubeObject>;
    const webshop = systems.get('shop/webshop')!;
    systems.upsert({ ...webshop, metadata: { ...webshop.metadata, resourceVersion: '2' }, status: { conditions: [readyCondition('True')] } });
    const namespaces = w.caches.namespaces as unknown as Store<KubeObject>;
    namespaces.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', resourceVersion: '2', labels: { 'backlot.dev/owner': 'team-shop' } } });
    const text = await state.text();
    expect(family(text, 'backlot_entity_ready')).toContain(
      'backlot_entity_ready{kind="System",namespace="shop",name="webshop",owner="team-payments",owner_namespace="shop",system=""} 1',
    );
    expect(family(text, 'backlot_orphaned_workload')).toContain(
      'backlot_orphaned_workload{namespace="shop",workload_kind="Deployment",workload="legacy",namespace_owner="team-shop",namespace_owner_namespace="shop"} 1',
    );
    expect(
      text
        .replace(
          'name="webshop",owner="team-payments",owner_namespace="shop",system=""} 1',
          'name="webshop",owner="team-payments",owner_namespace="shop",system=""} 0',
        )
        .replace(/team-shop/g, 'team-payments'),
    ).toBe(EXPECTED);
  });

  it('drop an orphan once a controller adopts it', async () => {
    const w = world();
    const state = createStateMetrics({ world: w, excludedNamespaces: new Set() });
    expect(await state.text()).toContain('workload="legacy"');
    const deployments = w.caches.workloads.Deployment as unknown as Store<KubeObject>;
    const legacy = deployments.get('shop/legacy')!;
    deployments.upsert({
      ...legacy,
      metadata: { ...legacy.metadata, resourceVersion: '2', ownerReferences: [{ apiVersion: 'x/v1', kind: 'App', name: 'a', uid: 'p', controller: true }] },
    });
    expect(await state.text()).not.toContain('workload="legacy"');
  });

  it('escape label values as the text format asks', async () => {
    const w = worldOf({ entities: [entity('Component', 'shop', 'odd', { type: 'a "quoted" \\ back\nslash' })] });
    const text = await createStateMetrics({ world: w, excludedNamespaces: new Set() }).text();
    expect(text).toContain('type="a \\"quoted\\" \\\\ back\\nslash"');
  });
});
