/**
 * Spec fields shared by every kind (Backstage's common metadata, kept in `spec` because a
 * custom resource's `metadata` is Kubernetes' own), the reference field builders, and the
 * object envelope.
 *
 * Every string and list is bounded: the API server refuses an oversized object at admission,
 * and the bounds keep the cost of the CEL rules inside the API server's budget.
 */
import { z } from 'zod';
import { NAME_MAX_LENGTH, REF_MAX_LENGTH } from './refs.ts';

export const API_GROUP = 'catalog.backlot.dev';
export const API_VERSION_NAME = 'v1alpha1';
export const API_VERSION = `${API_GROUP}/${API_VERSION_NAME}`;

/** Bounds shared by several kinds, named so tests and docs can quote them. */
export const LIMITS = {
  title: 256,
  description: 4096,
  tag: 63,
  tags: 32,
  links: 32,
  url: 2048,
  linkText: 256,
  linkToken: 64,
  /** `type`, `lifecycle` and similar free-form words. */
  word: 63,
  /** dependsOn, dependencyOf, providesApis, consumesApis. */
  refList: 64,
} as const;

/** Backstage's tag rule: lower-case words of letters, digits and `:+#`, joined by dashes. */
export const TAG_PATTERN = '^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$';

/** CEL rules travel with the schema as OpenAPI extension metadata; crd.ts copies them verbatim. */
export interface CelRule {
  rule: string;
  message: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export function celRules(...rules: CelRule[]): { 'x-kubernetes-validations': CelRule[] } {
  return { 'x-kubernetes-validations': rules };
}

/** A list whose items are unique scalars; server-side apply merges it by value. */
export const SET_LIST = { 'x-kubernetes-list-type': 'set' } as const;

/** A non-empty free-form word such as a type or a lifecycle stage. */
export function word(description: string) {
  return z.string().min(1).max(LIMITS.word).describe(description);
}

/**
 * One entity reference. Its grammar and per-field kind rules are enforced by CEL rules that
 * crd.ts derives from the reference table in kinds.ts.
 */
export function refString(description: string) {
  return z.string().max(REF_MAX_LENGTH).describe(description);
}

/** A list of entity references, unique, bounded. */
export function refList(description: string, maxItems: number = LIMITS.refList) {
  return z.array(z.string().max(REF_MAX_LENGTH)).max(maxItems).meta(SET_LIST).describe(description);
}

const ABSOLUTE_URL_RULE: CelRule = {
  rule: "isURL(self) && self.matches('^[A-Za-z][-+.A-Za-z0-9]*:[^ ]+$')",
  message: 'url must be an absolute URL with a scheme, e.g. https://grafana.example.com/d/checkout',
  messageExpression: "'url \"' + self + '\" is not an absolute URL: use a scheme and a location, e.g. https://grafana.example.com/d/checkout'",
};

/** The TypeScript twin of ABSOLUTE_URL_RULE, so zod and the API server agree. */
export function isAbsoluteUrl(value: string): boolean {
  return /^[A-Za-z][-+.A-Za-z0-9]*:[^ ]+$/.test(value) && URL.canParse(value);
}

export const Link = z
  .object({
    url: z
      .string()
      .min(1)
      .max(LIMITS.url)
      .refine(isAbsoluteUrl, { message: ABSOLUTE_URL_RULE.message })
      .meta(celRules(ABSOLUTE_URL_RULE))
      .describe('The target, an absolute URL such as https://grafana.example.com/d/checkout.'),
    title: z.string().max(LIMITS.linkText).optional().describe('The text shown for the link.'),
    icon: z.string().max(LIMITS.linkToken).optional().describe('A key for an icon a portal may show beside the link, e.g. dashboard, docs, chat.'),
    type: z.string().max(LIMITS.linkToken).optional().describe('What the link points to, for grouping, e.g. runbook, dashboard, repository.'),
  })
  .describe('A link to an external resource about the entity.');
export type Link = z.infer<typeof Link>;

/** Backstage's common metadata, in spec: title, description, tags, links. */
export const commonSpecFields = {
  title: z.string().max(LIMITS.title).optional().describe('A human-readable name for display, e.g. "Checkout Service". The object name stays the identifier.'),
  description: z.string().max(LIMITS.description).optional().describe('A short human-readable description of the entity.'),
  tags: z
    .array(z.string().min(1).max(LIMITS.tag).regex(new RegExp(TAG_PATTERN)))
    .max(LIMITS.tags)
    .meta(SET_LIST)
    .optional()
    .describe(
      'Single-word classifiers, e.g. [java, payments]: lower-case words of letters, digits and :+# joined by dashes, at most 63 characters each; unique, at most 32.',
    ),
  links: z.array(Link).max(LIMITS.links).optional().describe('Links to external resources about the entity: dashboards, runbooks, repositories; at most 32.'),
};

/**
 * The `metadata` Backlot reads; other fields are kept as they are. The API server validates
 * metadata itself, so this only types it.
 */
export const EntityMeta = z.looseObject({
  name: z.string().max(NAME_MAX_LENGTH),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type EntityMeta = z.infer<typeof EntityMeta>;

/** The whole object of one kind, as read from the API server. */
export function entityObject<K extends string, S extends z.ZodType, T extends z.ZodType>(kind: K, spec: S, status: T) {
  return z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: EntityMeta,
    spec,
    status: status.optional(),
  });
}
