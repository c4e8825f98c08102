/**
 * `GET /catalog-info.yaml`: the operator's catalog as `backlot export` writes it, built from
 * the informer caches at each request, for a Backstage instance to register as a URL location.
 *
 * Backstage deletes the entities a location stops listing, so a partial answer would wipe
 * entities from Backstage: until every informer has synced the answer is 503, never a
 * partial catalog. The body carries an ETag; Backstage's URL reader sends it back and gets
 * 304 while nothing changed.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { World } from '../reconcilers/world.ts';
import { ENTITY_KINDS } from '../reconcilers/world.ts';
import { renderCatalogInfo } from './export.ts';

export const CATALOG_INFO_PATH = '/catalog-info.yaml';
/** RFC 9512's media type for YAML. */
export const YAML_CONTENT_TYPE = 'application/yaml; charset=utf-8';

export interface CatalogInfoOptions {
  /** The Kubernetes namespace written as Backstage's `default` namespace. */
  defaultNamespace: string;
  /** True once every informer has synced; before that the catalog is incomplete. */
  synced: () => boolean;
}

export interface CatalogInfoResponse {
  status: 200 | 304 | 503;
  headers: Record<string, string>;
  body: string;
}

/** The response to a GET, given the request's If-None-Match header. Pure but for reading the World. */
export function catalogInfoResponse(world: World, options: CatalogInfoOptions, ifNoneMatch?: string): CatalogInfoResponse {
  if (!options.synced()) {
    return { status: 503, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Retry-After': '5' }, body: 'the catalog is not synced yet: try again shortly\n' };
  }
  const entities = ENTITY_KINDS.flatMap((kind) => world.caches.entities[kind].list());
  const body = renderCatalogInfo(entities, { defaultNamespace: options.defaultNamespace });
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const headers = { 'Content-Type': YAML_CONTENT_TYPE, ETag: etag, 'Cache-Control': 'no-cache' };
  const matches = ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => t.trim() === etag || t.trim() === '*');
  return matches ? { status: 304, headers, body: '' } : { status: 200, headers, body };
}

/** An HTTP handler for CATALOG_INFO_PATH, in the (req, res) shape of node:http (GET and HEAD). */
export function catalogInfoHandler(world: World, options: CatalogInfoOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const ifNoneMatch = req.headers['if-none-match'];
    const response = catalogInfoResponse(world, options, Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch);
    res.writeHead(response.status, response.headers);
    res.end(req.method === 'HEAD' ? undefined : response.body);
  };
}
