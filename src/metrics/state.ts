/**
 * State metrics, generated from the informer caches at scrape time (as kube-state-metrics
 * does): deleted objects simply stop appearing. They live in a registry of their own, whose
 * exposition text is kept until the caches change: a scrape that finds the caches as the
 * last one left them is answered with that text, neither rebuilt nor formatted again.
 *
 * Label conventions: `owner` and `system` carry the referenced entity's name (the same value
 * as the `backlot.dev/owner` label on workloads, which is what Alertmanager routes on);
 * `entity` and `dependency` carry canonical references, kind:namespace/name.
 */
import { Gauge, Registry } from 'prom-client';
import { ConditionType } from '../api/conditions.ts';
import { isTrue } from '../catalog/condition-set.ts';
import { refName } from '../catalog/ownership.ts';
import { conditionsOf } from '../reconcilers/facts.ts';
import { orphans, surveyClaims, type WorkloadClaim } from '../reconcilers/survey.ts';
import { ENTITY_KINDS, type EntityObject, type ParsedEntity, type World } from '../reconcilers/world.ts';

export interface StateMetricsOptions {
  world: World;
  /** Namespaces whose workloads are never reported as orphans. */
  excludedNamespaces: ReadonlySet<string>;
  /**
   * Whether to export now: only the leader does, so that two replicas (whose caches are both
   * warm) never double a series, nor the alert built on it.
   */
  exporting?: () => boolean;
}

type Labels<K extends string> = Record<K, string>;

function firstRefName(entity: ParsedEntity, field: string): string {
  const ref = entity.refs.find((r) => r.field === field)?.ref;
  return ref ? refName(ref) : '';
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

type Fill<K extends string> = (set: (labels: Labels<K>, value: number) => void) => void;

export interface StateMetrics {
  /** The state families in the Prometheus text format, each with its HELP and TYPE lines. */
  text(): Promise<string>;
}

export function createStateMetrics(options: StateMetricsOptions): StateMetrics {
  const { world, excludedNamespaces } = options;
  const exporting = options.exporting ?? (() => true);
  const registry = new Registry();
  /** A gauge whose series are rebuilt from `fill` whenever the text is. */
  const stateGauge = <K extends string>(name: string, help: string, labelNames: readonly K[], fill: Fill<K>): Gauge<K> =>
    new Gauge<K>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        if (exporting()) fill((labels, value) => this.set(labels, value));
      },
    });

  const eachEntity = (visit: (obj: EntityObject, entity: ParsedEntity) => void) => {
    for (const kind of ENTITY_KINDS) for (const obj of world.caches.entities[kind].list()) visit(obj, world.parsed(kind, obj));
  };

  stateGauge('backlot_entity_info', 'Every catalog entity, with its owner, system, lifecycle and type. Always 1.', ['kind', 'namespace', 'name', 'owner', 'system', 'lifecycle', 'type'], (set) =>
    eachEntity((obj, e) =>
      set(
        { kind: e.kind, namespace: e.namespace, name: e.name, owner: firstRefName(e, 'owner'), system: firstRefName(e, 'system'), lifecycle: str(obj.spec?.lifecycle), type: str(obj.spec?.type) },
        1,
      ),
    ),
  );

  stateGauge('backlot_entity_ready', "Whether the entity's own Ready condition is True (1) or not (0).", ['kind', 'namespace', 'name', 'owner', 'system'], (set) =>
    eachEntity((obj, e) =>
      set({ kind: e.kind, namespace: e.namespace, name: e.name, owner: firstRefName(e, 'owner'), system: firstRefName(e, 'system') }, isTrue(conditionsOf(obj), ConditionType.Ready) ? 1 : 0),
    ),
  );

  stateGauge('backlot_entity_dependencies_ready', 'Whether every dependency of a Component or Resource exists and is Ready (1) or not (0).', ['kind', 'namespace', 'name', 'owner'], (set) =>
    eachEntity((obj, e) => {
      if (e.kind !== 'Component' && e.kind !== 'Resource') return;
      set({ kind: e.kind, namespace: e.namespace, name: e.name, owner: firstRefName(e, 'owner') }, isTrue(conditionsOf(obj), ConditionType.DependenciesReady) ? 1 : 0);
    }),
  );

  stateGauge('backlot_dependency_ready', 'One dependency of a Component or Resource: 1 when it exists and is Ready, else 0.', ['kind', 'namespace', 'name', 'owner', 'dependency'], (set) =>
    eachEntity((obj, e) => {
      const deps = (obj.status?.dependencies ?? []) as { ref?: string; ready?: boolean }[];
      for (const d of deps) if (d.ref) set({ kind: e.kind, namespace: e.namespace, name: e.name, owner: firstRefName(e, 'owner'), dependency: d.ref }, d.ready ? 1 : 0);
    }),
  );

  // The three workload families share one survey per scrape: a scrape collects every
  // family within one macrotask, and the memo is dropped right after it.
  let memo: WorkloadClaim[] | undefined;
  const claimsOf = (): WorkloadClaim[] => {
    if (!memo) {
      memo = surveyClaims(world);
      setImmediate(() => (memo = undefined));
    }
    return memo;
  };

  stateGauge('backlot_workload_owner_info', 'A claimed workload and the entity, owner and system it belongs to. Always 1; a join target for any workload metric.', ['namespace', 'workload_kind', 'workload', 'entity', 'owner', 'system'], (set) => {
    for (const c of claimsOf()) {
      const winner = c.claimants[0];
      if (!winner) continue;
      const entity = world.entity(winner)?.parsed;
      set({ namespace: c.namespace, workload_kind: c.kind, workload: c.name, entity: winner, owner: entity ? firstRefName(entity, 'owner') : '', system: entity ? firstRefName(entity, 'system') : '' }, 1);
    }
  });

  stateGauge('backlot_orphaned_workload', 'A Deployment, StatefulSet, DaemonSet, CronJob or Service that no entity claims, with the owner its Namespace names. Always 1.', ['namespace', 'workload_kind', 'workload', 'namespace_owner'], (set) => {
    for (const o of orphans(world, claimsOf(), excludedNamespaces)) set({ namespace: o.namespace, workload_kind: o.kind, workload: o.name, namespace_owner: o.namespaceOwner }, 1);
  });

  stateGauge('backlot_workload_claim_conflict', 'A workload that more than one entity claims. Always 1.', ['namespace', 'workload_kind', 'workload'], (set) => {
    for (const c of claimsOf()) if (c.claimants.length > 1) set({ namespace: c.namespace, workload_kind: c.kind, workload: c.name }, 1);
  });

  // Rebuilt only when something it reads changed: at 10k workloads building and formatting
  // the series takes a hundred milliseconds or more, and Prometheus (or a dashboard) may
  // scrape far more often than the catalog changes.
  let kept: { state: string; text: Promise<string> } | undefined;
  return {
    text() {
      const state = `${exporting()}:${world.stateVersion()}`;
      if (kept?.state !== state) {
        const text = registry.metrics();
        const entry = { state, text };
        // A failed render is not kept: the next scrape tries again.
        text.catch(() => {
          if (kept === entry) kept = undefined;
        });
        kept = entry;
      }
      return kept.text;
    },
  };
}
