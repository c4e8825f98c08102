/**
 * State metrics, generated from the informer caches at scrape time (as kube-state-metrics
 * does): deleted objects simply stop appearing. The text is written here rather than through
 * prom-client's gauges, so that what a scrape built can be kept, piece by piece, until the
 * objects it came from change: a full rebuild grows with the cluster, and Prometheus (or a
 * dashboard, or a test polling for an orphan) may scrape far more often than the catalog
 * changes (docs/benchmarks.md has what rebuilding cost).
 *
 * Label conventions: `owner` and `system` carry the referenced entity's name (the same value
 * as the `backlot.dev/owner` label on workloads), `owner_namespace` the owner Group's namespace
 * (Alertmanager routes on the two together, so Groups of one name in two namespaces stay
 * apart); an owner or system in a namespace that does not accept the entity's relations is
 * left out (empty), so that no entity can route its alerts to another tenant's team.
 * `entity` and `dependency` carry canonical references, kind:namespace/name.
 */
import { WORKLOAD_KINDS } from '../api/workloads.ts';
import { ConditionType } from '../api/conditions.ts';
import { isTrue } from '../catalog/condition-set.ts';
import { refName, refNamespace } from '../catalog/ownership.ts';
import { conditionsOf } from './facts.ts';
import { orphans, surveyNamespace, workloadNamespaces } from './survey.ts';
import type { World } from './world.ts';
import type { ParsedEntity } from './entities.ts';
import { ENTITY_KINDS, type EntityObject } from '../api/kinds.ts';

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

export interface StateMetrics {
  /** The state families in the Prometheus text format, each with its HELP and TYPE lines. */
  text(): Promise<string>;
}

/** One family's HELP and TYPE lines. */
interface Family {
  name: string;
  help: string;
}

const ENTITY_INFO: Family = { name: 'backlot_entity_info', help: 'Every catalog entity, with its owner, system, lifecycle and type. Always 1.' };
const ENTITY_READY: Family = { name: 'backlot_entity_ready', help: "Whether the entity's own Ready condition is True (1) or not (0)." };
const ENTITY_DEPENDENCIES_READY: Family = {
  name: 'backlot_entity_dependencies_ready',
  help: 'Whether every dependency of a Component or Resource exists and is Ready (1) or not (0).',
};
const DEPENDENCY_READY: Family = {
  name: 'backlot_dependency_ready',
  help: 'One dependency of a Component or Resource: 1 when it exists and is Ready, else 0.',
};
const WORKLOAD_OWNER_INFO: Family = {
  name: 'backlot_workload_owner_info',
  help: 'A claimed workload and the entity, owner and system it belongs to. Always 1; a join target for any workload metric.',
};
const ORPHANED_WORKLOAD: Family = {
  name: 'backlot_orphaned_workload',
  help: 'A Deployment, StatefulSet, DaemonSet, CronJob or Service that no entity claims, with the owner its Namespace names and the namespace of that owner. Always 1.',
};
const WORKLOAD_CLAIM_CONFLICT: Family = { name: 'backlot_workload_claim_conflict', help: 'A workload that more than one entity claims. Always 1.' };

/** The families in the order they are exposed. */
const STATE_FAMILIES: readonly Family[] = [
  ENTITY_INFO,
  ENTITY_READY,
  ENTITY_DEPENDENCIES_READY,
  DEPENDENCY_READY,
  WORKLOAD_OWNER_INFO,
  ORPHANED_WORKLOAD,
  WORKLOAD_CLAIM_CONFLICT,
];

/** The text format's escaping (as prom-client writes it): backslash and newline; in label values, quotes too. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(value: string): string {
  return escapeHelp(value).replace(/"/g, '\\"');
}

/**
 * One series line: `name{label="value",...} value`, labels in the order given. Joined rather
 * than concatenated: a kept line is then one flat string, not a chain of its pieces.
 */
function series(family: Family, labels: Record<string, string>, value: number): string {
  const parts = Object.entries(labels).map(([name, v]) => `${name}="${escapeLabelValue(v)}"`);
  return [family.name, '{', parts.join(','), '} ', String(value)].join('');
}

/** The exposition text of the state families, each given the lines of its series. */
function exposition(lines: ReadonlyMap<Family, readonly string[]>): string {
  return `${STATE_FAMILIES.map((f) => [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} gauge`, ...(lines.get(f) ?? [])].join('\n')).join(
    '\n\n',
  )}\n`;
}

/** The entity's reference in `field`, if it has one that takes effect where it points. */
function acceptedRef(world: World, entity: ParsedEntity, field: string): string | undefined {
  const r = entity.refs.find((x) => x.field === field);
  return r && world.relationAccepted(entity, r) ? r.ref : undefined;
}

/** The `owner`, `owner_namespace` and `system` labels of an entity's series. */
function ownerLabels(world: World, entity: ParsedEntity): { owner: string; owner_namespace: string; system: string } {
  const owner = acceptedRef(world, entity, 'owner');
  const system = acceptedRef(world, entity, 'system');
  return { owner: owner ? refName(owner) : '', owner_namespace: owner ? refNamespace(owner) : '', system: system ? refName(system) : '' };
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** The series one entity contributes to the entity families. */
interface EntitySeries {
  info: string;
  ready: string;
  dependenciesReady?: string;
  dependencies: readonly string[];
}

function entitySeries(world: World, obj: EntityObject, e: ParsedEntity): EntitySeries {
  const { owner, owner_namespace, system } = ownerLabels(world, e);
  const own = { kind: e.kind, namespace: e.namespace, name: e.name };
  const out: EntitySeries = {
    info: series(ENTITY_INFO, { ...own, owner, owner_namespace, system, lifecycle: str(obj.spec?.lifecycle), type: str(obj.spec?.type) }, 1),
    ready: series(ENTITY_READY, { ...own, owner, owner_namespace, system }, isTrue(conditionsOf(obj), ConditionType.Ready) ? 1 : 0),
    dependencies: [],
  };
  if (e.kind !== 'Component' && e.kind !== 'Resource') return out;
  out.dependenciesReady = series(
    ENTITY_DEPENDENCIES_READY,
    { ...own, owner, owner_namespace },
    isTrue(conditionsOf(obj), ConditionType.DependenciesReady) ? 1 : 0,
  );
  const deps = obj.status?.dependencies ?? [];
  out.dependencies = deps.flatMap((d) => (d.ref ? [series(DEPENDENCY_READY, { ...own, owner, owner_namespace, dependency: d.ref }, d.ready ? 1 : 0)] : []));
  return out;
}

/** The series one namespace contributes to the workload families. */
interface NamespaceSeries {
  /** The versions of what they were made from. */
  version: string;
  owners: string[];
  orphans: string[];
  conflicts: string[];
}

/**
 * Builds the state families from the caches (as kube-state-metrics does) and keeps what it
 * built. An entity's series are made once per version of its object; a namespace's workload
 * series once per version of what claims read there (its workloads and claimants other than
 * in status, and the Namespace itself); the list of every line once per version of the
 * caches, joined into the text at each scrape.
 * A scrape after a change so rebuilds only what the change touched: a workload's status
 * update, the bulk of a busy cluster's traffic, rebuilds nothing, and a new workload rebuilds
 * its namespace's series alone.
 */
export function createStateMetrics(options: StateMetricsOptions): StateMetrics {
  const { world, excludedNamespaces } = options;
  const exporting = options.exporting ?? (() => true);
  const { entities, workloads } = world.caches;
  /** An entity's series, and the Namespaces' version they were made at (which relations are accepted). */
  const perEntity = new WeakMap<EntityObject, { namespaces: number; series: EntitySeries }>();
  const perNamespace = new Map<string, NamespaceSeries>();

  const entityLines = (lines: Map<Family, string[]>) => {
    const info: string[] = [];
    const ready: string[] = [];
    const dependenciesReady: string[] = [];
    const dependencies: string[] = [];
    const namespaces = world.caches.namespaces.version;
    for (const kind of ENTITY_KINDS) {
      for (const obj of entities[kind].list()) {
        let known = perEntity.get(obj);
        if (known?.namespaces !== namespaces) perEntity.set(obj, (known = { namespaces, series: entitySeries(world, obj, world.parsed(kind, obj)) }));
        const s = known.series;
        info.push(s.info);
        ready.push(s.ready);
        if (s.dependenciesReady) dependenciesReady.push(s.dependenciesReady);
        for (const d of s.dependencies) dependencies.push(d);
      }
    }
    lines.set(ENTITY_INFO, info).set(ENTITY_READY, ready).set(ENTITY_DEPENDENCIES_READY, dependenciesReady).set(DEPENDENCY_READY, dependencies);
  };

  const namespaceSeries = (namespace: string): NamespaceSeries => {
    // Namespaces as a whole: an owner's namespace may stop accepting this one's relations.
    let version = `${entities.Component.namespaceMetadataVersion(namespace)}/${entities.Resource.namespaceMetadataVersion(namespace)}/${world.caches.namespaces.version}`;
    for (const kind of WORKLOAD_KINDS) version += `/${workloads[kind].namespaceMetadataVersion(namespace)}`;
    const known = perNamespace.get(namespace);
    if (known?.version === version) return known;
    const claims = surveyNamespace(world, namespace);
    const out: NamespaceSeries = { version, owners: [], orphans: [], conflicts: [] };
    for (const c of claims) {
      const winner = c.claimants[0];
      if (!winner) continue;
      const entity = world.entity(winner)?.parsed;
      const labels = entity ? ownerLabels(world, entity) : { owner: '', owner_namespace: '', system: '' };
      out.owners.push(series(WORKLOAD_OWNER_INFO, { namespace, workload_kind: c.kind, workload: c.name, entity: winner, ...labels }, 1));
      if (c.claimants.length > 1) out.conflicts.push(series(WORKLOAD_CLAIM_CONFLICT, { namespace, workload_kind: c.kind, workload: c.name }, 1));
    }
    for (const o of orphans(world, claims, excludedNamespaces)) {
      out.orphans.push(
        series(
          ORPHANED_WORKLOAD,
          { namespace, workload_kind: o.kind, workload: o.name, namespace_owner: o.namespaceOwner, namespace_owner_namespace: o.namespaceOwnerNamespace },
          1,
        ),
      );
    }
    perNamespace.set(namespace, out);
    return out;
  };

  const workloadLines = (lines: Map<Family, string[]>) => {
    const owners: string[] = [];
    const orphaned: string[] = [];
    const conflicts: string[] = [];
    const present = workloadNamespaces(world);
    for (const namespace of present) {
      const s = namespaceSeries(namespace);
      for (const l of s.owners) owners.push(l);
      for (const l of s.orphans) orphaned.push(l);
      for (const l of s.conflicts) conflicts.push(l);
    }
    // Namespaces whose last workload went: their series go with them.
    if (perNamespace.size > present.length) {
      const keep = new Set(present);
      for (const namespace of perNamespace.keys()) if (!keep.has(namespace)) perNamespace.delete(namespace);
    }
    lines.set(WORKLOAD_OWNER_INFO, owners).set(ORPHANED_WORKLOAD, orphaned).set(WORKLOAD_CLAIM_CONFLICT, conflicts);
  };

  const standby = exposition(new Map());
  // The lines, not the text they make: the text would be a second copy of every line (3 MiB
  // at 10,000 workloads) for as long as the caches stay as they are, and joining the kept
  // lines costs a scrape a few milliseconds, a rebuild a hundred or more.
  let kept: { state: string; lines: ReadonlyMap<Family, readonly string[]> } | undefined;
  return {
    text() {
      if (!exporting()) return Promise.resolve(standby);
      // What the series read: entities in full, workloads and namespaces other than in status.
      let state = ENTITY_KINDS.map((kind) => entities[kind].version).join('.');
      for (const kind of WORKLOAD_KINDS) state += `/${workloads[kind].metadataVersion}`;
      state += `/${world.caches.namespaces.version}`;
      if (kept?.state !== state) {
        const lines = new Map<Family, string[]>();
        entityLines(lines);
        workloadLines(lines);
        kept = { state, lines };
      }
      return Promise.resolve(exposition(kept.lines));
    },
  };
}
