import { describe, expect, it } from '@jest/globals';
import { desiredOwnership } from '../../../src/catalog/ownership.ts';
import { ownershipApplyBody } from '../../../src/reconcilers/ownership.ts';

describe('the ownership apply', () => {
  const target = { kind: 'Service' as const, namespace: 'shop', name: 'cart' };

  it('carries Backlot\'s fields and the uid precondition', () => {
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

  it('releases a claim with no maps at all, so that the API server drops Backlot\'s managedFields entry', () => {
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
