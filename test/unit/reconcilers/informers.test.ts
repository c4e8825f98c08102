import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import type { V1EndpointSlice, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { serviceReadiness, statefulSetReadiness } from '../../../src/catalog/readiness.ts';
import { DEFINITION_LEFT_OUT, entityTransform, LAST_APPLIED_ANNOTATION, OWN_MANAGED_FIELDS, SLICE_TRANSFORM, WORKLOAD_TRANSFORMS } from '../../../src/reconcilers/informers.ts';
import { FIELD_MANAGER, ownManagedFields } from '../../../src/k8s/apply.ts';
import { ENTITY_KINDS } from '../../../src/api/kinds.ts';

const object = (kind: string, spec: Record<string, unknown>): KubeObject => ({
  metadata: {
    name: 'orders',
    namespace: 'shop',
    generation: 3,
    labels: { tier: 'api' },
    annotations: { [LAST_APPLIED_ANNOTATION]: JSON.stringify({ kind, spec }), 'backstage.io/techdocs-ref': 'dir:.' },
    managedFields: [{ manager: 'kubectl', operation: 'Apply' }],
  },
  spec,
  status: { observedGeneration: 3 },
});

describe('entityTransform', () => {
  const definition = `openapi: 3.1.0\n${'x'.repeat(1024 * 1024 - 20)}`;

  it.each(ENTITY_KINDS)('keeps a %s whole but for managedFields and kubectl\'s last-applied-configuration', (kind) => {
    const input = object(kind, { owner: 'team-a', type: 'service' });
    const out = entityTransform(kind)(input);
    expect(out).toEqual({
      apiVersion: 'catalog.backlot.dev/v1alpha1',
      kind,
      metadata: { name: 'orders', namespace: 'shop', generation: 3, labels: { tier: 'api' }, annotations: { 'backstage.io/techdocs-ref': 'dir:.' } },
      spec: { owner: 'team-a', type: 'service' },
      status: { observedGeneration: 3 },
    });
    expect(input.metadata?.annotations).toHaveProperty([LAST_APPLIED_ANNOTATION]);
    expect(input.metadata?.managedFields).toHaveLength(1);
  });

  it('keeps of an API\'s definition only that it has one', () => {
    const input = object('API', { type: 'openapi', definition });
    const out = entityTransform('API')(input);
    expect(out.spec).toEqual({ type: 'openapi', definition: DEFINITION_LEFT_OUT });
    expect(JSON.stringify(out).length).toBeLessThan(1024);
    expect((input.spec as { definition: string }).definition).toBe(definition);
  });

  it('leaves an API without a definition as it is, and a field of that name on another kind', () => {
    expect(entityTransform('API')(object('API', { type: 'grpc' })).spec).toEqual({ type: 'grpc' });
    expect(entityTransform('Component')(object('Component', { type: 'service', definition: 'kept' })).spec).toEqual({ type: 'service', definition: 'kept' });
  });
});

describe('WORKLOAD_TRANSFORMS', () => {
  it("keeps what a StatefulSet's readiness reads: a partition held back is still seen in the cache", () => {
    const sts: V1StatefulSet = {
      metadata: { name: 'db', namespace: 'shop', generation: 2 },
      spec: {
        replicas: 3,
        serviceName: 'db',
        selector: { matchLabels: { app: 'db' } },
        template: { spec: { containers: [{ name: 'db', image: 'db:2' }] } },
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } },
      },
      status: { observedGeneration: 2, replicas: 3, readyReplicas: 3, updatedReplicas: 1 },
    };
    const cached = WORKLOAD_TRANSFORMS.StatefulSet(sts as KubeObject) as V1StatefulSet;
    expect(cached.spec?.template).toBeUndefined();
    expect(statefulSetReadiness(cached)).toEqual(statefulSetReadiness(sts));
    expect(statefulSetReadiness(cached).ready).toBe(true);
  });

  it("keeps of Backlot's own managedFields entry only that there is one, shared by every workload that has one", () => {
    const entry = (manager: string, subresource?: string) => ({ manager, operation: manager === FIELD_MANAGER ? 'Apply' : 'Update', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:backlot.dev/entity': {} } } }, ...(subresource ? { subresource } : {}) });
    const deployment = (name: string, managedFields: unknown[]): KubeObject => ({ metadata: { name, namespace: 'shop', managedFields }, spec: { replicas: 1 }, status: {} });
    const held = [WORKLOAD_TRANSFORMS.Deployment(deployment('a', [entry('kubectl'), entry(FIELD_MANAGER)])), WORKLOAD_TRANSFORMS.Service(deployment('b', [entry(FIELD_MANAGER), entry('kube-controller-manager')]))];
    for (const obj of held) {
      expect(obj.metadata?.managedFields).toBe(OWN_MANAGED_FIELDS);
      expect(ownManagedFields(obj)).toEqual([{ manager: FIELD_MANAGER, operation: 'Apply' }]);
    }
    expect(Object.isFrozen(OWN_MANAGED_FIELDS) && Object.isFrozen(OWN_MANAGED_FIELDS[0])).toBe(true);
    // Another manager's entry, or Backlot's on a subresource, is not Backlot's hold on the workload's metadata.
    for (const managedFields of [[entry('kubectl')], [entry(FIELD_MANAGER, 'status')], []]) {
      const obj = WORKLOAD_TRANSFORMS.Deployment(deployment('c', managedFields));
      expect(obj.metadata).not.toHaveProperty('managedFields');
      expect(ownManagedFields(obj)).toEqual([]);
    }
  });
});

describe('SLICE_TRANSFORM', () => {
  const endpoint = (i: number, ready: boolean | undefined) => ({
    addresses: [`10.0.0.${i}`],
    conditions: { ...(ready === undefined ? {} : { ready }), serving: ready !== false, terminating: false },
    nodeName: `node-${i}`,
    zone: 'zone-a',
    targetRef: { kind: 'Pod', namespace: 'shop', name: `cart-${i}`, uid: `uid-${i}` },
  });
  const slice = (name: string, readiness: (boolean | undefined)[]): KubeObject => ({
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      resourceVersion: '7',
      generation: 3,
      labels: { 'kubernetes.io/service-name': 'cart', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io', app: 'cart', tier: 'web' },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': '2026-01-01T00:00:00Z' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'cart', uid: 'uid-cart', controller: true, blockOwnerDeletion: true }],
      creationTimestamp: '2026-01-01T00:00:00Z',
    },
    addressType: 'IPv4',
    endpoints: readiness.map((r, i) => endpoint(i, r)),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  });
  const service = { metadata: { name: 'cart', namespace: 'shop' }, spec: { type: 'ClusterIP' } } as V1Service;

  it("keeps a slice's name, its Service and whether each endpoint is ready, and nothing else", () => {
    expect(SLICE_TRANSFORM(slice('cart-a', [true, false, undefined]))).toEqual({
      metadata: { name: 'cart-a', namespace: 'shop', resourceVersion: '7', labels: { 'kubernetes.io/service-name': 'cart' } },
      endpoints: [{ conditions: { ready: true } }, { conditions: { ready: false } }, { conditions: { ready: true } }],
    });
    expect(SLICE_TRANSFORM({ metadata: { name: 'orphan', namespace: 'shop', resourceVersion: '1' } })).toEqual({ metadata: { name: 'orphan', namespace: 'shop', resourceVersion: '1' } });
  });

  it.each([[[true, true]], [[false, undefined]], [[false, false]], [[]]])("leaves a Service's readiness as it was over endpoints of readiness %j", (readiness) => {
    const slices = [slice('cart-a', readiness), slice('cart-b', [false])];
    expect(serviceReadiness(service, slices.map((s) => SLICE_TRANSFORM(s)) as unknown as V1EndpointSlice[])).toEqual(serviceReadiness(service, slices as unknown as V1EndpointSlice[]));
  });
});
