import { describe, expect, it } from '@jest/globals';
import type { LabelSelector } from '../../../src/api/workloads.ts';
import {
  checkSelector,
  compileSelector,
  equalitySelector,
  labelValue,
  parseSelectorString,
  SELECTOR_STRING_MAX_LENGTH,
  SelectorError,
} from '../../../src/catalog/selector.ts';

const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));
const labelsOf = (n: number, prefix = ''): Record<string, string> => Object.fromEntries(many(n, (i) => [`${prefix}k${i}`, 'v']));
const exists = (key: string) => ({ key, operator: 'Exists' as const });

describe('compileSelector', () => {
  const labels = { app: 'checkout', tier: 'web', 'app.kubernetes.io/part-of': 'webshop' };
  it.each([
    ['matchLabels, all equal', { matchLabels: { app: 'checkout', tier: 'web' } }, true],
    ['matchLabels, one differs', { matchLabels: { app: 'checkout', tier: 'api' } }, false],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['api', 'web'] }] }, true],
    ['In, absent key', { matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['a'] }] }, false],
    [
      'NotIn beside a positive requirement',
      { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['api'] }] },
      true,
    ],
    ['NotIn, absent key matches', { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'zone', operator: 'NotIn' as const, values: ['a'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'app.kubernetes.io/part-of', operator: 'Exists' as const }] }, true],
    [
      'DoesNotExist beside a positive requirement',
      {
        matchExpressions: [
          { key: 'tier', operator: 'Exists' as const },
          { key: 'app', operator: 'DoesNotExist' as const },
        ],
      },
      false,
    ],
    [
      'labels and expressions together',
      { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'In' as const, values: ['api'] }] },
      false,
    ],
    ['empty selector matches nothing', {}, false],
    // Without a positive requirement a selector would match every object lacking some label.
    ['NotIn alone matches nothing', { matchExpressions: [{ key: 'tier', operator: 'NotIn' as const, values: ['api'] }] }, false],
    ['DoesNotExist alone matches nothing', { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' as const }] }, false],
  ])('%s', (_name, selector, expected) => {
    expect(compileSelector(selector).matches(labels)).toBe(expected);
  });

  it('matches nothing against an object without labels, whatever the selector', () => {
    expect(compileSelector({ matchLabels: { app: 'x' } }).matches(undefined)).toBe(false);
    expect(compileSelector({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }).matches(undefined)).toBe(false);
    expect(compileSelector({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }).matches({})).toBe(false);
  });

  it('exposes the pairs every match must carry, for index look-ups', () => {
    const s = compileSelector({ matchLabels: { app: 'a' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] });
    expect(s.required).toEqual([
      ['app', 'a'],
      ['tier', 'web'],
    ]);
  });

  describe('reads own labels only, never Object.prototype', () => {
    // Valid label keys that name properties every object inherits.
    const inherited = ['constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    it.each(inherited)('a selector on %s matches no workload without that label', (key) => {
      const workload = { app: 'checkout' };
      expect(compileSelector({ matchExpressions: [{ key, operator: 'Exists' }] }).matches(workload)).toBe(false);
      expect(compileSelector({ matchExpressions: [{ key, operator: 'Exists' }] }).matches(undefined)).toBe(false);
      expect(compileSelector({ matchExpressions: [{ key, operator: 'In', values: ['x'] }] }).matches(workload)).toBe(false);
      expect(compileSelector({ matchLabels: { [key]: '' } }).matches(workload)).toBe(false);
      expect(equalitySelector(key, 'x').matches(workload)).toBe(false);
      // DoesNotExist and NotIn see the label as absent.
      expect(compileSelector({ matchLabels: { app: 'checkout' }, matchExpressions: [{ key, operator: 'DoesNotExist' }] }).matches(workload)).toBe(true);
      expect(compileSelector({ matchLabels: { app: 'checkout' }, matchExpressions: [{ key, operator: 'NotIn', values: ['x'] }] }).matches(workload)).toBe(true);
    });
    it.each(inherited)('a selector on %s matches a workload that carries it', (key) => {
      const workload = { [key]: 'x' };
      expect(compileSelector({ matchExpressions: [{ key, operator: 'Exists' }] }).matches(workload)).toBe(true);
      expect(compileSelector({ matchLabels: { [key]: 'x' } }).matches(workload)).toBe(true);
      expect(equalitySelector(key, 'x').matches(workload)).toBe(true);
    });
    it('labelValue answers own properties only', () => {
      expect(labelValue({ app: 'x' }, 'constructor')).toBeUndefined();
      expect(labelValue({ app: 'x' }, '__proto__')).toBeUndefined();
      expect(labelValue({ constructor: 'y' }, 'constructor')).toBe('y');
      expect(labelValue(undefined, 'app')).toBeUndefined();
    });
  });
});

describe('checkSelector', () => {
  const bad: Array<[string, LabelSelector, string]> = [
    [
      'no positive requirement',
      { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] },
      'must have a positive requirement (a matchLabels entry, or an In or Exists expression)',
    ],
    [
      'only NotIn',
      { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['a'] }] },
      'one made only of NotIn or DoesNotExist would claim every workload of the namespace',
    ],
    ['nothing at all', {}, 'must have a positive requirement'],
    ['empty matchLabels', { matchLabels: {} }, 'must have a positive requirement'],
    ['a matchLabels key with a space', { matchLabels: { 'app name': 'x' } }, '"app name" is not a label key'],
    ['an expression key in upper-case prefix', { matchExpressions: [{ key: 'Example.COM/app', operator: 'Exists' }] }, '"Example.COM/app" is not a label key'],
    ['a key too long', { matchLabels: { [`${'a'.repeat(300)}/${'b'.repeat(20)}`]: 'x' } }, 'is not a label key'],
    ['a name part over 63', { matchLabels: { ['n'.repeat(64)]: 'x' } }, 'is not a label key'],
    ['a value with a slash', { matchLabels: { app: 'a/b' } }, '"a/b" (of key "app") is not a label value'],
    ['a value over 63', { matchExpressions: [{ key: 'app', operator: 'In', values: ['v'.repeat(64)] }] }, 'is not a label value'],
    ['33 matchLabels', { matchLabels: labelsOf(33) }, '33 matchLabels entries, at most 32'],
    ['17 matchExpressions', { matchExpressions: many(17, (i) => exists(`k${i}`)) }, '17 matchExpressions, at most 16'],
    ['65 values', { matchExpressions: [{ key: 'app', operator: 'In', values: many(65, (i) => `v${i}`) }] }, '65 values for "app", at most 64'],
    ['In without values', { matchExpressions: [{ key: 'app', operator: 'In' }] }, 'In on "app" must list at least one value'],
    ['Exists with values', { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }, 'Exists on "app" takes no values'],
    ['an unknown operator', { matchExpressions: [{ key: 'app', operator: 'Gt' as never, values: ['1'] }] }, 'unknown operator "Gt"'],
  ];
  it.each(bad)('refuses %s', (_what, selector, message) => {
    expect(() => checkSelector(selector, 'field')).toThrow(SelectorError);
    expect(() => checkSelector(selector, 'field')).toThrow(message);
  });

  it('quotes at most 64 characters of a bad key, so the message stays short', () => {
    const key = 'K'.repeat(1000);
    expect(() => checkSelector({ matchLabels: { [key]: 'x' } }, 'field')).toThrow(`"${'K'.repeat(64)}..." is not a label key`);
  });

  it.each([
    ['exactly 32 matchLabels', { matchLabels: labelsOf(32, 'example.com/') }],
    [
      'exactly 16 expressions, one of them positive',
      { matchExpressions: [exists('app'), ...many(15, (i) => ({ key: `k${i}`, operator: 'DoesNotExist' as const }))] },
    ],
    ['exactly 64 values and an empty one', { matchExpressions: [{ key: 'app', operator: 'In' as const, values: [...many(63, (i) => `v${i}`), ''] }] }],
    ['the longest key', { matchLabels: { [`${'a'.repeat(253)}/${'b'.repeat(63)}`]: 'v'.repeat(63) } }],
    [
      'In beside NotIn',
      {
        matchExpressions: [
          { key: 'app', operator: 'In' as const, values: ['a'] },
          { key: 'tier', operator: 'NotIn' as const, values: ['db'] },
        ],
      },
    ],
  ])('accepts %s', (_what, selector) => {
    expect(() => checkSelector(selector as LabelSelector, 'field')).not.toThrow();
  });
});

describe('parseSelectorString', () => {
  it.each([
    ['app=checkout', { matchLabels: { app: 'checkout' } }],
    ['app==checkout, tier=web', { matchLabels: { app: 'checkout', tier: 'web' } }],
    ['app.kubernetes.io/name=checkout', { matchLabels: { 'app.kubernetes.io/name': 'checkout' } }],
    ['app=checkout,tier!=db', { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }],
    ['tier in (web, api)', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }],
    ['tier notin (db),app=x', { matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }],
    ['canary', { matchExpressions: [{ key: 'canary', operator: 'Exists' }] }],
    [
      'canary,!legacy',
      {
        matchExpressions: [
          { key: 'canary', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
    ],
    ['constructor=x', { matchLabels: { constructor: 'x' } }],
    ['app=a,app=a', { matchLabels: { app: 'a' } }],
    ['app=a,app=b', { matchLabels: { app: 'a' }, matchExpressions: [{ key: 'app', operator: 'In', values: ['b'] }] }],
  ])('%s', (text, expected) => {
    expect(parseSelectorString(text)).toEqual(expected);
  });

  it('keeps every requirement of a repeated key, as kubectl does: app=a,app=b matches nothing', () => {
    const both = compileSelector(parseSelectorString('app=a,app=b'));
    expect(both.matches({ app: 'a' })).toBe(false);
    expect(both.matches({ app: 'b' })).toBe(false);
    const same = compileSelector(parseSelectorString('app=a,tier=web,app=a'));
    expect(same.matches({ app: 'a', tier: 'web' })).toBe(true);
  });

  it('builds matchLabels without a prototype, so no key reaches Object.prototype', () => {
    const parsed = parseSelectorString('constructor=x,prototype=y,toString=z');
    expect(Object.getPrototypeOf(parsed.matchLabels)).toBeNull();
    expect(Object.keys(parsed.matchLabels!)).toEqual(['constructor', 'prototype', 'toString']);
  });

  it.each([
    ['nothing', '', 'empty selector'],
    ['only commas', '  ,  ', 'empty selector'],
    ['a space in a value', 'app=a b', 'cannot parse "app=a b"'],
    ['an empty value list', 'tier in ()', 'bad value list'],
    ['no key', '=x', 'cannot parse "=x"'],
    ['__proto__ as a key', '__proto__=x', 'cannot parse "__proto__=x"'],
    // Parsed, then held to the field's rules.
    ['"!x", which matches every workload without x', '!x', 'must have a positive requirement (key=value, key in (...) or key)'],
    ['only !=', 'tier!=db', 'one made only of key!=value, key notin (...) or !key would claim every workload of the namespace'],
    ['only notin and !key', 'tier notin (db),!canary', 'must have a positive requirement'],
    ['a key in upper-case prefix', 'Example.com/app=x', '"Example.com/app" is not a label key'],
    ['a value over 63', `app=${'v'.repeat(64)}`, 'is not a label value'],
    ['a value starting with -', 'app=-x', '"-x" (of key "app") is not a label value'],
    ['33 key=value terms', many(33, (i) => `k${i}=v`).join(','), '33 key=value terms, at most 32'],
    ['17 other terms', many(17, (i) => `k${i}`).join(','), '17 terms other than key=value, at most 16'],
    ['65 values', `app in (${many(65, (i) => `v${i}`).join(',')})`, '65 values for "app", at most 64'],
    [
      'an overlong annotation',
      `app=x,${'a'.repeat(SELECTOR_STRING_MAX_LENGTH)}`,
      `${SELECTOR_STRING_MAX_LENGTH + 6} characters, at most ${SELECTOR_STRING_MAX_LENGTH}`,
    ],
  ])('rejects %s', (_what, text, message) => {
    expect(() => parseSelectorString(text)).toThrow(SelectorError);
    expect(() => parseSelectorString(text)).toThrow(message);
  });
});
