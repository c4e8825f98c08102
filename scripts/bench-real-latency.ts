/**
 * The benchmark's latency phase on the realistic cluster (src/envtest/cluster.ts): the real
 * kube-controller-manager and kube-scheduler beside kube-apiserver and etcd, and kwok's fake
 * nodes playing each pod's lifecycle (src/envtest/kwok/stages.yaml). Nothing here writes a
 * workload status: the controllers do.
 *
 * A user changes one Deployment at a time, each change on a Deployment of its own and each
 * left to finish before the next: a scale (as `kubectl scale`), a new image (as `kubectl set
 * image`: a rolling update), an image kwok keeps unready (a rollout that stalls) and, once the
 * catalog shows that, the rollback to the good image. Each change has three moments, all seen
 * through watches by this process:
 *   t0  the user's write is sent;
 *   t1  the Deployment's status shows the controllers have finished reacting to it;
 *   t2  the owning Component's status shows what the change led to.
 * t1 − t0 is the controllers' share (with the API server's, and the watch's way to a watcher),
 * t2 − t1 is Backlot's (its watch, queue, reconcile, status write and that write's way back).
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { API_VERSION } from '../src/api/common.ts';
import type { Condition, WorkloadStatus } from '../src/api/status.ts';
import { deploymentReadiness, type Readiness } from '../src/catalog/readiness.ts';
import { Cluster, UNREADY_IMAGE_SUFFIX, type FakeNode } from '../src/envtest/cluster.ts';
import { BacklotProcess } from '../src/envtest/operator-process.ts';
import type { KubeObject } from '../src/k8s/object.ts';
import { collectionPath, NAMESPACES, objectPath, type ResourceRef } from '../src/k8s/resource.ts';
import { RestClient } from '../src/k8s/rest.ts';
import { Informer } from '../src/runtime/informer.ts';
import { keepPaths } from '../src/runtime/transform.ts';
import { percentile, pool, sleep } from './bench-util.ts';

/** Where this phase's figures come from, named in the log, the table and the JSON. */
export const REALISTIC_PLANE = 'realistic cluster: kube-apiserver and etcd, the real kube-controller-manager and kube-scheduler, kwok fake nodes';

export interface RealLatencyOptions {
  /** Claimed Deployments (two per Component); replicas alternate between 2 and 3. */
  deployments: number;
  /** Changes of each kind. */
  changesPerKind: number;
  /** How the operator runs: extra flags and environment, as the rest of the benchmark starts it. */
  operator: { args: readonly string[]; env?: NodeJS.ProcessEnv };
  log: (s: string) => void;
}

export const CHANGE_KINDS = ['scale', 'image', 'unready', 'rollback'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** What each kind of change is, for the table. */
const CHANGE_LABEL: Record<ChangeKind, string> = {
  scale: 'replicas 2 <-> 3 (kubectl scale)',
  image: 'new image, rolling update',
  unready: 'image kwok keeps unready',
  rollback: 'rollback to the good image',
};

export interface Spread {
  p50: number;
  p99: number;
}

export interface ChangeFigures {
  /** Changes whose t1 and t2 were both seen. */
  changes: number;
  /** Changes whose t1 or t2 was not seen within the timeout. */
  unobserved: number;
  /** t2 − t0: the write to the Component's status showing the outcome. */
  totalMs: Spread;
  /** t1 − t0: the controllers' share. */
  controllersMs: Spread;
  /** t2 − t1: Backlot's share. */
  backlotMs: Spread;
  /** How long the user's write took to be answered. */
  writeMs: Spread;
  /** For the image changes: t0 until the Component first showed the Deployment not ready (the rollout under way). */
  shownInProgressMs?: Spread;
}

export interface RealLatencyResult {
  plane: string;
  world: { namespaces: number; components: number; deployments: number; services: number; pods: number; nodes: number };
  /** From the operator's start until every Component showed every workload ready (not a convergence figure: the controllers keep writing meanwhile). */
  settledSeconds: number;
  /** Pause between one change's end and the next change. */
  gapMs: number;
  byKind: Record<ChangeKind, ChangeFigures>;
  overall: ChangeFigures;
  /** CPU seconds each process used over the changes, and the host's steal. */
  cpu: Record<string, number>;
  /** The same over REST_MS of the settled cluster with nothing asked of it. */
  cpuAtRest: Record<string, number>;
  restSeconds: number;
}

const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true };
const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true };
const catalog = (plural: string): ResourceRef => ({ group: 'catalog.backlot.dev', version: 'v1alpha1', resource: plural, namespaced: true });
const COMPONENTS = catalog('components');
const GROUPS = catalog('groups');

const GOOD_IMAGE = 'registry.example/app:1';
const NEW_IMAGE = 'registry.example/app:2';
const UNREADY_IMAGE = `registry.example/app${UNREADY_IMAGE_SUFFIX}`;
const NAMESPACE_COUNT = 4;
/** Pods per fake node (fakeNode gives each room for 110): room left for the rollouts' surge. */
const PODS_PER_NODE = 100;
/** How long one change may take before it counts as unobserved. */
const CHANGE_TIMEOUT_MS = 60_000;
/** Quiet time after each change, so that its aftermath (EndpointSlices, dependents) does not overlap the next. */
const GAP_MS = 1_000;
const CONCURRENCY = 16;
/** The settled cluster is left alone this long before the changes (and its CPU read meanwhile). */
const REST_MS = 5_000;

const spread = (values: readonly number[]): Spread => ({ p50: percentile(values, 50), p99: percentile(values, 99) });

interface WorldDeployment {
  namespace: string;
  name: string;
  /** `namespace/name` of the Component that claims it. */
  component: string;
  replicas: number;
}

interface RealWorld {
  namespaces: string[];
  objects: { resource: ResourceRef; namespace?: string; body: KubeObject }[];
  deployments: WorldDeployment[];
  /** Each Component's `namespace/name`, in order, with the number of workloads it claims. */
  components: { key: string; workloads: number }[];
  services: number;
  pods: number;
}

/**
 * The world: Components in a few namespaces, each claiming two Deployments (replicas 2 and 3
 * in turn) by the Backstage label, every other one a Service too, each owned by its
 * namespace's Group and depending on the Component created one round before it.
 */
function generate(deployments: number): RealWorld {
  const components = Math.max(1, Math.ceil(deployments / 2));
  const ns = (i: number) => `real-${i % NAMESPACE_COUNT}`;
  const namespaces = Array.from({ length: Math.min(NAMESPACE_COUNT, components) }, (_, i) => ns(i));
  const objects: RealWorld['objects'] = [];
  for (const namespace of namespaces) {
    objects.push({ resource: NAMESPACES, body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } });
    objects.push({
      resource: GROUPS,
      namespace,
      body: { apiVersion: API_VERSION, kind: 'Group', metadata: { name: 'team', namespace }, spec: { type: 'team' } },
    });
  }
  const world: RealWorld = { namespaces, objects, deployments: [], components: [], services: 0, pods: 0 };
  let made = 0;
  for (let c = 0; c < components; c++) {
    const namespace = ns(c);
    const name = `svc-${c}`;
    const previous = c >= NAMESPACE_COUNT ? `component:${namespace}/svc-${c - NAMESPACE_COUNT}` : undefined;
    objects.push({
      resource: COMPONENTS,
      namespace,
      body: {
        apiVersion: API_VERSION,
        kind: 'Component',
        metadata: { name, namespace },
        spec: { type: 'service', lifecycle: 'production', owner: 'team', ...(previous ? { dependsOn: [previous] } : {}) },
      },
    });
    let claimed = 0;
    for (let k = 0; k < 2 && made < deployments; k++, made++, claimed++) {
      const dname = `${name}-${k}`;
      const replicas = (c + k) % 2 === 0 ? 2 : 3;
      objects.push({
        resource: DEPLOYMENTS,
        namespace,
        body: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: dname, namespace, labels: { 'backstage.io/kubernetes-id': name, app: dname } },
          spec: {
            replicas,
            selector: { matchLabels: { app: dname } },
            template: { metadata: { labels: { app: dname } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: GOOD_IMAGE }] } },
          },
        },
      });
      world.deployments.push({ namespace, name: dname, component: `${namespace}/${name}`, replicas });
      world.pods += replicas;
    }
    if (c % 2 === 0) {
      objects.push({
        resource: SERVICES,
        namespace,
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name, namespace, labels: { 'backstage.io/kubernetes-id': name } },
          spec: { selector: { app: `${name}-0` }, ports: [{ port: 80 }] },
        },
      });
      world.services++;
      claimed++;
    }
    world.components.push({ key: `${namespace}/${name}`, workloads: claimed });
  }
  return world;
}

/** Enough fake nodes for the world's pods and a rollout's surge, over two zones. */
function nodesFor(pods: number): FakeNode[] {
  const count = Math.max(3, Math.ceil((pods * 1.2) / PODS_PER_NODE));
  return Array.from({ length: count }, (_, i) => {
    const zone = i % 2 === 0 ? 'a' : 'b';
    return { name: `kwok-${zone}-${Math.floor(i / 2) + 1}`, zone: `zone-${zone}` };
  });
}

export type DeploymentObject = KubeObject & { spec?: { replicas?: number; template?: { spec?: { containers?: { name: string; image?: string }[] } } } };
type DeploymentStatus = { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number; availableReplicas?: number };
export type ComponentObject = KubeObject & {
  status?: { observedGeneration?: number; readyWorkloads?: number; totalWorkloads?: number; workloads?: WorkloadStatus[]; conditions?: Condition[] };
};

const readiness = (d: DeploymentObject): Readiness => deploymentReadiness(d as unknown as V1Deployment);
const imageOf = (d: DeploymentObject) => d.spec?.template?.spec?.containers?.[0]?.image;

const deploymentTrace = (d: DeploymentObject) => {
  const s = (d as { status?: DeploymentStatus }).status ?? {};
  return `Deployment generation ${d.metadata?.generation} observed ${s.observedGeneration}, replicas ${s.replicas} updated ${s.updatedReplicas} ready ${s.readyReplicas} available ${s.availableReplicas}`;
};

/**
 * The controllers have finished a rollout: the Deployment controller observed the current
 * spec and every count is the one it asks for (a scale-down is not over while the surplus
 * pod is still counted, though `kubectl rollout status` and Backlot call it ready).
 */
function settled(d: DeploymentObject): boolean {
  const s = (d as { status?: DeploymentStatus }).status ?? {};
  const want = d.spec?.replicas ?? 1;
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  return observed && readiness(d).ready && [s.replicas, s.updatedReplicas, s.readyReplicas, s.availableReplicas].every((n) => (n ?? 0) === want);
}

/**
 * One user change and its three moments, fed every watch event of its Deployment and of the
 * Component that claims it (with the time each arrived) until both moments are seen.
 */
export class TimedChange {
  readonly kind: ChangeKind;
  readonly deployment: { namespace: string; name: string; replicas: number };
  /** The write's target replicas (scale) or image (the others). */
  readonly to: number | string;
  readonly t0: number;
  writeMs?: number;
  t1?: number;
  t2?: number;
  /** The Component first showed the Deployment not ready (the rollout under way). */
  shownInProgress?: number;
  /** The details Backlot's rule gives the Deployment's stalled state from t1 on (unready image). */
  readonly stalledDetails = new Set<string>();
  /** Every event of the change's Deployment and Component until t2, for a closer look (ms after t0). */
  readonly trace: string[] = [];

  constructor(kind: ChangeKind, deployment: { namespace: string; name: string; replicas: number }, to: number | string, t0: number) {
    this.kind = kind;
    this.deployment = deployment;
    this.to = to;
    this.t0 = t0;
  }

  get seen(): boolean {
    return this.t1 !== undefined && this.t2 !== undefined;
  }

  onDeployment(d: DeploymentObject, at: number): void {
    if (this.t2 !== undefined) return;
    this.trace.push(`${at - this.t0} ${deploymentTrace(d)}`);
    if (this.t1 === undefined && this.controllersDone(d)) this.t1 = at;
    if (this.t1 !== undefined && this.kind === 'unready') this.stalledDetails.add(readiness(d).detail);
  }

  onComponent(c: ComponentObject, at: number): void {
    if (this.t2 !== undefined) return;
    const entry = c.status?.workloads?.find((w) => w.kind === 'Deployment' && w.name === this.deployment.name);
    this.trace.push(`${at - this.t0} Component ${entry ? `${entry.ready ? 'ready' : 'not ready'} ${entry.readyReplicas}/${entry.replicas}` : 'without it'}`);
    if (entry && !entry.ready && this.shownInProgress === undefined) this.shownInProgress = at;
    if (entry && this.componentShows(entry, c)) this.t2 = at;
  }

  /** The Deployment's status shows the controllers have finished reacting to the change. */
  private controllersDone(d: DeploymentObject): boolean {
    switch (this.kind) {
      case 'scale':
        return settled(d) && d.spec?.replicas === this.to;
      case 'image':
      case 'rollback':
        return settled(d) && imageOf(d) === this.to;
      case 'unready': {
        // The rollout has stalled: the controller observed the new template, the new
        // ReplicaSet's pod exists (counted in updatedReplicas) and never turns ready, the old
        // pods stay.
        const s = (d as { status?: DeploymentStatus }).status ?? {};
        const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
        return observed && imageOf(d) === this.to && (s.updatedReplicas ?? 0) >= 1 && !readiness(d).ready;
      }
    }
  }

  /** The Component's status shows the outcome of the change. */
  private componentShows(entry: WorkloadStatus, c: ComponentObject): boolean {
    switch (this.kind) {
      case 'scale':
        return entry.ready && entry.replicas === this.to && entry.readyReplicas === this.to;
      case 'image':
      case 'rollback':
        // An image change is ready before and after: its outcome is the return to ready once
        // the rollout was shown under way (a rollback starts from the stalled rollout, not ready).
        return entry.ready && entry.readyReplicas === this.deployment.replicas && (this.kind === 'rollback' || this.shownInProgress !== undefined);
      case 'unready': {
        const message = c.status?.conditions?.find((x) => x.type === 'WorkloadsReady')?.message ?? '';
        return !entry.ready && [...this.stalledDetails].some((detail) => message.includes(`Deployment ${this.deployment.name} (${detail})`));
      }
    }
  }
}

async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

async function cpuSnapshot(pids: Record<string, number | undefined>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = await cpuSeconds(pid);
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!.trim().split(/\s+/);
  out.steal = Number(cpu[8] ?? 0) / 100;
  return out;
}

function cpuSince(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(after).map((k) => [k, Math.round((after[k]! - (before[k] ?? 0)) * 100) / 100]));
}

const cpuText = (use: Record<string, number>) =>
  Object.entries(use)
    .map(([k, v]) => `${k} ${v} s`)
    .join(', ');

const CAUGHT_UP = 'caught up: every object reconciled';

/** Waits for the operator's log line that ends its first pass. */
async function caughtUp(operator: BacklotProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!operator.logs().includes(CAUGHT_UP)) {
    if (!operator.running) throw new Error(`backlot run exited before catching up; its log:\n${operator.logs().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`backlot run did not catch up within ${timeoutMs} ms; see ${operator.logPath}`);
    await sleep(100);
  }
}

/** Checks `done` against the informers' caches (no request) until it holds. */
async function until(what: string, timeoutMs: number, done: () => string | true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = done();
    if (state === true) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s (${state})`);
    await sleep(100);
  }
}

function figures(changes: readonly TimedChange[]): ChangeFigures {
  const seen = changes.filter((c) => c.seen);
  const inProgress = changes.flatMap((c) => (c.kind === 'image' && c.shownInProgress !== undefined ? [c.shownInProgress - c.t0] : []));
  return {
    changes: seen.length,
    unobserved: changes.length - seen.length,
    totalMs: spread(seen.map((c) => c.t2! - c.t0)),
    controllersMs: spread(seen.map((c) => c.t1! - c.t0)),
    backlotMs: spread(seen.map((c) => c.t2! - c.t1!)),
    writeMs: spread(changes.flatMap((c) => (c.writeMs !== undefined ? [c.writeMs] : []))),
    ...(inProgress.length > 0 ? { shownInProgressMs: spread(inProgress) } : {}),
  };
}

const fmt = (s: Spread) => `${s.p50} / ${s.p99} ms`;

export async function runRealLatency(options: RealLatencyOptions): Promise<RealLatencyResult> {
  const { log } = options;
  for (const [flag, n] of [
    ['--real-deployments', options.deployments],
    ['--real-changes', options.changesPerKind],
  ] as const) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number of 1 or more, not ${n}`);
  }
  const world = generate(options.deployments);
  const perKind = options.changesPerKind;
  // Each change of the first three kinds has a Component of its own; the rollback reuses the unready change's Deployment.
  if (world.components.length < 3 * perKind)
    throw new Error(
      `${options.deployments} Deployments make ${world.components.length} Components: too few for ${perKind} changes of each kind on Components of their own`,
    );
  const nodes = nodesFor(world.pods);
  log(`=== latency on the ${REALISTIC_PLANE}`);
  log(
    `world: ${world.components.length} Components claiming ${world.deployments.length} Deployments (${world.pods} pods) and ${world.services} Services in ${world.namespaces.length} namespaces, on ${nodes.length} kwok nodes`,
  );
  const workDir = await mkdtemp(join(tmpdir(), 'backlot-bench-real-'));
  const started = Date.now();
  const cluster = await Cluster.start({ nodes });
  log(`realistic cluster ready in ${(Date.now() - started) / 1000} s (files in ${cluster.dir})`);
  let operator: BacklotProcess | undefined;
  const logger = pino({ level: 'silent' });
  const informers: Informer<KubeObject>[] = [];
  let keepDir = false;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const client = new RestClient(kc);
    const crds = await cluster.kubectl(['apply', '-f', join(import.meta.dirname, '../crds')]);
    if (crds.code !== 0) throw new Error(`kubectl apply crds: ${crds.stderr}`);
    await cluster.kubectl(['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);

    const deployments = new Informer<DeploymentObject>({
      client,
      logger,
      resource: DEPLOYMENTS,
      transform: keepPaths(['spec.replicas', 'spec.template.spec.containers', 'status']),
    });
    const components = new Informer<ComponentObject>({ client, logger, resource: COMPONENTS, transform: keepPaths(['status']) });
    informers.push(deployments, components);
    deployments.start();
    components.start();
    await Promise.all([deployments.whenSynced(), components.whenSynced()]);

    const t = Date.now();
    // Namespaces first (in order), then the rest.
    const [first, rest] = [world.objects.filter((o) => o.resource === NAMESPACES), world.objects.filter((o) => o.resource !== NAMESPACES)];
    for (const o of first) await client.request({ method: 'POST', path: collectionPath(o.resource), body: o.body });
    await pool(rest, CONCURRENCY, (o) => client.request({ method: 'POST', path: collectionPath(o.resource, o.namespace), body: o.body }));
    const notReady = () => {
      const pending = world.deployments.filter((w) => {
        const d = deployments.cache.get(`${w.namespace}/${w.name}`);
        return !d || !readiness(d).ready;
      });
      return pending.length === 0 ? true : `${pending.length} Deployments not ready, e.g. ${pending[0]!.namespace}/${pending[0]!.name}`;
    };
    await until('the world to roll out', 15 * 60_000, notReady);
    log(`created the world and the controllers rolled it out in ${(Date.now() - t) / 1000} s`);

    const operatorStarted = Date.now();
    operator = await BacklotProcess.start({
      kubeconfig: cluster.kubeconfigPath,
      logPath: join(workDir, 'backlot.log'),
      extraArgs: ['--leader-elect=false', '--log-level=info', ...options.operator.args],
      env: { NODE_COMPILE_CACHE: join(workDir, 'node-compile-cache'), ...options.operator.env },
      built: true,
    });
    await caughtUp(operator, 10 * 60_000);
    log(`backlot run caught up in ${(Date.now() - operatorStarted) / 1000} s`);
    // Backlot's ownership annotations moved every claimed Deployment's generation: the world is
    // settled once the Deployment controller has observed them all and every Component shows
    // every workload ready for its current generation.
    await until('the world to settle', 10 * 60_000, () => {
      const d = notReady();
      if (d !== true) return d;
      for (const { key, workloads } of world.components) {
        const c = components.cache.get(key);
        const s = c?.status;
        if (!s || s.observedGeneration !== c.metadata?.generation || s.totalWorkloads !== workloads || s.readyWorkloads !== workloads)
          return `Component ${key}: ${JSON.stringify({ ready: s?.readyWorkloads, total: s?.totalWorkloads })}`;
      }
      return true;
    });
    const settledMs = Date.now() - operatorStarted;
    log(`every Component shows every workload ready ${settledMs / 1000} s after the operator started`);
    const pids = {
      apiserver: cluster.plane.apiServer.pid,
      etcd: cluster.plane.etcd.pid,
      'kube-controller-manager': cluster.controllerManager.pid,
      'kube-scheduler': cluster.scheduler.pid,
      kwok: cluster.kwok.pid,
      operator: operator.pid,
    };
    // The cluster at rest: what its processes use with nothing asked of them (kwok's leases, the
    // controllers' own loops) is load every change below shares the machine with.
    const restBefore = await cpuSnapshot(pids);
    await sleep(REST_MS);
    const atRest = cpuSince(restBefore, await cpuSnapshot(pids));
    log(`CPU over ${REST_MS / 1000} s at rest: ${cpuText(atRest)}`);

    // The changes, watched.
    const byDeployment = new Map<string, TimedChange>();
    const byComponent = new Map<string, TimedChange>();
    deployments.addEventHandler({ onUpdate: (_old, d) => byDeployment.get(`${d.metadata?.namespace}/${d.metadata?.name}`)?.onDeployment(d, Date.now()) });
    components.addEventHandler({ onUpdate: (_old, c) => byComponent.get(`${c.metadata?.namespace}/${c.metadata?.name}`)?.onComponent(c, Date.now()) });

    const write = (change: TimedChange): Promise<unknown> => {
      const { namespace, name } = change.deployment;
      const path = objectPath(DEPLOYMENTS, name, namespace);
      if (change.kind === 'scale')
        return client.request({ method: 'PATCH', path: `${path}/scale`, contentType: 'application/merge-patch+json', body: { spec: { replicas: change.to } } });
      return client.request({
        method: 'PATCH',
        path,
        contentType: 'application/strategic-merge-patch+json',
        body: { spec: { template: { spec: { containers: [{ name: 'app', image: change.to }] } } } },
      });
    };
    const changes: TimedChange[] = [];
    const run = async (kind: ChangeKind, deployment: WorldDeployment, to: number | string): Promise<TimedChange> => {
      const key = `${deployment.namespace}/${deployment.name}`;
      const change = new TimedChange(kind, deployment, to, Date.now());
      byDeployment.set(key, change);
      byComponent.set(deployment.component, change);
      await write(change);
      change.writeMs = Date.now() - change.t0;
      const deadline = change.t0 + CHANGE_TIMEOUT_MS;
      while (!change.seen && Date.now() < deadline) await sleep(10);
      byDeployment.delete(key);
      byComponent.delete(deployment.component);
      changes.push(change);
      if (!change.seen)
        log(`  ${kind} of ${key}: not seen within ${CHANGE_TIMEOUT_MS / 1000} s (t1 ${change.t1 === undefined ? 'unseen' : `${change.t1 - change.t0} ms`})`);
      await sleep(GAP_MS);
      return change;
    };

    // One Component per change, spread over the namespaces; of its two Deployments the one with
    // 2 replicas or the one with 3, in turn, so that half the scales go up and half go down.
    const targets = world.components.slice(0, 3 * perKind).map((c, j) => {
      const own = world.deployments.filter((d) => d.component === c.key);
      const replicas = (Math.floor(j / 3) + (j % 3)) % 2 === 0 ? 2 : 3;
      return own.find((d) => d.replicas === replicas) ?? own[0]!;
    });
    const cpuBefore = await cpuSnapshot(pids);
    const changesStarted = Date.now();
    for (let i = 0; i < perKind; i++) {
      const scaled = targets[3 * i]!;
      await run('scale', scaled, scaled.replicas === 2 ? 3 : 2);
      await run('image', targets[3 * i + 1]!, NEW_IMAGE);
      const failing = targets[3 * i + 2]!;
      const failed = await run('unready', failing, UNREADY_IMAGE);
      if (failed.t2 !== undefined) await run('rollback', failing, GOOD_IMAGE);
    }
    const cpu = cpuSince(cpuBefore, await cpuSnapshot(pids));
    await writeFile(
      join(workDir, 'real-latency-changes.json'),
      JSON.stringify(
        changes.map((c) => ({ ...c, stalledDetails: [...c.stalledDetails] })),
        null,
        1,
      ),
    );

    const byKind = Object.fromEntries(CHANGE_KINDS.map((k) => [k, figures(changes.filter((c) => c.kind === k))])) as Record<ChangeKind, ChangeFigures>;
    const overall = figures(changes);
    log(`${changes.length} changes in ${(Date.now() - changesStarted) / 1000} s, one at a time, ${GAP_MS} ms apart; CPU over them: ${cpuText(cpu)}`);
    for (const kind of CHANGE_KINDS) {
      const f = byKind[kind];
      log(
        `real latency, ${CHANGE_LABEL[kind]}: ${f.changes} seen, ${f.unobserved} unobserved; total p50/p99 ${fmt(f.totalMs)}, controllers ${fmt(f.controllersMs)}, Backlot ${fmt(f.backlotMs)}; the write answered in ${fmt(f.writeMs)}` +
          (f.shownInProgressMs ? `; the rollout shown under way after ${fmt(f.shownInProgressMs)}` : ''),
      );
    }
    log(
      `real latency, every change: total p50/p99 ${fmt(overall.totalMs)}, controllers ${fmt(overall.controllersMs)}, Backlot ${fmt(overall.backlotMs)} (each change: ${join(workDir, 'real-latency-changes.json')}; operator log ${operator.logPath})`,
    );
    return {
      plane: REALISTIC_PLANE,
      world: {
        namespaces: world.namespaces.length,
        components: world.components.length,
        deployments: world.deployments.length,
        services: world.services,
        pods: world.pods,
        nodes: nodes.length,
      },
      settledSeconds: settledMs / 1000,
      gapMs: GAP_MS,
      byKind,
      overall,
      cpu,
      cpuAtRest: atRest,
      restSeconds: REST_MS / 1000,
    };
  } catch (err) {
    keepDir = true;
    log(`the realistic cluster's files are kept in ${cluster.dir}; the operator's log is in ${workDir}`);
    throw err;
  } finally {
    for (const informer of informers) await informer.stop();
    await operator?.stop();
    await cluster.stop({ keepDir });
  }
}

/** The phase's own small table. */
export function realLatencyTable(r: RealLatencyResult): string {
  const w = r.world;
  const out = [
    `Latency on the ${r.plane}`,
    `(${w.deployments} Deployments with ${w.pods} pods, ${w.services} Services, ${w.components} Components in ${w.namespaces} namespaces, ${w.nodes} nodes; one change at a time)`,
    '',
    `${'change'.padEnd(34)} ${'n'.padEnd(4)} ${'total p50 / p99'.padEnd(20)} ${'controllers p50 / p99'.padEnd(22)} Backlot p50 / p99`,
  ];
  const row = (label: string, f: ChangeFigures) =>
    out.push(
      `${label.padEnd(34)} ${String(f.changes).padEnd(4)} ${fmt(f.totalMs).padEnd(20)} ${fmt(f.controllersMs).padEnd(22)} ${fmt(f.backlotMs)}${f.unobserved > 0 ? `  (${f.unobserved} unobserved)` : ''}`,
    );
  for (const kind of CHANGE_KINDS) row(CHANGE_LABEL[kind], r.byKind[kind]);
  row('every change', r.overall);
  return out.join('\n');
}
