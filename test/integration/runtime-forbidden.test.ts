/**
 * Fault: the operator's identity may not list one of the resources it watches (403). The
 * informer for it backs off instead of flooding the API server, the other informers and the
 * controller keep working, /readyz names the unsynced resource, and once access is granted
 * the informer syncs without a restart.
 *
 * Requests are counted by the API server itself, from its audit log (written before each
 * response in the log backend's blocking mode; 403s from authorization never reach
 * apiserver_request_total). The identity is a ServiceAccount
 * token from the TokenRequest API, limited by a Role: the admin kubeconfig is system:masters.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { objectPath } from '../../src/k8s/resource.ts';
import { CONFIGMAPS, SECRETS } from '../support/resources.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { RuntimeMetrics } from '../../src/metrics/runtime.ts';
import { Controller, type RunningController } from '../../src/runtime/controller.ts';
import { informerSource } from '../support/informer-source.ts';
import { InformerFactory } from '../../src/runtime/factory.ts';
import { planeKubeConfig, serviceAccountKubeConfig } from '../support/plane-client.ts';
import { recordingLogger, waitFor } from '../support/runtime-helpers.ts';

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources: [{ group: "", resources: ["secrets", "configmaps"] }]
  - level: None
`;

interface AuditEvent {
  stage: string;
  verb: string;
  user?: { username?: string };
  objectRef?: { resource?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

describe('fault: a resource the identity may not list (403)', () => {
  let dir: string;
  let plane: ControlPlane;
  const namespace = 'limited';
  const user = `system:serviceaccount:${namespace}:operator`;
  let factory: InformerFactory | undefined;
  let running: RunningController | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backlot-forbidden-'));
    await writeFile(join(dir, 'audit-policy.yaml'), AUDIT_POLICY);
    plane = await ControlPlane.start({
      apiServerFlags: [`--audit-policy-file=${join(dir, 'audit-policy.yaml')}`, `--audit-log-path=${join(dir, 'audit.log')}`],
    });
  }, 120_000);
  afterAll(async () => {
    await running?.stop({ drainTimeoutMs: 5_000 });
    await factory?.stop();
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const auditEvents = async (): Promise<AuditEvent[]> =>
    (await readFile(join(dir, 'audit.log'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent);
  const forbiddenSecretRequests = async (from: number, to: number) =>
    (await auditEvents()).filter((e) => {
      const at = Date.parse(e.requestReceivedTimestamp);
      return (
        e.stage === 'ResponseComplete' &&
        e.user?.username === user &&
        e.objectRef?.resource === 'secrets' &&
        e.responseStatus?.code === 403 &&
        at >= from &&
        at < to
      );
    }).length;

  it('backs off without a flood while the rest keeps working, and recovers when allowed', async () => {
    const admin = planeKubeConfig(plane);
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const rules = [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] }];
    const limited = await serviceAccountKubeConfig(admin, { namespace, name: 'operator', rules });

    const client = new RestClient(limited);
    const metrics = new RuntimeMetrics(new Registry());
    const { logger, lines } = recordingLogger('info');
    // The reconnect backoff capped at 10 s (default 30 s) so that recovery fits in the test.
    factory = new InformerFactory({ client, logger, metrics, namespaces: [namespace], backoff: { initialMs: 800, maxMs: 10_000, factor: 2, jitter: 0.5 } });
    const configMaps = factory.informer({ resource: CONFIGMAPS });
    const secrets = factory.informer({ resource: SECRETS });
    const reconciled: string[] = [];
    const controller = new Controller({
      name: 'configmaps',
      sources: [informerSource(configMaps)],
      logger,
      metrics,
      reconcile: async (key) => {
        const [ns, name] = key.split('/') as [string, string];
        if (!configMaps.cache.get(key)) return;
        await client.request({
          method: 'PATCH',
          path: objectPath(CONFIGMAPS, name, ns),
          contentType: 'application/merge-patch+json',
          body: { metadata: { labels: { seen: 'yes' } } },
        });
        reconciled.push(key);
      },
    });

    const from = Date.now();
    factory.start();
    running = controller.start();
    await configMaps.whenSynced();
    expect(factory.unsynced()).toEqual(['secrets']);

    // Over the next minute the rest of the operator keeps working.
    await sleep(20_000);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'during-403' } } });
    await waitFor('the controller to reconcile the new ConfigMap', () => reconciled.includes(`${namespace}/during-403`));
    await sleep(Math.max(0, from + 60_000 - Date.now()));
    const to = Date.now();
    const perMinute = await forbiddenSecretRequests(from, to);
    const warnings = lines.filter((l) => l.msg === 'list failed' && l.resource === 'secrets');
    process.stderr.write(
      `[runtime-forbidden] 403 list requests for secrets in ${Math.round((to - from) / 1000)} s: ${perMinute} (backoff 800 ms doubling to a 10 s cap); logged failures: ${warnings.length}\n`,
    );
    expect(perMinute).toBeGreaterThanOrEqual(3); // it keeps trying...
    expect(perMinute).toBeLessThanOrEqual(20); // ...without a flood
    expect(secrets.synced).toBe(false);
    expect(configMaps.synced).toBe(true);
    expect(warnings[0]).toMatchObject({ status: 403, reason: 'Forbidden' });

    // Access granted: the informer syncs on its next attempt, without a restart.
    await rbac.replaceNamespacedRole({
      name: 'operator',
      namespace,
      body: { metadata: { name: 'operator' }, rules: [...rules, { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] }] },
    });
    await secrets.whenSynced();
    expect(factory.unsynced()).toEqual([]);
  }, 180_000);
});
