/**
 * A hostile tenant, against the real API server and a real `backlot run`: the attacks of
 * issue 29, each made by a user who holds only `backlot-catalog-editor` in their own
 * namespace A (a ServiceAccount's bearer token from the TokenRequest API, bound by a
 * RoleBinding; never the admin certificate). The contract is ../shared/API.md, "Tenancy" and
 * "Bounds".
 *
 * Namespace B is the victim: its own Groups, Domain, System, Component, Resource and API, and
 * the Services they claim, with good statuses, Events and metric series recorded before each
 * attack. Namespace T is the `teams`-style namespace of Groups that accepts relations from
 * every namespace. Workloads are created by the admin client (the attacker may not create
 * them); every catalog write of an attack goes through the attacker's token.
 *
 * After each attack: the operator is ready and its metrics can be collected, nothing in B
 * changed (statuses, Events, metric series, the backlot.dev fields of its workloads), the
 * operator's log shows no status write refused as invalid (422) since the attack began, and
 * the attacker's own entity says what was not honoured.
 *
 * The cases run in order, and the prototype-pollution attack runs last: a polluted process
 * would fail every later case for a reason not its own.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BacklotProcess } from '../../src/envtest/operator-process.ts';
import { setServiceEndpoints } from '../../src/envtest/simulate.ts';
import { RestClient } from '../../src/k8s/rest.ts';
import { kubeConfig, kubeconfigPath, testNamespace } from '../support/cluster.ts';
import { installCrds } from '../support/crds.ts';
import { eventually, until } from '../support/eventually.ts';
import { labelNames, parseSeries } from '../support/metrics-text.ts';
import { catalogEditor, installUserRoles, type Tenant } from '../support/tenant.ts';

const API = '/apis/catalog.backlot.dev/v1alpha1';
const ACCEPT = 'backlot.dev/accept-relations-from';
const BACKSTAGE_FIELDS = 'backlot.dev/backstage-fields';
const LABEL_SELECTOR = 'backstage.io/kubernetes-label-selector';
const KUBERNETES_ID = 'backstage.io/kubernetes-id';
const PLURALS = { Component: 'components', Resource: 'resources', System: 'systems', API: 'apis', Group: 'groups', Domain: 'domains' } as const;
type Kind = keyof typeof PLURALS;
const WORKLOAD_PATHS = {
  Deployment: '/apis/apps/v1',
  StatefulSet: '/apis/apps/v1',
  DaemonSet: '/apis/apps/v1',
  CronJob: '/apis/batch/v1',
  Service: '/api/v1',
} as const;
const WORKLOAD_PLURALS = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', CronJob: 'cronjobs', Service: 'services' } as const;
/** The state families, whose series are about entities and workloads (not the runtime). */
const STATE_FAMILIES = new Set([
  'backlot_entity_info',
  'backlot_entity_ready',
  'backlot_entity_dependencies_ready',
  'backlot_dependency_ready',
  'backlot_workload_owner_info',
  'backlot_orphaned_workload',
  'backlot_workload_claim_conflict',
]);
/** API.md's bounds on status lists (STATUS_LIMITS) and on condition messages. */
const MAX_WORKLOADS = 256;
const MAX_DEPENDENCIES = 128;
const MAX_MESSAGE = 4096;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

interface EntityStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  workloads?: { kind: string; name: string; ready: boolean }[];
  dependencies?: { ref: string; found: boolean; ready: boolean }[];
  totalWorkloads?: number;
  readyWorkloads?: number;
  totalDependencies?: number;
  components?: { total: number; ready: number };
  resources?: { total: number; ready: number };
  apis?: { total: number; ready: number };
}

interface Entity {
  kind: Kind;
  metadata: { name: string; namespace: string; generation: number; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  status?: EntityStatus;
}

interface Meta {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** What a namespace looks like from outside: what an attack on it could change. */
interface Snapshot {
  /** `Kind/name` → status. */
  statuses: Record<string, EntityStatus | undefined>;
  /** One line per Event. */
  events: string[];
  /** The state series that are the namespace's (their namespace or owner_namespace is it). */
  series: string[];
  /** `Kind/name` → the workload's backlot.dev labels and annotations. */
  workloads: Record<string, Record<string, string>>;
}

type Changes = Record<string, { before: unknown; after: unknown }>;

/** The differences between two snapshots; every part empty when nothing changed. */
interface Difference {
  statuses: Changes;
  events: { added: string[]; removed: string[] };
  series: { added: string[]; removed: string[] };
  workloads: Changes;
}

const NO_DIFFERENCE: Difference = { statuses: {}, events: { added: [], removed: [] }, series: { added: [], removed: [] }, workloads: {} };

/** JSON with keys sorted, so that two objects compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The keys whose values differ, with both values (as `show` renders them for the failure message). */
function changes<V>(before: Record<string, V>, after: Record<string, V>, show: (value: V | undefined) => unknown = (v) => v): Changes {
  const out: Changes = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (canonical(before[key]) !== canonical(after[key])) out[key] = { before: show(before[key]), after: show(after[key]) };
  }
  return out;
}

/** A status as a person reads it: one line per condition (with when it last moved), the other fields as they are. */
function readable(status: EntityStatus | undefined): unknown {
  if (!status) return status;
  const { conditions, ...rest } = status;
  return { ...rest, conditions: conditions?.map((c) => `${c.type} ${c.status} ${c.reason} (${c.lastTransitionTime}): ${c.message}`) };
}

function listDifference(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  return { added: after.filter((l) => !before.includes(l)), removed: before.filter((l) => !after.includes(l)) };
}

function difference(before: Snapshot, after: Snapshot): Difference {
  return {
    statuses: changes<EntityStatus | undefined>(before.statuses, after.statuses, readable),
    events: listDifference(before.events, after.events),
    series: listDifference(before.series, after.series),
    workloads: changes(before.workloads, after.workloads),
  };
}

/** A status without its conditions' lastTransitionTime: what it says, not when it last moved. */
function withoutTimes(status: EntityStatus | undefined): EntityStatus | undefined {
  if (!status) return status;
  return { ...status, conditions: status.conditions?.map(({ lastTransitionTime: _t, ...c }) => c) };
}

function condition(e: Entity | undefined, type: string): Condition | undefined {
  return e?.status?.conditions?.find((c) => c.type === type);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

describe('a hostile tenant with nothing but backlot-catalog-editor in its own namespace', () => {
  let dir: string;
  let admin: RestClient;
  let mallory: Tenant;
  let operator: BacklotProcess;
  const namespaces: { name: string; remove: () => Promise<void> }[] = [];
  let A: string;
  let B: string;
  let T: string;
  /** B (and A's workloads) as they were when the current case began, and where the operator's log stood. */
  let before: { b: Snapshot; aWorkloads: Snapshot['workloads']; logAt: number };

  // ---- reading the world -------------------------------------------------------------------

  const entityPath = (kind: Kind, namespace: string, name?: string) => `${API}/namespaces/${namespace}/${PLURALS[kind]}${name ? `/${name}` : ''}`;
  const get = (kind: Kind, namespace: string, name: string) => admin.request<Entity>({ path: entityPath(kind, namespace, name) });
  const list = async <T>(path: string) => (await admin.request<{ items: T[] }>({ path })).items;

  /** The entity once the operator has written its status for the current generation. */
  const reconciled = (kind: Kind, namespace: string, name: string, timeoutMs = 30_000) =>
    eventually(
      `${kind} ${namespace}/${name} to get a status for its generation`,
      async () => {
        const e = await get(kind, namespace, name);
        return e.status?.observedGeneration === e.metadata.generation && (e.status.conditions?.length ?? 0) > 0 ? e : undefined;
      },
      timeoutMs,
    );

  const metricsText = async (): Promise<{ status: number | string; text: string }> => {
    try {
      const res = await fetch(operator.metricsUrl);
      return { status: res.status, text: await res.text() };
    } catch (err) {
      return { status: `unreachable: ${(err as Error).message}`, text: '' };
    }
  };
  const readyz = async (): Promise<number | string> => {
    try {
      return (await fetch(`${operator.probeUrl}/readyz`)).status;
    } catch (err) {
      return `unreachable: ${(err as Error).message}`;
    }
  };
  const catalogInfoUrl = () => operator.metricsUrl.replace(/\/metrics$/, '/catalog-info.yaml');

  const workloadsOf = async (namespace: string): Promise<Snapshot['workloads']> => {
    const out: Snapshot['workloads'] = {};
    for (const kind of Object.keys(WORKLOAD_PATHS) as (keyof typeof WORKLOAD_PATHS)[]) {
      for (const w of await list<{ metadata: Meta }>(`${WORKLOAD_PATHS[kind]}/namespaces/${namespace}/${WORKLOAD_PLURALS[kind]}`)) {
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(w.metadata.labels ?? {})) if (k.startsWith('backlot.dev/')) fields[`label ${k}`] = v;
        for (const [k, v] of Object.entries(w.metadata.annotations ?? {})) if (k.startsWith('backlot.dev/')) fields[`annotation ${k}`] = v;
        out[`${kind}/${w.metadata.name}`] = fields;
      }
    }
    return out;
  };

  const eventsIn = async (namespace: string): Promise<string[]> =>
    (
      await list<{
        metadata: { name: string };
        type?: string;
        reason?: string;
        note?: string;
        regarding?: { kind?: string; name?: string };
        series?: { count?: number };
      }>(`/apis/events.k8s.io/v1/namespaces/${namespace}/events`)
    )
      .map((e) => `${e.metadata.name} ${e.type} ${e.reason} ${e.regarding?.kind}/${e.regarding?.name} x${e.series?.count ?? 1}: ${e.note}`)
      .sort();

  /** The state series that belong to `namespace`: about its objects, or routed to its Groups. */
  const seriesOf = (text: string, namespace: string): string[] =>
    parseSeries(text)
      .filter(
        (s) =>
          STATE_FAMILIES.has(s.name) &&
          (s.labels.namespace === namespace || s.labels.owner_namespace === namespace || s.labels.namespace_owner_namespace === namespace),
      )
      .map((s) => s.line)
      .sort();

  const snapshot = async (namespace: string): Promise<Snapshot> => {
    const statuses: Snapshot['statuses'] = {};
    for (const kind of Object.keys(PLURALS) as Kind[])
      for (const e of await list<Entity>(entityPath(kind, namespace))) statuses[`${kind}/${e.metadata.name}`] = e.status;
    const metrics = await metricsText();
    return {
      statuses,
      events: await eventsIn(namespace),
      series: metrics.status === 200 ? seriesOf(metrics.text, namespace) : [`/metrics answered ${metrics.status}`],
      workloads: await workloadsOf(namespace),
    };
  };

  /** Log lines since `from` that report a write the API server refused as invalid (422). */
  const rejectedWrites = (from: number): string[] =>
    operator
      .logs()
      .slice(from)
      .split('\n')
      .filter((l) => /"status":422\b|"reason":"Invalid"|\b422 Invalid\b/.test(l))
      .map((l) => l.slice(0, 600));

  /**
   * Waits until the operator has nothing left to do: its queues are empty and neither the
   * work it was given nor the Events in B moved over one poll interval (longer than the
   * second Events wait to be combined).
   */
  const settle = async (what: string, timeoutMs = 60_000): Promise<void> => {
    let previous: string | undefined;
    await eventually(
      `the operator to settle after ${what}`,
      async () => {
        const metrics = await metricsText();
        if (metrics.status !== 200) throw new Error(`/metrics answered ${metrics.status}`);
        const series = parseSeries(metrics.text);
        const sum = (name: string) => series.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);
        const fingerprint = `${sum('backlot_workqueue_adds_total')}/${(await eventsIn(B)).length}`;
        const quiet = sum('backlot_workqueue_depth') === 0 && fingerprint === previous;
        previous = fingerprint;
        return quiet ? true : undefined;
      },
      timeoutMs,
      1_200,
    );
  };

  /** What every attack must leave as it was: the operator ready and scrapeable, B untouched, no status write refused. */
  const harm = async () => ({
    process: operator.running ? 'running' : `exited; the end of its log: ${operator.logs().slice(-1500)}`,
    readyz: await readyz(),
    metrics: (await metricsText()).status,
    rejectedStatusWrites: rejectedWrites(before.logAt),
    b: difference(before.b, await snapshot(B)),
  });
  const NO_HARM = { process: 'running', readyz: 200, metrics: 200, rejectedStatusWrites: [], b: NO_DIFFERENCE };

  /**
   * What the RefsResolved condition of `e` says about `candidates` (`field ref` each): its
   * status, reason, and which candidates the message names as not accepted by namespace `ns`.
   */
  const notAccepted = (e: Entity | undefined, ns: string, candidates: readonly string[]) => {
    const c = condition(e, 'RefsResolved');
    const message = c?.message ?? '';
    return {
      status: c?.status,
      reason: c?.reason,
      named: candidates.filter((text) =>
        new RegExp(`not accepted by namespace ${escapeRegExp(ns)}:[\\s\\S]*?[\\s,;]${escapeRegExp(text)}(?![\\w/-])`).test(message),
      ),
    };
  };

  /** The owner labels of every state series about A's entity or workload `name`, by family. */
  const ownerLabels = (text: string, name: string) => {
    const out: Record<string, { owner: string; owner_namespace: string }> = {};
    for (const s of parseSeries(text)) {
      if (!STATE_FAMILIES.has(s.name) || s.labels.namespace !== A) continue;
      if (s.labels.name !== name && s.labels.workload !== name) continue;
      out[s.name] = { owner: s.labels.owner ?? '', owner_namespace: s.labels.owner_namespace ?? '' };
    }
    return out;
  };

  // ---- acting ------------------------------------------------------------------------------

  const entity = (kind: Kind, name: string, spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
    apiVersion: 'catalog.backlot.dev/v1alpha1',
    kind,
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec,
  });
  const component = (name: string, spec: Record<string, unknown> = {}, annotations?: Record<string, string>) =>
    entity('Component', name, { type: 'service', lifecycle: 'production', owner: 'mallory-team', ...spec }, annotations);

  /** `kubectl apply --server-side` as the attacker, into A. */
  const attackerApplies = async (...objects: object[]) => {
    const r = await mallory.kubectl(['apply', '--server-side', '--field-manager=mallory', '-n', A, '-f', '-'], {
      input: objects.map((o) => stringify(o)).join('---\n'),
    });
    if (r.code !== 0) throw new Error(`the attacker's kubectl apply failed (exit ${r.code}): ${r.stderr}`);
    return r;
  };
  const attackerDeletes = async (kind: Kind, ...names: string[]) => {
    for (const name of names) await mallory.client.request({ method: 'DELETE', path: entityPath(kind, A, name) }).catch(() => undefined);
  };

  /** A headless Service (no cluster IP to allocate) with the given labels, created by the admin. */
  const service = (namespace: string, name: string, labels: Record<string, string>) =>
    admin.request({
      method: 'POST',
      path: `/api/v1/namespaces/${namespace}/services`,
      body: { apiVersion: 'v1', kind: 'Service', metadata: { name, labels }, spec: { clusterIP: 'None', selector: labels, ports: [{ port: 80 }] } },
    });
  const adminApplies = async (namespace: string, ...objects: object[]) => {
    for (const o of objects) await admin.request({ method: 'POST', path: entityPath((o as { kind: Kind }).kind, namespace), body: o });
  };
  const annotateNamespace = (name: string, value: string | null) =>
    admin.request({
      method: 'PATCH',
      path: `/api/v1/namespaces/${name}`,
      contentType: 'application/merge-patch+json',
      body: { metadata: { annotations: { [ACCEPT]: value } } },
    });

  // ---- the stage ---------------------------------------------------------------------------

  beforeAll(async () => {
    await installCrds();
    await installUserRoles();
    admin = new RestClient(kubeConfig());
    dir = await mkdtemp(join(tmpdir(), 'backlot-hostile-'));
    for (const prefix of ['hostile-a', 'hostile-b', 'hostile-teams']) namespaces.push(await testNamespace(prefix));
    [A, B, T] = namespaces.map((n) => n.name) as [string, string, string];
    await annotateNamespace(T, '*');
    mallory = await catalogEditor({ namespace: A, name: 'mallory', dir });

    // B, the victim: a team's Groups, a Domain and System with a Component and a Resource in
    // it, an API served from outside (no provider), the Services they claim, and one nobody does.
    await service(B, 'x', { [KUBERNETES_ID]: 'x' });
    await service(B, 'db', { [KUBERNETES_ID]: 'db' });
    await service(B, 'stray', { app: 'stray' });
    await setServiceEndpoints(admin, { namespace: B, name: 'x' }, 2, 2);
    await setServiceEndpoints(admin, { namespace: B, name: 'db' }, 1, 1);
    await adminApplies(
      B,
      entity('Group', 'team-x', { type: 'team' }),
      entity('Group', 'kid', { type: 'team', parent: 'team-x' }),
      entity('Domain', 'd', { owner: 'team-x' }),
      entity('System', 's', { owner: 'team-x', domain: 'd' }),
      entity('Component', 'x', { type: 'service', lifecycle: 'production', owner: 'team-x', system: 's' }),
      entity('Resource', 'db', { type: 'database', owner: 'team-x', system: 's' }),
      entity('API', 'y', { type: 'openapi', lifecycle: 'production', owner: 'team-x', definition: 'openapi: 3.0.0' }),
    );
    // T: the teams' Groups, which every namespace may name.
    await adminApplies(T, entity('Group', 't', { type: 'team' }));
    // A's workloads, which its team may not create itself: a ready one its Component claims,
    // not-ready ones the attack Components claim, one nobody claims, one labelled `constructor`.
    await service(A, 'legit', { [KUBERNETES_ID]: 'legit' });
    await setServiceEndpoints(admin, { namespace: A, name: 'legit' }, 1, 1);
    await service(A, 'intruder', { [KUBERNETES_ID]: 'intruder' });
    await service(A, 'pager', { [KUBERNETES_ID]: 'pager' });
    await service(A, 'routed', { [KUBERNETES_ID]: 'routed' });
    await service(A, 'free', { app: 'free' });
    await service(A, 'ctor-labelled', { constructor: 'yes' });
    // A's own catalog, written by the attacker.
    await attackerApplies(entity('Group', 'mallory-team', { type: 'team' }), component('legit'));

    operator = await BacklotProcess.start({
      kubeconfig: kubeconfigPath(),
      logPath: join(dir, 'backlot.log'),
      extraArgs: ['--leader-elect=false', `--namespaces=${A},${B},${T}`, '--log-level=info'],
    });
    await operator.waitReady();
    for (const [kind, ns, name] of [
      ['Group', B, 'team-x'],
      ['Group', B, 'kid'],
      ['Domain', B, 'd'],
      ['System', B, 's'],
      ['Component', B, 'x'],
      ['Resource', B, 'db'],
      ['API', B, 'y'],
      ['Group', T, 't'],
      ['Group', A, 'mallory-team'],
      ['Component', A, 'legit'],
    ] as [Kind, string, string][]) {
      await reconciled(kind, ns, name);
    }
    await settle('the set-up');
  }, 120_000);

  afterAll(async () => {
    await operator?.stop(10_000);
    // The shared plane has no namespace controller: what a deleted namespace holds stays in
    // etcd, so the bulk of what the attacks made goes first.
    for (const ns of namespaces) {
      for (const kind of Object.keys(PLURALS) as Kind[]) await admin?.request({ method: 'DELETE', path: entityPath(kind, ns.name) }).catch(() => undefined);
      for (const path of [`/api/v1/namespaces/${ns.name}/services`, `/apis/discovery.k8s.io/v1/namespaces/${ns.name}/endpointslices`]) {
        await admin?.request({ method: 'DELETE', path }).catch(async () => {
          for (const o of await list<{ metadata: { name: string } }>(path))
            await admin.request({ method: 'DELETE', path: `${path}/${o.metadata.name}` }).catch(() => undefined);
        });
      }
      await ns.remove().catch(() => undefined);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  beforeEach(async () => {
    if (!operator?.running) return;
    await settle('the previous case').catch(() => undefined);
    before = { b: await snapshot(B), aWorkloads: await workloadsOf(A), logAt: operator.logs().length };
  }, 90_000);

  it('sets the stage: the attacker is a token user who may edit the catalog in A only, and B starts healthy', async () => {
    const whoami = await mallory.kubectl(['auth', 'whoami', '-o', 'json']);
    expect((JSON.parse(whoami.stdout) as { status: { userInfo: { username: string } } }).status.userInfo.username).toBe(mallory.user);
    const can = async (...args: string[]) => (await mallory.kubectl(['auth', 'can-i', ...args])).stdout.trim();
    expect({
      'create components in A': await can('create', 'components.catalog.backlot.dev', '-n', A),
      'delete apis in A': await can('delete', 'apis.catalog.backlot.dev', '-n', A),
      'patch components/status in A': await can('patch', 'components.catalog.backlot.dev', '--subresource=status', '-n', A),
      'create components in B': await can('create', 'components.catalog.backlot.dev', '-n', B),
      'get components in B': await can('get', 'components.catalog.backlot.dev', '-n', B),
      'create services in A': await can('create', 'services', '-n', A),
      'patch services in B': await can('patch', 'services', '-n', B),
      'patch namespaces': await can('patch', 'namespaces'),
    }).toEqual({
      'create components in A': 'yes',
      'delete apis in A': 'yes',
      'patch components/status in A': 'no',
      'create components in B': 'no',
      'get components in B': 'no',
      'create services in A': 'no',
      'patch services in B': 'no',
      'patch namespaces': 'no',
    });

    const statuses = Object.fromEntries(
      Object.entries(before.b.statuses).map(([key, s]) => [key, Object.fromEntries((s?.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]))]),
    );
    expect(statuses).toEqual({
      'Group/team-x': { Ready: 'True Resolved', RefsResolved: 'True AllRefsResolved' },
      'Group/kid': { Ready: 'True Resolved', RefsResolved: 'True AllRefsResolved' },
      'Domain/d': { Ready: 'True AllPartsReady', RefsResolved: 'True AllRefsResolved' },
      'System/s': { Ready: 'True AllPartsReady', RefsResolved: 'True AllRefsResolved' },
      'Component/x': {
        Ready: 'True AllWorkloadsReady',
        WorkloadsReady: 'True AllWorkloadsReady',
        DependenciesReady: 'True NoDependencies',
        RefsResolved: 'True AllRefsResolved',
      },
      'Resource/db': {
        Ready: 'True AllWorkloadsReady',
        WorkloadsReady: 'True AllWorkloadsReady',
        DependenciesReady: 'True NoDependencies',
        RefsResolved: 'True AllRefsResolved',
      },
      'API/y': { Ready: 'Unknown NoProviders', RefsResolved: 'True AllRefsResolved' },
    });
    expect(before.b.statuses['System/s']).toMatchObject({ components: { total: 1, ready: 1 }, resources: { total: 1, ready: 1 } });
    expect(before.b.series.filter((l) => l.startsWith('backlot_entity_info{')).length).toBe(7);
    expect(before.b.series.some((l) => l.startsWith(`backlot_orphaned_workload{namespace="${B}",workload_kind="Service",workload="stray"`))).toBe(true);
    expect(before.b.workloads['Service/x']).toMatchObject({ 'annotation backlot.dev/entity': `component:${B}/x` });
    expect(before.b.events.length).toBeGreaterThan(0);
    expect(condition(await get('Component', A, 'legit'), 'Ready')).toMatchObject({ status: 'True', reason: 'AllWorkloadsReady' });
  });

  describe('relations into B without its consent', () => {
    /** Every reference the attack makes into B, as `field ref`: all need B's consent but the last two. */
    const intoB = () => ({
      intruder: [
        `system system:${B}/s`,
        `subcomponentOf component:${B}/x`,
        `dependencyOf component:${B}/x`,
        `providesApis api:${B}/y`,
        `dependsOn resource:${B}/db`,
        `consumesApis api:${B}/y`,
      ],
      'intruder-sys': [`domain domain:${B}/d`],
      'intruder-dom': [`subdomainOf domain:${B}/d`],
      'intruder-team': [`parent group:${B}/team-x`, `children group:${B}/kid`],
    });
    const needConsent = (refs: string[]) => refs.filter((r) => !r.startsWith('dependsOn ') && !r.startsWith('consumesApis '));
    const attackers = [
      ['Component', 'intruder'],
      ['System', 'intruder-sys'],
      ['Domain', 'intruder-dom'],
      ['Group', 'intruder-team'],
    ] as const;
    const refsReport = async () => {
      const out: Record<string, ReturnType<typeof notAccepted>> = {};
      for (const [kind, name] of attackers) out[name] = notAccepted(await get(kind, A, name), B, intoB()[name]);
      return out;
    };
    const consentEffects = async () => {
      const [x, s, y] = [await get('Component', B, 'x'), await get('System', B, 's'), await get('API', B, 'y')];
      return {
        'x depends on intruder': (x.status?.dependencies ?? []).some((d) => d.ref === `component:${A}/intruder`),
        's counts intruder': s.status?.components?.total === 2,
        'y is provided by intruder': condition(y, 'Ready')?.reason === 'NoProviderReady',
      };
    };

    it("changes nothing in B (status, Events, metrics) and the attacker's entities report RelationNotAccepted for each reference", async () => {
      // The attack: a Component in A (not ready: its Service has no endpoints) that names B's
      // System, Component and API; a System in B's Domain; a Domain under it; a Group that
      // makes itself B's team's child and B's other Group its own child.
      await attackerApplies(
        component('intruder', {
          system: `system:${B}/s`,
          subcomponentOf: `component:${B}/x`,
          dependencyOf: [`component:${B}/x`],
          providesApis: [`api:${B}/y`],
          dependsOn: [`resource:${B}/db`],
          consumesApis: [`api:${B}/y`],
        }),
        entity('System', 'intruder-sys', { owner: 'mallory-team', domain: `domain:${B}/d` }),
        entity('Domain', 'intruder-dom', { owner: 'mallory-team', subdomainOf: `domain:${B}/d` }),
        entity('Group', 'intruder-team', { type: 'team', parent: `group:${B}/team-x`, children: [`group:${B}/kid`] }),
      );
      for (const [kind, name] of attackers) await reconciled(kind, A, name);
      await settle('the cross-namespace relations');
      const intruder = await get('Component', A, 'intruder');
      expect({
        harm: await harm(),
        refs: await refsReport(),
        // A dependsOn into B needs no consent: the intruder reads db's health, which changes only itself.
        intruderDependencies: { condition: condition(intruder, 'DependenciesReady')?.reason, list: intruder.status?.dependencies },
      }).toEqual({
        harm: NO_HARM,
        refs: Object.fromEntries(
          Object.entries(intoB()).map(([name, refs]) => [name, { status: 'False', reason: 'RelationNotAccepted', named: needConsent(refs) }]),
        ),
        intruderDependencies: { condition: 'AllDependenciesReady', list: [{ ref: `resource:${B}/db`, found: true, ready: true }] },
      });
    });

    it('takes effect once B accepts relations from A (consent works), and stops when B withdraws it', async () => {
      const beforeConsent = before.b;
      // Parsed leniently: items trimmed, empty ones ignored.
      await annotateNamespace(B, ` unrelated-ns, ${A} ,`);
      const accepted = await until(
        async () => ({ effects: await consentEffects(), refs: await refsReport() }),
        (v) => Object.values(v.effects).every(Boolean) && Object.values(v.refs).every((r) => r.status === 'True'),
      );
      expect(accepted).toEqual({
        effects: { 'x depends on intruder': true, 's counts intruder': true, 'y is provided by intruder': true },
        refs: Object.fromEntries(attackers.map(([, name]) => [name, { status: 'True', reason: 'AllRefsResolved', named: [] }])),
      });

      await annotateNamespace(B, null);
      const withdrawn = await until(
        async () => ({ effects: await consentEffects(), refs: await refsReport() }),
        (v) => !Object.values(v.effects).some(Boolean) && Object.values(v.refs).every((r) => r.reason === 'RelationNotAccepted'),
      );
      expect(withdrawn.effects).toEqual({ 'x depends on intruder': false, 's counts intruder': false, 'y is provided by intruder': false });
      expect(Object.values(withdrawn.refs).map((r) => r.reason)).toEqual(attackers.map(() => 'RelationNotAccepted'));
      await settle('withdrawing consent');
      // B says what it said before the consent (only the times of its transitions moved).
      const after = await snapshot(B);
      const said = (s: Snapshot) => Object.fromEntries(Object.entries(s.statuses).map(([k, v]) => [k, withoutTimes(v)]));
      expect({
        statuses: changes<EntityStatus | undefined>(said(beforeConsent), said(after), readable),
        series: listDifference(beforeConsent.series, after.series),
      }).toEqual({ statuses: {}, series: { added: [], removed: [] } });
      expect({ readyz: await readyz(), rejectedStatusWrites: rejectedWrites(before.logAt) }).toEqual({ readyz: 200, rejectedStatusWrites: [] });
    });
  });

  describe('paging another team', () => {
    it('an owner in B that does not accept A routes nothing to B: owner="" owner_namespace="" on the series, no owner on the workload', async () => {
      await attackerApplies(component('pager', { owner: `group:${B}/team-x` }));
      await reconciled('Component', A, 'pager');
      await settle('the owner in B');
      const metrics = await metricsText();
      expect({
        harm: await harm(),
        series: ownerLabels(metrics.text, 'pager'),
        workload: (await workloadsOf(A))['Service/pager'],
        refs: notAccepted(await get('Component', A, 'pager'), B, [`owner group:${B}/team-x`]),
      }).toEqual({
        harm: NO_HARM,
        series: Object.fromEntries(
          ['backlot_entity_info', 'backlot_entity_ready', 'backlot_entity_dependencies_ready', 'backlot_workload_owner_info'].map((f) => [
            f,
            { owner: '', owner_namespace: '' },
          ]),
        ),
        // Still claimed (an entity claims in its own namespace), but with no owner to page.
        workload: { 'annotation backlot.dev/entity': `component:${A}/pager`, 'annotation backlot.dev/lifecycle': 'production' },
        refs: { status: 'False', reason: 'RelationNotAccepted', named: [`owner group:${B}/team-x`] },
      });
    });

    it('an owner in the teams namespace that accepts every namespace is honoured: owner="t" owner_namespace=teams on the series and the workload', async () => {
      await attackerApplies(component('routed', { owner: `group:${T}/t` }));
      await reconciled('Component', A, 'routed');
      await settle('the owner in teams');
      const metrics = await metricsText();
      expect({
        harm: await harm(),
        series: ownerLabels(metrics.text, 'routed'),
        workload: (await workloadsOf(A))['Service/routed'],
        refs: condition(await get('Component', A, 'routed'), 'RefsResolved')?.reason,
      }).toEqual({
        harm: NO_HARM,
        series: Object.fromEntries(
          ['backlot_entity_info', 'backlot_entity_ready', 'backlot_entity_dependencies_ready', 'backlot_workload_owner_info'].map((f) => [
            f,
            { owner: 't', owner_namespace: T },
          ]),
        ),
        workload: {
          'label backlot.dev/owner': 't',
          'label backlot.dev/owner-namespace': T,
          'annotation backlot.dev/entity': `component:${A}/routed`,
          'annotation backlot.dev/owner': `group:${T}/t`,
          'annotation backlot.dev/lifecycle': 'production',
        },
        refs: 'AllRefsResolved',
      });
    });
  });

  describe('claims in its own namespace', () => {
    it('a spec selector with no positive requirement (only DoesNotExist, or only NotIn) is refused at admission, naming spec.workloads.selector', async () => {
      const tryApply = async (name: string, selector: Record<string, unknown>) => {
        const r = await mallory.kubectl(['apply', '--server-side', '--field-manager=mallory', '-n', A, '-f', '-'], {
          input: stringify(component(name, { workloads: { selector } })),
        });
        // Accepted where it should not be: out again at once, before it claims the namespace for long.
        if (r.code === 0) await attackerDeletes('Component', name);
        return {
          refused: r.code !== 0,
          namesTheField: r.stderr.includes('spec.workloads.selector'),
          stderr: r.code === 0 ? r.stdout.trim() : r.stderr.trim().slice(0, 400),
        };
      };
      const doesNotExist = await tryApply('grab-all', { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] });
      const notIn = await tryApply('grab-most', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['secret'] }] });
      // A positive requirement beside them is fine.
      const mixed = await tryApply('narrow', { matchLabels: { app: 'narrow' }, matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] });
      await settle('the refused selectors');
      expect({
        doesNotExist: { refused: doesNotExist.refused, namesTheField: doesNotExist.namesTheField },
        notIn: { refused: notIn.refused, namesTheField: notIn.namesTheField },
        mixed: mixed.refused,
        aWorkloads: changes(before.aWorkloads, await workloadsOf(A)),
        harm: await harm(),
      }).toEqual({
        doesNotExist: { refused: true, namesTheField: true },
        notIn: { refused: true, namesTheField: true },
        mixed: false,
        aWorkloads: {},
        harm: NO_HARM,
      });
    });

    it('the annotation selector "!x" gets WorkloadsReady False InvalidSelector and claims nothing; every workload keeps its owner', async () => {
      try {
        await attackerApplies(component('bang', {}, { [LABEL_SELECTOR]: '!x' }));
        const bang = await reconciled('Component', A, 'bang');
        await settle('the annotation selector');
        const metrics = await metricsText();
        const workloadsReady = condition(bang, 'WorkloadsReady');
        expect({
          workloadsReady: {
            status: workloadsReady?.status,
            reason: workloadsReady?.reason,
            namesTheAnnotation: workloadsReady?.message.includes(LABEL_SELECTOR),
          },
          claimed: { total: bang.status?.totalWorkloads ?? 0, workloads: bang.status?.workloads ?? [] },
          aWorkloads: changes(before.aWorkloads, await workloadsOf(A)),
          conflictsInA: parseSeries(metrics.text)
            .filter((s) => s.name === 'backlot_workload_claim_conflict' && s.labels.namespace === A)
            .map((s) => s.line),
          harm: await harm(),
        }).toEqual({
          workloadsReady: { status: 'False', reason: 'InvalidSelector', namesTheAnnotation: true },
          claimed: { total: 0, workloads: [] },
          aWorkloads: {},
          conflictsInA: [],
          harm: NO_HARM,
        });
      } finally {
        await attackerDeletes('Component', 'bang');
      }
    });

    it('a selector on the keys constructor or toString matches no workload that lacks that label', async () => {
      try {
        await attackerApplies(
          component('probe-constructor', { workloads: { selector: { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] } } }),
          component('probe-tostring', { workloads: { selector: { matchExpressions: [{ key: 'toString', operator: 'Exists' }] } } }),
        );
        const ctor = await reconciled('Component', A, 'probe-constructor');
        const toString = await reconciled('Component', A, 'probe-tostring');
        await settle('the constructor and toString selectors');
        const aWorkloads = changes(before.aWorkloads, await workloadsOf(A));
        expect({
          // The one workload labelled `constructor` is claimed; nothing else is.
          constructor: { claimed: (ctor.status?.workloads ?? []).map((w) => `${w.kind}/${w.name}`), workloadsReady: condition(ctor, 'WorkloadsReady')?.reason },
          toString: {
            claimed: (toString.status?.workloads ?? []).map((w) => `${w.kind}/${w.name}`),
            workloadsReady: condition(toString, 'WorkloadsReady')?.reason,
          },
          aWorkloadsChanged: Object.keys(aWorkloads),
          harm: await harm(),
        }).toEqual({
          constructor: { claimed: ['Service/ctor-labelled'], workloadsReady: 'WorkloadsNotReady' },
          toString: { claimed: [], workloadsReady: 'NoWorkloadsMatched' },
          aWorkloadsChanged: ['Service/ctor-labelled'],
          harm: NO_HARM,
        });
      } finally {
        await attackerDeletes('Component', 'probe-constructor', 'probe-tostring');
      }
    });
  });

  describe('freezing a status with more than the CRD allows', () => {
    /** How many items a status list holds, and whether they are the first of `all` (sorted), in order: a deterministic cut. */
    const firstInOrder = (listed: readonly string[], all: readonly string[]) => ({
      count: listed.length,
      theFirstInOrder: listed.every((item, i) => item === all[i]),
    });
    /** Waits for the entity's status to say `done`, or for a refused status write in the log, whichever comes first. */
    const statusOrRejection = (kind: Kind, name: string, done: (e: Entity) => boolean, timeoutMs: number) =>
      until(
        async () => ({ entity: await get(kind, A, name), rejected: rejectedWrites(before.logAt) }),
        (v) => v.rejected.length > 0 || (v.entity.status?.observedGeneration === v.entity.metadata.generation && done(v.entity)),
        timeoutMs,
      );

    it('an entity claiming 1,000 workloads gets a status: totalWorkloads 1000, the first 256 listed, no 422', async () => {
      const names = Array.from({ length: 1000 }, (_, i) => `hoard-${String(i).padStart(4, '0')}`);
      const started = Date.now();
      await inParallel(names, 16, (name) => service(A, name, { [KUBERNETES_ID]: 'hoard' }));
      process.stderr.write(`[hostile-tenant] 1,000 Services created in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      await attackerApplies(component('hoard'));
      const { entity: hoard, rejected } = await statusOrRejection('Component', 'hoard', (e) => e.status?.totalWorkloads === 1000, 90_000);
      // A refused write is retried with backoff for ever: rather than wait for it to settle, the
      // entity goes, so that its retries do not show up in the log of the cases after this one.
      if (rejected.length === 0) await settle('the 1,000 claims', 120_000);
      else await attackerDeletes('Component', 'hoard');
      const messages = (hoard.status?.conditions ?? []).map((c) => c.message.length);
      expect({
        rejectedStatusWrites: rejected,
        totalWorkloads: hoard.status?.totalWorkloads,
        listed: firstInOrder(
          (hoard.status?.workloads ?? []).map((w) => w.name),
          names,
        ),
        longestMessage: Math.max(0, ...messages) <= MAX_MESSAGE,
        notReadyMessage: condition(hoard, 'WorkloadsReady')?.message.match(/and \d+ more/)?.[0],
        harm: rejected.length === 0 ? await harm() : 'not checked: a status write was refused',
      }).toEqual({
        rejectedStatusWrites: [],
        totalWorkloads: 1000,
        listed: { count: MAX_WORKLOADS, theFirstInOrder: true },
        longestMessage: true,
        notReadyMessage: expect.stringMatching(/^and \d+ more$/),
        harm: NO_HARM,
      });
    }, 240_000);

    it('an entity named by 300 dependencyOf gets a status: totalDependencies 300, the first 128 listed, no 422', async () => {
      const names = Array.from({ length: 300 }, (_, i) => `fan-${String(i).padStart(3, '0')}`);
      await attackerApplies(component('popular'));
      await inParallel(names, 16, (name) =>
        mallory.client.request({ method: 'POST', path: entityPath('Component', A), body: component(name, { dependencyOf: [`component:${A}/popular`] }) }),
      );
      const { entity: popular, rejected } = await statusOrRejection('Component', 'popular', (e) => e.status?.totalDependencies === 300, 90_000);
      if (rejected.length === 0) await settle('the 300 dependents', 120_000);
      else await attackerDeletes('Component', 'popular');
      const messages = (popular.status?.conditions ?? []).map((c) => c.message.length);
      expect({
        rejectedStatusWrites: rejected,
        totalDependencies: popular.status?.totalDependencies,
        listed: firstInOrder(
          (popular.status?.dependencies ?? []).map((d) => d.ref),
          names.map((n) => `component:${A}/${n}`),
        ),
        longestMessage: Math.max(0, ...messages) <= MAX_MESSAGE,
        harm: rejected.length === 0 ? await harm() : 'not checked: a status write was refused',
      }).toEqual({
        rejectedStatusWrites: [],
        totalDependencies: 300,
        listed: { count: MAX_DEPENDENCIES, theFirstInOrder: true },
        longestMessage: true,
        harm: NO_HARM,
      });
    }, 240_000);
  });

  it('an API with a 1 MiB definition is accepted; the operator stays ready and /catalog-info.yaml answers with a stable ETag', async () => {
    const line = '  /things/{id}: {get: {summary: "a thing", responses: {"200": {description: ok}}}}\n';
    const definition = `openapi: 3.0.0\ninfo: {title: big, version: "1"}\npaths:\n${line.repeat(Math.ceil(1_040_000 / line.length))}`.slice(0, 1_040_000);
    await mallory.client.request({
      method: 'POST',
      path: entityPath('API', A),
      body: entity('API', 'big', { type: 'openapi', lifecycle: 'production', owner: 'mallory-team', definition }),
    });
    const big = await reconciled('API', A, 'big');
    await settle('the 1 MiB API');
    const fetchCatalog = async (etag?: string) => {
      const res = await fetch(catalogInfoUrl(), etag ? { headers: { 'If-None-Match': etag } } : {});
      const body = await res.text();
      return { status: res.status, etag: res.headers.get('etag') ?? '', hasBig: /\n\s+name: big\n/.test(body) };
    };
    const first = await fetchCatalog();
    const second = await fetchCatalog();
    const revalidated = await fetchCatalog(first.etag);
    expect({
      apiStatus: condition(big, 'Ready')?.reason,
      first: { status: first.status, hasBig: first.hasBig },
      sameEtag: first.etag !== '' && first.etag === second.etag,
      revalidated: revalidated.status,
      harm: await harm(),
    }).toEqual({
      apiStatus: 'NoProviders',
      first: { status: 200, hasBig: true },
      sameEtag: true,
      revalidated: 304,
      harm: NO_HARM,
    });
  });

  it('the annotation backlot.dev/backstage-fields with __proto__ and constructor.prototype keys does not pollute the process: /catalog-info.yaml, /metrics and /readyz keep working', async () => {
    await attackerApplies(
      component('souvenir', {}, { [BACKSTAGE_FIELDS]: JSON.stringify({ '__proto__.workloads': 'x', 'constructor.prototype.polluted': 'y' }) }),
    );
    await reconciled('Component', A, 'souvenir');
    await settle('the backstage-fields annotation');
    const labelsBefore = labelNames((await metricsText()).text);
    // Backstage polls the export; the first request is where the keys would be applied.
    const exported = await fetch(catalogInfoUrl());
    const exportedBody = await exported.text();
    const scrapes = [await metricsText(), await metricsText()];
    // Still working: a new entity gets its status.
    await attackerApplies(component('after-souvenir'));
    const after = await until(
      () => get('Component', A, 'after-souvenir'),
      (e) => e.status?.observedGeneration === e.metadata.generation,
      20_000,
    );
    expect({
      catalogInfo: { status: exported.status, hasSouvenir: /\n\s+name: souvenir\n/.test(exportedBody) },
      scrapes: scrapes.map((s) => s.status),
      // A key written onto Object.prototype shows up as a label on every series that prom-client builds.
      newLabels: scrapes.map((s) => [...labelNames(s.text)].filter((name) => !labelsBefore.has(name))),
      handlerFailures: operator
        .logs()
        .slice(before.logAt)
        .split('\n')
        .filter((l) => l.includes('http handler failed'))
        .map((l) => l.slice(0, 400)),
      newEntityReconciled: after.status?.observedGeneration === after.metadata.generation,
      harm: await harm(),
    }).toEqual({
      catalogInfo: { status: 200, hasSouvenir: true },
      scrapes: [200, 200],
      newLabels: [[], []],
      handlerFailures: [],
      newEntityReconciled: true,
      harm: NO_HARM,
    });
  });
});
