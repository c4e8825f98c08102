/**
 * Fault: a watch resumed after etcd compaction. The informer is cut off from the API server
 * (a proxy resets its connections) while objects are created, changed and deleted and etcd
 * is compacted past the informer's resourceVersion. When the connection comes back, the
 * resumed watch is answered 410 Gone (inside the stream); the informer relists, and the
 * deleted objects leave the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { CONFIGMAPS } from '../support/resources.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { planeKubeConfig } from '../support/plane-client.ts';
import { etcdCompact, etcdRevision, recordingLogger, waitFor } from '../support/runtime-helpers.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

describe('fault: watch resumed after etcd compaction', () => {
  let plane: ControlPlane;
  let proxy: TcpProxy;
  let informer: Informer | undefined;

  beforeAll(async () => {
    // Without the watch cache, watches are served by etcd itself, which is what compaction cuts.
    plane = await ControlPlane.start({ apiServerFlags: ['--watch-cache=false'] });
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(plane.apiServerUrl).port) });
  }, 120_000);
  afterAll(async () => {
    await informer?.stop();
    await proxy?.stop();
    await plane?.stop();
  });

  it('gets 410, relists, and drops what was deleted meanwhile', async () => {
    const direct = planeKubeConfig(plane).makeApiClient(CoreV1Api);
    const namespace = 'compaction';
    await direct.createNamespace({ body: { metadata: { name: namespace } } });
    for (let i = 0; i < 10; i++) await direct.createNamespacedConfigMap({ namespace, body: { metadata: { name: `cm-${i}` }, data: { v: '0' } } });

    const { logger, lines } = recordingLogger('debug');
    informer = new Informer({
      resource: CONFIGMAPS,
      client: new RestClient(planeKubeConfig(plane, `https://127.0.0.1:${proxy.port}`)),
      logger,
      namespaces: [namespace],
      backoff: { initialMs: 200, maxMs: 1_000, factor: 2, jitter: 0.5 },
    });
    informer.start();
    await informer.whenSynced();
    expect(informer.cache.size).toBe(10);

    proxy.block();
    await waitFor('the informer to notice it is cut off', () => informer!.stats().failures >= 1);
    for (let i = 0; i < 5; i++) await direct.deleteNamespacedConfigMap({ name: `cm-${i}`, namespace });
    await direct.patchNamespacedConfigMap({ name: 'cm-9', namespace, body: [{ op: 'replace', path: '/data/v', value: '1' }] });
    for (let i = 0; i < 3; i++) await direct.createNamespacedConfigMap({ namespace, body: { metadata: { name: `new-${i}` } } });
    await etcdCompact(plane.etcdUrl, await etcdRevision(plane.etcdUrl));
    proxy.unblock();

    const expected = (await direct.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata?.name).sort();
    await waitFor(
      'the cache to match the server',
      () =>
        JSON.stringify(
          informer!.cache
            .keys()
            .map((k) => k.split('/')[1])
            .sort(),
        ) === JSON.stringify(expected),
      { timeoutMs: 30_000 },
    );
    const stats = informer.stats();
    process.stderr.write(
      `[runtime-relist] relists after compaction: ${stats.relists} (410 answers: ${stats.gone}, lists: ${stats.lists}, failures while cut off: ${stats.failures})\n`,
    );
    expect(stats.gone).toBeGreaterThanOrEqual(1);
    expect(stats.relists).toBeGreaterThanOrEqual(1);
    expect(stats.lists).toBe(1 + stats.relists);
    // The 410 came as an ERROR event inside the resumed watch's stream, not as the answer to the request.
    expect(lines.find((l) => l.msg === 'watch expired, relisting')).toMatchObject({ inStream: true });
    for (let i = 0; i < 5; i++) expect(informer.cache.get(`${namespace}/cm-${i}`)).toBeUndefined();
    expect((informer.cache.get(`${namespace}/cm-9`) as { data?: Record<string, string> }).data?.v).toBe('1');
  });
});
