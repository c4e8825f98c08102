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

  it('exports one namespace with -n, as Backstage\'s default namespace when asked', async () => {
    const exported = await backlot(['export', '-n', ns.name, '--default-namespace', ns.name], { kubeconfig: kubeconfigPath() });
    expect(exported.code).toBe(0);
    const docs = parseAllDocuments(exported.stdout).map((d) => d.toJS() as { metadata: { namespace: string } });
    expect(docs).toHaveLength(18);
    expect(new Set(docs.map((d) => d.metadata.namespace))).toEqual(new Set(['default']));
  });
});
