/**
 * `GET /catalog-info.yaml`: the operator's catalog as `backlot export` writes it, built from
 * the informer caches, for a Backstage instance to register as a URL location; and
 * `GET /catalog-info/apis/<namespace>/<name>/definition`, each API's definition.
 *
 * Backstage deletes the entities a location stops listing, so a partial answer would wipe
 * entities from Backstage: until every informer has synced the answer is 503, never a
 * partial catalog. The body carries an ETag; Backstage's URL reader sends it back and gets
 * 304 while nothing changed. The body is rendered once per change of the entities other
 * than in status (the caches' metadata versions), not per request nor per status write: a
 * 304 renders and hashes nothing.
 *
 * The entity caches do not keep API definitions (up to 1 MiB each; see entityTransform), so
 * the catalog gives each as a Backstage `$text` placeholder relative to the catalog's URL,
 * which Backstage resolves against the location: the second route, which reads that one API
 * from the API server. It answers only for APIs the catalog holds, a few at a time. Its ETag
 * is the API's uid and generation (the definition is spec; status writes leave the generation
 * alone), so a client that sends it back gets 304 from the cache, with no read at all.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { isNotFound, narrowError } from '../k8s/errors.ts';
import { objectPath } from '../k8s/resource.ts';
import type { RestClient } from '../k8s/rest.ts';
import type { CacheReader } from '../runtime/store.ts';
import { ENTITY_KINDS, entityResource, type EntityKind, type EntityObject } from '../api/kinds.ts';
import { BACKSTAGE_NAMESPACE, KUBERNETES_NAME, KUBERNETES_NAME_MAX } from './backstage.ts';
import { renderCatalogInfo } from './export.ts';

export const CATALOG_INFO_PATH = '/catalog-info.yaml';
/** Every API definition is served under this prefix, at `<prefix><namespace>/<name>/definition`. */
export const DEFINITIONS_PREFIX = '/catalog-info/apis/';
/** RFC 9512's media type for YAML. */
export const YAML_CONTENT_TYPE = 'application/yaml; charset=utf-8';
const TEXT_CONTENT_TYPE = 'text/plain; charset=utf-8';
/**
 * Definitions read from the API server at once, at most (each up to 1 MiB, parsed whole);
 * past that the answer is 503 with Retry-After, and Backstage reads it on a later pass.
 */
export const MAX_DEFINITION_READS = 4;
const DEFINITION_READ_TIMEOUT_MS = 10_000;

/**
 * What a caller must be allowed, every one, to be served the export on the secure metrics
 * server: list each catalog kind cluster-wide, i.e. read the whole catalog through the API
 * server itself (API.md: never served to a caller who could not list the catalog).
 */
export const CATALOG_READ_ACCESS = Object.freeze(
  ENTITY_KINDS.map((kind) => {
    const { group, resource } = entityResource(kind);
    return Object.freeze({ kind: 'resource' as const, group, resource, verb: 'list' });
  }),
);

/** Where the definition of the API `namespace/name` is served. */
export function definitionPath(namespace: string, name: string): string {
  return `${DEFINITIONS_PREFIX}${namespace}/${name}/definition`;
}

/** What the export is built from: the entity caches (in the operator, its World's). */
export interface CatalogSource {
  readonly caches: { readonly entities: Readonly<Record<EntityKind, CacheReader<EntityObject>>> };
}

export interface CatalogInfoOptions {
  /** The Kubernetes namespace written as Backstage's `default` namespace. */
  defaultNamespace: string;
  /** True once every informer has synced; before that the catalog is incomplete. */
  synced: () => boolean;
  /** Where an entity served without some of its fields is logged, once per rendering. */
  logger?: Logger;
}

export interface CatalogInfoResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const text = (status: number, body: string, headers: Record<string, string> = {}): CatalogInfoResponse => ({
  status,
  headers: { 'Content-Type': TEXT_CONTENT_TYPE, ...headers },
  body,
});
const NOT_SYNCED = text(503, 'the catalog is not synced yet: try again shortly\n', { 'Retry-After': '5' });

/**
 * The responses to GETs of CATALOG_INFO_PATH, given each request's If-None-Match header.
 * It keeps the last rendering and renders again only when an entity cache's metadata
 * version has moved.
 */
export function catalogInfoResponder(catalog: CatalogSource, options: CatalogInfoOptions): (ifNoneMatch?: string) => CatalogInfoResponse {
  const caches = catalog.caches.entities;
  const exportOptions = {
    defaultNamespace: options.defaultNamespace,
    // Relative to the catalog's own URL, as Backstage resolves a placeholder: it works behind a proxy's path prefix too.
    definitionUrl: (namespace: string, name: string) => `.${definitionPath(namespace, name)}`,
    onProblem: (p: { entity: string; message: string }) =>
      options.logger?.warn({ entity: p.entity, problem: p.message }, 'entity served without some of its fields'),
  };
  let kept: { state: string; headers: Record<string, string>; body: string } | undefined;
  const current = () => {
    const state = ENTITY_KINDS.map((kind) => caches[kind].metadataVersion).join('.');
    if (kept?.state !== state) {
      const body = renderCatalogInfo(
        ENTITY_KINDS.flatMap((kind) => caches[kind].list()),
        exportOptions,
      );
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      kept = { state, headers: { 'Content-Type': YAML_CONTENT_TYPE, ETag: etag, 'Cache-Control': 'no-cache' }, body };
    }
    return kept;
  };
  return (ifNoneMatch) => {
    if (!options.synced()) return NOT_SYNCED;
    const { headers, body } = current();
    return matchesEtag(ifNoneMatch, headers.ETag!) ? { status: 304, headers, body: '' } : { status: 200, headers, body };
  };
}

/** Whether an If-None-Match header (a list of entity tags, weak or strong, or `*`) names `etag`. */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  return ifNoneMatch !== undefined && ifNoneMatch.split(',').some((t) => ['*', etag, `W/${etag}`].includes(t.trim()));
}

/** The If-None-Match header of a request, its repeats joined. */
function ifNoneMatchOf(req: IncomingMessage): string | undefined {
  const value = req.headers['if-none-match'];
  return Array.isArray(value) ? value.join(',') : value;
}

/** A definition's entity tag: its API's uid and generation; undefined without them. */
function definitionEtag(api: EntityObject | undefined): string | undefined {
  const m = api?.metadata;
  return m?.uid && m.generation !== undefined ? `"${m.uid}.${m.generation}"` : undefined;
}

/** An HTTP handler for CATALOG_INFO_PATH, in the (req, res) shape of node:http (GET and HEAD). */
export function catalogInfoHandler(catalog: CatalogSource, options: CatalogInfoOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const respond = catalogInfoResponder(catalog, options);
  return (req, res) => send(req, res, respond(ifNoneMatchOf(req)));
}

export interface DefinitionOptions {
  /** The operator's client: reads one API object. */
  client: Pick<RestClient, 'request'>;
  synced: () => boolean;
  logger: Logger;
  /** Reads at once, at most; MAX_DEFINITION_READS by default. */
  maxReads?: number;
}

const PATH = new RegExp(`^${DEFINITIONS_PREFIX}([^/]*)/([^/]*)/definition$`);

/**
 * The responses to GETs under DEFINITIONS_PREFIX: the API's `spec.definition` as text, read
 * from the API server. 404 for an API the catalog does not hold or that has no definition;
 * 400 for a namespace or name that is not a Kubernetes name (never sent to the API server);
 * 304 when If-None-Match names the cached API's entity tag (see definitionEtag).
 */
export function definitionResponder(catalog: CatalogSource, options: DefinitionOptions): (path: string, ifNoneMatch?: string) => Promise<CatalogInfoResponse> {
  const maxReads = options.maxReads ?? MAX_DEFINITION_READS;
  let reading = 0;
  return async (path, ifNoneMatch) => {
    const match = PATH.exec(path);
    if (!match) return text(404, `not found: API definitions are at ${definitionPath('<namespace>', '<name>')}\n`);
    const [, namespace = '', name = ''] = match;
    if (!BACKSTAGE_NAMESPACE.test(namespace) || !KUBERNETES_NAME.test(name) || name.length > KUBERNETES_NAME_MAX) {
      return text(400, 'the namespace and name must be Kubernetes names (lower-case letters, digits, "-" and ".")\n');
    }
    if (!options.synced()) return NOT_SYNCED;
    const missing = text(404, `API ${namespace}/${name} has no definition in the catalog\n`);
    const cached = catalog.caches.entities.API.get(`${namespace}/${name}`);
    if (typeof cached?.spec?.definition !== 'string') return missing;
    const cachedEtag = definitionEtag(cached);
    if (cachedEtag !== undefined && matchesEtag(ifNoneMatch, cachedEtag)) {
      return { status: 304, headers: { 'Content-Type': TEXT_CONTENT_TYPE, ETag: cachedEtag, 'Cache-Control': 'no-cache' }, body: '' };
    }
    if (reading >= maxReads) return text(503, 'too many definitions are being read: try again shortly\n', { 'Retry-After': '1' });
    reading++;
    try {
      const api = await options.client.request<EntityObject>({
        path: objectPath(entityResource('API'), name, namespace),
        timeoutMs: DEFINITION_READ_TIMEOUT_MS,
      });
      const definition = api.spec?.definition;
      const etag = definitionEtag(api);
      return typeof definition === 'string'
        ? { status: 200, headers: { 'Content-Type': TEXT_CONTENT_TYPE, 'Cache-Control': 'no-cache', ...(etag ? { ETag: etag } : {}) }, body: definition }
        : missing;
    } catch (err) {
      if (isNotFound(err)) return missing;
      options.logger.warn({ namespace, name, err: narrowError(err).message }, 'reading an API definition failed');
      return text(502, 'the API could not be read from the Kubernetes API server\n');
    } finally {
      reading--;
    }
  };
}

/** An HTTP handler for every path under DEFINITIONS_PREFIX (GET and HEAD). */
export function definitionHandler(catalog: CatalogSource, options: DefinitionOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const respond = definitionResponder(catalog, options);
  return async (req, res) => send(req, res, await respond((req.url ?? '/').split('?')[0]!, ifNoneMatchOf(req)));
}

function send(req: IncomingMessage, res: ServerResponse, response: CatalogInfoResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(req.method === 'HEAD' ? undefined : response.body);
}
