/**
 * Reading deploy/ the way a cluster gets it: `kubectl kustomize`, then the objects by kind
 * and name; and turning the operator's Deployment into the argv, environment and user of a
 * process, so that tests run Backlot as the manifest says to.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../src/k8s/object.ts';

export const REPO_ROOT = join(import.meta.dirname, '../..');
export const DEPLOY_DIR = join(REPO_ROOT, 'deploy');
export const MONITORING_DIR = join(DEPLOY_DIR, 'monitoring');
/** The kustomize component that opens the plain catalog port for Backstage. */
export const BACKSTAGE_DIR = join(DEPLOY_DIR, 'backstage');

const run = promisify(execFile);

/** `kubectl kustomize DIR`, parsed. */
export async function kustomize(kubectl: string, dir: string): Promise<KubeObject[]> {
  const { stdout } = await run(kubectl, ['kustomize', dir], { maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => d.toJS() as KubeObject);
}

/**
 * `kubectl kustomize` of an overlay as a user's has it: `resources` and `components` (absolute
 * paths here, relative in the overlay, as kustomize takes only those) and the rest of `fields`.
 */
export async function kustomizeOverlay(
  kubectl: string,
  overlay: { resources: string[]; components?: string[]; fields?: Record<string, unknown> },
): Promise<KubeObject[]> {
  const dir = await mkdtemp(join(tmpdir(), 'backlot-overlay-'));
  try {
    const paths = (list: string[]) => list.map((p) => relative(dir, p));
    const components = overlay.components ? { components: paths(overlay.components) } : {};
    await writeFile(join(dir, 'kustomization.yaml'), stringify({ ...overlay.fields, resources: paths(overlay.resources), ...components }));
    return await kustomize(kubectl, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function find<T extends KubeObject = KubeObject>(objects: readonly KubeObject[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the kustomize output (found: ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')})`);
  return found as T;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string } };
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: SecurityContext;
}

export interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface TopologySpreadConstraint {
  topologyKey: string;
  maxSkew: number;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector: { matchLabels: Record<string, string> };
  matchLabelKeys?: string[];
  nodeTaintsPolicy?: 'Honor' | 'Ignore';
}

export interface DeploymentObject extends KubeObject {
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string> };
      spec: {
        serviceAccountName: string;
        securityContext?: SecurityContext;
        containers: Container[];
        terminationGracePeriodSeconds?: number;
        affinity?: Record<string, unknown>;
        topologySpreadConstraints?: TopologySpreadConstraint[];
        priorityClassName?: string;
      };
    };
  };
}

export interface PodProcess {
  /** The container's args with the bind addresses moved to the given loopback ports. */
  flags: string[];
  env: Record<string, string>;
  uid: number;
  gid: number;
}

/**
 * What the kubelet would run for one replica of `deployment`: its args (the listen addresses
 * moved to free loopback ports, as every replica here shares the host's network), its
 * environment with the downward API resolved, and its user.
 */
export function podProcess(
  deployment: DeploymentObject,
  pod: { namespace: string; name: string; metricsPort: number; probePort: number; catalogPort?: number },
): PodProcess {
  const spec = deployment.spec.template.spec;
  const container = spec.containers[0]!;
  const fields: Record<string, string> = { 'metadata.namespace': pod.namespace, 'metadata.name': pod.name };
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    const path = v.valueFrom?.fieldRef?.fieldPath;
    const value = path !== undefined ? fields[path] : v.value;
    if (value === undefined) throw new Error(`env ${v.name} of the Deployment comes from ${JSON.stringify(v.valueFrom)}, which this test cannot resolve`);
    env[v.name] = value;
  }
  const moved: Record<string, string> = {
    '--metrics-bind-address': `127.0.0.1:${pod.metricsPort}`,
    '--health-probe-bind-address': `127.0.0.1:${pod.probePort}`,
    ...(pod.catalogPort !== undefined ? { '--catalog-bind-address': `127.0.0.1:${pod.catalogPort}` } : {}),
  };
  const flags = (container.args ?? []).map((arg) => {
    const name = arg.split('=')[0]!;
    return name in moved ? `${name}=${moved[name]}` : arg;
  });
  const security = { ...spec.securityContext, ...container.securityContext };
  if (security.runAsUser === undefined || security.runAsGroup === undefined) throw new Error('the Deployment names no runAsUser/runAsGroup');
  return { flags, env, uid: security.runAsUser, gid: security.runAsGroup };
}

/**
 * The API server's refusals, from its own counters. Requests the authorizer refuses (RBAC
 * found no rule) are rejected in its filter chain, before apiserver_request_total counts
 * anything, so they are read from authorization_attempts_total (result "no-opinion" or
 * "denied"); a 403 decided later (admission, a terminating namespace) is in
 * apiserver_request_total{code="403"} by `VERB group/resource[/subresource]`.
 */
export function forbiddenRequests(metricsText: string): { total: number; byRequest: Record<string, number> } {
  const byRequest: Record<string, number> = {};
  let total = 0;
  const add = (key: string, value: number) => {
    if (!(value > 0)) return;
    byRequest[key] = (byRequest[key] ?? 0) + value;
    total += value;
  };
  for (const line of metricsText.split('\n')) {
    const labels = (): Record<string, string> => Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('authorization_attempts_total{') && !line.includes('result="allowed"')) {
      add(`refused by the authorizer (${labels().result})`, value);
    } else if (line.startsWith('apiserver_request_total{') && line.includes('code="403"')) {
      const l = labels();
      add(`${l.verb} ${l.group ? `${l.group}/` : ''}${l.resource}${l.subresource ? `/${l.subresource}` : ''}`, value);
    }
  }
  return { total, byRequest };
}

/** The fields of a ServiceMonitor endpoint that say how Prometheus scrapes it. */
export interface ServiceMonitorEndpoint {
  path?: string;
  scheme?: 'http' | 'https';
  honorLabels?: boolean;
  bearerTokenFile?: string;
  tlsConfig?: { insecureSkipVerify?: boolean; serverName?: string };
}
