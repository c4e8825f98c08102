/**
 * A real Backstage catalog backend reads `backlot run`: @backstage/plugin-catalog-backend on
 * @backstage/backend-defaults, on PostgreSQL, configured with the app-config
 * docs/backstage.md gives (only host and port changed), with a `url` location on the
 * operator's /catalog-info.yaml. The examples, applied to the shared control plane, must
 * arrive whole, with the relations Backstage derives resolved and without processing
 * errors, and an entity deleted in the cluster must leave Backstage.
 *
 * The deleted entity lives in a namespace of this test's own (the examples are shared with
 * other test files, which must keep seeing them whole).
 *
 * The same backend, holding the examples as backlot's export gave them, is then read back by
 * `backlot import --from-backstage`: the examples come back, kinds, names and references.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { BacklotProcess } from '../../src/envtest/operator-process.ts';
import { specRefs } from '../../src/catalog/entity-refs.ts';
import { kindInfo } from '../../src/api/kinds.ts';
import { appConfigFor, BackstageBackend, entityRef, readDocumentedAppConfig, startCatalogOperator, type BackstageEntity } from '../support/backstage.ts';
import { kubectl, testNamespace } from '../support/cluster.ts';
import { applyExamples, EXAMPLES_DIR, installCrds } from '../support/crds.ts';
import { eventually, until } from '../support/eventually.ts';
import { PostgresServer } from '../support/postgres.ts';
import { MAIN, NODE, runProcess } from '../unit/cli/run.ts';

/** The examples' entities per kind, as examples/README.md counts them. */
const EXAMPLE_COUNTS = { Group: 5, Domain: 3, System: 4, Component: 13, Resource: 9, API: 8 };
const EXAMPLE_NAMESPACES = ['shop', 'platform'];
/** The relations Backstage derives from the fields Backlot exports, each pair both ways. */
const RELATIONS = [
  'ownedBy',
  'ownerOf',
  'dependsOn',
  'dependencyOf',
  'partOf',
  'hasPart',
  'providesApi',
  'apiProvidedBy',
  'consumesApi',
  'apiConsumedBy',
  'parentOf',
  'childOf',
];
/** Backstage's catalog database (one database per plugin, the default). */
const CATALOG_DATABASE = 'backstage_plugin_catalog';

async function mustKubectl(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

interface BacklotObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** The catalog entities of examples/catalog, read from the files. */
async function exampleEntities(): Promise<BacklotObject[]> {
  const out: BacklotObject[] = [];
  const dir = join(EXAMPLES_DIR, 'catalog');
  for (const file of await readdir(dir)) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      const o = doc.toJS() as BacklotObject | null;
      if (o?.apiVersion?.startsWith('catalog.backlot.dev/') && o.kind) out.push(o);
    }
  }
  return out;
}

/** The entities of examples/catalog per kind. */
async function exampleCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const o of await exampleEntities()) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  return counts;
}

/**
 * An entity as a comparison sees it: every reference canonical (`field kind:namespace/name`,
 * however it was written), the rest of the spec as it is, less `workloads` (export turns it
 * into an annotation for Backstage's Kubernetes plugin, and Backlot claims by that annotation).
 */
function comparable(o: BacklotObject): { entity: string; refs: string[]; spec: Record<string, unknown> } {
  const found = specRefs(o.kind, o.metadata.namespace, o.spec);
  if (found.errors.length > 0) throw new Error(`${o.kind} ${o.metadata.namespace}/${o.metadata.name}: ${found.errors.map((e) => e.message).join('; ')}`);
  const refFields = new Set(kindInfo(o.kind)!.refs.map((r) => r.field));
  const spec = Object.fromEntries(Object.entries(o.spec).filter(([k]) => !refFields.has(k) && k !== 'workloads'));
  return {
    entity: `${o.kind}:${o.metadata.namespace}/${o.metadata.name}`,
    refs: found.refs.map((r) => `${r.field} ${r.ref.kind}:${r.ref.namespace}/${r.ref.name}`).sort(),
    spec,
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function countByKind(entities: readonly BackstageEntity[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of entities) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  return counts;
}

/** Each entity's processing errors, as Backstage reports them in its status. */
function processingErrors(entities: readonly BackstageEntity[]): string[] {
  return entities.flatMap((e) => (e.status?.items ?? []).filter((i) => i.level === 'error').map((i) => `${entityRef(e)}: ${i.error?.message ?? i.message}`));
}

describe('a real Backstage catalog backend reading backlot run', () => {
  let dir: string;
  let probe: { name: string; remove: () => Promise<void> };
  let postgres: PostgresServer | undefined;
  let operator: BacklotProcess | undefined;
  let backstage: BackstageBackend | undefined;
  let catalogUrl: string;
  let operatorStartedAt: number;

  const inExamples = (e: BackstageEntity) => EXAMPLE_NAMESPACES.includes(e.metadata.namespace ?? 'default');
  const probeManifest = () => `
apiVersion: catalog.backlot.dev/v1alpha1
kind: Group
metadata: {name: probe-team, namespace: ${probe.name}}
spec: {type: team}
---
apiVersion: catalog.backlot.dev/v1alpha1
kind: Component
metadata: {name: short-lived, namespace: ${probe.name}}
spec: {type: service, lifecycle: experimental, owner: probe-team}
`;

  /** Every entity in Backstage, once it holds every example. */
  const examplesComplete = () =>
    eventually(
      'every example entity in Backstage',
      async () => {
        const all = await backstage!.entities();
        const counts = countByKind(all.filter(inExamples));
        return Object.entries(EXAMPLE_COUNTS).every(([kind, n]) => counts[kind] === n) ? all : undefined;
      },
      60_000,
      500,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backlot-backstage-'));
    await installCrds();
    const applied = await applyExamples();
    if (applied.code !== 0) throw new Error(`kubectl apply -R -f examples: ${applied.stderr}`);
    probe = await testNamespace('backstage');
    await mustKubectl(['apply', '-f', '-'], probeManifest());
    operatorStartedAt = Date.now();
    // Both at once; each kept as it comes, so that afterAll stops it even if the other failed.
    const started = await Promise.allSettled([
      PostgresServer.start().then((pg) => (postgres = pg)),
      startCatalogOperator({ namespaces: [...EXAMPLE_NAMESPACES, probe.name], logPath: join(dir, 'backlot.log') }).then((served) => {
        operator = served.operator;
        catalogUrl = served.catalogUrl;
      }),
    ]);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    await operator!.waitReady();
    const operatorReady = Date.now();
    backstage = await BackstageBackend.start({ appConfig: appConfigFor(await readDocumentedAppConfig(), catalogUrl), database: postgres!.connection, dir });
    process.stderr.write(
      `[backstage] backlot run ready in ${seconds(operatorReady - operatorStartedAt)}, Backstage's catalog backend ${seconds(Date.now() - operatorReady)} after it\n`,
    );
  }, 150_000);

  afterAll(async () => {
    await backstage?.stop();
    await operator?.stop(10_000);
    await postgres?.stop();
    if (probe) {
      await kubectl(['delete', '--ignore-not-found', '-f', '-'], { input: probeManifest() });
      await probe.remove().catch(() => undefined);
    }
    // BACKLOT_TEST_LOGS=1 keeps the logs of Backstage and backlot run.
    if (dir && process.env.BACKLOT_TEST_LOGS === '1') process.stderr.write(`[backstage] logs kept in ${dir}\n`);
    else if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it("ingests every entity of the examples: the counts per kind through Backstage's catalog API", async () => {
    expect(await exampleCounts()).toEqual(EXAMPLE_COUNTS);
    const complete = await examplesComplete();
    process.stderr.write(`[backstage] the examples complete in Backstage ${seconds(Date.now() - operatorStartedAt)} after backlot run started\n`);
    expect(countByKind(complete.filter(inExamples))).toEqual(EXAMPLE_COUNTS);
    // The location itself, and nothing else beside the examples and this test's probe.
    expect(countByKind(complete.filter((e) => !inExamples(e)))).toEqual({ Location: 1, Group: 1, Component: 1 });
  });

  it('gives the examples back through backlot import --from-backstage: kinds, names and references', async () => {
    await examplesComplete();
    const started = Date.now();
    const imported = await runProcess(NODE, [MAIN, 'import', '--from-backstage', backstage!.url, '--page-size', '7'], {
      env: { PATH: process.env.PATH, HOME: '/nonexistent', BACKSTAGE_TOKEN: backstage!.importToken },
    });
    expect(imported.stderr).not.toContain(backstage!.importToken);
    expect(imported.code).toBe(0);
    process.stderr.write(`[backstage] import --from-backstage in ${seconds(Date.now() - started)}: ${imported.stderr}`);
    // The examples, this test's probe (if still there), and Backstage's own Location, skipped.
    const [first] = imported.stderr.split('\n');
    expect(first).toMatch(
      new RegExp(
        `^Imported \\d+ entities from the Backstage catalog at ${backstage!.url}/api/catalog \\(\\d+ entities read in \\d+ pages\\): Group \\d+, Domain 3, System 4, Component \\d+, Resource 9, API 8\\.$`,
      ),
    );
    expect(imported.stderr).toContain('Skipped 1 entity of kinds Backlot does not model: Location 1.\n');

    const objects = parseAllDocuments(imported.stdout)
      .map((d) => d.toJS() as BacklotObject)
      .filter((o) => EXAMPLE_NAMESPACES.includes(o.metadata.namespace));
    const examples = await exampleEntities();
    const byEntity = (list: BacklotObject[]) => new Map(list.map(comparable).map((c) => [c.entity, c]));
    const got = byEntity(objects);
    const want = byEntity(examples);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [entity, expected] of want) expect(got.get(entity)).toEqual(expected);
    // A token Backstage does not know: the real 401, and what to do about it.
    const refused = await runProcess(NODE, [MAIN, 'import', '--from-backstage', backstage!.url], {
      env: { PATH: process.env.PATH, HOME: '/nonexistent', BACKSTAGE_TOKEN: 'not-a-known-token' },
    });
    expect([refused.code, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toMatch(
      /^backlot import: GET http:\/\/127\.0\.0\.1:\d+\/api\/catalog\/entity-facets: 401 Unauthorized \(Backstage says: .*\): the token was refused/,
    );
    expect(refused.stderr).not.toContain('not-a-known-token');
    // The API server takes it as it is.
    await mustKubectl(['apply', '--dry-run=server', '-f', '-'], imported.stdout);
    // What Backstage added is gone: no relations or status, no uid, no location annotations.
    for (const o of objects) {
      expect(Object.keys(o).sort()).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
      expect(Object.keys(o.metadata.annotations ?? {}).filter((k) => !k.startsWith('backstage.io/kubernetes-'))).toEqual([]);
    }
  });

  it('derives the relations both ways, each to an entity that exists; only Group members name Users, which the catalog does not hold', async () => {
    const unresolved = (all: readonly BackstageEntity[]) => {
      const refs = new Set(all.map(entityRef));
      return all.flatMap((e) => (e.relations ?? []).filter((r) => !refs.has(r.targetRef)).map((r) => ({ from: entityRef(e), ...r })));
    };
    const typesSeen = (all: readonly BackstageEntity[]) => new Set(all.flatMap((e) => (e.relations ?? []).map((r) => r.type)));
    // Relations are stitched onto each end as both ends are processed: wait until every type shows and all that can resolve do.
    const all = await until(
      () => backstage!.entities(),
      (es) => RELATIONS.every((t) => typesSeen(es).has(t)) && unresolved(es).every((r) => r.type === 'hasMember'),
      30_000,
      500,
    );
    const byType: Record<string, number> = {};
    for (const e of all) for (const r of e.relations ?? []) byType[r.type] = (byType[r.type] ?? 0) + 1;
    process.stderr.write(`[backstage] relations by type: ${JSON.stringify(byType)}\n`);
    expect(RELATIONS.filter((t) => !byType[t])).toEqual([]);
    const dangling = unresolved(all);
    expect(dangling.filter((r) => !(r.type === 'hasMember' && r.targetRef.startsWith('user:default/')))).toEqual([]);

    const relations = (ref: string) => (all.find((e) => entityRef(e) === ref)?.relations ?? []).map((r) => `${r.type} ${r.targetRef}`);
    expect(relations('component:shop/checkout')).toEqual(
      expect.arrayContaining([
        'ownedBy group:shop/team-payments',
        'partOf system:shop/webshop',
        'dependsOn resource:shop/orders-db',
        'dependsOn component:shop/payments-gateway',
        'providesApi api:shop/checkout-api',
        'consumesApi api:shop/payments-api',
      ]),
    );
    expect(relations('group:shop/team-payments')).toEqual(expect.arrayContaining(['ownerOf component:shop/checkout', 'childOf group:platform/engineering']));
    expect(relations('group:platform/engineering')).toEqual(
      expect.arrayContaining(['parentOf group:shop/team-payments', 'parentOf group:platform/team-platform']),
    );
    expect(relations('resource:shop/orders-db')).toEqual(expect.arrayContaining(['dependencyOf component:shop/checkout']));
    expect(relations('api:shop/payments-api')).toEqual(expect.arrayContaining(['apiConsumedBy component:shop/checkout']));
    expect(relations('system:shop/webshop')).toEqual(expect.arrayContaining(['hasPart component:shop/checkout']));
    expect(relations('domain:shop/payments')).toEqual(expect.arrayContaining(['partOf domain:shop/commerce']));
    expect(relations('component:shop/payments-reconciler')).toEqual(expect.arrayContaining(['partOf component:shop/payments-gateway']));
    expect(relations('component:shop/payments-gateway')).toEqual(expect.arrayContaining(['hasPart component:shop/payments-reconciler']));
  });

  it("reports no processing error, neither on an entity nor in the catalog's refresh state", async () => {
    const refreshErrors = () =>
      postgres!.query(CATALOG_DATABASE, "SELECT entity_ref, errors FROM refresh_state WHERE errors IS NOT NULL AND errors NOT IN ('', '[]')");
    const seen = await until(
      async () => ({ entities: processingErrors(await backstage!.entities()), refreshState: await refreshErrors() }),
      (s) => s.entities.length === 0 && s.refreshState.length === 0,
      30_000,
      500,
    );
    expect(seen).toEqual({ entities: [], refreshState: [] });
    expect(await postgres!.query(CATALOG_DATABASE, 'SELECT count(*) FROM refresh_state')).toEqual([
      String(Object.values(EXAMPLE_COUNTS).reduce((a, b) => a + b) + 3),
    ]);
  });

  it('resolves each API definition from its $text placeholder, relative to the location', async () => {
    const inCluster = new Map<string, string>();
    for (const ns of EXAMPLE_NAMESPACES) {
      const list = JSON.parse(await mustKubectl(['get', 'apis.catalog.backlot.dev', '-n', ns, '-o', 'json'])) as {
        items: { metadata: { name: string }; spec: { definition?: string } }[];
      };
      for (const api of list.items) if (api.spec.definition) inCluster.set(`api:${ns}/${api.metadata.name}`, api.spec.definition);
    }
    expect(inCluster.size).toBeGreaterThan(0);
    // What the operator serves: a placeholder for each API that has a definition.
    const served = parseAllDocuments(await (await fetch(catalogUrl)).text()).map((d) => d.toJS() as BackstageEntity);
    const placeholders = Object.fromEntries(
      served.filter((e) => e.kind === 'API' && inCluster.has(entityRef(e))).map((e) => [entityRef(e), e.spec?.definition]),
    );
    expect(Object.keys(placeholders).sort()).toEqual([...inCluster.keys()].sort());
    for (const [ref, definition] of Object.entries(placeholders))
      expect([ref, definition]).toEqual([ref, { $text: expect.stringMatching(/^\.\/catalog-info\/apis\/[a-z-]+\/[a-z-]+\/definition$/) }]);

    // What Backstage made of it: the text itself.
    const apis = (await backstage!.entities()).filter((e) => e.kind === 'API' && inCluster.has(entityRef(e)));
    expect(Object.fromEntries(apis.map((e) => [entityRef(e), e.spec?.definition]))).toEqual(Object.fromEntries(inCluster));
    expect(apis[0]?.metadata.annotations?.['backstage.io/managed-by-location']).toBe(`url:${catalogUrl}`);
    process.stderr.write(
      `[backstage] ${apis.length} of ${EXAMPLE_COUNTS.API} APIs have a definition in the cluster, each read by Backstage through its placeholder\n`,
    );
  });

  it('an entity deleted in the cluster leaves Backstage on the next refresh, and its relations with it', async () => {
    const short = `component:${probe.name}/short-lived`;
    const team = `group:${probe.name}/probe-team`;
    const before = await backstage!.entities();
    expect(before.find((e) => entityRef(e) === team)?.relations).toEqual([{ type: 'ownerOf', targetRef: short }]);
    expect(before.find((e) => entityRef(e) === short)?.relations).toEqual([{ type: 'ownedBy', targetRef: team }]);

    const deletedAt = Date.now();
    await mustKubectl(['delete', 'component', '-n', probe.name, 'short-lived']);
    const after = await eventually(
      `${short} to leave Backstage`,
      async () => {
        const all = await backstage!.entities();
        return all.some((e) => entityRef(e) === short) ? undefined : all;
      },
      90_000,
      500,
    );
    process.stderr.write(`[backstage] ${short} left Backstage ${seconds(Date.now() - deletedAt)} after its deletion in the cluster\n`);
    const stitched = await until(
      async () => (await backstage!.entities()).find((e) => entityRef(e) === team),
      (e) => (e?.relations ?? []).length === 0,
      15_000,
    );
    expect(stitched?.relations).toEqual([]);
    expect(countByKind(after.filter(inExamples))).toEqual(EXAMPLE_COUNTS);
  });
});
