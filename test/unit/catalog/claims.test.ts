import { describe, expect, it } from '@jest/globals';
import { ClaimantIndex, claimantsOf, claimSelector, compareClaimants, isIgnored, type Claimant, type ClaimTarget } from '../../../src/catalog/claims.ts';
import { compileSelector, type Selector } from '../../../src/catalog/selector.ts';
import type { LabelSelector } from '../../../src/api/workloads.ts';
import { WORKLOAD_KINDS } from '../../../src/api/workloads.ts';

const ALL = new Set(WORKLOAD_KINDS);

function claimant(ref: string, createdAt: number, matchLabels: Record<string, string>, namespace = 'shop'): Claimant {
  return { ref, namespace, createdAt, selector: compileSelector({ matchLabels }), kinds: ALL };
}

const deploy = (labels: Record<string, string>, extra: Partial<ClaimTarget> = {}): ClaimTarget => ({
  kind: 'Deployment',
  namespace: 'shop',
  name: 'checkout',
  labels,
  ...extra,
});

describe('claimSelector', () => {
  it('uses spec.workloads.selector first', () => {
    const r = claimSelector({
      name: 'checkout',
      annotations: { 'backstage.io/kubernetes-label-selector': 'team=x' },
      workloads: { selector: { matchLabels: { app: 'co' } } },
    });
    expect(r.ok && r.selector.matches({ app: 'co' })).toBe(true);
    expect(r.ok && r.selector.matches({ team: 'x' })).toBe(false);
  });
  it('then the Backstage label-selector annotation', () => {
    const r = claimSelector({ name: 'checkout', annotations: { 'backstage.io/kubernetes-label-selector': 'app in (co,checkout)' } });
    expect(r.ok && r.selector.matches({ app: 'co' })).toBe(true);
  });
  it('then backstage.io/kubernetes-id=<name>', () => {
    const r = claimSelector({ name: 'checkout' });
    expect(r.ok && r.selector.matches({ 'backstage.io/kubernetes-id': 'checkout' })).toBe(true);
    expect(r.ok && r.selector.matches({ 'backstage.io/kubernetes-id': 'cart' })).toBe(false);
  });
  it('reports an annotation that does not parse, naming it', () => {
    const r = claimSelector({ name: 'checkout', annotations: { 'backstage.io/kubernetes-label-selector': 'app=' + 'a b' } });
    expect(r).toEqual({ ok: false, message: expect.stringContaining('annotation backstage.io/kubernetes-label-selector: cannot parse') });
  });

  const ANNOTATION = 'backstage.io/kubernetes-label-selector';
  // Every workload a hostile selector could reach: none of them may be claimed.
  const workloads: Record<string, string>[] = [{}, { app: 'checkout' }, { 'backstage.io/kubernetes-id': 'checkout' }, { x: 'y', tier: 'web' }];

  it.each([
    [
      '"!x": matches every workload without x',
      '!x',
      'annotation backstage.io/kubernetes-label-selector: must have a positive requirement (key=value, key in (...) or key)',
    ],
    ['only key!=value', 'tier!=db', 'annotation backstage.io/kubernetes-label-selector: must have a positive requirement'],
    ['only notin and !key', 'tier notin (db), !canary', 'would claim every workload of the namespace'],
    ['an invalid key', 'Team/App=x', 'annotation backstage.io/kubernetes-label-selector: "Team/App" is not a label key'],
    ['an invalid value', 'app=.x', 'annotation backstage.io/kubernetes-label-selector: ".x" (of key "app") is not a label value'],
    [
      'too many terms',
      Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','),
      'annotation backstage.io/kubernetes-label-selector: 33 key=value terms, at most 32',
    ],
    ['too long', `app=${'x,'.repeat(3000)}`, 'annotation backstage.io/kubernetes-label-selector: 6004 characters, at most 4096'],
  ])('refuses an annotation with %s, claiming nothing', (_what, annotation, message) => {
    const r = claimSelector({ name: 'checkout', annotations: { [ANNOTATION]: annotation } });
    expect(r).toEqual({ ok: false, message: expect.stringContaining(message) });
  });

  it.each<[string, LabelSelector, string]>([
    [
      'only DoesNotExist',
      { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] },
      'spec.workloads.selector: must have a positive requirement (a matchLabels entry, or an In or Exists expression)',
    ],
    ['only NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, 'would claim every workload of the namespace'],
    ['nothing', {}, 'spec.workloads.selector: must have a positive requirement'],
    ['a key admission would refuse', { matchLabels: { 'app name': 'x' } }, 'spec.workloads.selector: "app name" is not a label key'],
  ])('refuses a stored spec selector with %s, admitted before the rule that refuses it, and never falls back to the annotation', (_what, selector, message) => {
    const r = claimSelector({ name: 'checkout', annotations: { [ANNOTATION]: 'app=checkout' }, workloads: { selector } });
    expect(r).toEqual({ ok: false, message: expect.stringContaining(message) });
  });

  it.each([
    ['an annotation on constructor', { annotations: { [ANNOTATION]: 'constructor' } }],
    ['an annotation on toString', { annotations: { [ANNOTATION]: 'toString' } }],
    ['a spec selector on constructor', { workloads: { selector: { matchExpressions: [{ key: 'constructor', operator: 'Exists' as const }] } } }],
    ['a spec selector on toString', { workloads: { selector: { matchLabels: { toString: 'x' } } } }],
  ])('%s claims no workload without that label', (_what, source) => {
    const r = claimSelector({ name: 'checkout', ...source });
    expect(r.ok).toBe(true);
    for (const labels of workloads) expect(r.ok && r.selector.matches(labels)).toBe(false);
  });

  it('reads the annotation as an own property only', () => {
    const annotations = Object.create({ [ANNOTATION]: '!x' }) as Record<string, string>;
    const r = claimSelector({ name: 'checkout', annotations });
    expect(r.ok && r.selector.matches({ 'backstage.io/kubernetes-id': 'checkout' })).toBe(true);
  });
});

describe('claimantsOf', () => {
  const a = claimant('component:shop/checkout', 1000, { app: 'checkout' });
  const b = claimant('component:shop/payments', 500, { app: 'checkout' });
  const c = claimant('resource:shop/checkout', 500, { app: 'checkout' });
  const other = claimant('component:ops/checkout', 1, { app: 'checkout' }, 'ops');

  it('orders claimants oldest first, then by reference, whatever the input order', () => {
    expect(claimantsOf(deploy({ app: 'checkout' }), [a, b, c, other]).map((x) => x.ref)).toEqual([
      'component:shop/payments',
      'resource:shop/checkout',
      'component:shop/checkout',
    ]);
    expect(claimantsOf(deploy({ app: 'checkout' }), [c, other, a, b])[0]!.ref).toBe('component:shop/payments');
  });

  it('never claims across namespaces', () => {
    expect(claimantsOf(deploy({ app: 'checkout' }, { namespace: 'ops' }), [a, b, other]).map((x) => x.ref)).toEqual(['component:ops/checkout']);
  });

  it('respects the claimed kinds', () => {
    const servicesOnly: Claimant = { ...a, kinds: new Set(['Service'] as const) };
    expect(claimantsOf(deploy({ app: 'checkout' }), [servicesOnly])).toEqual([]);
    expect(claimantsOf(deploy({ app: 'checkout' }, { kind: 'Service' }), [servicesOnly])).toHaveLength(1);
  });

  it('skips ignored workloads, by label or annotation', () => {
    expect(claimantsOf(deploy({ app: 'checkout', 'backlot.dev/ignore': 'true' }), [a])).toEqual([]);
    expect(claimantsOf(deploy({ app: 'checkout' }, { annotations: { 'backlot.dev/ignore': 'true' } }), [a])).toEqual([]);
    expect(isIgnored({ labels: { 'backlot.dev/ignore': 'false' } })).toBe(false);
  });

  it('compares by age before name', () => {
    expect(compareClaimants({ createdAt: 1, ref: 'z' }, { createdAt: 2, ref: 'a' })).toBeLessThan(0);
    expect(compareClaimants({ createdAt: 2, ref: 'a' }, { createdAt: 2, ref: 'b' })).toBeLessThan(0);
    expect(compareClaimants({ createdAt: 2, ref: 'a' }, { createdAt: 2, ref: 'a' })).toBe(0);
  });
});

describe('ClaimantIndex', () => {
  /** A small deterministic generator, so that a failure can be replayed. */
  function random(seed: number): () => number {
    let x = seed;
    return () => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return x / 2147483648;
    };
  }

  it('answers what claimantsOf answers over every claimant, for selectors of every shape', () => {
    const next = random(7);
    const pick = <T>(values: readonly T[]): T => values[Math.floor(next() * values.length)]!;
    const apps = ['checkout', 'cart', 'payments', 'search'];
    const shapes: Array<() => LabelSelector> = [
      () => ({ matchLabels: { 'backstage.io/kubernetes-id': pick(apps) } }),
      () => ({ matchLabels: { app: pick(apps), tier: pick(['web', 'api']) } }),
      () => ({ matchExpressions: [{ key: 'app', operator: 'In', values: [pick(apps)] }] }),
      () => ({ matchExpressions: [{ key: 'app', operator: 'In', values: [pick(apps), pick(apps)] }] }),
      () => ({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }),
      () => ({
        matchExpressions: [
          { key: 'app', operator: 'NotIn', values: [pick(apps)] },
          { key: 'tier', operator: 'Exists' },
        ],
      }),
      () => ({ matchLabels: { app: pick(apps) }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }),
    ];
    const claimants: Claimant[] = Array.from({ length: 60 }, (_, i) => ({
      ref: `component:shop/c${i}`,
      namespace: i % 10 === 0 ? 'ops' : 'shop',
      createdAt: Math.floor(next() * 5),
      selector: compileSelector(pick(shapes)()),
      kinds: i % 3 === 0 ? new Set(['Service'] as const) : ALL,
    }));
    const index = new ClaimantIndex(claimants);
    let claimed = 0;
    for (let t = 0; t < 400; t++) {
      const labels: Record<string, string> = {};
      if (next() < 0.7) labels['backstage.io/kubernetes-id'] = pick(apps);
      if (next() < 0.7) labels.app = pick(apps);
      if (next() < 0.5) labels.tier = pick(['web', 'api']);
      if (next() < 0.05) labels['backlot.dev/ignore'] = 'true';
      const target = deploy(labels, { kind: pick(['Deployment', 'Service'] as const), namespace: pick(['shop', 'ops']) });
      const expected = claimantsOf(target, claimants).map((c) => c.ref);
      expect(index.claimantsOf(target).map((c) => c.ref)).toEqual(expected);
      if (expected.length > 0) claimed++;
    }
    // The comparison covered claimed workloads, not only unclaimed ones.
    expect(claimed).toBeGreaterThan(100);
  });

  it('files and finds claimants by own labels only', () => {
    const onConstructor: Claimant = { ...claimant('component:shop/proto', 1, {}), selector: compileSelector({ matchLabels: { constructor: 'x' } }) };
    const byId = claimant('component:shop/checkout', 2, { 'backstage.io/kubernetes-id': 'checkout' });
    const index = new ClaimantIndex([onConstructor, byId]);
    // Labels that inherit enumerable properties: only the object's own labels count.
    const inherited = Object.create({ 'backstage.io/kubernetes-id': 'checkout', constructor: 'x' }) as Record<string, string>;
    inherited.app = 'checkout';
    expect(index.claimantsOf(deploy(inherited))).toEqual([]);
    expect(claimantsOf(deploy(inherited), [onConstructor, byId])).toEqual([]);
    expect(index.claimantsOf(deploy({ constructor: 'x' })).map((c) => c.ref)).toEqual(['component:shop/proto']);
    expect(isIgnored({ labels: Object.create({ 'backlot.dev/ignore': 'true' }) as Record<string, string> })).toBe(false);
  });

  it('matches a workload only against the claimants its labels could satisfy', () => {
    let matched = 0;
    const counting = (selector: Selector): Selector => ({
      required: selector.required,
      matches: (labels) => {
        matched++;
        return selector.matches(labels);
      },
    });
    const claimants = Array.from({ length: 1000 }, (_, i): Claimant => ({
      ...claimant(`component:shop/c${i}`, i, { 'backstage.io/kubernetes-id': `c${i}` }),
      selector: counting(compileSelector({ matchLabels: { 'backstage.io/kubernetes-id': `c${i}` } })),
    }));
    const index = new ClaimantIndex(claimants);
    expect(index.claimantsOf(deploy({ 'backstage.io/kubernetes-id': 'c500', app: 'x' })).map((c) => c.ref)).toEqual(['component:shop/c500']);
    expect(index.claimantsOf(deploy({ app: 'x' }))).toEqual([]);
    expect(matched).toBe(1);
    expect(index.all).toBe(claimants);
  });
});
