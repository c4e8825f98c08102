import { describe, expect, it } from '@jest/globals';
import { refField } from '../../../src/api/kinds.ts';
import { REF_PATTERN, type RefField } from '../../../src/api/refs.ts';
import {
  compactEntityRef,
  EntityRefError,
  parseEntityRef,
  parseRefField,
  sameEntity,
  splitEntityRef,
  stringifyEntityRef,
  type EntityRef,
} from '../../../src/catalog/ref.ts';

function rule(kind: string, field: string): RefField {
  const found = refField(kind, field);
  if (!found) throw new Error(`no rule for ${kind}.${field}`);
  return found;
}

function thrown(fn: () => unknown): EntityRefError {
  try {
    fn();
  } catch (err) {
    if (err instanceof EntityRefError) return err;
    throw err;
  }
  throw new Error('expected an EntityRefError');
}

describe('splitEntityRef', () => {
  it.each([
    ['a:b/c', { kind: 'a', namespace: 'b', name: 'c' }],
    ['b/c', { namespace: 'b', name: 'c' }],
    ['a:c', { kind: 'a', name: 'c' }],
    ['c', { name: 'c' }],
    ['Component:Shop/Checkout', { kind: 'Component', namespace: 'Shop', name: 'Checkout' }],
    ['resource:orders-db.v2', { kind: 'resource', name: 'orders-db.v2' }],
    ['9lives', { name: '9lives' }],
  ])('splits %j', (text, parts) => {
    expect(splitEntityRef(text)).toEqual(parts);
  });

  // Backstage rejects these too: a second separator lands in the name, which names cannot hold.
  it.each(['a:b:c', 'a/b/c', 'a/b:c', 'a:b/c/d', 'a:b/c:d'])('rejects the doubled separators in %j', (text) => {
    expect(() => splitEntityRef(text)).toThrow(EntityRefError);
  });

  it.each([
    // one part empty
    ':b/c',
    'a:/c',
    'a:b/',
    // two parts empty
    'a:/',
    ':b/',
    ':/c',
    // three parts empty
    ':/',
    // one part left out, one empty
    '/c',
    'b/',
    ':c',
    'a:',
    // nothing at all
    '',
  ])('rejects the empty part in %j', (text) => {
    expect(() => splitEntityRef(text)).toThrow(/is not an entity reference/);
  });

  it.each([
    ['team payments', /the name "team payments"/],
    [' checkout', /the name " checkout"/],
    ['sh_op/checkout', /the namespace "sh_op"/],
    ['com-ponent:checkout', /the kind "com-ponent"/],
    ['group:shop/team_payments', /the name "team_payments"/],
    [`component:${'a'.repeat(64)}`, /at most 63 characters/],
    [`component:${'n'.repeat(64)}/checkout`, /the namespace/],
    ['-checkout', /the name "-checkout"/],
    ['checkout-', /the name "checkout-"/],
  ])('says which part of %j is wrong', (text, detail) => {
    expect(() => splitEntityRef(text)).toThrow(detail);
  });

  it.each([null, undefined, 7, {}, ['component:a']])('rejects the non-string %j', (value) => {
    expect(() => splitEntityRef(value)).toThrow(/must be a string/);
  });

  it('shows the expected form in every error', () => {
    expect(thrown(() => splitEntityRef('a:b:c')).message).toContain('[<kind>:][<namespace>/]<name>');
  });
});

describe('parseEntityRef', () => {
  const context = { defaultKind: 'group', defaultNamespace: 'shop' } as const;

  it.each([
    ['component:platform/auth', context, { kind: 'component', namespace: 'platform', name: 'auth' }],
    ['platform/auth', context, { kind: 'group', namespace: 'platform', name: 'auth' }],
    ['component:auth', context, { kind: 'component', namespace: 'shop', name: 'auth' }],
    ['auth', context, { kind: 'group', namespace: 'shop', name: 'auth' }],
    ['component:auth', { defaultNamespace: 'default' }, { kind: 'component', namespace: 'default', name: 'auth' }],
    // Case-insensitive everywhere; the result is canonical.
    ['Component:Platform/Auth', context, { kind: 'component', namespace: 'platform', name: 'auth' }],
    ['API:checkout-api', context, { kind: 'api', namespace: 'shop', name: 'checkout-api' }],
    ['Team-A', { defaultKind: 'group', defaultNamespace: 'Shop' }, { kind: 'group', namespace: 'shop', name: 'team-a' }],
    ['user:default/jane.doe', context, { kind: 'user', namespace: 'default', name: 'jane.doe' }],
  ] as const)('parses %j in %j', (text, ctx, expected) => {
    expect(parseEntityRef(text, ctx)).toEqual(expected);
  });

  it('needs a kind when there is no default', () => {
    expect(() => parseEntityRef('shop/checkout', { defaultNamespace: 'shop' })).toThrow(/needs a kind/);
    expect(() => parseEntityRef('checkout', { defaultNamespace: 'shop' })).toThrow(/needs a kind/);
  });

  it('rejects a kind Backlot does not know, naming the known ones', () => {
    const err = thrown(() => parseEntityRef('location:shop/x', context));
    expect(err.message).toMatch(/unknown kind "location"/);
    expect(err.message).toContain('component, system, resource, api, group, domain, user');
  });

  it('prefixes errors with the path', () => {
    const err = thrown(() => parseEntityRef('a:b:c', { ...context, path: 'spec.owner' }));
    expect(err.path).toBe('spec.owner');
    expect(err.message).toMatch(/^spec\.owner: /);
    expect(err.value).toBe('a:b:c');
  });
});

describe('parseRefField', () => {
  it.each([
    ['Component', 'owner', 'team-payments', { kind: 'group', namespace: 'shop', name: 'team-payments' }],
    ['Component', 'owner', 'group:platform/engineering', { kind: 'group', namespace: 'platform', name: 'engineering' }],
    ['Component', 'owner', 'Group:TEAM-Payments', { kind: 'group', namespace: 'shop', name: 'team-payments' }],
    ['Component', 'system', 'webshop', { kind: 'system', namespace: 'shop', name: 'webshop' }],
    ['Component', 'subcomponentOf', 'checkout', { kind: 'component', namespace: 'shop', name: 'checkout' }],
    ['Component', 'dependsOn', 'resource:orders-db', { kind: 'resource', namespace: 'shop', name: 'orders-db' }],
    ['Component', 'dependsOn', 'Component:platform/auth', { kind: 'component', namespace: 'platform', name: 'auth' }],
    ['Resource', 'dependencyOf', 'component:checkout', { kind: 'component', namespace: 'shop', name: 'checkout' }],
    ['Component', 'providesApis', 'checkout-api', { kind: 'api', namespace: 'shop', name: 'checkout-api' }],
    ['Component', 'consumesApis', 'platform/auth-api', { kind: 'api', namespace: 'platform', name: 'auth-api' }],
    ['System', 'domain', 'commerce', { kind: 'domain', namespace: 'shop', name: 'commerce' }],
    ['Group', 'parent', 'platform/engineering', { kind: 'group', namespace: 'platform', name: 'engineering' }],
    ['Group', 'children', 'team-a', { kind: 'group', namespace: 'shop', name: 'team-a' }],
    ['Group', 'members', 'jane.doe', { kind: 'user', namespace: 'shop', name: 'jane.doe' }],
    ['Domain', 'subdomainOf', 'domain:commerce', { kind: 'domain', namespace: 'shop', name: 'commerce' }],
  ] as const)('%s.%s %j', (kind, field, value, expected) => {
    expect(parseRefField(value, { field: rule(kind, field), namespace: 'shop' })).toEqual(expected);
  });

  it.each([
    [
      'Component',
      'dependsOn',
      'orders-db',
      'spec.dependsOn[0]: dependsOn entry "orders-db" needs a kind: use <kind>:[<namespace>/]<name>, e.g. resource:shop/orders-db',
    ],
    [
      'Component',
      'dependsOn',
      'shop/orders-db',
      'spec.dependsOn[0]: dependsOn entry "shop/orders-db" needs a kind: use <kind>:[<namespace>/]<name>, e.g. resource:shop/orders-db',
    ],
    [
      'Component',
      'dependsOn',
      'api:checkout-api',
      'spec.dependsOn[0]: dependsOn entry "api:checkout-api" must reference a component or a resource: use component:[<namespace>/]<name> or resource:[<namespace>/]<name>, e.g. resource:shop/orders-db',
    ],
    [
      'Component',
      'owner',
      'component:checkout',
      'spec.owner: owner "component:checkout" must reference a group: use group:[<namespace>/]<name> (or no kind), e.g. group:shop/team-payments',
    ],
    [
      'Component',
      'owner',
      'team payments',
      'spec.owner: owner "team payments" is not an entity reference (the name "team payments" is not a Kubernetes object name of at most 63 characters): use [<kind>:][<namespace>/]<name>, e.g. group:shop/team-payments',
    ],
    [
      'System',
      'domain',
      'location:commerce',
      'spec.domain: domain "location:commerce" must reference a domain: use domain:[<namespace>/]<name> (or no kind), e.g. domain:shop/commerce',
    ],
  ] as const)('%s.%s rejects %j', (kind, field, value, message) => {
    const path = rule(kind, field).list ? `spec.${field}[0]` : `spec.${field}`;
    expect(thrown(() => parseRefField(value, { field: rule(kind, field), namespace: 'shop', path })).message).toBe(message);
  });

  it('rejects a non-string, naming the field', () => {
    expect(() => parseRefField(42, { field: rule('Component', 'owner'), namespace: 'shop', path: 'spec.owner' })).toThrow(
      /^spec\.owner: owner must be a string/,
    );
  });
});

describe('stringifyEntityRef', () => {
  it.each([
    [{ kind: 'component', namespace: 'shop', name: 'checkout' }, 'component:shop/checkout'],
    [{ kind: 'group', namespace: 'Shop', name: 'Team-Payments' }, 'group:shop/team-payments'],
  ] as const)('writes %j canonically', (ref, text) => {
    expect(stringifyEntityRef(ref as EntityRef)).toBe(text);
  });

  it.each(['component:shop/checkout', 'Resource:Shop/Orders-DB', 'api', 'platform/auth', 'group:team-a'])(
    'round-trips %j through its canonical form',
    (text) => {
      const context = { defaultKind: 'api', defaultNamespace: 'shop' } as const;
      const once = parseEntityRef(text, context);
      const canonical = stringifyEntityRef(once);
      expect(canonical).toBe(canonical.toLowerCase());
      expect(parseEntityRef(canonical, { defaultNamespace: 'elsewhere' })).toEqual(once);
    },
  );
});

describe('compactEntityRef', () => {
  const ref: EntityRef = { kind: 'group', namespace: 'shop', name: 'team-payments' };
  it.each([
    [{ defaultKind: 'group', defaultNamespace: 'shop' }, 'team-payments'],
    [{ defaultKind: 'group', defaultNamespace: 'platform' }, 'shop/team-payments'],
    [{ defaultNamespace: 'shop' }, 'group:team-payments'],
    [{ defaultKind: 'system', defaultNamespace: 'platform' }, 'group:shop/team-payments'],
  ] as const)('in %j is %j, which parses back', (context, text) => {
    expect(compactEntityRef(ref, context)).toBe(text);
    expect(parseEntityRef(text, context)).toEqual(ref);
  });
});

describe('sameEntity', () => {
  it('compares parsed references, so case and defaults do not matter', () => {
    const a = parseEntityRef('Group:Shop/Team-A', { defaultNamespace: 'x' });
    const b = parseEntityRef('team-a', { defaultKind: 'group', defaultNamespace: 'shop' });
    const c = parseEntityRef('team-a', { defaultKind: 'group', defaultNamespace: 'platform' });
    expect(sameEntity(a, b)).toBe(true);
    expect(sameEntity(a, c)).toBe(false);
  });
});

describe('the grammar shared with the CRDs', () => {
  const pattern = new RegExp(REF_PATTERN);
  it.each([
    'component:shop/checkout',
    'checkout',
    'shop/checkout',
    'Foo:x',
    'a:b:c',
    'a/b/c',
    ':b/c',
    'team payments',
    'x'.repeat(63),
    'x'.repeat(64),
    'a..b',
    'sh_op/x',
    '',
  ])('the CEL pattern and the parser agree on %j', (text) => {
    const parses = (() => {
      try {
        splitEntityRef(text);
        return true;
      } catch {
        return false;
      }
    })();
    expect(pattern.test(text)).toBe(parses);
  });
});
