/**
 * charts/backlot as `helm lint` and `helm template` see it: with default values it renders the
 * objects `kubectl kustomize deploy/` builds (with the monitoring values on, those of
 * deploy/monitoring too; with catalog.enabled, those of an overlay with the component
 * deploy/backstage), object by object; every value does what values.yaml says; the schema
 * refuses wrong types and unknown keys. Installing it is test/integration/chart-install.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadRunConfig, RUN_FLAGS } from '../../src/cli/run-config.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import {
  BACKSTAGE_DIR,
  DEPLOY_DIR,
  find,
  kustomize,
  kustomizeOverlay,
  MONITORING_DIR,
  REPO_ROOT,
  type DeploymentObject,
  type ServiceMonitorEndpoint,
} from '../support/deploy.ts';
import { CHART_DIR, Helm } from '../support/helm.ts';

/** Kinds without a namespace: kustomize gives the admission policy kinds one all the same. */
const CLUSTER_SCOPED = [
  'Namespace',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
];

/** Annotations Helm acts on, which kustomize has no use for. */
const HELM_ANNOTATIONS = ['helm.sh/resource-policy'];

const id = (o: KubeObject) => `${o.kind}/${CLUSTER_SCOPED.includes(o.kind ?? '') ? '' : `${o.metadata?.namespace}/`}${o.metadata?.name}`;

type Labelled = { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> } };

/**
 * An object as the comparison sees it: without its labels (checked apart: Helm's add to
 * kustomize's), Helm's own annotations, and the namespace kustomize gives cluster-scoped kinds.
 */
function comparable(o: KubeObject): unknown {
  const strip = <T extends Labelled>(x: T): T => {
    const { labels: _labels, annotations, ...metadata } = x.metadata ?? {};
    const kept = Object.fromEntries(Object.entries(annotations ?? {}).filter(([k]) => !HELM_ANNOTATIONS.includes(k)));
    return { ...x, metadata: { ...metadata, ...(Object.keys(kept).length > 0 ? { annotations: kept } : {}) } };
  };
  const object = strip(o);
  if (CLUSTER_SCOPED.includes(o.kind ?? '')) delete (object.metadata as { namespace?: string }).namespace;
  const template = (o as Partial<DeploymentObject>).spec?.template;
  if (o.kind === 'Deployment' && template) return { ...object, spec: { ...(o as DeploymentObject).spec, template: strip(template) } };
  return object;
}

/** Every object of `expected` is in `actual`, equal but for Helm's labels and annotations. */
function expectSameObjects(actual: readonly KubeObject[], expected: readonly KubeObject[]): void {
  expect(actual.map(id).sort()).toEqual(expected.map(id).sort());
  for (const want of expected) {
    const got = actual.find((o) => id(o) === id(want))!;
    expect([id(want), comparable(got)]).toEqual([id(want), comparable(want)]);
    expect([id(want), got.metadata?.labels]).toEqual([id(want), expect.objectContaining(want.metadata?.labels ?? {})]);
    const podLabels = (o: KubeObject) => (o as Partial<DeploymentObject>).spec?.template?.metadata.labels;
    const wantPodLabels = podLabels(want);
    if (wantPodLabels) expect(podLabels(got)).toEqual(expect.objectContaining(wantPodLabels));
  }
}

const MONITORING_VALUES = { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } };

describe('charts/backlot', () => {
  let helm: Helm;
  let base: KubeObject[];
  let monitoring: KubeObject[];
  let defaults: KubeObject[];
  const kubectl = () => process.env.BACKLOT_TEST_KUBECTL!;
  const deploymentOf = (objects: KubeObject[], name = 'backlot') => find<DeploymentObject>(objects, 'Deployment', name);
  const container = (objects: KubeObject[], name = 'backlot') => deploymentOf(objects, name).spec.template.spec.containers[0]!;
  const kinds = (objects: KubeObject[]) => objects.map((o) => o.kind);

  beforeAll(async () => {
    helm = await Helm.create();
    [base, monitoring, defaults] = await Promise.all([kustomize(kubectl(), DEPLOY_DIR), kustomize(kubectl(), MONITORING_DIR), helm.template()]);
  });

  afterAll(async () => {
    await helm?.remove();
  });

  it('passes `helm lint --strict`, with the monitoring objects too, and as the packaged chart', async () => {
    const lint = async (...args: string[]) => {
      const r = await helm.run(['lint', '--strict', ...args]);
      expect([args.join(' '), r.code, r.stdout]).toEqual([args.join(' '), 0, expect.stringContaining('1 chart(s) linted, 0 chart(s) failed')]);
      // Informational only: the chart has no icon.
      expect(r.stdout.split('\n').filter((l) => /^\[(WARNING|ERROR)\]/.test(l))).toEqual([]);
    };
    await lint(CHART_DIR);
    await lint(CHART_DIR, '--set', 'serviceMonitor.enabled=true,prometheusRule.enabled=true,grafanaDashboard.enabled=true');
    await lint(CHART_DIR, '--set', 'catalog.enabled=true,metrics.secure=false,serviceMonitor.enabled=true');
    const dir = await mkdtemp(join(tmpdir(), 'backlot-chart-'));
    try {
      await helm.ok(['package', CHART_DIR, '--destination', dir]);
      const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
      await lint(join(dir, `backlot-${pkg.version}.tgz`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders with default values the objects of `kubectl kustomize deploy/`, but the Namespace, which `helm install --create-namespace` makes', () => {
    expectSameObjects(
      defaults,
      base.filter((o) => o.kind !== 'Namespace'),
    );
    expect(kinds(defaults)).not.toContain('Namespace');
  });

  it('renders with the monitoring values on the objects of `kubectl kustomize deploy/monitoring` as well', async () => {
    const withMonitoring = await helm.template({ values: MONITORING_VALUES });
    expectSameObjects(withMonitoring, [...base.filter((o) => o.kind !== 'Namespace'), ...monitoring]);
    const rules = parse(await readFile(join(DEPLOY_DIR, 'alerts/backlot.rules.yaml'), 'utf8')) as unknown;
    expect(find<KubeObject & { spec: unknown }>(withMonitoring, 'PrometheusRule', 'backlot').spec).toEqual(rules);
    const dashboard = find<KubeObject & { data: Record<string, string> }>(withMonitoring, 'ConfigMap', 'backlot-grafana-dashboard');
    expect(dashboard.data['backlot.json']).toBe(await readFile(join(MONITORING_DIR, 'grafana-dashboard.json'), 'utf8'));
    expect(dashboard.metadata?.labels?.grafana_dashboard).toBe('1');
  });

  it('renders with catalog.enabled the objects of an overlay with the component deploy/backstage: the flag, the port `catalog`, its Service and NetworkPolicy rule', async () => {
    const withBackstage = await kustomizeOverlay(kubectl(), { resources: [DEPLOY_DIR], components: [BACKSTAGE_DIR] });
    const withCatalog = await helm.template({ values: { catalog: { enabled: true } } });
    expectSameObjects(
      withCatalog,
      withBackstage.filter((o) => o.kind !== 'Namespace'),
    );
    expect(find(withCatalog, 'Service', 'backlot-catalog').metadata?.labels).toMatchObject({ 'app.kubernetes.io/component': 'catalog' });
  });

  it("labels every object as Helm's and Backlot's, and keeps the CRDs on uninstall unless crds.keep is false", async () => {
    for (const o of defaults) {
      expect([id(o), o.metadata?.labels]).toEqual([
        id(o),
        expect.objectContaining({
          'helm.sh/chart': 'backlot-0.1.0',
          'app.kubernetes.io/instance': 'backlot',
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/part-of': 'backlot',
        }),
      ]);
    }
    const crds = defaults.filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds).toHaveLength(6);
    for (const crd of crds) expect(crd.metadata?.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    const notKept = (await helm.template({ values: { crds: { keep: false } } })).filter((o) => o.kind === 'CustomResourceDefinition');
    expect(notKept.map((c) => c.metadata?.annotations)).toEqual(crds.map(() => undefined));
    expect(kinds(await helm.template({ values: { crds: { install: false } } }))).not.toContain('CustomResourceDefinition');
  });

  it('names and binds everything after the release, in its namespace: ServiceAccount, roles, Lease, admission policy', async () => {
    const objects = await helm.template({ release: 'catalog', namespace: 'platform-tools' });
    expect(objects.map(id).sort()).toEqual(
      defaults
        .map(id)
        .map((i) => i.replace('/backlot-system/', '/platform-tools/').replace(/\/backlot(?=-|$)/, '/catalog-backlot'))
        .sort(),
    );
    const deployment = deploymentOf(objects, 'catalog-backlot');
    const sa = deployment.spec.template.spec.serviceAccountName;
    expect(sa).toBe('catalog-backlot');
    for (const name of ['ClusterRoleBinding/catalog-backlot-operator', 'RoleBinding/catalog-backlot-leader-election']) {
      const [kind, objectName] = name.split('/') as [string, string];
      expect(find<KubeObject & { subjects: unknown }>(objects, kind, objectName).subjects).toEqual([
        { kind: 'ServiceAccount', name: sa, namespace: 'platform-tools' },
      ]);
    }
    const lease = container(objects, 'catalog-backlot')
      .args?.find((a) => a.startsWith('--leader-election-id='))
      ?.split('=')[1];
    expect(lease).toBe('catalog-backlot-leader');
    const role = find<KubeObject & { rules: { resourceNames?: string[] }[] }>(objects, 'Role', 'catalog-backlot-leader-election');
    expect(role.rules.flatMap((r) => r.resourceNames ?? [])).toEqual([lease]);
    const policy = find<KubeObject & { spec: { matchConditions: { expression: string }[] } }>(
      objects,
      'ValidatingAdmissionPolicy',
      'catalog-backlot-operator-least-power',
    );
    expect(policy.spec.matchConditions[0]!.expression).toMatch(/endsWith\(':catalog-backlot'\)$/);
    expect(
      find<KubeObject & { spec: { policyName: string } }>(objects, 'ValidatingAdmissionPolicyBinding', 'catalog-backlot-operator-least-power').spec.policyName,
    ).toBe(policy.metadata?.name);
    // The release named after the chart keeps deploy/'s names; fullnameOverride names outright.
    expect(kinds(await helm.template({ release: 'backlot-prod' }))).toEqual(kinds(defaults));
    expect(deploymentOf(await helm.template({ release: 'backlot-prod' }), 'backlot-prod').metadata?.name).toBe('backlot-prod');
    expect(deploymentOf(await helm.template({ values: { fullnameOverride: 'catalog' } }), 'catalog').spec.template.spec.serviceAccountName).toBe('catalog');
  });

  it('runs as an existing ServiceAccount with serviceAccount.create false, which then needs its name; annotates one it creates', async () => {
    expect(await helm.templateError({ values: { serviceAccount: { create: false } } })).toMatch(/serviceAccount\.name: name the existing ServiceAccount/);
    const existing = await helm.template({ values: { serviceAccount: { create: false, name: 'platform-operator' } } });
    expect(kinds(existing)).not.toContain('ServiceAccount');
    expect(deploymentOf(existing).spec.template.spec.serviceAccountName).toBe('platform-operator');
    expect(find<KubeObject & { subjects: { name: string }[] }>(existing, 'ClusterRoleBinding', 'backlot-operator').subjects[0]!.name).toBe('platform-operator');
    const policy = find<KubeObject & { spec: { matchConditions: { expression: string }[] } }>(
      existing,
      'ValidatingAdmissionPolicy',
      'backlot-operator-least-power',
    );
    expect(policy.spec.matchConditions[0]!.expression).toMatch(/endsWith\(':platform-operator'\)$/);
    const annotated = await helm.template({
      values: { serviceAccount: { name: 'ops', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/backlot' } } },
    });
    expect(find(annotated, 'ServiceAccount', 'ops').metadata?.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::1:role/backlot' });
  });

  it('leaves out what is switched off: RBAC, the admission policy, the NetworkPolicy, the PodDisruptionBudget', async () => {
    const off = await helm.template({
      values: { rbac: { create: false }, admissionPolicy: { enabled: false }, networkPolicy: { enabled: false }, podDisruptionBudget: { enabled: false } },
    });
    expect(kinds(off).sort()).toEqual([
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Deployment',
      'Service',
      'ServiceAccount',
    ]);
  });

  it('takes the image from image.repository, image.tag (default: appVersion) and image.pullPolicy, with imagePullSecrets', async () => {
    expect(container(defaults).image).toBe('backlot:0.1.0');
    const objects = await helm.template({
      values: {
        image: { repository: 'registry.example.com/platform/backlot', tag: '0.2.0-rc.1', pullPolicy: 'Always' },
        imagePullSecrets: [{ name: 'regcred' }],
      },
    });
    expect(container(objects)).toMatchObject({ image: 'registry.example.com/platform/backlot:0.2.0-rc.1', imagePullPolicy: 'Always' });
    expect(deploymentOf(objects).spec.template.spec).toMatchObject({ imagePullSecrets: [{ name: 'regcred' }] });
  });

  it('gives `backlot run` the flags of the values, all of which it accepts, and the ports of the bind addresses to the container, the Service and the probes', async () => {
    const values = {
      leaderElect: true,
      logLevel: 'debug',
      namespaces: ['shop', 'platform'],
      workers: 8,
      kubeApiQps: 1_000_000,
      kubeApiBurst: 300,
      metricsBindAddress: ':9090',
      healthProbeBindAddress: '0.0.0.0:9091',
      extraArgs: ['--lease-duration=30s', '--serve-catalog-info=false'],
    };
    const objects = await helm.template({ values });
    const { args, ports } = container(objects);
    expect(args).toEqual([
      '--leader-elect=true',
      '--leader-election-id=backlot-leader',
      '--metrics-bind-address=:9090',
      '--metrics-secure=true',
      '--metrics-cert-path=/etc/backlot/metrics-cert',
      '--health-probe-bind-address=0.0.0.0:9091',
      '--log-level=debug',
      '--namespaces=shop,platform',
      '--kube-api-burst=300',
      '--kube-api-qps=1000000',
      '--workers=8',
      '--lease-duration=30s',
      '--serve-catalog-info=false',
    ]);
    for (const arg of args ?? []) expect([arg, RUN_FLAGS.some((f) => f.name === arg.split('=')[0]!.slice(2))]).toEqual([arg, true]);
    const config = loadRunConfig({ argv: args ?? [], env: { POD_NAMESPACE: 'backlot-system', KUBECONFIG: '/dev/null' } });
    expect(config).toMatchObject({
      namespaces: ['platform', 'shop'],
      workers: 8,
      logLevel: 'debug',
      kubeApi: { qps: 1_000_000, burst: 300 },
      metricsBindAddress: { port: 9090 },
      metricsSecure: true,
      healthProbeBindAddress: { port: 9091 },
    });
    expect(ports).toEqual([
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
      { name: 'probes', containerPort: 9091, protocol: 'TCP' },
    ]);
    const svc = find<KubeObject & { spec: { ports: { port: number; targetPort: string }[] } }>(objects, 'Service', 'backlot-metrics');
    expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }]);
    // The operator's defaults hold where the values are null: the flags are left out.
    expect(container(defaults).args?.some((a) => /^--(workers|kube-api-qps|kube-api-burst|namespaces)=/.test(a))).toBe(false);
  });

  it('refuses an extraArgs flag that a value sets, and several replicas without leader election', async () => {
    expect(await helm.templateError({ values: { workers: 4, extraArgs: ['--workers=8'] } })).toMatch(
      /extraArgs: --workers=8 repeats a flag that a value of the chart sets/,
    );
    expect(await helm.templateError({ values: { extraArgs: ['--log-level=debug'] } })).toMatch(/extraArgs: --log-level=debug repeats/);
    expect(await helm.templateError({ values: { leaderElect: false } })).toMatch(/leaderElect: false with replicaCount > 1/);
    expect(await helm.templateError({ values: { catalog: { enabled: true, port: 8082 }, extraArgs: ['--serve-catalog-info=false'] } })).toMatch(
      /catalog\.enabled serves the Backstage export, which extraArgs turns off/,
    );
    expect(container(await helm.template({ values: { leaderElect: false, replicaCount: 1 } })).args).toContain('--leader-elect=false');
  });

  it('places the pods with replicaCount, resources, nodeSelector, tolerations, affinity, priorityClassName, topologySpreadConstraints and pod metadata', async () => {
    const placement = {
      replicaCount: 3,
      // Helm merges maps with the defaults: null removes one of their keys.
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: null, memory: '1Gi' } },
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-role', operator: 'In', values: ['platform'] }] }],
          },
        },
      },
      priorityClassName: 'platform-critical',
      topologySpreadConstraints: [
        { topologyKey: 'kubernetes.io/hostname', maxSkew: 2, whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { team: 'platform' } } },
        { topologyKey: 'topology.kubernetes.io/zone', maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' },
      ],
      podAnnotations: { 'example.com/scrape': 'no' },
      podLabels: { team: 'platform' },
    };
    const deployment = deploymentOf(await helm.template({ values: placement }));
    const spec = deployment.spec.template.spec as DeploymentObject['spec']['template']['spec'] & Record<string, unknown>;
    expect(deployment.spec.replicas).toBe(3);
    expect(spec.containers[0]!.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } });
    expect(spec).toMatchObject({
      nodeSelector: placement.nodeSelector,
      tolerations: placement.tolerations,
      affinity: placement.affinity,
      priorityClassName: 'platform-critical',
    });
    const selector = deployment.spec.selector.matchLabels;
    expect(spec.topologySpreadConstraints).toEqual([
      placement.topologySpreadConstraints[0],
      { ...placement.topologySpreadConstraints[1], labelSelector: { matchLabels: selector } },
    ]);
    const template = deployment.spec.template as { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } };
    expect(template.metadata).toEqual({
      annotations: { 'example.com/scrape': 'no' },
      labels: { ...selector, 'app.kubernetes.io/instance': 'backlot', team: 'platform' },
    });
    expect(deploymentOf(await helm.template({ values: { topologySpreadConstraints: [] } })).spec.template.spec.topologySpreadConstraints).toBeUndefined();
  });

  it('sets the PodDisruptionBudget by minAvailable or maxUnavailable', async () => {
    const pdb = async (values: Record<string, unknown>) =>
      find<KubeObject & { spec: Record<string, unknown> }>(
        await helm.template({ values: { podDisruptionBudget: { enabled: true, ...values } } }),
        'PodDisruptionBudget',
        'backlot',
      ).spec;
    expect(await pdb({})).toMatchObject({ minAvailable: 1 });
    expect(await pdb({ minAvailable: '50%' })).toMatchObject({ minAvailable: '50%' });
    const byUnavailable = await pdb({ minAvailable: null, maxUnavailable: 1 });
    expect(byUnavailable).toEqual({ maxUnavailable: 1, selector: { matchLabels: deploymentOf(defaults).spec.selector.matchLabels } });
  });

  it('lets in /metrics from networkPolicy.metricsFrom and narrows the API server egress to networkPolicy.apiServerTo', async () => {
    const from = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];
    const to = [{ ipBlock: { cidr: '10.0.0.1/32' } }];
    const policy = find<KubeObject & { spec: { ingress: { from?: unknown }[]; egress: { to?: unknown }[] } }>(
      await helm.template({ values: { networkPolicy: { enabled: true, metricsFrom: from, apiServerTo: to } } }),
      'NetworkPolicy',
      'backlot',
    );
    expect(policy.spec.ingress[0]!.from).toEqual(from);
    expect(policy.spec.egress.map((e) => e.to)).toEqual([to, undefined]);
  });

  it('serves metrics over HTTPS with metrics.secure: the certificate Secret metrics.certSecret mounted, the reader role, the reviews, the ServiceMonitor with a token and serviceMonitor.tlsConfig', async () => {
    type Role = KubeObject & { rules: { apiGroups?: string[]; resources?: string[]; nonResourceURLs?: string[] }[] };
    type PodSpec = { volumes?: { name: string; secret?: { secretName: string; optional: boolean } }[]; containers: { volumeMounts?: unknown[] }[] };
    const endpoint = (objects: KubeObject[]) =>
      find<KubeObject & { spec: { endpoints: ServiceMonitorEndpoint[] } }>(objects, 'ServiceMonitor', 'backlot').spec.endpoints[0]!;
    const reviews = (objects: KubeObject[]) =>
      find<Role>(objects, 'ClusterRole', 'backlot-operator')
        .rules.flatMap((r) => r.resources ?? [])
        .filter((r) => r.endsWith('reviews'));
    const podSpec = (objects: KubeObject[], name = 'backlot') => deploymentOf(objects, name).spec.template.spec as unknown as PodSpec;

    const secure = await helm.template({ values: { serviceMonitor: { enabled: true }, metrics: { secure: true, certSecret: 'backlot-serving-cert' } } });
    expect(podSpec(secure).volumes).toEqual([{ name: 'metrics-cert', secret: { secretName: 'backlot-serving-cert', optional: true } }]);
    expect(podSpec(secure).containers[0]!.volumeMounts).toEqual([{ name: 'metrics-cert', mountPath: '/etc/backlot/metrics-cert', readOnly: true }]);
    expect(reviews(secure)).toEqual(['tokenreviews', 'subjectaccessreviews']);
    expect(find<Role>(secure, 'ClusterRole', 'backlot-metrics-reader').rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
    expect(endpoint(secure)).toMatchObject({
      scheme: 'https',
      bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      tlsConfig: { insecureSkipVerify: true },
    });
    // The Secret is named after the release unless named outright.
    expect(podSpec(await helm.template({ release: 'catalog' }), 'catalog-backlot').volumes?.[0]?.secret?.secretName).toBe('catalog-backlot-metrics-cert');
    // A certificate to verify (cert-manager's): null drops the default's insecureSkipVerify.
    const tlsConfig = { serverName: 'backlot-metrics.backlot-system.svc', ca: { secret: { name: 'backlot-metrics-cert', key: 'ca.crt' } } };
    expect(
      endpoint(await helm.template({ values: { serviceMonitor: { enabled: true, tlsConfig: { insecureSkipVerify: null, ...tlsConfig } } } })).tlsConfig,
    ).toEqual(tlsConfig);

    // Plain HTTP on :8080, as `backlot run` defaults it: no certificate, reader role, reviews or token.
    const plain = await helm.template({ values: { serviceMonitor: { enabled: true }, metrics: { secure: false } } });
    const { args, ports } = container(plain);
    expect(args?.filter((a) => a.startsWith('--metrics-'))).toEqual(['--metrics-bind-address=:8080', '--metrics-secure=false']);
    expect(
      loadRunConfig({ argv: args ?? [], env: { POD_NAMESPACE: 'backlot-system', KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' } }),
    ).toMatchObject({ metricsSecure: false, metricsCert: undefined, metricsBindAddress: { port: 8080 } });
    expect(ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(8080);
    expect(podSpec(plain).volumes).toBeUndefined();
    expect(podSpec(plain).containers[0]!.volumeMounts).toBeUndefined();
    expect(reviews(plain)).toEqual([]);
    expect(plain.filter((o) => o.metadata?.name === 'backlot-metrics-reader')).toEqual([]);
    expect(endpoint(plain)).toEqual({ port: 'metrics', path: '/metrics', interval: '30s', honorLabels: true });
  });

  it('opens the plain catalog port catalog.port with catalog.enabled, to networkPolicy.catalogFrom, behind a Service named after the release', async () => {
    const from = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'backstage' } } }];
    const objects = await helm.template({
      release: 'catalog',
      values: { catalog: { enabled: true, port: 9082 }, networkPolicy: { enabled: true, catalogFrom: from } },
    });
    const { args, ports } = container(objects, 'catalog-backlot');
    expect(args).toContain('--catalog-bind-address=:9082');
    expect(loadRunConfig({ argv: args ?? [], env: { POD_NAMESPACE: 'backlot-system', KUBECONFIG: '/dev/null' } })).toMatchObject({
      catalogBindAddress: { port: 9082 },
    });
    expect(ports?.at(-1)).toEqual({ name: 'catalog', containerPort: 9082, protocol: 'TCP' });
    const svc = find<KubeObject & { spec: { ports: unknown[] } }>(objects, 'Service', 'catalog-backlot-catalog');
    expect(svc.spec.ports).toEqual([{ name: 'catalog', port: 9082, targetPort: 'catalog', protocol: 'TCP' }]);
    const policy = find<KubeObject & { spec: { ingress: unknown[] } }>(objects, 'NetworkPolicy', 'catalog-backlot');
    expect(policy.spec.ingress.at(-1)).toEqual({ from, ports: [{ port: 'catalog', protocol: 'TCP' }] });
    // Off by default: no flag, port, Service or rule.
    expect(container(defaults).args?.some((a) => a.startsWith('--catalog-bind-address'))).toBe(false);
    expect(defaults.filter((o) => o.metadata?.name === 'backlot-catalog')).toEqual([]);
    expect(find<KubeObject & { spec: { ingress: unknown[] } }>(defaults, 'NetworkPolicy', 'backlot').spec.ingress).toHaveLength(2);
  });

  it('adds the labels Prometheus and Grafana select by, and puts the dashboard where the sidecar looks', async () => {
    const objects = await helm.template({
      values: {
        serviceMonitor: { enabled: true, interval: '1m', labels: { release: 'kube-prometheus-stack' } },
        prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
        grafanaDashboard: { enabled: true, namespace: 'grafana', annotations: { grafana_folder: 'Platform' } },
      },
    });
    const monitor = find<KubeObject & { spec: { endpoints: { interval: string }[] } }>(objects, 'ServiceMonitor', 'backlot');
    expect(monitor.metadata?.labels?.release).toBe('kube-prometheus-stack');
    expect(monitor.spec.endpoints[0]!.interval).toBe('1m');
    expect(find(objects, 'PrometheusRule', 'backlot').metadata?.labels?.release).toBe('kube-prometheus-stack');
    const dashboard = find(objects, 'ConfigMap', 'backlot-grafana-dashboard');
    expect(dashboard.metadata).toMatchObject({ namespace: 'grafana', annotations: { grafana_folder: 'Platform' }, labels: { grafana_dashboard: '1' } });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['an unknown top-level key', { replicas: 3 }, /additional properties 'replicas' not allowed/],
    [
      'an unknown key in a value of the chart',
      { crds: { install: true, keep: true, upgrade: true } },
      /at '\/crds': additional properties 'upgrade' not allowed/,
    ],
    ['a string for a number', { replicaCount: 'two' }, /at '\/replicaCount': got string, want integer/],
    ['a string for a boolean', { crds: { install: 'yes', keep: true } }, /at '\/crds\/install': got string, want boolean/],
    ['a list for a map', { nodeSelector: ['linux'] }, /at '\/nodeSelector': got array, want object/],
    ['a log level backlot run does not know', { logLevel: 'verbose' }, /at '\/logLevel': value must be one of/],
    ['workers out of range', { workers: 65 }, /at '\/workers': maximum: got 65, want 64/],
    ['a disabled metrics server', { metricsBindAddress: '0' }, /at '\/metricsBindAddress'/],
    ['a string for metrics.secure', { metrics: { secure: 'yes' } }, /at '\/metrics\/secure': got string, want boolean/],
    ['an unknown key in metrics', { metrics: { secure: true, port: 8443 } }, /at '\/metrics': additional properties 'port' not allowed/],
    ['a certificate Secret that is no object name', { metrics: { secure: true, certSecret: 'Metrics_Cert' } }, /at '\/metrics\/certSecret'/],
    ['a catalog port out of range', { catalog: { enabled: true, port: 70000 } }, /at '\/catalog\/port': maximum: got 70,000, want 65,535/],
    ['a namespace that is not a DNS label', { namespaces: ['Shop'] }, /at '\/namespaces\/0'/],
    ['an extra argument that is not a flag', { extraArgs: ['run'] }, /at '\/extraArgs\/0'/],
  ])('refuses %s in values.schema.json', async (_what, values, message) => {
    expect(await helm.templateError({ values })).toMatch(message);
  });
});
