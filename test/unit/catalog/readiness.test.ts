import { describe, expect, it } from '@jest/globals';
import type { V1CronJob, V1Deployment, V1Job } from '@kubernetes/client-node';
import { cronJobReadiness, daemonSetReadiness, deploymentReadiness, serviceReadiness, statefulSetReadiness } from '../../../src/catalog/readiness.ts';

const deployment = (spec: number | undefined, status: V1Deployment['status'], generation = 2): V1Deployment => ({
  metadata: { name: 'd', generation },
  spec: { ...(spec === undefined ? {} : { replicas: spec }), selector: {}, template: {} },
  status,
});
const full = { observedGeneration: 2, replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3 };

describe('deploymentReadiness', () => {
  it.each([
    ['all replicas ready', deployment(3, full), true, ''],
    ['one replica not ready', deployment(3, { ...full, readyReplicas: 2, availableReplicas: 2 }), false, '2/3 replicas ready, 2/3 replicas available'],
    ['rollout in progress', deployment(3, { ...full, updatedReplicas: 1 }), false, '1/3 replicas updated, 2 old replicas still running'],
    [
      // minReadySeconds: the last new replica is ready, not yet available; an old one still counts.
      'the last new replica not yet available, an old one still running',
      deployment(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 2 }),
      false,
      '1 old replica still running',
    ],
    [
      'fewer available than updated',
      deployment(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 2 }),
      false,
      '2/3 replicas available',
    ],
    ['status from an older generation', deployment(3, { ...full, observedGeneration: 1 }), false, 'its controller has not yet observed the latest spec'],
    ['no status at all', deployment(3, undefined), false, 'its controller has not yet observed the latest spec'],
    ['replicas default to 1', deployment(undefined, { observedGeneration: 2, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1 }), true, ''],
    ['scaled to zero', deployment(0, { observedGeneration: 2 }), true, ''],
    [
      'progress deadline exceeded',
      deployment(3, { ...full, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] }),
      false,
      'the rollout exceeded its progress deadline',
    ],
  ])('%s', (_name, d, ready, detail) => {
    expect(deploymentReadiness(d)).toMatchObject({ ready, detail });
  });

  it('reports replica counts for the status', () => {
    expect(deploymentReadiness(deployment(3, { ...full, readyReplicas: 1 }))).toMatchObject({ replicas: 3, readyReplicas: 1 });
  });
});

describe('statefulSetReadiness and daemonSetReadiness', () => {
  it.each([
    [{ observedGeneration: 1, replicas: 2, readyReplicas: 2, updatedReplicas: 2 }, true],
    [{ observedGeneration: 1, replicas: 2, readyReplicas: 1, updatedReplicas: 2 }, false],
    [{ observedGeneration: 1, replicas: 2, readyReplicas: 2, updatedReplicas: 1 }, false],
  ])('StatefulSet %j → %s', (status, ready) => {
    expect(statefulSetReadiness({ metadata: { generation: 1 }, spec: { replicas: 2, selector: {}, serviceName: 's', template: {} }, status }).ready).toBe(
      ready,
    );
  });

  it('counts only the ordinals at or above a partition as due for the update, as kubectl does', () => {
    const sts = (partition: number, updatedReplicas: number) =>
      statefulSetReadiness({
        metadata: { generation: 1 },
        spec: { replicas: 3, selector: {}, serviceName: 's', template: {}, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition } } },
        status: { observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas },
      });
    expect(sts(2, 1)).toMatchObject({ ready: true, detail: '' });
    expect(sts(2, 0)).toMatchObject({ ready: false, detail: '0/1 replicas updated (partition 2)' });
    expect(sts(5, 0).ready).toBe(true);
    expect(sts(0, 2)).toMatchObject({ ready: false, detail: '2/3 replicas updated' });
  });

  it.each([
    [
      {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        numberReady: 3,
        numberAvailable: 3,
        updatedNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberMisscheduled: 0,
      },
      true,
    ],
    [
      {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        numberReady: 2,
        numberAvailable: 2,
        updatedNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberMisscheduled: 0,
      },
      false,
    ],
    [
      {
        observedGeneration: 0,
        desiredNumberScheduled: 3,
        numberReady: 3,
        numberAvailable: 3,
        updatedNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberMisscheduled: 0,
      },
      false,
    ],
    // minReadySeconds: every pod ready, one not yet available.
    [
      {
        observedGeneration: 1,
        desiredNumberScheduled: 3,
        numberReady: 3,
        numberAvailable: 2,
        updatedNumberScheduled: 3,
        currentNumberScheduled: 3,
        numberMisscheduled: 0,
      },
      false,
    ],
    // A lost node is no longer desired; its pod there counts as misscheduled.
    [
      {
        observedGeneration: 1,
        desiredNumberScheduled: 2,
        numberReady: 2,
        numberAvailable: 2,
        updatedNumberScheduled: 2,
        currentNumberScheduled: 2,
        numberMisscheduled: 1,
      },
      true,
    ],
  ])('DaemonSet %j → %s', (status, ready) => {
    expect(daemonSetReadiness({ metadata: { generation: 1 }, status }).ready).toBe(ready);
  });
});

describe('cronJobReadiness', () => {
  const job = (type: 'Complete' | 'Failed', at: string): V1Job => ({
    metadata: { name: `j-${at}` },
    status: { conditions: [{ type, status: 'True', lastTransitionTime: new Date(at) }] },
  });
  const cron = (extra: Partial<V1CronJob['spec']> = {}, status: V1CronJob['status'] = {}): V1CronJob => ({
    metadata: { name: 'report' },
    spec: { schedule: '0 * * * *', jobTemplate: {}, ...extra },
    status,
  });

  it.each([
    ['never run', cron(), [], true, ''],
    ['suspended', cron({ suspend: true }), [], false, 'it is suspended'],
    ['last job failed', cron(), [job('Complete', '2026-11-21T09:00:00Z'), job('Failed', '2026-11-21T10:00:00Z')], false, 'its last run failed'],
    ['last job succeeded after a failure', cron(), [job('Failed', '2026-11-21T09:00:00Z'), job('Complete', '2026-11-21T10:00:00Z')], true, ''],
    [
      'no jobs, last schedule after last success',
      cron({}, { lastScheduleTime: new Date('2026-11-21T10:00:00Z'), lastSuccessfulTime: new Date('2026-11-21T09:00:00Z') }),
      [],
      false,
      'its last scheduled run did not succeed',
    ],
    ['no jobs, last schedule still running', cron({}, { lastScheduleTime: new Date('2026-11-21T10:00:00Z'), active: [{ name: 'j' }] }), [], true, ''],
    [
      'no jobs, succeeded',
      cron({}, { lastScheduleTime: new Date('2026-11-21T10:00:00Z'), lastSuccessfulTime: new Date('2026-11-21T10:01:00Z') }),
      [],
      true,
      '',
    ],
  ])('%s', (_name, c, jobs, ready, detail) => {
    expect(cronJobReadiness(c, jobs)).toEqual({ ready, detail });
  });
});

describe('serviceReadiness', () => {
  const slice = (...ready: (boolean | undefined)[]) => ({
    addressType: 'IPv4',
    endpoints: ready.map((r, i) => ({ addresses: [`10.0.0.${i}`], conditions: r === undefined ? {} : { ready: r } })),
  });
  it.each([
    ['ExternalName needs no endpoints', { type: 'ExternalName', externalName: 'db.example' }, [], { ready: true }],
    ['no slices', { selector: { app: 'x' } }, [], { ready: false, detail: 'it has no endpoints', replicas: 0 }],
    ['only unready endpoints', { selector: { app: 'x' } }, [slice(false, false)], { ready: false, detail: 'none of its endpoints is ready', replicas: 2 }],
    ['one ready endpoint across slices', { selector: { app: 'x' } }, [slice(false), slice(true, false)], { ready: true, replicas: 3, readyReplicas: 1 }],
    ['nil ready condition counts as ready', {}, [slice(undefined)], { ready: true, replicas: 1, readyReplicas: 1 }],
  ])('%s', (_name, spec, slices, expected) => {
    expect(serviceReadiness({ metadata: { name: 's' }, spec }, slices)).toMatchObject(expected);
  });
});
