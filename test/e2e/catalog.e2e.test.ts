/**
 * The product end to end: `backlot run` as a real process against a control plane of its
 * own, driven through the examples/ catalog by realistic stories. Workload readiness is
 * written by the test, standing in for the controllers a test cluster lacks. Its metrics are
 * secure as in a cluster: read over HTTPS with the token of a ServiceAccount bound to
 * backlot-metrics-reader, the export with one bound to backlot-catalog-viewer.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { changeReadyCount, GenerationFollower, makeNamespaceReady, setReplicasReady } from '../../src/envtest/simulate.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { httpsGet } from '../../src/envtest/https-get.ts';
import { BacklotProcess } from '../../src/envtest/operator-process.ts';
import { eventually } from '../support/eventually.ts';
import { mutatingRequests, writesBetween, type WriteCounts } from '../support/apiserver-writes.ts';
import { Prometheus } from '../support/prometheus.ts';
import {
  boundServiceAccount,
  METRICS_READER_ROLE,
  METRICS_READER_ROLE_PATH,
  USER_ROLES_PATH,
  VIEWER_ROLE,
  type BoundServiceAccount,
} from '../support/tenant.ts';

const ROOT = join(import.meta.dirname, '../..');
const BACKLOT_WRITES = / (deployments|statefulsets|daemonsets|cronjobs|services|components|systems|resources|apis|groups|domains|events)(\/status)?$/;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

interface Entity {
  metadata: { name: string; generation: number };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    workloads?: { kind: string; name: string; ready: boolean }[];
    dependencies?: { ref: string; found: boolean; ready: boolean }[];
  };
}

describe('backlot run, end to end', () => {
  let plane: ControlPlane;
  let client: RestClient;
  let operator: BacklotProcess;
  let follower: GenerationFollower;
  let prometheusAccount: BoundServiceAccount;
  let backstageAccount: BoundServiceAccount;

  const kubectl = async (...args: string[]) => {
    const r = await plane.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const getJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await kubectl('get', ...args, '-o', 'json')) as T;
  const condition = (e: Entity, type: string) => e.status?.conditions?.find((c) => c.type === type);
  const entity = (kind: string, namespace: string, name: string) => getJson<Entity>(kind, '-n', namespace, name);
  const annotations = async (kind: string, namespace: string, name: string) =>
    (await getJson<{ metadata: { annotations?: Record<string, string>; labels?: Record<string, string> } }>(kind, '-n', namespace, name)).metadata;
  const writes = async (): Promise<WriteCounts> => mutatingRequests(await kubectl('get', '--raw', '/metrics'));
  /** The writes Backlot could have made: the API server writes some objects of its own (default/kubernetes endpoints). */
  const backlotWrites = (before: WriteCounts, after: WriteCounts) =>
    Object.fromEntries(Object.entries(writesBetween(before, after).byResource).filter(([k]) => BACKLOT_WRITES.test(k)));

  /** The operator as every step of the story runs it: secure metrics, read with Prometheus's token. */
  const startOperator = (log: string) =>
    BacklotProcess.start({
      kubeconfig: plane.kubeconfigPath,
      logPath: join(plane.dir, log),
      metricsToken: prometheusAccount.token,
      extraArgs: ['--leader-elect=false'],
    });

  /** Every entity has a status for its current generation. */
  const converged = async (): Promise<true | undefined> => {
    const list = await getJson<{ items: Entity[] }>('catalog', '-A');
    return list.items.length > 0 && list.items.every((e) => e.status?.observedGeneration === e.metadata.generation && condition(e, 'Ready')) ? true : undefined;
  };

  beforeAll(async () => {
    plane = await ControlPlane.start();
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    client = new RestClient(kc);
    await kubectl('apply', '-f', join(ROOT, 'crds'));
    await kubectl('wait', '--for', 'condition=Established', 'crd', '--all', '--timeout=60s');
    await kubectl('apply', '-f', join(ROOT, 'examples/00-namespaces.yaml'));
    await kubectl('apply', '-R', '-f', join(ROOT, 'examples'));
    await makeNamespaceReady(client, 'shop');
    await makeNamespaceReady(client, 'platform');
    // Ownership annotations move a Deployment's generation; a real controller would observe it at once.
    follower = new GenerationFollower(client, ['shop', 'platform']);
    follower.start();
    await kubectl('apply', '-f', METRICS_READER_ROLE_PATH, '-f', USER_ROLES_PATH);
    await kubectl('create', 'namespace', 'monitoring');
    prometheusAccount = await boundServiceAccount(client, { namespace: 'monitoring', name: 'prometheus', clusterRoles: [METRICS_READER_ROLE] });
    backstageAccount = await boundServiceAccount(client, { namespace: 'monitoring', name: 'backstage', clusterRoles: [VIEWER_ROLE] });
    operator = await startOperator('backlot.log');
    await operator.waitReady();
  });

  afterAll(async () => {
    await follower?.stop();
    await operator?.stop();
    await plane?.stop();
  });

  it('converges: every entity has a status, every claimed workload its ownership', async () => {
    await eventually('every entity to converge', converged, 60_000);
    const checkout = await entity('component', 'shop', 'checkout');
    expect(condition(checkout, 'Ready')).toMatchObject({ status: 'True', reason: 'AllWorkloadsReady' });
    expect(condition(checkout, 'DependenciesReady')).toMatchObject({ status: 'True' });
    expect(condition(checkout, 'RefsResolved')).toMatchObject({ status: 'True' });
    const meta = await eventually('checkout to be annotated', async () => {
      const m = await annotations('deployment', 'shop', 'checkout');
      return m.annotations?.['backlot.dev/entity'] ? m : undefined;
    });
    expect(meta.annotations).toMatchObject({
      'backlot.dev/entity': 'component:shop/checkout',
      'backlot.dev/owner': 'group:shop/team-payments',
      'backlot.dev/system': 'system:shop/webshop',
      'backlot.dev/lifecycle': 'production',
    });
    expect(meta.labels?.['backlot.dev/owner']).toBe('team-payments');
    expect(meta.labels?.['backlot.dev/owner-namespace']).toBe('shop');
    const catalogInfo = await httpsGet(operator.metricsUrl.replace(/\/metrics$/, '/catalog-info.yaml'), { token: backstageAccount.token });
    expect(catalogInfo.status).toBe(200);
    const yaml = catalogInfo.body;
    expect(yaml).toContain('apiVersion: backstage.io/v1alpha1');
    expect(yaml).toMatch(/kind: Component\n(.*\n)*?\s+name: checkout\n/);
    const byOwner = await kubectl('get', 'deploy', '-A', '-l', 'backlot.dev/owner=team-payments', '-o', 'name');
    expect(byOwner.split('\n').filter(Boolean).sort()).toEqual(expect.arrayContaining(['deployment.apps/checkout', 'deployment.apps/payments-gateway']));
  });

  it('writes nothing more once converged, and nothing after a restart', async () => {
    await eventually('every entity to converge', converged, 60_000);
    // Let in-flight work settle, then watch for writes over an idle window.
    await new Promise((r) => setTimeout(r, 3_000));
    const before = await writes();
    await new Promise((r) => setTimeout(r, 5_000));
    expect(backlotWrites(before, await writes())).toEqual({});

    expect(await operator.stop()).toBe(0);
    const beforeRestart = await writes();
    operator = await startOperator('backlot-2.log');
    await operator.waitReady();
    await new Promise((r) => setTimeout(r, 5_000));
    expect(backlotWrites(beforeRestart, await writes())).toEqual({});
  });

  it('a rollout that goes unready and recovers: the component, not its dependents, turns red', async () => {
    // One pod of three turns unready: a status write of the ready counts alone.
    await changeReadyCount(client, 'Deployment', { namespace: 'shop', name: 'payments-gateway' }, 1);
    const gateway = await eventually('payments-gateway to turn not ready', async () => {
      const e = await entity('component', 'shop', 'payments-gateway');
      return condition(e, 'Ready')?.status === 'False' ? e : undefined;
    });
    expect(condition(gateway, 'Ready')).toMatchObject({ reason: 'WorkloadsNotReady' });
    expect(condition(gateway, 'Ready')?.message).toContain('Deployment payments-gateway (1/3 replicas ready');
    // checkout depends on payments-gateway: its own Ready stays True, its DependenciesReady turns False.
    const checkout = await eventually('checkout to see its dependency fail', async () => {
      const e = await entity('component', 'shop', 'checkout');
      return condition(e, 'DependenciesReady')?.status === 'False' ? e : undefined;
    });
    expect(condition(checkout, 'DependenciesReady')).toMatchObject({
      reason: 'DependencyNotReady',
      message: expect.stringContaining('component:shop/payments-gateway'),
    });
    expect(condition(checkout, 'Ready')?.status).toBe('True');
    // Events are sent in the background, a moment after the status.
    await eventually('a WorkloadsNotReady event about payments-gateway', async () => {
      const events = await kubectl(
        'get',
        'events',
        '-n',
        'shop',
        '--field-selector',
        'involvedObject.name=payments-gateway',
        '-o',
        'jsonpath={.items[*].reason}',
      );
      return events.split(' ').includes('WorkloadsNotReady') ? true : undefined;
    });

    await setReplicasReady(client, 'Deployment', { namespace: 'shop', name: 'payments-gateway' });
    await eventually('checkout to recover', async () =>
      condition(await entity('component', 'shop', 'checkout'), 'DependenciesReady')?.status === 'True' ? true : undefined,
    );
    expect(condition(await entity('component', 'shop', 'payments-gateway'), 'Ready')?.status).toBe('True');
  });

  it('a dependency that disappears and returns', async () => {
    const manifest = await kubectl('get', 'resource', '-n', 'shop', 'orders-db', '-o', 'yaml');
    await kubectl('delete', 'resource', '-n', 'shop', 'orders-db');
    const checkout = await eventually('checkout to miss orders-db', async () => {
      const e = await entity('component', 'shop', 'checkout');
      return condition(e, 'DependenciesReady')?.reason === 'DependencyNotFound' ? e : undefined;
    });
    expect(condition(checkout, 'DependenciesReady')?.message).toBe('not found: resource:shop/orders-db');
    expect(checkout.status?.dependencies).toContainEqual({ ref: 'resource:shop/orders-db', found: false, ready: false });

    const restored = manifest.replace(/^\s+(resourceVersion|uid|creationTimestamp):.*$/gm, '');
    const applied = await plane.kubectl(['apply', '-f', '-'], { input: restored });
    expect(applied.code).toBe(0);
    await eventually('checkout to find orders-db again', async () =>
      condition(await entity('component', 'shop', 'checkout'), 'DependenciesReady')?.status === 'True' ? true : undefined,
    );
  });

  it('an owner that changes moves the ownership written on the workloads', async () => {
    await kubectl('patch', 'component', '-n', 'shop', 'checkout', '--type=merge', '-p', '{"spec":{"owner":"team-storefront"}}');
    const meta = await eventually('checkout workloads to follow the new owner', async () => {
      const m = await annotations('deployment', 'shop', 'checkout');
      return m.labels?.['backlot.dev/owner'] === 'team-storefront' ? m : undefined;
    });
    expect(meta.annotations?.['backlot.dev/owner']).toBe('group:shop/team-storefront');
    const svc = await eventually('the Service too', async () => {
      const m = await annotations('service', 'shop', 'checkout');
      return m.annotations?.['backlot.dev/owner'] === 'group:shop/team-storefront' ? m : undefined;
    });
    expect(svc.labels?.['backlot.dev/owner']).toBe('team-storefront');
    await kubectl('patch', 'component', '-n', 'shop', 'checkout', '--type=merge', '-p', '{"spec":{"owner":"team-payments"}}');
  });

  it('an orphan appears, is reported, and leaves the orphan set when claimed', async () => {
    await kubectl('create', 'deployment', '-n', 'shop', 'newcomer', '--image=registry.example/newcomer:1');
    const series =
      'backlot_orphaned_workload{namespace="shop",workload_kind="Deployment",workload="newcomer",namespace_owner="team-storefront",namespace_owner_namespace="shop"} 1';
    await eventually('newcomer to be reported as an orphan', async () => ((await operator.metrics()).includes(series) ? true : undefined));
    const orphans = (await operator.metrics()).split('\n').filter((l) => l.startsWith('backlot_orphaned_workload{'));
    expect(orphans).toContain(series);

    await kubectl('label', 'deployment', '-n', 'shop', 'newcomer', 'backstage.io/kubernetes-id=cart');
    await eventually('newcomer to leave the orphan set', async () =>
      !(await operator.metrics()).includes('workload="newcomer",namespace_owner') ? true : undefined,
    );
    const meta = await eventually('newcomer to be annotated', async () => {
      const m = await annotations('deployment', 'shop', 'newcomer');
      return m.annotations?.['backlot.dev/entity'] === 'component:shop/cart' ? m : undefined;
    });
    expect(meta.labels?.['backlot.dev/owner']).toBe('team-storefront');
    expect(await operator.metrics()).toContain(
      'backlot_workload_owner_info{namespace="shop",workload_kind="Deployment",workload="newcomer",entity="component:shop/cart",owner="team-storefront",owner_namespace="shop",system="webshop"} 1',
    );
  });

  it("an entity deleted: its workloads lose Backlot's fields and nothing else, and become orphans", async () => {
    await kubectl('annotate', 'deployment', '-n', 'shop', 'cart', 'team.example/pager=cart-oncall');
    await kubectl('delete', 'component', '-n', 'shop', 'cart');
    const meta = await eventually('cart to lose its ownership', async () => {
      const m = await annotations('deployment', 'shop', 'cart');
      return m.annotations?.['backlot.dev/entity'] === undefined ? m : undefined;
    });
    expect(Object.keys(meta.annotations ?? {}).filter((k) => k.startsWith('backlot.dev/'))).toEqual([]);
    expect(meta.labels?.['backlot.dev/owner']).toBeUndefined();
    expect(meta.annotations?.['team.example/pager']).toBe('cart-oncall');
    expect(meta.labels?.['backstage.io/kubernetes-id']).toBe('cart');
    await eventually('cart to be an orphan', async () =>
      (await operator.metrics()).includes('workload_kind="Deployment",workload="cart",namespace_owner="team-storefront",namespace_owner_namespace="shop"} 1')
        ? true
        : undefined,
    );
  });

  it('writes nothing after a restart once claims have ended and moved', async () => {
    await eventually('every entity to converge', converged, 60_000);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await operator.stop()).toBe(0);
    const beforeRestart = await writes();
    operator = await startOperator('backlot-3.log');
    await operator.waitReady();
    await new Promise((r) => setTimeout(r, 5_000));
    expect(backlotWrites(beforeRestart, await writes())).toEqual({});
  });

  it('a real Prometheus scrapes it: the orphan series, and the alert rule pending on it', async () => {
    const prometheus = await Prometheus.start({
      targets: [new URL(operator.metricsUrl).host],
      ruleFiles: [join(ROOT, 'deploy/alerts/backlot.rules.yaml')],
      secure: { token: prometheusAccount.token },
    });
    try {
      const series = await eventually('Prometheus to have the orphan series', async () => {
        const r = await prometheus.query('backlot_orphaned_workload{workload="promo-banner"}');
        return r.length > 0 ? r : undefined;
      });
      expect(series[0]?.metric).toMatchObject({
        namespace: 'shop',
        workload_kind: 'Deployment',
        workload: 'promo-banner',
        namespace_owner: 'team-storefront',
        job: 'backlot',
      });
      // The rule's result: the alert is pending (its `for` is 30 minutes) with the owner to route to.
      const alert = await eventually('BacklotOrphanedWorkload to be pending', async () =>
        (await prometheus.alerts()).find((a) => a.labels.alertname === 'BacklotOrphanedWorkload' && a.labels.workload === 'promo-banner'),
      );
      expect(alert).toMatchObject({ state: 'pending', labels: { owner: 'team-storefront', severity: 'info' } });
      expect(await prometheus.query('backlot_leader')).toHaveLength(1);
    } finally {
      await prometheus.stop();
    }
  });

  it('a Prometheus without a token, or with one not bound to backlot-metrics-reader, sees the target down with 401 or 403', async () => {
    const target = [new URL(operator.metricsUrl).host];
    const nobody = await boundServiceAccount(client, { namespace: 'monitoring', name: 'nobody' });
    const lastErrors: string[] = [];
    for (const secure of [{}, { token: nobody.token }]) {
      const prometheus = await Prometheus.start({ targets: target, secure });
      try {
        const [t] = await eventually('the target to be scraped', async () => ((await prometheus.targets())[0]?.lastError ? prometheus.targets() : undefined));
        expect(t!.health).toBe('down');
        lastErrors.push(t!.lastError);
      } finally {
        await prometheus.stop();
      }
    }
    expect(lastErrors).toEqual(['server returned HTTP status 401 Unauthorized', 'server returned HTTP status 403 Forbidden']);
  });
});
