/**
 * Every reference an entity's spec holds, resolved against the kind's reference table.
 * Values the API server admitted always parse; the errors exist for objects that did not
 * pass through it (files given to `backlot import`, objects from an older CRD).
 */
import { kindInfo } from '../api/kinds.ts';
import type { RefField } from '../api/refs.ts';
import { EntityRefError, parseRefField, type EntityRef } from './ref.ts';

/** One reference found in a spec. */
export interface SpecRef {
  /** The spec field, e.g. `dependsOn`. */
  field: string;
  /** Where it was found, e.g. `spec.dependsOn[1]`. */
  path: string;
  ref: EntityRef;
}

export interface SpecRefs {
  refs: SpecRef[];
  errors: EntityRefError[];
}

function valuesOf(spec: Record<string, unknown>, field: RefField): Array<{ value: unknown; path: string }> {
  const raw = spec[field.field];
  if (raw === undefined || raw === null) return [];
  if (!field.list) return [{ value: raw, path: `spec.${field.field}` }];
  if (!Array.isArray(raw))
    throw new EntityRefError(`${field.field} must be a list of entity references, e.g. [${field.example}]`, { path: `spec.${field.field}`, value: raw });
  return raw.map((value: unknown, i) => ({ value, path: `spec.${field.field}[${i}]` }));
}

function collect(result: SpecRefs, step: () => void): void {
  try {
    step();
  } catch (err) {
    if (!(err instanceof EntityRefError)) throw err;
    result.errors.push(err);
  }
}

/**
 * The references in `spec` of an entity of `kind` living in `namespace`, in table order.
 * Throws only for an unknown kind, which is a programming error.
 */
export function specRefs(kind: string, namespace: string, spec: Record<string, unknown>): SpecRefs {
  const info = kindInfo(kind);
  if (!info) throw new Error(`unknown entity kind "${kind}"`);
  const result: SpecRefs = { refs: [], errors: [] };
  for (const field of info.refs) {
    collect(result, () => {
      for (const { value, path } of valuesOf(spec, field)) {
        collect(result, () => result.refs.push({ field: field.field, path, ref: parseRefField(value, { field, namespace, path }) }));
      }
    });
  }
  return result;
}
