import { describe, expect, it } from '@jest/globals';
import { internStrings, StringPool } from '../../../src/runtime/intern.ts';

/** A string equal to `s` but made apart from it, as JSON.parse makes each value it reads. */
const copy = (s: string) => JSON.parse(JSON.stringify(s)) as string;

describe('StringPool', () => {
  it('holds each value once, however often it is asked for, and leaves out the shortest and the longest', () => {
    const pool = new StringPool();
    const owner = 'group:payments/team-checkout';
    for (let i = 0; i < 5; i++) expect(pool.intern(copy(owner))).toBe(owner);
    expect(pool.size).toBe(1);
    expect(pool.intern('shop')).toBe('shop');
    expect(pool.intern('x'.repeat(257))).toBe('x'.repeat(257));
    expect(pool.size).toBe(1);
    expect(pool.intern('x'.repeat(256))).toBe('x'.repeat(256));
    expect(pool.size).toBe(2);
  });

  it('stays within two generations, keeping a value asked for again and dropping the rest', () => {
    const pool = new StringPool({ generationSize: 4 });
    const kept = 'component:shop/checkout';
    pool.intern(kept);
    for (let i = 0; i < 100; i++) {
      pool.intern(`resource-version-${i}`);
      // Asked for in every generation: moved to the young one each time, never dropped.
      pool.intern(copy(kept));
      expect(pool.size).toBeLessThanOrEqual(8);
    }
    const before = pool.size;
    pool.intern(copy(kept));
    expect(pool.size).toBe(before);
  });

  it('refuses a generation size below 1', () => {
    expect(() => new StringPool({ generationSize: 0 })).toThrow('generationSize must be at least 1');
  });
});

describe('internStrings', () => {
  const object = () => ({
    apiVersion: 'catalog.backlot.dev/v1alpha1',
    kind: 'Component',
    metadata: {
      name: 'checkout-service',
      namespace: 'payments-production',
      uid: '0b5c54f0-5a3e-4a8c-9a57-4b7f0a3c2d11',
      resourceVersion: '123456789012',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { 'app.kubernetes.io/part-of': 'payments-platform' },
    },
    spec: { owner: 'group:payments/team-checkout', dependsOn: ['component:payments/ledger-service'] },
    status: { conditions: [{ type: 'DependenciesReady', reason: 'AllDependenciesReady', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
  });

  it("pools every string value but the metadata that is the object's own, and leaves the object equal", () => {
    const pool = new StringPool();
    const obj = object();
    internStrings(pool, obj);
    expect(obj).toEqual(object());
    // apiVersion, namespace, the label value, owner, dependsOn, two condition strings and the time:
    // not the name, uid, resourceVersion or creationTimestamp.
    expect(pool.size).toBe(8);
    internStrings(pool, object());
    expect(pool.size).toBe(8);
  });

  it('leaves frozen objects and arrays alone, and strings nested past its depth', () => {
    const pool = new StringPool();
    const shared = Object.freeze({ manager: 'backlot-controller', list: Object.freeze(['frozen-value-here']) });
    let deep: Record<string, unknown> = { leaf: 'deeply-nested-value' };
    for (let i = 0; i < 40; i++) deep = { next: deep };
    const obj = { metadata: { name: 'x', managedFields: [shared] }, spec: { shared, deep } };
    expect(() => internStrings(pool, obj)).not.toThrow();
    expect(obj.spec.shared).toBe(shared);
    expect(pool.size).toBe(0);
    internStrings(pool, Object.freeze({ kind: 'FrozenKind-of-object' }));
    expect(pool.size).toBe(0);
  });
});
