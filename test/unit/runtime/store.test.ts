import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import { byLabel, NAMESPACE_INDEX, Store } from '../../../src/runtime/store.ts';

const obj = (namespace: string | undefined, name: string, rv: string, labels?: Record<string, string>): KubeObject => ({
  metadata: { name, namespace, resourceVersion: rv, labels },
});

describe('Store', () => {
  it('indexes by namespace out of the box and by label when asked', () => {
    const store = new Store({ team: byLabel('team') });
    store.upsert(obj('a', 'x', '1', { team: 'payments' }));
    store.upsert(obj('a', 'y', '1', { team: 'search' }));
    store.upsert(obj('b', 'z', '1', { team: 'payments' }));
    store.upsert(obj(undefined, 'cluster-wide', '1'));
    expect(store.byIndex(NAMESPACE_INDEX, 'a').map((o) => o.metadata?.name).sort()).toEqual(['x', 'y']);
    expect(store.byIndex(NAMESPACE_INDEX, '').map((o) => o.metadata?.name)).toEqual(['cluster-wide']);
    expect(store.byIndex('team', 'payments').map((o) => o.metadata?.name).sort()).toEqual(['x', 'z']);
    expect(store.byIndex('team', 'nobody')).toEqual([]);
    expect(() => store.byIndex('nope', 'x')).toThrow('unknown index "nope" (known: namespace, team)');
  });

  it('moves an object between index values when it changes, and forgets it on delete', () => {
    const store = new Store({ team: byLabel('team') });
    store.upsert(obj('a', 'x', '1', { team: 'payments' }));
    store.upsert(obj('a', 'x', '2', { team: 'search' }));
    expect(store.byIndex('team', 'payments')).toEqual([]);
    expect(store.byIndex('team', 'search')).toHaveLength(1);
    expect(store.delete('a/x')?.metadata?.resourceVersion).toBe('2');
    expect(store.byIndex('team', 'search')).toEqual([]);
    expect(store.size).toBe(0);
    expect(store.delete('a/x')).toBeUndefined();
  });

  it('files existing objects under an index added later, and refuses a second function for a name', () => {
    const store = new Store();
    store.upsert(obj('a', 'x', '1', { tier: 'web' }));
    const tier = byLabel('tier');
    store.addIndexer('tier', tier);
    store.addIndexer('tier', tier);
    expect(store.byIndex('tier', 'web')).toHaveLength(1);
    expect(() => store.addIndexer('tier', byLabel('tier'))).toThrow('index "tier" already exists');
  });

  it('replace: reports adds, changed versions and deletions within the scope only', () => {
    const store = new Store();
    store.upsert(obj('a', 'kept', '1'));
    store.upsert(obj('a', 'changed', '1'));
    store.upsert(obj('a', 'gone', '1'));
    store.upsert(obj('b', 'other-scope', '1'));
    const result = store.replace([obj('a', 'kept', '1'), obj('a', 'changed', '2'), obj('a', 'new', '1')], (o) => o.metadata?.namespace === 'a');
    expect(result.added.map((o) => o.metadata?.name)).toEqual(['new']);
    expect(result.updated.map((u) => [u.oldObj.metadata?.resourceVersion, u.newObj.metadata?.resourceVersion])).toEqual([['1', '2']]);
    expect(result.deleted.map((o) => o.metadata?.name)).toEqual(['gone']);
    expect(store.keys().sort()).toEqual(['a/changed', 'a/kept', 'a/new', 'b/other-scope']);
  });

  it('moves its version on every change, and only then', () => {
    const store = new Store<KubeObject>();
    const v0 = store.version;
    store.upsert({ metadata: { name: 'a', namespace: 'x', resourceVersion: '1' } });
    const v1 = store.version;
    expect(v1).not.toBe(v0);
    store.replace([{ metadata: { name: 'a', namespace: 'x', resourceVersion: '1' } }], () => true);
    expect(store.version).toBe(v1);
    store.replace([{ metadata: { name: 'a', namespace: 'x', resourceVersion: '2' } }], () => true);
    const v2 = store.version;
    expect(v2).not.toBe(v1);
    store.delete('x/missing');
    expect(store.version).toBe(v2);
    store.delete('x/a');
    expect(store.version).not.toBe(v2);
  });
});
