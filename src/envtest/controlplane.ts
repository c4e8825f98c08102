/**
 * A real, throwaway Kubernetes control plane: etcd and kube-apiserver on free loopback
 * ports, as controller-runtime's envtest runs them. On this bare plane there is no kubelet
 * and no controller-manager; whoever needs a workload to look ready writes its status
 * subresource, or starts the realistic cluster (cluster.ts) instead. This module starts and
 * stops the processes; the certificates are pki.ts's, kubeconfigs and kubectl kubectl.ts's,
 * ports and health probes net.ts's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveAssets, type AssetPaths } from './assets.ts';
import { runKubectl, writeKubeconfig, type KubectlResult } from './kubectl.ts';
import { freePort, portInUse, probe } from './net.ts';
import { generatePki, writePki, type ControlPlanePki, type PemPair } from './pki.ts';
import { ManagedProcess } from './process.ts';

// Tests and scripts reach the plane's helpers through this module; their homes are kubectl.ts and net.ts.
export { runKubectl, type KubectlResult, type KubectlRun } from './kubectl.ts';
export { freePort, probe, type Probe } from './net.ts';

export class ControlPlaneError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ControlPlaneError';
  }
}

export interface ControlPlaneOptions {
  /** Binaries to run; resolved (and built if need be) when absent. */
  assets?: AssetPaths;
  /** Parent of the control plane's temporary directory; the OS temp dir by default. */
  baseDir?: string;
  /** Extra kube-apiserver flags, `--name=value`. */
  apiServerFlags?: string[];
  /** How long etcd and the API server each get to become ready. */
  startTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Fixed ports instead of free ones (a port in use fails with a message saying so). */
  ports?: { etcdClient?: number; etcdPeer?: number; apiServer?: number };
}

export class ControlPlane {
  readonly dir: string;
  readonly assets: AssetPaths;
  readonly kubeconfigPath: string;
  readonly etcd: ManagedProcess;
  readonly apiServer: ManagedProcess;
  readonly etcdUrl: string;
  readonly apiServerUrl: string;
  readonly pki: ControlPlanePki;
  private readonly startTimeoutMs: number;
  private readonly log: (line: string) => void;
  private stopped = false;

  private constructor(init: {
    dir: string;
    assets: AssetPaths;
    pki: ControlPlanePki;
    ports: { etcdClient: number; etcdPeer: number; apiServer: number };
    apiServerFlags: string[];
    startTimeoutMs: number;
    log: (line: string) => void;
  }) {
    const { dir, assets, ports } = init;
    this.dir = dir;
    this.assets = assets;
    this.pki = init.pki;
    this.startTimeoutMs = init.startTimeoutMs;
    this.log = init.log;
    this.kubeconfigPath = join(dir, 'kubeconfig');
    this.etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    this.apiServerUrl = `https://127.0.0.1:${ports.apiServer}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    this.etcd = new ManagedProcess({
      name: 'etcd',
      binary: assets.etcd,
      logPath: join(dir, 'etcd.log'),
      pidPath: join(dir, 'etcd.pid'),
      // etcd stops last, so its wrapper removes the directory if we die without stopping.
      cleanupDir: dir,
      args: [
        '--name=default',
        `--data-dir=${join(dir, 'etcd-data')}`,
        `--listen-client-urls=${this.etcdUrl}`,
        `--advertise-client-urls=${this.etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
    });
    const pkiDir = this.pkiDir;
    this.apiServer = new ManagedProcess({
      name: 'kube-apiserver',
      binary: assets.kubeApiserver,
      logPath: join(dir, 'kube-apiserver.log'),
      pidPath: join(dir, 'kube-apiserver.pid'),
      args: [
        `--etcd-servers=${this.etcdUrl}`,
        `--secure-port=${ports.apiServer}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--cert-dir=${pkiDir}`,
        `--tls-cert-file=${join(pkiDir, 'serving.crt')}`,
        `--tls-private-key-file=${join(pkiDir, 'serving.key')}`,
        `--client-ca-file=${join(pkiDir, 'ca.crt')}`,
        `--service-account-key-file=${join(pkiDir, 'sa.pub')}`,
        `--service-account-signing-key-file=${join(pkiDir, 'sa.key')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        '--api-audiences=https://kubernetes.default.svc.cluster.local',
        // Room for the benchmark's thousands of Services; 10.0.0.1 (in the serving cert) stays the API's.
        '--service-cluster-ip-range=10.0.0.0/16',
        '--authorization-mode=RBAC',
        '--allow-privileged=true',
        '--v=1',
        ...init.apiServerFlags,
      ],
    });
  }

  /**
   * Starts etcd and kube-apiserver and waits until the API server is ready and the `default`
   * namespace exists. On any failure everything started so far is stopped and removed.
   */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const log = options.log ?? (() => undefined);
    const assets = options.assets ?? (await resolveAssets({ log }));
    // A free port can be taken by another process between our probe and the binary's bind.
    // With ports of our own choosing, that race is retried on fresh ports.
    const attempts = options.ports ? 1 : 5;
    for (let attempt = 1; ; attempt++) {
      try {
        return await ControlPlane.startOnce(options, assets, log);
      } catch (err) {
        if (attempt >= attempts || !(err instanceof ControlPlaneError) || !err.message.includes('address already in use')) throw err;
        log(`a port was taken while starting (attempt ${attempt}); retrying on other ports`);
      }
    }
  }

  private static async startOnce(options: ControlPlaneOptions, assets: AssetPaths, log: (line: string) => void): Promise<ControlPlane> {
    const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), 'backlot-envtest-'));
    let plane: ControlPlane | undefined;
    try {
      const pki = await generatePki();
      await writePki(join(dir, 'pki'), pki);
      const ports = {
        etcdClient: options.ports?.etcdClient ?? (await freePort()),
        etcdPeer: options.ports?.etcdPeer ?? (await freePort()),
        apiServer: options.ports?.apiServer ?? (await freePort()),
      };
      for (const [what, port] of Object.entries(ports)) {
        if (await portInUse(port)) throw new ControlPlaneError(`port ${port} (${what}) on 127.0.0.1 is already in use`);
      }
      plane = new ControlPlane({
        dir,
        assets,
        pki,
        ports,
        apiServerFlags: options.apiServerFlags ?? [],
        startTimeoutMs: options.startTimeoutMs ?? 60_000,
        log,
      });
      await plane.writeKubeconfig(plane.kubeconfigPath, 'envtest-admin', plane.pki.admin);
      await plane.startEtcd();
      await plane.startApiServer();
      return plane;
    } catch (err) {
      if (plane) await plane.stop({ keepDir: false });
      else await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private get adminTls() {
    return { ca: this.pki.ca.certPem, cert: this.pki.admin.certPem, key: this.pki.admin.keyPem };
  }

  async startEtcd(): Promise<void> {
    const started = Date.now();
    await this.etcd.start();
    await this.waitFor(this.etcd, async () => {
      const res = await probe(`${this.etcdUrl}/health`);
      return res.status === 200 && res.body.includes('"health":"true"');
    });
    this.log(`etcd ready on ${this.etcdUrl} in ${Date.now() - started} ms`);
  }

  /** Starts (or restarts) the API server against the running etcd, on the same port. */
  async startApiServer(): Promise<void> {
    const started = Date.now();
    await this.apiServer.start();
    await this.waitFor(this.apiServer, async () => {
      const ready = await probe(`${this.apiServerUrl}/readyz`, this.adminTls);
      if (ready.status !== 200) return false;
      const ns = await probe(`${this.apiServerUrl}/api/v1/namespaces/default`, this.adminTls);
      return ns.status === 200;
    });
    this.log(`kube-apiserver ready on ${this.apiServerUrl} in ${Date.now() - started} ms`);
  }

  private async waitFor(proc: ManagedProcess, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.startTimeoutMs;
    let lastError = '';
    while (Date.now() < deadline) {
      if (!proc.running) {
        throw new ControlPlaneError(
          `${proc.name} exited before it was ready (binary ${proc === this.etcd ? this.assets.etcd : this.assets.kubeApiserver}); the end of its log (${proc.logPath}):\n${await proc.logTail()}`,
        );
      }
      try {
        if (await ready()) return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(100);
    }
    throw new ControlPlaneError(
      `${proc.name} was not ready after ${this.startTimeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}; the end of its log (${proc.logPath}):\n${await proc.logTail()}`,
    );
  }

  /** Every process of the plane, in start order. */
  get processes(): ManagedProcess[] {
    return [this.etcd, this.apiServer];
  }

  /** The directory holding ca.crt, ca.key, serving.*, sa.key and sa.pub. */
  get pkiDir(): string {
    return join(this.dir, 'pki');
  }

  private writeKubeconfig(path: string, user: string, pair: PemPair): Promise<void> {
    return writeKubeconfig(path, { server: this.apiServerUrl, caPem: this.pki.ca.certPem }, user, pair);
  }

  /** Writes `<dir>/<name>.kubeconfig` for a client certificate of this plane's CA; returns its path. */
  async writeClientKubeconfig(name: string, pair: PemPair): Promise<string> {
    const path = join(this.dir, `${name}.kubeconfig`);
    await this.writeKubeconfig(path, name, pair);
    return path;
  }

  /** Runs the matching kubectl against this control plane. Never throws on a non-zero exit. */
  kubectl(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return runKubectl({ binary: this.assets.kubectl, kubeconfig: this.kubeconfigPath, args, ...options });
  }

  /** Stops the API server first, then etcd, and removes the temporary directory. Idempotent. */
  async stop(options: { keepDir?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.apiServer.stop();
    await this.etcd.stop();
    if (!options.keepDir) await rm(this.dir, { recursive: true, force: true });
  }
}
