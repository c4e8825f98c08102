import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { specRefs } from '../../../src/catalog/entity-refs.ts';
import { stringifyEntityRef } from '../../../src/catalog/ref.ts';
import { MISSING_DEFINITION } from '../../../src/interop/backstage.ts';
import { exportBackstage, renderCatalogInfo, selectorString, type ExportableEntity } from '../../../src/interop/export.ts';
import { importBackstage } from '../../../src/interop/import.ts';
import type { BacklotEntity } from '../../../src/interop/import-entity.ts';
import { parseDocuments } from '../../../src/interop/yaml.ts';
import { byEntity, corpusDocuments, corpusFiles, expectedExport, kubernetesNamesOf } from './normalise.ts';

const EXAMPLES = join(import.meta.dirname, '../../../examples/catalog');

function exampleEntities(): BacklotEntity[] {
  return readdirSync(EXAMPLES)
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(EXAMPLES, f), 'utf8')).map((d) => d.toJS() as BacklotEntity));
}

const entity = (
  kind: string,
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  metadata: Partial<BacklotEntity['metadata']> = {},
): ExportableEntity => ({
  kind,
  metadata: { name, namespace, ...metadata },
  spec,
});

describe('exportBackstage', () => {
  it.each([
    ["the entity's own annotation", { annotations: { 'backstage.io/kubernetes-id': 'legacy-id' } }, {}, { 'backstage.io/kubernetes-id': 'legacy-id' }],
    ['its name (the label Backlot claims by default)', {}, {}, { 'backstage.io/kubernetes-id': 'checkout' }],
    [
      'the label value a kubernetes-id selector asks for',
      {},
      { workloads: { selector: { matchLabels: { 'backstage.io/kubernetes-id': 'co' } } } },
      { 'backstage.io/kubernetes-id': 'co' },
    ],
    [
      'its name plus the selector it claims by',
      {},
      { workloads: { selector: { matchLabels: { app: 'checkout' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['api', 'web'] }] } } },
      { 'backstage.io/kubernetes-id': 'checkout', 'backstage.io/kubernetes-label-selector': 'app=checkout,tier in (api,web)' },
    ],
    [
      'its own label-selector annotation untouched',
      { annotations: { 'backstage.io/kubernetes-label-selector': 'app=search' } },
      {},
      { 'backstage.io/kubernetes-label-selector': 'app=search', 'backstage.io/kubernetes-id': 'checkout' },
    ],
  ])("sets the Kubernetes plugin's annotations on a Component from %s", (_title, metadata, spec, annotations) => {
    const [out] = exportBackstage([entity('Component', 'shop', 'checkout', { type: 'service', lifecycle: 'production', owner: 'team-a', ...spec }, metadata)], {
      defaultNamespace: 'default',
    });
    expect(out?.metadata.annotations).toEqual(annotations);
    expect(out?.spec?.workloads).toBeUndefined();
  });

  it('sets no kubernetes-id on kinds that claim no workloads', () => {
    const [out] = exportBackstage([entity('System', 'shop', 'webshop', { owner: 'team-a' })], { defaultNamespace: 'default' });
    expect(out?.metadata.annotations).toBeUndefined();
  });

  it.each([
    // [holder namespace, field, value, expected]
    ['shop', 'owner', 'team-a', 'group:shop/team-a'],
    ['shop', 'owner', 'Group:Team-A', 'group:shop/team-a'],
    ['shop', 'owner', 'platform/team-a', 'group:platform/team-a'],
    ['default', 'owner', 'team-a', 'group:default/team-a'],
    ['shop', 'system', 'system:webshop', 'system:shop/webshop'],
    ['shop', 'dependsOn', ['resource:orders-db', 'component:platform/auth'], ['resource:shop/orders-db', 'component:platform/auth']],
    ['shop', 'consumesApis', ['cart-api', 'api:platform/auth-api'], ['api:shop/cart-api', 'api:platform/auth-api']],
  ])('writes a reference of %s in %s, %j, canonical: %j', (namespace, field, value, expected) => {
    const [out] = exportBackstage([entity('Component', namespace, 'checkout', { type: 'service', lifecycle: 'production', owner: 'team-a', [field]: value })], {
      defaultNamespace: 'default',
    });
    expect(out?.spec?.[field]).toEqual(expected);
  });

  it("writes the default namespace asked for as Backstage's default, in the entity and in references", () => {
    const out = exportBackstage(
      [entity('Component', 'shop', 'checkout', { type: 'service', lifecycle: 'production', owner: 'team-a', dependsOn: ['component:platform/auth'] })],
      { defaultNamespace: 'shop' },
    );
    expect(out[0]?.metadata.namespace).toBe('default');
    expect(out[0]?.spec).toMatchObject({ owner: 'group:default/team-a', dependsOn: ['component:platform/auth'] });
  });

  it('gives back original names, for the entity and for every reference to it', () => {
    const out = exportBackstage(
      [
        entity('Group', 'shop', 'team-a', { type: 'team' }, { annotations: { 'backlot.dev/backstage-name': 'Team_A' } }),
        entity('Component', 'shop', 'checkout', { type: 'service', lifecycle: 'production', owner: 'team-a' }),
      ],
      { defaultNamespace: 'shop' },
    );
    expect(out.map((o) => o.metadata.name)).toEqual(['Team_A', 'checkout']);
    expect(out[1]?.spec?.owner).toBe('group:default/Team_A');
  });

  it("moves title, description, tags and links back to metadata and leaves Kubernetes' and Backlot's metadata out", () => {
    const [out] = exportBackstage(
      [
        {
          ...entity('Resource', 'shop', 'orders-db', {
            title: 'Orders',
            description: 'PostgreSQL',
            tags: ['postgres'],
            links: [{ url: 'https://x.example' }],
            type: 'database',
            owner: 'team-a',
          }),
          metadata: {
            name: 'orders-db',
            namespace: 'shop',
            uid: 'u',
            resourceVersion: '7',
            labels: { tier: 'data' },
            annotations: {
              'kubectl.kubernetes.io/last-applied-configuration': '{}',
              'backlot.dev/backstage-fields': '{}',
              'github.com/project-slug': 'acme/orders',
            },
          } as BacklotEntity['metadata'],
          status: { conditions: [] },
        } as ExportableEntity,
      ],
      { defaultNamespace: 'default' },
    );
    expect(out).toEqual({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Resource',
      metadata: {
        name: 'orders-db',
        namespace: 'shop',
        title: 'Orders',
        description: 'PostgreSQL',
        tags: ['postgres'],
        links: [{ url: 'https://x.example' }],
        labels: { tier: 'data' },
        annotations: { 'github.com/project-slug': 'acme/orders', 'backstage.io/kubernetes-id': 'orders-db' },
      },
      spec: { type: 'database', owner: 'group:shop/team-a' },
    });
  });

  it("fills what Backstage requires and Backlot does not: a Group's children, an API's definition", () => {
    const out = exportBackstage(
      [entity('Group', 'shop', 'team-a', { type: 'team' }), entity('API', 'shop', 'a', { type: 'openapi', lifecycle: 'production', owner: 'team-a' })],
      {
        defaultNamespace: 'default',
      },
    );
    expect(out.map((o) => [o.kind, o.spec?.children ?? o.spec?.definition])).toEqual([
      ['Group', []],
      ['API', MISSING_DEFINITION],
    ]);
  });

  it('gives back the fields import kept aside, never over a field the entity has now', () => {
    const [out] = exportBackstage(
      [
        entity(
          'API',
          'shop',
          'a',
          { type: 'openapi', lifecycle: 'production', owner: 'team-a', definition: 'now' },
          { annotations: { 'backlot.dev/backstage-fields': '{"spec.definition":{"$text":"x"},"metadata.namespaceTitle":"T"}' } },
        ),
      ],
      { defaultNamespace: 'default' },
    );
    expect(out?.spec?.definition).toBe('now');
    expect(out?.metadata.namespaceTitle).toBe('T');
  });

  it('orders its output: groups, domains, systems, components, resources, APIs; then namespace and name', () => {
    const out = exportBackstage(exampleEntities(), { defaultNamespace: 'default' });
    const kinds = out.map((o) => o.kind);
    expect(kinds.indexOf('Group')).toBe(0);
    expect(kinds.lastIndexOf('Group')).toBeLessThan(kinds.indexOf('Domain'));
    expect(kinds.lastIndexOf('Component')).toBeLessThan(kinds.indexOf('Resource'));
    expect(kinds.at(-1)).toBe('API');
  });
});

describe('selectorString', () => {
  it.each([
    [{ matchLabels: { app: 'a' } }, 'app=a'],
    [{ matchLabels: { app: 'a', tier: 'api' } }, 'app=a,tier=api'],
    [{ matchExpressions: [{ key: 'env', operator: 'NotIn' as const, values: ['dev', 'test'] }] }, 'env notin (dev,test)'],
    [
      {
        matchExpressions: [
          { key: 'canary', operator: 'Exists' as const },
          { key: 'legacy', operator: 'DoesNotExist' as const },
        ],
      },
      'canary,!legacy',
    ],
  ])('%j → %s', (selector, text) => {
    expect(selectorString(selector)).toBe(text);
  });
});

describe('round trips', () => {
  it('Backstage → Backlot → Backstage returns the corpus, modulo the documented normalisation', () => {
    const imported = importBackstage(
      corpusFiles().flatMap(({ file, text }) => parseDocuments(file, text).documents),
      { defaultNamespace: 'travel' },
    );
    expect(imported.errors).toEqual([]);
    const exported = byEntity(exportBackstage(imported.objects, { defaultNamespace: 'travel' }));
    const expected = expectedExport(corpusDocuments(), kubernetesNamesOf(imported.objects, 'travel'));
    expect([...exported.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, doc] of expected) expect([key, exported.get(key)]).toEqual([key, doc]);
  });

  it("does not depend on the namespace chosen for Backstage's default one", () => {
    const documents = corpusFiles().flatMap(({ file, text }) => parseDocuments(file, text).documents);
    const a = exportBackstage(importBackstage(documents, { defaultNamespace: 'default' }).objects, { defaultNamespace: 'default' });
    const b = exportBackstage(importBackstage(documents, { defaultNamespace: 'travel' }).objects, { defaultNamespace: 'travel' });
    expect(byEntity(a)).toEqual(byEntity(b));
  });

  it('Backlot → Backstage → Backlot keeps every entity and every reference of the examples', () => {
    const examples = exampleEntities();
    const text = renderCatalogInfo(examples, { defaultNamespace: 'default' });
    const back = importBackstage(parseDocuments('catalog-info.yaml', text).documents, { defaultNamespace: 'default' });
    expect(back.errors).toEqual([]);
    expect(back.skipped).toEqual([]);
    const refsOf = (o: BacklotEntity) => [
      `${o.kind}:${o.metadata.namespace}/${o.metadata.name}`,
      specRefs(o.kind, o.metadata.namespace, o.spec).refs.map((r) => `${r.field}=${stringifyEntityRef(r.ref)}`),
    ];
    const sort = (list: BacklotEntity[]) => list.map(refsOf).sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(sort(back.objects)).toEqual(sort(examples));
    for (const o of back.objects) {
      const original = examples.find((e) => e.kind === o.kind && e.metadata.namespace === o.metadata.namespace && e.metadata.name === o.metadata.name)!;
      const {
        owner: _o,
        system: _s,
        domain: _d,
        parent: _p,
        children: _c,
        members: _m,
        subdomainOf: _sd,
        subcomponentOf: _sc,
        dependsOn: _do,
        dependencyOf: _dy,
        providesApis: _pa,
        consumesApis: _ca,
        workloads: _w,
        ...plain
      } = o.spec;
      expect(original.spec).toMatchObject(plain);
    }
  });
});
