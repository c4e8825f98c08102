/**
 * The realistic cluster: the bare control plane (etcd and kube-apiserver) with the real
 * kube-controller-manager and kube-scheduler of the same release beside it, and kwok playing
 * the kubelets of a few fake nodes over two zones. Workload status, EndpointSlices, Jobs,
 * garbage collection and namespace deletion all come from the real controllers; kwok moves
 * the pods the scheduler binds to its nodes through the Stages in kwok/stages.yaml (ready,
 * unready for an image ending in ":unready", complete or fail for a Job's pod, deleted).
 *
 * Every process runs under ManagedProcess: they stop with the cluster and die with the
 * process that started them.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { resolveClusterAssets, type ClusterAssetPaths } from './assets.ts';
import { ControlPlane, ControlPlaneError, type ControlPlaneOptions } from './controlplane.ts';
import type { KubectlResult } from './kubectl.ts';
import { freePort, probe } from './net.ts';
import { ManagedProcess } from './process.ts';
import { resolveTool } from './tools.ts';

/** The annotation kwok is told to manage nodes by (`--manage-nodes-with-annotation-selector`). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_SELECTOR = `${KWOK_NODE_ANNOTATION}=fake`;
/** The Stages kwok plays, kept in the repository. */
export const KWOK_STAGES = join(import.meta.dirname, 'kwok', 'stages.yaml');
/** An image whose name ends so runs but never turns ready (Stage pod-unready). */
export const UNREADY_IMAGE_SUFFIX = ':unready';
/** A Job's pod whose image ends so exits 1 (Stage pod-fail). */
export const FAILING_IMAGE_SUFFIX = ':fail';

/**
 * How long a node may go without renewing its Lease before the node lifecycle controller
 * calls it lost (the default is 50 s). kwok renews every quarter of the lease duration.
 */
const NODE_MONITOR_GRACE_SECONDS = 20;
const NODE_LEASE_DURATION_SECONDS = 10;

export interface FakeNode {
  name: string;
  zone: string;
}

/** Three nodes, two zones: enough for spreading, a DaemonSet on several nodes and a node lost. */
export const DEFAULT_NODES: readonly FakeNode[] = [
  { name: 'kwok-a-1', zone: 'zone-a' },
  { name: 'kwok-a-2', zone: 'zone-a' },
  { name: 'kwok-b-1', zone: 'zone-b' },
];

export interface ClusterOptions extends Omit<ControlPlaneOptions, 'assets'> {
  /** Binaries to run; resolved (and built if need be) when absent. */
  assets?: ClusterAssetPaths;
  /** The kwok binary; resolved (and built if need be) when absent. */
  kwok?: string;
  nodes?: readonly FakeNode[];
}

/** The Node object kwok will play: a worker in `zone`, never tainted, with room for any pod. */
export function fakeNode(node: FakeNode): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/worker': '',
        'topology.kubernetes.io/region': 'local',
        'topology.kubernetes.io/zone': node.zone,
        type: 'kwok',
      },
    },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
    },
  };
}

/** The default StorageClass, whose claims kwok's volume Stages provision and bind at once. */
export const KWOK_STORAGE_CLASS = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'kwok-volume', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'kwok.x-k8s.io/volume',
  reclaimPolicy: 'Delete',
  volumeBindingMode: 'Immediate',
};

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

export class Cluster {
  readonly plane: ControlPlane;
  readonly controllerManager: ManagedProcess;
  readonly scheduler: ManagedProcess;
  readonly kwok: ManagedProcess;
  readonly nodes: readonly FakeNode[];
  private readonly healthz: { controllerManager: string; scheduler: string };
  private stopped = false;

  private constructor(init: {
    plane: ControlPlane;
    assets: ClusterAssetPaths;
    kwok: string;
    nodes: readonly FakeNode[];
    kubeconfigs: { controllerManager: string; scheduler: string; kwok: string };
    ports: { controllerManager: number; scheduler: number };
  }) {
    const { plane, assets, kubeconfigs, ports } = init;
    this.plane = plane;
    this.nodes = init.nodes;
    this.healthz = {
      controllerManager: `https://127.0.0.1:${ports.controllerManager}/healthz`,
      scheduler: `https://127.0.0.1:${ports.scheduler}/healthz`,
    };
    const pki = plane.pkiDir;
    const served = (kubeconfig: string, port: number, certDir: string) => [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${certDir}`,
      '--leader-elect=false',
      '--v=1',
    ];
    const managed = (name: string, binary: string, args: string[], env?: NodeJS.ProcessEnv) =>
      new ManagedProcess({ name, binary, args, logPath: join(plane.dir, `${name}.log`), pidPath: join(plane.dir, `${name}.pid`), ...(env ? { env } : {}) });
    this.controllerManager = managed('kube-controller-manager', assets.kubeControllerManager, [
      ...served(kubeconfigs.controllerManager, ports.controllerManager, join(plane.dir, 'kube-controller-manager')),
      // Every controller that is on by default: workloads, Jobs and CronJobs, EndpointSlices,
      // namespaces, garbage collection, node lifecycle, service-account tokens, ...
      '--controllers=*',
      // Each controller acts as its own ServiceAccount, as kubeadm sets it up.
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-cert-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-key-file=${join(pki, 'ca.key')}`,
      `--node-monitor-grace-period=${NODE_MONITOR_GRACE_SECONDS}s`,
      '--node-monitor-period=2s',
    ]);
    this.scheduler = managed('kube-scheduler', assets.kubeScheduler, served(kubeconfigs.scheduler, ports.scheduler, join(plane.dir, 'kube-scheduler')));
    this.kwok = managed(
      'kwok',
      init.kwok,
      [
        `--kubeconfig=${kubeconfigs.kwok}`,
        `--config=${KWOK_STAGES}`,
        '--manage-all-nodes=false',
        `--manage-nodes-with-annotation-selector=${KWOK_NODE_SELECTOR}`,
        `--node-lease-duration-seconds=${NODE_LEASE_DURATION_SECONDS}`,
        // Pod IPs, for the EndpointSlices; apart from the Service range.
        '--cidr=10.244.0.1/16',
      ],
      // kwok reads ~/.kwok/kwok.yaml when it exists; its own directory keeps a user's out.
      { KWOK_WORKDIR: join(plane.dir, 'kwok') },
    );
  }

  /**
   * Starts the control plane, then kube-controller-manager, kube-scheduler and kwok, registers
   * the nodes, and waits until every node is Ready, both components answer /healthz and the
   * ServiceAccount controller has made `default` in the default namespace. On any failure
   * everything started so far is stopped and removed.
   */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const log = options.log ?? (() => undefined);
    const assets = options.assets ?? (await resolveClusterAssets({ log }));
    const kwok = options.kwok ?? (await resolveTool('kwok', { log }));
    const plane = await ControlPlane.start({ ...options, assets, log });
    let cluster: Cluster | undefined;
    try {
      const started = Date.now();
      const kubeconfigs = {
        controllerManager: await plane.writeClientKubeconfig('kube-controller-manager', plane.pki.controllerManager),
        scheduler: await plane.writeClientKubeconfig('kube-scheduler', plane.pki.scheduler),
        kwok: await plane.writeClientKubeconfig('kwok', plane.pki.kwok),
      };
      await mkdir(join(plane.dir, 'kwok'), { recursive: true });
      const ports = { controllerManager: await freePort(), scheduler: await freePort() };
      cluster = new Cluster({ plane, assets, kwok, nodes: options.nodes ?? DEFAULT_NODES, kubeconfigs, ports });
      await cluster.startComponents(options.startTimeoutMs ?? 60_000);
      log(`kube-controller-manager, kube-scheduler and kwok ready with ${cluster.nodes.length} nodes in ${Date.now() - started} ms`);
      return cluster;
    } catch (err) {
      if (cluster) await cluster.stop();
      else await plane.stop();
      throw err;
    }
  }

  get kubeconfigPath(): string {
    return this.plane.kubeconfigPath;
  }

  get dir(): string {
    return this.plane.dir;
  }

  /** Every process of the cluster, in start order. */
  get processes(): ManagedProcess[] {
    return [this.plane.etcd, this.plane.apiServer, this.controllerManager, this.scheduler, this.kwok];
  }

  kubectl(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return this.plane.kubectl(args, options);
  }

  private async startComponents(timeoutMs: number): Promise<void> {
    await Promise.all([this.controllerManager.start(), this.scheduler.start(), this.kwok.start()]);
    const objects = [...this.nodes.map(fakeNode), KWOK_STORAGE_CLASS];
    await this.kubectlOrThrow(['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    await this.waitFor('kube-controller-manager', timeoutMs, async () => (await probe(this.healthz.controllerManager, { insecure: true })).status === 200);
    await this.waitFor('kube-scheduler', timeoutMs, async () => (await probe(this.healthz.scheduler, { insecure: true })).status === 200);
    await this.waitFor('kwok', timeoutMs, async () => (await this.readyNodes()).length === this.nodes.length);
    // The ServiceAccount controller's first act: until it runs, no pod can be admitted.
    await this.waitFor('kube-controller-manager', timeoutMs, async () => (await this.get('/api/v1/namespaces/default/serviceaccounts/default')).status === 200);
  }

  private get(path: string) {
    const { pki } = this.plane;
    return probe(`${this.plane.apiServerUrl}${path}`, { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem });
  }

  /** The names of the nodes whose Ready condition is True. */
  async readyNodes(): Promise<string[]> {
    const res = await this.get('/api/v1/nodes');
    if (res.status !== 200) return [];
    const list = JSON.parse(res.body) as NodeList;
    return list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((n) => n.metadata.name);
  }

  private async waitFor(what: string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = '';
    while (Date.now() < deadline) {
      for (const proc of this.processes) {
        if (!proc.running)
          throw new ControlPlaneError(`${proc.name} exited while waiting for ${what}; the end of its log (${proc.logPath}):\n${await proc.logTail()}`);
      }
      try {
        if (await ready()) return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(200);
    }
    const proc = this.processes.find((p) => p.name === what);
    throw new ControlPlaneError(
      `${what} was not ready after ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}` +
        (proc ? `; the end of its log (${proc.logPath}):\n${await proc.logTail()}` : ''),
    );
  }

  /**
   * The node's kubelet is gone: its Lease is no longer renewed and its pods' status no longer
   * reported, and after NODE_MONITOR_GRACE_SECONDS the node lifecycle controller marks it
   * NotReady, its pods not ready, and taints it for eviction. kwok v0.8.0 lets go of a node only
   * when the Node is deleted (not when its annotation goes), so the Node is replaced by one of
   * the same name, labels and last posted status without the annotation, which kwok ignores.
   */
  async loseNode(name: string): Promise<void> {
    const node = JSON.parse(await this.kubectlOrThrow(['get', 'node', name, '-o', 'json'])) as {
      metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
      status?: unknown;
    };
    const annotations = Object.fromEntries(Object.entries(node.metadata.annotations ?? {}).filter(([key]) => key !== KWOK_NODE_ANNOTATION));
    const replacement = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: node.metadata.labels, annotations }, status: node.status };
    await this.kubectlOrThrow(['replace', '--force', '-f', '-'], JSON.stringify(replacement));
  }

  /** A lost node comes back: a fresh Node that kwok plays again, Ready within moments. */
  async restoreNode(name: string): Promise<void> {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`${name} is not one of this cluster's nodes`);
    await this.kubectlOrThrow(['replace', '--force', '-f', '-'], JSON.stringify(fakeNode(node)));
  }

  private async kubectlOrThrow(args: string[], input?: string): Promise<string> {
    const r = await this.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new ControlPlaneError(`kubectl ${args.join(' ')} (exit ${r.code}): ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Stops kwok and the two components, then the control plane. Idempotent. */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([this.kwok.stop(5_000), this.scheduler.stop(5_000), this.controllerManager.stop(5_000)]);
    await this.plane.stop(options);
  }
}
