/**
 * Server-side apply as Backlot issues it, on a real API server: the write lands under
 * Backlot's field manager, and the answer is the object's metadata alone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apply, FIELD_MANAGER } from '../../src/k8s/apply.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { WORKLOAD_RESOURCES } from '../../src/api/workloads.ts';
import { kubeConfig, testNamespace } from '../support/cluster.ts';

describe('apply', () => {
  let client: RestClient;
  let ns: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    client = new RestClient(kubeConfig());
    ns = await testNamespace('apply');
  });
  afterAll(async () => {
    await ns.remove();
  });

  it('writes under the Backlot field manager and answers with the metadata only', async () => {
    const resource = WORKLOAD_RESOURCES.Service;
    await client.request({
      method: 'POST',
      path: `/api/v1/namespaces/${ns.name}/services`,
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } },
    });
    const answer = await apply(client, {
      resource,
      namespace: ns.name,
      name: 'web',
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: ns.name, annotations: { 'backlot.dev/entity': 'component:shop/web' } } },
    });
    expect(answer.kind).toBe('PartialObjectMetadata');
    expect(answer).not.toHaveProperty('spec');
    expect(answer.metadata?.annotations?.['backlot.dev/entity']).toBe('component:shop/web');
    expect(answer.metadata?.resourceVersion).toEqual(expect.any(String));

    const stored = await client.request<KubeObject & { spec?: { ports?: unknown[] } }>({ path: `/api/v1/namespaces/${ns.name}/services/web` });
    expect(stored.spec?.ports).toHaveLength(1);
    expect((stored.metadata?.managedFields ?? []).map((m) => (m as { manager?: string }).manager)).toContain(FIELD_MANAGER);
  });
});
