/**
 * Whether a workload is ready, read from the status its controller writes. Every rule first
 * requires the controller to have observed the current spec (status.observedGeneration ≥
 * metadata.generation): a status written for an older spec says nothing about the new one.
 *
 * - Deployment: updatedReplicas, availableReplicas and readyReplicas all reach spec.replicas
 *   (default 1), no replica of an older ReplicaSet is left (status.replicas ≤ updatedReplicas),
 *   as many replicas are available as are updated, and the rollout has not passed its progress
 *   deadline. Until the old replicas are gone the rollout is not over: with minReadySeconds,
 *   availableReplicas still counts an old replica while the last new one proves itself.
 * - StatefulSet: readyReplicas reach spec.replicas (default 1), and updatedReplicas reach the
 *   replicas at or above a RollingUpdate's partition (spec.replicas − partition): the ordinals
 *   below the partition keep the old revision because the spec says so, as in a canary, and
 *   `kubectl rollout status` calls such a rollout complete too.
 * - DaemonSet: numberAvailable (ready for minReadySeconds) and updatedNumberScheduled reach
 *   desiredNumberScheduled. A node tainted unreachable is no longer desired, so a lost node
 *   does not make a DaemonSet unready; its pod there counts as misscheduled.
 * - CronJob: not suspended, and its most recent finished Job did not fail. Without Jobs to
 *   look at, a run scheduled after the last success and no longer active counts as failed.
 *   A CronJob that has never run is ready: nothing has failed.
 * - Service: an ExternalName Service is ready (it points outside the cluster; nothing here can
 *   tell). Any other Service, with or without a selector, is ready when its EndpointSlices
 *   hold at least one ready endpoint; replicas/readyReplicas count its endpoints.
 * A workload scaled to zero is ready: it has everything it asks for.
 *
 * For Deployments, StatefulSets and DaemonSets these are the rules of `kubectl rollout status`
 * (plus readyReplicas for the Deployment, which availability implies), checked against it on
 * the real controllers by test/integration/readiness-oracle.test.ts. One difference is
 * deliberate: kubectl declines to judge a StatefulSet or DaemonSet whose updateStrategy is
 * OnDelete ("rollout status is only available for RollingUpdate"); Backlot judges it as any
 * other, ready once every replica is ready and updated, because an entity's health cannot be
 * left undecided by the way its workload rolls out.
 */
import type { V1CronJob, V1DaemonSet, V1Deployment, V1EndpointSlice, V1Job, V1Service, V1StatefulSet } from '@kubernetes/client-node';

export interface Readiness {
  ready: boolean;
  replicas?: number;
  readyReplicas?: number;
  /** Why not ready, for condition messages; empty when ready. */
  detail: string;
}

interface Generational {
  metadata?: { generation?: number };
  status?: { observedGeneration?: number };
}

function observed(obj: Generational): boolean {
  const generation = obj.metadata?.generation;
  const seen = obj.status?.observedGeneration;
  return generation === undefined || (seen !== undefined && seen >= generation);
}

const NOT_OBSERVED = 'its controller has not yet observed the latest spec';

function replicaReadiness(want: number, readyCount: number, extra: [boolean, string][]): Readiness {
  const failing = extra.filter(([ok]) => !ok).map(([, why]) => why);
  if (readyCount < want) failing.unshift(`${readyCount}/${want} replicas ready`);
  return { ready: failing.length === 0, replicas: want, readyReplicas: readyCount, detail: failing.join(', ') };
}

export function deploymentReadiness(d: V1Deployment): Readiness {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const readyCount = s.readyReplicas ?? 0;
  if (!observed(d)) return { ready: false, replicas: want, readyReplicas: readyCount, detail: NOT_OBSERVED };
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const old = (s.replicas ?? 0) - updated;
  return replicaReadiness(want, readyCount, [
    [updated >= want, `${updated}/${want} replicas updated`],
    [old <= 0, `${old} old ${old === 1 ? 'replica' : 'replicas'} still running`],
    [available >= Math.max(want, updated), `${available}/${Math.max(want, updated)} replicas available`],
    [!(progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded'), 'the rollout exceeded its progress deadline'],
  ]);
}

export function statefulSetReadiness(s: V1StatefulSet): Readiness {
  const want = s.spec?.replicas ?? 1;
  const readyCount = s.status?.readyReplicas ?? 0;
  if (!observed(s)) return { ready: false, replicas: want, readyReplicas: readyCount, detail: NOT_OBSERVED };
  const strategy = s.spec?.updateStrategy;
  const partition = strategy?.type === 'OnDelete' ? 0 : (strategy?.rollingUpdate?.partition ?? 0);
  const wantUpdated = Math.max(0, want - partition);
  const updated = s.status?.updatedReplicas ?? 0;
  const held = partition > 0 ? ` (partition ${partition})` : '';
  return replicaReadiness(want, readyCount, [[updated >= wantUpdated, `${updated}/${wantUpdated} replicas updated${held}`]]);
}

export function daemonSetReadiness(d: V1DaemonSet): Readiness {
  const want = d.status?.desiredNumberScheduled ?? 0;
  const readyCount = d.status?.numberReady ?? 0;
  if (!observed(d)) return { ready: false, replicas: want, readyReplicas: readyCount, detail: NOT_OBSERVED };
  const available = d.status?.numberAvailable ?? 0;
  return replicaReadiness(want, readyCount, [
    [(d.status?.updatedNumberScheduled ?? 0) >= want, `${d.status?.updatedNumberScheduled ?? 0}/${want} pods updated`],
    [available >= want, `${available}/${want} pods available`],
  ]);
}

function time(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? undefined : t;
}

function jobFinished(job: V1Job): { failed: boolean; at: number } | undefined {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== 'True') continue;
    if (c.type === 'Failed') return { failed: true, at: time(c.lastTransitionTime) ?? time(job.metadata?.creationTimestamp) ?? 0 };
    if (c.type === 'Complete') return { failed: false, at: time(c.lastTransitionTime) ?? time(job.status?.completionTime) ?? 0 };
  }
  return undefined;
}

/** `jobs` are the Jobs this CronJob controls (by controller ownerReference). */
export function cronJobReadiness(c: V1CronJob, jobs: readonly V1Job[] = []): Readiness {
  if (c.spec?.suspend) return { ready: false, detail: 'it is suspended' };
  const finished = jobs.map(jobFinished).filter((f): f is { failed: boolean; at: number } => f !== undefined);
  if (finished.length > 0) {
    const last = finished.reduce((a, b) => (b.at > a.at ? b : a));
    return last.failed ? { ready: false, detail: 'its last run failed' } : { ready: true, detail: '' };
  }
  const scheduled = time(c.status?.lastScheduleTime);
  const succeeded = time(c.status?.lastSuccessfulTime);
  const active = (c.status?.active ?? []).length > 0;
  if (scheduled !== undefined && !active && (succeeded === undefined || succeeded < scheduled)) {
    return { ready: false, detail: 'its last scheduled run did not succeed' };
  }
  return { ready: true, detail: '' };
}

/** `slices` are the EndpointSlices labelled kubernetes.io/service-name=<service>. */
export function serviceReadiness(svc: V1Service, slices: readonly V1EndpointSlice[] = []): Readiness {
  if (svc.spec?.type === 'ExternalName') return { ready: true, detail: '' };
  let total = 0;
  let readyCount = 0;
  for (const slice of slices) {
    for (const ep of slice.endpoints ?? []) {
      total++;
      // EndpointSlice semantics: a nil ready condition means ready.
      if (ep.conditions?.ready !== false) readyCount++;
    }
  }
  if (readyCount > 0) return { ready: true, replicas: total, readyReplicas: readyCount, detail: '' };
  return { ready: false, replicas: total, readyReplicas: 0, detail: total === 0 ? 'it has no endpoints' : 'none of its endpoints is ready' };
}
