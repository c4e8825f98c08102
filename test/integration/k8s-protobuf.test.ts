/**
 * The protobuf list path against the JSON one, on a real API server: for Deployments and
 * Services with every field the caches keep set (and some left empty), what a workload cache
 * holds is the same whichever encoding the list came in. The schemas were written from
 * generated.proto; this is where a wrong field number or a wrongly omitted zero shows.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { API_GROUP } from '../../src/api/common.ts';
import { apply } from '../../src/k8s/apply.ts';
import { KubeApiError } from '../../src/k8s/errors.ts';
import type { KubeObject, ObjectList } from '../../src/k8s/object.ts';
import { listOf } from '../../src/k8s/protobuf.ts';
import { collectionPath } from '../../src/k8s/resource.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { WORKLOAD_LIST_SCHEMAS, WORKLOAD_TRANSFORMS } from '../../src/reconcilers/informers.ts';
import { WORKLOAD_RESOURCES } from '../../src/reconcilers/world.ts';
import { kubeConfig, testNamespace } from '../support/cluster.ts';
import { installCrds } from '../support/crds.ts';
import { eventually } from '../support/eventually.ts';

const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1', env: [{ name: 'A', value: 'b' }] }] } });

describe('lists in protobuf', () => {
  let client: RestClient;
  let ns: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    client = new RestClient(kubeConfig());
    ns = await testNamespace('protobuf');
    const deployments = collectionPath(WORKLOAD_RESOURCES.Deployment, ns.name);
    const services = collectionPath(WORKLOAD_RESOURCES.Service, ns.name);
    // A Deployment with a full status (conditions, a collision count, zero counts among them),
    // Backlot's ownership applied, an owner reference and a finalizer.
    await client.request({
      method: 'POST',
      path: deployments,
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: 'full',
          labels: { app: 'full', 'backstage.io/kubernetes-id': 'full' },
          annotations: { note: 'ünïcødé and "quotes"', empty: '' },
          finalizers: ['example.com/keep'],
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '00000000-0000-0000-0000-000000000001', controller: true, blockOwnerDeletion: false }],
        },
        spec: { replicas: 3, selector: { matchLabels: { app: 'full' } }, template: template('full') },
      },
    });
    await client.request({
      method: 'PATCH',
      path: `${deployments}/full/status`,
      contentType: 'application/merge-patch+json',
      body: {
        status: {
          observedGeneration: 1,
          replicas: 3,
          updatedReplicas: 3,
          readyReplicas: 2,
          availableReplicas: 2,
          unavailableReplicas: 1,
          terminatingReplicas: 0,
          collisionCount: 2,
          conditions: [
            { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: '2026-12-01T10:00:00Z', lastTransitionTime: '2026-12-01T09:59:59Z' },
            { type: 'Progressing', status: 'True', lastUpdateTime: '2026-12-01T10:00:01Z', lastTransitionTime: '2026-12-01T10:00:01Z' },
          ],
        },
      },
    });
    await apply(client, {
      resource: WORKLOAD_RESOURCES.Deployment,
      namespace: ns.name,
      name: 'full',
      body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'full', namespace: ns.name, labels: { 'backlot.dev/owner': 'team-a' }, annotations: { 'backlot.dev/entity': `component:${ns.name}/full` } } },
    });
    // One with nothing but what the API server fills in: zero replicas, no status at all.
    await client.request({
      method: 'POST',
      path: deployments,
      body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'bare' }, spec: { replicas: 0, selector: { matchLabels: { app: 'bare' } }, template: template('bare') } },
    });
    await client.request({ method: 'POST', path: services, body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { app: 'web' } }, spec: { selector: { app: 'web', tier: 'front' }, ports: [{ port: 80 }] } } });
    await client.request({ method: 'POST', path: services, body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'external' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } } });
    await client.request({ method: 'POST', path: services, body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'headless' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } } });
  });
  afterAll(async () => {
    await ns.remove();
  });

  for (const kind of ['Deployment', 'Service'] as const) {
    it(`caches the same ${kind}s from a protobuf list as from a JSON list`, async () => {
      const path = collectionPath(WORKLOAD_RESOURCES[kind], ns.name);
      const json = await client.request<ObjectList>({ path });
      const decoded = await client.requestDecoded<ObjectList>({ path, schema: listOf(WORKLOAD_LIST_SCHEMAS[kind]!) });
      const keep = WORKLOAD_TRANSFORMS[kind];
      expect(json.items?.length).toBeGreaterThanOrEqual(2);
      expect((decoded.items ?? []).map(keep)).toEqual((json.items ?? []).map(keep));
      expect(decoded.metadata?.resourceVersion).toMatch(/^\d+$/);
    });
  }

  it('keeps the fields that matter in the decoded objects', async () => {
    const path = collectionPath(WORKLOAD_RESOURCES.Deployment, ns.name);
    const decoded = await client.requestDecoded<ObjectList<KubeObject & { spec: { replicas?: number }; status: Record<string, unknown> }>>({ path, schema: listOf(WORKLOAD_LIST_SCHEMAS.Deployment!) });
    const full = decoded.items?.find((d) => d.metadata?.name === 'full');
    expect(full?.status).toMatchObject({ readyReplicas: 2, collisionCount: 2, terminatingReplicas: 0 });
    expect(full?.metadata?.annotations?.note).toBe('ünïcødé and "quotes"');
    const bare = decoded.items?.find((d) => d.metadata?.name === 'bare');
    expect(bare?.spec).toEqual({ replicas: 0 });
    expect(bare?.status).toEqual({});
  });

  it('pages a protobuf list with continue tokens', async () => {
    const path = collectionPath(WORKLOAD_RESOURCES.Service, ns.name);
    const schema = listOf(WORKLOAD_LIST_SCHEMAS.Service!);
    const first = await client.requestDecoded<ObjectList>({ path, query: { limit: 2 }, schema });
    expect(first.items).toHaveLength(2);
    expect(first.metadata?.continue).toEqual(expect.any(String));
    const rest = await client.requestDecoded<ObjectList>({ path, query: { limit: 2, continue: first.metadata?.continue }, schema });
    expect([...(first.items ?? []), ...(rest.items ?? [])].map((s) => s.metadata?.name).sort()).toEqual(['external', 'headless', 'web']);
  });

  it('reads an error answer in protobuf as the server Status', async () => {
    const error = await client
      .requestDecoded({ path: `${collectionPath(WORKLOAD_RESOURCES.Deployment, ns.name)}/missing`, schema: WORKLOAD_LIST_SCHEMAS.Deployment! })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status: 404, reason: 'NotFound' });
    expect((error as Error).message).toContain('"missing" not found');
  });

  it('parses a JSON answer from a resource that has no protobuf encoding', async () => {
    await installCrds();
    const path = `/apis/${API_GROUP}/v1alpha1/namespaces/${ns.name}/components`;
    // A CRD just installed may still answer 429 while its storage starts.
    const components = await eventually('the Component list', () => client.requestDecoded<ObjectList>({ path, schema: WORKLOAD_LIST_SCHEMAS.Service! }).catch(() => undefined));
    expect(components.kind).toBe('ComponentList');
    expect(components.items).toEqual([]);
  });
});
