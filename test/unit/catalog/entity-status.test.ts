import { describe, expect, it } from '@jest/globals';
import {
  apiReadyCondition,
  boundedMessage,
  decideStatus,
  dependenciesReadyCondition,
  listOf,
  partsReadyCondition,
  refsResolvedCondition,
  workloadEntityReadyCondition,
  workloadsReadyCondition,
  type ClaimedWorkload,
  type EntityFacts,
} from '../../../src/catalog/entity-status.ts';
import { KINDS } from '../../../src/api/kinds.ts';
import { formatCycle } from '../../../src/catalog/graph.ts';
import { STATUS_LIMITS, WorkloadEntityStatus } from '../../../src/api/status.ts';

const now = new Date('2026-11-21T12:00:00Z');
const w = (name: string, ready: boolean, more: Partial<ClaimedWorkload> = {}): ClaimedWorkload => ({
  kind: 'Deployment',
  name,
  ready,
  detail: ready ? '' : '1/3 replicas ready',
  alsoClaimedBy: [],
  ...more,
});

describe('workloadsReadyCondition', () => {
  it.each([
    ['all ready', { won: [w('a', true), w('b', true)], lost: [] }, 'True', 'AllWorkloadsReady', 'all 2 claimed workloads are ready'],
    [
      'one not ready',
      { won: [w('a', true), w('b', false)], lost: [] },
      'False',
      'WorkloadsNotReady',
      '1/2 workloads not ready: Deployment b (1/3 replicas ready)',
    ],
    ['nothing matched', { won: [], lost: [] }, 'Unknown', 'NoWorkloadsMatched', 'the entity claims no workload in its namespace'],
    ['invalid selector', { selectorError: 'annotation x: cannot parse', won: [], lost: [] }, 'False', 'InvalidSelector', 'annotation x: cannot parse'],
    [
      'won a contested workload',
      { won: [w('a', true, { alsoClaimedBy: ['component:shop/b'] })], lost: [] },
      'True',
      'ClaimConflict',
      'all 1 claimed workloads are ready; claim conflicts: Deployment a is also claimed by component:shop/b',
    ],
    [
      'lost every workload',
      { won: [], lost: [{ kind: 'Service' as const, name: 'a', heldBy: 'component:shop/old' }] },
      'False',
      'ClaimConflict',
      'every workload it matches is claimed by an older entity; claim conflicts: Service a is held by component:shop/old',
    ],
    [
      'not ready outranks a conflict',
      { won: [w('a', false)], lost: [{ kind: 'Service' as const, name: 'b', heldBy: 'component:shop/old' }] },
      'False',
      'WorkloadsNotReady',
      '1/1 workloads not ready: Deployment a (1/3 replicas ready); claim conflicts: Service b is held by component:shop/old',
    ],
  ])('%s', (_name, claim, status, reason, message) => {
    expect(workloadsReadyCondition(claim, 3)).toEqual({ type: 'WorkloadsReady', status, reason, message, observedGeneration: 3 });
  });

  it('makes Ready follow the workloads, with no workloads counting as ready', () => {
    expect(workloadEntityReadyCondition(workloadsReadyCondition({ won: [], lost: [] }, 1))).toMatchObject({
      type: 'Ready',
      status: 'True',
      reason: 'NoWorkloadsMatched',
    });
    expect(workloadEntityReadyCondition(workloadsReadyCondition({ won: [w('a', false)], lost: [] }, 1))).toMatchObject({ type: 'Ready', status: 'False' });
  });
});

describe('dependenciesReadyCondition', () => {
  const dep = (ref: string, found: boolean, ready: boolean) => ({ ref, found, ready });
  it.each([
    ['none', { dependencies: [] }, 'True', 'NoDependencies'],
    ['all ready', { dependencies: [dep('resource:shop/db', true, true)] }, 'True', 'AllDependenciesReady'],
    ['one missing', { dependencies: [dep('resource:shop/db', false, false), dep('component:shop/x', true, false)] }, 'False', 'DependencyNotFound'],
    ['one not ready', { dependencies: [dep('resource:shop/db', true, false)] }, 'False', 'DependencyNotReady'],
    [
      'a cycle',
      { dependencies: [dep('component:shop/b', true, true)], cycle: ['component:shop/a', 'component:shop/b', 'component:shop/a'] },
      'False',
      'DependencyCycle',
    ],
  ])('%s', (_name, facts, status, reason) => {
    expect(dependenciesReadyCondition(facts, 1)).toMatchObject({ type: 'DependenciesReady', status, reason });
  });

  it('names what is wrong', () => {
    expect(dependenciesReadyCondition({ dependencies: [dep('resource:shop/db', false, false)] }, 1).message).toBe('not found: resource:shop/db');
    expect(dependenciesReadyCondition({ dependencies: [], cycle: ['component:shop/a', 'component:shop/a'] }, 1).message).toBe(
      'dependency cycle: component:shop/a → component:shop/a',
    );
  });
});

describe('refsResolvedCondition', () => {
  it.each([
    ['all found', [{ field: 'owner', ref: 'group:shop/a', found: true }], 'True', 'AllRefsResolved'],
    [
      'owner missing',
      [
        { field: 'owner', ref: 'group:shop/a', found: false },
        { field: 'system', ref: 'system:shop/s', found: false },
      ],
      'False',
      'OwnerNotFound',
    ],
    [
      'other missing',
      [
        { field: 'owner', ref: 'group:shop/a', found: true },
        { field: 'system', ref: 'system:shop/s', found: false },
      ],
      'False',
      'RefsNotFound',
    ],
    ['users are not checked', [{ field: 'members', ref: 'user:default/jane', found: false }], 'True', 'AllRefsResolved'],
  ])('%s', (_name, refs, status, reason) => {
    expect(refsResolvedCondition(refs, 1)).toMatchObject({ status, reason });
  });

  it('lists every missing reference with its field', () => {
    expect(
      refsResolvedCondition(
        [
          { field: 'owner', ref: 'group:shop/a', found: false },
          { field: 'system', ref: 'system:shop/s', found: false },
        ],
        1,
      ).message,
    ).toBe('not found: owner group:shop/a, system system:shop/s');
  });
});

describe('aggregates', () => {
  it.each([
    [{ counts: {}, notReady: [] }, 'True', 'NoParts'],
    [{ counts: { components: { total: 2, ready: 2 } }, notReady: [] }, 'True', 'AllPartsReady'],
    [{ counts: { components: { total: 2, ready: 1 }, apis: { total: 1, ready: 1 } }, notReady: ['component:shop/a'] }, 'False', 'PartsNotReady'],
  ])('parts %j', (facts, status, reason) => {
    expect(partsReadyCondition(facts, 1)).toMatchObject({ type: 'Ready', status, reason });
  });

  it.each([
    [[], 'Unknown', 'NoProviders'],
    [
      [
        { ref: 'component:shop/a', ready: false },
        { ref: 'component:shop/b', ready: true },
      ],
      'True',
      'ProviderReady',
    ],
    [[{ ref: 'component:shop/a', ready: false }], 'False', 'NoProviderReady'],
  ])('API providers %j', (providers, status, reason) => {
    expect(apiReadyCondition({ providers }, 1)).toMatchObject({ type: 'Ready', status, reason });
  });

  it('lists at most ten names', () => {
    expect(listOf(Array.from({ length: 12 }, (_, i) => `n${i}`))).toBe('n0, n1, n2, n3, n4, n5, n6, n7, n8, n9, ... and 2 more');
  });
});

describe('decideStatus', () => {
  it('builds a Component status with conditions, workloads, dependencies and counts', () => {
    const status = decideStatus(
      {
        kind: 'Component',
        generation: 4,
        previousConditions: undefined,
        refs: [{ field: 'owner', ref: 'group:shop/team', found: true }],
        claim: { won: [w('checkout', true, { replicas: 3, readyReplicas: 3 }), w('checkout-worker', false, { replicas: 2, readyReplicas: 1 })], lost: [] },
        dependencies: { dependencies: [{ ref: 'resource:shop/db', found: true, ready: true }] },
      },
      now,
    );
    expect(status).toEqual({
      observedGeneration: 4,
      conditions: [
        expect.objectContaining({ type: 'Ready', status: 'False', reason: 'WorkloadsNotReady', lastTransitionTime: '2026-11-21T12:00:00Z' }),
        expect.objectContaining({ type: 'WorkloadsReady', status: 'False' }),
        expect.objectContaining({ type: 'DependenciesReady', status: 'True', reason: 'AllDependenciesReady' }),
        expect.objectContaining({ type: 'RefsResolved', status: 'True' }),
      ],
      workloads: [
        { kind: 'Deployment', name: 'checkout', ready: true, replicas: 3, readyReplicas: 3 },
        { kind: 'Deployment', name: 'checkout-worker', ready: false, replicas: 2, readyReplicas: 1 },
      ],
      dependencies: [{ ref: 'resource:shop/db', found: true, ready: true }],
      readyWorkloads: 1,
      totalWorkloads: 2,
      totalDependencies: 1,
      workloadSummary: '1/2',
    });
  });

  it('is stable: deciding again from its own result changes nothing', () => {
    const facts = { kind: 'System' as const, generation: 1, refs: [], parts: { counts: { components: { total: 1, ready: 1 } }, notReady: [] } };
    const first = decideStatus({ ...facts, previousConditions: undefined }, now);
    const second = decideStatus({ ...facts, previousConditions: first.conditions }, new Date('2026-11-22T00:00:00Z'));
    expect(second).toEqual(first);
    expect(first).toMatchObject({ components: { total: 1, ready: 1 } });
  });
});

describe('bounds', () => {
  const refs = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

  it("cut the lists to the CRD's limits in their order and keep whole counts: a status the API server accepts", () => {
    const won = refs(1000, 'svc-').map((name, i) => w(name, i % 2 === 0, { alsoClaimedBy: refs(1000, 'component:shop/rival-') }));
    const dependencies = refs(300, 'component:shop/dep-').map((ref) => ({ ref, found: true, ready: false }));
    const cycle = [...refs(2000, 'component:shop/loop-'), 'component:shop/loop-0000'];
    for (const facts of [{ dependencies }, { dependencies, cycle }]) {
      const status = decideStatus(
        { kind: 'Component', generation: 1, previousConditions: undefined, refs: [], claim: { won, lost: [] }, dependencies: facts },
        now,
      );
      expect(WorkloadEntityStatus.safeParse(status).success).toBe(true);
      expect(status).toMatchObject({ totalWorkloads: 1000, readyWorkloads: 500, totalDependencies: 300, workloadSummary: '500/1000' });
      expect((status.workloads as unknown[]).length).toBe(STATUS_LIMITS.workloads);
      expect((status.workloads as { name: string }[]).at(-1)!.name).toBe('svc-0255');
      expect((status.dependencies as { ref: string }[]).map((d) => d.ref)).toEqual(dependencies.slice(0, STATUS_LIMITS.dependencies).map((d) => d.ref));
      for (const c of status.conditions as { message: string }[]) expect(c.message.length).toBeLessThanOrEqual(4096);
    }
  });

  it('name at most three other claimants of a workload', () => {
    const condition = workloadsReadyCondition({ won: [w('a', true, { alsoClaimedBy: ['c:1', 'c:2', 'c:3', 'c:4', 'c:5'] })], lost: [] }, 1);
    expect(condition.message).toBe('all 1 claimed workloads are ready; claim conflicts: Deployment a is also claimed by c:1, c:2, c:3, ... and 2 more');
  });

  it('cut a long cycle in its middle', () => {
    expect(formatCycle(['a', 'b', 'a'])).toBe('a → b → a');
    const long = [...refs(20, 'n'), 'n0000'];
    expect(formatCycle(long)).toBe(`${long.slice(0, 11).join(' → ')} → ... and 9 more → n0000`);
  });

  it('cut a message to its limit, saying how much was left out', () => {
    expect(boundedMessage('short', 100)).toBe('short');
    const cut = boundedMessage('x'.repeat(10_000), 100);
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(cut).toMatch(/^x+ \.\.\. and \d+ more characters$/);
    expect(Number(/and (\d+) more/.exec(cut)![1]) + cut.indexOf(' ')).toBe(10_000);
  });
});

describe("decideStatus and the kinds' status schemas", () => {
  const claimed = { kind: 'Deployment' as const, name: 'web', ready: true, replicas: 2, readyReplicas: 2, detail: '', alsoClaimedBy: [] };
  const facts: Record<EntityFacts['kind'], EntityFacts> = {
    Component: {
      kind: 'Component',
      generation: 3,
      previousConditions: undefined,
      refs: [],
      claim: { won: [claimed], lost: [] },
      dependencies: { dependencies: [{ ref: 'resource:shop/db', found: true, ready: false }] },
    },
    Resource: { kind: 'Resource', generation: 1, previousConditions: undefined, refs: [] },
    System: {
      kind: 'System',
      generation: 1,
      previousConditions: undefined,
      refs: [],
      parts: {
        counts: { components: { total: 2, ready: 1 }, resources: { total: 0, ready: 0 }, apis: { total: 1, ready: 1 } },
        notReady: ['component:shop/a'],
      },
    },
    Domain: { kind: 'Domain', generation: 1, previousConditions: undefined, refs: [], parts: { counts: { systems: { total: 1, ready: 1 } }, notReady: [] } },
    API: { kind: 'API', generation: 1, previousConditions: undefined, refs: [], providers: { providers: [{ ref: 'component:shop/a', ready: true }] } },
    Group: { kind: 'Group', generation: 1, previousConditions: undefined, refs: [{ field: 'members', ref: 'user:default/jane', found: false }] },
  };

  it.each(KINDS.map((k) => [k.kind, k] as const))('%s: what it decides is a status its CRD schema takes, field for field', (kind, info) => {
    const status = decideStatus(facts[kind], now);
    expect(info.status.strict().parse(status)).toEqual(status);
  });
});
