/**
 * `npm run bench`: Backlot against a real local control plane, at scale, beside the cost of
 * doing the same writes directly. The method is written down in docs/benchmarks.md; every
 * write count comes from the API server's own request counters.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { API_VERSION } from '../src/api/common.ts';
import { WORKLOAD_KINDS, WORKLOAD_RESOURCES, type WorkloadKind } from '../src/api/workloads.ts';
import { decideStatus } from '../src/catalog/entity-status.ts';
import { ControlPlane } from '../src/envtest/controlplane.ts';
import { BacklotProcess } from '../src/envtest/operator-process.ts';
import { changeReadyCount, setReplicasReady, setServiceEndpoints } from '../src/envtest/simulate.ts';
import { FIELD_VALIDATION, METADATA_ONLY } from '../src/k8s/apply.ts';
import type { KubeObject } from '../src/k8s/object.ts';
import { collectionPath, ENDPOINT_SLICES, type ResourceRef } from '../src/k8s/resource.ts';
import { RestClient } from '../src/k8s/rest.ts';
import { gatherEntityFacts } from '../src/reconcilers/facts.ts';
import { entityIndexers, jobIndexers, sliceIndexers } from '../src/reconcilers/indexes.ts';
import { EntityParser } from '../src/reconcilers/entities.ts';
import { World as CatalogWorld } from '../src/reconcilers/world.ts';
import { ENTITY_KINDS, entityResource, type EntityKind, type EntityObject } from '../src/api/kinds.ts';
import { Informer } from '../src/runtime/informer.ts';
import { Store } from '../src/runtime/store.ts';
import { keepPaths } from '../src/runtime/transform.ts';
import { mutatingRequests } from '../test/support/apiserver-writes.ts';
import { peerTable, resolvePeer, runPeer, type PeerResult } from './bench-peer.ts';
import { realLatencyTable, runRealLatency, type RealLatencyResult } from './bench-real-latency.ts';
import { median, percentile, pool, sleep } from './bench-util.ts';

const HELP = `Usage: npm run bench [-- --workloads N --components N --systems N --groups N --namespaces N --sizes 1000,5000 --repeat N --workers N --node-options '...' --profile DIR --heap-snapshot DIR --apiserver-profile DIR --shared-baseline --no-peer --real-latency-only --no-real-latency --real-deployments N --real-changes N --json]

Starts a local control plane, creates a catalog world with high client concurrency, and
measures Backlot on it: cold convergence against a direct-write baseline, write
amplification, restart cost, event and orphan latency under churn, and memory. Then the
scaling curve (convergence, restart, memory) at the smaller --sizes.

Defaults: 10000 workloads in 100 namespaces, 2000 Components, 200 Systems, 50 Groups;
--sizes 1000,5000 (add 20000 for the long curve). --repeat N runs the default-size measurement
N times, each on a control plane and world of its own, and reports each figure as the median
of the N runs (ratios are taken per run, then their median), with every run's figures beside
it in the JSON (runs); the machine's variance from one run to the next is larger than most
changes worth measuring, so compare medians of 3 or more. --workers is passed to backlot run. --node-options adds Node.js options to the operator's (NODE_OPTIONS), to try V8 settings;
--profile DIR writes a V8 CPU profile of each operator process into DIR (--cpu-prof), to open in
Chrome DevTools. --heap-snapshot DIR writes a heap snapshot of the operator at steady state.
--apiserver-profile DIR writes Go CPU profiles of the API server over the first 12 s of the
baseline, 24 s of cold convergence and 15 s of the churn (go tool pprof -top FILE).
The baseline runs on a control plane and world of its own, created like Backlot's;
--shared-baseline runs it on Backlot's plane first instead (the method until 2026-12-02), where
Backlot's writes then land on objects the baseline already wrote under another field manager.
The operator runs from the build, dist/backlot.mjs (the script builds it first), as the image does.
After Backlot's restarts at each size, kube-state-metrics (built once from its Go module into
the binary cache, or TEST_ASSET_KUBE_STATE_METRICS) is started as many times on the same plane,
watching the same built-in resources, and timed to its first complete scrape (scripts/bench-peer.ts);
--no-peer leaves it out.

Those phases run on a bare plane (etcd and kube-apiserver; the benchmark writes workload
status itself). A last phase runs on the realistic cluster (the real kube-controller-manager
and kube-scheduler, kwok nodes; scripts/bench-real-latency.ts): --real-deployments claimed
Deployments (default 300, replicas 2-3), and --real-changes changes of each kind (default 20:
scale, new image, an image kwok keeps unready, its rollback), one at a time, each timed from
the user's write to the Deployment's status (the controllers' share) to the Component's status
(Backlot's). --real-latency-only runs only that phase; --no-real-latency skips it.
`;

interface Sizes {
  workloads: number;
  components: number;
  systems: number;
  groups: number;
  namespaces: number;
}

const CONCURRENCY = 48;
/** Where every figure but the realistic-cluster latency phase's comes from. */
const BARE_PLANE = 'bare plane: etcd and kube-apiserver, workload status written by the benchmark';
/** How long a converged operator is left alone before its steady-state memory is read. */
const STEADY_STATE_MS = 15_000;
/** Restarts on the converged world; the restart figures are their medians. */
const RESTARTS = 5;
const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;

const seconds = (ms: number) => Math.round(ms) / 1000;

/** The generated world: names, and what Backlot should end up writing. */
interface World {
  namespaces: string[];
  entities: KubeObject[];
  workloads: { kind: 'Deployment' | 'Service'; namespace: string; name: string; component?: string; body: KubeObject }[];
  /** For each claimed workload, the ownership Backlot will write. */
  ownership: Map<string, { labels: Record<string, string>; annotations: Record<string, string> }>;
}

const DEPLOYMENTS: ResourceRef = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true };
const SERVICES: ResourceRef = { group: '', version: 'v1', resource: 'services', namespaced: true };
const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };
const catalogResource = (plural: string): ResourceRef => ({ group: 'catalog.backlot.dev', version: 'v1alpha1', resource: plural, namespaced: true });
const PLURAL: Record<string, string> = { Component: 'components', System: 'systems', Group: 'groups', Resource: 'resources', API: 'apis', Domain: 'domains' };

function generate(sizes: Sizes): World {
  const ns = (i: number) => `bench-${String(i % sizes.namespaces).padStart(3, '0')}`;
  const namespaces = Array.from({ length: sizes.namespaces }, (_, i) => ns(i));
  const entities: KubeObject[] = [];
  const entity = (kind: string, namespace: string, name: string, spec: Record<string, unknown>) =>
    entities.push({ apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec });
  for (let g = 0; g < sizes.groups; g++) entity('Group', ns(g), `team-${g}`, { type: 'team' });
  const groupRef = (i: number) => `group:${ns(i % sizes.groups)}/team-${i % sizes.groups}`;
  for (let s = 0; s < sizes.systems; s++) entity('System', ns(s), `system-${s}`, { owner: groupRef(s) });
  const workloads: World['workloads'] = [];
  const ownership: World['ownership'] = new Map();
  // Each component claims floor(95% of the workloads / components) of them (4 at the defaults, so
  // 8,000 of 10,000 are claimed); the rest are orphans.
  const claimed = Math.floor(sizes.workloads * 0.95);
  const perComponent = Math.max(1, Math.floor(claimed / sizes.components));
  let w = 0;
  for (let c = 0; c < sizes.components; c++) {
    const namespace = ns(c);
    const name = `svc-${c}`;
    const system = `system:${ns(c % sizes.systems)}/system-${c % sizes.systems}`;
    const sameNamespaceSystem = c % sizes.systems;
    const systemRef = ns(sameNamespaceSystem) === namespace ? system : undefined;
    const previous = c >= sizes.namespaces ? `component:${namespace}/svc-${c - sizes.namespaces}` : undefined;
    entity('Component', namespace, name, {
      type: 'service',
      lifecycle: 'production',
      owner: groupRef(c),
      ...(systemRef ? { system: systemRef } : {}),
      ...(previous ? { dependsOn: [previous] } : {}),
    });
    for (let k = 0; k < perComponent && w < claimed; k++, w++) {
      const kind = k % 2 === 0 ? 'Deployment' : 'Service';
      const wname = `${name}-${k}`;
      const labels = { 'backstage.io/kubernetes-id': name, app: wname };
      const body: KubeObject =
        kind === 'Deployment'
          ? {
              apiVersion: 'apps/v1',
              kind,
              metadata: { name: wname, namespace, labels },
              spec: {
                replicas: 2,
                selector: { matchLabels: { app: wname } },
                template: { metadata: { labels: { app: wname } }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } },
              },
            }
          : { apiVersion: 'v1', kind, metadata: { name: wname, namespace, labels }, spec: { selector: { app: wname }, ports: [{ port: 80 }] } };
      workloads.push({ kind, namespace, name: wname, component: `component:${namespace}/${name}`, body });
      const owner = groupRef(c);
      ownership.set(`${kind}/${namespace}/${wname}`, {
        labels: {
          'backlot.dev/owner': owner.slice(owner.lastIndexOf('/') + 1),
          'backlot.dev/owner-namespace': owner.slice(owner.indexOf(':') + 1, owner.lastIndexOf('/')),
        },
        annotations: {
          'backlot.dev/entity': `component:${namespace}/${name}`,
          'backlot.dev/owner': owner,
          ...(systemRef ? { 'backlot.dev/system': systemRef } : {}),
          'backlot.dev/lifecycle': 'production',
        },
      });
    }
  }
  for (; w < sizes.workloads; w++) {
    const namespace = ns(w);
    const wname = `stray-${w}`;
    workloads.push({
      kind: 'Deployment',
      namespace,
      name: wname,
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: wname, namespace, labels: { app: wname } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: wname } },
          template: { metadata: { labels: { app: wname } }, spec: { containers: [{ name: 'app', image: 'registry.example/stray:1' }] } },
        },
      },
    });
  }
  return { namespaces, entities, workloads, ownership };
}

async function create(client: RestClient, world: World, log: (s: string) => void): Promise<void> {
  // Owners live in other namespaces than most of what they own: every namespace accepts the others' relations.
  const metadata = (name: string) => ({ name, annotations: { 'backlot.dev/accept-relations-from': '*' } });
  await pool(world.namespaces, CONCURRENCY, (name) =>
    client.request({ method: 'POST', path: collectionPath(NAMESPACES), body: { apiVersion: 'v1', kind: 'Namespace', metadata: metadata(name) } }),
  );
  const t = Date.now();
  await pool(world.entities, CONCURRENCY, (e) =>
    client.request({ method: 'POST', path: collectionPath(catalogResource(PLURAL[e.kind!]!), e.metadata!.namespace), body: e }),
  );
  await pool(world.workloads, CONCURRENCY, (w) =>
    client.request({ method: 'POST', path: collectionPath(w.kind === 'Deployment' ? DEPLOYMENTS : SERVICES, w.namespace), body: w.body }),
  );
  log(`created ${world.entities.length} entities and ${world.workloads.length} workloads in ${seconds(Date.now() - t)} s`);
  const r = Date.now();
  await pool(world.workloads, CONCURRENCY, (w) =>
    w.kind === 'Deployment'
      ? setReplicasReady(client, 'Deployment', { namespace: w.namespace, name: w.name })
      : setServiceEndpoints(client, { namespace: w.namespace, name: w.name }, 2, 2),
  );
  log(`reported every workload ready in ${seconds(Date.now() - r)} s`);
}

/** Every object of a resource, through paged LISTs. */
async function listAll(client: RestClient, resource: ResourceRef): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let cont: string | undefined;
  do {
    const page = await client.request<{ items: KubeObject[]; metadata?: { continue?: string } }>({
      path: collectionPath(resource),
      query: { limit: 500, ...(cont ? { continue: cont } : {}) },
      timeoutMs: 120_000,
    });
    items.push(...page.items);
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return items;
}

/**
 * The status Backlot will write on each entity, decided by Backlot's own code
 * (gatherEntityFacts, decideStatus) over the objects as the API server holds them, with every
 * observedGeneration set to 0. The baseline writes these: statuses of the size and shape
 * Backlot writes, which cost the API server several times what a one-field status does
 * (schema validation, the apply merge, encoding the object back). With --shared-baseline,
 * where Backlot converges the world these were written on, it still has a change to make to
 * each, as on any spec change: its observedGeneration.
 */
async function expectedStatuses(client: RestClient): Promise<Map<string, Record<string, unknown>>> {
  const parser = new EntityParser();
  const entities = {} as Record<EntityKind, Store<EntityObject>>;
  for (const kind of ENTITY_KINDS) {
    entities[kind] = new Store<EntityObject>(entityIndexers(kind, parser));
    for (const obj of await listAll(client, entityResource(kind))) entities[kind].upsert({ ...obj, apiVersion: API_VERSION, kind });
  }
  const workloads = {} as Record<WorkloadKind, Store<KubeObject>>;
  for (const kind of WORKLOAD_KINDS) {
    workloads[kind] = new Store<KubeObject>();
    for (const obj of await listAll(client, WORKLOAD_RESOURCES[kind])) workloads[kind].upsert({ ...obj, kind });
  }
  const endpointSlices = new Store<KubeObject>(sliceIndexers());
  for (const obj of await listAll(client, ENDPOINT_SLICES)) endpointSlices.upsert(obj);
  const namespaces = new Store<KubeObject>();
  for (const obj of await listAll(client, NAMESPACES)) namespaces.upsert(obj);
  const world = new CatalogWorld({ entities, workloads, jobs: new Store<KubeObject>(jobIndexers()), endpointSlices, namespaces }, { parser });
  const now = new Date();
  const out = new Map<string, Record<string, unknown>>();
  for (const kind of ENTITY_KINDS) {
    for (const obj of entities[kind].list()) {
      const status = decideStatus(gatherEntityFacts(world, kind, obj), now);
      const conditions = status.conditions.map((c) => ({ ...c, observedGeneration: 0 }));
      out.set(`${kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`, { ...status, observedGeneration: 0, conditions });
    }
  }
  return out;
}

/**
 * The baseline: the same writes Backlot must make (its ownership on every claimed workload, a
 * status on every entity), issued directly at full speed, in the form Backlot sends them
 * (server-side apply, the same field validation, answered with metadata only). Ownership is
 * written with the very values Backlot will want; statuses as expectedStatuses decides them.
 */
async function baseline(client: RestClient, world: World, plane: ControlPlane, profileFile?: string): Promise<{ ms: number; cpu: CpuUse }> {
  const statuses = await expectedStatuses(client);
  const pids = { apiserver: plane.apiServer.pid, etcd: plane.etcd.pid, bench: process.pid };
  const cpuBefore = await cpuSnapshot(pids);
  const t = Date.now();
  const profiled = profileFile ? apiServerProfile(plane, API_SERVER_PROFILE_SECONDS.baseline, profileFile) : undefined;
  const claimed = world.workloads.filter((w) => w.component);
  await pool(claimed, CONCURRENCY, (w) =>
    client.request({
      method: 'PATCH',
      path: `${collectionPath(w.kind === 'Deployment' ? DEPLOYMENTS : SERVICES, w.namespace)}/${w.name}`,
      query: { fieldManager: 'bench-baseline', force: true, fieldValidation: FIELD_VALIDATION },
      contentType: 'application/apply-patch+yaml',
      accept: METADATA_ONLY,
      body: {
        apiVersion: w.body.apiVersion,
        kind: w.kind,
        metadata: { name: w.name, namespace: w.namespace, ...world.ownership.get(`${w.kind}/${w.namespace}/${w.name}`) },
      },
    }),
  );
  await pool(world.entities, CONCURRENCY, (e) =>
    client.request({
      method: 'PATCH',
      path: `${collectionPath(catalogResource(PLURAL[e.kind!]!), e.metadata!.namespace)}/${e.metadata!.name}/status`,
      query: { fieldManager: 'bench-baseline', force: true, fieldValidation: FIELD_VALIDATION },
      contentType: 'application/apply-patch+yaml',
      accept: METADATA_ONLY,
      body: {
        apiVersion: API_VERSION,
        kind: e.kind,
        metadata: { name: e.metadata!.name, namespace: e.metadata!.namespace },
        status: statuses.get(`${e.kind}/${e.metadata!.namespace}/${e.metadata!.name}`),
      },
    }),
  );
  const elapsed = Date.now() - t;
  const cpu = cpuSince(cpuBefore, await cpuSnapshot(pids));
  await profiled;
  return { ms: elapsed, cpu };
}

async function apiWrites(plane: ControlPlane): Promise<number> {
  return (await apiCounts(plane)).applies;
}

/** Backlot's applies (to workloads and statuses) and the Events posted, from the API server's counters. */
async function apiCounts(plane: ControlPlane): Promise<{ applies: number; events: number }> {
  const r = await plane.kubectl(['get', '--raw', '/metrics']);
  const counts = Object.entries(mutatingRequests(r.stdout).byResource);
  // The benchmark's own writes are PATCHes (status) and POSTs (creation): counted apart.
  const sum = (match: (key: string) => boolean) => counts.filter(([k]) => match(k)).reduce((n, [, v]) => n + v, 0);
  return { applies: sum((k) => k.startsWith('APPLY ')), events: sum((k) => k === 'POST events') };
}

/** The value of an unlabelled series in an exposition text. */
function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds used by each process of a phase, to see who the phase was waiting on. */
type CpuUse = Record<string, number>;

async function cpuSnapshot(pids: Record<string, number | undefined>): Promise<CpuUse> {
  const out: CpuUse = {};
  for (const [name, pid] of Object.entries(pids)) {
    if (name !== 'bench') out[name] = await cpuSeconds(pid);
    else {
      const own = process.cpuUsage();
      out[name] = (own.user + own.system) / 1e6;
    }
  }
  out.steal = await stolenSeconds();
  return out;
}

/**
 * CPU time the hypervisor gave to other guests while this machine's processes were ready to
 * run (the steal column of /proc/stat, summed over CPUs): on a shared host, the part of a
 * slow run that is nobody's here.
 */
async function stolenSeconds(): Promise<number> {
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!.trim().split(/\s+/);
  return Number(cpu[8] ?? 0) / 100;
}

function cpuSince(before: CpuUse, after: CpuUse): CpuUse {
  return Object.fromEntries(Object.keys(after).map((k) => [k, Math.round((after[k]! - (before[k] ?? 0)) * 100) / 100]));
}

const cpuText = (use: CpuUse) =>
  Object.entries(use)
    .map(([k, v]) => `${k} ${v} s`)
    .join(', ');

async function rssBytes(pid: number | undefined): Promise<number> {
  if (!pid) return NaN;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN) * 1024;
}

const CAUGHT_UP = 'caught up: every object reconciled';

/**
 * Waits for the operator's log line that ends its first pass (the caches synced, every key
 * reconciled, the queues empty) and returns the time it carries. The log file is read every
 * 50 ms: unlike a scrape of /metrics, that costs the operator and the API server nothing.
 */
async function caughtUp(operator: BacklotProcess, timeoutMs: number): Promise<{ at: number; keys: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const line of operator.logs().split('\n')) {
      if (!line.includes(CAUGHT_UP)) continue;
      const entry = JSON.parse(line) as { time: number; keys: number };
      return { at: entry.time, keys: entry.keys };
    }
    if (!operator.running) throw new Error(`backlot run exited before catching up; its log:\n${operator.logs().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`backlot run did not catch up within ${timeoutMs} ms; see ${operator.logPath}`);
    await sleep(50);
  }
}

/**
 * Cold convergence: the end of the operator's first pass, once the API server's counters show
 * that Backlot made at least `expected` applies by then. Should a write still be missing at
 * that point (a retry after a conflict, say), the counters are read each second until it
 * lands, and convergence ends at the reading that shows it.
 */
async function converge(
  plane: ControlPlane,
  operator: BacklotProcess,
  base: number,
  expected: number,
  timeoutMs: number,
): Promise<{ at: number; writes: number; keys: number }> {
  const deadline = Date.now() + timeoutMs;
  const pass = await caughtUp(operator, timeoutMs);
  let writes = (await apiWrites(plane)) - base;
  let at = pass.at;
  while (writes < expected) {
    if (!operator.running) throw new Error(`backlot run exited before converging (${writes} of ${expected} writes); its log:\n${operator.logs().slice(-2000)}`);
    if (Date.now() > deadline) throw new Error(`Backlot made ${writes} of ${expected} writes in ${timeoutMs} ms; see ${operator.logPath}`);
    await sleep(1_000);
    at = Date.now();
    writes = (await apiWrites(plane)) - base;
  }
  return { at, writes, keys: pass.keys };
}

/**
 * A CPU profile of the API server over the next `seconds` (Go pprof, served by the API
 * server itself), written to `file` for `go tool pprof`. Resolves when the profile is written.
 */
async function apiServerProfile(plane: ControlPlane, seconds: number, file: string): Promise<void> {
  const args = ['--kubeconfig', plane.kubeconfigPath, 'get', '--raw', `/debug/pprof/profile?seconds=${seconds}`];
  const { stdout } = await promisify(execFile)(plane.assets.kubectl, args, { encoding: 'buffer', maxBuffer: 256 << 20 });
  await writeFile(file, stdout);
}

/** Time for one raw paged LIST of everything Backlot lists at start-up. */
async function rawList(client: RestClient): Promise<number> {
  const resources: ResourceRef[] = [
    ...Object.values(PLURAL).map(catalogResource),
    DEPLOYMENTS,
    SERVICES,
    { group: 'apps', version: 'v1', resource: 'statefulsets', namespaced: true },
    { group: 'apps', version: 'v1', resource: 'daemonsets', namespaced: true },
    { group: 'batch', version: 'v1', resource: 'cronjobs', namespaced: true },
    { group: 'batch', version: 'v1', resource: 'jobs', namespaced: true },
    { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true },
    NAMESPACES,
  ];
  const t = Date.now();
  for (const r of resources) {
    let cont: string | undefined;
    do {
      const page = await client.request<{ metadata?: { continue?: string } }>({
        path: collectionPath(r),
        query: { limit: 500, ...(cont ? { continue: cont } : {}) },
        timeoutMs: 120_000,
      });
      cont = page.metadata?.continue || undefined;
    } while (cont);
  }
  return Date.now() - t;
}

/** How the benchmark runs `backlot run`: its extra flags and environment. */
interface OperatorOptions {
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Signal the operator for a heap snapshot at steady state (needs --heapsnapshot-signal). */
  heapSnapshot?: boolean;
  /** Profile the API server over the first seconds of the baseline and of cold convergence, into this directory. */
  apiServerProfileDir?: string;
  /** Run the baseline on the plane Backlot then runs on (the method before the baseline had a world of its own). */
  sharedBaseline?: boolean;
  /** The kube-state-metrics binary to time beside Backlot's restarts; none with --no-peer or when it could not be built. */
  peer?: string;
}

/**
 * How long each API server profile lasts: most of each phase at the default size (the
 * baseline has taken 13-30 s on the development machine, cold convergence 25-41 s).
 */
const API_SERVER_PROFILE_SECONDS = { baseline: 12, convergence: 24, churn: 15 };

/**
 * Starts the operator from the build. Its Node.js compile cache is the run's own (in the
 * directory of the log): cold convergence compiles the bundle, as a first start does, and
 * each restart reads what the start before it wrote, as a restart on the same machine does.
 */
function startOperator(plane: ControlPlane, logPath: string, launch: OperatorOptions): Promise<BacklotProcess> {
  return BacklotProcess.start({
    kubeconfig: plane.kubeconfigPath,
    logPath,
    extraArgs: ['--leader-elect=false', '--log-level=info', ...launch.args],
    env: { NODE_COMPILE_CACHE: join(dirname(logPath), 'node-compile-cache'), ...launch.env },
    built: true,
  });
}

interface RunResult extends Partial<PeerResult> {
  workloads: number;
  convergenceSeconds: number;
  baselineSeconds: number;
  convergenceRatio: number;
  writes: number;
  minimumWrites: number;
  restartWrites: number;
  restartSeconds: number;
  listSeconds: number;
  restartRatio: number;
  /** Events posted by Backlot from its start until the steady-state reading (not counted as writes). */
  convergenceEvents: number;
  /** At steady state: STEADY_STATE_MS after convergence, with nothing asked of the operator. */
  rssBytes: number;
  /** The moment convergence ends: the peak of the work just done. */
  rssAtConvergenceBytes: number;
  heapBytes: number;
  bytesPerObject: number;
  eventLoopLagP99Ms: number;
  /** CPU seconds of each process over the baseline's writes and over cold convergence. */
  cpu: { baseline: CpuUse; convergence: CpuUse };
  eventLatencyP50Ms?: number;
  eventLatencyP99Ms?: number;
  /** The churn's own status writes: answer time, and time until a watch delivered them. */
  churnWriteP50Ms?: number;
  churnWriteP99Ms?: number;
  churnDeliveryP50Ms?: number;
  churnDeliveryP99Ms?: number;
  /** Event latency counted from the change's delivery by a watch. */
  eventLatencyAfterDeliveryP50Ms?: number;
  eventLatencyAfterDeliveryP99Ms?: number;
  /** Change → the dependent Component's status.dependencies showing it (derived, low-priority work). */
  dependentLatencyP50Ms?: number;
  dependentLatencyP99Ms?: number;
  /** Dependents whose status had not shown the change 2 s after the churn ended. */
  dependentUnobserved?: number;
  orphanLatencyP50Ms?: number;
  orphanLatencyP99Ms?: number;
}

/** A fresh control plane with the CRDs installed and `world` created in it, every workload reported ready. */
async function preparePlane(world: World, log: (s: string) => void): Promise<{ plane: ControlPlane; client: RestClient }> {
  const plane = await ControlPlane.start({ apiServerFlags: ['--max-requests-inflight=800', '--max-mutating-requests-inflight=400'] });
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    const client = new RestClient(kc);
    await plane.kubectl(['apply', '-f', join(import.meta.dirname, '../crds')]);
    await plane.kubectl(['wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s']);
    await create(client, world, log);
    return { plane, client };
  } catch (err) {
    await plane.stop();
    throw err;
  }
}

/** Stands in for the Deployment controller after writes that moved the claimed Deployments' generations. */
async function catchUpDeployments(client: RestClient, world: World): Promise<void> {
  await pool(
    world.workloads.filter((w) => w.kind === 'Deployment' && w.component),
    CONCURRENCY,
    (w) => setReplicasReady(client, 'Deployment', { namespace: w.namespace, name: w.name }),
  );
}

async function runSize(sizes: Sizes, full: boolean, launch: OperatorOptions, log: (s: string) => void): Promise<RunResult> {
  log(`--- ${sizes.workloads} workloads, ${sizes.components} components, ${sizes.systems} systems, ${sizes.groups} groups in ${sizes.namespaces} namespaces`);
  const world = generate(sizes);
  const minimumWrites = world.ownership.size + world.entities.length;
  const profileDir = launch.apiServerProfileDir;
  const baselineProfile = profileDir && join(profileDir, `apiserver-baseline-${sizes.workloads}.pprof`);
  // By default the baseline has a world of its own, on a plane of its own, so that its writes
  // and Backlot's land on the same state. With --shared-baseline it runs on Backlot's plane
  // first: Backlot's writes then land on objects already written under another field manager.
  let baselineRun: { ms: number; cpu: CpuUse } | undefined;
  if (!launch.sharedBaseline) {
    const own = await preparePlane(world, log);
    try {
      baselineRun = await baseline(own.client, world, own.plane, baselineProfile);
    } finally {
      await own.plane.stop();
    }
  }
  const { plane, client } = await preparePlane(world, log);
  const workDir = await mkdtemp(join(tmpdir(), 'backlot-bench-'));
  let operator: BacklotProcess | undefined;
  try {
    if (!baselineRun) {
      baselineRun = await baseline(client, world, plane, baselineProfile);
      await catchUpDeployments(client, world);
    }
    const { ms: baselineMs, cpu: baselineCpu } = baselineRun;
    log(
      `baseline: ${minimumWrites} writes issued directly in ${seconds(baselineMs)} s${launch.sharedBaseline ? ' (on the plane Backlot runs on)' : ' (on a world of its own)'}; CPU: ${cpuText(baselineCpu)}`,
    );

    const { applies: base, events: eventsBefore } = await apiCounts(plane);
    const planePids = { apiserver: plane.apiServer.pid, etcd: plane.etcd.pid };
    const cpuBefore = await cpuSnapshot(planePids);
    const started = Date.now();
    const profiled = profileDir
      ? apiServerProfile(plane, API_SERVER_PROFILE_SECONDS.convergence, join(profileDir, `apiserver-convergence-${sizes.workloads}.pprof`))
      : undefined;
    operator = await startOperator(plane, join(workDir, 'backlot.log'), launch);
    const converged = await converge(plane, operator, base, minimumWrites, 30 * 60_000);
    const convergenceMs = converged.at - started;
    const convergenceCpu = cpuSince(cpuBefore, await cpuSnapshot({ ...planePids, operator: operator.pid }));
    await profiled;
    log(
      `cold convergence: ${seconds(convergenceMs)} s, ${converged.writes} writes (minimum ${minimumWrites}), ${converged.keys} keys reconciled; CPU: ${cpuText(convergenceCpu)}`,
    );
    // Backlot's annotations moved the claimed Deployments' generations; their controller would catch up.
    if (!launch.sharedBaseline) await catchUpDeployments(client, world);
    const text = await operator.metrics();
    const eventLoopLagP99Ms = (metricValue(text, 'nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000;
    const rssAtConvergence = await rssBytes(operator.pid);
    // Steady state: the converged world, left alone. Nothing is asked of the operator meanwhile
    // (a scrape allocates megabytes); then one scrape for the heap.
    await sleep(STEADY_STATE_MS);
    const rss = await rssBytes(operator.pid);
    const heapBytes = metricValue(await operator.metrics(), 'nodejs_heap_size_used_bytes') ?? NaN;
    if (launch.heapSnapshot && operator.pid) {
      process.kill(operator.pid, 'SIGUSR2');
      // Writing the snapshot stops the process for a while; let it finish before the next phase.
      await sleep(20_000);
    }
    const convergenceEvents = (await apiCounts(plane)).events - eventsBefore;
    log(`Events posted by Backlot from its start to ${STEADY_STATE_MS / 1000} s after convergence: ${convergenceEvents}`);
    log(`memory: ${mib(rssAtConvergence)} resident at convergence; ${mib(rss)} resident, ${mib(heapBytes)} heap used after ${STEADY_STATE_MS / 1000} s idle`);
    const objects = world.entities.length + world.workloads.length * 2 + world.namespaces.length;

    let latency: Partial<RunResult> = {};
    if (full) {
      await writeFile(join(workDir, 'apiserver-metrics-before-churn.txt'), (await plane.kubectl(['get', '--raw', '/metrics'])).stdout);
      await writeFile(join(workDir, 'operator-metrics-before-churn.txt'), await operator.metrics());
      const churnPids = { ...planePids, operator: operator.pid };
      const cpuBeforeChurn = await cpuSnapshot(churnPids);
      const churnProfiled = profileDir
        ? apiServerProfile(plane, API_SERVER_PROFILE_SECONDS.churn, join(profileDir, `apiserver-churn-${sizes.workloads}.pprof`))
        : undefined;
      latency = await measureLatencies(client, operator, world, workDir, log);
      await churnProfiled;
      log(`CPU over the churn and orphan phases: ${cpuText(cpuSince(cpuBeforeChurn, await cpuSnapshot(churnPids)))}`);
      // Kept beside the operator's log for a closer look: queue waits, reconcile times, and the
      // API server's own latencies over the churn.
      await writeFile(join(workDir, 'operator-metrics.txt'), await operator.metrics());
      await writeFile(join(workDir, 'apiserver-metrics.txt'), (await plane.kubectl(['get', '--raw', '/metrics'])).stdout);
      log(`metrics after the latency phase: ${workDir}`);
    }

    // Restart on the converged world, RESTARTS times; each restart is timed beside one raw
    // LIST taken right after it, and the medians are reported (one restart takes about two
    // seconds, so one slow moment of the machine would otherwise decide the figure).
    const restartRuns: { ms: number; listMs: number; cpu: number; writes: number; keys: number }[] = [];
    for (let r = 0; r < RESTARTS; r++) {
      await operator.stop();
      const beforeRestart = await apiWrites(plane);
      const restartStarted = Date.now();
      operator = await startOperator(plane, join(workDir, `backlot-restart-${r + 1}.log`), launch);
      const restarted = await caughtUp(operator, 10 * 60_000);
      const cpu = await cpuSeconds(operator.pid);
      await sleep(2_000);
      const writes = (await apiWrites(plane)) - beforeRestart;
      const listMs = await rawList(client);
      restartRuns.push({ ms: restarted.at - restartStarted, listMs, cpu, writes, keys: restarted.keys });
      log(
        `restart ${r + 1}: synced and idle in ${seconds(restarted.at - restartStarted)} s (${restarted.keys} keys reconciled, operator CPU ${cpu} s) with ${writes} writes; one raw paged LIST of the same objects: ${seconds(listMs)} s`,
      );
    }
    const restartMs = median(restartRuns.map((r) => r.ms));
    const listMs = median(restartRuns.map((r) => r.listMs));
    const restartWrites = restartRuns.reduce((n, r) => n + r.writes, 0);
    log(`restart: median of ${RESTARTS}: ${seconds(restartMs)} s against ${seconds(listMs)} s for the raw LIST; ${restartWrites} writes in all`);
    // The peer, as many starts on the same world, with Backlot stopped as it was between its restarts.
    await operator.stop();
    const peer = await runPeer(
      launch.peer,
      { kubeconfig: plane.kubeconfigPath, client, workDir, starts: RESTARTS, steadyStateMs: STEADY_STATE_MS, cpuSeconds, log },
      { restartMs, rssBytes: rss },
    );

    return {
      workloads: sizes.workloads,
      convergenceSeconds: seconds(convergenceMs),
      baselineSeconds: seconds(baselineMs),
      convergenceRatio: Math.round((convergenceMs / baselineMs) * 100) / 100,
      writes: converged.writes,
      minimumWrites,
      restartWrites,
      restartSeconds: seconds(restartMs),
      listSeconds: seconds(listMs),
      restartRatio: Math.round((restartMs / listMs) * 100) / 100,
      convergenceEvents,
      rssBytes: rss,
      rssAtConvergenceBytes: rssAtConvergence,
      heapBytes,
      bytesPerObject: Math.round(heapBytes / objects),
      eventLoopLagP99Ms: Math.round(eventLoopLagP99Ms * 10) / 10,
      cpu: { baseline: baselineCpu, convergence: convergenceCpu },
      ...latency,
      ...peer,
    };
  } finally {
    await operator?.stop();
    await plane.stop();
  }
}

/**
 * Event latency: a background churn of 50 workload status changes a second; for each, the
 * time until the owning Component's status shows it (seen through a watch). Orphan latency:
 * new unclaimed Deployments, and the time until /metrics reports them.
 */
async function measureLatencies(
  client: RestClient,
  operator: BacklotProcess,
  world: World,
  workDir: string,
  log: (s: string) => void,
): Promise<Partial<RunResult>> {
  const logger = pino({ level: 'silent' });
  const components = new Informer<KubeObject & { status?: { readyWorkloads?: number; dependencies?: { ref?: string; ready?: boolean }[] } }>({
    client,
    logger,
    resource: catalogResource('components'),
    transform: keepPaths(['status.readyWorkloads', 'status.dependencies']),
  });
  const pending = new Map<string, { readyWorkloads: number; at: number }>();
  const latencies: number[] = [];
  // Derived work: the Component that depends on the changed one (svc-c+namespaces dependsOn
  // svc-c) shows the change in status.dependencies, from a reconcile that Backlot queues at
  // low priority behind direct changes.
  const dependentPending = new Map<string, { ref: string; ready: boolean; at: number }>();
  const dependentLatencies: number[] = [];
  // Each change: when it was written, how long the write took, when a watch on Deployments
  // delivered it (the API server's own part, which Backlot's informer waits for too), and how
  // long until Backlot showed it.
  type Change = { at: number; writeMs?: number; deliveredMs?: number; latencyMs?: number };
  const changes = new Map<string, Change>();
  const undelivered = new Map<string, { readyReplicas: number; change: Change }>();
  const deliveries: number[] = [];
  const watchStop = new AbortController();
  const listed = await client.request<{ metadata?: { resourceVersion?: string } }>({ path: collectionPath(DEPLOYMENTS), query: { limit: 1 } });
  const deploymentWatch = client
    .watch<KubeObject & { status?: { readyReplicas?: number } }>({
      path: collectionPath(DEPLOYMENTS),
      query: { resourceVersion: listed.metadata?.resourceVersion, allowWatchBookmarks: false, timeoutSeconds: 300 },
      timeoutMs: 310_000,
      signal: watchStop.signal,
      onEvent: ({ type, object }) => {
        if (type !== 'MODIFIED') return;
        const key = `${object.metadata?.namespace}/${object.metadata?.name}`;
        const u = undelivered.get(key);
        if (u && (object.status?.readyReplicas ?? 0) === u.readyReplicas) {
          deliveries.push((u.change.deliveredMs = Date.now() - u.change.at));
          undelivered.delete(key);
        }
      },
    })
    .catch((err: unknown) => {
      if (!watchStop.signal.aborted) throw err;
    });
  // The churn's own status writes (one merge patch each): how long the API server takes to answer.
  const writeLatencies: number[] = [];
  components.addEventHandler({
    onUpdate: (_old, obj) => {
      const key = `component:${obj.metadata?.namespace}/${obj.metadata?.name}`;
      const p = pending.get(key);
      if (p && obj.status?.readyWorkloads === p.readyWorkloads) {
        latencies.push(Date.now() - p.at);
        changes.get(`${key}@${p.at}`)!.latencyMs = Date.now() - p.at;
        pending.delete(key);
      }
      const d = dependentPending.get(key);
      if (d && obj.status?.dependencies?.some((dep) => dep.ref === d.ref && dep.ready === d.ready)) {
        dependentLatencies.push(Date.now() - d.at);
        dependentPending.delete(key);
      }
    },
  });
  components.start();
  await components.whenSynced();
  const deployments = world.workloads.filter((w) => w.kind === 'Deployment' && w.component);
  // One Deployment per component, so each change has one expected outcome.
  const byComponent = new Map<string, (typeof deployments)[number]>();
  for (const d of deployments) if (!byComponent.has(d.component!)) byComponent.set(d.component!, d);
  const targets = [...byComponent.values()];
  const dependentOf = new Map<string, string>();
  for (const e of world.entities) {
    const ref = (e.spec as { dependsOn?: string[] } | undefined)?.dependsOn?.[0];
    if (e.kind === 'Component' && ref) dependentOf.set(ref, `component:${e.metadata!.namespace}/${e.metadata!.name}`);
  }
  const durationMs = 20_000;
  const rate = 50;
  const end = Date.now() + durationMs;
  let i = 0;
  const inFlight: Promise<unknown>[] = [];
  while (Date.now() < end) {
    const target = targets[i % targets.length]!;
    const cached = components.cache.get(target.component!.slice('component:'.length));
    const ready = cached?.status?.readyWorkloads;
    if (ready !== undefined && !pending.has(target.component!)) {
      // Alternate this Deployment between 1 of 2 and 2 of 2 ready replicas.
      const goingDown = i % (2 * targets.length) < targets.length;
      const expected = goingDown ? ready - 1 : ready + 1;
      const at = Date.now();
      pending.set(target.component!, { readyWorkloads: expected, at });
      // One workload of 1/2 ready turns the Component's Ready False; 2/2 turns it back.
      const dependent = dependentOf.get(target.component!);
      if (dependent && !dependentPending.has(dependent)) dependentPending.set(dependent, { ref: target.component!, ready: !goingDown, at });
      const change: Change = { at };
      changes.set(`${target.component!}@${at}`, change);
      undelivered.set(`${target.namespace}/${target.name}`, { readyReplicas: goingDown ? 1 : 2, change });
      inFlight.push(
        changeReadyCount(client, 'Deployment', { namespace: target.namespace, name: target.name }, goingDown ? 1 : 2).then(
          () => writeLatencies.push((change.writeMs = Date.now() - at)),
          () => pending.delete(target.component!),
        ),
      );
    }
    i++;
    await sleep(1000 / rate);
  }
  await Promise.all(inFlight);
  await sleep(2_000);
  await components.stop();
  watchStop.abort();
  await deploymentWatch;
  await writeFile(join(workDir, 'event-latencies.json'), JSON.stringify([...changes.values()]));
  const half = Math.floor(latencies.length / 2);
  log(`event latency over time: first half p50 ${percentile(latencies.slice(0, half), 50)} ms, second half p50 ${percentile(latencies.slice(half), 50)} ms`);
  log(
    `event latency: ${latencies.length} changes observed, ${pending.size} unobserved; p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms ` +
      `(the churn's own status writes took p50 ${percentile(writeLatencies, 50)} ms, p99 ${percentile(writeLatencies, 99)} ms; ` +
      `a watch on Deployments delivered them after p50 ${percentile(deliveries, 50)} ms, p99 ${percentile(deliveries, 99)} ms)`,
  );
  // From the workload change reaching a watcher to the Component's status showing it: Backlot's
  // queue, its reconcile, its status write, and that write's own way back through a watch.
  const afterDelivery = [...changes.values()].flatMap((c) => (c.latencyMs !== undefined && c.deliveredMs !== undefined ? [c.latencyMs - c.deliveredMs] : []));
  log(`event latency from the change's delivery: p50 ${percentile(afterDelivery, 50)} ms, p99 ${percentile(afterDelivery, 99)} ms`);
  log(
    `dependent latency: ${dependentLatencies.length} dependents observed, ${dependentPending.size} unobserved; p50 ${percentile(dependentLatencies, 50)} ms, p99 ${percentile(dependentLatencies, 99)} ms`,
  );

  const orphanLatencies: number[] = [];
  for (let n = 0; n < 30; n++) {
    const namespace = world.namespaces[n % world.namespaces.length]!;
    const name = `late-orphan-${n}`;
    const t = Date.now();
    await client.request({
      method: 'POST',
      path: collectionPath(DEPLOYMENTS, namespace),
      body: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name, namespace },
        spec: {
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'a', image: 'x' }] } },
        },
      },
    });
    for (;;) {
      if ((await operator.metrics()).includes(`workload="${name}"`)) break;
      if (Date.now() - t > 30_000) throw new Error(`orphan ${name} not reported within 30 s`);
      await sleep(50);
    }
    orphanLatencies.push(Date.now() - t);
  }
  return {
    eventLatencyP50Ms: percentile(latencies, 50),
    eventLatencyP99Ms: percentile(latencies, 99),
    churnWriteP50Ms: percentile(writeLatencies, 50),
    churnWriteP99Ms: percentile(writeLatencies, 99),
    churnDeliveryP50Ms: percentile(deliveries, 50),
    churnDeliveryP99Ms: percentile(deliveries, 99),
    eventLatencyAfterDeliveryP50Ms: percentile(afterDelivery, 50),
    eventLatencyAfterDeliveryP99Ms: percentile(afterDelivery, 99),
    dependentLatencyP50Ms: percentile(dependentLatencies, 50),
    dependentLatencyP99Ms: percentile(dependentLatencies, 99),
    dependentUnobserved: dependentPending.size,
    orphanLatencyP50Ms: percentile(orphanLatencies, 50),
    orphanLatencyP99Ms: percentile(orphanLatencies, 99),
  };
}

/**
 * Each figure of the runs as the median over them: numbers key by key, nested objects (the
 * CPU figures) likewise; a figure missing from a run is left out of its median.
 */
function medianOf(runs: RunResult[]): RunResult {
  const combine = (objects: Record<string, unknown>[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const key of new Set(objects.flatMap((o) => Object.keys(o)))) {
      const values = objects.map((o) => o[key]).filter((v) => v !== undefined);
      if (values.every((v) => typeof v === 'number')) out[key] = median(values);
      else if (values.every((v) => typeof v === 'object' && v !== null)) out[key] = combine(values as Record<string, unknown>[]);
    }
    return out;
  };
  return combine(runs as unknown as Record<string, unknown>[]) as unknown as RunResult;
}

function table(results: RunResult[], runs?: RunResult[]): string {
  const main = results[results.length - 1]!;
  const rows: [string, string, string][] = [
    ['cold convergence', `${main.convergenceSeconds} s (baseline ${main.baselineSeconds} s, ratio ${main.convergenceRatio})`, 'ratio ≤ 1.3'],
    ['writes at convergence', `${main.writes} (minimum ${main.minimumWrites})`, 'equal'],
    [
      'restart on a converged world',
      `${main.restartSeconds} s, ${main.restartWrites} writes (raw LIST ${main.listSeconds} s, ratio ${main.restartRatio})`,
      '0 writes, ratio ≤ 1.5',
    ],
    ['event latency p50 / p99', `${main.eventLatencyP50Ms ?? '-'} / ${main.eventLatencyP99Ms ?? '-'} ms`, 'p99 ≤ 500 ms'],
    [
      'dependent latency p50 / p99',
      `${main.dependentLatencyP50Ms ?? '-'} / ${main.dependentLatencyP99Ms ?? '-'} ms (${main.dependentUnobserved ?? '-'} unobserved)`,
      '',
    ],
    ['orphan latency p50 / p99', `${main.orphanLatencyP50Ms ?? '-'} / ${main.orphanLatencyP99Ms ?? '-'} ms`, 'p99 ≤ 1000 ms'],
    [
      'memory, steady state',
      `${mib(main.rssBytes)} resident (${mib(main.rssAtConvergenceBytes)} at convergence), ${mib(main.heapBytes)} heap, ${main.bytesPerObject} B/object`,
      '≤ 200 MiB resident',
    ],
    ['event-loop lag p99 (cold)', `${main.eventLoopLagP99Ms} ms`, ''],
  ];
  if (runs) {
    rows.push(
      ['cold ratio of each run', runs.map((r) => r.convergenceRatio).join(', '), ''],
      ['restart ratio of each run', runs.map((r) => r.restartRatio).join(', '), ''],
    );
    if (runs.some((r) => r.peerRestartRatio !== undefined)) {
      const each = (value: (r: RunResult) => number | undefined) => runs.map((r) => value(r) ?? '-').join(', ');
      rows.push(
        ['peer restart ratio of each run', each((r) => r.peerRestartRatio), '≤ 2'],
        ['peer memory ratio of each run', each((r) => r.peerMemoryRatio), '≤ 1'],
      );
    }
  }
  const heading = `Backlot benchmark, ${main.workloads} workloads${runs ? `, median of ${runs.length} runs` : ''}`;
  const out = [
    heading,
    '',
    ...rows.map(([a, b, c]) => `${a.padEnd(30)} ${b.padEnd(70)} ${c}`),
    '',
    'scaling curve:',
    'workloads  convergence  baseline  ratio  restart  list    writes/min        rss',
  ];
  for (const r of results) {
    out.push(
      `${String(r.workloads).padEnd(10)} ${`${r.convergenceSeconds} s`.padEnd(12)} ${`${r.baselineSeconds} s`.padEnd(9)} ${String(r.convergenceRatio).padEnd(6)} ${`${r.restartSeconds} s`.padEnd(8)} ${`${r.listSeconds} s`.padEnd(7)} ${`${r.writes}/${r.minimumWrites}`.padEnd(17)} ${mib(r.rssBytes)}`,
    );
  }
  return [...out, ...peerTable(results)].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workloads: { type: 'string', default: '10000' },
      components: { type: 'string' },
      systems: { type: 'string' },
      groups: { type: 'string' },
      namespaces: { type: 'string', default: '100' },
      sizes: { type: 'string', default: '1000,5000' },
      repeat: { type: 'string', default: '1' },
      workers: { type: 'string' },
      profile: { type: 'string' },
      'node-options': { type: 'string' },
      'heap-snapshot': { type: 'string' },
      'apiserver-profile': { type: 'string' },
      'shared-baseline': { type: 'boolean', default: false },
      'no-peer': { type: 'boolean', default: false },
      'real-latency-only': { type: 'boolean', default: false },
      'no-real-latency': { type: 'boolean', default: false },
      'real-deployments': { type: 'string', default: '300' },
      'real-changes': { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  // The directories the profiles and snapshots go to are made here, not left to fail later.
  for (const dir of [values.profile, values['heap-snapshot'], values['apiserver-profile']]) if (dir) await mkdir(dir, { recursive: true });
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const scale = (workloads: number): Sizes => ({
    workloads,
    components: values.components ? Number(values.components) : Math.max(1, Math.round(workloads / 5)),
    systems: values.systems ? Number(values.systems) : Math.max(1, Math.round(workloads / 50)),
    groups: values.groups ? Number(values.groups) : Math.max(1, Math.min(50, Math.round(workloads / 200))),
    namespaces: Math.min(Number(values.namespaces), Math.max(1, Math.round(workloads / 100))),
  });
  const curve = values.sizes.split(',').filter(Boolean).map(Number);
  const launch: OperatorOptions = {
    args: values.workers ? [`--workers=${values.workers}`] : [],
  };
  const nodeOptions = [
    values['node-options'],
    values.profile ? `--cpu-prof --cpu-prof-dir=${resolve(values.profile)}` : undefined,
    values['heap-snapshot'] ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${resolve(values['heap-snapshot'])}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  if (values['heap-snapshot']) launch.heapSnapshot = true;
  if (values['shared-baseline']) launch.sharedBaseline = true;
  if (values['apiserver-profile']) launch.apiServerProfileDir = resolve(values['apiserver-profile']);
  if (nodeOptions) launch.env = { NODE_OPTIONS: nodeOptions };
  const repeat = Number(values.repeat);
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a whole number of 1 or more, not ${values.repeat}`);
  const realOnly = values['real-latency-only'];
  if (realOnly && values['no-real-latency']) throw new Error('--real-latency-only and --no-real-latency exclude each other');
  // The peer runs beside the bare plane's restarts only.
  if (!values['no-peer'] && !realOnly) launch.peer = await resolvePeer(log);
  const results: RunResult[] = [];
  const runs: RunResult[] = [];
  if (!realOnly) {
    log(`=== on the ${BARE_PLANE}`);
    for (const size of curve) results.push(await runSize(scale(size), false, launch, log));
    for (let r = 0; r < repeat; r++) {
      if (repeat > 1) log(`=== run ${r + 1} of ${repeat}`);
      runs.push(await runSize(scale(Number(values.workloads)), true, launch, log));
    }
    results.push(repeat === 1 ? runs[0]! : medianOf(runs));
  }
  let realLatency: RealLatencyResult | undefined;
  if (!values['no-real-latency']) {
    realLatency = await runRealLatency({
      deployments: Number(values['real-deployments']),
      changesPerKind: Number(values['real-changes']),
      operator: launch,
      log,
    });
  }
  const main = results[results.length - 1];
  if (values.json) {
    const bare = main ? { plane: BARE_PLANE, ...main, curve: results, ...(repeat > 1 ? { runs } : {}) } : {};
    process.stdout.write(`${JSON.stringify({ ...bare, ...(realLatency ? { realLatency } : {}) }, null, 2)}\n`);
  } else {
    if (main) process.stdout.write(`On the ${BARE_PLANE}:\n${table(results, repeat > 1 ? runs : undefined)}\n`);
    if (realLatency) process.stdout.write(`${main ? '\n' : ''}${realLatencyTable(realLatency)}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
