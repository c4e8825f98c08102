import { describe, expect, it } from '@jest/globals';
import { claimantsOf, claimSelector, compareClaimants, isIgnored, type Claimant, type ClaimTarget } from '../../../src/catalog/claims.ts';
import { compileSelector } from '../../../src/catalog/selector.ts';
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
    const r = claimSelector({ name: 'checkout', annotations: { 'backstage.io/kubernetes-label-selector': 'team=x' }, workloads: { selector: { matchLabels: { app: 'co' } } } });
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
