import { describe, expect, it } from '@jest/globals';
import { decideStatus } from '../../../src/catalog/entity-status.ts';
import { acceptsFrom, needsConsent, parseRelationPolicy } from '../../../src/catalog/tenancy.ts';
import type { KubeObject } from '../../../src/k8s/object.ts';
import { createStateMetrics } from '../../../src/reconcilers/state-metrics.ts';
import { gatherEntityFacts } from '../../../src/reconcilers/facts.ts';
import { ReadinessOracle } from '../../../src/reconcilers/readiness-oracle.ts';
import { OwnershipReconciler } from '../../../src/reconcilers/ownership.ts';
import { onNamespaceChange } from '../../../src/reconcilers/triggers.ts';
import type { World } from '../../../src/reconcilers/world.ts';
import type { EntityKind } from '../../../src/api/kinds.ts';
import type { Store } from '../../../src/runtime/store.ts';
import { entity, workload, worldOf } from '../../support/world.ts';

describe('relation policy', () => {
  it.each([
    ['no annotation: only its own', undefined, 'a', false],
    ['a list naming the referrer', 'x, a ,b', 'a', true],
    ['a list not naming it', 'x,b', 'a', false],
    ['every namespace', '*', 'a', true],
    ['blanks are ignored', ' , ,', 'a', false],
    ['a name is not a pattern', 'a*', 'ab', false],
  ])('%s', (_name, annotation, from, expected) => {
    expect(acceptsFrom(parseRelationPolicy(annotation), from, 'b')).toBe(expected);
  });

  it('a namespace always accepts its own', () => {
    expect(acceptsFrom(parseRelationPolicy(undefined), 'b', 'b')).toBe(true);
  });

  it('asks consent for the references whose effect lands where they point, and only those', () => {
    for (const field of ['owner', 'system', 'domain', 'subcomponentOf', 'subdomainOf', 'dependencyOf', 'providesApis', 'parent', 'children'])
      expect(needsConsent(field)).toBe(true);
    for (const field of ['dependsOn', 'consumesApis', 'members']) expect(needsConsent(field)).toBe(false);
  });
});

const ACCEPT = 'backlot.dev/accept-relations-from';
const namespace = (name: string, annotations?: Record<string, string>, resourceVersion = '1'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, resourceVersion, ...(annotations ? { annotations } : {}) },
});
const component = (ns: string, name: string, more: Record<string, unknown> = {}) =>
  entity('Component', ns, name, { type: 'service', lifecycle: 'production', owner: 'group:teams/t', ...more });
const down = (ns: string, name: string) =>
  workload(
    'Deployment',
    ns,
    name,
    { 'backstage.io/kubernetes-id': name },
    { spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, readyReplicas: 0, updatedReplicas: 1 } },
  );
const up = (ns: string, name: string) =>
  workload(
    'Deployment',
    ns,
    name,
    { 'backstage.io/kubernetes-id': name },
    { spec: { replicas: 1 }, status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, availableReplicas: 1 } },
  );

/** Victim namespace b, attacker namespace a, a teams namespace that accepts everyone. */
function tenants(bAccepts?: string): World {
  return worldOf({
    namespaces: [namespace('a'), namespace('b', bAccepts ? { [ACCEPT]: bAccepts } : undefined), namespace('teams', { [ACCEPT]: '*' })],
    entities: [
      entity('Group', 'teams', 't', { type: 'team' }),
      entity('Group', 'b', 'team-x', { type: 'team' }),
      entity('System', 'b', 's', { owner: 'team-x' }),
      entity('Domain', 'b', 'd', { owner: 'team-x' }),
      entity('API', 'b', 'y', { type: 'openapi', lifecycle: 'production', owner: 'team-x' }),
      component('b', 'x', { owner: 'team-x', system: 's' }),
      component('a', 'evil', {
        owner: 'group:b/team-x',
        system: 'system:b/s',
        dependencyOf: ['component:b/x'],
        providesApis: ['api:b/y'],
        subcomponentOf: 'component:b/x',
        dependsOn: ['component:b/x'],
      }),
      entity('System', 'a', 'evil-system', { owner: 'group:teams/t', domain: 'domain:b/d' }),
      entity('Group', 'a', 'evil-group', { type: 'team', parent: 'group:b/team-x', children: ['group:b/team-x'] }),
    ],
    workloads: [up('b', 'x'), down('a', 'evil')],
  });
}

const obj = (world: World, kind: EntityKind, ref: string) => world.caches.entities[kind].get(ref)!;
const statusOf = (world: World, kind: EntityKind, ref: string) =>
  decideStatus(gatherEntityFacts(world, kind, obj(world, kind, ref)), new Date('2026-12-01T00:00:00Z'));
const condition = (status: Record<string, unknown>, type: string) =>
  (status.conditions as { type: string; status: string; reason: string; message: string }[]).find((c) => c.type === type)!;

describe('references into a namespace that does not accept them', () => {
  it("change nothing there: dependencies, parts, providers and health stay the victim's own", () => {
    const world = tenants();
    const x = statusOf(world, 'Component', 'b/x');
    expect(x.dependencies).toBeUndefined();
    expect(x.totalDependencies).toBe(0);
    expect(condition(x, 'DependenciesReady')).toMatchObject({ status: 'True', reason: 'NoDependencies' });
    expect(statusOf(world, 'System', 'b/s')).toMatchObject({ components: { total: 1, ready: 1 } });
    expect(condition(statusOf(world, 'System', 'b/s'), 'Ready').status).toBe('True');
    expect(condition(statusOf(world, 'Domain', 'b/d'), 'Ready')).toMatchObject({ status: 'True', reason: 'NoParts' });
    expect(condition(statusOf(world, 'API', 'b/y'), 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NoProviders' });
    const oracle = new ReadinessOracle(world);
    expect(oracle.ready('system:b/s')).toBe(true);
    expect(oracle.ready('domain:b/d')).toBe(true);
  });

  it('are reported on the referrer, each by namespace, and a dependsOn still reads the health it names', () => {
    const world = tenants();
    const evil = statusOf(world, 'Component', 'a/evil');
    expect(condition(evil, 'RefsResolved')).toMatchObject({ status: 'False', reason: 'RelationNotAccepted' });
    const message = condition(evil, 'RefsResolved').message;
    expect(message).toMatch(/^not accepted by namespace b: /);
    for (const ref of ['owner group:b/team-x', 'system system:b/s', 'subcomponentOf component:b/x', 'dependencyOf component:b/x', 'providesApis api:b/y'])
      expect(message).toContain(ref);
    expect(message).not.toContain('dependsOn');
    expect(evil.dependencies).toEqual([{ ref: 'component:b/x', found: true, ready: true }]);
    expect(condition(statusOf(world, 'System', 'a/evil-system'), 'RefsResolved')).toMatchObject({
      reason: 'RelationNotAccepted',
      message: 'not accepted by namespace b: domain domain:b/d',
    });
    const group = statusOf(world, 'Group', 'a/evil-group');
    expect(condition(group, 'RefsResolved').message).toBe('not accepted by namespace b: parent group:b/team-x, children group:b/team-x');
    expect(condition(group, 'Ready').status).toBe('False');
    expect(new ReadinessOracle(world).ready('group:a/evil-group')).toBe(false);
  });

  it('a reference not found outranks one not accepted, and the message names both', () => {
    const world = tenants();
    (world.caches.entities.Component as Store<KubeObject>).upsert(component('a', 'both', { owner: 'group:a/nobody', system: 'system:b/s' }));
    expect(condition(statusOf(world, 'Component', 'a/both'), 'RefsResolved')).toMatchObject({
      reason: 'OwnerNotFound',
      message: 'not found: owner group:a/nobody; not accepted by namespace b: system system:b/s',
    });
  });

  it("route nothing to the other namespace's team: no owner or system on the workloads, empty owner labels on the series", async () => {
    const world = tenants();
    const ownership = new OwnershipReconciler({ world, apply: undefined as never, events: undefined as never, logger: undefined as never });
    expect(ownership.ownerFacts('Deployment', world.workload('Deployment', 'a', 'evil')!)).toEqual({ entity: 'component:a/evil', lifecycle: 'production' });
    expect(ownership.ownerFacts('Deployment', world.workload('Deployment', 'b', 'x')!)).toEqual({
      entity: 'component:b/x',
      owner: 'group:b/team-x',
      system: 'system:b/s',
      lifecycle: 'production',
    });
    const text = await createStateMetrics({ world, excludedNamespaces: new Set() }).text();
    expect(text).toContain(
      'backlot_entity_info{kind="Component",namespace="a",name="evil",owner="",owner_namespace="",system="",lifecycle="production",type="service"} 1',
    );
    expect(text).toContain(
      'backlot_workload_owner_info{namespace="a",workload_kind="Deployment",workload="evil",entity="component:a/evil",owner="",owner_namespace="",system=""} 1',
    );
    expect(text).toContain(
      'backlot_entity_info{kind="Component",namespace="b",name="x",owner="team-x",owner_namespace="b",system="s",lifecycle="production",type="service"} 1',
    );
  });

  it('an owner in a namespace that accepts everyone routes there', async () => {
    const world = tenants();
    (world.caches.entities.Component as Store<KubeObject>).upsert(component('a', 'honest'));
    const text = await createStateMetrics({ world, excludedNamespaces: new Set() }).text();
    expect(text).toContain(
      'backlot_entity_info{kind="Component",namespace="a",name="honest",owner="t",owner_namespace="teams",system="",lifecycle="production",type="service"} 1',
    );
    expect(condition(statusOf(world, 'Component', 'a/honest'), 'RefsResolved').status).toBe('True');
  });
});

describe('consent', () => {
  it('lets the references take effect, and its withdrawal takes them back, memoized facts and series included', async () => {
    const world = tenants();
    const metrics = createStateMetrics({ world, excludedNamespaces: new Set() });
    expect(statusOf(world, 'Component', 'b/x').totalDependencies).toBe(0);
    expect(await metrics.text()).toContain('name="evil",owner="",owner_namespace=""');

    const namespaces = world.caches.namespaces as Store<KubeObject>;
    namespaces.upsert(namespace('b', { [ACCEPT]: 'a' }, '2'));
    const x = statusOf(world, 'Component', 'b/x');
    expect(x.dependencies).toEqual([{ ref: 'component:a/evil', found: true, ready: false }]);
    // evil also depends on x: with both edges in effect, the two form a cycle.
    expect(condition(x, 'DependenciesReady').reason).toBe('DependencyCycle');
    expect(statusOf(world, 'System', 'b/s')).toMatchObject({ components: { total: 2, ready: 1 } });
    expect(condition(statusOf(world, 'API', 'b/y'), 'Ready').reason).toBe('NoProviderReady');
    expect(condition(statusOf(world, 'Component', 'a/evil'), 'RefsResolved').status).toBe('True');
    expect(await metrics.text()).toContain('name="evil",owner="team-x",owner_namespace="b",system="s"');

    namespaces.upsert(namespace('b', undefined, '3'));
    expect(statusOf(world, 'Component', 'b/x').totalDependencies).toBe(0);
    expect(statusOf(world, 'System', 'b/s')).toMatchObject({ components: { total: 1, ready: 1 } });
    expect(await metrics.text()).toContain('name="evil",owner="",owner_namespace=""');
  });

  it("a change of it puts the entities it concerns, their readers and the referrers' workloads on the queues", () => {
    const world = tenants();
    const keys = { entity: new Set<string>(), workload: new Set<string>() };
    const enqueue = { entity: (k: string) => keys.entity.add(k), workload: (k: string) => keys.workload.add(k) };
    onNamespaceChange(world, enqueue, namespace('b'), namespace('b', { [ACCEPT]: 'a' }, '2'));
    for (const ref of [
      'component:b/x',
      'system:b/s',
      'domain:b/d',
      'api:b/y',
      'group:b/team-x',
      'component:a/evil',
      'system:a/evil-system',
      'group:a/evil-group',
    ])
      expect(keys.entity).toContain(ref);
    expect(keys.workload).toEqual(new Set(['Deployment/a/evil']));

    const none = { entity: new Set<string>(), workload: new Set<string>() };
    onNamespaceChange(
      world,
      { entity: (k) => none.entity.add(k), workload: (k) => none.workload.add(k) },
      namespace('b', { [ACCEPT]: 'a' }),
      namespace('b', { [ACCEPT]: 'a' }, '3'),
    );
    expect(none.entity.size + none.workload.size).toBe(0);
  });
});
