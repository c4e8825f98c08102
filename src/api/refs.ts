/**
 * The entity-reference grammar, `[<kind>:][<namespace>/]<name>`, and the wording of its errors.
 *
 * The CRDs' CEL rules (src/api/crd-rules.ts) and the TypeScript parser (src/catalog/ref.ts)
 * both read this file, so the API server and the operator accept exactly the same strings and
 * explain a bad one in the same words. The patterns use only the common subset of RE2 (CEL's
 * `matches`) and ECMAScript regular expressions, without backslashes, so they can be embedded
 * in a CEL string literal unchanged.
 */

/** The kinds Backlot serves, as they appear in references (lower case); api/kinds.ts has their Kubernetes names. */
export const ENTITY_REF_KINDS = ['component', 'system', 'resource', 'api', 'group', 'domain'] as const;
export type EntityRefKind = (typeof ENTITY_REF_KINDS)[number];

/**
 * The kinds a reference may name. `user` is Backstage's person entity: Backlot has no such
 * kind, so a `user:` reference (a Group's members) is stored and shown but never resolved.
 */
export const REFERENCE_KINDS = [...ENTITY_REF_KINDS, 'user'] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];

/** A kind as written: a letter, then letters or digits (matched case-insensitively). */
export const KIND_PATTERN = '[A-Za-z][A-Za-z0-9]{0,62}';
/** A Kubernetes namespace (a DNS label); upper case is accepted and folded, as Backstage compares case-insensitively. */
export const NAMESPACE_PATTERN = '[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?';
/** An entity name: a Kubernetes object name of at most 63 characters, so that it fits in a label value. */
export const NAME_PATTERN = '[A-Za-z0-9]([-.A-Za-z0-9]{0,61}[A-Za-z0-9])?';
/** A whole reference, anchored. */
export const REF_PATTERN = `^(${KIND_PATTERN}:)?(${NAMESPACE_PATTERN}/)?${NAME_PATTERN}$`;

/** The longest meaningful reference: the longest kind, a namespace and a name of 63 characters each. */
export const REF_MAX_LENGTH = 'component'.length + 1 + 63 + 1 + 63;
/** The longest entity name (`metadata.name`): entity names become label values. */
export const NAME_MAX_LENGTH = 63;

/** The reference form shown in error messages. */
export const REF_FORM = '[<kind>:][<namespace>/]<name>';
/** The form shown when a field has no default kind. */
export const KINDED_REF_FORM = '<kind>:[<namespace>/]<name>';

/**
 * How one spec field holds references: its default kind (absent when the kind must be
 * written), the kinds it may name, and an example shown in error messages.
 */
export interface RefField {
  /** The spec field, e.g. `dependsOn`. */
  field: string;
  /** True when the field is a list of references. */
  list: boolean;
  /** The kind assumed when the reference has none; absent means a kind is required. */
  defaultKind?: ReferenceKind;
  /** The kinds the field may name. */
  allowedKinds: readonly ReferenceKind[];
  /** A valid value, shown in error messages. */
  example: string;
}

/** What can be wrong with a reference in a field, each with the rule's wording. */
export interface RefMessage {
  /** The field, or "<field> entry" for a list. */
  subject: string;
  problem: string;
  hint: string;
}

function subjectOf(rule: RefField): string {
  return rule.list ? `${rule.field} entry` : rule.field;
}

function joinKinds(kinds: readonly ReferenceKind[]): string {
  const named = kinds.map((k) => `${/^[aeiou]/.test(k) ? 'an' : 'a'} ${k}`);
  return named.length <= 1 ? (named[0] ?? '') : `${named.slice(0, -1).join(', ')} or ${named.at(-1) ?? ''}`;
}

/** The value does not follow the grammar at all. */
export function formatMessage(rule: RefField): RefMessage {
  return { subject: subjectOf(rule), problem: 'is not an entity reference', hint: `use ${REF_FORM}, e.g. ${rule.example}` };
}

/** The field has no default kind and the value names none. */
export function kindRequiredMessage(rule: RefField): RefMessage {
  return { subject: subjectOf(rule), problem: 'needs a kind', hint: `use ${KINDED_REF_FORM}, e.g. ${rule.example}` };
}

/** The value names a kind the field does not allow. */
export function kindAllowedMessage(rule: RefField): RefMessage {
  const forms = rule.allowedKinds.map((k) => `${k}:[<namespace>/]<name>`).join(' or ');
  const omit = rule.defaultKind ? ' (or no kind)' : '';
  return { subject: subjectOf(rule), problem: `must reference ${joinKinds(rule.allowedKinds)}`, hint: `use ${forms}${omit}, e.g. ${rule.example}` };
}

/** The message without the offending value, as CEL's static `message` shows it. */
export function staticText(message: RefMessage): string {
  return `${message.subject} ${message.problem}: ${message.hint}`;
}

/** The message with the offending value quoted and, optionally, what exactly is wrong with it. */
export function textWithValue(message: RefMessage, value: string, detail?: string): string {
  return `${message.subject} ${JSON.stringify(value)} ${message.problem}${detail ? ` (${detail})` : ''}: ${message.hint}`;
}
