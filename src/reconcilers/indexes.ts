/**
 * The indexes of the catalog's caches, the look-ups the World answers without a scan: which
 * entities name a reference in a field, which reference it at all, a CronJob's Jobs, a
 * Service's EndpointSlices. (Every cache also has the Store's own namespace index.)
 */
import type { EntityKind, EntityObject } from '../api/kinds.ts';
import type { KubeObject } from '../k8s/object.ts';
import type { IndexFunc } from '../runtime/store.ts';
import type { EntityParser } from './entities.ts';

/** The label that names an EndpointSlice's Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Entities by `field=ref`, for every reference of their spec. */
export const REFS_INDEX = 'refs';
/** Entities by every reference of their spec, whatever the field. */
export const REFERENCED_INDEX = 'referenced';
/** Objects by the uid of their controller. */
export const CONTROLLER_INDEX = 'controller';
/** EndpointSlices by their Service, `namespace/name`. */
export const SERVICE_INDEX = 'service';

/** `field=ref` for every reference: "which entities name X in field F". */
export function refsIndex(kind: EntityKind, parser: EntityParser): IndexFunc<EntityObject> {
  return (obj) => parser.parsed(kind, obj).refs.map((r) => `${r.field}=${r.ref}`);
}

/** Every entity referenced, whatever the field: "who must hear when X changes". */
export function referencedIndex(kind: EntityKind, parser: EntityParser): IndexFunc<EntityObject> {
  return (obj) => [...new Set(parser.parsed(kind, obj).refs.map((r) => r.ref))];
}

/** The uid of an object's controller (ownerReferences with controller: true). */
export const byControllerUid: IndexFunc<KubeObject> = (obj) => {
  const owners = (obj.metadata?.ownerReferences ?? []) as { uid?: string; controller?: boolean }[];
  const controller = owners.find((o) => o.controller);
  return controller?.uid ? [controller.uid] : [];
};

/** An EndpointSlice's Service, as namespace/name. */
export const byServiceName: IndexFunc<KubeObject> = (obj) => {
  const service = obj.metadata?.labels?.[SERVICE_NAME_LABEL];
  return service ? [`${obj.metadata?.namespace ?? ''}/${service}`] : [];
};

/** An entity cache's indexes, parsing through `parser` (the World's, so that both share each parse). */
export function entityIndexers(kind: EntityKind, parser: EntityParser): Record<string, IndexFunc<EntityObject>> {
  return { [REFS_INDEX]: refsIndex(kind, parser), [REFERENCED_INDEX]: referencedIndex(kind, parser) };
}

export function jobIndexers(): Record<string, IndexFunc<KubeObject>> {
  return { [CONTROLLER_INDEX]: byControllerUid };
}

export function sliceIndexers(): Record<string, IndexFunc<KubeObject>> {
  return { [SERVICE_INDEX]: byServiceName };
}
