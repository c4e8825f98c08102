/**
 * Server-side apply under Backlot's one field manager. An apply names only the fields Backlot
 * owns; the API server merges them with everyone else's, and fields Backlot applied before but
 * leaves out now are removed, which is how a claim that ends takes its annotations with it.
 */
import type { KubeObject } from './object.ts';
import { objectPath, type ResourceRef } from './resource.ts';
import type { RestClient } from './rest.ts';

export const FIELD_MANAGER = 'backlot';

export interface ApplyRequest {
  resource: ResourceRef;
  namespace: string;
  name: string;
  /** The partial object: apiVersion, kind, metadata.name/namespace and Backlot's fields. */
  body: KubeObject;
  /** Apply to the status subresource. */
  status?: boolean;
  signal?: AbortSignal;
}

/**
 * What an apply answers with: the object's metadata alone (PartialObjectMetadata). Backlot
 * reads nothing else of it, and the whole object would cost the API server an encoding of
 * spec and status, and Backlot a parse, on every write.
 */
export const METADATA_ONLY = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';

/**
 * Backlot's bodies are built from the same schemas as its CRDs, so the API server's check for
 * unknown fields has nothing to find; left at its default (Warn) it parses every body a
 * second time, strictly, to look, which the API server pays for on every write (its share is
 * in docs/benchmarks.md), and answers with warnings nobody reads.
 */
export const FIELD_VALIDATION = 'Ignore';

/** A server-side apply: what the reconcilers write through (a fake one in their tests). */
export type Apply = (req: ApplyRequest) => Promise<KubeObject>;

/** Applies `req.body`; resolves with the object's metadata after the write. */
export async function apply(client: Pick<RestClient, 'request'>, req: ApplyRequest): Promise<KubeObject> {
  const path = objectPath(req.resource, req.name, req.namespace) + (req.status ? '/status' : '');
  return client.request<KubeObject>({
    method: 'PATCH',
    path,
    query: { fieldManager: FIELD_MANAGER, force: true, fieldValidation: FIELD_VALIDATION },
    contentType: 'application/apply-patch+yaml',
    accept: METADATA_ONLY,
    body: req.body,
    ...(req.signal ? { signal: req.signal } : {}),
  });
}

/** The managedFields entries of Backlot's field manager (a workload cache keeps only a mark of them: reconcilers/informers.ts). */
export function ownManagedFields(obj: KubeObject): { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[] {
  const entries = (obj.metadata?.managedFields ?? []) as { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[];
  return entries.filter((e) => e.manager === FIELD_MANAGER);
}
