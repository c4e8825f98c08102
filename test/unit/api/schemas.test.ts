import { describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import { ApiSpec } from '../../../src/api/api-entity.ts';
import { isAbsoluteUrl } from '../../../src/api/common.ts';
import { Component, ComponentSpec, ComponentStatus } from '../../../src/api/component.ts';
import { ConditionReason, ConditionType } from '../../../src/api/conditions.ts';
import { DomainSpec } from '../../../src/api/domain.ts';
import { GroupSpec } from '../../../src/api/group.ts';
import { ResourceSpec } from '../../../src/api/resource.ts';
import { SystemSpec, SystemStatus } from '../../../src/api/system.ts';
import { hasPositiveRequirement, WORKLOAD_KINDS } from '../../../src/api/workloads.ts';

const checkout = {
  type: 'service',
  lifecycle: 'production',
  owner: 'team-payments',
  system: 'webshop',
  dependsOn: ['resource:orders-db'],
  providesApis: ['checkout-api'],
  links: [{ url: 'https://grafana.example.com/d/checkout', title: 'Dashboard', icon: 'dashboard' }],
  tags: ['java', 'payments'],
  workloads: { selector: { matchLabels: { 'app.kubernetes.io/name': 'checkout' } } },
};

/** The paths zod reports for an invalid value. */
function issuePaths(schema: z.ZodType, value: unknown): string[] {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
}

describe('the spec schemas', () => {
  it('parse a complete Component spec and default the workload kinds to all five', () => {
    const spec: ComponentSpec = ComponentSpec.parse(checkout);
    expect(spec.workloads?.kinds).toEqual([...WORKLOAD_KINDS]);
    expect(spec.owner).toBe('team-payments');
  });

  it.each([
    ['Component', ComponentSpec, ['type', 'lifecycle', 'owner']],
    ['Resource', ResourceSpec, ['type', 'owner']],
    ['System', SystemSpec, ['owner']],
    ['API', ApiSpec, ['type', 'lifecycle', 'owner']],
    ['Group', GroupSpec, ['type']],
    ['Domain', DomainSpec, ['owner']],
  ] as const)('%s requires exactly the fields API.md requires', (_kind, schema, required) => {
    expect(issuePaths(schema, {}).sort()).toEqual([...required].sort());
  });

  it.each([
    ['an overlong title', { ...checkout, title: 'x'.repeat(257) }, 'title'],
    ['a tag with upper case', { ...checkout, tags: ['Java'] }, 'tags.0'],
    ['too many tags', { ...checkout, tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, 'tags'],
    ['a relative link', { ...checkout, links: [{ url: '/d/checkout' }] }, 'links.0.url'],
    ['an unknown workload kind', { ...checkout, workloads: { kinds: ['Pod'] } }, 'workloads.kinds.0'],
    ['a too long reference', { ...checkout, owner: 'x'.repeat(138) }, 'owner'],
    ['too many dependencies', { ...checkout, dependsOn: Array.from({ length: 65 }, (_, i) => `resource:r${i}`) }, 'dependsOn'],
    ['an empty type', { ...checkout, type: '' }, 'type'],
    ['an empty selector', { ...checkout, workloads: { selector: {} } }, 'workloads.selector'],
    [
      'a selector made only of NotIn and DoesNotExist',
      {
        ...checkout,
        workloads: {
          selector: {
            matchExpressions: [
              { key: 'x', operator: 'DoesNotExist' },
              { key: 'y', operator: 'NotIn', values: ['a'] },
            ],
          },
        },
      },
      'workloads.selector',
    ],
  ])('reject %s', (_what, spec, path) => {
    expect(issuePaths(ComponentSpec, spec)).toEqual([path]);
  });

  it('type a whole object, status included', () => {
    const object: Component = Component.parse({
      apiVersion: 'catalog.backlot.dev/v1alpha1',
      kind: 'Component',
      metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '12', finalizers: ['kept'] },
      spec: checkout,
      status: {
        observedGeneration: 3,
        conditions: [
          { type: ConditionType.Ready, status: 'True', reason: ConditionReason.AllWorkloadsReady, message: '', lastTransitionTime: '2026-01-02T03:04:05Z' },
        ],
        workloads: [{ kind: 'Deployment', name: 'checkout', ready: true, replicas: 2, readyReplicas: 2 }],
        readyWorkloads: 1,
        totalWorkloads: 1,
        workloadSummary: '1/1',
      },
    });
    expect(object.metadata.finalizers).toEqual(['kept']);
    expect(object.status?.conditions?.[0]?.reason).toBe('AllWorkloadsReady');
  });

  it('reject a condition with a reason that is not CamelCase', () => {
    const status = { conditions: [{ type: 'Ready', status: 'True', reason: 'all good', message: '', lastTransitionTime: '2026-01-02T03:04:05Z' }] };
    expect(issuePaths(ComponentStatus, status)).toEqual(['conditions.0.reason']);
  });

  it("count a system's parts", () => {
    expect(SystemStatus.parse({ components: { total: 3, ready: 2 } }).components).toEqual({ total: 3, ready: 2 });
  });
});

describe('condition constants', () => {
  it('are CamelCase and equal to their keys', () => {
    for (const table of [ConditionType, ConditionReason]) {
      for (const [key, value] of Object.entries(table)) {
        expect(value).toBe(key);
        expect(value).toMatch(/^[A-Z][A-Za-z]*$/);
      }
    }
  });

  it('include the reasons API.md names', () => {
    expect(Object.values(ConditionReason)).toEqual(
      expect.arrayContaining([
        'AllWorkloadsReady',
        'WorkloadsNotReady',
        'NoWorkloadsMatched',
        'DependencyNotReady',
        'DependencyNotFound',
        'DependencyCycle',
        'OwnerNotFound',
        'ClaimConflict',
      ]),
    );
  });
});

describe('isAbsoluteUrl', () => {
  it.each([
    ['https://grafana.example.com/d/checkout', true],
    ['mailto:payments@example.com', true],
    ['https://example.com/a b', false],
    ['/d/checkout', false],
    ['grafana.example.com', false],
    ['', false],
  ])('%j → %s', (url, expected) => {
    expect(isAbsoluteUrl(url)).toBe(expected);
  });
});

describe('hasPositiveRequirement', () => {
  it.each([
    ['a matchLabels entry', { matchLabels: { app: 'x' } }, true],
    ['an In expression', { matchExpressions: [{ operator: 'In' }] }, true],
    ['an Exists expression beside a DoesNotExist', { matchExpressions: [{ operator: 'DoesNotExist' }, { operator: 'Exists' }] }, true],
    ['nothing', {}, false],
    ['empty matchLabels', { matchLabels: {} }, false],
    ['only NotIn and DoesNotExist', { matchExpressions: [{ operator: 'NotIn' }, { operator: 'DoesNotExist' }] }, false],
  ])('%s', (_what, selector, expected) => {
    expect(hasPositiveRequirement(selector)).toBe(expected);
  });
});
