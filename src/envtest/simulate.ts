/**
 * Standing in for the controllers the bare control plane lacks: with no kubelet and no
 * controller-manager, nothing writes workload status or EndpointSlices. Tests and the
 * benchmark that run on the bare plane call these to make a workload look ready or not, the
 * way the real controllers would report it. (The realistic cluster, src/envtest/cluster.ts,
 * runs the real controllers; the demo runs there and writes no status.)
 */
import type { KubeObject } from '../k8s/object.ts';
import { objectPath, type ResourceRef } from '../k8s/resource.ts';
import type { RestClient } from '../k8s/rest.ts';
import { setTimeout as sleep } from 'node:timers/promises';

const RESOURCES = {
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true },
} as const satisfies Record<string, ResourceRef>;

export type ReplicatedKind = keyof typeof RESOURCES;

export interface WorkloadId {
  namespace: string;
  name: string;
}

async function patchStatus(client: RestClient, resource: ResourceRef, id: WorkloadId, status: (obj: KubeObject) => Record<string, unknown>): Promise<void> {
  const path = objectPath(resource, id.name, id.namespace);
  const obj = await client.request<KubeObject & { spec?: { replicas?: number } }>({ path });
  await client.request({ method: 'PATCH', path: `${path}/status`, contentType: 'application/merge-patch+json', body: { status: status(obj) } });
}

/**
 * Reports `ready` of the workload's replicas ready (all of them when omitted), for the
 * current generation, as its controller would.
 */
export async function setReplicasReady(client: RestClient, kind: ReplicatedKind, id: WorkloadId, ready?: number): Promise<void> {
  await patchStatus(client, RESOURCES[kind], id, (obj) => {
    const generation = obj.metadata?.generation ?? 1;
    const want = kind === 'DaemonSet' ? 1 : ((obj.spec as { replicas?: number } | undefined)?.replicas ?? 1);
    const n = Math.min(ready ?? want, want);
    if (kind === 'DaemonSet') {
      return {
        observedGeneration: generation,
        desiredNumberScheduled: want,
        currentNumberScheduled: want,
        updatedNumberScheduled: want,
        numberReady: n,
        numberAvailable: n,
        numberMisscheduled: 0,
      };
    }
    const base = { observedGeneration: generation, replicas: want, readyReplicas: n, updatedReplicas: want };
    return kind === 'Deployment' ? { ...base, availableReplicas: n } : { ...base, availableReplicas: n, currentReplicas: want };
  });
}

/**
 * Changes only the ready counts of a workload whose status is already reported (by
 * setReplicasReady): one write, as a controller's status update after a pod turns ready or not.
 */
export async function changeReadyCount(client: RestClient, kind: ReplicatedKind, id: WorkloadId, ready: number): Promise<void> {
  const status = kind === 'DaemonSet' ? { numberReady: ready, numberAvailable: ready } : { readyReplicas: ready, availableReplicas: ready };
  await client.request({
    method: 'PATCH',
    path: `${objectPath(RESOURCES[kind], id.name, id.namespace)}/status`,
    contentType: 'application/merge-patch+json',
    body: { status },
  });
}

const ENDPOINT_SLICES: ResourceRef = { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true };

/** Gives a Service one EndpointSlice with `count` endpoints, `ready` of them ready. */
export async function setServiceEndpoints(client: RestClient, id: WorkloadId, count: number, ready: number): Promise<void> {
  const name = `${id.name}-backlot-sim`;
  const body = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: id.namespace,
      labels: { 'kubernetes.io/service-name': id.name, 'endpointslice.kubernetes.io/managed-by': 'backlot-simulator' },
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: count }, (_, i) => ({ addresses: [`10.1.${i >> 8}.${(i & 255) + 1}`], conditions: { ready: i < ready } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
  await client.request({
    method: 'PATCH',
    path: objectPath(ENDPOINT_SLICES, name, id.namespace),
    query: { fieldManager: 'backlot-simulator', force: true },
    contentType: 'application/apply-patch+yaml',
    body,
  });
}

/** Marks every Deployment, StatefulSet and DaemonSet of a namespace ready, and gives every Service a ready endpoint. */
export async function makeNamespaceReady(client: RestClient, namespace: string): Promise<number> {
  let count = 0;
  for (const kind of Object.keys(RESOURCES) as ReplicatedKind[]) {
    const list = await client.request<{ items: KubeObject[] }>({ path: `/apis/apps/v1/namespaces/${namespace}/${RESOURCES[kind].resource}` });
    for (const item of list.items) {
      await setReplicasReady(client, kind, { namespace, name: item.metadata?.name ?? '' });
      count++;
    }
  }
  const services = await client.request<{ items: (KubeObject & { spec?: { type?: string } })[] }>({ path: `/api/v1/namespaces/${namespace}/services` });
  for (const svc of services.items) {
    if (svc.spec?.type === 'ExternalName') continue;
    await setServiceEndpoints(client, { namespace, name: svc.metadata?.name ?? '' }, 1, 1);
    count++;
  }
  return count;
}

/**
 * A Deployment's generation moves when its annotations change (they are copied to its
 * ReplicaSets), so Backlot's own ownership annotations make a Deployment look unobserved
 * until its controller catches up, which a real one does at once. This stands in for that
 * part of the controller: it keeps status.observedGeneration of the Deployments in the given
 * namespaces equal to their generation, leaving the replica counts as they were reported.
 */
export class GenerationFollower {
  private readonly client: RestClient;
  private readonly namespaces: readonly string[];
  private active = false;
  private running: Promise<void> = Promise.resolve();

  constructor(client: RestClient, namespaces: readonly string[]) {
    this.client = client;
    this.namespaces = namespaces;
  }

  /** One pass; returns how many Deployments it caught up. */
  async sync(): Promise<number> {
    let caughtUp = 0;
    for (const namespace of this.namespaces) {
      const list = await this.client.request<{ items: (KubeObject & { status?: { observedGeneration?: number } })[] }>({
        path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
      });
      for (const d of list.items) {
        const generation = d.metadata?.generation;
        const observed = d.status?.observedGeneration;
        // Only Deployments whose status was reported once (by a test or the demo) are followed.
        if (generation === undefined || observed === undefined || observed >= generation) continue;
        await this.client.request({
          method: 'PATCH',
          path: `${objectPath(RESOURCES.Deployment, d.metadata?.name ?? '', namespace)}/status`,
          contentType: 'application/merge-patch+json',
          body: { status: { observedGeneration: generation } },
        });
        caughtUp++;
      }
    }
    return caughtUp;
  }

  start(intervalMs = 250): void {
    if (this.active) return;
    this.active = true;
    this.running = (async () => {
      while (this.active) {
        // A failed pass (the API server restarting, say) is simply tried again next time.
        await this.sync().catch(() => undefined);
        await sleep(intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.active = false;
    await this.running;
  }
}
