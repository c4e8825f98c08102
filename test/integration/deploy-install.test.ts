/**
 * Backlot installed from deploy/ into a control plane of this file's own, and run the way the
 * Deployment runs it: two replicas, each in a pod-like sandbox (UID 65532, read-only root)
 * that has only what a pod has, the service account's token and CA at
 * /var/run/secrets/kubernetes.io/serviceaccount and KUBERNETES_SERVICE_HOST/PORT, so the
 * operator authenticates as system:serviceaccount:backlot-system:backlot through its
 * in-cluster configuration. The token is minted with the TokenRequest API.
 *
 * Proven here: the manifests pass a server-side dry run and apply cleanly; the shipped
 * ValidatingAdmissionPolicy refuses the identity any write to a workload but of backlot.dev/
 * labels and annotations, in whatever namespace the ServiceAccount is installed; under the
 * shipped RBAC and that policy the examples converge with not one 403 from the API server
 * and not one refusal by the policy (its own counters);
 * `kubectl auth can-i` shows what the identity may and may not do; a tenant who can write in
 * one namespace cannot make Backlot touch another's workloads; and every query of the Grafana
 * dashboard runs on a real Prometheus scraping both replicas as the shipped ServiceMonitor
 * says: over HTTPS, with the token of a ServiceAccount bound to backlot-metrics-reader.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { ControlPlane } from '../../src/envtest/controlplane.ts';
import { httpsGet } from '../../src/envtest/https-get.ts';
import { makeNamespaceReady, type GenerationFollower } from '../../src/envtest/simulate.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { apply } from '../../src/k8s/apply.ts';
import { narrowError } from '../../src/k8s/errors.ts';
import { collectionPath, objectPath } from '../../src/k8s/resource.ts';
import { DEPLOY_DIR, find, forbiddenRequests, kustomize, MONITORING_DIR, type DeploymentObject, type ServiceMonitorEndpoint } from '../support/deploy.ts';
import { policyDenials, workloadApplies, workloadFixtures } from '../support/deploy-least-power.ts';
import { dashboardPanels, exposedNames, metricNames, readDashboard, variableMetrics, withVariables } from '../support/deploy-dashboard.ts';
import { MONITORING_STAND_IN_CRDS } from '../support/deploy-monitoring-crds.ts';
import {
  applyExamples,
  catalogConverged,
  leadingReplicas,
  replicaMetrics,
  serviceAccountClient,
  startReplicas,
  type CatalogEntity,
  type Replica,
} from '../support/deploy-replicas.ts';
import { stageImage, type StagedImage } from '../support/pod-image.ts';
import { eventually } from '../support/eventually.ts';
import { Prometheus } from '../support/prometheus.ts';
import { boundServiceAccount, METRICS_READER_ROLE, mintToken as mintTokenWith, VIEWER_ROLE, type BoundServiceAccount } from '../support/tenant.ts';

const SA = 'system:serviceaccount:backlot-system:backlot';
const NAMESPACE = 'backlot-system';
const POLICY = 'backlot-operator-least-power';

describe('Backlot installed from deploy/, running as its ServiceAccount', () => {
  let plane: ControlPlane;
  let admin: RestClient;
  let adminConfig: KubeConfig;
  let work: string;
  /** What the replicas run, staged where their UID can read it. */
  let image: StagedImage;
  let deployment: DeploymentObject;
  let follower: GenerationFollower | undefined;
  const replicas: Replica[] = [];
  /** Refusals counted up to the end of the tenancy test (the tenant's own attempt). */
  let refusedSoFar = 0;
  /** Prometheus's ServiceAccount, bound to backlot-metrics-reader; and a Backstage backend's, to backlot-catalog-viewer cluster-wide. */
  let prometheusAccount: BoundServiceAccount;
  let backstageAccount: BoundServiceAccount;

  const kubectl = async (...args: string[]) => {
    const r = await plane.kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} (exit ${r.code}): ${r.stderr}`);
    return r;
  };
  const getJson = async <T>(...args: string[]): Promise<T> => JSON.parse((await kubectl('get', ...args, '-o', 'json')).stdout) as T;
  const forbidden = async () => forbiddenRequests((await kubectl('get', '--raw', '/metrics')).stdout);
  const apiServerMetrics = async () => (await kubectl('get', '--raw', '/metrics')).stdout;
  const denials = async () => policyDenials(await apiServerMetrics())[POLICY] ?? 0;
  const metrics = replicaMetrics;
  const leaders = () => leadingReplicas(replicas);

  const clientAs = (namespace: string, name: string) => serviceAccountClient(admin, adminConfig, namespace, name);
  const mintToken = (namespace: string, name: string) => mintTokenWith(admin, namespace, name);

  beforeAll(async () => {
    plane = await ControlPlane.start();
    adminConfig = new KubeConfig();
    adminConfig.loadFromFile(plane.kubeconfigPath);
    admin = new RestClient(adminConfig);
    work = await mkdtemp(join(tmpdir(), 'backlot-install-'));
    await chmod(work, 0o755);
    image = await stageImage();
    deployment = find<DeploymentObject>(await kustomize(plane.assets.kubectl, DEPLOY_DIR), 'Deployment', 'backlot');
  });

  afterAll(async () => {
    await follower?.stop();
    await Promise.all(replicas.map((r) => r.process.stop()));
    await plane?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    if (image) await image.remove();
  });

  it('passes `kubectl apply --dry-run=server -k deploy/` once its namespace exists, without a PodSecurity warning', async () => {
    // A server-side dry run persists nothing, so on a fresh cluster every object in the
    // namespace the same run would create fails with NotFound; the namespace comes first.
    await kubectl('apply', '-f', join(DEPLOY_DIR, 'namespace.yaml'));
    const dry = await plane.kubectl(['apply', '--dry-run=server', '-k', DEPLOY_DIR]);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('deployment.apps/backlot created (server dry run)');
    expect(dry.stdout).toContain('clusterrole.rbac.authorization.k8s.io/backlot-operator created (server dry run)');
    expect(dry.stdout).toContain(`validatingadmissionpolicy.admissionregistration.k8s.io/${POLICY} created (server dry run)`);
    expect(dry.stdout).toContain(`validatingadmissionpolicybinding.admissionregistration.k8s.io/${POLICY} created (server dry run)`);
    expect(dry.stdout).toContain('networkpolicy.networking.k8s.io/backlot created (server dry run)');
  });

  it('passes a server-side dry run of deploy/monitoring against stand-ins for the Prometheus Operator CRDs', async () => {
    const installed = await plane.kubectl(['apply', '-f', '-'], { input: MONITORING_STAND_IN_CRDS.map((c) => stringify(c)).join('---\n') });
    expect(installed.code).toBe(0);
    await kubectl(
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/servicemonitors.monitoring.coreos.com',
      'crd/prometheusrules.monitoring.coreos.com',
    );
    const dry = await eventually('discovery to serve monitoring.coreos.com', async () => {
      const r = await plane.kubectl(['apply', '--dry-run=server', '--validate=strict', '-k', MONITORING_DIR]);
      return r.code === 0 || !/no matches for kind|resource mapping not found/.test(r.stderr) ? r : undefined;
    });
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('prometheusrule.monitoring.coreos.com/backlot created (server dry run)');
    expect(dry.stdout).toContain('servicemonitor.monitoring.coreos.com/backlot created (server dry run)');
  });

  it('installs with `kubectl apply -k deploy/`: the CRDs are established, the pod template meets the restricted Pod Security Standard', async () => {
    const applied = await plane.kubectl(['apply', '-k', DEPLOY_DIR]);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    await kubectl('wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=backlot');
    const ns = await getJson<{ metadata: { labels: Record<string, string> } }>('namespace', NAMESPACE);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // Those who read the operator's secure port, with the roles deploy/ ships.
    await kubectl('create', 'namespace', 'monitoring');
    prometheusAccount = await boundServiceAccount(admin, { namespace: 'monitoring', name: 'prometheus', clusterRoles: [METRICS_READER_ROLE] });
    backstageAccount = await boundServiceAccount(admin, { namespace: 'monitoring', name: 'backstage', clusterRoles: [VIEWER_ROLE] });
  });

  it('stores the NetworkPolicy as shipped: the metrics and probe ports by name, egress to the API server and DNS only', async () => {
    const policy = await getJson<{
      spec: {
        policyTypes: string[];
        ingress: { from?: unknown[]; ports: { port: string | number; protocol: string }[] }[];
        egress: { ports: { port: number; protocol: string }[] }[];
      };
    }>('networkpolicy', '-n', NAMESPACE, 'backlot');
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(policy.spec.ingress).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'backlot.dev/metrics-access': 'true' } } }], ports: [{ port: 'metrics', protocol: 'TCP' }] },
      { ports: [{ port: 'probes', protocol: 'TCP' }] },
    ]);
    expect(policy.spec.egress.flatMap((e) => e.ports.map((p) => `${p.port}/${p.protocol}`))).toEqual(['443/TCP', '6443/TCP', '53/UDP', '53/TCP']);
  });

  it("keeps the Deployment's topology spread constraints as shipped: the API server drops none of their fields", async () => {
    const stored = await getJson<DeploymentObject>('deployment', '-n', NAMESPACE, 'backlot');
    expect(stored.spec.template.spec.topologySpreadConstraints).toEqual(deployment.spec.template.spec.topologySpreadConstraints);
    expect(stored.spec.template.spec.topologySpreadConstraints?.map((c) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  });

  it('refuses the ServiceAccount, wherever it is installed, every change to a workload but of backlot.dev/ labels and annotations', async () => {
    // The workloads, one of each kind, written by an administrator.
    const ns = 'least-power';
    await kubectl('create', 'namespace', ns);
    const fixtures = workloadFixtures(ns);
    const byKind = (kind: string) => fixtures.find((f) => f.kind === kind)!;
    await plane.kubectl(['apply', '-f', '-'], { input: fixtures.map((f) => stringify(f.manifest)).join('---\n') });
    // The identity as deploy/ installs it, and as an overlay with `namespace: backlot-elsewhere`
    // would: its own ServiceAccount `backlot` bound to the shipped ClusterRole. The policy is
    // the one deploy/ installed, unchanged.
    const elsewhere = 'backlot-elsewhere';
    await kubectl('create', 'namespace', elsewhere);
    await kubectl('create', 'serviceaccount', 'backlot', '-n', elsewhere);
    await kubectl('create', 'clusterrolebinding', 'backlot-operator-elsewhere', '--clusterrole=backlot-operator', `--serviceaccount=${elsewhere}:backlot`);

    const [forbiddenBefore, denialsBefore] = [await forbidden(), await denials()];
    let refusalsExpected = 0;
    /** The message of a refused apply, or 'applied'. */
    const attempt = async (write: () => Promise<unknown>) => {
      try {
        await write();
        return 'applied';
      } catch (err) {
        const e = narrowError(err);
        return `${e.status} ${e.message}`;
      }
    };
    const refusal = (what: string) =>
      new RegExp(`^403 .* is forbidden: ValidatingAdmissionPolicy '${POLICY}' with binding '${POLICY}' denied request: Backlot's ServiceAccount ${what}$`);
    const changes = (what: string) => refusal(`may change only backlot\\.dev/ labels and annotations: this request changes ${what}`);
    const current = async (resource: (typeof fixtures)[number]['resource'], name: string) =>
      admin.request<KubeObject & { spec: unknown }>({ path: objectPath(resource, name, ns) });

    for (const [namespace, client] of [
      [NAMESPACE, await clientAs(NAMESPACE, 'backlot')],
      [elsewhere, await clientAs(elsewhere, 'backlot')],
    ] as const) {
      for (const f of fixtures) {
        const before = await current(f.resource, 'least-power');
        const write = (body: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
          attempt(() =>
            apply(client, {
              resource: f.resource,
              namespace: ns,
              name: 'least-power',
              body: {
                apiVersion: f.resource.apiVersion,
                kind: f.kind,
                metadata: { name: 'least-power', namespace: ns, uid: before.metadata?.uid, ...metadata },
                ...body,
              },
            }),
          );
        // What Backlot writes: admitted, and nothing else moves.
        const owned = {
          labels: { 'backlot.dev/owner': 'team' },
          annotations: { 'backlot.dev/entity': `component:${ns}/app`, 'backlot.dev/owner': 'group:least-power/team' },
        };
        expect([namespace, f.kind, await write({}, owned)]).toEqual([namespace, f.kind, 'applied']);
        const after = await current(f.resource, 'least-power');
        expect([f.kind, after.spec, after.metadata?.labels]).toEqual([f.kind, before.spec, { ...before.metadata?.labels, ...owned.labels }]);
        // A change of image (of the Service's selector): refused.
        expect([namespace, f.kind, await write({ spec: f.hostileSpec })]).toEqual([
          namespace,
          f.kind,
          expect.stringMatching(changes('the spec or the status')),
        ]);
        refusalsExpected++;
      }
      // The rest of the metadata that is not Backlot's, on one workload.
      const deployment = byKind('Deployment');
      const uid = (await current(deployment.resource, 'least-power')).metadata?.uid;
      const metadataChange = (metadata: Record<string, unknown>) =>
        attempt(() =>
          apply(client, {
            resource: deployment.resource,
            namespace: ns,
            name: 'least-power',
            body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'least-power', namespace: ns, uid, ...metadata } },
          }),
        );
      const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: '0c8b6f8e-0000-4000-8000-000000000001' };
      expect(await metadataChange({ labels: { app: 'other' } })).toMatch(changes('another label'));
      expect(await metadataChange({ annotations: { 'example.com/note': 'x' } })).toMatch(changes('another annotation'));
      expect(await metadataChange({ ownerReferences: [other] })).toMatch(changes('ownerReferences or finalizers'));
      expect(await metadataChange({ finalizers: ['example.com/keep'] })).toMatch(changes('ownerReferences or finalizers'));
      refusalsExpected += 4;
    }

    // Creating and deleting: RBAC grants neither; were a binding to grant them, the policy still refuses.
    await kubectl('create', 'role', 'too-much', '-n', ns, '--verb=create,delete', '--resource=deployments.apps,services');
    await kubectl('create', 'rolebinding', 'too-much', '-n', ns, '--role=too-much', `--serviceaccount=${elsewhere}:backlot`);
    const tooMuch = await clientAs(elsewhere, 'backlot');
    const created = { ...byKind('Deployment').manifest, metadata: { name: 'created', namespace: ns } };
    expect(await attempt(() => tooMuch.request({ method: 'POST', path: collectionPath(byKind('Deployment').resource, ns), body: created }))).toMatch(
      refusal('may not create or delete workloads or Services'),
    );
    expect(await attempt(() => tooMuch.request({ method: 'DELETE', path: objectPath(byKind('Service').resource, 'least-power', ns) }))).toMatch(
      refusal('may not create or delete workloads or Services'),
    );
    refusalsExpected += 2;
    await kubectl('delete', 'rolebinding,role', 'too-much', '-n', ns);

    // Every refusal is the policy's (RBAC refused nothing), and the API server counted each one.
    // Its policy counter counts evaluations, not requests: a request whose first try met a stale
    // cached copy of the object is evaluated again, and counted again.
    const refused = (await forbidden()).total - forbiddenBefore.total;
    const evaluations = (await denials()) - denialsBefore;
    expect(refused).toBe(refusalsExpected);
    expect(evaluations).toBeGreaterThanOrEqual(refusalsExpected);
    process.stderr.write(
      `[deploy-install] ${POLICY}: ${refused} of ${refusalsExpected} hostile writes refused with 403 (${evaluations} denying evaluations counted); all ${2 * fixtures.length} writes of backlot.dev/ metadata admitted\n`,
    );
    await kubectl('delete', ...fixtures.map((f) => `${f.resource.resource}${f.resource.group ? `.${f.resource.group}` : ''}/least-power`), '-n', ns);
    await kubectl('delete', 'clusterrolebinding', 'backlot-operator-elsewhere');
  });

  it('converges the examples as the ServiceAccount, two replicas with one leader, with zero 403 responses and zero refusals by the policy', async () => {
    // From here every request the operator makes is counted (the test before this one drew
    // refusals of its own on purpose).
    const before = await forbidden();
    const denialsBefore = await denials();
    const appliesBefore = workloadApplies(await apiServerMetrics());

    follower = await applyExamples(plane, admin);

    // Read over HTTPS with Prometheus's token, as the ServiceMonitor scrapes them.
    replicas.push(
      ...(await startReplicas({
        plane,
        admin,
        deployment,
        namespace: NAMESPACE,
        names: ['backlot-7d9f8c6b5-a1b2c', 'backlot-7d9f8c6b5-d3e4f'],
        work,
        image,
        metricsToken: prometheusAccount.token,
      })),
    );

    const converged = await catalogConverged(plane);
    expect(converged.length).toBeGreaterThan(30);
    const checkout = await eventually('the ownership annotations on a claimed workload', async () => {
      const d = await getJson<{ metadata: { annotations?: Record<string, string> } }>('deployment', '-n', 'shop', 'checkout');
      return d.metadata.annotations?.['backlot.dev/entity'] ? d : undefined;
    });
    expect(checkout.metadata.annotations?.['backlot.dev/owner']).toBe('group:shop/team-payments');
    const events = await getJson<{ items: { reportingController: string }[] }>('events.events.k8s.io', '-n', 'shop');
    expect(events.items.some((e) => e.reportingController === 'backlot.dev/operator')).toBe(true);

    // The served Backstage export under the same rules: an API's definition, which the caches
    // do not keep, read from the API server with the operator's identity where the placeholder points.
    const catalogUrl = replicas[0]!.metricsUrl.replace(/\/metrics$/, '/catalog-info.yaml');
    const catalog = await httpsGet(catalogUrl, { token: backstageAccount.token });
    expect(catalog.status).toBe(200);
    const served = parseAllDocuments(catalog.body).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string }; spec: { definition?: { $text?: string } } },
    );
    const placeholder = served.find((d) => d.kind === 'API' && d.metadata.name === 'orders-api')?.spec.definition?.$text;
    expect(placeholder).toBe('./catalog-info/apis/shop/orders-api/definition');
    const definition = await httpsGet(new URL(placeholder!, catalogUrl).toString(), { token: backstageAccount.token });
    expect(definition.status).toBe(200);
    expect(definition.body).toBe((await getJson<{ spec: { definition: string } }>('apis.catalog.backlot.dev', '-n', 'shop', 'orders-api')).spec.definition);

    const leading = await eventually('exactly one replica to lead', async () => ((await leaders()).length === 1 ? leaders() : undefined));
    const lease = await getJson<{ spec: { holderIdentity: string } }>('lease', '-n', NAMESPACE, 'backlot-leader');
    expect(lease.spec.holderIdentity.startsWith(`${leading[0]!.name}_`)).toBe(true);

    const after = await forbidden();
    expect(after.total - before.total).toBe(0);
    expect(after.byRequest).toEqual(before.byRequest);
    const refusedByPolicy = (await denials()) - denialsBefore;
    expect(refusedByPolicy).toBe(0);
    // The policy saw the operator's writes: every workload it claimed got its annotations.
    const applies = workloadApplies(await apiServerMetrics()) - appliesBefore;
    expect(applies).toBeGreaterThan(20);
    process.stderr.write(
      `[deploy-install] convergence as ${SA}: ${applies} server-side applies to workloads, ${after.total - before.total} 403 responses, ${refusedByPolicy} refusals by ${POLICY} (apiserver_validating_admission_policy_check_total{enforcement_action="deny"})\n`,
    );
    for (const r of replicas) expect(r.process.logs()).not.toMatch(/forbidden|denied|"status":40[13]|"status":422/i);
  });

  it('shows with `kubectl auth can-i` that the identity cannot read Secrets or delete workloads, and can do what it needs', async () => {
    const can = async (...args: string[]) => {
      const r = await plane.kubectl(['auth', 'can-i', ...args, `--as=${SA}`]);
      return r.stdout.trim() || r.stderr.trim();
    };
    const table: [string[], 'yes' | 'no'][] = [
      [['get', 'secrets', '-n', 'shop'], 'no'],
      [['list', 'secrets', '-A'], 'no'],
      [['get', 'secrets', '-n', NAMESPACE], 'no'],
      [['list', 'configmaps', '-A'], 'no'],
      [['delete', 'deployments', '-n', 'shop'], 'no'],
      [['delete', 'statefulsets.apps', '-A'], 'no'],
      [['delete', 'daemonsets.apps', '-A'], 'no'],
      [['delete', 'cronjobs.batch', '-A'], 'no'],
      [['delete', 'services', '-A'], 'no'],
      [['deletecollection', 'deployments', '-A'], 'no'],
      [['create', 'deployments', '-n', 'shop'], 'no'],
      [['update', 'deployments', '-n', 'shop'], 'no'],
      [['create', 'pods', '-n', 'shop'], 'no'],
      [['delete', 'components.catalog.backlot.dev', '-n', 'shop'], 'no'],
      [['patch', 'components.catalog.backlot.dev', '-n', 'shop'], 'no'],
      [['update', 'leases.coordination.k8s.io/someone-elses-lease', '-n', NAMESPACE], 'no'],
      [['create', 'leases.coordination.k8s.io', '-n', 'shop'], 'no'],
      [['*', '*', '-A'], 'no'],
      [['list', 'deployments.apps', '-A'], 'yes'],
      [['watch', 'cronjobs.batch', '-A'], 'yes'],
      [['list', 'jobs.batch', '-A'], 'yes'],
      [['watch', 'endpointslices.discovery.k8s.io', '-A'], 'yes'],
      [['list', 'namespaces'], 'yes'],
      [['patch', 'deployments.apps', '-n', 'shop'], 'yes'],
      [['patch', 'services', '-n', 'platform'], 'yes'],
      [['patch', 'components.catalog.backlot.dev', '--subresource=status', '-n', 'shop'], 'yes'],
      [['watch', 'groups.catalog.backlot.dev', '-A'], 'yes'],
      [['get', 'apis.catalog.backlot.dev', '-n', 'shop'], 'yes'],
      [['get', 'components.catalog.backlot.dev', '-n', 'shop'], 'no'],
      [['create', 'events.events.k8s.io', '-n', 'shop'], 'yes'],
      [['create', 'tokenreviews.authentication.k8s.io'], 'yes'],
      [['create', 'subjectaccessreviews.authorization.k8s.io'], 'yes'],
      [['get', '/metrics'], 'no'],
      [['create', 'leases.coordination.k8s.io', '-n', NAMESPACE], 'yes'],
      [['update', 'leases.coordination.k8s.io/backlot-leader', '-n', NAMESPACE], 'yes'],
    ];
    const answers: [string, string][] = [];
    for (const [args] of table) answers.push([args.join(' '), await can(...args)]);
    expect(answers).toEqual(table.map(([args, expected]) => [args.join(' '), expected]));
  });

  it("keeps a tenant inside their namespace: a Component in team-a that selects team-b's workloads claims nothing there", async () => {
    // team-b's workloads carry exactly the labels team-a's Component will select.
    for (const ns of ['team-a', 'team-b']) await kubectl('create', 'namespace', ns);
    const labels = { 'app.kubernetes.io/name': 'shared-api', 'backstage.io/kubernetes-id': 'grab' };
    const manifests = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'shared-api', namespace: 'team-b', labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'api', image: 'registry.example/shared-api:1' }] } },
        },
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'shared-api', namespace: 'team-b', labels }, spec: { selector: labels, ports: [{ port: 80 }] } },
    ];
    await plane.kubectl(['apply', '-f', '-'], { input: manifests.map((m) => stringify(m)).join('---\n') });
    await makeNamespaceReady(admin, 'team-b');
    const snapshot = async () =>
      Promise.all(
        ['deployment', 'service'].map(
          async (kind) =>
            (
              await getJson<{ metadata: { resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> } }>(
                kind,
                '-n',
                'team-b',
                'shared-api',
              )
            ).metadata,
        ),
      );
    // The operator has seen team-b's workloads: both are reported as orphans.
    const leader = (await leaders())[0]!;
    await eventually("team-b's workloads to be orphans", async () =>
      (await metrics(leader)).match(/backlot_orphaned_workload\{namespace="team-b"/g)?.length === 2 ? true : undefined,
    );
    const before = await snapshot();

    // The tenant: may edit the catalog in team-a (the shipped editor role, bound there only).
    await kubectl('create', 'serviceaccount', 'alice', '-n', 'team-a');
    await kubectl('create', 'rolebinding', 'alice-catalog', '-n', 'team-a', '--clusterrole=backlot-catalog-editor', '--serviceaccount=team-a:alice');
    const alice = 'system:serviceaccount:team-a:alice';
    const aliceCan = async (...args: string[]) => (await plane.kubectl(['auth', 'can-i', ...args, `--as=${alice}`])).stdout.trim();
    expect(await aliceCan('create', 'components.catalog.backlot.dev', '-n', 'team-a')).toBe('yes');
    expect(await aliceCan('create', 'components.catalog.backlot.dev', '-n', 'team-b')).toBe('no');
    expect(await aliceCan('patch', 'deployments.apps', '-n', 'team-b')).toBe('no');
    expect(await aliceCan('patch', 'components.catalog.backlot.dev', '--subresource=status', '-n', 'team-a')).toBe('no');

    const aliceConfig = join(work, 'alice.kubeconfig');
    const server = plane.apiServerUrl;
    await writeFile(
      aliceConfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': Buffer.from(plane.pki.ca.certPem).toString('base64') } }],
        users: [{ name: 'alice', user: { token: await mintToken('team-a', 'alice') } }],
        contexts: [{ name: 'alice', context: { cluster: 'c', user: 'alice', namespace: 'team-a' } }],
        'current-context': 'alice',
      }),
      { mode: 0o600 },
    );
    const asAlice = (args: string[], input?: string) =>
      input === undefined ? plane.kubectl([`--kubeconfig=${aliceConfig}`, ...args]) : plane.kubectl([`--kubeconfig=${aliceConfig}`, ...args], { input });
    const component = (namespace: string) =>
      stringify({
        apiVersion: 'catalog.backlot.dev/v1alpha1',
        kind: 'Component',
        metadata: { name: 'grab', namespace },
        spec: {
          type: 'service',
          lifecycle: 'production',
          owner: 'team-a',
          workloads: { selector: { matchLabels: { 'app.kubernetes.io/name': 'shared-api' } } },
        },
      });
    const group = stringify({
      apiVersion: 'catalog.backlot.dev/v1alpha1',
      kind: 'Group',
      metadata: { name: 'team-a', namespace: 'team-a' },
      spec: { type: 'team' },
    });

    // The counters see a refusal: alice's attempt to write into team-b.
    const beforeAttempt = await forbidden();
    const intoB = await asAlice(['apply', '-f', '-'], component('team-b'));
    expect(intoB.code).not.toBe(0);
    expect(intoB.stderr).toMatch(/forbidden/i);
    const afterAttempt = await forbidden();
    expect(afterAttempt.total).toBeGreaterThan(beforeAttempt.total);
    process.stderr.write(
      `[deploy-install] the tenant's refused attempt: ${JSON.stringify(afterAttempt.byRequest)} (before: ${JSON.stringify(beforeAttempt.byRequest)})\n`,
    );
    const created = await asAlice(['apply', '-f', '-'], `${group}---\n${component('team-a')}`);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    // kubectl apply reads the object's Namespace too, which alice may not: refused, and ignored.
    const afterCreate = await forbidden();

    const grab = await eventually('the Component to get its status', async () => {
      const e = await getJson<CatalogEntity>('component', '-n', 'team-a', 'grab');
      return e.status?.observedGeneration === e.metadata.generation ? e : undefined;
    });
    expect(grab.status?.workloads ?? []).toEqual([]);
    expect(grab.status?.conditions?.find((c) => c.type === 'WorkloadsReady')).toMatchObject({
      status: 'Unknown',
      reason: 'NoWorkloadsMatched',
      message: 'the entity claims no workload in its namespace',
    });
    // Long enough for any write the Component might cause to have happened.
    await sleep(3_000);
    expect(await snapshot()).toEqual(before);
    for (const meta of await snapshot()) {
      expect(Object.keys({ ...meta.labels, ...meta.annotations }).filter((k) => k.startsWith('backlot.dev/'))).toEqual([]);
    }
    const eventsInB = await getJson<{ items: unknown[] }>('events.events.k8s.io', '-n', 'team-b');
    expect(eventsInB.items).toEqual([]);
    const orphans = (await metrics((await leaders())[0]!)).split('\n').filter((l) => l.startsWith('backlot_orphaned_workload{namespace="team-b"'));
    expect(orphans).toHaveLength(2);
    // While the operator handled the tenant's Component, nothing was refused.
    refusedSoFar = (await forbidden()).total;
    expect(refusedSoFar).toBe(afterCreate.total);
    for (const r of replicas) expect(r.process.logs()).not.toMatch(/forbidden|"status":403/i);
  });

  it("does not report its own namespace's workloads as orphans", async () => {
    const leader = (await leaders())[0]!;
    expect((await metrics(leader)).split('\n').filter((l) => l.includes(`namespace="${NAMESPACE}"`) && l.startsWith('backlot_orphaned_workload'))).toEqual([]);
  });

  it("runs every query of the Grafana dashboard on a real Prometheus scraping both replicas: no error, no unknown metric, the leader's series only", async () => {
    const dashboard = await readDashboard();
    const rules = await readFile(join(DEPLOY_DIR, 'alerts/backlot.rules.yaml'), 'utf8');
    // Scraped as the shipped ServiceMonitor says: its scheme and TLS settings, and the token
    // of Prometheus's ServiceAccount (bearerTokenFile) bound to backlot-metrics-reader.
    const monitor = find<KubeObject & { spec: { endpoints: ServiceMonitorEndpoint[] } }>(
      await kustomize(plane.assets.kubectl, MONITORING_DIR),
      'ServiceMonitor',
      'backlot',
    );
    const endpoint = monitor.spec.endpoints[0]!;
    expect(endpoint).toMatchObject({ scheme: 'https', path: '/metrics', bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' });
    const prometheus = await Prometheus.start({
      targets: replicas.map((r) => new URL(r.metricsUrl).host),
      ruleFiles: [join(DEPLOY_DIR, 'alerts/backlot.rules.yaml')],
      secure: { token: prometheusAccount.token, insecureSkipVerify: endpoint.tlsConfig?.insecureSkipVerify === true },
    });
    try {
      await eventually('both replicas scraped, with samples for rate()', async () => {
        const up = await prometheus.query('count_over_time(up[1m]) >= 3 and up == 1');
        return up.length === replicas.length ? true : undefined;
      });
      expect((await prometheus.targets()).map((t) => [t.scrapeUrl.replace(/:\d+\//, ':PORT/'), t.health, t.lastError])).toEqual(
        replicas.map(() => ['https://127.0.0.1:PORT/metrics', 'up', '']),
      );
      const exported = new Set<string>(['up']);
      for (const r of replicas) for (const name of exposedNames(await metrics(r))) exported.add(name);

      const queries = dashboardPanels(dashboard).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: withVariables(dashboard, t.expr) })));
      for (const v of variableMetrics(dashboard)) queries.push({ panel: `variable ${v.variable}`, expr: v.metric });
      expect(queries.length).toBeGreaterThan(20);
      const problems: string[] = [];
      let withData = 0;
      for (const q of queries) {
        for (const name of metricNames(q.expr)) if (!exported.has(name)) problems.push(`${q.panel}: unknown metric ${name} in ${q.expr}`);
        try {
          if ((await prometheus.query(q.expr)).length > 0) withData++;
        } catch (err) {
          problems.push(`${q.panel}: ${(err as Error).message}`);
        }
      }
      expect(problems).toEqual([]);

      // The catalog panels count each entity once although both replicas export it.
      const entities = (await getJson<{ items: unknown[] }>('catalog', '-A')).items.length;
      const stat = async (title: string) => {
        const panel = dashboardPanels(dashboard).find((p) => p.title === title)!;
        const [sample] = await prometheus.query(withVariables(dashboard, panel.targets![0]!.expr));
        return Number(sample?.value[1]);
      };
      expect(await stat('Entities')).toBe(entities);
      expect(await stat('Replicas leading')).toBe(1);
      expect(await stat('Replicas up')).toBe(2);
      const orphanPanel = dashboardPanels(dashboard).find((p) => p.title === 'Orphans by namespace')!;
      const byNamespace = await prometheus.query(withVariables(dashboard, orphanPanel.targets![0]!.expr));
      expect(Object.fromEntries(byNamespace.map((s) => [s.metric.namespace, s.value[1]]))).toMatchObject({ shop: '1', 'team-b': '2' });

      // The shipped alert rules read only exported metrics too.
      const ruleExprs = (parse(rules) as { groups: { rules: { expr: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.expr));
      expect(ruleExprs.length).toBe(6);
      for (const expr of ruleExprs) for (const name of metricNames(expr)) expect([expr, exported.has(name)]).toEqual([expr, true]);

      process.stderr.write(
        `[deploy-install] dashboard: ${dashboardPanels(dashboard).length} panels, ${queries.length} queries checked, ${withData} with data\n`,
      );
    } finally {
      await prometheus.stop();
    }
  });

  it('stops both replicas cleanly on SIGTERM, the leader releasing its Lease', async () => {
    // The standby first, or it would take the Lease the leader releases.
    const leader = (await leaders())[0]!;
    const codes = [];
    for (const r of replicas.filter((x) => x !== leader)) codes.push(await r.process.stop());
    codes.push(await leader.process.stop());
    expect(codes).toEqual([0, 0]);
    const lease = await getJson<{ spec: { holderIdentity?: string } }>('lease', '-n', NAMESPACE, 'backlot-leader');
    expect(lease.spec.holderIdentity ?? '').toBe('');
    // Nothing refused during the shutdown either.
    expect((await forbidden()).total).toBe(refusedSoFar);
  });
});
