import { describe, expect, it } from '@jest/globals';
import { currentOwnership, desiredOwnership, needsApply, refName } from '../../../src/catalog/ownership.ts';

describe('desiredOwnership', () => {
  it('writes canonical references and the owner name as a label', () => {
    expect(
      desiredOwnership({ entity: 'component:shop/checkout', owner: 'group:shop/team-payments', system: 'system:shop/webshop', lifecycle: 'production' }),
    ).toEqual({
      labels: { 'backlot.dev/owner': 'team-payments', 'backlot.dev/owner-namespace': 'shop' },
      annotations: {
        'backlot.dev/entity': 'component:shop/checkout',
        'backlot.dev/owner': 'group:shop/team-payments',
        'backlot.dev/system': 'system:shop/webshop',
        'backlot.dev/lifecycle': 'production',
      },
    });
  });

  it('leaves out what the entity does not have', () => {
    expect(desiredOwnership({ entity: 'resource:shop/db', owner: 'group:shop/team-data' })).toEqual({
      labels: { 'backlot.dev/owner': 'team-data', 'backlot.dev/owner-namespace': 'shop' },
      annotations: { 'backlot.dev/entity': 'resource:shop/db', 'backlot.dev/owner': 'group:shop/team-data' },
    });
    expect(desiredOwnership(undefined)).toEqual({ labels: {}, annotations: {} });
  });

  it('takes the name part of a reference', () => {
    expect(refName('group:platform/sre')).toBe('sre');
  });
});

describe('needsApply', () => {
  const desired = desiredOwnership({ entity: 'component:shop/a', owner: 'group:shop/t' });
  const current = currentOwnership({
    labels: { 'backlot.dev/owner': 't', 'backlot.dev/owner-namespace': 'shop', app: 'a' },
    annotations: { 'backlot.dev/entity': 'component:shop/a', 'backlot.dev/owner': 'group:shop/t', other: 'x' },
  });

  it.each([
    ['in place and held: nothing to do', desired, current, true, false],
    ['in place but written by someone else: take it over once', desired, current, false, true],
    ['owner changed', desiredOwnership({ entity: 'component:shop/a', owner: 'group:shop/u' }), current, true, true],
    ['claim ended, Backlot holds fields: remove them', desiredOwnership(undefined), current, true, true],
    ['claim ended, nothing of Backlot there: nothing to do', desiredOwnership(undefined), currentOwnership({}), false, false],
    ['claim ended, a user wrote the keys: not ours to remove', desiredOwnership(undefined), current, false, false],
  ])('%s', (_name, want, have, held, expected) => {
    expect(needsApply(want, have, held)).toBe(expected);
  });

  it('reads only Backlot keys from an object', () => {
    expect(current.labels).toEqual({ 'backlot.dev/owner': 't', 'backlot.dev/owner-namespace': 'shop' });
    expect(Object.keys(current.annotations).sort()).toEqual(['backlot.dev/entity', 'backlot.dev/owner']);
  });
});
