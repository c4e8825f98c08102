/**
 * Faults inside reconciles, against the real API server: a reconcile that throws is retried
 * with growing delays while the retry counters rise; a reconcile that loses a write race
 * (409 Conflict, a concurrent writer changed the object) is retried from the fresh cache
 * until the object ends in the right state.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { isConflict } from '../../src/k8s/errors.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { objectPath } from '../../src/k8s/resource.ts';
import { CONFIGMAPS } from '../support/resources.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { RuntimeMetrics } from '../../src/metrics/runtime.ts';
import { Controller, type RunningController } from '../../src/runtime/controller.ts';
import { informerSource } from '../support/informer-source.ts';
import { Informer } from '../../src/runtime/informer.ts';
import { ItemExponentialRateLimiter } from '../../src/runtime/ratelimit.ts';
import { kubeConfig, testNamespace } from '../support/cluster.ts';
import { recordingLogger, waitFor } from '../support/runtime-helpers.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe('faults in reconciles', () => {
  const kc = kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const client = new RestClient(kc);
  let ns: { name: string; remove: () => Promise<void> };
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    ns = await testNamespace('rt-retry');
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await ns.remove();
  });

  function harness(name: string, reconcile: ConstructorParameters<typeof Controller>[0]['reconcile'], labelSelector: string) {
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    const { logger, lines } = recordingLogger('info');
    const informer = new Informer<ConfigMap>({ resource: CONFIGMAPS, client, logger, namespaces: [ns.name], labelSelector });
    const controller = new Controller({
      name,
      sources: [informerSource(informer)],
      reconcile,
      logger,
      metrics,
      workers: 2,
      // 100 ms doubling, so the growth shows above scheduling noise.
      rateLimiter: () => new ItemExponentialRateLimiter({ baseMs: 100, maxMs: 60_000 }),
    });
    informer.start();
    const running: RunningController = controller.start();
    cleanups.push(
      () => running.stop({ drainTimeoutMs: 5_000 }),
      () => informer.stop(),
    );
    const value = async (
      metric: keyof RuntimeMetrics & ('reconcileTotal' | 'reconcileErrorsTotal' | 'workqueueRetriesTotal'),
      labels: Record<string, string> = {},
    ) =>
      (await metrics[metric].get()).values
        .filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x))
        .reduce((s, v) => s + v.value, 0);
    return { informer, lines, value };
  }

  it('retries a throwing reconcile with growing delays, counting every retry', async () => {
    const attempts: number[] = [];
    const { informer, lines, value } = harness(
      'thrower',
      async (key) => {
        attempts.push(performance.now());
        if (attempts.length <= 5) throw new Error(`dependency unavailable (attempt ${attempts.length})`);
        const [namespace, name] = key.split('/') as [string, string];
        // Level-based: write only what is missing, so the write's own watch event ends in a no-op.
        if (informer.cache.get(key)?.metadata?.annotations?.['backlot.dev/recovered'] === 'true') return;
        await client.request({
          method: 'PATCH',
          path: objectPath(CONFIGMAPS, name, namespace),
          contentType: 'application/merge-patch+json',
          body: { metadata: { annotations: { 'backlot.dev/recovered': 'true' } } },
        });
      },
      'test=thrower',
    );
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'flaky', labels: { test: 'thrower' } } } });
    await waitFor(
      'the sixth attempt to succeed',
      async () => (await core.readNamespacedConfigMap({ name: 'flaky', namespace: ns.name })).metadata?.annotations?.['backlot.dev/recovered'] === 'true',
      {
        timeoutMs: 30_000,
      },
    );

    const gaps = attempts.slice(1, 6).map((t, i) => Math.round(t - attempts[i]!));
    process.stderr.write(`[runtime-retry] delays between attempts (ms): ${gaps.join(', ')}\n`);
    // A retry never comes before its backoff: 100, 200, 400, 800, 1600 ms.
    gaps.forEach((gap, k) => expect(gap).toBeGreaterThanOrEqual(100 * 2 ** k - 1));
    expect(gaps[4]!).toBeGreaterThan(gaps[0]! * 4);
    expect(await value('workqueueRetriesTotal', { name: 'thrower' })).toBe(5);
    expect(await value('reconcileTotal', { controller: 'thrower', result: 'error' })).toBe(5);
    expect(await value('reconcileErrorsTotal', { controller: 'thrower' })).toBe(5);
    expect(await value('reconcileTotal', { controller: 'thrower', result: 'success' })).toBeGreaterThanOrEqual(1);
    const failures = lines.filter((l) => l.msg === 'reconcile failed');
    expect(failures.map((l) => l.key)).toEqual(Array(5).fill(`${ns.name}/flaky`));
  });

  it('retries writes that lose to a concurrent writer (409) until the object is right', async () => {
    const MIRROR = 'backlot.dev/mirror-of-n';
    let conflicts = 0;
    const { informer, value } = harness(
      'mirror',
      async (key, ctx) => {
        const cm = informer.cache.get(key);
        const n = cm?.data?.n;
        if (!cm || n === undefined || cm.metadata?.annotations?.[MIRROR] === n) return;
        // Read from the cache, think a little, write with the version read: a race the concurrent writer wins.
        await sleep(50);
        const body = { ...cm, metadata: { ...cm.metadata, annotations: { ...cm.metadata?.annotations, [MIRROR]: n } } };
        try {
          await client.request({ method: 'PUT', path: objectPath(CONFIGMAPS, cm.metadata!.name!, cm.metadata!.namespace), body, signal: ctx.signal });
        } catch (err) {
          if (isConflict(err)) conflicts++;
          throw err;
        }
      },
      'test=mirror',
    );
    await core.createNamespacedConfigMap({ namespace: ns.name, body: { metadata: { name: 'contended', labels: { test: 'mirror' } }, data: { n: '0' } } });

    // The concurrent writer: bumps data.n every 20 ms for 2 s, without looking at versions.
    let last = 0;
    const until = Date.now() + 2_000;
    while (Date.now() < until) {
      last++;
      await core.patchNamespacedConfigMap({ name: 'contended', namespace: ns.name, body: [{ op: 'replace', path: '/data/n', value: String(last) }] });
      await sleep(20);
    }

    const final = await waitFor(
      'the annotation to mirror the last value written',
      async () => {
        const cm = await core.readNamespacedConfigMap({ name: 'contended', namespace: ns.name });
        return cm.metadata?.annotations?.[MIRROR] === String(last) ? cm : undefined;
      },
      { timeoutMs: 30_000 },
    );
    process.stderr.write(`[runtime-retry] 409 conflicts: ${conflicts}, retries: ${await value('workqueueRetriesTotal', { name: 'mirror' })}\n`);
    expect(final.data?.n).toBe(String(last)); // the writer's last change was not lost
    expect(conflicts).toBeGreaterThan(0);
    expect(await value('workqueueRetriesTotal', { name: 'mirror' })).toBeGreaterThanOrEqual(conflicts);
  });
});
