/**
 * The entities of a running Backstage, read through its catalog REST API for
 * `backlot import --from-backstage`:
 *
 * - `GET <catalog>/entities/by-query?limit=N&filter=kind=component&filter=kind=system...`,
 *   then `GET <catalog>/entities/by-query?limit=N&cursor=<pageInfo.nextCursor>` until a page
 *   has no `nextCursor` (the cursor paging of @backstage/plugin-catalog-backend, which
 *   @backstage/catalog-client's streamEntities uses too). Only the kinds Backlot models are
 *   asked for: a catalog's Users and Locations are not downloaded to be thrown away.
 * - `GET <catalog>/entity-facets?facet=kind`: how many entities of every other kind the
 *   catalog holds, so that import reports them as skipped, as it does for files.
 *
 * `<catalog>` is `<URL>/api/catalog`, or the URL itself when it already ends so. The token
 * goes in `Authorization: Bearer` and in no message. Bounded: MAX_IMPORT_DOCUMENTS entities
 * (checked against the first page's totalItems before more is read), a page size, a time
 * limit per request, and MAX_IMPORT_FILE_BYTES per answer. Redirects are not followed (the
 * token would go to another address): the message names where to point instead.
 *
 * Of what Backstage adds to the entities it serves, import leaves out relations, status, uid,
 * etag and the managed-by annotations, as for files; here `backstage.io/view-url` goes too
 * when it is the one Backstage derived (the URL of the location it read the entity from).
 */
import { KINDS } from '../api/kinds.ts';
import { isRecord, modelledKind } from './backstage.ts';
import { MAX_IMPORT_DOCUMENTS, MAX_IMPORT_FILE_BYTES } from './import.ts';
import type { SourceDocument } from './yaml.ts';

/** The environment variable the token is read from when --token is not given. */
export const BACKSTAGE_TOKEN_ENV = 'BACKSTAGE_TOKEN';
/** Entities asked for in one request, unless told otherwise. */
export const DEFAULT_PAGE_SIZE = 100;
/** The most entities one request may ask for. */
export const MAX_PAGE_SIZE = 1000;
/** How long one request may take, answer included, unless told otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The most one answer may hold: a page of entities, or the facets. */
export const MAX_ANSWER_BYTES = MAX_IMPORT_FILE_BYTES;
/** The most all the pages of one import may hold together. */
export const MAX_CATALOG_BYTES = 128 * 1024 * 1024;

/** Reading the catalog failed; the message says why and what to do, and never holds the token. */
export class BackstageApiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackstageApiError';
  }
}

/** A URL given to --from-backstage that cannot be used; the message says why. */
export class BackstageUrlError extends Error {}

/** The catalog API's base URL for what the user gave: a Backstage backend's URL, or its /api/catalog. */
export function catalogApiUrl(given: string): URL {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw new BackstageUrlError(`"${given}" is not a URL: give the Backstage backend's address, e.g. https://backstage.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new BackstageUrlError(`"${url.protocol}" URLs are not read: give an http or https address of the Backstage backend`);
  if (url.username !== '' || url.password !== '')
    throw new BackstageUrlError(`the URL holds credentials: pass the token with --token or ${BACKSTAGE_TOKEN_ENV} instead`);
  if (url.search !== '' || url.hash !== '')
    throw new BackstageUrlError(`the URL has a query or fragment: give the Backstage backend's address alone, e.g. ${url.origin}`);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = path.endsWith('/api/catalog') ? path : `${path}/api/catalog`;
  return url;
}

/** A token as an Authorization header carries it: printable ASCII without spaces. */
export function checkToken(token: string, source: string): void {
  if (!/^[\x21-\x7e]+$/.test(token))
    throw new BackstageUrlError(`the token from ${source} is empty or holds spaces, line breaks or other characters a bearer token cannot hold`);
}

export interface ReadCatalogOptions {
  /** The catalog API's base URL (catalogApiUrl). */
  url: URL;
  token?: string;
  pageSize?: number;
  requestTimeoutMs?: number;
  /** Stops the reading (SIGINT). */
  signal?: AbortSignal;
}

export interface BackstageCatalog {
  /**
   * The entities of the kinds Backlot models, in the order Backstage gave them, as documents
   * of one source named by the catalog's URL (`index` counts the entities read, from 0).
   */
  documents: SourceDocument[];
  /** How many entities of each other kind the catalog holds, by kind as Backstage spells it. */
  skipped: Map<string, number>;
  /** Requests made for the entities. */
  pages: number;
}

const kb = (bytes: number) => (bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`);

/** Reads the catalog's entities of the modelled kinds, page after page, and counts the rest. */
export async function readBackstageCatalog(options: ReadCatalogOptions): Promise<BackstageCatalog> {
  const client = new CatalogClient(options);
  const skipped = await client.skippedKinds();
  const documents: SourceDocument[] = [];
  const what = `GET ${client.display}${ENTITIES_PATH}`;
  let cursor: string | undefined;
  let pages = 0;
  for (;;) {
    const params = new URLSearchParams({ limit: String(client.pageSize) });
    if (cursor === undefined) for (const k of KINDS) params.append('filter', `kind=${k.refKind}`);
    else params.set('cursor', cursor);
    const page = parsePage(await client.getJson(ENTITIES_PATH, params), what);
    pages++;
    if (pages === 1 && page.totalItems !== undefined && page.totalItems > MAX_IMPORT_DOCUMENTS) throw tooMany(what, page.totalItems);
    for (const item of page.items) documents.push({ file: client.display, index: documents.length, value: withoutDerivedViewUrl(item) });
    if (documents.length > MAX_IMPORT_DOCUMENTS) throw tooMany(what);
    if (page.nextCursor === undefined) break;
    if (page.items.length === 0 || page.nextCursor === cursor) {
      throw new BackstageApiError(
        `${what}: a page with ${page.items.length === 0 ? 'no entities' : 'the same cursor again'} and a next cursor: stopped after ${pages} ${pages === 1 ? 'page' : 'pages'}, as paging would not end`,
      );
    }
    cursor = page.nextCursor;
  }
  return { documents, skipped, pages };
}

const VIEW_URL_ANNOTATION = 'backstage.io/view-url';
const LOCATION_ANNOTATION = 'backstage.io/managed-by-location';

/**
 * The entity without `backstage.io/view-url` when that is the URL of the location Backstage
 * read it from (what its AnnotateLocationEntityProcessor writes for a `url` location): once
 * the entity is in Backlot, Backstage reads it from Backlot and derives the annotation anew.
 * A view-url of the entity's own, pointing anywhere else, is kept.
 */
function withoutDerivedViewUrl(entity: unknown): unknown {
  const annotations = isRecord(entity) && isRecord(entity.metadata) && isRecord(entity.metadata.annotations) ? entity.metadata.annotations : undefined;
  const location = annotations?.[LOCATION_ANNOTATION];
  if (annotations && typeof location === 'string' && location.startsWith('url:') && annotations[VIEW_URL_ANNOTATION] === location.slice('url:'.length)) {
    delete annotations[VIEW_URL_ANNOTATION];
  }
  return entity;
}

const ENTITIES_PATH = '/entities/by-query';
const FACETS_PATH = '/entity-facets';

function tooMany(what: string, total?: number): BackstageApiError {
  const max = MAX_IMPORT_DOCUMENTS.toLocaleString('en');
  const held = total === undefined ? `more than ${max}` : total.toLocaleString('en');
  return new BackstageApiError(
    `${what}: the catalog holds ${held} entities of the kinds Backlot imports; one import reads ${max} at most: export the catalog to files and import them in parts, each with what it refers to`,
  );
}

interface Page {
  items: unknown[];
  nextCursor: string | undefined;
  totalItems: number | undefined;
}

function parsePage(body: unknown, what: string): Page {
  if (!isRecord(body) || !Array.isArray(body.items))
    throw new BackstageApiError(`${what}: the answer has no "items" list: is this a Backstage catalog backend (1.x or later)?`);
  const pageInfo = isRecord(body.pageInfo) ? body.pageInfo : {};
  const nextCursor = typeof pageInfo.nextCursor === 'string' && pageInfo.nextCursor !== '' ? pageInfo.nextCursor : undefined;
  const totalItems = typeof body.totalItems === 'number' && body.totalItems > 0 ? body.totalItems : undefined;
  return { items: body.items, nextCursor, totalItems };
}

/** GETs of the catalog API with the token, the time limit and the size limits; each failure a BackstageApiError. */
class CatalogClient {
  readonly display: string;
  readonly pageSize: number;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly signal: AbortSignal | undefined;
  private bytesRead = 0;

  constructor(options: ReadCatalogOptions) {
    this.display = options.url.href.replace(/\/$/, '');
    this.token = options.token;
    this.pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.signal = options.signal;
  }

  /** The catalog's kinds Backlot does not model, with their counts (entity-facets). */
  async skippedKinds(): Promise<Map<string, number>> {
    const body = await this.getJson(FACETS_PATH, new URLSearchParams({ facet: 'kind' }));
    const facets = isRecord(body) && isRecord(body.facets) ? body.facets.kind : undefined;
    if (!Array.isArray(facets))
      throw new BackstageApiError(`GET ${this.display}${FACETS_PATH}: the answer has no "kind" facet: is this a Backstage catalog backend?`);
    const skipped = new Map<string, number>();
    for (const f of facets) {
      if (!isRecord(f) || typeof f.value !== 'string' || typeof f.count !== 'number') continue;
      if (!modelledKind(f.value) && f.count > 0) skipped.set(f.value, (skipped.get(f.value) ?? 0) + f.count);
    }
    return skipped;
  }

  async getJson(path: string, query: URLSearchParams): Promise<unknown> {
    const url = `${this.display}${path}?${query.toString()}`;
    const what = `GET ${this.display}${path}`;
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(this.signal ? [this.signal] : [])];
    const signal = AbortSignal.any(signals);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.token !== undefined) headers.Authorization = `Bearer ${this.token}`;
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { headers, redirect: 'manual', signal });
      text = await this.readBounded(res, what);
    } catch (err) {
      if (err instanceof BackstageApiError) throw err;
      if (this.signal?.aborted) throw new BackstageApiError(`${what}: stopped`, { cause: err });
      if (signal.aborted) throw new BackstageApiError(`${what}: no answer within ${this.timeoutMs / 1000} s (--request-timeout)`, { cause: err });
      throw new BackstageApiError(`${what}: cannot reach Backstage: ${networkCause(err)}`, { cause: err });
    }
    if (res.status !== 200) throw new BackstageApiError(`${what}: ${statusAdvice(res, text, this.token !== undefined)}`);
    const type = res.headers.get('content-type') ?? '';
    if (!/^application\/([\w.+-]*\+)?json\b/i.test(type)) {
      throw new BackstageApiError(
        `${what}: the answer is ${type ? type.split(';')[0] : 'of no content type'}, not JSON: give the address of Backstage's backend (where /api/catalog is served), not of its web app`,
      );
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new BackstageApiError(`${what}: the answer is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** The answer's text, read no further than MAX_ANSWER_BYTES, nor past MAX_CATALOG_BYTES in all. */
  private async readBounded(res: Response, what: string): Promise<string> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    const tooLarge = (limit: number, of: string) =>
      new BackstageApiError(
        `${what}: the answer is larger than ${kb(limit)}, the most import reads ${of}${of === 'in one answer' ? ': use a smaller --page-size' : ''}`,
      );
    if (!res.body) return '';
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      this.bytesRead += chunk.byteLength;
      // Leaving the loop cancels the body.
      if (size > MAX_ANSWER_BYTES) throw tooLarge(MAX_ANSWER_BYTES, 'in one answer');
      if (this.bytesRead > MAX_CATALOG_BYTES) throw tooLarge(MAX_CATALOG_BYTES, 'from one catalog in all');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** Backstage's own error message from its JSON error body (`{error: {name, message}}`), if any, shortened. */
function backstageMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    const message = isRecord(body) && isRecord(body.error) ? body.error.message : undefined;
    if (typeof message === 'string' && message !== '') return message.length > 300 ? `${message.slice(0, 300)}...` : message;
  } catch {
    // Not JSON: no message of Backstage's.
  }
  return undefined;
}

function statusAdvice(res: Response, text: string, withToken: boolean): string {
  const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  const said = backstageMessage(text);
  const saying = said ? ` (Backstage says: ${said})` : '';
  switch (res.status) {
    case 401:
      return withToken
        ? `${status}${saying}: the token was refused: check it, and that backend.auth.externalAccess lists it (a static token or a JWKS one)`
        : `${status}${saying}: the catalog needs a token: set ${BACKSTAGE_TOKEN_ENV} (or pass --token) to one that backend.auth.externalAccess lists`;
    case 403:
      return `${status}${saying}: the token may not read the catalog: allow its subject catalog.entity.read in Backstage's permission policy, or the externalAccess entry's accessRestrictions`;
    case 404:
      return `${status}: no Backstage catalog API here: give the Backstage backend's base URL (the catalog is read under /api/catalog), e.g. https://backstage.example.com`;
    default:
      if (res.status >= 300 && res.status < 400) {
        const location = res.headers.get('location');
        return `${status}: redirected${location ? ` to ${location}` : ''}; redirects are not followed (the token would go along): give the address it names`;
      }
      return `${status}${saying}`;
  }
}

/** Why a request could not be made at all: the system error undici wraps in "fetch failed". */
function networkCause(err: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (a test's VM context).
  const fields = (e: unknown) => (typeof e === 'object' && e !== null ? (e as { message?: unknown; code?: unknown; cause?: unknown }) : {});
  let e = fields(err);
  for (let depth = 0; depth < 4; depth++) {
    const cause = fields(e.cause);
    if (typeof e.code === 'string' && typeof cause.code !== 'string') return `${String(e.message)}${String(e.message).includes(e.code) ? '' : ` (${e.code})`}`;
    if (cause.message === undefined) break;
    e = cause;
  }
  return typeof e.message === 'string' ? e.message : String(err);
}
