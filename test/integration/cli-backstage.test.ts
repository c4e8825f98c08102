/**
 * Backstage round trip against a real API server: `backlot import` of the corpus,
 * `kubectl apply`, `backlot export`, and the export equals the corpus modulo the
 * normalisation docs/backstage.md documents.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { kubeconfigPath, kubectl, testNamespace } from '../support/cluster.ts';
import { installCrds } from '../support/crds.ts';
import { backlot } from '../unit/cli/run.ts';
import { byEntity, CORPUS_DIR, corpusDocuments, expectedExport, kubernetesNamesOf } from '../unit/interop/normalise.ts';

/** The corpus' one Backstage namespace besides default; it becomes a Kubernetes namespace of that name. */
const INFRA = 'travel-infra';

describe('backlot import → kubectl apply → backlot export', () => {
  let ns: { name: string; remove: () => Promise<void> };
  let imported: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    await installCrds();
    ns = await testNamespace('cli-rt');
    imported = await backlot(['import', '--default-namespace', ns.name, '--create-namespaces', CORPUS_DIR], { kubeconfig: kubeconfigPath() });
  });

  afterAll(async () => {
    await ns.remove();
  });

  it('imports the corpus, reporting what it skipped', () => {
    expect(imported.code).toBe(0);
    expect(imported.stderr).toContain('Imported 23 entities from 7 files (30 documents)');
    expect(imported.stderr).toContain('Skipped 7 documents of kinds Backlot does not model: Location 2, Template 1, User 4.');
  });

  it('produces what the API server accepts as it is', async () => {
    const applied = await kubectl(['apply', '-f', '-'], { input: imported.stdout });
    // --create-namespaces also printed the test's namespace, which exists already: kubectl warns about that one only.
    expect(applied.stderr.split('\n').filter((l) => l !== '' && !l.startsWith(`Warning: resource namespaces/${ns.name} is missing`))).toEqual([]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain(`component.catalog.backlot.dev/booking-api-service created`);
    expect(applied.stdout).toContain(`domain.catalog.backlot.dev/bookings.core created`);
    // Applying it again changes nothing: the server kept exactly what import wrote.
    const again = await kubectl(['apply', '-f', '-'], { input: imported.stdout });
    expect(again.stdout.split('\n').filter((l) => l !== '' && !l.endsWith(' unchanged'))).toEqual([]);
  });

  it('exports the corpus back, modulo the documented normalisation', async () => {
    const exported = await backlot(['export', '-A', '--default-namespace', ns.name], { kubeconfig: kubeconfigPath() });
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const docs = byEntity(parseAllDocuments(exported.stdout).map((d) => d.toJS() as unknown));
    const objects = parseAllDocuments(imported.stdout)
      .map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string; annotations?: Record<string, string> } })
      .filter((o) => o.kind !== 'Namespace');
    const expected = expectedExport(corpusDocuments(), kubernetesNamesOf(objects, ns.name));
    expect(expected.size).toBe(23);
    for (const [key, doc] of expected) expect([key, docs.get(key)]).toEqual([key, doc]);
    // Nothing else comes from the corpus' own namespace (the default one is shared with other tests' objects).
    const infra = [...docs.keys()].filter((k) => k.includes(`:${INFRA}/`)).sort();
    expect(infra).toEqual([...expected.keys()].filter((k) => k.includes(`:${INFRA}/`)).sort());
  });

  it("exports one namespace with -n, as Backstage's default namespace when asked", async () => {
    const exported = await backlot(['export', '-n', ns.name, '--default-namespace', ns.name], { kubeconfig: kubeconfigPath() });
    expect(exported.code).toBe(0);
    const docs = parseAllDocuments(exported.stdout).map((d) => d.toJS() as { metadata: { namespace: string } });
    expect(docs).toHaveLength(18);
    expect(new Set(docs.map((d) => d.metadata.namespace))).toEqual(new Set(['default']));
  });

  it('exports an entity whose kept fields go through a prototype key or are too large without them, saying so on standard error', async () => {
    const api = (name: string, fields: string) =>
      `apiVersion: catalog.backlot.dev/v1alpha1\nkind: API\nmetadata:\n  name: ${name}\n  namespace: ${ns.name}\n  annotations:\n    backlot.dev/backstage-fields: '${fields}'\nspec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.1.0\\n"}\n`;
    const created = await kubectl(['create', '-f', '-'], {
      input: [
        api('hostile', '{"__proto__.workloads": "x", "constructor.prototype.polluted": "y", "spec.kept": 1}'),
        api('oversized', JSON.stringify({ 'spec.notes': 'x'.repeat(70_000) })),
      ].join('---\n'),
    });
    expect(created.stderr).toBe('');
    try {
      const exported = await backlot(['export', '-n', ns.name], { kubeconfig: kubeconfigPath() });
      expect(exported.code).toBe(0);
      expect(exported.stderr.split('\n').filter(Boolean)).toEqual([
        `warning: api:${ns.name}/hostile: backlot.dev/backstage-fields: not restored: "__proto__.workloads", "constructor.prototype.polluted" (a field path cannot go through __proto__, constructor or prototype)`,
        `warning: api:${ns.name}/oversized: backlot.dev/backstage-fields: not restored: 70,017 bytes, more than the 64 KiB export restores`,
      ]);
      const apis = parseAllDocuments(exported.stdout)
        .map((d) => d.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> })
        .filter((d) => d.kind === 'API' && ['hostile', 'oversized'].includes(d.metadata.name));
      expect(apis.map((a) => [a.metadata.name, a.spec.definition, a.spec.kept, a.spec.notes, a.spec.workloads])).toEqual([
        ['hostile', 'openapi: 3.1.0\n', 1, undefined, undefined],
        ['oversized', 'openapi: 3.1.0\n', undefined, undefined, undefined],
      ]);
    } finally {
      // The envtest plane has no namespace controller: delete them, or every later `export -A` of the run would warn.
      await kubectl(['delete', 'apis.catalog.backlot.dev', '-n', ns.name, 'hostile', 'oversized']);
    }
  });
});
