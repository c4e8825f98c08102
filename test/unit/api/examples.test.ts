/**
 * examples/ is a catalog users copy from: every entity must satisfy the model, every
 * reference must name an entity of the examples, and the workloads must be there for the
 * entities to claim. (The integration test applies the same files to a real API server.)
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { Api } from '../../../src/api/api-entity.ts';
import { Component } from '../../../src/api/component.ts';
import { Domain } from '../../../src/api/domain.ts';
import { Group } from '../../../src/api/group.ts';
import { Resource } from '../../../src/api/resource.ts';
import { System } from '../../../src/api/system.ts';
import type { LabelSelector } from '../../../src/api/workloads.ts';
import { specRefs } from '../../../src/catalog/entity-refs.ts';
import { stringifyEntityRef } from '../../../src/catalog/ref.ts';

const EXAMPLES = join(import.meta.dirname, '../../../examples');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
}

async function load(dir: string): Promise<Manifest[]> {
  const entries = await readdir(dir, { recursive: true });
  const files = entries.filter((f) => f.endsWith('.yaml')).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), 'utf8')));
  return texts.flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as Manifest));
}

const SCHEMAS: Record<string, z.ZodType> = { Component, System, Resource, API: Api, Group, Domain };
const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Service'];

function matches(selector: LabelSelector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    const has = e.key in labels;
    if (e.operator === 'Exists') return has;
    if (e.operator === 'DoesNotExist') return !has;
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    return e.operator === 'In' ? inValues : !inValues;
  });
  return byLabels && byExpressions;
}

/** The selector an entity claims with, per API.md: spec.workloads, else the annotation, else the Backstage label. */
function selectorOf(entity: Manifest): { selector: LabelSelector; kinds: string[] } {
  const workloads = entity.spec?.workloads as { selector?: LabelSelector; kinds?: string[] } | undefined;
  const kinds = workloads?.kinds ?? WORKLOAD_KINDS;
  if (workloads?.selector) return { selector: workloads.selector, kinds };
  const annotation = entity.metadata.annotations?.['backstage.io/kubernetes-label-selector'];
  if (annotation) return { selector: { matchLabels: Object.fromEntries(annotation.split(',').map((p) => p.split('=') as [string, string])) }, kinds };
  return { selector: { matchLabels: { 'backstage.io/kubernetes-id': entity.metadata.name } }, kinds };
}

describe('examples/', () => {
  let all: Manifest[] = [];
  let entities: Manifest[] = [];
  let workloads: Manifest[] = [];

  beforeAll(async () => {
    all = await load(EXAMPLES);
    entities = all.filter((m) => m.apiVersion === 'catalog.backlot.dev/v1alpha1');
    workloads = all.filter((m) => WORKLOAD_KINDS.includes(m.kind));
  });

  it('has the catalog the issue asks for', () => {
    const count = (kind: string) => entities.filter((e) => e.kind === kind).length;
    expect(count('Group')).toBeGreaterThanOrEqual(3);
    expect(count('Domain')).toBeGreaterThanOrEqual(2);
    expect(count('System')).toBeGreaterThanOrEqual(3);
    expect(count('Component')).toBeGreaterThanOrEqual(10);
    expect(count('Resource')).toBeGreaterThanOrEqual(3);
    expect(count('API')).toBeGreaterThanOrEqual(3);
    const withLinks = entities.filter((e) => e.kind === 'Component' && e.spec?.dependsOn && e.spec.providesApis);
    expect(withLinks.length).toBeGreaterThan(0);
    expect(new Set(workloads.map((w) => w.kind))).toEqual(new Set(WORKLOAD_KINDS));
  });

  it('satisfies the model, every entity', () => {
    const failures = entities.flatMap((e) => {
      const result = SCHEMAS[e.kind]!.safeParse(e);
      return result.success ? [] : [`${e.kind} ${e.metadata.name}: ${result.error.message}`];
    });
    expect(failures).toEqual([]);
  });

  it('references only entities that exist (users aside)', () => {
    const known = new Set(entities.map((e) => `${e.kind.toLowerCase()}:${e.metadata.namespace}/${e.metadata.name}`));
    const dangling: string[] = [];
    for (const e of entities) {
      const { refs, errors } = specRefs(e.kind, e.metadata.namespace!, e.spec ?? {});
      expect(errors.map((err) => err.message)).toEqual([]);
      for (const r of refs) {
        const text = stringifyEntityRef(r.ref);
        if (r.ref.kind !== 'user' && !known.has(text)) dangling.push(`${e.kind} ${e.metadata.name} ${r.path} → ${text}`);
      }
    }
    expect(dangling).toEqual([]);
  });

  it('gives every in-cluster Component and Resource workloads to claim, and no workload two claimants', () => {
    const claimants = entities.filter((e) => e.kind === 'Component' || e.kind === 'Resource');
    const external = new Set(['product-images', 'fraud-models']);
    const claimedBy = new Map<string, string[]>();
    for (const e of claimants) {
      const { selector, kinds } = selectorOf(e);
      const claimed = workloads.filter(
        (w) =>
          w.metadata.namespace === e.metadata.namespace &&
          kinds.includes(w.kind) &&
          w.metadata.labels?.['backlot.dev/ignore'] !== 'true' &&
          matches(selector, w.metadata.labels ?? {}),
      );
      expect([e.metadata.name, claimed.length > 0]).toEqual([e.metadata.name, !external.has(e.metadata.name)]);
      for (const w of claimed) claimedBy.set(`${w.kind}/${w.metadata.name}`, [...(claimedBy.get(`${w.kind}/${w.metadata.name}`) ?? []), e.metadata.name]);
    }
    expect([...claimedBy].filter(([, by]) => by.length > 1)).toEqual([]);
    const unclaimed = workloads.filter((w) => !claimedBy.has(`${w.kind}/${w.metadata.name}`)).map((w) => `${w.kind}/${w.metadata.name}`);
    expect(unclaimed.sort()).toEqual(['Deployment/debug-toolbox', 'Deployment/promo-banner']);
  });

  it('labels a namespace with an owner that exists', () => {
    const owned = all.filter((m) => m.kind === 'Namespace' && m.metadata.labels?.['backlot.dev/owner']);
    expect(owned.map((n) => n.metadata.name)).toEqual(['shop']);
    const owner = owned[0]!.metadata.labels!['backlot.dev/owner'];
    expect(entities.some((e) => e.kind === 'Group' && e.metadata.namespace === 'shop' && e.metadata.name === owner)).toBe(true);
  });
});
