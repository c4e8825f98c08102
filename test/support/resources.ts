/** Built-in resources the tests exercise the runtime with; the operator itself never reads them. */
import type { ResourceRef } from '../../src/k8s/resource.ts';

export const CONFIGMAPS: ResourceRef = Object.freeze({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
export const SECRETS: ResourceRef = Object.freeze({ group: '', version: 'v1', resource: 'secrets', namespaced: true });
