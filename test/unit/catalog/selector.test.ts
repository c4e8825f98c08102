import { describe, expect, it } from '@jest/globals';
import { compileSelector, parseSelectorString, SelectorError } from '../../../src/catalog/selector.ts';

describe('compileSelector', () => {
  const labels = { app: 'checkout', tier: 'web', 'app.kubernetes.io/part-of': 'webshop' };
  it.each([
    ['matchLabels, all equal', { matchLabels: { app: 'checkout', tier: 'web' } }, true],
    ['matchLabels, one differs', { matchLabels: { app: 'checkout', tier: 'api' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['api', 'web'] }] }, true],
    ['In, absent key', { matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['a'] }] }, false],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['api'] }] }, true],
    ['NotIn, absent key matches', { matchExpressions: [{ key: 'zone', operator: 'NotIn' as const, values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'app.kubernetes.io/part-of', operator: 'Exists' as const }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' as const }] }, false],
    ['labels and expressions together', { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['api'] }] }, false],
    ['empty selector matches nothing', {}, false],
  ])('%s', (_name, selector, expected) => {
    expect(compileSelector(selector).matches(labels)).toBe(expected);
  });

  it('matches nothing against an object without labels unless the selector only excludes', () => {
    expect(compileSelector({ matchLabels: { app: 'x' } }).matches(undefined)).toBe(false);
    expect(compileSelector({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }).matches(undefined)).toBe(true);
  });

  it('exposes the pairs every match must carry, for index look-ups', () => {
    const s = compileSelector({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] });
    expect(s.required).toEqual([
      ['app', 'a'],
      ['tier', 'web'],
    ]);
  });
});

describe('parseSelectorString', () => {
  it.each([
    ['app=checkout', { matchLabels: { app: 'checkout' } }],
    ['app==checkout, tier=web', { matchLabels: { app: 'checkout', tier: 'web' } }],
    ['app.kubernetes.io/name=checkout', { matchLabels: { 'app.kubernetes.io/name': 'checkout' } }],
    ['tier!=db', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }],
    ['tier in (web, api)', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }],
    ['tier notin (db),app=x', { matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }],
    ['canary', { matchExpressions: [{ key: 'canary', operator: 'Exists' }] }],
    ['!canary', { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }],
  ])('%s', (text, expected) => {
    expect(parseSelectorString(text)).toEqual(expected);
  });

  it.each([
    ['', 'empty selector'],
    ['  ,  ', 'empty selector'],
    ['app=a b', 'cannot parse "app=a b"'],
    ['tier in ()', 'bad value list'],
    ['=x', 'cannot parse "=x"'],
  ])('rejects %j', (text, message) => {
    expect(() => parseSelectorString(text)).toThrow(SelectorError);
    expect(() => parseSelectorString(text)).toThrow(message);
  });
});
