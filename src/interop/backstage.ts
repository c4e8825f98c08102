/**
 * Backstage's catalog model as far as the interchange needs it: the descriptor envelope,
 * which kinds and spec fields Backlot models, Backstage's naming rules, and the annotations
 * Backlot adds to keep what a Kubernetes object cannot hold as it is. Pure: no I/O.
 */
import { KINDS, type KindInfo } from '../api/kinds.ts';

/** The apiVersion `backlot export` writes. */
export const BACKSTAGE_API_VERSION = 'backstage.io/v1alpha1';
/** The apiVersions Backstage accepts for its core kinds. */
export const BACKSTAGE_API_VERSIONS: readonly string[] = ['backstage.io/v1alpha1', 'backstage.io/v1beta1'];
/** Backstage's default entity namespace. */
export const BACKSTAGE_DEFAULT_NAMESPACE = 'default';

/** The original Backstage name of an entity whose Kubernetes name had to differ. */
export const BACKSTAGE_NAME_ANNOTATION = 'backlot.dev/backstage-name';
/**
 * Backstage fields Backlot does not model (a System's `type`, a Group's `profile.picture`,
 * an API definition given as a `$text` placeholder...), as JSON `{"<dotted path>": value}`,
 * so that export gives them back.
 */
export const BACKSTAGE_FIELDS_ANNOTATION = 'backlot.dev/backstage-fields';
/**
 * The largest BACKSTAGE_FIELDS_ANNOTATION import writes and export restores, in bytes of
 * UTF-8: room for every unmodelled field of a real descriptor, and a bound on what one
 * tenant's annotation costs each rendering of the served catalog.
 */
export const BACKSTAGE_FIELDS_MAX_BYTES = 64 * 1024;

export const KUBERNETES_ID_ANNOTATION = 'backstage.io/kubernetes-id';
export const KUBERNETES_LABEL_SELECTOR_ANNOTATION = 'backstage.io/kubernetes-label-selector';
export const KUBERNETES_NAMESPACE_ANNOTATION = 'backstage.io/kubernetes-namespace';

/**
 * Annotations Backstage's own processors write when it reads a location. They describe
 * where Backstage found the entity, which stops being true once Backlot serves it, so import
 * leaves them out.
 */
export const LOCATION_ANNOTATIONS: readonly string[] = ['backstage.io/managed-by-location', 'backstage.io/managed-by-origin-location', 'backstage.io/orphan'];

/**
 * What export writes for an API that has no definition (Backstage requires one); import
 * reads it as no definition, so the text never becomes one.
 */
export const MISSING_DEFINITION = 'The definition of this API is not recorded in the catalog.\n';

/** Metadata fields a Backstage server sets on the entities it serves; import leaves them out. */
export const SERVER_METADATA_FIELDS: readonly string[] = ['uid', 'etag', 'generation'];
/** Top-level fields a Backstage server adds to the entities it serves; import leaves them out. */
export const SERVER_ENTITY_FIELDS: readonly string[] = ['relations', 'status'];

/** Backstage metadata fields that Backlot keeps in `spec` (a custom resource's metadata is Kubernetes' own). */
export const METADATA_IN_SPEC = ['title', 'description', 'tags', 'links'] as const;

/** Backstage's name rule: 1 to 63 letters and digits, with `-`, `_` and `.` inside. */
export const BACKSTAGE_NAME = /^[A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?$/;
/** Backstage's namespace rule: a DNS label (compared case-insensitively). */
export const BACKSTAGE_NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Backstage's kind rule: a letter, then letters and digits. */
export const BACKSTAGE_KIND = /^[A-Za-z][A-Za-z0-9]{0,62}$/;

/** A Kubernetes object name as Backlot's entities take it: a DNS subdomain of at most 63 characters. */
export const KUBERNETES_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const KUBERNETES_NAME_MAX = 63;

/** A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters. */
export const QUALIFIED_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Every key a Backstage entity of this kind has in spec, in Backstage's order. */
export function backstageSpecFields(info: KindInfo): string[] {
  const common = new Set<string>([...METADATA_IN_SPEC, 'workloads']);
  return Object.keys(info.spec.shape).filter((k) => !common.has(k));
}

/** The registry entry for a Backstage kind, compared case-insensitively as Backstage does. */
export function modelledKind(kind: string): KindInfo | undefined {
  const lower = kind.toLowerCase();
  return KINDS.find((k) => k.refKind === lower);
}

/** A Backstage descriptor, as read from catalog-info.yaml or written by export. */
export interface BackstageEntity {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    title?: string;
    description?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    tags?: string[];
    links?: Array<Record<string, unknown>>;
    [field: string]: unknown;
  };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
