/**
 * The operator's Deployment, as installed (by kustomize or Helm), run the way the kubelet would
 * run its replicas without a container engine: each a sandboxed host process
 * (deploy-sandbox.ts) with the container's args and environment (podProcess), as its user,
 * with only what a pod has to reach the API server: the ServiceAccount's token (minted with
 * the TokenRequest API) and CA at /var/run/secrets/kubernetes.io/serviceaccount and
 * KUBERNETES_SERVICE_HOST/PORT. So the operator authenticates as its ServiceAccount through
 * its in-cluster configuration and works under exactly the RBAC and admission policy installed.
 * Its /metrics is read as Prometheus reads it: over HTTPS with a token bound to the metrics
 * reader role, unless the Deployment turns secure metrics off.
 */
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { freePort, type ControlPlane } from '../../src/envtest/controlplane.ts';
import { httpsGet } from '../../src/envtest/https-get.ts';
import { GenerationFollower, makeNamespaceReady } from '../../src/envtest/simulate.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { podProcess, REPO_ROOT, type DeploymentObject } from './deploy.ts';
import { SandboxedProcess } from './deploy-sandbox.ts';
import { eventually } from './eventually.ts';
import type { StagedImage } from './pod-image.ts';
import { mintToken } from './tenant.ts';

export interface Replica {
  name: string;
  process: SandboxedProcess;
  /** https://127.0.0.1:PORT/metrics, or http:// where the Deployment passes --metrics-secure=false. */
  metricsUrl: string;
  probeUrl: string;
  /** http://127.0.0.1:PORT, the plain catalog port, where the Deployment opens one (--catalog-bind-address). */
  catalogUrl: string | undefined;
  /** The bearer token replicaMetrics sends to the secure port. */
  metricsToken: string | undefined;
}

/** A client that authenticates with a ServiceAccount's token, as a pod of that account would. */
export async function serviceAccountClient(admin: RestClient, adminConfig: KubeConfig, namespace: string, name: string): Promise<RestClient> {
  const cluster = adminConfig.getCurrentCluster();
  if (!cluster) throw new Error('the admin kubeconfig has no cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name, token: await mintToken(admin, namespace, name) }],
    contexts: [{ name, cluster: cluster.name, user: name }],
    currentContext: name,
  });
  return new RestClient(kc);
}

export interface StartReplicasOptions {
  plane: ControlPlane;
  /** Mints the ServiceAccount's token. */
  admin: RestClient;
  deployment: DeploymentObject;
  /** The namespace the Deployment is installed in: its pods' downward API and token. */
  namespace: string;
  /** One pod name per replica. */
  names: readonly string[];
  /** Where the replicas' logs go. */
  work: string;
  /** What the replicas run: the image's files and Node, staged where their UID can read them (stageImage). */
  image: StagedImage;
  /** A token whose identity may get /metrics (bound to the metrics reader ClusterRole), for the secure port. */
  metricsToken?: string;
}

/**
 * Whether a replica with these flags serves /metrics over HTTPS: as `backlot run` decides,
 * true in a pod (KUBERNETES_SERVICE_HOST set, as here) unless --metrics-secure=false.
 */
function metricsSecure(flags: readonly string[]): boolean {
  const flag = flags.findLast((f) => f === '--metrics-secure' || f.startsWith('--metrics-secure='));
  return flag === undefined || !/^--metrics-secure=(false|0)$/.test(flag);
}

/** Starts one replica per name and waits until each answers /readyz. */
export async function startReplicas(options: StartReplicasOptions): Promise<Replica[]> {
  const { plane, deployment, namespace } = options;
  const apiPort = new URL(plane.apiServerUrl).port;
  const replicas: Replica[] = [];
  for (const name of options.names) {
    const catalogPort = deployment.spec.template.spec.containers[0]!.args?.some((a) => a.startsWith('--catalog-bind-address=')) ? await freePort() : undefined;
    const ports = { metricsPort: await freePort(), probePort: await freePort(), catalogPort };
    const pod = podProcess(deployment, { namespace, name, ...ports });
    const proc = await SandboxedProcess.start({
      // The image's entry point, as the container runs it.
      argv: [options.image.backlot, 'run', ...pod.flags],
      // What the kubelet puts in a container's environment, and nothing else: no kubeconfig.
      env: {
        ...pod.env,
        HOSTNAME: name,
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: apiPort,
        PATH: options.image.path,
        NODE_ENV: 'production',
      },
      uid: pod.uid,
      gid: pod.gid,
      serviceAccount: {
        token: await mintToken(options.admin, namespace, deployment.spec.template.spec.serviceAccountName),
        caCrt: plane.pki.ca.certPem,
        namespace,
      },
      logPath: join(options.work, `${name}.log`),
    });
    const scheme = metricsSecure(pod.flags) ? 'https' : 'http';
    replicas.push({
      name,
      process: proc,
      metricsUrl: `${scheme}://127.0.0.1:${ports.metricsPort}/metrics`,
      probeUrl: `http://127.0.0.1:${ports.probePort}`,
      catalogUrl: catalogPort !== undefined ? `http://127.0.0.1:${catalogPort}` : undefined,
      metricsToken: options.metricsToken,
    });
  }
  for (const r of replicas) await r.process.waitFor(`${r.probeUrl}/readyz`);
  return replicas;
}

/** A replica's /metrics; over HTTPS with its metrics token. Throws unless the answer is 200. */
export async function replicaMetrics(replica: Replica): Promise<string> {
  const { metricsUrl: url } = replica;
  const answer = url.startsWith('https:')
    ? await httpsGet(url, { token: replica.metricsToken })
    : await fetch(url).then(async (r) => ({ status: r.status, body: await r.text() }));
  if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status} ${answer.body}`);
  return answer.body;
}

/** The replicas that report holding the Lease (backlot_leader 1). */
export async function leadingReplicas(replicas: readonly Replica[]): Promise<Replica[]> {
  const states = await Promise.all(replicas.map(async (r) => /^backlot_leader 1$/m.test(await replicaMetrics(r))));
  return replicas.filter((_, i) => states[i]);
}

export interface CatalogEntity {
  metadata: { name: string; namespace: string; generation: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[]; workloads?: unknown[] };
}

/** Waits until every entity of the catalog has a status, with Ready, for its generation; returns them. */
export async function catalogConverged(plane: ControlPlane, timeoutMs = 90_000): Promise<CatalogEntity[]> {
  return eventually(
    'every example entity to have a status for its generation',
    async () => {
      const r = await plane.kubectl(['get', 'catalog', '-A', '-o', 'json']);
      if (r.code !== 0) return undefined;
      const list = JSON.parse(r.stdout) as { items: CatalogEntity[] };
      return list.items.length > 0 &&
        list.items.every((e) => e.status?.observedGeneration === e.metadata.generation && e.status.conditions?.some((c) => c.type === 'Ready'))
        ? list.items
        : undefined;
    },
    timeoutMs,
  );
}

/**
 * Applies examples/ on a plane of the test's own and plays the workload controllers a bare
 * control plane lacks: the examples' workloads become ready and follow their generations.
 * Stop the returned follower when done.
 */
export async function applyExamples(plane: ControlPlane, admin: RestClient): Promise<GenerationFollower> {
  for (const args of [
    ['apply', '-f', join(REPO_ROOT, 'examples/00-namespaces.yaml')],
    ['apply', '-R', '-f', join(REPO_ROOT, 'examples')],
  ]) {
    const r = await plane.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} (exit ${r.code}): ${r.stderr}`);
  }
  await makeNamespaceReady(admin, 'shop');
  await makeNamespaceReady(admin, 'platform');
  const follower = new GenerationFollower(admin, ['shop', 'platform']);
  follower.start();
  return follower;
}
