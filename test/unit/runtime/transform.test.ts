import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import { dropAnnotations, dropManagedFields, keepPaths } from '../../../src/runtime/transform.ts';

const deployment: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'checkout',
    namespace: 'shop',
    resourceVersion: '7',
    labels: { app: 'checkout' },
    managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
    selfLink: 'x',
  },
  spec: { replicas: 3, selector: { matchLabels: { app: 'checkout' } }, template: { spec: { containers: [{ name: 'c', image: 'i' }] } } },
  status: { readyReplicas: 2, conditions: [] },
};

describe('dropManagedFields', () => {
  it('drops managedFields and keeps the rest, without touching the input', () => {
    const out = dropManagedFields(deployment);
    expect(out.metadata).not.toHaveProperty('managedFields');
    expect(out.metadata?.labels).toEqual({ app: 'checkout' });
    expect(out.spec).toBe(deployment.spec);
    expect(deployment.metadata?.managedFields).toHaveLength(1);
  });

  it('returns an object without managedFields as it is', () => {
    const bare: KubeObject = { metadata: { name: 'x' } };
    expect(dropManagedFields(bare)).toBe(bare);
  });
});

describe('dropAnnotations', () => {
  it('drops the named annotations and keeps the rest, without touching the input', () => {
    const obj: KubeObject = { metadata: { name: 'a', annotations: { big: 'x'.repeat(100), keep: 'k' } }, spec: { a: 1 } };
    const out = dropAnnotations(obj, ['big', 'absent']);
    expect(out).toEqual({ metadata: { name: 'a', annotations: { keep: 'k' } }, spec: { a: 1 } });
    expect(obj.metadata?.annotations).toHaveProperty('big');
  });

  it('returns an object without them as it is', () => {
    const obj: KubeObject = { metadata: { name: 'a', annotations: { keep: 'k' } } };
    expect(dropAnnotations(obj, ['big'])).toBe(obj);
    const bare: KubeObject = { metadata: { name: 'a' } };
    expect(dropAnnotations(bare, ['big'])).toBe(bare);
  });
});

describe('keepPaths', () => {
  it('keeps identity metadata and only the named paths', () => {
    const out = keepPaths(['spec.replicas', 'spec.selector', 'status.readyReplicas', 'spec.absent.deeper'])(deployment);
    expect(out).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'checkout', namespace: 'shop', resourceVersion: '7', labels: { app: 'checkout' } },
      spec: { replicas: 3, selector: { matchLabels: { app: 'checkout' } } },
      status: { readyReplicas: 2 },
    });
  });

  it('rejects an empty path segment, showing the expected form', () => {
    expect(() => keepPaths(['spec..replicas'])).toThrow('invalid field path "spec..replicas": expected dot-separated field names like "spec.replicas"');
  });
});
