/**
 * Tenancy: what an entity in one namespace may do to another. A namespace is a tenant
 * boundary; a reference whose effect lands in another namespace (its statuses, Events,
 * metrics, or the routing of alerts to its Groups) takes effect only when that namespace
 * accepts relations from the referrer's, through the annotation on its Namespace object.
 * Namespace objects are written by cluster administrators, not by the tenants whose
 * entities they govern. Pure: no I/O.
 */

/** `backlot.dev/accept-relations-from: "<ns>,<ns>,..."`, or `"*"` for every namespace. */
export const ACCEPT_RELATIONS_ANNOTATION = 'backlot.dev/accept-relations-from';

/**
 * Reference fields whose effect lands in the referenced entity's namespace: the referenced
 * entity counts the referrer among its dependencies, parts, providers, children or parent,
 * or (owner) alerts about the referrer route to the referenced Group. The others (dependsOn,
 * consumesApis, members) only change what the referrer itself shows, and need no consent.
 */
export const CONSENT_FIELDS: ReadonlySet<string> = new Set([
  'owner',
  'system',
  'domain',
  'subcomponentOf',
  'subdomainOf',
  'dependencyOf',
  'providesApis',
  'parent',
  'children',
]);

/** Which namespaces a namespace accepts relations from, besides itself. */
export interface RelationPolicy {
  readonly everyone: boolean;
  readonly namespaces: ReadonlySet<string>;
}

export const ACCEPTS_NONE: RelationPolicy = { everyone: false, namespaces: new Set() };

/** The longest annotation value read; the rest of a longer one is ignored. */
const ANNOTATION_MAX_LENGTH = 16_384;

/** Reads the annotation: names separated by commas, blanks ignored, `*` for every namespace. */
export function parseRelationPolicy(annotation: string | undefined): RelationPolicy {
  if (annotation === undefined) return ACCEPTS_NONE;
  const names = annotation
    .slice(0, ANNOTATION_MAX_LENGTH)
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.includes('*')) return { everyone: true, namespaces: new Set() };
  return { everyone: false, namespaces: new Set(names) };
}

/** Whether namespace `to`, with `policy`, accepts relations from namespace `from`. A namespace always accepts its own. */
export function acceptsFrom(policy: RelationPolicy, from: string, to: string): boolean {
  return from === to || policy.everyone || policy.namespaces.has(from);
}

/** Whether a reference in this spec field needs the consent of the referenced entity's namespace. */
export function needsConsent(field: string): boolean {
  return CONSENT_FIELDS.has(field);
}
