/**
 * deploy/ as `kubectl kustomize` builds it: what each object says, checked against the code
 * it deploys (the resources the catalog watches and writes, the flags `backlot run` knows,
 * the package version, the generated CRDs, the alert rules file). Applying it to a real API
 * server, and running under its RBAC, is test/integration/deploy-install.test.ts.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { customResourceDefinitions } from '../../src/api/crd.ts';
import { RUN_FLAGS } from '../../src/cli/run-config.ts';
import { LEASES, type ResourceRef } from '../../src/k8s/resource.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { EntityParser } from '../../src/reconcilers/entities.ts';
import { createCatalogInformers, type MakeInformer } from '../../src/reconcilers/informers.ts';
import type { InformerRequest } from '../../src/runtime/factory.ts';
import { WORKLOAD_RESOURCES } from '../../src/api/workloads.ts';
import { ENTITY_KINDS, entityResource } from '../../src/api/kinds.ts';
import type { Informer } from '../../src/runtime/informer.ts';
import {
  dashboardPanels,
  metricNames,
  readDashboard,
  variableMetrics,
  withVariables,
  type Dashboard,
  type DashboardPanel,
} from '../support/deploy-dashboard.ts';
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

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** `group/resource verb` for every pair a rule grants (`resource` for the core group). */
function grants(rules: readonly PolicyRule[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    for (const g of r.apiGroups ?? [])
      for (const res of r.resources ?? [])
        for (const v of r.verbs) out.push(`${g ? `${g}/` : ''}${res} ${v}${r.resourceNames ? ` [${r.resourceNames.join(',')}]` : ''}`);
  }
  return out.sort();
}

const POLICY_KINDS = ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'];

interface AdmissionPolicy extends KubeObject {
  spec: {
    failurePolicy: string;
    matchConstraints: { resourceRules: { apiGroups: string[]; apiVersions: string[]; resources: string[]; operations: string[] }[] };
    matchConditions: { name: string; expression: string }[];
    validations: { expression: string; reason: string; message: string }[];
  };
}

interface AdmissionPolicyBinding extends KubeObject {
  spec: { policyName: string; validationActions: string[]; matchResources?: unknown; paramRef?: unknown };
}

interface NetworkPolicyPort {
  port: string | number;
  protocol: string;
}

interface NetworkPolicyObject extends KubeObject {
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: { from?: { namespaceSelector?: { matchLabels: Record<string, string> } }[]; ports: NetworkPolicyPort[] }[];
    egress: { to?: unknown[]; ports: NetworkPolicyPort[] }[];
  };
}

const key = (ref: ResourceRef, sub = '') => `${ref.group ? `${ref.group}/` : ''}${ref.resource}${sub}`;

/** The resources the catalog's informers watch, as the catalog asks for them. */
function watchedByTheCatalog(): ResourceRef[] {
  const watched: ResourceRef[] = [];
  const record: MakeInformer = <T extends KubeObject>(request: InformerRequest<T>) => {
    watched.push(request.resource);
    // Only the requests matter; the informers are never started.
    return { cache: undefined } as unknown as Informer<T>;
  };
  createCatalogInformers(record, new EntityParser());
  return watched;
}

describe('deploy/ (kubectl kustomize)', () => {
  let objects: KubeObject[];
  let deployment: DeploymentObject;
  const kubectl = () => process.env.BACKLOT_TEST_KUBECTL!;

  beforeAll(async () => {
    objects = await kustomize(kubectl(), DEPLOY_DIR);
    deployment = find<DeploymentObject>(objects, 'Deployment', 'backlot');
  });

  it('builds the namespace, the CRDs, RBAC, the admission policy, the Deployment, its PodDisruptionBudget, the metrics Service and the NetworkPolicy', () => {
    const names = objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
    expect(names).toEqual(
      [
        'Namespace/backlot-system',
        ...customResourceDefinitions().map((c) => `CustomResourceDefinition/${c.metadata.name}`),
        'ServiceAccount/backlot',
        'ClusterRole/backlot-operator',
        'ClusterRoleBinding/backlot-operator',
        'Role/backlot-leader-election',
        'RoleBinding/backlot-leader-election',
        'ClusterRole/backlot-catalog-editor',
        'ClusterRole/backlot-catalog-viewer',
        'ClusterRole/backlot-metrics-reader',
        'ValidatingAdmissionPolicy/backlot-operator-least-power',
        'ValidatingAdmissionPolicyBinding/backlot-operator-least-power',
        'Deployment/backlot',
        'PodDisruptionBudget/backlot',
        'Service/backlot-metrics',
        'NetworkPolicy/backlot',
      ].sort(),
    );
    // kustomize's schema takes the admission policy kinds for namespaced ones and gives them a
    // namespace, which the API server drops (they are cluster-scoped); deploy-install applies them.
    const namespaced = objects.filter(
      (o) => !['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', ...POLICY_KINDS].includes(o.kind ?? ''),
    );
    for (const o of namespaced) expect([o.kind, o.metadata?.namespace]).toEqual([o.kind, 'backlot-system']);
  });

  it('carries the CRDs exactly as the model generates them', () => {
    const expected = new Map(customResourceDefinitions().map((c) => [c.metadata.name, c]));
    for (const crd of objects.filter((o) => o.kind === 'CustomResourceDefinition')) {
      const { labels, ...metadata } = crd.metadata ?? {};
      const want = expected.get(crd.metadata?.name ?? '');
      expect({ ...crd, metadata }).toEqual({ ...want, metadata: { ...want?.metadata, labels: undefined } });
      expect(labels).toMatchObject(want?.metadata.labels ?? {});
    }
  });

  it('grants the operator exactly what the code uses: list/watch what it watches, get APIs, patch what it applies to, create Events and reviews', () => {
    const role = find<KubeObject & { rules: PolicyRule[] }>(objects, 'ClusterRole', 'backlot-operator');
    const expected = new Set<string>();
    for (const ref of watchedByTheCatalog()) for (const verb of ['list', 'watch']) expected.add(`${key(ref)} ${verb}`);
    // Server-side apply: entity status (EntityReconciler), ownership on workloads (OwnershipReconciler).
    for (const kind of ENTITY_KINDS) expected.add(`${key(entityResource(kind), '/status')} patch`);
    for (const ref of Object.values(WORKLOAD_RESOURCES)) expected.add(`${key(ref)} patch`);
    // The served export's API definitions (definitionHandler) read one API at a time.
    expected.add(`${key(entityResource('API'))} get`);
    // EventRecorder posts events.k8s.io/v1 Events.
    expected.add('events.k8s.io/events create');
    // The secure metrics server (Reviewer) asks the API server who calls and what they may do.
    expected.add('authentication.k8s.io/tokenreviews create');
    expected.add('authorization.k8s.io/subjectaccessreviews create');
    expect(grants(role.rules)).toEqual([...expected].sort());
  });

  it('grants no wildcard, nothing on Secrets or ConfigMaps, and never create or delete on workloads', () => {
    const role = find<KubeObject & { rules: PolicyRule[] }>(objects, 'ClusterRole', 'backlot-operator');
    const all = grants(role.rules);
    expect(all.filter((g) => g.includes('*'))).toEqual([]);
    expect(all.filter((g) => /(^|\/)(secrets|configmaps)\b/.test(g))).toEqual([]);
    const workloads = Object.values(WORKLOAD_RESOURCES).map((r) => key(r));
    expect(all.filter((g) => workloads.includes(g.split(' ')[0]!) && /\s(create|update|delete|deletecollection)$/.test(g))).toEqual([]);
  });

  it("binds the operator role and the Lease role to the operator's ServiceAccount", () => {
    const subject = { kind: 'ServiceAccount', name: deployment.spec.template.spec.serviceAccountName, namespace: 'backlot-system' };
    expect(subject.name).toBe('backlot');
    const crb = find<KubeObject & { subjects: unknown[]; roleRef: unknown }>(objects, 'ClusterRoleBinding', 'backlot-operator');
    expect(crb.subjects).toEqual([subject]);
    expect(crb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'backlot-operator' });
    const rb = find<KubeObject & { subjects: unknown[]; roleRef: unknown }>(objects, 'RoleBinding', 'backlot-leader-election');
    expect(rb.subjects).toEqual([subject]);
    expect(rb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'backlot-leader-election' });
  });

  it('lets the replicas create the Lease and read and renew only the one the Deployment names', () => {
    const role = find<KubeObject & { rules: PolicyRule[] }>(objects, 'Role', 'backlot-leader-election');
    const id = deployment.spec.template.spec.containers[0]!.args?.find((a) => a.startsWith('--leader-election-id='))?.split('=')[1];
    expect(id).toBe('backlot-leader');
    // RestLeaseStore: GET, POST (create) and PUT (update) of one Lease.
    expect(grants(role.rules)).toEqual([`${key(LEASES)} create`, `${key(LEASES)} get [${id}]`, `${key(LEASES)} update [${id}]`].sort());
  });

  it('runs two replicas with leader election, the image of this version, and flags `backlot run` knows', async () => {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(deployment.spec.replicas).toBe(2);
    const container = deployment.spec.template.spec.containers[0]!;
    expect(container.image).toBe(`backlot:${pkg.version}`);
    expect(container.args).toContain('--leader-elect=true');
    for (const arg of container.args ?? []) expect([arg, RUN_FLAGS.some((f) => f.name === arg.split('=')[0]!.slice(2))]).toEqual([arg, true]);
    expect(container.env).toEqual([
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ]);
  });

  it('probes /healthz and /readyz on the probe port and serves secure metrics on the metrics port the flags name', () => {
    const container = deployment.spec.template.spec.containers[0]!;
    const port = (name: string) => container.ports?.find((p) => p.name === name)?.containerPort;
    const flagPort = (flag: string) =>
      Number(
        container.args
          ?.find((a) => a.startsWith(`${flag}=`))
          ?.split(':')
          .at(-1),
      );
    expect(port('probes')).toBe(8081);
    expect(port('metrics')).toBe(8443);
    expect(flagPort('--health-probe-bind-address')).toBe(8081);
    expect(flagPort('--metrics-bind-address')).toBe(8443);
    expect(container.args).toContain('--metrics-secure=true');
    expect(container.args?.some((a) => a.startsWith('--catalog-bind-address'))).toBe(false);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'probes' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'probes' });
  });

  it('requests and limits CPU and memory', () => {
    const { resources } = deployment.spec.template.spec.containers[0]!;
    expect(Object.keys(resources?.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(Object.keys(resources?.limits ?? {}).sort()).toEqual(['cpu', 'memory']);
  });

  it('has a restricted securityContext: non-root numeric UID, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const pod = deployment.spec.template.spec.securityContext;
    const container = deployment.spec.template.spec.containers[0]!.securityContext;
    expect(pod).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container?.capabilities?.add).toBeUndefined();
  });

  it("selects the Deployment's pods with its PodDisruptionBudget and its metrics Service", () => {
    const labels = deployment.spec.template.metadata.labels;
    const pdb = find<KubeObject & { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } }>(
      objects,
      'PodDisruptionBudget',
      'backlot',
    );
    expect(pdb.spec.minAvailable).toBe(1);
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    const svc = find<KubeObject & { spec: { selector: Record<string, string>; ports: { name: string; targetPort: string }[] } }>(
      objects,
      'Service',
      'backlot-metrics',
    );
    expect(labels).toMatchObject(svc.spec.selector);
    expect(svc.spec.ports).toEqual([{ name: 'metrics', port: 8443, targetPort: 'metrics', protocol: 'TCP' }]);
  });

  it('mounts the optional Secret backlot-metrics-cert where --metrics-cert-path reads it', () => {
    const spec = deployment.spec.template.spec as { volumes?: unknown[]; containers: { args?: string[]; volumeMounts?: unknown[] }[] };
    const container = spec.containers[0]!;
    const dir = container.args?.find((a) => a.startsWith('--metrics-cert-path='))?.split('=')[1];
    expect(container.volumeMounts).toEqual([{ name: 'metrics-cert', mountPath: dir, readOnly: true }]);
    expect(spec.volumes).toEqual([{ name: 'metrics-cert', secret: { secretName: 'backlot-metrics-cert', optional: true } }]);
  });

  it('ships backlot-metrics-reader: get on the non-resource URL /metrics, nothing else', () => {
    const role = find<KubeObject & { rules: unknown[] }>(objects, 'ClusterRole', 'backlot-metrics-reader');
    expect(role.rules).toEqual([{ nonResourceURLs: ['/metrics'], verbs: ['get'] }]);
  });

  it("holds the operator's identity to backlot.dev/ metadata on every kind its role may patch: the admission policy and its binding", () => {
    const policy = find<AdmissionPolicy>(objects, 'ValidatingAdmissionPolicy', 'backlot-operator-least-power');
    const binding = find<AdmissionPolicyBinding>(objects, 'ValidatingAdmissionPolicyBinding', 'backlot-operator-least-power');
    expect(binding.spec).toEqual({ policyName: policy.metadata?.name, validationActions: ['Deny'] });
    expect(policy.spec.failurePolicy).toBe('Fail');
    // Exactly the workload resources the ClusterRole grants patch on, with their subresources,
    // for every change an identity can make to them.
    const role = find<KubeObject & { rules: PolicyRule[] }>(objects, 'ClusterRole', 'backlot-operator');
    const patched = grants(role.rules)
      .filter((g) => g.endsWith(' patch') && !g.includes('/status') && !g.startsWith('catalog.backlot.dev/'))
      .map((g) => g.split(' ')[0]!);
    expect(patched.sort()).toEqual(
      Object.values(WORKLOAD_RESOURCES)
        .map((r) => key(r))
        .sort(),
    );
    const matched = policy.spec.matchConstraints.resourceRules.flatMap((r) => {
      expect([r.apiVersions, r.operations]).toEqual([['*'], ['CREATE', 'UPDATE', 'DELETE']]);
      return r.apiGroups.flatMap((g) => r.resources.map((res) => `${g ? `${g}/` : ''}${res}`));
    });
    expect(matched.sort()).toEqual(patched.flatMap((p) => [p, `${p}/*`]).sort());
    // The identity: the Deployment's ServiceAccount, in whatever namespace it is installed.
    const sa = deployment.spec.template.spec.serviceAccountName;
    expect(policy.spec.matchConditions).toEqual([
      {
        name: 'backlot-service-account',
        expression: `request.userInfo.username.startsWith('system:serviceaccount:') && request.userInfo.username.endsWith(':${sa}')`,
      },
    ]);
    for (const v of policy.spec.validations) expect([v.reason, v.message]).toEqual(['Forbidden', expect.stringMatching(/^Backlot's ServiceAccount may /)]);
  });

  it('keeps the admission policy working in an overlay that installs into another namespace', async () => {
    const overlay = await kustomizeOverlay(kubectl(), { resources: [DEPLOY_DIR], fields: { namespace: 'platform-tools' } });
    const withoutNamespace = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, namespace: undefined } });
    for (const kind of POLICY_KINDS)
      expect(withoutNamespace(find(overlay, kind, 'backlot-operator-least-power'))).toEqual(
        withoutNamespace(find(objects, kind, 'backlot-operator-least-power')),
      );
    // The ServiceAccount moves (the bindings' subjects do not: README, Troubleshooting); the
    // expression names no namespace, so it matches the ServiceAccount there as well.
    expect(find(overlay, 'ServiceAccount', 'backlot').metadata?.namespace).toBe('platform-tools');
  });

  it('admits traffic to the metrics port only from labelled namespaces, to the probe port from anywhere, and lets out only API server and DNS traffic', () => {
    const policy = find<NetworkPolicyObject>(objects, 'NetworkPolicy', 'backlot');
    const container = deployment.spec.template.spec.containers[0]!;
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    // The ports by the container's names for them, so that they follow the Deployment.
    const named = new Set(container.ports?.map((p) => p.name));
    const [metrics, probes, ...more] = policy.spec.ingress;
    expect(more).toEqual([]);
    expect(metrics).toEqual({
      from: [{ namespaceSelector: { matchLabels: { 'backlot.dev/metrics-access': 'true' } } }],
      ports: [{ port: 'metrics', protocol: 'TCP' }],
    });
    expect(probes).toEqual({ ports: [{ port: 'probes', protocol: 'TCP' }] });
    for (const rule of policy.spec.ingress) for (const p of rule.ports) expect([p.port, named.has(String(p.port))]).toEqual([p.port, true]);
    expect(policy.spec.egress.map((e) => e.ports.map((p) => `${p.port}/${p.protocol}`))).toEqual([
      ['443/TCP', '6443/TCP'],
      ['53/UDP', '53/TCP'],
    ]);
  });

  it('spreads the two replicas over nodes (hard) and zones (best effort), and leaves the priority class to the overlay', () => {
    const spec = deployment.spec.template.spec;
    const pods = deployment.spec.selector.matchLabels;
    expect(spec.topologySpreadConstraints).toEqual([
      {
        topologyKey: 'kubernetes.io/hostname',
        maxSkew: 1,
        whenUnsatisfiable: 'DoNotSchedule',
        nodeTaintsPolicy: 'Honor',
        labelSelector: { matchLabels: pods },
        matchLabelKeys: ['pod-template-hash'],
      },
      {
        topologyKey: 'topology.kubernetes.io/zone',
        maxSkew: 1,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: pods },
        matchLabelKeys: ['pod-template-hash'],
      },
    ]);
    // The spread per node replaces the anti-affinity that said the same thing.
    expect(spec.affinity).toBeUndefined();
    expect(spec.priorityClassName).toBeUndefined();
  });
});

describe('deploy/backstage (a kustomize component)', () => {
  it('adds the plain catalog port `catalog` to the Deployment, with the flag that opens it, and the Service backlot-catalog', async () => {
    const objects = await kustomizeOverlay(process.env.BACKLOT_TEST_KUBECTL!, { resources: [DEPLOY_DIR], components: [BACKSTAGE_DIR] });
    const container = find<DeploymentObject>(objects, 'Deployment', 'backlot').spec.template.spec.containers[0]!;
    expect(container.args).toContain('--catalog-bind-address=:8082');
    expect(container.ports?.find((p) => p.name === 'catalog')).toEqual({ name: 'catalog', containerPort: 8082, protocol: 'TCP' });
    const svc = find<KubeObject & { spec: { selector: Record<string, string>; ports: unknown[] } }>(objects, 'Service', 'backlot-catalog');
    expect(svc.metadata?.namespace).toBe('backlot-system');
    expect(svc.spec.ports).toEqual([{ name: 'catalog', port: 8082, targetPort: 'catalog', protocol: 'TCP' }]);
    expect(find<DeploymentObject>(objects, 'Deployment', 'backlot').spec.template.metadata.labels).toMatchObject(svc.spec.selector);
    // The NetworkPolicy admits namespaces labelled for it to that port, and nothing new elsewhere.
    const ingress = find<KubeObject & { spec: { ingress: unknown[] } }>(objects, 'NetworkPolicy', 'backlot').spec.ingress;
    expect(ingress.at(-1)).toEqual({
      from: [{ namespaceSelector: { matchLabels: { 'backlot.dev/catalog-access': 'true' } } }],
      ports: [{ port: 'catalog', protocol: 'TCP' }],
    });
    expect(ingress).toHaveLength(3);
  });
});

describe('deploy/monitoring (kubectl kustomize)', () => {
  let objects: KubeObject[];
  let base: KubeObject[];

  beforeAll(async () => {
    objects = await kustomize(process.env.BACKLOT_TEST_KUBECTL!, MONITORING_DIR);
    base = await kustomize(process.env.BACKLOT_TEST_KUBECTL!, DEPLOY_DIR);
  });

  it('builds a ServiceMonitor, a PrometheusRule and the dashboard ConfigMap in backlot-system', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`).sort()).toEqual([
      'ConfigMap/backlot-system/backlot-grafana-dashboard',
      'PrometheusRule/backlot-system/backlot',
      'ServiceMonitor/backlot-system/backlot',
    ]);
  });

  it('has the PrometheusRule carry exactly the rules of deploy/alerts/backlot.rules.yaml', async () => {
    const rules = parse(await readFile(join(DEPLOY_DIR, 'alerts/backlot.rules.yaml'), 'utf8')) as unknown;
    const rule = find<KubeObject & { spec: unknown }>(objects, 'PrometheusRule', 'backlot');
    expect(rule.spec).toEqual(rules);
  });

  it("scrapes the metrics Service's port over HTTPS with Prometheus's token, keeping the metrics' own namespace label, as job \"backlot\"", () => {
    const monitor = find<
      KubeObject & { spec: { jobLabel: string; selector: { matchLabels: Record<string, string> }; endpoints: (ServiceMonitorEndpoint & { port: string })[] } }
    >(objects, 'ServiceMonitor', 'backlot');
    const svc = find<KubeObject & { spec: { ports: { name: string }[] } }>(base, 'Service', 'backlot-metrics');
    expect(svc.metadata?.labels).toMatchObject(monitor.spec.selector.matchLabels);
    expect(svc.metadata?.labels?.[monitor.spec.jobLabel]).toBe('backlot');
    for (const endpoint of monitor.spec.endpoints) {
      expect(svc.spec.ports.map((p) => p.name)).toContain(endpoint.port);
      expect(endpoint.honorLabels).toBe(true);
      expect(endpoint).toMatchObject({
        scheme: 'https',
        bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
        tlsConfig: { insecureSkipVerify: true },
      });
    }
  });

  it("ships the dashboard file unchanged, labelled for Grafana's sidecar", async () => {
    const cm = find<KubeObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'backlot-grafana-dashboard');
    expect(cm.metadata?.labels?.grafana_dashboard).toBe('1');
    expect(cm.data['backlot.json']).toBe(await readFile(join(MONITORING_DIR, 'grafana-dashboard.json'), 'utf8'));
  });
});

describe('metric names in a PromQL expression', () => {
  it.each([
    ['up', ['up']],
    ['sum by (le, controller) (rate(backlot_x_bucket{job=~"a.*", le!="1"}[5m]))', ['backlot_x_bucket']],
    ['count(a{n=~"$namespace"} and on (instance) (b{job=~".+"} == 1)) or vector(0)', ['a', 'b']],
    ['label_replace(a == 1, "owner", "$1", "namespace_owner", "(.*)")', ['a']],
    ['(a == 1) * on (namespace, workload) group_left (owner, entity) b', ['a', 'b']],
    ['histogram_quantile(0.99, sum by (le, name) (rate(h_bucket[1m])))', ['h_bucket']],
    ['max without (instance) (m offset 5m) > bool 1e-3', ['m']],
    ['topk(5, sum(rate(c_total[5m])) by (controller))', ['c_total']],
    ['absent(backlot_leader == 1)', ['backlot_leader']],
    ['x:recorded:rate5m unless ignoring (pod) y', ['x:recorded:rate5m', 'y']],
  ])('%s', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });
});

describe('the Grafana dashboard', () => {
  let dashboard: Dashboard;
  let panels: DashboardPanel[];

  beforeAll(async () => {
    dashboard = await readDashboard();
    panels = dashboardPanels(dashboard);
  });

  it('is an importable dashboard: uid, title, schema version, unique panel ids, panels that do not overlap', () => {
    expect(dashboard).toMatchObject({ uid: 'backlot-overview', title: 'Backlot' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ids = dashboard.panels.flatMap((p) => [p.id, ...(p.panels ?? []).map((c) => c.id)]);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Map<string, string>();
    for (const p of dashboard.panels) {
      for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          const cell = `${x},${y}`;
          expect([p.title, x < 24, cells.get(cell)]).toEqual([p.title, true, undefined]);
          cells.set(cell, p.title);
        }
      }
    }
  });

  it('queries the data source the user picks, in every panel and target', () => {
    expect(panels.length).toBeGreaterThan(0);
    for (const p of panels) {
      expect([p.title, p.datasource]).toEqual([p.title, { type: 'prometheus', uid: '${datasource}' }]);
      expect([p.title, (p.targets ?? []).length > 0]).toEqual([p.title, true]);
      for (const t of p.targets ?? []) expect([p.title, t.refId, t.datasource, t.expr.trim().length > 0]).toEqual([p.title, t.refId, p.datasource, true]);
    }
  });

  it('uses only variables it defines', () => {
    for (const p of panels) for (const t of p.targets ?? []) expect(() => withVariables(dashboard, t.expr)).not.toThrow();
    expect(variableMetrics(dashboard).map((v) => v.variable)).toEqual(['job', 'namespace', 'owner']);
  });

  it('shows what the issue asks: readiness by owner, orphans by namespace and namespace owner, failing dependencies, claim conflicts, reconcile latency, queue depth, leader', () => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    const some = (pattern: RegExp) => expect([pattern.source, exprs.some((e) => pattern.test(e))]).toEqual([pattern.source, true]);
    some(/by \(owner_namespace, owner\) \(backlot_entity_ready/);
    some(/by \(kind\) \(backlot_entity_ready/);
    some(/by \(namespace\) \(backlot_orphaned_workload/);
    some(/by \(namespace_owner\) \(backlot_orphaned_workload/);
    some(/backlot_dependency_ready\{[^}]*\} == 0/);
    some(/backlot_workload_claim_conflict/);
    some(/histogram_quantile\(0\.99, sum by \(le, controller\) \(rate\(backlot_reconcile_duration_seconds_bucket/);
    some(/backlot_workqueue_depth/);
    some(/^backlot_leader\{job=~"\$job"\} == 1$/);
  });
});
