/**
 * The readiness oracle, on the realistic cluster (real kube-controller-manager and
 * kube-scheduler, kwok nodes): Backlot's readiness of each Deployment, StatefulSet and
 * DaemonSet, computed by the operator's own workloadReadiness on the object read from the API
 * server and cut as its cache cuts it, agrees with `kubectl rollout status --watch=false` on that
 * same object at every sample taken while the real controllers move it through create,
 * scaling, a stalled rolling update, a rollout past its progress deadline, a pause, a
 * partitioned update, scale to zero, a lost node, minReadySeconds and the OnDelete strategy.
 * A CronJob's readiness follows the real Jobs it runs as the Job controller finishes them; a
 * Service's follows whether any pod behind it is ready, through the real EndpointSlice
 * controller. A disagreement passes only when it is one of the deliberate differences
 * (test/support/rollout-oracle.ts: OnDelete, which kubectl declines to judge), and the table
 * printed at the end names it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { Cluster, FAILING_IMAGE_SUFFIX, UNREADY_IMAGE_SUFFIX } from '../../src/envtest/cluster.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { WORKLOAD_RESOURCES } from '../../src/api/workloads.ts';
import { collectionPath, ENDPOINT_SLICES, JOBS, objectPath } from '../../src/k8s/resource.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { planeKubeConfig } from '../support/plane-client.ts';
import { backlotReadiness, OracleTable, sample, type RolloutKind, type Sample, type Target } from '../support/rollout-oracle.ts';

const NS = 'oracle';
const IMAGE = 'registry.example.com/oracle/app:1.0.0';
const IMAGE_V2 = 'registry.example.com/oracle/app:1.1.0';
const UNREADY_IMAGE = `registry.example.com/oracle/app${UNREADY_IMAGE_SUFFIX}`;

const web: Target = { kind: 'Deployment', namespace: NS, name: 'web' };
const db: Target = { kind: 'StatefulSet', namespace: NS, name: 'db' };
const agent: Target = { kind: 'DaemonSet', namespace: NS, name: 'agent' };
const ALL = [web, db, agent];

function podTemplate(app: string, image: string, extra: Record<string, unknown> = {}) {
  return { metadata: { labels: { app } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image }], ...extra } };
}

/** Evicted 5 s after its node is lost, instead of the default 300 s. */
const QUICK_EVICTION = {
  tolerations: ['unreachable', 'not-ready'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 })),
};

const MANIFESTS = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: podTemplate('web', IMAGE, QUICK_EVICTION) },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: NS },
    spec: { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: podTemplate('db', IMAGE) },
  },
  {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: NS },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: podTemplate('agent', IMAGE) },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
];

interface RolloutStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  updatedNumberScheduled?: number;
  desiredNumberScheduled?: number;
  numberReady?: number;
  conditions?: { type: string; status: string; reason?: string }[];
}

function statusOf(s: Sample): RolloutStatus {
  return (s.object as { status?: RolloutStatus }).status ?? {};
}

function observed(s: Sample): boolean {
  return (statusOf(s).observedGeneration ?? 0) >= (s.object.metadata?.generation ?? 0);
}

describe('the readiness oracle on real controllers', () => {
  let cluster: Cluster;
  let client: RestClient;
  const table = new OracleTable();

  beforeAll(async () => {
    const started = Date.now();
    cluster = await Cluster.start();
    process.stderr.write(`[oracle] realistic cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    client = new RestClient(planeKubeConfig(cluster.plane));
    await kubectl('create', 'namespace', NS);
  }, 180_000);

  afterAll(async () => {
    process.stdout.write(`\nReadiness oracle (samples per cell):\n\n${table.render()}\n\n`);
    await cluster?.stop();
  });

  async function kubectl(...args: string[]): Promise<string> {
    const r = await cluster.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} (exit ${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Samples every target, round after round, until `until` holds of each (then `settle` more
   * rounds of all of them), recording every sample under `scenario`. Returns the last samples.
   */
  async function observe(
    scenario: string,
    targets: Target[],
    until: (target: Target, s: Sample) => boolean = (_, s) => s.kubectl.done,
    options: { timeoutMs?: number; settle?: number } = {},
  ): Promise<Map<RolloutKind, Sample>> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    const last = new Map<RolloutKind, Sample>();
    const pending = new Set(targets);
    while (pending.size > 0) {
      for (const target of targets) {
        const s = table.recordSample(scenario, target, await sample(client, cluster, target));
        last.set(target.kind, s);
        if (until(target, s)) pending.delete(target);
      }
      if (pending.size > 0 && Date.now() > deadline) {
        const waiting = [...pending].map(
          (t) => `${t.kind} ${t.name}: kubectl "${last.get(t.kind)?.kubectl.message}", status ${JSON.stringify(statusOf(last.get(t.kind)!))}`,
        );
        throw new Error(`${scenario}: timed out waiting for\n${waiting.join('\n')}`);
      }
    }
    for (let round = 0; round < (options.settle ?? 2); round++) {
      for (const target of targets) last.set(target.kind, table.recordSample(scenario, target, await sample(client, cluster, target)));
    }
    return last;
  }

  function expectAgreement(scenario: string): void {
    expect(table.unexplained(scenario)).toEqual([]);
  }

  const setImage = (target: Target, image: string) => kubectl('set', 'image', '-n', NS, `${target.kind.toLowerCase()}/${target.name}`, `app=${image}`);
  const patch = (target: Target, body: unknown) =>
    kubectl('patch', '-n', NS, `${target.kind.toLowerCase()}/${target.name}`, '--type=merge', '-p', JSON.stringify(body));
  const scale = (target: Target, replicas: number) => kubectl('scale', '-n', NS, `${target.kind.toLowerCase()}/${target.name}`, `--replicas=${replicas}`);

  async function pods(selector: string): Promise<V1Pod[]> {
    return (await client.request<{ items: V1Pod[] }>({ path: `/api/v1/namespaces/${NS}/pods`, query: { labelSelector: selector } })).items;
  }

  it('create: a Deployment, a StatefulSet and a DaemonSet on three nodes roll out', async () => {
    const r = await cluster.kubectl(['apply', '-f', '-'], { input: MANIFESTS.map((m) => stringify(m)).join('---\n') });
    expect(r.code).toBe(0);
    const last = await observe('create', ALL);
    expect(statusOf(last.get('DaemonSet')!).desiredNumberScheduled).toBe(3);
    expect(new Set((await pods('app=agent')).map((p) => p.spec?.nodeName)).size).toBe(3);
    expectAgreement('create');
  });

  it('scale up and down', async () => {
    await Promise.all([scale(web, 5), scale(db, 5)]);
    await observe('scale up', [web, db], (_, s) => observed(s) && s.kubectl.done);
    await Promise.all([scale(web, 2), scale(db, 2)]);
    await observe('scale down', [web, db], (_, s) => observed(s) && s.kubectl.done);
    expectAgreement('scale up');
    expectAgreement('scale down');
  });

  it('a rolling update in progress: the new pods never turn ready', async () => {
    await Promise.all(ALL.map((t) => setImage(t, UNREADY_IMAGE)));
    const stalled = (target: Target, s: Sample) => {
      const st = statusOf(s);
      if (!observed(s)) return false;
      if (target.kind === 'Deployment') return (st.updatedReplicas ?? 0) >= 1;
      if (target.kind === 'StatefulSet') return st.updateRevision !== st.currentRevision && (st.updatedReplicas ?? 0) >= 1;
      return (st.updatedNumberScheduled ?? 0) >= 1;
    };
    const last = await observe('rolling update in progress', ALL, stalled, { settle: 3 });
    for (const s of last.values()) expect([s.backlot.ready, s.kubectl.done]).toEqual([false, false]);
    expectAgreement('rolling update in progress');
  });

  it('a rollout that exceeds its progress deadline, then is rolled back', async () => {
    await patch(web, { spec: { progressDeadlineSeconds: 5 } });
    const timedOut = (_: Target, s: Sample) =>
      statusOf(s).conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded') ?? false;
    const last = await observe('rollout exceeds its progress deadline', [web], timedOut, { timeoutMs: 60_000 });
    expect(last.get('Deployment')?.kubectl.message).toContain('exceeded its progress deadline');
    expect(last.get('Deployment')?.backlot.detail).toContain('the rollout exceeded its progress deadline');

    await Promise.all(ALL.map((t) => setImage(t, IMAGE)));
    // A StatefulSet does not replace a pod that never turned ready by itself: the documented
    // "forced rollback" deletes it once the template is reverted.
    const stuck = (await pods('app=db')).filter((p) => p.spec?.containers[0]?.image === UNREADY_IMAGE);
    for (const p of stuck) await kubectl('delete', 'pod', '-n', NS, p.metadata!.name!, '--wait=false');
    await observe('rolled back', ALL, (_, s) => observed(s) && s.kubectl.done, { timeoutMs: 90_000 });
    expectAgreement('rollout exceeds its progress deadline');
    expectAgreement('rolled back');
  });

  it('paused: a change waits for the resume', async () => {
    await kubectl('rollout', 'pause', '-n', NS, 'deployment/web');
    await observe('paused', [web], (_, s) => observed(s));
    await setImage(web, IMAGE_V2);
    const held = await observe('paused', [web], (_, s) => observed(s) && (statusOf(s).updatedReplicas ?? 0) === 0, { settle: 3 });
    expect(held.get('Deployment')?.kubectl.done).toBe(false);
    await kubectl('rollout', 'resume', '-n', NS, 'deployment/web');
    await observe('paused', [web], (_, s) => observed(s) && s.kubectl.done);
    expectAgreement('paused');
  });

  it('a partitioned StatefulSet update', async () => {
    await patch(db, {
      spec: {
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } },
        template: { spec: { containers: [{ name: 'app', image: IMAGE_V2 }] } },
      },
    });
    const canary = await observe(
      'partitioned StatefulSet update',
      [db],
      (_, s) => observed(s) && (statusOf(s).updatedReplicas ?? 0) >= 1 && (statusOf(s).readyReplicas ?? 0) >= 2,
      { settle: 3 },
    );
    expect(canary.get('StatefulSet')?.kubectl.message).toContain('partitioned roll out complete');
    await patch(db, { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } });
    await observe(
      'partitioned StatefulSet update',
      [db],
      (_, s) => observed(s) && s.kubectl.done && statusOf(s).currentRevision === statusOf(s).updateRevision,
    );
    expectAgreement('partitioned StatefulSet update');
  });

  it('scaled to 0, and back', async () => {
    await Promise.all([scale(web, 0), scale(db, 0), patch(agent, { spec: { template: { spec: { nodeSelector: { 'backlot.dev/no-such-node': 'x' } } } } })]);
    await observe('scaled to 0', ALL, (_, s) => observed(s) && s.kubectl.done && (statusOf(s).readyReplicas ?? statusOf(s).numberReady ?? 0) === 0);
    await Promise.all([
      scale(web, 3),
      scale(db, 3),
      kubectl('patch', '-n', NS, 'daemonset/agent', '--type=json', '-p', '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]'),
    ]);
    await observe('scaled back from 0', ALL, (_, s) => observed(s) && s.kubectl.done, { timeoutMs: 90_000 });
    expectAgreement('scaled to 0');
    expectAgreement('scaled back from 0');
  });

  it('a node lost: its heartbeat stops, its pods turn not ready, the Deployment moves away, the DaemonSet lets it go, and it comes back', async () => {
    // A node that runs a pod of the Deployment, and of the StatefulSet if one does.
    const onNode = async (app: string) => (await pods(`app=${app}`)).map((p) => p.spec?.nodeName);
    const [webNodes, dbNodes] = [await onNode('web'), await onNode('db')];
    const lost = [...new Set(webNodes)].sort((a, b) => dbNodes.filter((n) => n === b).length - dbNodes.filter((n) => n === a).length)[0]!;
    const scenario = 'node lost';
    // No more Lease renewals, no more pod status from that node.
    await cluster.loseNode(lost);
    try {
      const wentDown = new Set<RolloutKind>();
      const down = await observe(
        scenario,
        ALL,
        (t, s) => {
          if (!s.kubectl.done) wentDown.add(t.kind);
          // The DaemonSet controller stops counting a node tainted unreachable:NoSchedule as
          // one its pods should run on: the pod there stays (it tolerates NoExecute) and is
          // counted misscheduled, so the DaemonSet has all it now wants.
          if (t.kind === 'DaemonSet') return statusOf(s).desiredNumberScheduled === 2;
          return wentDown.has(t.kind) || (t.kind === 'StatefulSet' && !dbNodes.includes(lost));
        },
        { timeoutMs: 90_000 },
      );
      expect([down.get('DaemonSet')?.backlot.ready, down.get('DaemonSet')?.kubectl.done]).toEqual([true, true]);
      // The Deployment's pod there is evicted after 5 s and replaced on the other nodes.
      await observe(scenario, [web], (_, s) => s.kubectl.done, { timeoutMs: 90_000 });
      expect((await pods('app=web')).filter((p) => !p.metadata?.deletionTimestamp && p.spec?.nodeName === lost)).toEqual([]);
    } finally {
      await cluster.restoreNode(lost);
    }
    await observe(`${scenario}, then back`, ALL, (_, s) => s.kubectl.done, { timeoutMs: 90_000 });
    expectAgreement(scenario);
    expectAgreement(`${scenario}, then back`);
  });

  it('minReadySeconds: an updated pod is ready some seconds before it counts as available', async () => {
    const IMAGE_V3 = 'registry.example.com/oracle/app:1.2.0';
    await Promise.all(ALL.map((t) => patch(t, { spec: { minReadySeconds: 4, template: { spec: { containers: [{ name: 'app', image: IMAGE_V3 }] } } } })));
    await observe('minReadySeconds', ALL, (_, s) => observed(s) && s.kubectl.done, { timeoutMs: 120_000 });
    await Promise.all(ALL.map((t) => patch(t, { spec: { minReadySeconds: 0 } })));
    expectAgreement('minReadySeconds');
  });

  it('OnDelete: the StatefulSet and DaemonSet update only the pods deleted by hand', async () => {
    const scenario = 'OnDelete update strategy';
    const onDelete = [db, agent];
    await Promise.all(onDelete.map((t) => patch(t, { spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: null } } })));
    const held = await observe(scenario, onDelete, (_, s) => observed(s));
    for (const s of held.values())
      expect([s.backlot.ready, s.kubectl.message]).toEqual([true, 'error: rollout status is only available for RollingUpdate strategy type']);
    await Promise.all(onDelete.map((t) => setImage(t, IMAGE)));
    const pending = await observe(scenario, onDelete, (t, s) => observed(s) && (statusOf(s).updatedReplicas ?? statusOf(s).updatedNumberScheduled ?? 0) === 0);
    for (const s of pending.values()) expect(s.backlot.ready).toBe(false);
    await kubectl('delete', 'pods', '-n', NS, '-l', 'app in (db,agent)', '--wait=false');
    await observe(scenario, onDelete, (_, s) => observed(s) && s.backlot.ready, { timeoutMs: 90_000 });
    await Promise.all(onDelete.map((t) => patch(t, { spec: { updateStrategy: { type: 'RollingUpdate' } } })));
    await observe(scenario, onDelete, (_, s) => observed(s) && s.kubectl.done);
    expectAgreement(scenario);
  });

  it('a CronJob through real Jobs that succeed and fail', async () => {
    const cron = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'nightly', namespace: NS },
      spec: {
        schedule: '0 3 * * *',
        jobTemplate: { spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: IMAGE }] } } } },
      },
    };
    await cluster.kubectl(['apply', '-f', '-'], { input: stringify(cron) });
    const readiness = async () => {
      const cron = await client.request<KubeObject>({ path: objectPath(WORKLOAD_RESOURCES.CronJob, 'nightly', NS) });
      const jobs = (await client.request<{ items: KubeObject[] }>({ path: collectionPath(JOBS, NS) })).items;
      return backlotReadiness('CronJob', cron, { jobs });
    };
    table.recordVerdict('CronJob: never run', 'CronJob', await readiness(), true, 'nothing has run');
    const run = async (scenario: string, job: string, image: string, outcome: 'Complete' | 'Failed') => {
      await kubectl('set', 'image', '-n', NS, 'cronjob/nightly', `app=${image}`);
      await kubectl('create', 'job', '-n', NS, job, '--from=cronjob/nightly');
      // The Job controller's verdict is the oracle.
      await kubectl('wait', '-n', NS, `job/${job}`, `--for=condition=${outcome}`, '--timeout=60s');
      table.recordVerdict(scenario, 'CronJob', await readiness(), outcome === 'Complete', `after ${job} ${outcome}`);
      expectAgreement(scenario);
    };
    await run('CronJob: a Job succeeds', 'nightly-1', IMAGE, 'Complete');
    await run('CronJob: a Job fails', 'nightly-2', `registry.example.com/oracle/app${FAILING_IMAGE_SUFFIX}`, 'Failed');
    await run('CronJob: the next Job succeeds', 'nightly-3', IMAGE, 'Complete');
  });

  it('Services through the real EndpointSlice controller, with and without ready pods', async () => {
    const extra = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'broken', namespace: NS },
        spec: { replicas: 2, selector: { matchLabels: { app: 'broken' } }, template: podTemplate('broken', UNREADY_IMAGE) },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'broken', namespace: NS }, spec: { selector: { app: 'broken' }, ports: [{ port: 80 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nothing', namespace: NS }, spec: { selector: { app: 'nothing' }, ports: [{ port: 80 }] } },
    ];
    await cluster.kubectl(['apply', '-f', '-'], { input: extra.map((m) => stringify(m)).join('---\n') });
    const readiness = async (name: string) => {
      const svc = await client.request<KubeObject>({ path: objectPath(WORKLOAD_RESOURCES.Service, name, NS) });
      const slices = (await client.request<{ items: KubeObject[] }>({ path: collectionPath(ENDPOINT_SLICES, NS) })).items;
      return backlotReadiness('Service', svc, { slices });
    };
    // The oracle: is any pod the Service selects Ready?
    const anyPodReady = async (app: string) =>
      (await pods(`app=${app}`)).some((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    const check = async (scenario: string, name: string, app: string, expectPods: (n: number) => boolean) => {
      let backlot = await readiness(name);
      let expected = await anyPodReady(app);
      // The EndpointSlice controller follows the pods within moments: give it those.
      for (let i = 0; i < 50 && (backlot.ready !== expected || !expectPods(backlot.replicas ?? 0)); i++) {
        await sleep(200);
        [backlot, expected] = [await readiness(name), await anyPodReady(app)];
      }
      table.recordVerdict(scenario, 'Service', backlot, expected, name);
      expectAgreement(scenario);
      return backlot;
    };
    expect((await check('Service: ready pods behind it', 'web', 'web', (n) => n === 3)).ready).toBe(true);
    expect((await check('Service: pods behind it, none ready', 'broken', 'broken', (n) => n === 2)).ready).toBe(false);
    expect((await check('Service: no pods selected', 'nothing', 'nothing', () => true)).detail).toBe('it has no endpoints');
  });
});
