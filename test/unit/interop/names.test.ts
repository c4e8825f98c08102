import { describe, expect, it } from '@jest/globals';
import { BACKSTAGE_NAME, KUBERNETES_NAME } from '../../../src/interop/backstage.ts';
import { assignNames, hashedName, keepsItsName, kubernetesName } from '../../../src/interop/names.ts';

describe('kubernetesName', () => {
  it.each([
    ['checkout', 'checkout'],
    ['Checkout', 'checkout'],
    ['My_Service', 'my-service'],
    ['Booking_API_Service', 'booking-api-service'],
    ['Web.UI', 'web.ui'],
    ['Auth.Gateway', 'auth.gateway'],
    ['orders-db.v2', 'orders-db.v2'],
    ['a__b', 'a--b'],
    ['a_.b', 'a.b'],
    ['a._b', 'a.b'],
    ['a..b', 'a.b'],
    ['a-.-b', 'a.b'],
    ['9lives', '9lives'],
    ['X', 'x'],
    ['A'.repeat(63), 'a'.repeat(63)],
    [`${'a'.repeat(61)}_B`, `${'a'.repeat(61)}-b`],
  ])('%s → %s', (backstage, kubernetes) => {
    expect(BACKSTAGE_NAME.test(backstage)).toBe(true);
    expect(kubernetesName(backstage)).toBe(kubernetes);
    expect(KUBERNETES_NAME.test(kubernetes)).toBe(true);
  });

  it('is deterministic and idempotent', () => {
    for (const name of ['My_Service', 'a._b', 'Web.UI']) {
      expect(kubernetesName(name)).toBe(kubernetesName(name));
      expect(kubernetesName(kubernetesName(name))).toBe(kubernetesName(name));
    }
  });
});

describe('keepsItsName', () => {
  it.each([
    ['checkout', true],
    ['Checkout', true],
    ['web.ui', true],
    ['my_service', false],
    ['a..b', false],
    ['a-.b', false],
  ])('%s → %s', (name, keeps) => {
    expect(keepsItsName(name)).toBe(keeps);
  });
});

describe('hashedName', () => {
  it('appends six hex digits of the original and stays within 63 characters', () => {
    expect(hashedName('data_loader')).toMatch(/^data-loader-[0-9a-f]{6}$/);
    const long = hashedName(`${'x'.repeat(60)}_Y`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(KUBERNETES_NAME.test(long)).toBe(true);
  });

  it('differs for originals that map to the same plain name', () => {
    expect(hashedName('a_.b')).not.toBe(hashedName('a._b'));
    expect(hashedName('My_Service')).not.toBe(hashedName('my_service'));
  });
});

describe('assignNames', () => {
  it.each([
    ['no clash: plain names', ['checkout', 'My_Service', 'Web.UI'], { checkout: 'checkout', my_service: 'my-service', 'web.ui': 'web.ui' }],
    [
      'a clash: the name that is already valid keeps it, the other is hashed',
      ['data-loader', 'data_loader'],
      { 'data-loader': 'data-loader', data_loader: hashedName('data_loader') },
    ],
    ['a clash between two rewritten names: both hashed', ['a_.b', 'a._b'], { 'a_.b': hashedName('a_.b'), 'a._b': hashedName('a._b') }],
  ])('%s', (_title, names, expected) => {
    expect(Object.fromEntries(assignNames(names))).toEqual(expected);
  });

  it('does not depend on the order of its input', () => {
    expect(Object.fromEntries(assignNames(['data_loader', 'data-loader']))).toEqual(Object.fromEntries(assignNames(['data-loader', 'data_loader'])));
  });
});
