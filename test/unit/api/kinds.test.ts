import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { KINDS, kindInfo, refField } from '../../../src/api/kinds.ts';
import { REFERENCE_KINDS } from '../../../src/api/refs.ts';

/** The unwrapped schema of a spec field (optional and default wrappers removed). */
function fieldSchema(spec: z.ZodObject, field: string): z.ZodType | undefined {
  let schema = spec.shape[field] as z.ZodType | undefined;
  while (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) schema = schema.unwrap() as z.ZodType;
  return schema;
}

describe('the kind registry', () => {
  it('holds the six kinds of API.md with their names', () => {
    expect(KINDS.map((k) => [k.kind, k.plural, k.singular, k.shortNames])).toEqual([
      ['Component', 'components', 'component', ['comp']],
      ['System', 'systems', 'system', ['sys']],
      ['Resource', 'resources', 'resource', ['res']],
      ['API', 'apis', 'api', []],
      ['Group', 'groups', 'group', ['team']],
      ['Domain', 'domains', 'domain', ['dom']],
    ]);
  });

  it('finds a kind by its Kubernetes or reference name', () => {
    expect(kindInfo('API')?.plural).toBe('apis');
    expect(kindInfo('api')?.kind).toBe('API');
    expect(kindInfo('Location')).toBeUndefined();
  });

  it('shows Type, Owner, System, Lifecycle, Workloads, Ready, Age for components', () => {
    const component = kindInfo('Component');
    expect(component?.printerColumns.map((c) => c.name)).toEqual(['Type', 'Owner', 'System', 'Lifecycle', 'Workloads', 'Ready', 'Age']);
    expect(component?.printerColumns.every((c) => c.priority === undefined)).toBe(true);
  });

  it('shows the owner (where there is one) and Ready by default for the other kinds', () => {
    const shown = (kind: string) =>
      kindInfo(kind)
        ?.printerColumns.filter((c) => !c.priority)
        .map((c) => c.name);
    expect(shown('System')).toEqual(['Owner', 'Ready', 'Age']);
    expect(shown('Resource')).toEqual(['Owner', 'Ready', 'Age']);
    expect(shown('API')).toEqual(['Owner', 'Ready', 'Age']);
    expect(shown('Domain')).toEqual(['Owner', 'Ready', 'Age']);
    expect(shown('Group')).toEqual(['Ready', 'Age']);
  });

  describe('the reference table', () => {
    const rows = KINDS.flatMap((k) => k.refs.map((r) => [k.kind, r.field, r] as const));

    it.each(rows)('%s.%s is a field of the spec of the right shape', (kind, field, rule) => {
      const schema = fieldSchema(kindInfo(kind)!.spec, field);
      expect(schema).toBeDefined();
      if (rule.list) {
        expect(schema).toBeInstanceOf(z.ZodArray);
        expect((schema as z.ZodArray).element).toBeInstanceOf(z.ZodString);
      } else {
        expect(schema).toBeInstanceOf(z.ZodString);
      }
    });

    it.each(rows)('%s.%s allows only known kinds, its default among them, and its example obeys it', (_kind, _field, rule) => {
      for (const k of rule.allowedKinds) expect(REFERENCE_KINDS).toContain(k);
      if (rule.defaultKind) expect(rule.allowedKinds).toContain(rule.defaultKind);
      expect(rule.allowedKinds).toContain(rule.example.split(':')[0]);
    });

    it('has the default kinds of API.md, and none for dependsOn/dependencyOf', () => {
      const defaults = Object.fromEntries(rows.map(([kind, field, r]) => [`${kind}.${field}`, r.defaultKind ?? null]));
      expect(defaults).toEqual({
        'Component.owner': 'group',
        'Component.system': 'system',
        'Component.subcomponentOf': 'component',
        'Component.dependsOn': null,
        'Component.dependencyOf': null,
        'Component.providesApis': 'api',
        'Component.consumesApis': 'api',
        'System.owner': 'group',
        'System.domain': 'domain',
        'Resource.owner': 'group',
        'Resource.system': 'system',
        'Resource.dependsOn': null,
        'Resource.dependencyOf': null,
        'API.owner': 'group',
        'API.system': 'system',
        'Group.parent': 'group',
        'Group.children': 'group',
        'Group.members': 'user',
        'Domain.owner': 'group',
        'Domain.subdomainOf': 'domain',
      });
    });

    it('looks up one field', () => {
      expect(refField('Component', 'dependsOn')?.allowedKinds).toEqual(['component', 'resource']);
      expect(refField('Component', 'type')).toBeUndefined();
    });
  });
});
