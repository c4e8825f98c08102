import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../../src/k8s/object.ts';
import type { V1CronJob, V1DaemonSet, V1Deployment, V1EndpointSlice, V1Job, V1Service, V1StatefulSet } from '@kubernetes/client-node';
import { cronJobReadiness, daemonSetReadiness, deploymentReadiness, serviceReadiness, statefulSetReadiness } from '../../../src/catalog/readiness.ts';
import { byControllerUid } from '../../../src/reconcilers/indexes.ts';
import {
  DEFINITION_LEFT_OUT,
  entityTransform,
  JOB_TRANSFORM,
  LAST_APPLIED_ANNOTATION,
  OWN_MANAGED_FIELDS,
  SLICE_TRANSFORM,
  WORKLOAD_TRANSFORMS,
} from '../../../src/reconcilers/informers.ts';
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

  it.each(ENTITY_KINDS)("keeps a %s whole but for managedFields and kubectl's last-applied-configuration", (kind) => {
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

  it("keeps of an API's definition only that it has one", () => {
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
    const entry = (manager: string, subresource?: string) => ({
      manager,
      operation: manager === FIELD_MANAGER ? 'Apply' : 'Update',
      time: '2026-01-01T00:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:metadata': { 'f:annotations': { 'f:backlot.dev/entity': {} } } },
      ...(subresource ? { subresource } : {}),
    });
    const deployment = (name: string, managedFields: unknown[]): KubeObject => ({
      metadata: { name, namespace: 'shop', managedFields },
      spec: { replicas: 1 },
      status: {},
    });
    const held = [
      WORKLOAD_TRANSFORMS.Deployment(deployment('a', [entry('kubectl'), entry(FIELD_MANAGER)])),
      WORKLOAD_TRANSFORMS.Service(deployment('b', [entry(FIELD_MANAGER), entry('kube-controller-manager')])),
    ];
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
    expect(SLICE_TRANSFORM({ metadata: { name: 'orphan', namespace: 'shop', resourceVersion: '1' } })).toEqual({
      metadata: { name: 'orphan', namespace: 'shop', resourceVersion: '1' },
    });
  });

  it.each([[[true, true]], [[false, undefined]], [[false, false]], [[]]])(
    "leaves a Service's readiness as it was over endpoints of readiness %j",
    (readiness) => {
      const slices = [slice('cart-a', readiness), slice('cart-b', [false])];
      expect(serviceReadiness(service, slices.map((s) => SLICE_TRANSFORM(s)) as unknown as V1EndpointSlice[])).toEqual(
        serviceReadiness(service, slices as unknown as V1EndpointSlice[]),
      );
    },
  );
});

describe('what the workload and Job caches keep', () => {
  const meta = (name: string, generation = 4) => ({
    name,
    namespace: 'shop',
    uid: `uid-${name}`,
    resourceVersion: '9',
    generation,
    labels: { app: name },
    creationTimestamp: '2026-01-01T00:00:00Z',
  });
  const condition = (type: string, status: string, reason: string, at = '2026-01-01T00:05:00Z') => ({
    type,
    status,
    reason,
    message: `${type} is ${status} because of ${reason}, in a sentence or two`,
    lastUpdateTime: at,
    lastTransitionTime: at,
  });
  const template = {
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'registry.example/web:1', env: [{ name: 'A', value: 'b' }] }] },
  };

  /** Objects as they come off the wire (times as text), read through the client's types. */
  const as = <T>(o: KubeObject) => o as unknown as T;
  const deployments: KubeObject[] = [
    {
      metadata: meta('done'),
      spec: { replicas: 3, selector: {}, template },
      status: {
        observedGeneration: 4,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: [condition('Available', 'True', 'MinimumReplicasAvailable'), condition('Progressing', 'True', 'NewReplicaSetAvailable')],
      },
    },
    {
      metadata: meta('rolling'),
      spec: { replicas: 3, selector: {}, template },
      status: {
        observedGeneration: 4,
        replicas: 4,
        updatedReplicas: 2,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: [condition('Progressing', 'True', 'ReplicaSetUpdated')],
      },
    },
    {
      metadata: meta('stuck'),
      spec: { replicas: 2, selector: {}, template },
      status: {
        observedGeneration: 4,
        replicas: 2,
        updatedReplicas: 2,
        readyReplicas: 2,
        availableReplicas: 2,
        conditions: [condition('Available', 'True', 'MinimumReplicasAvailable'), condition('Progressing', 'False', 'ProgressDeadlineExceeded')],
      },
    },
    {
      metadata: meta('unobserved', 5),
      spec: { selector: {}, template },
      status: { observedGeneration: 4, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
    },
  ];

  it("keeps of a Deployment's status the counts and the Progressing condition's status and reason, with the same readiness", () => {
    const kept = WORKLOAD_TRANSFORMS.Deployment(deployments[2]!);
    expect(kept.spec).toEqual({ replicas: 2 });
    expect(kept.status).toEqual({
      observedGeneration: 4,
      replicas: 2,
      updatedReplicas: 2,
      readyReplicas: 2,
      availableReplicas: 2,
      conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }],
    });
    for (const d of deployments)
      expect(deploymentReadiness(as<V1Deployment>(WORKLOAD_TRANSFORMS.Deployment(d)))).toEqual(deploymentReadiness(as<V1Deployment>(d)));
  });

  it('keeps of a DaemonSet, a CronJob and a Service what their readiness reads, with the same readiness', () => {
    const daemonSets: KubeObject[] = [
      {
        metadata: meta('agent'),
        spec: { selector: {}, template },
        status: {
          observedGeneration: 4,
          desiredNumberScheduled: 3,
          currentNumberScheduled: 3,
          numberMisscheduled: 1,
          numberReady: 3,
          numberAvailable: 2,
          updatedNumberScheduled: 3,
        },
      },
      {
        metadata: meta('agent-old', 5),
        spec: { selector: {}, template },
        status: {
          observedGeneration: 4,
          desiredNumberScheduled: 3,
          currentNumberScheduled: 3,
          numberMisscheduled: 0,
          numberReady: 3,
          numberAvailable: 3,
          updatedNumberScheduled: 3,
        },
      },
    ];
    for (const d of daemonSets) expect(daemonSetReadiness(as<V1DaemonSet>(WORKLOAD_TRANSFORMS.DaemonSet(d)))).toEqual(daemonSetReadiness(as<V1DaemonSet>(d)));
    const ref = { apiVersion: 'batch/v1', kind: 'Job', name: 'nightly-1', namespace: 'shop', uid: 'uid-job', resourceVersion: '3' };
    const cronJobs: KubeObject[] = [
      {
        metadata: meta('nightly'),
        spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template } } },
        status: { lastScheduleTime: '2026-01-02T03:00:00Z', lastSuccessfulTime: '2026-01-01T03:05:00Z' },
      },
      {
        metadata: meta('nightly-active'),
        spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template } } },
        status: { lastScheduleTime: '2026-01-02T03:00:00Z', active: [ref] },
      },
      { metadata: meta('nightly-off'), spec: { schedule: '0 3 * * *', suspend: true, jobTemplate: { spec: { template } } } },
    ];
    for (const c of cronJobs) {
      expect(WORKLOAD_TRANSFORMS.CronJob(c).spec).toEqual((c.spec as { suspend?: boolean }).suspend ? { suspend: true } : {});
      expect(cronJobReadiness(as<V1CronJob>(WORKLOAD_TRANSFORMS.CronJob(c)))).toEqual(cronJobReadiness(as<V1CronJob>(c)));
    }
    for (const type of ['ClusterIP', 'ExternalName']) {
      const svc = { metadata: meta('cart'), spec: { type, selector: { app: 'cart' }, ports: [{ port: 80 }], externalName: 'cart.example' } } as KubeObject;
      expect(WORKLOAD_TRANSFORMS.Service(svc).spec).toEqual({ type });
      expect(serviceReadiness(as<V1Service>(WORKLOAD_TRANSFORMS.Service(svc)))).toEqual(serviceReadiness(as<V1Service>(svc)));
    }
  });

  it('keeps of a Job its controller and the conditions that say it finished, with the same CronJob readiness', () => {
    const owner = { apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: 'uid-nightly', controller: true, blockOwnerDeletion: true };
    const job = (name: string, created: string, conditions: ReturnType<typeof condition>[], completionTime?: string): KubeObject => ({
      metadata: {
        ...meta(name),
        creationTimestamp: created,
        labels: { 'batch.kubernetes.io/job-name': name, 'controller-uid': `uid-${name}` },
        annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': created },
        ownerReferences: [owner],
      },
      spec: { template },
      status: { startTime: created, conditions, ...(completionTime ? { completionTime } : {}) },
    });
    const jobs = [
      job(
        'nightly-1',
        '2026-01-01T03:00:00Z',
        [
          condition('SuccessCriteriaMet', 'True', 'CompletionsReached', '2026-01-01T03:04:00Z'),
          condition('Complete', 'True', 'CompletionsReached', '2026-01-01T03:05:00Z'),
        ],
        '2026-01-01T03:05:00Z',
      ),
      job('nightly-2', '2026-01-02T03:00:00Z', [
        condition('FailureTarget', 'True', 'BackoffLimitExceeded', '2026-01-02T03:09:00Z'),
        condition('Failed', 'True', 'BackoffLimitExceeded', '2026-01-02T03:10:00Z'),
      ]),
      job('nightly-3', '2026-01-03T03:00:00Z', [condition('Suspended', 'False', 'JobResumed')]),
    ];
    const kept = jobs.map((j) => JOB_TRANSFORM(j));
    expect(kept[1]).toEqual({
      metadata: {
        name: 'nightly-2',
        namespace: 'shop',
        resourceVersion: '9',
        creationTimestamp: '2026-01-02T03:00:00Z',
        ownerReferences: [{ kind: 'CronJob', name: 'nightly', uid: 'uid-nightly', controller: true }],
      },
      status: { conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: '2026-01-02T03:10:00Z' }] },
    });
    expect(kept.map((j) => byControllerUid(j))).toEqual(jobs.map((j) => byControllerUid(j)));
    const cron = as<V1CronJob>({ metadata: meta('nightly'), spec: { schedule: '0 3 * * *' } });
    for (const subset of [jobs.slice(0, 1), jobs.slice(0, 2), jobs, [jobs[2]!]]) {
      expect(
        cronJobReadiness(
          cron,
          subset.map((j) => as<V1Job>(JOB_TRANSFORM(j))),
        ),
      ).toEqual(
        cronJobReadiness(
          cron,
          subset.map((j) => as<V1Job>(j)),
        ),
      );
    }
  });
});
