/**
 * What deploy/admission-policy.yaml is tested with: one object of each workload kind Backlot
 * may patch, each with a change of its spec that whoever holds the operator's token might
 * want (another image, a Service that sends its traffic elsewhere), and the API server's
 * count of the policy's refusals.
 */
import type { KubeObject } from '../../src/k8s/object.ts';
import type { ResourceRef } from '../../src/k8s/resource.ts';
import { WORKLOAD_RESOURCES, type WorkloadKind } from '../../src/api/workloads.ts';

export interface WorkloadFixture {
  kind: WorkloadKind;
  resource: ResourceRef & { apiVersion: string };
  /** The whole object, for an administrator to create. */
  manifest: KubeObject;
  /** A server-side apply body's `spec` that changes what the workload runs or where it sends traffic. */
  hostileSpec: Record<string, unknown>;
}

const labels = { app: 'least-power' };
const podSpec = (image: string) => ({ containers: [{ name: 'app', image }] });

/** One Deployment, StatefulSet, DaemonSet, CronJob and Service named `least-power` in `namespace`. */
export function workloadFixtures(namespace: string): WorkloadFixture[] {
  const podTemplate = { metadata: { labels }, spec: podSpec('registry.example/app:1') };
  const specs: Record<WorkloadKind, { spec: Record<string, unknown>; hostile: Record<string, unknown> }> = {
    Deployment: { spec: { selector: { matchLabels: labels }, template: podTemplate }, hostile: { template: { spec: podSpec('registry.example/miner:1') } } },
    StatefulSet: {
      spec: { serviceName: 'least-power', selector: { matchLabels: labels }, template: podTemplate },
      hostile: { template: { spec: podSpec('registry.example/miner:1') } },
    },
    DaemonSet: { spec: { selector: { matchLabels: labels }, template: podTemplate }, hostile: { template: { spec: podSpec('registry.example/miner:1') } } },
    CronJob: {
      spec: { schedule: '0 * * * *', jobTemplate: { spec: { template: { spec: { ...podSpec('registry.example/app:1'), restartPolicy: 'Never' } } } } },
      hostile: { jobTemplate: { spec: { template: { spec: podSpec('registry.example/miner:1') } } } },
    },
    Service: { spec: { selector: labels, ports: [{ port: 80, protocol: 'TCP' }] }, hostile: { selector: { app: 'eavesdropper' } } },
  };
  return (Object.keys(specs) as WorkloadKind[]).map((kind) => {
    const resource = WORKLOAD_RESOURCES[kind];
    return {
      kind,
      resource,
      manifest: { apiVersion: resource.apiVersion, kind, metadata: { name: 'least-power', namespace, labels }, spec: specs[kind].spec },
      hostileSpec: specs[kind].hostile,
    };
  });
}

/**
 * Refusals by ValidatingAdmissionPolicy, by policy, from the API server's
 * apiserver_validating_admission_policy_check_total{enforcement_action="deny"}. The counter
 * counts only what a policy decided against (a refusal, or an error under failurePolicy Fail),
 * never what it admitted.
 */
export function policyDenials(metricsText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_validating_admission_policy_check_total{') || !line.includes('enforcement_action="deny"')) continue;
    const policy = /policy="([^"]*)"/.exec(line)?.[1] ?? '';
    out[policy] = (out[policy] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

/** Server-side applies to the workload kinds that the API server answered with 200, from apiserver_request_total. */
export function workloadApplies(metricsText: string): number {
  const resources = new Set(Object.values(WORKLOAD_RESOURCES).map((r) => `${r.group}/${r.resource}`));
  let total = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith('apiserver_request_total{') || !line.includes('verb="APPLY"') || !line.includes('code="200"') || !line.includes('subresource=""'))
      continue;
    const group = /[{,]group="([^"]*)"/.exec(line)?.[1] ?? '';
    const resource = /[{,]resource="([^"]*)"/.exec(line)?.[1] ?? '';
    if (resources.has(`${group}/${resource}`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
