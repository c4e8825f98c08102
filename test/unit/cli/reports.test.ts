import { describe, expect, it } from '@jest/globals';
import { orphanReport, ownersReport } from '../../../src/cli/reports.ts';
import { DEFAULT_EXCLUDED_NAMESPACES } from '../../../src/reconcilers/survey.ts';
import { entity, workload, worldOf } from '../../support/world.ts';
import { examplesWorld } from './examples.ts';

const EXCLUDED = new Set<string>(DEFAULT_EXCLUDED_NAMESPACES);

describe('orphanReport', () => {
  it("finds exactly the examples' unclaimed workload, routed to the namespace owner", () => {
    expect(orphanReport(examplesWorld(), EXCLUDED)).toEqual([
      { namespace: 'shop', kind: 'Deployment', name: 'promo-banner', namespaceOwner: 'team-storefront', namespaceOwnerNamespace: 'shop' },
    ]);
  });

  it("sorts by namespace, kind in API.md's order, then name; and leaves out excluded namespaces, ignored and controlled workloads", () => {
    const world = worldOf({
      workloads: [
        workload('Service', 'b', 'z', {}),
        workload('Deployment', 'b', 'y', {}),
        workload('Deployment', 'b', 'x', {}),
        workload('CronJob', 'a', 'w', {}),
        workload('Deployment', 'kube-system', 'coredns', {}),
        workload('Deployment', 'a', 'ignored', { 'backlot.dev/ignore': 'true' }),
        {
          ...workload('StatefulSet', 'a', 'controlled', {}),
          metadata: { name: 'controlled', namespace: 'a', ownerReferences: [{ uid: 'u', controller: true }] },
        },
      ],
    });
    expect(orphanReport(world, EXCLUDED).map((o) => `${o.namespace}/${o.kind}/${o.name}`)).toEqual([
      'a/CronJob/w',
      'b/Deployment/x',
      'b/Deployment/y',
      'b/Service/z',
    ]);
  });
});

describe('ownersReport', () => {
  it("groups the examples' entities by owner with the workloads each holds", () => {
    const report = ownersReport(examplesWorld(), { namespaceRead: () => true });
    expect(report.map((o) => [o.owner, o.found, o.entities.length])).toEqual([
      ['group:platform/team-platform', true, 6],
      ['group:shop/team-fulfilment', true, 8],
      ['group:shop/team-payments', true, 11],
      ['group:shop/team-storefront', true, 12],
    ]);
    const payments = report.find((o) => o.owner === 'group:shop/team-payments')!;
    expect(payments).toMatchObject({ displayName: 'Team Payments', email: 'payments@example.com' });
    expect(payments.entities.find((e) => e.ref === 'component:shop/checkout')?.workloads).toEqual(['Deployment/checkout', 'Service/checkout']);
    expect(payments.entities.find((e) => e.ref === 'component:shop/payments-reconciler')?.workloads).toEqual(['CronJob/payments-reconciler']);
    expect(payments.entities.find((e) => e.ref === 'resource:shop/fraud-models')?.workloads).toEqual([]);
  });

  it('filters to one owner', () => {
    const report = ownersReport(examplesWorld(), { namespaceRead: () => true, owner: 'group:platform/team-platform' });
    expect(report.map((o) => o.owner)).toEqual(['group:platform/team-platform']);
    expect(report[0]?.entities.map((e) => e.ref)).toEqual([
      'api:platform/auth-api',
      'component:platform/auth',
      'component:platform/log-shipper',
      'domain:platform/platform',
      'resource:platform/auth-db',
      'system:platform/identity',
    ]);
    expect(report[0]?.entities.find((e) => e.ref === 'component:platform/log-shipper')?.workloads).toEqual(['DaemonSet/fluent-bit']);
  });

  it.each([
    ['not found when its namespace was read', true, false],
    ['unknown when its namespace was not read', false, null],
  ])('marks an owner that is absent as %s', (_title, read, found) => {
    const world = worldOf({ entities: [entity('Component', 'shop', 'a', { type: 'service', lifecycle: 'production', owner: 'group:other/ghost' })] });
    expect(ownersReport(world, { namespaceRead: () => read })[0]?.found).toBe(found);
  });

  it('gives a contested workload to the claimant that holds it only', () => {
    const world = worldOf({
      entities: [
        entity(
          'Component',
          'shop',
          'old',
          { type: 'service', lifecycle: 'production', owner: 'team-a' },
          { created: '2026-01-01T00:00:00Z', annotations: { 'backstage.io/kubernetes-label-selector': 'app=x' } },
        ),
        entity(
          'Component',
          'shop',
          'new',
          { type: 'service', lifecycle: 'production', owner: 'team-b' },
          { created: '2026-02-01T00:00:00Z', annotations: { 'backstage.io/kubernetes-label-selector': 'app=x' } },
        ),
      ],
      workloads: [workload('Deployment', 'shop', 'x', { app: 'x' })],
    });
    const report = ownersReport(world, { namespaceRead: () => true });
    expect(report.map((o) => [o.owner, o.entities.map((e) => [e.ref, e.workloads])])).toEqual([
      ['group:shop/team-a', [['component:shop/old', ['Deployment/x']]]],
      ['group:shop/team-b', [['component:shop/new', []]]],
    ]);
  });
});
