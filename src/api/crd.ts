/**
 * The six CustomResourceDefinitions, generated from the zod model and the kind registry.
 * crds/*.yaml is this module's output, checked in; a unit test fails when it drifts, and
 * `backlot crds` prints the same text.
 */
import { stringify } from 'yaml';
import { API_GROUP, API_VERSION_NAME } from './common.ts';
import { addRefRules } from './crd-rules.ts';
import { structuralSchema, type JsonSchema } from './crd-schema.ts';
import { CATEGORIES, KINDS, type KindInfo } from './kinds.ts';
import { NAME_MAX_LENGTH } from './refs.ts';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: JsonSchema;
}

export const GENERATED_HEADER = '# Generated from src/api by `npm run generate`. Do not edit: change the model and regenerate.\n';

/**
 * The API server allows a CRD to restrict metadata.name only, and nothing else about
 * metadata, not even a description. Entity names become label values, so at most 63.
 */
function metadataSchema(): JsonSchema {
  return { type: 'object', properties: { name: { type: 'string', maxLength: NAME_MAX_LENGTH } } };
}

/** The openAPIV3Schema of a kind: the envelope plus its spec and status. */
export function objectSchema(info: KindInfo): JsonSchema {
  const spec = addRefRules(structuralSchema(info.spec, `${info.kind}.spec`), info.refs);
  const status = structuralSchema(info.status, `${info.kind}.status`);
  return {
    description: info.description,
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: {
        description: 'The versioned schema of this representation of an object: catalog.backlot.dev/v1alpha1.',
        type: 'string',
      },
      kind: { description: `The kind of object: ${info.kind}.`, type: 'string' },
      metadata: metadataSchema(),
      spec,
      status,
    },
  };
}

export function customResourceDefinition(info: KindInfo): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${API_GROUP}`, labels: { 'app.kubernetes.io/part-of': 'backlot' } },
    spec: {
      group: API_GROUP,
      scope: 'Namespaced',
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        ...(info.shortNames.length > 0 ? { shortNames: [...info.shortNames] } : {}),
        categories: [...CATEGORIES],
      },
      versions: [
        {
          name: API_VERSION_NAME,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: info.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: objectSchema(info) },
        },
      ],
    },
  };
}

export function customResourceDefinitions(): CustomResourceDefinition[] {
  return KINDS.map(customResourceDefinition);
}

/** The file a kind's CRD lives in under crds/, as kubebuilder names them. */
export function crdFileName(info: KindInfo): string {
  return `${API_GROUP}_${info.plural}.yaml`;
}

/** One CRD as a YAML document, with the generated-file header. */
export function renderCrd(crd: CustomResourceDefinition): string {
  return GENERATED_HEADER + stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** The content of crds/: file name → YAML. */
export function crdFiles(): Map<string, string> {
  return new Map(KINDS.map((info) => [crdFileName(info), renderCrd(customResourceDefinition(info))]));
}

/** Every CRD in one multi-document YAML stream, as `backlot crds` prints it. */
export function renderAllCrds(): string {
  return [...crdFiles().values()].join('---\n');
}
