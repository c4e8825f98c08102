/**
 * zod schema → structural OpenAPI v3 schema, as a CRD needs it.
 *
 * zod's own `z.toJSONSchema` (OpenAPI 3.0 target) does the walking, so every constraint zod
 * can express (lengths, item counts, patterns, enums, defaults, descriptions, extension
 * metadata such as `x-kubernetes-validations`) arrives without a second walker to keep in
 * step with zod. What the API server would refuse or does not need is then normalised away,
 * and anything a structural schema cannot hold fails generation instead of the install.
 */
import { z } from 'zod';

export type JsonSchema = { [key: string]: unknown };

/** Composition keywords a structural schema only allows under strict conditions; the model does not use them. */
const FORBIDDEN = ['$ref', '$defs', 'anyOf', 'oneOf', 'allOf', 'not', 'nullable'];

/** Formats the API server validates itself; zod's ECMAScript pattern for them is redundant there. */
const SELF_VALIDATING_FORMATS = new Set(['date-time', 'email']);

/** The order keys are written in, so the YAML reads top-down and diffs stay small. */
const KEY_ORDER = [
  'description',
  'type',
  'format',
  'enum',
  'default',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'maxProperties',
  'required',
  'items',
  'properties',
  'additionalProperties',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-validations',
];

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function orderKeys(schema: JsonSchema): JsonSchema {
  const rank = (key: string) => (KEY_ORDER.includes(key) ? KEY_ORDER.indexOf(key) : KEY_ORDER.length);
  const keys = Object.keys(schema).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return Object.fromEntries(keys.map((k) => [k, schema[k]]));
}

function dropSafeIntegerBounds(schema: JsonSchema): void {
  if (schema.type !== 'integer') return;
  if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
  if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
}

/**
 * Normalises one node and its children; `path` names the node in errors. `described` is
 * true for array items and map values, which the enclosing node describes.
 */
function normalise(input: JsonSchema, path: string, described = false): JsonSchema {
  const schema: JsonSchema = { ...input };
  for (const key of FORBIDDEN) {
    if (key in schema) throw new Error(`${path}: "${key}" cannot appear in a structural CRD schema`);
  }
  delete schema.$schema;
  delete schema.id;
  if (schema.additionalProperties === false) delete schema.additionalProperties;
  if (typeof schema.format === 'string' && SELF_VALIDATING_FORMATS.has(schema.format)) delete schema.pattern;
  dropSafeIntegerBounds(schema);
  // RegExp.prototype.source escapes "/"; RE2 does not need it, and the plain form reads better.
  if (typeof schema.pattern === 'string') schema.pattern = schema.pattern.replaceAll('\\/', '/');
  if (typeof schema.type !== 'string') throw new Error(`${path}: every node of a structural schema needs a type`);
  if (!described && (typeof schema.description !== 'string' || schema.description === '')) throw new Error(`${path}: has no description (use .describe())`);
  // kubectl explain prints an array's or map's description followed by its items'; one is enough.
  if (described) delete schema.description;

  if (isSchema(schema.items)) schema.items = normalise(schema.items, `${path}[]`, true);
  if (isSchema(schema.additionalProperties)) schema.additionalProperties = normalise(schema.additionalProperties, `${path}{}`, true);
  if (isSchema(schema.properties)) {
    const properties = Object.entries(schema.properties).map(([name, child]) => {
      if (!isSchema(child)) throw new Error(`${path}.${name}: not a schema`);
      return [name, normalise(child, `${path}.${name}`)] as const;
    });
    schema.properties = Object.fromEntries(properties);
  }
  return orderKeys(schema);
}

/** The structural OpenAPI v3 schema of a zod object schema. */
export function structuralSchema(schema: z.ZodType, path: string): JsonSchema {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input', unrepresentable: 'throw', reused: 'inline', cycles: 'throw' });
  return normalise(json, path);
}
