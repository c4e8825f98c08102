import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api } from '../../../src/api/api-entity.ts';
import { Component } from '../../../src/api/component.ts';
import { Domain } from '../../../src/api/domain.ts';
import { Group } from '../../../src/api/group.ts';
import { refField } from '../../../src/api/kinds.ts';
import { Resource } from '../../../src/api/resource.ts';
import { System } from '../../../src/api/system.ts';
import { specRefs } from '../../../src/catalog/entity-refs.ts';
import { KUBERNETES_NAME } from '../../../src/interop/backstage.ts';
import { defaultNameMapping, importRef, RefRewriteError } from '../../../src/interop/backstage-refs.ts';
import { importBackstage, type ImportResult } from '../../../src/interop/import.ts';
import type { BacklotEntity } from '../../../src/interop/import-entity.ts';
import { hashedName } from '../../../src/interop/names.ts';
import { parseDocuments, type SourceDocument } from '../../../src/interop/yaml.ts';
import { corpusFiles } from './normalise.ts';

const NS = 'travel';
const SCHEMAS = { Component, System, Resource, API: Api, Group, Domain } as const;
const INVALID_DIR = join(import.meta.dirname, '../../fixtures/backstage/invalid');

function corpus(): SourceDocument[] {
  return corpusFiles().flatMap(({ file, text }) => parseDocuments(file, text).documents);
}

function importCorpus(): ImportResult {
  return importBackstage(corpus(), { defaultNamespace: NS });
}

function find(result: ImportResult, kind: string, namespace: string, name: string): BacklotEntity {
  const found = result.objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
  if (!found)
    throw new Error(`no ${kind} ${namespace}/${name} in ${result.objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`).join(', ')}`);
  return found;
}

function docs(...values: unknown[]): SourceDocument[] {
  return values.map((value, index) => ({ file: 'test.yaml', index, value }));
}

const component = (name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, ...metadata },
  spec: { type: 'service', lifecycle: 'production', owner: 'team-a', ...spec },
});

describe('importBackstage on the corpus', () => {
  const result = importCorpus();

  it('reads every file and document of the corpus', () => {
    expect(corpusFiles().length).toBe(7);
    expect(corpus().length).toBe(30);
  });

  it('imports every entity without errors', () => {
    expect(result.errors).toEqual([]);
    expect(result.objects.length).toBe(23);
    const byKind: Record<string, number> = {};
    for (const o of result.objects) byKind[o.kind] = (byKind[o.kind] ?? 0) + 1;
    expect(byKind).toEqual({ Group: 4, Domain: 2, System: 3, Component: 7, Resource: 3, API: 4 });
  });

  it('reports the kinds it does not model, each document once', () => {
    const counts: Record<string, number> = {};
    for (const s of result.skipped) counts[s.kind] = (counts[s.kind] ?? 0) + 1;
    expect(counts).toEqual({ User: 4, Location: 2, Template: 1 });
    expect(result.skipped).toContainEqual({ file: 'locations.yaml', index: 2, kind: 'Template' });
  });

  it("produces objects that pass their kind's schema, the reference rules and Kubernetes naming", () => {
    for (const o of result.objects) {
      expect(SCHEMAS[o.kind].safeParse(o).error).toBeUndefined();
      expect(specRefs(o.kind, o.metadata.namespace, o.spec).errors).toEqual([]);
      expect(KUBERNETES_NAME.test(o.metadata.name)).toBe(true);
      expect(o.metadata.name.length).toBeLessThanOrEqual(63);
    }
  });

  it.each([
    // [kind, namespace, name, spec field, expected]
    ['Group', NS, 'engineering', 'children', ['team-booking', 'group:team-search', 'group:travel-infra/team-platform']],
    ['Group', NS, 'team-booking', 'parent', 'engineering'],
    ['Group', NS, 'team-booking', 'members', ['jane-doe', 'user:lars.nilsen', `user:${NS}/amira.haddad`]],
    ['Group', NS, 'team-search', 'parent', 'group:engineering'],
    ['Group', 'travel-infra', 'team-platform', 'parent', `${NS}/engineering`],
    ['Group', 'travel-infra', 'team-platform', 'members', [`user:${NS}/ola.nordmann`]],
    ['Domain', NS, 'bookings.core', 'owner', 'group:team-booking'],
    ['Domain', NS, 'bookings.core', 'subdomainOf', 'domain:travel'],
    ['System', NS, 'booking', 'owner', 'team-booking'],
    ['System', NS, 'booking', 'domain', `domain:${NS}/bookings.core`],
    ['System', 'travel-infra', 'platform', 'domain', `${NS}/travel`],
    ['Component', NS, 'booking-ui', 'dependsOn', ['component:booking-api-service']],
    ['Component', NS, 'booking-ui', 'consumesApis', ['booking-api', 'api:travel-infra/auth']],
    ['Component', NS, 'booking-api-service', 'owner', `group:${NS}/team-booking`],
    ['Component', NS, 'booking-api-service', 'system', 'system:booking'],
    ['Component', NS, 'booking-api-service', 'providesApis', ['booking-api', 'booking-events']],
    ['Component', NS, 'booking-api-service', 'dependsOn', ['resource:bookings-db', 'resource:travel-infra/message-bus', `component:${NS}/search-api`]],
    ['Component', NS, 'booking-worker', 'subcomponentOf', 'booking-api-service'],
    ['Component', 'travel-infra', 'auth.gateway', 'dependsOn', ['resource:message-bus']],
    ['Component', NS, hashedName('data_loader'), 'dependsOn', ['component:data-loader']],
    ['Resource', NS, 'trip-index', 'dependencyOf', ['component:search-api']],
    ['API', 'travel-infra', 'auth', 'owner', 'travel-infra/team-platform'],
    ['API', 'travel-infra', 'auth', 'system', 'system:travel-infra/platform'],
  ])('%s %s/%s: %s is rewritten to %j', (kind, namespace, name, field, expected) => {
    expect(find(result, kind, namespace, name).spec[field]).toEqual(expected);
  });

  it.each([
    ['Component', 'Booking_API_Service', NS, 'booking-api-service'],
    ['API', 'Booking-API', NS, 'booking-api'],
    ['Group', 'Team_Booking', NS, 'team-booking'],
    ['Domain', 'Bookings.Core', NS, 'bookings.core'],
    ['Component', 'Auth.Gateway', 'travel-infra', 'auth.gateway'],
    ['Component', 'data_loader', NS, hashedName('data_loader')],
  ])('renames %s %s to %s/%s and keeps the original in backlot.dev/backstage-name', (kind, original, namespace, name) => {
    expect(find(result, kind, namespace, name).metadata.annotations?.['backlot.dev/backstage-name']).toBe(original);
    expect(result.renamed).toContainEqual({
      from: `${kind.toLowerCase()}:${namespace === NS ? 'default' : namespace}/${original}`,
      to: `${kind.toLowerCase()}:${namespace}/${name}`,
    });
  });

  it('leaves names Kubernetes accepts alone, without the annotation', () => {
    expect(find(result, 'Component', NS, 'data-loader').metadata.annotations).toBeUndefined();
    expect(result.renamed).toHaveLength(6);
  });

  it('moves title, description, tags and links into spec', () => {
    const ui = find(result, 'Component', NS, 'booking-ui');
    expect(ui.spec).toMatchObject({
      title: 'Booking UI',
      description: 'The pages customers book on.',
      tags: ['typescript', 'react'],
      links: [{ url: 'https://grafana.wayfarer.example/d/booking-ui', title: 'Dashboard', icon: 'dashboard', type: 'dashboard' }],
    });
    expect(Object.keys(ui.metadata).sort()).toEqual(['annotations', 'name', 'namespace']);
  });

  it('keeps annotations and labels, but not those Backstage writes when reading a location', () => {
    expect(find(result, 'Component', NS, 'booking-ui').metadata.annotations).toEqual({
      'github.com/project-slug': 'wayfarer/booking-ui',
      'backstage.io/techdocs-ref': 'dir:.',
    });
    expect(find(result, 'System', NS, 'booking').metadata.labels).toEqual({ 'wayfarer.example/cost-centre': 'cc-4100' });
    expect(find(result, 'Component', NS, 'search-api').metadata.annotations).toEqual({ 'backstage.io/kubernetes-label-selector': 'app=search,tier=api' });
  });

  it('claims by backstage.io/kubernetes-id when it differs from the Kubernetes name', () => {
    const svc = find(result, 'Component', NS, 'booking-api-service');
    expect(svc.metadata.annotations?.['backstage.io/kubernetes-id']).toBe('booking-api');
    expect(svc.spec.workloads).toEqual({ selector: { matchLabels: { 'backstage.io/kubernetes-id': 'booking-api' } } });
    expect(find(result, 'Component', NS, 'booking-ui').spec.workloads).toBeUndefined();
    expect(find(result, 'Component', NS, 'search-api').spec.workloads).toBeUndefined();
  });

  it.each([
    ['Domain', NS, 'travel', { 'spec.type': 'product-area' }],
    ['System', NS, 'search', { 'spec.type': 'service-group' }],
    ['Group', NS, 'engineering', { 'spec.profile.picture': 'https://avatars.wayfarer.example/engineering.png' }],
    ['API', NS, 'booking-events', { 'spec.definition': { $text: './booking-events.asyncapi.yaml' } }],
  ])('keeps what Backlot does not model of %s %s/%s in backlot.dev/backstage-fields, with a warning', (kind, namespace, name, fields) => {
    const o = find(result, kind, namespace, name);
    expect(JSON.parse(o.metadata.annotations?.['backlot.dev/backstage-fields'] ?? '{}')).toEqual(fields);
    for (const path of Object.keys(fields)) {
      expect(result.warnings).toContainEqual(expect.objectContaining({ path, message: expect.stringContaining('backlot.dev/backstage-fields') }));
    }
  });

  it("maps Backstage's default namespace to the namespace asked for, and others to themselves", () => {
    const namespaces = new Set(result.objects.map((o) => o.metadata.namespace));
    expect([...namespaces].sort()).toEqual([NS, 'travel-infra']);
    const plain = importBackstage(corpus(), { defaultNamespace: 'default' });
    expect(find(plain, 'Group', 'travel-infra', 'team-platform').spec.parent).toBe('default/engineering');
  });

  it('is deterministic', () => {
    expect(importCorpus()).toEqual(result);
  });
});

describe('importRef', () => {
  const renames = new Map([
    ['component:travel/booking_api_service', 'booking-api-service'],
    ['component:travel/data_loader', hashedName('data_loader')],
  ]);
  const mapping = defaultNameMapping('travel', renames);
  const rewrite = (kind: string, field: string, value: unknown, holderNamespace = 'default') =>
    importRef(value, { field: refField(kind, field)!, holderNamespace, mapping });

  it.each([
    // bare names, with the field's default kind
    ['Component', 'owner', 'team-a', 'team-a'],
    ['Component', 'owner', 'Team_A', 'team-a'],
    ['Component', 'system', 'Booking', 'booking'],
    ['Group', 'members', 'Jane_Doe', 'jane-doe'],
    // kind:name
    ['Component', 'owner', 'group:team-a', 'group:team-a'],
    ['Component', 'owner', 'Group:Team_A', 'group:team-a'],
    ['Component', 'dependsOn', 'component:Booking_API_Service', 'component:booking-api-service'],
    ['Component', 'dependsOn', 'component:data_loader', `component:${hashedName('data_loader')}`],
    // kind:namespace/name
    ['Component', 'dependsOn', 'resource:travel-infra/message-bus', 'resource:travel-infra/message-bus'],
    ['Component', 'dependsOn', 'component:default/Booking_API_Service', 'component:travel/booking-api-service'],
    ['Component', 'dependsOn', 'Component:Default/Booking_API_Service', 'component:travel/booking-api-service'],
    // namespace/name
    ['Component', 'owner', 'default/team-a', 'travel/team-a'],
    ['Component', 'owner', 'travel-infra/Team_Platform', 'travel-infra/team-platform'],
    // a holder in another namespace: the name is looked up there
    ['Component', 'dependsOn', 'component:Booking_API_Service', 'component:booking_api_service'.replace(/_/g, '-'), 'travel-infra'],
  ])('%s.%s %j → %j', (kind, field, value, expected, holder = 'default') => {
    expect(rewrite(kind, field, value, holder)).toBe(expected);
  });

  it.each([
    ['Component', 'dependsOn', 'orders-db', 'dependsOn entry "orders-db" needs a kind: use <kind>:[<namespace>/]<name>'],
    ['Component', 'owner', 'user:jane', 'owner "user:jane" must reference a group'],
    ['Component', 'providesApis', 'component:x', 'providesApis entry "component:x" must reference an api'],
    ['Component', 'owner', 'group:', 'owner "group:" is not an entity reference (a part is empty)'],
    ['Component', 'owner', 'team a', 'the name "team a" is not a Backstage entity name'],
    ['Component', 'owner', 'Pay_Ments/team-a', 'the namespace "Pay_Ments" is not a Backstage namespace'],
    ['Component', 'owner', '9group:team-a', 'the kind "9group" is not a word of letters and digits'],
    ['Component', 'owner', 42, 'owner must be a string'],
  ])('%s.%s %j is refused: %s', (kind, field, value, message) => {
    expect(() => rewrite(kind, field, value)).toThrow(RefRewriteError);
    expect(() => rewrite(kind, field, value)).toThrow(message);
  });
});

describe('importBackstage on bad input', () => {
  it.each([
    // [document index, field path, part of the message]
    [0, 'spec.lifecycle', 'is required'],
    [1, 'spec.dependsOn[0]', 'dependsOn entry "orders-db" needs a kind: use <kind>:[<namespace>/]<name>, e.g. resource:shop/orders-db'],
    [2, 'metadata.tags[0]', '"Postgres" is not a Backstage tag'],
    [3, 'metadata.name', '"checkout service" is not a Backstage entity name'],
    [4, 'spec.owner', 'owner "user:jane" must reference a group'],
    [5, 'metadata.annotations["team-size"]', 'must be a string'],
    [6, 'metadata.links[0].url', 'url must be an absolute URL'],
    [7, undefined, 'expected a catalog entity'],
    [8, 'kind', 'is required, e.g. Component'],
  ])('mistakes.yaml document %i: %s', (index, path, message) => {
    const { documents } = parseDocuments('mistakes.yaml', readFileSync(join(INVALID_DIR, 'mistakes.yaml'), 'utf8'));
    const result = importBackstage(documents, { defaultNamespace: 'default' });
    const problems = result.errors.filter((e) => e.index === index);
    expect(problems).toEqual([expect.objectContaining({ file: 'mistakes.yaml', index, message: expect.stringContaining(message) })]);
    expect(problems[0]?.path).toBe(path);
    expect(result.objects).toEqual([]);
  });

  it('names the document YAML cannot parse', () => {
    const { documents, problems } = parseDocuments('syntax.yaml', readFileSync(join(INVALID_DIR, 'syntax.yaml'), 'utf8'));
    expect(documents.map((d) => d.index)).toEqual([0]);
    expect(problems).toEqual([{ file: 'syntax.yaml', index: 1, message: expect.stringContaining('not valid YAML') }]);
  });

  it('refuses two entities whose names differ only by case', () => {
    const result = importBackstage(docs(component('Checkout'), component('checkout')), { defaultNamespace: 'default' });
    expect(result.errors).toEqual([
      expect.objectContaining({ index: 1, path: 'metadata.name', message: expect.stringContaining('duplicates the entity of test.yaml, document 1') }),
    ]);
  });

  it("refuses a namespace that would merge with Backstage's default one", () => {
    const result = importBackstage(docs(component('a'), component('b', {}, { namespace: 'shop' })), { defaultNamespace: 'shop' });
    expect(result.errors).toEqual([
      expect.objectContaining({ index: 1, path: 'metadata.namespace', message: expect.stringContaining('choose another namespace') }),
    ]);
  });

  it('refuses a backstage.io/kubernetes-id that no label could carry', () => {
    const result = importBackstage(docs(component('a', {}, { annotations: { 'backstage.io/kubernetes-id': 'not a label' } })), { defaultNamespace: 'default' });
    expect(result.errors).toEqual([expect.objectContaining({ path: 'metadata.annotations["backstage.io/kubernetes-id"]' })]);
  });

  it('warns, without failing, about a label selector it cannot parse and a Kubernetes namespace it cannot honour', () => {
    const result = importBackstage(
      docs(component('a', {}, { annotations: { 'backstage.io/kubernetes-label-selector': 'app in (', 'backstage.io/kubernetes-namespace': 'elsewhere' } })),
      { defaultNamespace: 'default' },
    );
    expect(result.errors).toEqual([]);
    expect(result.objects).toHaveLength(1);
    expect(result.warnings.map((w) => w.path)).toEqual([
      'metadata.annotations["backstage.io/kubernetes-label-selector"]',
      'metadata.annotations["backstage.io/kubernetes-namespace"]',
    ]);
  });

  it('warns about a label selector that would claim every workload of the namespace', () => {
    const result = importBackstage(docs(component('a', {}, { annotations: { 'backstage.io/kubernetes-label-selector': '!canary' } })), {
      defaultNamespace: 'default',
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      expect.objectContaining({
        path: 'metadata.annotations["backstage.io/kubernetes-label-selector"]',
        message: expect.stringContaining('must have a positive requirement'),
      }),
    ]);
  });

  it('skips a modelled kind under a foreign apiVersion, naming the apiVersion', () => {
    const result = importBackstage(docs({ ...component('a'), apiVersion: 'example.com/v1' }), { defaultNamespace: 'default' });
    expect(result.skipped).toEqual([{ file: 'test.yaml', index: 0, kind: 'Component (example.com/v1)' }]);
    expect(result.objects).toEqual([]);
  });

  it('accepts kinds in any case, as Backstage compares them', () => {
    const result = importBackstage(docs({ ...component('a'), kind: 'component' }), { defaultNamespace: 'default' });
    expect(result.objects.map((o) => o.kind)).toEqual(['Component']);
  });
});
