/**
 * charts/backlot installed with `helm install` into a namespace of its own, under a release
 * name that is not the chart's (so every name the chart derives, the ServiceAccount, the Lease,
 * the roles and the admission policy's match, is exercised), then run as its ServiceAccount the
 * way deploy-install runs deploy/: two replicas from the installed Deployment's args and
 * environment, as sandboxed host processes with the ServiceAccount's token.
 *
 * Proven here: the pod template meets the restricted Pod Security Standard; the examples
 * converge under the chart's RBAC and admission policy with not one 403 and not one refusal;
 * the policy holds the chart's ServiceAccount; the replicas serve /metrics over HTTPS to a
 * token bound to the chart's metrics reader role only; `helm upgrade` with changed flags (and
 * the plain catalog port for Backstage) changes the pod template (the rollout), a value
 * outside the pods does not, and the replicas of the new template take over and serve the
 * export on that port without a token; `helm uninstall` keeps the CRDs and the catalog, and
 * deletes them with crds.keep=false.
 *
 * This file has a control plane of its own, as deploy-install has: the chart's CRDs are
 * cluster-scoped and the last test deletes them, which the shared plane's other files must
 * never see (test/support/crds.ts), and its admission policy binds every namespace.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { httpsGet } from '../../src/envtest/https-get.ts';
import type { GenerationFollower } from '../../src/envtest/simulate.ts';
import { apply } from '../../src/k8s/apply.ts';
import { narrowError } from '../../src/k8s/errors.ts';
import { WORKLOAD_RESOURCES } from '../../src/api/workloads.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { forbiddenRequests, type DeploymentObject } from '../support/deploy.ts';
import { policyDenials } from '../support/deploy-least-power.ts';
import { MONITORING_STAND_IN_CRDS } from '../support/deploy-monitoring-crds.ts';
import {
  applyExamples,
  catalogConverged,
  leadingReplicas,
  replicaMetrics,
  serviceAccountClient,
  startReplicas,
  type Replica,
} from '../support/deploy-replicas.ts';
import { stageImage, type StagedImage } from '../support/pod-image.ts';
import { eventually } from '../support/eventually.ts';
import { Helm } from '../support/helm.ts';
import { boundServiceAccount, type BoundServiceAccount } from '../support/tenant.ts';

const RELEASE = 'catalog';
const NAMESPACE = 'platform-tools';
/** The chart's full name for this release: every object's name starts with it. */
const FULLNAME = 'catalog-backlot';
const POLICY = `${FULLNAME}-operator-least-power`;
const CRD_SELECTOR = 'app.kubernetes.io/part-of=backlot';

describe('Backlot installed with `helm install`, running as its ServiceAccount', () => {
  let plane: ControlPlane;
  let admin: RestClient;
  let adminConfig: KubeConfig;
  let helm: Helm;
  let work: string;
  /** What the replicas run, staged where their UID can read it. */
  let image: StagedImage;
  let follower: GenerationFollower | undefined;
  let replicas: Replica[] = [];
  /** Prometheus's ServiceAccount, bound to the chart's metrics reader ClusterRole. */
  let prometheusAccount: BoundServiceAccount;
  const timings: string[] = [];

  const kubectl = async (...args: string[]) => {
    const r = await plane.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} (exit ${r.code}): ${r.stderr}`);
    return r.stdout;
  };
  const getJson = async <T>(...args: string[]): Promise<T> => JSON.parse(await kubectl('get', ...args, '-o', 'json')) as T;
  const apiServerMetrics = () => kubectl('get', '--raw', '/metrics');
  const deployment = () => getJson<DeploymentObject & { metadata: { generation: number } }>('deployment', '-n', NAMESPACE, FULLNAME);
  const crdNames = async () => (await getJson<{ items: { metadata: { name: string } }[] }>('crd', '-l', CRD_SELECTOR)).items.map((c) => c.metadata.name).sort();
  /** `helm <command> ...`, timed for the closing figures. */
  const timed = async (what: string, args: string[]) => {
    const started = Date.now();
    const out = await helm.ok(args);
    timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return out;
  };
  const stopReplicas = async () => {
    // Standbys first, or one would take the Lease the leader releases.
    const leaders = await leadingReplicas(replicas);
    for (const r of replicas.filter((x) => !leaders.includes(x))) await r.process.stop();
    for (const r of leaders) await r.process.stop();
    replicas = [];
  };

  beforeAll(async () => {
    plane = await ControlPlane.start();
    adminConfig = new KubeConfig();
    adminConfig.loadFromFile(plane.kubeconfigPath);
    admin = new RestClient(adminConfig);
    helm = await Helm.create({ kubeconfig: plane.kubeconfigPath });
    work = await mkdtemp(join(tmpdir(), 'backlot-chart-install-'));
    await chmod(work, 0o755);
    image = await stageImage();
  });

  afterAll(async () => {
    await follower?.stop();
    await Promise.all(replicas.map((r) => r.process.stop()));
    await plane?.stop();
    await helm?.remove();
    if (work) await rm(work, { recursive: true, force: true });
    if (image) await image.remove();
    if (timings.length > 0) process.stderr.write(`[chart-install] ${timings.join(', ')}\n`);
  });

  it('installs with `helm install --create-namespace`: the CRDs established and kept by policy, every object named after the release', async () => {
    const out = await timed('helm install', ['install', ...(await helm.releaseArgs({ release: RELEASE, namespace: NAMESPACE })), '--create-namespace']);
    expect(out).toContain('STATUS: deployed');
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', CRD_SELECTOR);
    expect(await crdNames()).toHaveLength(6);
    for (const name of await crdNames())
      expect((await getJson<{ metadata: { annotations: Record<string, string> } }>('crd', name)).metadata.annotations).toMatchObject({
        'helm.sh/resource-policy': 'keep',
        'meta.helm.sh/release-name': RELEASE,
      });
    const stored = await deployment();
    expect(stored.spec.template.spec.serviceAccountName).toBe(FULLNAME);
    expect(stored.spec.template.spec.containers[0]!.args).toContain(`--leader-election-id=${FULLNAME}-leader`);
    for (const [kind, name] of [
      ['serviceaccount', FULLNAME],
      ['service', `${FULLNAME}-metrics`],
      ['poddisruptionbudget', FULLNAME],
      ['networkpolicy', FULLNAME],
      ['role', `${FULLNAME}-leader-election`],
    ]) {
      expect((await getJson<{ metadata: { namespace: string } }>(kind!, '-n', NAMESPACE, name!)).metadata.namespace).toBe(NAMESPACE);
    }
    for (const name of [
      `clusterrole/${FULLNAME}-operator`,
      `clusterrolebinding/${FULLNAME}-operator`,
      `clusterrole/${FULLNAME}-metrics-reader`,
      `validatingadmissionpolicy/${POLICY}`,
      `validatingadmissionpolicybinding/${POLICY}`,
    ])
      await kubectl('get', name);
    // Prometheus, bound to the reader role the chart ships, as the README has it.
    await kubectl('create', 'namespace', 'monitoring');
    prometheusAccount = await boundServiceAccount(admin, { namespace: 'monitoring', name: 'prometheus', clusterRoles: [`${FULLNAME}-metrics-reader`] });
    // The label the README gives the namespace: the pod template meets the restricted Pod
    // Security Standard (a Deployment that did not would draw a warning from the API server).
    await kubectl('label', 'namespace', NAMESPACE, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted');
    const copy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'pod-security-check', namespace: NAMESPACE }, spec: stored.spec };
    const dry = await plane.kubectl(['create', '--dry-run=server', '-f', '-'], { input: JSON.stringify(copy) });
    expect([dry.code, dry.stderr]).toEqual([0, '']);
  });

  it("holds the chart's ServiceAccount to backlot.dev/ metadata with the chart's admission policy", async () => {
    const ns = 'least-power';
    await kubectl('create', 'namespace', ns);
    const labels = { app: 'least-power' };
    await plane.kubectl(['apply', '-f', '-'], {
      input: stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'least-power', namespace: ns },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'registry.example/app:1' }] } },
        },
      }),
    });
    const uid = (await getJson<{ metadata: { uid: string } }>('deployment', '-n', ns, 'least-power')).metadata.uid;
    const operator = await serviceAccountClient(admin, adminConfig, NAMESPACE, FULLNAME);
    const write = async (body: Record<string, unknown>) => {
      try {
        await apply(operator, {
          resource: WORKLOAD_RESOURCES.Deployment,
          namespace: ns,
          name: 'least-power',
          body: {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'least-power', namespace: ns, uid, ...(body.metadata as object) },
            ...(body.spec ? { spec: body.spec } : {}),
          },
        });
        return 'applied';
      } catch (err) {
        const e = narrowError(err);
        return `${e.status} ${e.message}`;
      }
    };
    // Another image at each try: a try made before the API server has loaded the policy changes it.
    let tries = 0;
    const changeImage = () => write({ spec: { template: { spec: { containers: [{ name: 'app', image: `attacker.example/app:${++tries}` }] } } } });
    await eventually('the policy to be in force', async () => ((await changeImage()).startsWith('403') ? true : undefined));
    expect(await changeImage()).toMatch(
      new RegExp(
        `^403 .*ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: Backlot's ServiceAccount may change only backlot\\.dev/ labels and annotations: this request changes the spec or the status$`,
      ),
    );
    expect(await write({ metadata: { annotations: { 'backlot.dev/entity': `component:${ns}/app` } } })).toBe('applied');
  });

  it('converges the examples as the ServiceAccount, two replicas with one leader, with zero 403 responses and zero refusals by the policy', async () => {
    const before = forbiddenRequests(await apiServerMetrics());
    const denialsBefore = policyDenials(await apiServerMetrics())[POLICY] ?? 0;
    follower = await applyExamples(plane, admin);

    const started = Date.now();
    replicas = await startReplicas({
      plane,
      admin,
      deployment: await deployment(),
      namespace: NAMESPACE,
      names: [`${FULLNAME}-6f7d9c8b4-k2m4p`, `${FULLNAME}-6f7d9c8b4-q8r2t`],
      work,
      image,
      metricsToken: prometheusAccount.token,
    });
    const converged = await catalogConverged(plane);
    timings.push(`convergence of ${converged.length} entities ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(converged.length).toBeGreaterThan(30);
    const checkout = await eventually('the ownership annotations on a claimed workload', async () => {
      const d = await getJson<{ metadata: { annotations?: Record<string, string> } }>('deployment', '-n', 'shop', 'checkout');
      return d.metadata.annotations?.['backlot.dev/entity'] ? d : undefined;
    });
    expect(checkout.metadata.annotations?.['backlot.dev/owner']).toBe('group:shop/team-payments');

    const leading = await eventually('exactly one replica to lead', async () =>
      (await leadingReplicas(replicas)).length === 1 ? leadingReplicas(replicas) : undefined,
    );
    const lease = await getJson<{ spec: { holderIdentity: string } }>('lease', '-n', NAMESPACE, `${FULLNAME}-leader`);
    expect(lease.spec.holderIdentity.startsWith(`${leading[0]!.name}_`)).toBe(true);
    // /metrics is HTTPS (leadingReplicas read it with Prometheus's token): without one, 401.
    for (const r of replicas) expect([r.metricsUrl.split(':')[0], (await httpsGet(r.metricsUrl)).status]).toEqual(['https', 401]);

    const after = forbiddenRequests(await apiServerMetrics());
    expect(after.byRequest).toEqual(before.byRequest);
    expect((policyDenials(await apiServerMetrics())[POLICY] ?? 0) - denialsBefore).toBe(0);
    for (const r of replicas) expect(r.process.logs()).not.toMatch(/forbidden|denied|"status":40[13]|"status":422/i);
  });

  it('rolls the Deployment on `helm upgrade` with a changed flag, not with a value outside the pods, and the new replicas take over', async () => {
    const before = await deployment();
    // Monitoring objects: no change to the pods. (Stand-ins for the Prometheus Operator's CRDs.)
    await plane.kubectl(['apply', '-f', '-'], { input: MONITORING_STAND_IN_CRDS.map((c) => stringify(c)).join('---\n') });
    await kubectl(
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
    );
    const monitoring = ['--set', 'serviceMonitor.enabled=true,prometheusRule.enabled=true,grafanaDashboard.enabled=true'];
    await eventually('discovery to serve monitoring.coreos.com', async () => {
      const r = await helm.run(['upgrade', ...(await helm.releaseArgs({ release: RELEASE, namespace: NAMESPACE })), '--reuse-values', ...monitoring]);
      if (r.code === 0) return true;
      if (!/no matches for kind|resource mapping not found|could not find the requested resource/.test(r.stderr)) throw new Error(r.stderr);
      return undefined;
    });
    for (const name of [`servicemonitor/${FULLNAME}`, `prometheusrule/${FULLNAME}`, `configmap/${FULLNAME}-grafana-dashboard`])
      await kubectl('get', '-n', NAMESPACE, name);
    const unchanged = await deployment();
    expect(unchanged.metadata.generation).toBe(before.metadata.generation);
    expect(unchanged.spec.template).toEqual(before.spec.template);

    // Flags, and the plain catalog port: a new pod template, which the Deployment controller rolls out.
    await timed('helm upgrade', [
      'upgrade',
      ...(await helm.releaseArgs({ release: RELEASE, namespace: NAMESPACE })),
      '--reuse-values',
      '--set',
      'logLevel=debug,workers=8,catalog.enabled=true',
    ]);
    const rolled = await deployment();
    expect(rolled.metadata.generation).toBe(before.metadata.generation + 1);
    const args = (d: DeploymentObject) => d.spec.template.spec.containers[0]!.args ?? [];
    expect(args(rolled).filter((a) => !args(before).includes(a))).toEqual(['--log-level=debug', '--catalog-bind-address=:8082', '--workers=8']);
    expect({ ...rolled.spec.template, spec: { ...rolled.spec.template.spec, containers: [] } }).toEqual({
      ...before.spec.template,
      spec: { ...before.spec.template.spec, containers: [] },
    });
    const catalogService = await getJson<{ spec: { ports: { name: string; port: number; targetPort: string }[] } }>(
      'service',
      '-n',
      NAMESPACE,
      `${FULLNAME}-catalog`,
    );
    expect(catalogService.spec.ports).toMatchObject([{ name: 'catalog', port: 8082, targetPort: 'catalog' }]);

    // The rollout, as the kubelet would carry it out: the old pods go, the new template's come.
    await stopReplicas();
    replicas = await startReplicas({
      plane,
      admin,
      deployment: rolled,
      namespace: NAMESPACE,
      names: [`${FULLNAME}-5c4b8d7f9-w3x5z`, `${FULLNAME}-5c4b8d7f9-h6j8n`],
      work,
      image,
      metricsToken: prometheusAccount.token,
    });
    await eventually('one of the new replicas to lead', async () => ((await leadingReplicas(replicas)).length === 1 ? true : undefined));
    // The new leader reconciles: a change made now reaches status, and it logs at debug level.
    await kubectl('patch', 'component', '-n', 'shop', 'order-service', '--type=merge', '-p', '{"spec":{"description":"Rolled out with the new flags"}}');
    await catalogConverged(plane);
    const leader = (await leadingReplicas(replicas))[0]!;
    expect(leader.process.logs()).toMatch(/"level":20/);
    expect(await replicaMetrics(leader)).toMatch(/^backlot_leader 1$/m);
    // The export on the plain catalog port, with no token, as Backstage's URL reader reads it.
    const exported = await fetch(`${leader.catalogUrl!}/catalog-info.yaml`);
    expect(exported.status).toBe(200);
    expect(await exported.text()).toMatch(/^kind: Component$/m);
  });

  it('keeps the CRDs and the catalog on `helm uninstall`, and removes everything else', async () => {
    await stopReplicas();
    const entities = (await getJson<{ items: unknown[] }>('catalog', '-A')).items.length;
    const out = await timed('helm uninstall', ['uninstall', RELEASE, '--namespace', NAMESPACE]);
    expect(out).toMatch(/These resources were kept due to the resource policy:[\s\S]*CustomResourceDefinition/);
    expect(await crdNames()).toHaveLength(6);
    expect((await getJson<{ items: unknown[] }>('catalog', '-A')).items).toHaveLength(entities);
    const left = async () =>
      (
        await plane.kubectl([
          'get',
          'deployment,serviceaccount,service,role,rolebinding,poddisruptionbudget,networkpolicy,servicemonitor,prometheusrule,configmap',
          '-n',
          NAMESPACE,
          '-l',
          `app.kubernetes.io/instance=${RELEASE}`,
          '-o',
          'name',
        ])
      ).stdout.trim();
    await eventually("the release's namespaced objects to be deleted", async () => ((await left()) === '' ? true : undefined));
    for (const name of [
      `clusterrole/${FULLNAME}-operator`,
      `clusterrolebinding/${FULLNAME}-operator`,
      `validatingadmissionpolicy/${POLICY}`,
      `clusterrole/${FULLNAME}-catalog-editor`,
      `clusterrole/${FULLNAME}-metrics-reader`,
    ]) {
      expect((await plane.kubectl(['get', name])).stderr).toMatch(/NotFound/);
    }
  });

  it('deletes the CRDs, and the catalog with them, on `helm uninstall` of a release installed with crds.keep=false', async () => {
    // The kept CRDs still carry the release's ownership, so the same release takes them back.
    await timed('helm install (crds.keep=false, CRDs adopted)', [
      'install',
      ...(await helm.releaseArgs({ release: RELEASE, namespace: NAMESPACE, values: { crds: { keep: false } } })),
    ]);
    for (const name of await crdNames())
      expect(
        (await getJson<{ metadata: { annotations: Record<string, string> } }>('crd', name)).metadata.annotations['helm.sh/resource-policy'],
      ).toBeUndefined();
    await timed('helm uninstall (crds.keep=false)', ['uninstall', RELEASE, '--namespace', NAMESPACE]);
    await eventually('the CRDs to be deleted', async () => ((await crdNames()).length === 0 ? true : undefined), 60_000);
    expect((await plane.kubectl(['get', 'components.catalog.backlot.dev', '-A'])).stderr).toMatch(/the server doesn't have a resource type/);
  });
});
