/**
 * A resource the runtime lists and watches, named by group/version/resource as the API
 * server's URLs are, plus the request paths derived from it.
 */
export interface ResourceRef {
  /** '' for the core group. */
  group: string;
  version: string;
  /** The plural, lower-case resource name as in URLs: 'deployments'. */
  resource: string;
  namespaced: boolean;
}

/** The name metrics and logs use: `deployments.apps`, or `configmaps` for the core group. */
export function resourceName(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

function groupVersionPath(ref: ResourceRef): string {
  return ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
}

/** The collection path; for a namespaced resource, `namespace` undefined means all namespaces. */
export function collectionPath(ref: ResourceRef, namespace?: string): string {
  if (namespace !== undefined && !ref.namespaced) throw new Error(`${resourceName(ref)} is cluster-scoped: it has no namespace (got "${namespace}")`);
  const ns = namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${groupVersionPath(ref)}${ns}/${ref.resource}`;
}

export function objectPath(ref: ResourceRef, name: string, namespace?: string): string {
  if (ref.namespaced && namespace === undefined) throw new Error(`${resourceName(ref)} is namespaced: a namespace is required for "${name}"`);
  return `${collectionPath(ref, ref.namespaced ? namespace : undefined)}/${encodeURIComponent(name)}`;
}

/** The built-in resources Backlot reads or writes besides the workloads (api/workloads.ts). */
export const LEASES: ResourceRef = Object.freeze({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', namespaced: true });
export const NAMESPACES: ResourceRef = Object.freeze({ group: '', version: 'v1', resource: 'namespaces', namespaced: false });
export const JOBS: ResourceRef = Object.freeze({ group: 'batch', version: 'v1', resource: 'jobs', namespaced: true });
export const ENDPOINT_SLICES: ResourceRef = Object.freeze({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', namespaced: true });
