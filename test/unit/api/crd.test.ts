/**
 * What a reviewer of the CRDs would check by eye, checked on every node: structural,
 * described, bounded, and the reference rules where the kind table says.
 */
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import type { CelRule } from '../../../src/api/common.ts';
import { customResourceDefinition, customResourceDefinitions } from '../../../src/api/crd.ts';
import { refRules } from '../../../src/api/crd-rules.ts';
import { structuralSchema, type JsonSchema } from '../../../src/api/crd-schema.ts';
import { KINDS, kindInfo, refField, type KindInfo } from '../../../src/api/kinds.ts';

interface Node {
  path: string;
  schema: JsonSchema;
  /** Array items and map values are described by their parent. */
  describedByParent: boolean;
}

function nodes(schema: JsonSchema, path: string, describedByParent = false): Node[] {
  const children: Node[] = [];
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, child] of Object.entries(properties)) children.push(...nodes(child, `${path}.${name}`));
  if (schema.items) children.push(...nodes(schema.items as JsonSchema, `${path}[]`, true));
  if (typeof schema.additionalProperties === 'object') children.push(...nodes(schema.additionalProperties as JsonSchema, `${path}{}`, true));
  return [{ path, schema, describedByParent }, ...children];
}

function versionOf(kind: string) {
  const crd = customResourceDefinition(kindInfo(kind)!);
  const versions = crd.spec.versions as Array<Record<string, unknown>>;
  return versions[0]!;
}

function openApiOf(kind: string): JsonSchema {
  return (versionOf(kind).schema as { openAPIV3Schema: JsonSchema }).openAPIV3Schema;
}

const specAndStatus = KINDS.flatMap((k) => {
  const root = openApiOf(k.kind).properties as Record<string, JsonSchema>;
  return [...nodes(root.spec!, `${k.kind}.spec`), ...nodes(root.status!, `${k.kind}.status`)];
});

function rulesAt(kind: string, path: string[]): CelRule[] {
  let node: JsonSchema = openApiOf(kind);
  for (const step of path) node = (step === '[]' ? node.items : (node.properties as Record<string, JsonSchema>)[step]) as JsonSchema;
  return (node['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
}

describe('the generated CRDs', () => {
  it.each(KINDS.map((k): [string, KindInfo] => [k.kind, k]))('%s: group, version, scope, names, categories, status subresource', (_kind, info) => {
    const crd = customResourceDefinition(info);
    expect(crd.metadata.name).toBe(`${info.plural}.catalog.backlot.dev`);
    expect(crd.spec).toMatchObject({
      group: 'catalog.backlot.dev',
      scope: 'Namespaced',
      names: { kind: info.kind, listKind: `${info.kind}List`, plural: info.plural, singular: info.singular, categories: ['backlot', 'catalog'] },
    });
    expect((crd.spec.names as { shortNames?: string[] }).shortNames ?? []).toEqual(info.shortNames);
    expect(versionOf(info.kind)).toMatchObject({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    expect(openApiOf(info.kind).required).toEqual(['spec']);
  });

  it('gives components the printer columns of API.md', () => {
    expect(versionOf('Component').additionalPrinterColumns).toEqual([
      expect.objectContaining({ name: 'Type', jsonPath: '.spec.type' }),
      expect.objectContaining({ name: 'Owner', jsonPath: '.spec.owner' }),
      expect.objectContaining({ name: 'System', jsonPath: '.spec.system' }),
      expect.objectContaining({ name: 'Lifecycle', jsonPath: '.spec.lifecycle' }),
      expect.objectContaining({ name: 'Workloads', jsonPath: '.status.workloadSummary' }),
      expect.objectContaining({ name: 'Ready', jsonPath: '.status.conditions[?(@.type=="Ready")].status' }),
      expect.objectContaining({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }),
    ]);
  });

  it('restricts metadata to a name of at most 63 characters and nothing else', () => {
    for (const k of KINDS) {
      expect((openApiOf(k.kind).properties as Record<string, unknown>).metadata).toEqual({
        type: 'object',
        properties: { name: { type: 'string', maxLength: 63 } },
      });
    }
  });

  describe('every schema node', () => {
    it.each(specAndStatus.map((n): [string, Node] => [n.path, n]))('%s is typed, bounded and described', (_path, { schema, describedByParent }) => {
      expect(['object', 'array', 'string', 'integer', 'number', 'boolean']).toContain(schema.type);
      expect(schema).not.toHaveProperty('x-kubernetes-preserve-unknown-fields');
      expect(schema.additionalProperties).not.toBe(false);
      if (describedByParent) expect(schema).not.toHaveProperty('description');
      else expect(typeof schema.description === 'string' && schema.description.length > 10).toBe(true);
      if (schema.type === 'string') expect(schema.maxLength !== undefined || schema.enum !== undefined || schema.format === 'date-time').toBe(true);
      if (schema.type === 'array') expect(schema.maxItems).toEqual(expect.any(Number));
      if (schema.type === 'object' && schema.additionalProperties) expect(schema.maxProperties).toEqual(expect.any(Number));
      if (schema.type === 'integer') expect(schema.minimum).toBe(0);
    });
  });

  it('keys conditions by type, and keeps the workloads and dependencies lists whole', () => {
    const status = openApiOf('Component').properties as Record<string, JsonSchema>;
    const props = status.status!.properties as Record<string, JsonSchema>;
    expect(props.conditions).toMatchObject({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
    for (const list of [props.workloads, props.dependencies]) {
      expect(list).toMatchObject({ 'x-kubernetes-list-type': 'atomic' });
      expect(list).not.toHaveProperty('x-kubernetes-list-map-keys');
    }
  });

  describe('reference rules', () => {
    const rows = KINDS.flatMap((k) => k.refs.map((r) => [`${k.kind}.${r.field}`, k.kind, r] as const));

    it.each(rows)('%s carries the rules derived from the kind table', (_name, kind, rule) => {
      const path = ['properties', 'spec', rule.field, ...(rule.list ? ['[]'] : [])];
      expect(rulesAt(kind, path.slice(1))).toEqual(refRules(rule));
    });

    it('requires a kind in dependsOn and dependencyOf only', () => {
      const kindRequired = rows.filter(([, , r]) => refRules(r).some((c) => c.message.includes('needs a kind'))).map(([name]) => name);
      expect(kindRequired).toEqual(['Component.dependsOn', 'Component.dependencyOf', 'Resource.dependsOn', 'Resource.dependencyOf']);
    });

    it('quotes the value and shows the expected form in every message', () => {
      for (const [, , r] of rows) {
        for (const c of refRules(r)) {
          expect(c.messageExpression).toMatch(/^'[^'\\]*' \+ self \+ '[^'\\]*'$/);
          expect(c.message).toContain(r.example);
        }
      }
    });

    it('says what dependsOn needs in words a user can act on', () => {
      expect(refRules(refField('Component', 'dependsOn')!).map((r) => r.message)).toEqual([
        'dependsOn entry is not an entity reference: use [<kind>:][<namespace>/]<name>, e.g. resource:shop/orders-db',
        'dependsOn entry needs a kind: use <kind>:[<namespace>/]<name>, e.g. resource:shop/orders-db',
        'dependsOn entry must reference a component or a resource: use component:[<namespace>/]<name> or resource:[<namespace>/]<name>, e.g. resource:shop/orders-db',
      ]);
    });
  });

  it('validates link URLs and label selectors with CEL', () => {
    expect(rulesAt('Component', ['spec', 'links', '[]', 'url'])[0]?.rule).toContain('isURL(self)');
    const [selectorRule] = rulesAt('Resource', ['spec', 'workloads', 'selector']);
    expect(selectorRule?.message).toMatch(/^spec\.workloads\.selector must have a positive requirement/);
    expect(selectorRule?.rule).toContain("self.matchExpressions.exists(e, e.operator == 'In' || e.operator == 'Exists')");
  });

  it('produces six CRDs, one per kind', () => {
    expect(customResourceDefinitions().map((c) => c.spec.names)).toHaveLength(6);
  });
});

describe('structuralSchema', () => {
  it('refuses a field without a description, naming it', () => {
    expect(() => structuralSchema(z.object({ a: z.string().max(3) }).describe('root'), 'X')).toThrow('X.a: has no description');
  });

  it('refuses a union, which a structural schema cannot hold', () => {
    expect(() => structuralSchema(z.object({ a: z.union([z.string(), z.int()]).describe('a') }).describe('root'), 'X')).toThrow('X.a: "anyOf" cannot appear');
  });

  it('drops the bounds zod puts on integers and the pattern it puts on date-times', () => {
    const schema = structuralSchema(z.object({ n: z.int().describe('n'), t: z.iso.datetime().describe('t') }).describe('root'), 'X');
    expect(schema.properties).toEqual({ n: { description: 'n', type: 'integer' }, t: { description: 't', type: 'string', format: 'date-time' } });
  });
});
