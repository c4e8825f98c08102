/**
 * The readiness oracle: Backlot's per-workload readiness (src/catalog/readiness.ts, the functions
 * the operator calls) set beside `kubectl rollout status --watch=false` on the same object.
 *
 * A sample reads the object, runs kubectl, and reads the object again; it counts only when the
 * resourceVersion did not move in between, so both verdicts are of one and the same object and
 * any disagreement is a difference of rules, not of timing. A disagreement is accepted only
 * when one of the deliberate differences below explains it; the table names it.
 */
import type { WorkloadKind } from '../../src/api/workloads.ts';
import type { Readiness } from '../../src/catalog/readiness.ts';
import type { Cluster } from '../../src/envtest/cluster.ts';
import type { KubeObject } from '../../src/k8s/object.ts';
import { objectPath } from '../../src/k8s/resource.ts';
import type { RestClient } from '../../src/k8s/rest.ts';
import { workloadReadiness } from '../../src/reconcilers/workload-facts.ts';
import { OwnGenerations } from '../../src/reconcilers/generations.ts';
import { JOB_TRANSFORM, SLICE_TRANSFORM, WORKLOAD_TRANSFORMS } from '../../src/reconcilers/informers.ts';
import { WORKLOAD_RESOURCES } from '../../src/api/workloads.ts';
import { byControllerUid, byServiceName } from '../../src/reconcilers/indexes.ts';

export type RolloutKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export type OracleColumn = RolloutKind | 'CronJob' | 'Service';
export const COLUMNS: readonly OracleColumn[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Service'];

export interface Target {
  kind: RolloutKind;
  namespace: string;
  name: string;
}

export interface Sample {
  object: KubeObject;
  backlot: Readiness;
  kubectl: { done: boolean; message: string };
}

/**
 * Backlot's verdict, as the operator reaches it: the workload, its Jobs and EndpointSlices as
 * its caches hold them (their transforms applied), looked up by its indexes, through the
 * reconcilers' own workloadReadiness. Backlot has written nothing, so no generation is its own.
 */
export function backlotReadiness(kind: WorkloadKind, obj: KubeObject, related: { jobs?: KubeObject[]; slices?: KubeObject[] } = {}): Readiness {
  const jobs = (related.jobs ?? []).map((j) => JOB_TRANSFORM(j));
  const slices = (related.slices ?? []).map((s) => SLICE_TRANSFORM(s));
  const sources = {
    ownGenerations: new OwnGenerations(),
    jobsOf: (uid: string) => jobs.filter((j) => byControllerUid(j).includes(uid)),
    slicesOf: (namespace: string, service: string) => slices.filter((s) => byServiceName(s).includes(`${namespace}/${service}`)),
  };
  return workloadReadiness(sources, kind, WORKLOAD_TRANSFORMS[kind](obj));
}

/** kubectl's verdict: done only on exit 0 with one of the messages its status viewers print when done. */
export function kubectlVerdict(result: { code: number; stdout: string; stderr: string }): { done: boolean; message: string } {
  const message = (result.stdout.trim() || result.stderr.trim()).split('\n').pop() ?? '';
  const done = result.code === 0 && /successfully rolled out|partitioned roll out complete|rolling update complete/.test(result.stdout);
  return { done, message };
}

export async function sample(client: RestClient, cluster: Cluster, target: Target): Promise<Sample> {
  const path = objectPath(WORKLOAD_RESOURCES[target.kind], target.name, target.namespace);
  for (let attempt = 0; ; attempt++) {
    const before = await client.request<KubeObject>({ path });
    const result = await cluster.kubectl(['rollout', 'status', '--watch=false', '-n', target.namespace, `${target.kind.toLowerCase()}/${target.name}`]);
    const after = await client.request<KubeObject>({ path });
    if (before.metadata?.resourceVersion === after.metadata?.resourceVersion || attempt >= 20) {
      return { object: after, backlot: backlotReadiness(target.kind, after), kubectl: kubectlVerdict(result) };
    }
  }
}

/** A case where Backlot and kubectl disagree on purpose; documented in src/catalog/readiness.ts and the README. */
export interface DeliberateDifference {
  name: string;
  explains: (kind: RolloutKind, obj: KubeObject, sample: Sample) => boolean;
}

export const DELIBERATE_DIFFERENCES: readonly DeliberateDifference[] = [
  {
    // kubectl declines ("rollout status is only available for RollingUpdate strategy type");
    // Backlot judges it as any other: ready once every replica is ready and updated.
    name: 'OnDelete: kubectl declines to judge',
    explains: (kind, obj, s) =>
      kind !== 'Deployment' &&
      (obj.spec as { updateStrategy?: { type?: string } } | undefined)?.updateStrategy?.type === 'OnDelete' &&
      s.backlot.ready &&
      !s.kubectl.done,
  },
];

interface Cell {
  /** Samples where both said ready, and where both said not ready. */
  agree: number;
  agreeReady: number;
  differ: Map<string, number>;
  unexplained: string[];
}

/** Scenario × kind: how many samples agreed, which deliberate differences showed, and anything else. */
export class OracleTable {
  private readonly rows = new Map<string, Map<OracleColumn, Cell>>();

  private cell(scenario: string, column: OracleColumn): Cell {
    let row = this.rows.get(scenario);
    if (!row) this.rows.set(scenario, (row = new Map<OracleColumn, Cell>()));
    let cell = row.get(column);
    if (!cell) row.set(column, (cell = { agree: 0, agreeReady: 0, differ: new Map<string, number>(), unexplained: [] }));
    return cell;
  }

  /** Records a rollout sample; returns it. */
  recordSample(scenario: string, target: Target, s: Sample): Sample {
    const cell = this.cell(scenario, target.kind);
    if (s.backlot.ready === s.kubectl.done) {
      cell.agree++;
      if (s.backlot.ready) cell.agreeReady++;
    } else {
      const known = DELIBERATE_DIFFERENCES.find((d) => d.explains(target.kind, s.object, s));
      if (known) cell.differ.set(known.name, (cell.differ.get(known.name) ?? 0) + 1);
      else
        cell.unexplained.push(
          `${target.kind} ${target.name}: Backlot ${s.backlot.ready ? 'ready' : `not ready (${s.backlot.detail})`}, kubectl "${s.kubectl.message}"; status ${JSON.stringify((s.object as { status?: unknown }).status)}`,
        );
    }
    return s;
  }

  /** Records a verdict against another oracle (a Job's condition, the pods behind a Service). */
  recordVerdict(scenario: string, column: OracleColumn, backlot: Readiness, expected: boolean, what: string): void {
    const cell = this.cell(scenario, column);
    if (backlot.ready === expected) {
      cell.agree++;
      if (expected) cell.agreeReady++;
    } else
      cell.unexplained.push(
        `${column} ${what}: Backlot ${backlot.ready ? 'ready' : `not ready (${backlot.detail})`}, the oracle ${expected ? 'ready' : 'not ready'}`,
      );
  }

  unexplained(scenario: string): string[] {
    return [...(this.rows.get(scenario)?.values() ?? [])].flatMap((c) => c.unexplained);
  }

  /**
   * A Markdown table: agree (samples both called ready / not ready), differ: <case> (samples),
   * or — where the scenario does not apply.
   */
  render(): string {
    const lines = [`| scenario | ${COLUMNS.join(' | ')} |`, `|---|${COLUMNS.map(() => '---').join('|')}|`];
    for (const [scenario, row] of this.rows) {
      const cells = COLUMNS.map((column) => {
        const cell = row.get(column);
        if (!cell) return '—';
        const parts: string[] = [];
        if (cell.unexplained.length > 0) parts.push(`DIFFER, unexplained (${cell.unexplained.length})`);
        for (const [name, n] of cell.differ) parts.push(`differ: ${name} (${n})`);
        if (cell.agree > 0) parts.push(`agree (${cell.agreeReady} ready / ${cell.agree - cell.agreeReady} not)`);
        return parts.join('; ');
      });
      lines.push(`| ${scenario} | ${cells.join(' | ')} |`);
    }
    return lines.join('\n');
  }
}
