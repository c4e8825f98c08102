/**
 * Fault: kube-apiserver is killed (SIGKILL) and started again on the same etcd while objects
 * keep changing. An informer in this process and an operator process both ride it out: the
 * watches resume (or relist), the cache converges to exactly what the API server holds, and
 * the operator, still running, reconciles objects created after the restart.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { CONFIGMAPS } from '../support/resources.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { ANNOTATED_BY } from '../support/operator-annotator.ts';
import { OperatorProcess } from '../support/operator-process.ts';
import { planeKubeConfig } from '../support/plane-client.ts';
import { recordingLogger, waitFor } from '../support/runtime-helpers.ts';

describe('fault: kube-apiserver killed and restarted', () => {
  let plane: ControlPlane;
  let informer: Informer | undefined;
  let operator: OperatorProcess | undefined;

  beforeAll(async () => {
    plane = await ControlPlane.start();
  }, 120_000);
  afterAll(async () => {
    await informer?.stop();
    if (operator?.running) operator.kill('SIGKILL');
    await operator?.exited;
    await plane?.stop();
  });

  it('keeps the process up; watches resume and the cache converges to the server', async () => {
    const core = planeKubeConfig(plane).makeApiClient(CoreV1Api);
    const namespace = 'restart';
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (let i = 0; i < 10; i++) await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `seed-${i}` }, data: { n: '0' } } });

    operator = new OperatorProcess('operator', [
      `--kubeconfig=${plane.kubeconfigPath}`,
      '--leader-elect',
      `--leader-election-namespace=${namespace}`,
      `--namespaces=${namespace}`,
      '--metrics-bind-address=0',
      '--health-probe-bind-address=127.0.0.1:0',
    ]);
    const { logger } = recordingLogger('info');
    informer = new Informer({ resource: CONFIGMAPS, client: new RestClient(planeKubeConfig(plane)), logger, namespaces: [namespace] });
    informer.start();
    await informer.whenSynced();
    await waitFor('the operator to lead', () => operator!.find('became leader'), { timeoutMs: 30_000 });

    // A writer that keeps creating, changing and deleting objects, and shrugs off failures while the server is down.
    let writing = true;
    let writes = 0;
    let failed = 0;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        try {
          if (i % 3 === 0) await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: `w-${i}` } } });
          else if (i % 3 === 1)
            await core.patchNamespacedConfigMap({ name: `seed-${i % 10}`, namespace, body: [{ op: 'replace', path: '/data/n', value: String(i) }] });
          else await core.deleteNamespacedConfigMap({ name: `w-${i - 2}`, namespace });
          writes++;
        } catch {
          failed++;
        }
        await sleep(100);
      }
    })();

    await sleep(2_000);
    plane.apiServer.signal('SIGKILL');
    await waitFor('kube-apiserver to be gone', () => !plane.apiServer.running);
    await sleep(3_000);
    await plane.startApiServer();
    await sleep(3_000);
    writing = false;
    await writer;

    const server = async () => new Map((await core.listNamespacedConfigMap({ namespace })).items.map((c) => [c.metadata!.name!, c.metadata!.resourceVersion!]));
    const cache = () => new Map(informer!.cache.list().map((c) => [c.metadata!.name!, c.metadata!.resourceVersion!]));
    const expected = await server();
    await waitFor('the cache to match the server', () => JSON.stringify([...cache()].sort()) === JSON.stringify([...expected].sort()), { timeoutMs: 60_000 });

    const stats = informer.stats();
    process.stderr.write(`[runtime-apiserver-restart] writes ${writes} ok / ${failed} failed; informer: ${JSON.stringify(stats)}\n`);
    expect(failed).toBeGreaterThan(0); // the server really was down while the writer ran
    expect(stats.failures).toBeGreaterThan(0);
    expect(stats.watchRestarts).toBeGreaterThan(0);

    // The operator process is still up, and still reconciles.
    expect(operator.running).toBe(true);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'after-restart' } } });
    await waitFor(
      'the operator to annotate an object created after the restart',
      async () => (await core.readNamespacedConfigMap({ name: 'after-restart', namespace })).metadata?.annotations?.[ANNOTATED_BY] === operator!.identity,
      { timeoutMs: 60_000 },
    );
    const probe = await fetch(`http://${operator.address('probes')}/readyz`);
    expect(probe.status).toBe(200);

    operator.kill('SIGTERM');
    expect(await operator.exited).toMatchObject({ code: 0 });
  }, 180_000);
});
