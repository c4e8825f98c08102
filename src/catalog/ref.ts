/**
 * Entity references, `[<kind>:][<namespace>/]<name>`, with Backstage's rules: the kind is
 * case-insensitive and may default per field, the namespace defaults to that of the entity
 * holding the reference, and the canonical form is lower-case `kind:namespace/name`.
 *
 * The grammar and the error wording come from src/api/refs.ts, which the CRDs' CEL rules
 * also use, so a reference the API server admitted always parses here. Pure: no I/O.
 */
import {
  formatMessage,
  kindAllowedMessage,
  kindRequiredMessage,
  KIND_PATTERN,
  NAME_PATTERN,
  NAMESPACE_PATTERN,
  REF_FORM,
  REF_PATTERN,
  REFERENCE_KINDS,
  staticText,
  textWithValue,
  type RefField,
  type RefMessage,
  type ReferenceKind,
} from '../api/refs.ts';

/** A resolved reference, canonical: every part lower case. */
export interface EntityRef {
  kind: ReferenceKind;
  namespace: string;
  name: string;
}

/** A reference as written, split into its parts; absent parts are left to defaults. */
export interface WrittenRef {
  kind?: string;
  namespace?: string;
  name: string;
}

/** A reference that cannot be used, with the field that holds it and the expected form. */
export class EntityRefError extends Error {
  /** Where the reference was found, e.g. `spec.dependsOn[1]`; absent when parsed on its own. */
  readonly path: string | undefined;
  readonly value: unknown;

  constructor(message: string, options: { path?: string; value: unknown }) {
    super(options.path ? `${options.path}: ${message}` : message);
    this.name = 'EntityRefError';
    this.path = options.path;
    this.value = options.value;
  }
}

const anchored = (pattern: string) => new RegExp(`^${pattern}$`);
const KIND_RE = anchored(KIND_PATTERN);
const NAMESPACE_RE = anchored(NAMESPACE_PATTERN);
const NAME_RE = anchored(NAME_PATTERN);
const REF_RE = new RegExp(REF_PATTERN);

/** Explains why a string is not a reference, or returns undefined when it is one. */
function grammarProblem(text: string): string | undefined {
  const parts = splitWrittenRef(text);
  if (parts.kind === '' || parts.namespace === '' || parts.name === '') return 'a part is empty';
  if (parts.kind !== undefined && !KIND_RE.test(parts.kind)) return `the kind "${parts.kind}" is not a word of letters and digits`;
  if (parts.namespace !== undefined && !NAMESPACE_RE.test(parts.namespace)) return `the namespace "${parts.namespace}" is not a Kubernetes namespace name`;
  if (!NAME_RE.test(parts.name)) return `the name "${parts.name}" is not a Kubernetes object name of at most 63 characters`;
  // The part checks imply the whole pattern; checking it too keeps this parser and CEL in step.
  return REF_RE.test(text) ? undefined : 'it does not follow the grammar';
}

/** Backstage's split: the first ":" ends the kind unless a "/" comes before it; the first "/" ends the namespace. */
export function splitWrittenRef(text: string): WrittenRef {
  const slash = text.indexOf('/');
  let colon = text.indexOf(':');
  if (slash !== -1 && slash < colon) colon = -1;
  return {
    ...(colon === -1 ? {} : { kind: text.slice(0, colon) }),
    ...(slash === -1 ? {} : { namespace: text.slice(colon + 1, slash) }),
    name: text.slice(Math.max(colon + 1, slash + 1)),
  };
}

function fail(message: RefMessage, value: unknown, path: string | undefined, detail?: string): never {
  const text = typeof value === 'string' ? textWithValue(message, value, detail) : staticText(message);
  throw new EntityRefError(text, { value, ...(path ? { path } : {}) });
}

const GENERIC: RefMessage = { subject: 'entity reference', problem: 'is not an entity reference', hint: `use ${REF_FORM}, e.g. component:shop/checkout` };

/**
 * Splits a reference into its parts without applying defaults or checking the kind.
 * Throws EntityRefError when the text does not follow the grammar.
 */
export function splitEntityRef(value: unknown, options: { path?: string } = {}): WrittenRef {
  if (typeof value !== 'string') fail({ ...GENERIC, problem: 'must be a string' }, value, options.path);
  const problem = grammarProblem(value);
  if (problem) fail(GENERIC, value, options.path, problem);
  return splitWrittenRef(value);
}

function isReferenceKind(kind: string): kind is ReferenceKind {
  return (REFERENCE_KINDS as readonly string[]).includes(kind);
}

export interface ParseOptions {
  /** The namespace of the entity holding the reference. */
  defaultNamespace: string;
  /** The kind assumed when the reference names none; without it a kind is required. */
  defaultKind?: ReferenceKind;
  /** Where the reference was found, for errors, e.g. `spec.owner`. */
  path?: string;
}

/** Parses a reference outside any field rule: the kind must be one Backlot knows. */
export function parseEntityRef(value: unknown, options: ParseOptions): EntityRef {
  const parts = splitEntityRef(value, options);
  const kind = (parts.kind ?? options.defaultKind)?.toLowerCase();
  if (kind === undefined) fail({ ...GENERIC, problem: 'needs a kind' }, value, options.path);
  if (!isReferenceKind(kind))
    fail({ ...GENERIC, problem: `names the unknown kind "${parts.kind ?? ''}"`, hint: `use one of ${REFERENCE_KINDS.join(', ')}` }, value, options.path);
  return { kind, namespace: (parts.namespace ?? options.defaultNamespace).toLowerCase(), name: parts.name.toLowerCase() };
}

/**
 * Parses the value of a reference field under its rule from the kind table: the field's
 * default kind, the kinds it allows, and the holder's namespace as the default namespace.
 * The errors are the CRD's CEL messages, prefixed with the path.
 */
export function parseRefField(value: unknown, options: { field: RefField; namespace: string; path?: string }): EntityRef {
  const { field, path } = options;
  if (typeof value !== 'string') fail({ ...formatMessage(field), problem: 'must be a string' }, value, path);
  const problem = grammarProblem(value);
  if (problem) fail(formatMessage(field), value, path, problem);
  const parts = splitWrittenRef(value);
  if (parts.kind === undefined && !field.defaultKind) fail(kindRequiredMessage(field), value, path);
  const kind = (parts.kind ?? field.defaultKind ?? '').toLowerCase();
  if (!(field.allowedKinds as readonly string[]).includes(kind)) fail(kindAllowedMessage(field), value, path);
  return { kind: kind as ReferenceKind, namespace: (parts.namespace ?? options.namespace).toLowerCase(), name: parts.name.toLowerCase() };
}

/** The canonical form, `kind:namespace/name`, lower case: the form Backlot writes and compares. */
export function stringifyEntityRef(ref: EntityRef): string {
  return `${ref.kind}:${ref.namespace}/${ref.name}`.toLowerCase();
}

/** The shortest form that parses back to `ref` in the given context, e.g. `team-payments` for an owner in the same namespace. */
export function compactEntityRef(ref: EntityRef, context: { defaultNamespace: string; defaultKind?: ReferenceKind }): string {
  const kind = ref.kind === context.defaultKind ? '' : `${ref.kind}:`;
  const namespace = ref.namespace === context.defaultNamespace.toLowerCase() ? '' : `${ref.namespace}/`;
  return `${kind}${namespace}${ref.name}`;
}

/** True when two references name the same entity (both are canonical, so this is equality of parts). */
export function sameEntity(a: EntityRef, b: EntityRef): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
