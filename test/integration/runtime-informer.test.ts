/**
 * The informer against the real API server: a paged first list, a synced signal, every
 * change delivered to handlers with old and new objects, watches restarted when the
 * server ends them, indexes, selectors, the default cache transform, and handlers that
 * throw without stopping anything.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import type { KubeObject } from '../../src/k8s/object.ts';
import { NAMESPACES } from '../../src/k8s/resource.ts';
import { CONFIGMAPS } from '../support/resources.ts';
import { RestClient, type RestRequest } from '../../src/k8s/rest.ts';
import { RuntimeMetrics } from '../../src/metrics/runtime.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { byLabel } from '../../src/runtime/store.ts';
import { kubeConfig, testNamespace } from '../support/cluster.ts';
import { recordingLogger, waitFor } from '../support/runtime-helpers.ts';

/** The real client, recording the requests it sends. */
class RecordingClient extends RestClient {
  readonly requests: RestRequest[] = [];
  override request<T>(req: RestRequest): Promise<T> {
    this.requests.push(req);
    return super.request<T>(req);
  }
}

describe('Informer', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  let ns: { name: string; remove: () => Promise<void> };
  const informers: Informer[] = [];

  const configMap = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({ metadata: { name, labels }, data });

  beforeAll(async () => {
    ns = await testNamespace('rt-informer');
    for (let i = 0; i < 5; i++) {
      await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap(`seed-${i}`, { team: i % 2 === 0 ? 'payments' : 'search' }) });
    }
  });
  afterAll(async () => {
    await Promise.all(informers.map((i) => i.stop()));
    await ns.remove();
  });

  it('lists in pages, syncs, then delivers adds, updates and deletes with old and new objects', async () => {
    const client = new RecordingClient(kc);
    const { logger } = recordingLogger('warn');
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    const informer = new Informer({
      resource: CONFIGMAPS,
      client,
      logger,
      namespaces: [ns.name],
      pageSize: 2,
      indexers: { team: byLabel('team') },
      metrics: metrics.informer('configmaps'),
    });
    informers.push(informer);
    const events: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => events.push(`add ${o.metadata?.name}`),
      onUpdate: (o, n) => events.push(`update ${n.metadata?.name} ${o.metadata?.labels?.team}->${n.metadata?.labels?.team}`),
      onDelete: (o) => events.push(`delete ${o.metadata?.name}`),
    });

    expect(informer.synced).toBe(false);
    informer.start();
    await informer.whenSynced();
    expect(informer.synced).toBe(true);
    expect((await metrics.informerSynced.get()).values).toEqual([expect.objectContaining({ labels: { resource: 'configmaps' }, value: 1 })]);

    // 5 seeds in pages of 2: three requests, the later ones continuing the first.
    const lists = client.requests.filter((r) => r.path === `/api/v1/namespaces/${ns.name}/configmaps`);
    expect(lists.length).toBe(3);
    expect(lists.map((r) => r.query?.limit)).toEqual([2, 2, 2]);
    expect(lists[0]?.query?.continue).toBeUndefined();
    expect(lists[1]?.query?.continue).toEqual(expect.any(String));
    expect(informer.cache.size).toBe(5);
    expect(events.filter((e) => e.startsWith('add seed-')).sort()).toEqual(['add seed-0', 'add seed-1', 'add seed-2', 'add seed-3', 'add seed-4']);
    expect(
      informer.cache
        .byIndex('team', 'payments')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['seed-0', 'seed-2', 'seed-4']);
    expect(informer.cache.byIndex('namespace', ns.name)).toHaveLength(5);
    // The default transform: no managedFields in the cache.
    expect(informer.cache.list().every((o) => o.metadata && !('managedFields' in o.metadata))).toBe(true);

    events.length = 0;
    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('fresh', { team: 'search' }) });
    await core.patchNamespacedConfigMap({ name: 'seed-0', namespace: ns.name, body: [{ op: 'replace', path: '/metadata/labels/team', value: 'search' }] });
    await core.deleteNamespacedConfigMap({ name: 'seed-1', namespace: ns.name });
    await waitFor('three watch events', () => events.length >= 3);
    expect(events).toEqual(['add fresh', 'update seed-0 payments->search', 'delete seed-1']);
    expect(informer.cache.get(`${ns.name}/seed-1`)).toBeUndefined();
    expect(informer.cache.get(`${ns.name}/seed-0`)?.metadata?.labels?.team).toBe('search');
    expect(
      informer.cache
        .byIndex('team', 'payments')
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['seed-2', 'seed-4']);
    expect(informer.stats()).toMatchObject({ lists: 1, relists: 0, failures: 0 });
  });

  it('watches again when the server ends the watch, losing no change', async () => {
    const { logger } = recordingLogger('warn');
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    const informer = new Informer({
      resource: CONFIGMAPS,
      client: new RestClient(kc),
      logger,
      namespaces: [ns.name],
      // A short server-side timeout, so the watch ends several times during the test.
      watchTimeoutSeconds: { min: 1, max: 2 },
      metrics: metrics.informer('configmaps'),
    });
    informers.push(informer);
    informer.start();
    await informer.whenSynced();
    for (let i = 0; i < 4; i++) {
      await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap(`during-restarts-${i}`) });
      await new Promise((r) => setTimeout(r, 1_200));
    }
    await waitFor('the last object in the cache', () => informer.cache.get(`${ns.name}/during-restarts-3`));
    const stats = informer.stats();
    expect(stats.watchRestarts).toBeGreaterThanOrEqual(2);
    expect(stats.lists).toBe(1);
    expect(stats.failures).toBe(0);
    expect((await metrics.watchRestartsTotal.get()).values[0]?.value).toBe(stats.watchRestarts);
    const names = (await core.listNamespacedConfigMap({ namespace: ns.name })).items.map((c) => c.metadata?.name).sort();
    expect(
      informer.cache
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(names);
  });

  it('keeps going when handlers throw or reject, counting each failure', async () => {
    const { logger, lines } = recordingLogger('warn');
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    const informer = new Informer({ resource: CONFIGMAPS, client: new RestClient(kc), logger, namespaces: [ns.name], metrics: metrics.informer('configmaps') });
    informers.push(informer);
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    informer.addEventHandler({ onAdd: () => Promise.reject(new Error('async handler bug')) });
    informer.addEventHandler({ onAdd: (o) => seen.push(o.metadata?.name ?? '') });
    informer.start();
    await informer.whenSynced();
    await core.createNamespacedConfigMap({ namespace: ns.name, body: configMap('after-bugs') });
    await waitFor('the healthy handler to see the new object', () => seen.includes('after-bugs'));
    await waitFor('the rejected promises to be counted', () => informer.stats().handlerErrors === 2 * seen.length);
    expect((await metrics.informerHandlerErrorsTotal.get()).values[0]?.value).toBe(2 * seen.length);
    expect(lines.filter((l) => l.msg === 'informer event handler failed').length).toBe(2 * seen.length);
  });

  it('honours a label selector, a custom transform, and cluster-scoped resources', async () => {
    const { logger } = recordingLogger('warn');
    const selected = new Informer<KubeObject>({
      resource: CONFIGMAPS,
      client: new RestClient(kc),
      logger,
      namespaces: [ns.name],
      labelSelector: 'team=search',
      transform: (o) => ({ metadata: { name: o.metadata?.name, namespace: o.metadata?.namespace, resourceVersion: o.metadata?.resourceVersion } }),
    });
    const namespaces = new Informer({ resource: NAMESPACES, client: new RestClient(kc), logger });
    informers.push(selected, namespaces);
    selected.start();
    namespaces.start();
    await Promise.all([selected.whenSynced(), namespaces.whenSynced()]);
    const expected = (await core.listNamespacedConfigMap({ namespace: ns.name, labelSelector: 'team=search' })).items.map((c) => c.metadata?.name).sort();
    expect(
      selected.cache
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(expected);
    expect(selected.cache.list().every((o) => Object.keys(o).join() === 'metadata')).toBe(true);
    expect(namespaces.cache.get(ns.name)?.metadata?.name).toBe(ns.name);
    expect(() => new Informer({ resource: NAMESPACES, client: new RestClient(kc), logger, namespaces: ['x'] })).toThrow('namespaces is cluster-scoped');
  });
});
