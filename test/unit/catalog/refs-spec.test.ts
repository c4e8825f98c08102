import { describe, expect, it } from '@jest/globals';
import { specRefs } from '../../../src/catalog/entity-refs.ts';
import { stringifyEntityRef } from '../../../src/catalog/ref.ts';

describe('specRefs', () => {
  it('lists every reference of a Component in table order, canonical, with its path', () => {
    const { refs, errors } = specRefs('Component', 'shop', {
      type: 'service',
      lifecycle: 'production',
      owner: 'team-payments',
      system: 'platform/identity',
      dependsOn: ['resource:orders-db', 'Component:platform/auth'],
      providesApis: ['checkout-api'],
      consumesApis: ['api:platform/auth-api'],
    });
    expect(errors).toEqual([]);
    expect(refs.map((r) => [r.path, stringifyEntityRef(r.ref)])).toEqual([
      ['spec.owner', 'group:shop/team-payments'],
      ['spec.system', 'system:platform/identity'],
      ['spec.dependsOn[0]', 'resource:shop/orders-db'],
      ['spec.dependsOn[1]', 'component:platform/auth'],
      ['spec.providesApis[0]', 'api:shop/checkout-api'],
      ['spec.consumesApis[0]', 'api:platform/auth-api'],
    ]);
  });

  it('collects every bad reference instead of stopping at the first', () => {
    const { refs, errors } = specRefs('Component', 'shop', {
      owner: 'component:checkout',
      dependsOn: ['orders-db', 'resource:cache', 'api:x'],
      consumesApis: 'auth-api',
    });
    expect(refs.map((r) => r.path)).toEqual(['spec.dependsOn[1]']);
    expect(errors.map((e) => e.path)).toEqual(['spec.owner', 'spec.dependsOn[0]', 'spec.dependsOn[2]', 'spec.consumesApis']);
    expect(errors[3]?.message).toBe('spec.consumesApis: consumesApis must be a list of entity references, e.g. [api:platform/auth-api]');
  });

  it('reads the kind table for every kind', () => {
    expect(specRefs('Group', 'org', { parent: 'engineering', children: ['team-a'], members: ['jane'] }).refs.map((r) => stringifyEntityRef(r.ref))).toEqual([
      'group:org/engineering',
      'group:org/team-a',
      'user:org/jane',
    ]);
    expect(specRefs('domain', 'shop', { owner: 'team-a', subdomainOf: 'commerce' }).refs.map((r) => stringifyEntityRef(r.ref))).toEqual([
      'group:shop/team-a',
      'domain:shop/commerce',
    ]);
  });

  it('refuses an unknown kind, which is a programming error', () => {
    expect(() => specRefs('Location', 'shop', {})).toThrow(/unknown entity kind "Location"/);
  });
});
