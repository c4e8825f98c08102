/**
 * The catalog API on a real API server, driven with kubectl as a user would: the CRDs
 * install and become Established, the example catalog applies, `kubectl get catalog` lists
 * it, the printer columns and `kubectl explain` show what the model says.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { kubectl, testNamespace } from '../support/cluster.ts';
import { applyExamples, CRD_NAMES, CRDS_DIR, EXAMPLES_DIR, installCrds } from '../support/crds.ts';
import { eventually } from '../support/eventually.ts';

interface Ref {
  kind: string;
  namespace: string;
  name: string;
}

async function exampleEntities(): Promise<Ref[]> {
  const files = (await readdir(join(EXAMPLES_DIR, 'catalog'))).filter((f) => f.endsWith('.yaml'));
  const texts = await Promise.all(files.map((f) => readFile(join(EXAMPLES_DIR, 'catalog', f), 'utf8')));
  return texts
    .flatMap((t) => parseAllDocuments(t).map((d) => d.toJS() as { kind: string; metadata: { namespace: string; name: string } }))
    .map((m) => ({ kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name }));
}

interface InstalledCrd {
  spec: {
    scope: string;
    names: { kind: string; shortNames?: string[]; categories: string[] };
    versions: Array<{ subresources?: unknown }>;
  };
  status: { conditions: Array<{ type: string; status: string }> };
}

/** The parts of a CRD document the list-type test changes. */
interface CrdDocument {
  metadata: { name: string };
  spec: {
    group: string;
    names: Record<string, string>;
    versions: { schema: { openAPIV3Schema: { properties: { status: { properties: Record<string, Record<string, unknown>> } } } } }[];
  };
}

const key = (r: Ref) => `${r.kind}/${r.namespace}/${r.name}`;

/** The header and rows of a kubectl table, split on runs of spaces. */
function table(stdout: string): string[][] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

describe('the catalog API', () => {
  beforeAll(async () => {
    await installCrds();
  });

  it('installs six CRDs that are Established with the names, categories and status subresource of API.md', async () => {
    const result = await kubectl(['get', 'crd', ...CRD_NAMES, '-o', 'json']);
    expect(result.code).toBe(0);
    const crds = (JSON.parse(result.stdout) as { items: InstalledCrd[] }).items;
    expect(crds.map((c) => [c.spec.names.kind, c.spec.names.shortNames ?? [], c.spec.names.categories, c.spec.scope])).toEqual([
      ['Component', ['comp'], ['backlot', 'catalog'], 'Namespaced'],
      ['System', ['sys'], ['backlot', 'catalog'], 'Namespaced'],
      ['Resource', ['res'], ['backlot', 'catalog'], 'Namespaced'],
      ['API', [], ['backlot', 'catalog'], 'Namespaced'],
      ['Group', ['team'], ['backlot', 'catalog'], 'Namespaced'],
      ['Domain', ['dom'], ['backlot', 'catalog'], 'Namespaced'],
    ]);
    for (const crd of crds) {
      expect(crd.status.conditions).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'Established', status: 'True' })]));
      expect(crd.spec.versions[0]?.subresources).toEqual({ status: {} });
    }
  });

  it('reinstalls idempotently', async () => {
    await expect(installCrds()).resolves.toEqual(CRD_NAMES);
  });

  describe('with the example catalog applied', () => {
    let applied: { code: number; stdout: string; stderr: string };

    beforeAll(async () => {
      // Exactly what examples/README.md tells users to run.
      applied = await applyExamples();
    });

    it('applies every manifest of examples/', async () => {
      expect(applied.stderr).toBe('');
      expect(applied.code).toBe(0);
      const entities = await exampleEntities();
      for (const e of entities)
        expect(applied.stdout).toMatch(new RegExp(`^${e.kind.toLowerCase()}\\.catalog\\.backlot\\.dev/${e.name} (created|configured|unchanged)$`, 'm'));
      for (const workload of [
        'deployment.apps/storefront',
        'statefulset.apps/orders-db',
        'cronjob.batch/payments-reconciler',
        'daemonset.apps/fluent-bit',
        'service/checkout',
      ]) {
        expect(applied.stdout).toMatch(new RegExp(`^${workload} (created|configured|unchanged)$`, 'm'));
      }
    });

    it('lists every entity with kubectl get catalog -A', async () => {
      const listed = await kubectl(['get', 'catalog', '-A', '-o', 'json']);
      expect(listed.code).toBe(0);
      const items = (JSON.parse(listed.stdout) as { items: Array<{ kind: string; metadata: { namespace: string; name: string } }> }).items;
      const found = new Set(items.map((i) => key({ kind: i.kind, namespace: i.metadata.namespace, name: i.metadata.name })));
      const expected = await exampleEntities();
      expect(expected.length).toBeGreaterThanOrEqual(30);
      expect(expected.filter((e) => !found.has(key(e)))).toEqual([]);

      const text = await kubectl(['get', 'catalog', '-A']);
      expect(text.code).toBe(0);
      for (const name of [
        'component.catalog.backlot.dev/storefront',
        'system.catalog.backlot.dev/webshop',
        'resource.catalog.backlot.dev/orders-db',
        'api.catalog.backlot.dev/auth-api',
        'group.catalog.backlot.dev/team-payments',
        'domain.catalog.backlot.dev/commerce',
      ]) {
        expect(text.stdout).toContain(name);
      }
    });

    it('answers to the short names and the backlot category', async () => {
      for (const [resource, name] of [
        ['comp', 'checkout'],
        ['sys', 'webshop'],
        ['res', 'orders-db'],
        ['apis', 'checkout-api'],
        ['team', 'team-payments'],
        ['dom', 'commerce'],
      ]) {
        const got = await kubectl(['get', resource!, name!, '-n', 'shop', '-o', 'name']);
        expect([resource, got.code]).toEqual([resource, 0]);
      }
      const backlot = await kubectl(['get', 'backlot', '-n', 'platform', '-o', 'name']);
      expect(backlot.stdout.split('\n')).toEqual(expect.arrayContaining(['component.catalog.backlot.dev/auth', 'group.catalog.backlot.dev/engineering']));
    });

    it('shows Type, Owner, System, Lifecycle, Workloads, Ready and Age for components', async () => {
      const got = await kubectl(['get', 'components', '-n', 'shop']);
      expect(got.code).toBe(0);
      const [header, ...rows] = table(got.stdout);
      expect(header).toEqual(['NAME', 'TYPE', 'OWNER', 'SYSTEM', 'LIFECYCLE', 'WORKLOADS', 'READY', 'AGE']);
      const checkout = rows.find((r) => r[0] === 'checkout');
      expect(checkout?.slice(0, 5)).toEqual(['checkout', 'service', 'team-payments', 'webshop', 'production']);
      expect(rows.map((r) => r[0])).toEqual(expect.arrayContaining(['storefront', 'catalog-service', 'search', 'cart', 'payments-reconciler', 'shipping']));
    });

    it('shows the owner and Ready for the other kinds', async () => {
      for (const [resource, header] of [
        ['systems', ['NAME', 'OWNER', 'READY', 'AGE']],
        ['resources', ['NAME', 'OWNER', 'READY', 'AGE']],
        ['apis', ['NAME', 'OWNER', 'READY', 'AGE']],
        ['domains', ['NAME', 'OWNER', 'READY', 'AGE']],
        ['groups', ['NAME', 'READY', 'AGE']],
      ] as const) {
        const got = await kubectl(['get', resource, '-n', 'shop']);
        expect([resource, table(got.stdout)[0]]).toEqual([resource, header]);
      }
    });

    it("explains the fields with the model's descriptions", async () => {
      const explained = await kubectl(['explain', 'component.spec.dependsOn']);
      expect(explained.code).toBe(0);
      expect(explained.stdout).toContain('FIELD: dependsOn <[]string>');
      expect(explained.stdout.replace(/\s+/g, ' ')).toContain('Each entry names its kind: <kind>:[<namespace>/]<name>, e.g. resource:orders-db');
      const workloads = await kubectl(['explain', 'resource.spec.workloads.kinds']);
      expect(workloads.stdout.replace(/\s+/g, ' ')).toContain('The default is all five.');
      const status = await kubectl(['explain', 'system.status.components']);
      expect(status.stdout.replace(/\s+/g, ' ')).toContain('how many of them are Ready');
    });
  });

  describe('status', () => {
    let ns: { name: string; remove: () => Promise<void> };

    beforeAll(async () => {
      ns = await testNamespace('catalog-status');
    });
    afterAll(async () => {
      await ns.remove();
    });

    it('is written through the status subresource and feeds the Workloads and Ready columns', async () => {
      const component = {
        apiVersion: 'catalog.backlot.dev/v1alpha1',
        kind: 'Component',
        metadata: { name: 'checkout', namespace: ns.name },
        spec: { type: 'service', lifecycle: 'production', owner: 'team-payments', system: 'webshop' },
      };
      expect((await kubectl(['apply', '-f', '-'], { input: stringify(component) })).code).toBe(0);

      const status = {
        status: {
          observedGeneration: 1,
          readyWorkloads: 2,
          totalWorkloads: 3,
          workloadSummary: '2/3',
          workloads: [{ kind: 'Deployment', name: 'checkout', ready: false, replicas: 3, readyReplicas: 2 }],
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'WorkloadsNotReady',
              message: 'Deployment checkout: 2/3 replicas ready',
              lastTransitionTime: '2026-01-02T03:04:05Z',
              observedGeneration: 1,
            },
          ],
        },
      };
      const patched = await kubectl(['patch', 'component', 'checkout', '-n', ns.name, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
      expect(patched.stderr).toBe('');
      expect(patched.code).toBe(0);

      const got = await kubectl(['get', 'components', '-n', ns.name]);
      const [header, row] = table(got.stdout);
      expect(header).toEqual(['NAME', 'TYPE', 'OWNER', 'SYSTEM', 'LIFECYCLE', 'WORKLOADS', 'READY', 'AGE']);
      expect(row?.slice(0, 7)).toEqual(['checkout', 'service', 'team-payments', 'webshop', 'production', '2/3', 'False']);
    });

    it('takes status applies across the change of workloads and dependencies from keyed lists to whole ones', async () => {
      // The shipped Component schema under a group and names of this test's own (no short
      // names, no categories), so that neither the shared catalog CRDs nor what kubectl
      // resolves `component` or `catalog` to changes for other tests; first as it was, with
      // the two lists keyed.
      const shipped = parse(await readFile(join(CRDS_DIR, 'catalog.backlot.dev_components.yaml'), 'utf8')) as CrdDocument;
      const group = `${ns.name}.test.backlot.dev`;
      const crd = (keyed: boolean): CrdDocument => {
        const doc = structuredClone(shipped);
        doc.metadata.name = `componentprobes.${group}`;
        doc.spec.group = group;
        doc.spec.names = { kind: 'ComponentProbe', listKind: 'ComponentProbeList', plural: 'componentprobes', singular: 'componentprobe' };
        const lists = doc.spec.versions[0]!.schema.openAPIV3Schema.properties.status.properties;
        if (keyed) {
          lists.workloads = { ...lists.workloads, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['kind', 'name'] };
          lists.dependencies = { ...lists.dependencies, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['ref'] };
        }
        return doc;
      };
      const applyCrd = async (doc: CrdDocument) => {
        expect((await kubectl(['apply', '-f', '-'], { input: stringify(doc) })).code).toBe(0);
        expect((await kubectl(['wait', '--for', 'condition=Established', `crd/${doc.metadata.name}`, '--timeout=30s'])).code).toBe(0);
      };
      const workload = (name: string, ready: boolean) => ({ kind: 'Deployment', name, ready, replicas: 2, readyReplicas: ready ? 2 : 1 });
      const object = (status?: Record<string, unknown>) => ({
        apiVersion: `${group}/v1alpha1`,
        kind: 'ComponentProbe',
        metadata: { name: 'cart', namespace: ns.name },
        ...(status ? { status } : { spec: { type: 'service', lifecycle: 'production', owner: 'team-payments' } }),
      });
      const applyStatus = (status: Record<string, unknown>) =>
        kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=backlot', '--subresource=status', '-f', '-'], {
          input: stringify(object(status)),
        });
      const statusFields = async () => {
        const got = JSON.parse((await kubectl(['get', `componentprobes.${group}`, 'cart', '-n', ns.name, '-o', 'json', '--show-managed-fields'])).stdout) as {
          status: Record<string, unknown>;
          metadata: { managedFields: { subresource?: string; fieldsV1: { 'f:status': Record<string, unknown> } }[] };
        };
        return { status: got.status, fields: got.metadata.managedFields.find((m) => m.subresource === 'status')!.fieldsV1['f:status'] };
      };
      try {
        await applyCrd(crd(true));
        expect((await kubectl(['apply', '-f', '-'], { input: stringify(object()) })).code).toBe(0);
        const before = {
          workloads: [workload('cart-a', true), workload('cart-b', true)],
          dependencies: [{ ref: 'component:shop/db', found: true, ready: true }],
        };
        expect((await applyStatus(before)).code).toBe(0);
        expect(Object.keys((await statusFields()).fields['f:workloads'] as object)).toContain('k:{"kind":"Deployment","name":"cart-a"}');

        await applyCrd(crd(false));
        const after = { workloads: [workload('cart-b', false)], dependencies: [{ ref: 'component:shop/db', found: true, ready: false }] };
        // The API server takes up a changed schema shortly after the CRD is Established again.
        const seen = await eventually(
          'a status apply tracked under the whole lists',
          async () => {
            const applied = await applyStatus(after);
            if (applied.stderr !== '') throw new Error(applied.stderr);
            const got = await statusFields();
            return Object.keys(got.fields['f:workloads'] as object).length === 0 ? got : undefined;
          },
          10_000,
        );
        // The lists are replaced whole, and tracked as one field each.
        expect(seen.status).toMatchObject(after);
        expect(seen.fields['f:workloads']).toEqual({});
        expect(seen.fields['f:dependencies']).toEqual({});
      } finally {
        await kubectl(['delete', 'crd', `componentprobes.${group}`, '--ignore-not-found']);
      }
    });

    it('refuses a condition whose reason is not CamelCase', async () => {
      const bad = { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'all good', message: '', lastTransitionTime: '2026-01-02T03:04:05Z' }] } };
      const patched = await kubectl(['patch', 'component', 'checkout', '-n', ns.name, '--subresource=status', '--type=merge', '-p', JSON.stringify(bad)]);
      expect(patched.code).not.toBe(0);
      expect(patched.stderr).toContain('status.conditions[0].reason');
    });
  });
});
