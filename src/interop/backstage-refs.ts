/**
 * Entity references as Backstage writes them, `[<kind>:][<namespace>/]<name>`, where the name
 * may hold upper case and `_`, and their translation to the Kubernetes side and back.
 *
 * Import keeps the form the reference was written in (a bare `team-a` stays bare) and changes
 * only what has to change: the namespace Backstage calls `default` and names that were
 * renamed. Export writes canonical references, `kind:namespace/name`.
 */
import { formatMessage, kindAllowedMessage, kindRequiredMessage, textWithValue, type RefField } from '../api/refs.ts';
import { BACKSTAGE_DEFAULT_NAMESPACE, BACKSTAGE_KIND, BACKSTAGE_NAME, BACKSTAGE_NAMESPACE } from './backstage.ts';
import { kubernetesName } from './names.ts';
import { splitWrittenRef, type WrittenRef } from '../catalog/ref.ts';

/** Why a written reference is not a Backstage reference, or undefined when it is one. */
export function backstageRefProblem(parts: WrittenRef): string | undefined {
  if (parts.kind !== undefined && !BACKSTAGE_KIND.test(parts.kind)) return `the kind "${parts.kind}" is not a word of letters and digits`;
  if (parts.namespace !== undefined && !BACKSTAGE_NAMESPACE.test(parts.namespace.toLowerCase()))
    return `the namespace "${parts.namespace}" is not a Backstage namespace (a DNS label)`;
  if (!BACKSTAGE_NAME.test(parts.name)) return `the name "${parts.name}" is not a Backstage entity name (letters and digits with -, _ or . inside, at most 63)`;
  return undefined;
}

/** How import maps Backstage namespaces and names to Kubernetes ones. */
export interface NameMapping {
  /** The Kubernetes namespace of a Backstage namespace (lower case). */
  namespace(backstageNamespace: string): string;
  /** The Kubernetes name of an entity, given its kind (lower case), Kubernetes namespace and Backstage name. */
  name(kind: string, namespace: string, backstageName: string): string;
}

export function defaultNameMapping(defaultNamespace: string, renames: ReadonlyMap<string, string>): NameMapping {
  return {
    namespace: (ns) => (ns === BACKSTAGE_DEFAULT_NAMESPACE ? defaultNamespace : ns),
    name: (kind, namespace, backstageName) => renames.get(renameKey(kind, namespace, backstageName)) ?? kubernetesName(backstageName),
  };
}

/** The key of the rename table: kind, Kubernetes namespace and the Backstage name, lower case. */
export function renameKey(kind: string, namespace: string, backstageName: string): string {
  return `${kind}:${namespace}/${backstageName}`.toLowerCase();
}

export class RefRewriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefRewriteError';
  }
}

/**
 * The Kubernetes form of one reference held in `field` by an entity of Backstage namespace
 * `holderNamespace`. Throws RefRewriteError, worded like the API server's own rule, when the
 * reference is malformed, lacks a kind the field needs, or names a kind the field refuses.
 */
export function importRef(value: unknown, options: { field: RefField; holderNamespace: string; mapping: NameMapping }): string {
  const { field, mapping } = options;
  if (typeof value !== 'string')
    throw new RefRewriteError(
      `${field.list ? `${field.field} entry` : field.field} must be a string: use [<kind>:][<namespace>/]<name>, e.g. ${field.example}`,
    );
  const parts = splitWrittenRef(value);
  const problem = value === '' || parts.kind === '' || parts.namespace === '' || parts.name === '' ? 'a part is empty' : backstageRefProblem(parts);
  if (problem) throw new RefRewriteError(textWithValue(formatMessage(field), value, problem));
  if (parts.kind === undefined && !field.defaultKind) throw new RefRewriteError(textWithValue(kindRequiredMessage(field), value));
  const kind = (parts.kind ?? field.defaultKind ?? '').toLowerCase();
  if (!(field.allowedKinds as readonly string[]).includes(kind)) throw new RefRewriteError(textWithValue(kindAllowedMessage(field), value));
  const namespace = mapping.namespace((parts.namespace ?? options.holderNamespace).toLowerCase());
  const name = mapping.name(kind, namespace, parts.name);
  return `${parts.kind !== undefined ? `${kind}:` : ''}${parts.namespace !== undefined ? `${namespace}/` : ''}${name}`;
}
