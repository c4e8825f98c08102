import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import { byLabel, JOURNAL_LIMIT, NAMESPACE_INDEX, Store, type IndexFunc } from '../../../src/runtime/store.ts';

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
    expect(
      store
        .byIndex(NAMESPACE_INDEX, 'a')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['x', 'y']);
    expect(store.byIndex(NAMESPACE_INDEX, '').map((o) => o.metadata?.name)).toEqual(['cluster-wide']);
    expect(
      store
        .byIndex('team', 'payments')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['x', 'z']);
    expect(store.byIndex('team', 'nobody')).toEqual([]);
    expect(() => store.byIndex('nope', 'x')).toThrow('unknown index "nope" (known: namespace, team)');
    expect(store.indexValues(NAMESPACE_INDEX).sort()).toEqual(['', 'a', 'b']);
    expect(store.indexValues('team').sort()).toEqual(['payments', 'search']);
    expect(() => store.indexValues('nope')).toThrow('unknown index "nope"');
  });

  it('moves an object between index values when it changes, and forgets it on delete', () => {
    const store = new Store({ team: byLabel('team') });
    store.upsert(obj('a', 'x', '1', { team: 'payments' }));
    store.upsert(obj('a', 'x', '2', { team: 'search' }));
    expect(store.byIndex('team', 'payments')).toEqual([]);
    expect(store.byIndex('team', 'search')).toHaveLength(1);
    expect(store.delete('a/x')?.metadata?.resourceVersion).toBe('2');
    expect(store.byIndex('team', 'search')).toEqual([]);
    expect(store.indexValues('team')).toEqual([]);
    expect(store.indexValues(NAMESPACE_INDEX)).toEqual([]);
    expect(store.size).toBe(0);
    expect(store.delete('a/x')).toBeUndefined();
  });

  it('answers every index as a scan of the cache would, through any sequence of adds, moves and deletes', () => {
    // Values named by one object, by several, by the same object twice (an index function may
    // return a value more than once), and by none once their objects move on or go.
    const tags: IndexFunc<KubeObject> = (o) => (o.metadata?.labels?.tags ?? '').split(',').filter(Boolean);
    const store = new Store({ tags });
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), Math.floor((seed / 2 ** 31) * n));
    for (let step = 0; step < 500; step++) {
      const name = `o${random(12)}`;
      if (random(4) === 0) store.delete(`ns/${name}`);
      else store.upsert(obj('ns', name, String(step), { tags: Array.from({ length: random(4) }, () => `t${random(5)}`).join(',') }));
      const scan = (tag: string) =>
        store
          .list()
          .filter((o) => tags(o).includes(tag))
          .map((o) => o.metadata?.name)
          .sort();
      for (let t = 0; t < 5; t++)
        expect(
          store
            .byIndex('tags', `t${t}`)
            .map((o) => o.metadata?.name)
            .sort(),
        ).toEqual(scan(`t${t}`));
      expect(store.indexValues('tags').sort()).toEqual([...new Set(store.list().flatMap(tags))].sort());
    }
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

  it('moves its metadata version on adds, deletes and changes of uid, generation, labels, annotations or owners, not on status alone', () => {
    const store = new Store<KubeObject & { status?: unknown }>();
    const at = (rv: string, meta: Partial<NonNullable<KubeObject['metadata']>> = {}, status?: unknown) => ({
      metadata: { name: 'a', namespace: 'x', resourceVersion: rv, generation: 1, labels: { app: 'a' }, ...meta },
      status,
    });
    const look = () => ({ all: store.metadataVersion, x: store.namespaceMetadataVersion('x'), y: store.namespaceMetadataVersion('y'), changes: store.version });

    store.upsert(at('1'));
    const added = look();
    expect(added.x).toBeGreaterThan(0);
    expect(added.y).toBe(0);

    // A status-only update moves the plain versions but not the metadata ones.
    store.upsert(at('2', {}, { readyReplicas: 1 }));
    const statusOnly = look();
    expect(statusOnly.changes).toBeGreaterThan(added.changes);
    expect({ all: statusOnly.all, x: statusOnly.x }).toEqual({ all: added.all, x: added.x });

    // Labels that are equal but a new object: still the same.
    store.upsert(at('3', { labels: { app: 'a' } }));
    expect(look().x).toBe(added.x);

    let last = look().x;
    const adopted = {
      generation: 2,
      labels: { app: 'b' },
      annotations: { note: 'n' },
      ownerReferences: [{ apiVersion: 'x/v1', kind: 'App', name: 'p', uid: 'p1', controller: true }],
    };
    for (const meta of [
      { generation: 2 },
      { generation: 2, labels: { app: 'b' } },
      { generation: 2, labels: { app: 'b' }, annotations: { note: 'n' } },
      adopted,
      { ...adopted, ownerReferences: [{ ...adopted.ownerReferences[0]!, controller: false }] },
    ]) {
      store.upsert(at(String(Number(store.get('x/a')!.metadata!.resourceVersion) + 1), meta));
      expect(look().x).toBeGreaterThan(last);
      last = look().x;
    }

    // The same owners in a new object: the same.
    store.upsert(at('20', { ...adopted, ownerReferences: [{ ...adopted.ownerReferences[0]!, controller: false }] }));
    expect(look().x).toBe(last);

    // An object deleted and created again under the same name (a watch gap), alike in all of that: another object.
    store.upsert(at('21', { ...adopted, uid: 'u2', ownerReferences: [{ ...adopted.ownerReferences[0]!, controller: false }] }));
    expect(look().x).toBeGreaterThan(last);
    last = look().x;

    // Another namespace's object moves the overall version and its own namespace's only.
    store.upsert({ metadata: { name: 'b', namespace: 'y', resourceVersion: '9' } });
    expect(look().x).toBe(last);
    expect(look().y).toBeGreaterThan(0);

    store.delete('x/a');
    expect(look().x).toBeGreaterThan(last);
  });

  it('tells which objects of a namespace changed in metadata since a version, until it no longer remembers', () => {
    const store = new Store<KubeObject & { status?: unknown }>();
    store.upsert(obj('x', 'a', '1', { app: 'a' }));
    store.upsert(obj('y', 'other', '1'));
    const since = store.namespaceMetadataVersion('x');
    expect(store.metadataChangesSince('x', since)).toEqual([]);
    expect(store.metadataChangesSince('never', 0)).toEqual([]);

    store.upsert({ ...obj('x', 'a', '2', { app: 'a' }), status: { readyReplicas: 1 } }); // status only
    store.upsert(obj('x', 'b', '1'));
    store.upsert(obj('x', 'a', '3', { app: 'renamed' }));
    store.upsert(obj('y', 'other', '2', { app: 'y' }));
    store.delete('x/b');
    expect(store.metadataChangesSince('x', since)).toEqual(['x/b', 'x/a', 'x/b']);
    expect(store.metadataChangesSince('x', 0)).toEqual(['x/a', 'x/b', 'x/a', 'x/b']);
    expect(store.metadataChangesSince('x', store.namespaceMetadataVersion('x'))).toEqual([]);

    // Past JOURNAL_LIMIT changes the oldest are forgotten: asking from before them gets undefined.
    const recent: string[] = [];
    for (let i = 0; i < JOURNAL_LIMIT; i++) {
      const before = store.namespaceMetadataVersion('x');
      store.upsert(obj('x', 'a', String(10 + i), { app: `a${i}` }));
      if (i === JOURNAL_LIMIT - 10) recent.push(String(before));
    }
    expect(store.metadataChangesSince('x', since)).toBeUndefined();
    expect(store.metadataChangesSince('x', Number(recent[0]))).toEqual(Array.from({ length: 10 }, () => 'x/a'));
    // The other namespace's memory is its own.
    expect(store.metadataChangesSince('y', 0)).toEqual(['y/other', 'y/other']);
  });
});
