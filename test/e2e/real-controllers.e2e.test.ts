/**
 * The product end to end on real controllers: `backlot run` against a realistic cluster of its
 * own (kube-controller-manager, kube-scheduler, three kwok nodes), driven through the
 * examples/ catalog. Every workload status, pod, EndpointSlice and Job here is written by the
 * real controllers and kwok; the test writes no status by hand. A dependency fails and
 * recovers through its pods (a rollout to an image kwok keeps unready, then back), an owner
 * changes, a claim conflicts and is resolved, a claim ends with its entity, a namespace is
 * deleted for real by the namespace controller, and a restarted operator writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { Cluster, UNREADY_IMAGE_SUFFIX } from '../../src/envtest/cluster.ts';
import { BacklotProcess } from '../../src/envtest/operator-process.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { eventually } from '../support/eventually.ts';
import { mutatingRequests, writesBetween, type WriteCounts } from '../support/apiserver-writes.ts';
import { planeKubeConfig } from '../support/plane-client.ts';
import { boundServiceAccount, METRICS_READER_ROLE, METRICS_READER_ROLE_PATH, type BoundServiceAccount } from '../support/tenant.ts';

const ROOT = join(import.meta.dirname, '../..');
/** The resources Backlot writes. The controllers write some of them too, but not on a cluster at rest. */
const BACKLOT_WRITES = / (deployments|statefulsets|daemonsets|cronjobs|services|components|systems|resources|apis|groups|domains|events)(\/status)?$/;
const GATEWAY_IMAGE = 'registry.example.com/shop/payments-gateway:5.3.0';
const GATEWAY_UNREADY_IMAGE = `registry.example.com/shop/payments-gateway${UNREADY_IMAGE_SUFFIX}`;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

interface Entity {
  kind: string;
  metadata: { name: string; namespace: string; generation: number };
  spec: Record<string, unknown>;
  status?: { observedGeneration?: number; conditions?: Condition[]; workloads?: { kind: string; name: string; ready: boolean }[] };
}

interface Meta {
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

describe('backlot run on real controllers', () => {
  let cluster: Cluster;
  let operator: BacklotProcess;
  let prometheusAccount: BoundServiceAccount;
  const startedAt = Date.now();

  const kubectl = async (...args: string[]) => {
    const r = await cluster.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = async (objects: unknown[]) => {
    const r = await cluster.kubectl(['apply', '-f', '-'], { input: objects.map((o) => stringify(o)).join('---\n') });
    if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
  };
  const getJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await kubectl('get', ...args, '-o', 'json')) as T;
  const condition = (e: Entity, type: string) => e.status?.conditions?.find((c) => c.type === type);
  const entity = (kind: string, namespace: string, name: string) => getJson<Entity>(kind, '-n', namespace, name);
  const meta = async (kind: string, namespace: string, name: string) => (await getJson<{ metadata: Meta }>(kind, '-n', namespace, name)).metadata;
  const writes = async (): Promise<WriteCounts> => mutatingRequests(await kubectl('get', '--raw', '/metrics'));
  const backlotWrites = (before: WriteCounts, after: WriteCounts) =>
    Object.fromEntries(Object.entries(writesBetween(before, after).byResource).filter(([k]) => BACKLOT_WRITES.test(k)));
  const startOperator = (log: string) =>
    BacklotProcess.start({
      kubeconfig: cluster.kubeconfigPath,
      logPath: join(cluster.plane.dir, log),
      metricsToken: prometheusAccount.token,
      extraArgs: ['--leader-elect=false'],
    });
  const rolledOut = (...namespaces: string[]) =>
    Promise.all(namespaces.map((ns) => kubectl('rollout', 'status', '-n', ns, 'deployment,statefulset,daemonset', '--timeout=120s')));

  /** Every entity has a status for its current generation. */
  const converged = async (): Promise<true | undefined> => {
    const list = await getJson<{ items: Entity[] }>('catalog', '-A');
    return list.items.length > 0 && list.items.every((e) => e.status?.observedGeneration === e.metadata.generation && condition(e, 'Ready')) ? true : undefined;
  };
  const conditionOf = async (kind: string, namespace: string, name: string, type: string) => condition(await entity(kind, namespace, name), type);
  const waitCondition = (kind: string, namespace: string, name: string, type: string, want: Partial<Condition>, timeoutMs = 60_000) =>
    eventually(
      `${kind} ${namespace}/${name} ${type} ${JSON.stringify(want)}`,
      async () => {
        const c = await conditionOf(kind, namespace, name, type);
        if (c && Object.entries(want).every(([k, v]) => c[k as keyof Condition] === v)) return c;
        throw new Error(`last seen: ${JSON.stringify(c)}`);
      },
      timeoutMs,
    );

  beforeAll(async () => {
    cluster = await Cluster.start();
    process.stderr.write(`[real-controllers] realistic cluster ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
    const client = new RestClient(planeKubeConfig(cluster.plane));
    await kubectl('apply', '-f', join(ROOT, 'crds'));
    await kubectl('wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s');
    await kubectl('apply', '-f', join(ROOT, 'examples/00-namespaces.yaml'));
    await kubectl('apply', '-R', '-f', join(ROOT, 'examples'));
    await kubectl('apply', '-f', METRICS_READER_ROLE_PATH);
    await kubectl('create', 'namespace', 'monitoring');
    prometheusAccount = await boundServiceAccount(client, { namespace: 'monitoring', name: 'prometheus', clusterRoles: [METRICS_READER_ROLE] });
    await rolledOut('shop', 'platform');
    operator = await startOperator('backlot.log');
    await operator.waitReady();
  }, 240_000);

  afterAll(async () => {
    await operator?.stop();
    await cluster?.stop();
    process.stderr.write(`[real-controllers] done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
  });

  it('converges: every entity has a status, every claimed workload its ownership', async () => {
    await eventually('every entity to converge', converged, 60_000);
    const list = await getJson<{ items: Entity[] }>('catalog', '-A');
    const claimed = list.items.flatMap((e) =>
      (e.status?.workloads ?? []).map((w) => ({
        entity: `${e.kind.toLowerCase()}:${e.metadata.namespace}/${e.metadata.name}`,
        namespace: e.metadata.namespace,
        ...w,
      })),
    );
    expect(claimed.length).toBeGreaterThan(5);
    for (const w of claimed) {
      const m = await eventually(`${w.kind} ${w.namespace}/${w.name} to carry its ownership`, async () => {
        const got = await meta(w.kind.toLowerCase(), w.namespace, w.name);
        return got.annotations?.['backlot.dev/entity'] === w.entity ? got : undefined;
      });
      expect(m.labels?.['backlot.dev/owner']).toBeTruthy();
    }
    const checkout = await entity('component', 'shop', 'checkout');
    expect(condition(checkout, 'Ready')).toMatchObject({ status: 'True', reason: 'AllWorkloadsReady' });
    expect(condition(checkout, 'DependenciesReady')).toMatchObject({ status: 'True' });
    expect((await meta('deployment', 'shop', 'checkout')).annotations).toMatchObject({
      'backlot.dev/entity': 'component:shop/checkout',
      'backlot.dev/owner': 'group:shop/team-payments',
      'backlot.dev/system': 'system:shop/webshop',
    });
  });

  it('a dependency fails and recovers through its pods: the component turns red, its dependents only see it', async () => {
    await kubectl('set', 'image', '-n', 'shop', 'deployment/payments-gateway', `app=${GATEWAY_UNREADY_IMAGE}`);
    const ready = await waitCondition('component', 'shop', 'payments-gateway', 'Ready', { status: 'False', reason: 'WorkloadsNotReady' });
    expect(ready.message).toContain('Deployment payments-gateway');
    const deps = await waitCondition('component', 'shop', 'checkout', 'DependenciesReady', { status: 'False', reason: 'DependencyNotReady' });
    expect(deps.message).toContain('component:shop/payments-gateway');
    expect((await conditionOf('component', 'shop', 'checkout', 'Ready'))?.status).toBe('True');
    // The pod of the new image exists and is not ready: the real rollout stalls on it.
    const pods = await getJson<{ items: { spec: { containers: { image: string }[] }; status: { conditions?: { type: string; status: string }[] } }[] }>(
      'pods',
      '-n',
      'shop',
      '-l',
      'app.kubernetes.io/name=payments-gateway',
    );
    const unready = pods.items.filter((p) => p.spec.containers[0]?.image === GATEWAY_UNREADY_IMAGE);
    expect(unready.length).toBeGreaterThan(0);
    expect(unready.every((p) => p.status.conditions?.find((c) => c.type === 'Ready')?.status !== 'True')).toBe(true);

    await kubectl('set', 'image', '-n', 'shop', 'deployment/payments-gateway', `app=${GATEWAY_IMAGE}`);
    await waitCondition('component', 'shop', 'payments-gateway', 'Ready', { status: 'True' });
    await waitCondition('component', 'shop', 'checkout', 'DependenciesReady', { status: 'True' });
    expect((await conditionOf('component', 'shop', 'checkout', 'Ready'))?.status).toBe('True');
  });

  it('an owner that changes moves the ownership written on the workloads', async () => {
    await kubectl('patch', 'component', '-n', 'shop', 'checkout', '--type=merge', '-p', '{"spec":{"owner":"team-storefront"}}');
    for (const kind of ['deployment', 'service']) {
      const m = await eventually(`checkout ${kind} to follow the new owner`, async () => {
        const got = await meta(kind, 'shop', 'checkout');
        return got.annotations?.['backlot.dev/owner'] === 'group:shop/team-storefront' ? got : undefined;
      });
      expect(m.labels?.['backlot.dev/owner']).toBe('team-storefront');
    }
    await kubectl('patch', 'component', '-n', 'shop', 'checkout', '--type=merge', '-p', '{"spec":{"owner":"team-payments"}}');
    await eventually('checkout to return to team-payments', async () =>
      (await meta('deployment', 'shop', 'checkout')).labels?.['backlot.dev/owner'] === 'team-payments' ? true : undefined,
    );
    // The Deployment controller observes the generation Backlot's writes bump.
    await eventually('checkout Deployment observed', async () => {
      const d = await getJson<{ metadata: { generation: number }; status?: { observedGeneration?: number } }>('deployment', '-n', 'shop', 'checkout');
      return d.status?.observedGeneration === d.metadata.generation ? true : undefined;
    });
  });

  it('a claim conflict and its resolution: the older entity keeps the workloads, the newer is told, then deleted', async () => {
    await apply([
      {
        apiVersion: 'catalog.backlot.dev/v1alpha1',
        kind: 'Component',
        metadata: { name: 'checkout-v2', namespace: 'shop' },
        spec: {
          type: 'service',
          lifecycle: 'experimental',
          owner: 'team-storefront',
          workloads: { selector: { matchLabels: { 'app.kubernetes.io/name': 'checkout' } } },
        },
      },
    ]);
    const newer = await waitCondition('component', 'shop', 'checkout-v2', 'Ready', { status: 'False', reason: 'ClaimConflict' });
    expect(newer.message).toContain('component:shop/checkout');
    const older = await waitCondition('component', 'shop', 'checkout', 'Ready', { status: 'True', reason: 'ClaimConflict' });
    expect(older.message).toContain('component:shop/checkout-v2');
    expect((await meta('deployment', 'shop', 'checkout')).annotations?.['backlot.dev/entity']).toBe('component:shop/checkout');
    await eventually('the conflict series', async () =>
      (await operator.metrics()).includes('backlot_workload_claim_conflict{namespace="shop"') ? true : undefined,
    );

    await kubectl('delete', 'component', '-n', 'shop', 'checkout-v2');
    await waitCondition('component', 'shop', 'checkout', 'Ready', { status: 'True', reason: 'AllWorkloadsReady' });
    await eventually('the conflict series to go', async () =>
      !(await operator.metrics()).includes('backlot_workload_claim_conflict{namespace="shop"') ? true : undefined,
    );
    expect((await meta('deployment', 'shop', 'checkout')).annotations?.['backlot.dev/owner']).toBe('group:shop/team-payments');
  });

  it("a claim ended by deleting the entity: its workloads lose Backlot's fields and become orphans", async () => {
    await kubectl('annotate', 'deployment', '-n', 'shop', 'cart', 'team.example/pager=cart-oncall');
    await kubectl('delete', 'component', '-n', 'shop', 'cart');
    for (const kind of ['deployment', 'service']) {
      const m = await eventually(`cart ${kind} to lose its ownership`, async () => {
        const got = await meta(kind, 'shop', 'cart');
        return got.annotations?.['backlot.dev/entity'] === undefined ? got : undefined;
      });
      expect(Object.keys(m.annotations ?? {}).filter((k) => k.startsWith('backlot.dev/'))).toEqual([]);
      expect(Object.keys(m.labels ?? {}).filter((k) => k.startsWith('backlot.dev/'))).toEqual([]);
      expect(m.labels?.['backstage.io/kubernetes-id']).toBe('cart');
    }
    expect((await meta('deployment', 'shop', 'cart')).annotations?.['team.example/pager']).toBe('cart-oncall');
    // Its API loses its only provider; the System holding the API, and that System's Domain, follow.
    await waitCondition('api', 'shop', 'cart-api', 'Ready', { reason: 'NoProviders' });
    await waitCondition('system', 'shop', 'webshop', 'Ready', { status: 'False' });
    const commerce = await waitCondition('domain', 'shop', 'commerce', 'Ready', { status: 'False', reason: 'PartsNotReady' });
    expect(commerce.message).toContain('system:shop/webshop');
    await eventually('cart to be an orphan', async () =>
      (await operator.metrics()).includes(
        'backlot_orphaned_workload{namespace="shop",workload_kind="Deployment",workload="cart",namespace_owner="team-storefront",namespace_owner_namespace="shop"} 1',
      )
        ? true
        : undefined,
    );
  });

  it('a namespace deleted for real: its entity series and its orphan disappear', async () => {
    await apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'popup', labels: { 'backlot.dev/owner': 'team-popup' } } },
      { apiVersion: 'catalog.backlot.dev/v1alpha1', kind: 'Group', metadata: { name: 'team-popup', namespace: 'popup' }, spec: { type: 'team' } },
      {
        apiVersion: 'catalog.backlot.dev/v1alpha1',
        kind: 'Component',
        metadata: { name: 'stall', namespace: 'popup' },
        spec: { type: 'service', lifecycle: 'experimental', owner: 'team-popup' },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'leftover', namespace: 'popup' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'leftover' } },
          template: {
            metadata: { labels: { app: 'leftover' } },
            spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'registry.example.com/popup/leftover:1' }] },
          },
        },
      },
    ]);
    await rolledOut('popup');
    const series = await eventually('the popup series', async () => {
      const lines = (await operator.metrics()).split('\n').filter((l) => l.includes('namespace="popup"') && !l.startsWith('#'));
      const entityInfo = lines.some((l) => l.startsWith('backlot_entity_info{') && l.includes('kind="Component",namespace="popup",name="stall"'));
      const orphan = lines.some((l) => l.startsWith('backlot_orphaned_workload{') && l.includes('workload="leftover"'));
      if (entityInfo && orphan) return lines;
      const stall = await entity('component', 'popup', 'stall').catch((err: Error) => err.message);
      throw new Error(`popup series: ${JSON.stringify(lines)}; stall: ${JSON.stringify(stall)}`);
    });
    expect(series.length).toBeGreaterThan(1);

    await kubectl('delete', 'namespace', 'popup', '--wait=false');
    await eventually(
      'the namespace controller to remove popup',
      async () => ((await cluster.kubectl(['get', 'namespace', 'popup'])).code !== 0 ? true : undefined),
      90_000,
      500,
    );
    await eventually('every popup series to disappear', async () => (!(await operator.metrics()).includes('namespace="popup"') ? true : undefined));
    expect((await operator.metrics()).split('\n').filter((l) => l.includes('popup'))).toEqual([]);
  });

  it('writes nothing after a restart', async () => {
    await eventually('every entity to converge', converged, 60_000);
    await rolledOut('shop', 'platform');
    // Let in-flight work settle: the idle window below is what the test is about.
    await sleep(3_000);
    expect(await operator.stop()).toBe(0);
    const beforeRestart = await writes();
    operator = await startOperator('backlot-2.log');
    await operator.waitReady();
    await sleep(5_000);
    const after = backlotWrites(beforeRestart, await writes());
    if (Object.keys(after).length > 0) {
      process.stderr.write(`[real-controllers] domains after restart: ${await kubectl('get', 'domains', '-A', '-o', 'yaml')}\n`);
      process.stderr.write(
        `[real-controllers] events: ${await kubectl('get', 'events', '-A', '--sort-by=.lastTimestamp', '-o', 'custom-columns=NS:.metadata.namespace,OBJ:.involvedObject.name,KIND:.involvedObject.kind,REASON:.reason,SRC:.source.component,MSG:.message,T:.lastTimestamp')}\n`,
      );
    }
    expect(after).toEqual({});
    expect(await converged()).toBe(true);
  });
});
