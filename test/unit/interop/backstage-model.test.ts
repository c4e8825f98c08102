/**
 * `backlot export` judged by Backstage's own rules: the entity policies a catalog backend
 * applies to everything it ingests (CatalogBuilder's defaults: the schema, the default
 * namespace, no foreign root fields, field formats) and the kind validators of its built-in
 * kinds processor, from @backstage/catalog-model itself. An entity that fails them is one a
 * real Backstage would refuse with a processing error. The package comes with the Backstage
 * test workspace (test/backstage), which `npm install` at the root installs.
 */
import { describe, expect, it } from '@jest/globals';
import {
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  DefaultNamespaceEntityPolicy,
  domainEntityV1alpha1Validator,
  EntityPolicies,
  FieldFormatEntityPolicy,
  groupEntityV1alpha1Validator,
  NoForeignRootFieldsEntityPolicy,
  resourceEntityV1alpha1Validator,
  SchemaValidEntityPolicy,
  systemEntityV1alpha1Validator,
  type Entity,
} from '@backstage/catalog-model';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { exportBackstage, type ExportableEntity } from '../../../src/interop/export.ts';
import { importBackstage } from '../../../src/interop/import.ts';
import { parseDocuments } from '../../../src/interop/yaml.ts';
import { corpusFiles } from './normalise.ts';

const EXAMPLES = join(import.meta.dirname, '../../../examples/catalog');

const policy = EntityPolicies.allOf([
  new SchemaValidEntityPolicy(),
  new DefaultNamespaceEntityPolicy(),
  new NoForeignRootFieldsEntityPolicy(),
  new FieldFormatEntityPolicy(),
]);
const KIND_VALIDATORS = [
  apiEntityV1alpha1Validator,
  componentEntityV1alpha1Validator,
  resourceEntityV1alpha1Validator,
  groupEntityV1alpha1Validator,
  systemEntityV1alpha1Validator,
  domainEntityV1alpha1Validator,
];

/**
 * The entity as the policies see it: Backstage's placeholder processor runs first and puts
 * the text a `{$text: <url>}` placeholder names in its place (an API definition kept as one
 * at import goes back out as one).
 */
function substituted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(substituted);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === '$text' && typeof entries[0]![1] === 'string') return `the text at ${entries[0]![1]}`;
  return Object.fromEntries(entries.map(([k, v]) => [k, substituted(v)]));
}

/** What Backstage says of one entity: undefined when it takes it, else why not. */
async function refusal(entity: unknown): Promise<string | undefined> {
  try {
    const accepted = await policy.enforce(substituted(entity) as Entity);
    if (!accepted) return 'refused by the entity policies';
    for (const validator of KIND_VALIDATORS) if (await validator.check(accepted)) return undefined;
    return 'no kind validator accepts it';
  } catch (err) {
    return (err as Error).message;
  }
}

async function refusals(entities: readonly unknown[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of entities) {
    const why = await refusal(e);
    const { kind, metadata } = e as { kind: string; metadata: { namespace?: string; name: string } };
    if (why !== undefined) out[`${kind}:${metadata.namespace ?? 'default'}/${metadata.name}`] = why;
  }
  return out;
}

function examples(): ExportableEntity[] {
  return readdirSync(EXAMPLES)
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(EXAMPLES, f), 'utf8')).map((d) => d.toJS() as ExportableEntity));
}

describe("backlot export, by Backstage's own rules", () => {
  it("every entity of the examples passes the catalog's entity policies and a kind validator", async () => {
    const exported = exportBackstage(examples(), { defaultNamespace: 'default' });
    expect(exported.length).toBe(42);
    expect(await refusals(exported)).toEqual({});
  });

  it('every entity of the Backstage corpus passes them after import and export', async () => {
    const documents = corpusFiles().flatMap(({ file, text }) => parseDocuments(file, text).documents);
    const imported = importBackstage(documents, { defaultNamespace: 'default' });
    const exported = exportBackstage(imported.objects, { defaultNamespace: 'default' });
    expect(exported.length).toBe(imported.objects.length);
    expect(await refusals(exported)).toEqual({});
  });

  it('and the check can fail: a descriptor Backstage refuses is named with the reason', async () => {
    const [component] = exportBackstage(examples(), { defaultNamespace: 'default' }).filter((e) => e.kind === 'Component');
    const broken = { ...component, metadata: { ...component!.metadata, name: 'not a name!' } };
    const noType = { ...component, spec: { ...component!.spec, type: undefined } };
    const found = await refusals([broken, noType]);
    expect(Object.keys(found)).toHaveLength(2);
    const [, why] = Object.entries(found).find(([key]) => key.endsWith('/not a name!'))!;
    expect(why).toMatch(/metadata\.name/);
  });
});
