/**
 * Overload: a kube-apiserver that runs one read and one write at a time
 * (`--max-requests-inflight=1 --max-mutating-requests-inflight=1`) answers every request past
 * that 429 with `Retry-After: 1`. Priority and fairness is turned off on it: while it is on
 * (the default), those two flags only size its total concurrency, and it queues requests
 * rather than refusing them; with it off, the max-in-flight filter applies them as limits.
 * Either way system:masters (the admin kubeconfig) is never refused, so the requests come from
 * a ServiceAccount.
 *
 * Waves of requests sent all at once, as an operator's cold start sends them, draw real 429s;
 * the client sends each again after the second the server names (never sooner, and spread so
 * that the wave does not collide again), and every request of the work succeeds: the server
 * counts as many 429s as the client retried.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api } from '@kubernetes/client-node';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { narrowError } from '../../src/k8s/errors.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { collectionPath, objectPath } from '../../src/k8s/resource.ts';
import { CONFIGMAPS } from '../support/resources.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { systemClock, type Clock } from '../../src/util/clock.ts';
import { planeKubeConfig, serviceAccountKubeConfig } from '../support/plane-client.ts';

const WAVE = 30;
/** Large enough that the server spends a while on each request, so that the requests of a wave overlap. */
const BLOB = 'x'.repeat(100_000);

describe('an overloaded API server: 429 with Retry-After', () => {
  let plane: ControlPlane;

  beforeAll(async () => {
    plane = await ControlPlane.start({
      apiServerFlags: ['--enable-priority-and-fairness=false', '--max-requests-inflight=1', '--max-mutating-requests-inflight=1'],
    });
  }, 120_000);
  afterAll(async () => {
    await plane?.stop();
  });

  /** 429s the API server counts for ConfigMaps, from its own metrics. */
  async function serverTooMany(): Promise<number> {
    const { stdout } = await plane.kubectl(['get', '--raw', '/metrics']);
    return stdout
      .split('\n')
      .filter((l) => l.startsWith('apiserver_request_terminations_total{') && l.includes('code="429"') && l.includes('resource="configmaps"'))
      .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  }

  it('sends each refused request again after Retry-After, and the work completes', async () => {
    const admin = planeKubeConfig(plane);
    const namespace = 'busy';
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const kc = await serviceAccountKubeConfig(admin, {
      namespace,
      name: 'operator',
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get', 'list', 'patch'] }],
    });

    // Every send passes the rate limiter once: counting its calls counts the requests sent.
    // Every wait the client makes goes through its clock: without a rate limit, those are the Retry-After waits.
    let sent = 0;
    const retried: number[] = [];
    const waits: number[] = [];
    const clock: Clock = { now: () => systemClock.now(), setTimer: (ms, fn) => (waits.push(ms), systemClock.setTimer(ms, fn)) };
    const client = new RestClient(kc, {
      clock,
      rateLimiter: { when: () => (sent++, 0) },
      metrics: { rateLimitWait: () => undefined, retryAfter: (status) => retried.push(status) },
    });

    const tooManyBefore = await serverTooMany();
    const failures: string[] = [];
    let slowestMs = 0;
    const wave = async (what: string, request: (i: number) => Promise<unknown>) => {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: WAVE }, async (_, i) => {
          const at = performance.now();
          await request(i).catch((err: unknown) => failures.push(`${what} ${i}: ${narrowError(err).message}`));
          slowestMs = Math.max(slowestMs, performance.now() - at);
        }),
      );
      return Math.round(performance.now() - started);
    };
    const started = performance.now();
    const times = {
      create: await wave('create', (i) =>
        client.request({
          method: 'POST',
          path: collectionPath(CONFIGMAPS, namespace),
          body: { metadata: { name: `cm-${i}` }, data: { n: String(i), blob: BLOB } },
        }),
      ),
      read: await wave('read', (i) =>
        i % 3 === 0
          ? client.request({ path: collectionPath(CONFIGMAPS, namespace), query: { limit: 10 } })
          : client.request({ path: objectPath(CONFIGMAPS, `cm-${i}`, namespace) }),
      ),
      patch: await wave('patch', (i) =>
        client.request({
          method: 'PATCH',
          path: objectPath(CONFIGMAPS, `cm-${i}`, namespace),
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: { patched: 'yes' } }, data: { blob: BLOB.toUpperCase() } },
        }),
      ),
    };
    const totalMs = Math.round(performance.now() - started);
    const tooMany = (await serverTooMany()) - tooManyBefore;
    process.stderr.write(
      `[k8s-retry-after] ${3 * WAVE} requests of work: ${sent} sent, ${tooMany} answered 429 (server count), ${retried.length} retried after Retry-After, ` +
        `${failures.length} failed; slowest request ${Math.round(slowestMs)} ms; waits ${Math.round(Math.min(...waits))}-${Math.round(Math.max(...waits))} ms; total ${totalMs} ms (waves: ${JSON.stringify(times)})\n`,
    );

    expect(failures).toEqual([]);
    const items = (await client.request<{ items: KubeObject[] }>({ path: collectionPath(CONFIGMAPS, namespace) })).items;
    expect(items.filter((cm) => cm.metadata?.labels?.patched === 'yes')).toHaveLength(WAVE);
    // The server refused requests, and every refusal was sent again: no 429 reached a caller.
    expect(tooMany).toBeGreaterThan(0);
    expect(retried).toHaveLength(tooMany);
    expect(retried.every((status) => status === 429)).toBe(true);
    expect(sent).toBe(3 * WAVE + tooMany + 1);
    // Each retry waited the second the server named, spread by at most a quarter.
    expect(waits).toHaveLength(tooMany);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1_000);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1_250);
  }, 120_000);
});
