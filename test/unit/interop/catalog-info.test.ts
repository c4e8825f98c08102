import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { allEntities, buildWorld } from '../../../src/cli/cluster.ts';
import {
  CATALOG_INFO_PATH,
  catalogInfoHandler,
  catalogInfoResponder,
  definitionHandler,
  definitionPath,
  definitionResponder,
  DEFINITIONS_PREFIX,
  YAML_CONTENT_TYPE,
  type DefinitionOptions,
} from '../../../src/interop/catalog-info.ts';
import { renderCatalogInfo } from '../../../src/interop/export.ts';
import { KubeApiError } from '../../../src/k8s/errors.ts';
import type { KubeObject } from '../../../src/k8s/object.ts';
import type { RestRequest } from '../../../src/k8s/rest.ts';
import { DEFINITION_LEFT_OUT, entityTransform } from '../../../src/reconcilers/informers.ts';
import type { World } from '../../../src/reconcilers/world.ts';
import { ENTITY_KINDS, type EntityObject } from '../../../src/api/kinds.ts';
import type { Store } from '../../../src/runtime/store.ts';
import { startHttpServer, type RunningServer } from '../../../src/server/http.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';
import { examplesWorld } from '../cli/examples.ts';

/** The examples as the operator's caches hold them: through the entity transform. */
function servedWorld(): World {
  const examples = examplesWorld();
  const entities = Object.fromEntries(ENTITY_KINDS.map((kind) => [kind, examples.caches.entities[kind].list().map(entityTransform(kind))]));
  return buildWorld({ entities });
}

const definitionOf = (world: World, key: string) => world.caches.entities.API.get(key)?.spec?.definition;

describe('catalogInfoResponder', () => {
  const synced = { defaultNamespace: 'default', synced: () => true };

  it('answers with the export of every entity in the caches, API definitions as $text placeholders', () => {
    const world = servedWorld();
    const res = catalogInfoResponder(world, synced)();
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toBe(YAML_CONTENT_TYPE);
    expect(res.body).toBe(
      renderCatalogInfo(allEntities(world), { defaultNamespace: 'default', definitionUrl: (ns, name) => `./catalog-info/apis/${ns}/${name}/definition` }),
    );
    const docs = parseAllDocuments(res.body).map(
      (d) => d.toJS() as { apiVersion: string; kind: string; metadata: { name: string }; spec: { definition?: unknown } },
    );
    expect(docs.length).toBe(allEntities(world).length);
    expect(new Set(docs.map((d) => d.apiVersion))).toEqual(new Set(['backstage.io/v1alpha1']));
    const orders = docs.find((d) => d.kind === 'API' && d.metadata.name === 'orders-api');
    expect(orders?.spec.definition).toEqual({ $text: './catalog-info/apis/shop/orders-api/definition' });
    expect(res.body).not.toContain(DEFINITION_LEFT_OUT);
  });

  it('refuses with 503 until the caches have synced, never a partial catalog', () => {
    const res = catalogInfoResponder(servedWorld(), { defaultNamespace: 'default', synced: () => false })();
    expect(res.status).toBe(503);
    expect(res.body).not.toContain('backstage.io');
  });

  it.each([
    ['the same ETag', (etag: string) => etag, 304],
    ['one of several ETags', (etag: string) => `"x", ${etag}`, 304],
    ['*', () => '*', 304],
    ['another ETag', () => '"stale"', 200],
  ])('answers If-None-Match with %s', (_title, header, status) => {
    const respond = catalogInfoResponder(servedWorld(), synced);
    const etag = respond().headers.ETag!;
    expect(respond(header(etag)).status).toBe(status);
  });

  it('renders once per change of the entities, not per request, status write or 304', () => {
    const world = servedWorld();
    const apis = world.caches.entities.API as Store<EntityObject>;
    const lists = jest.spyOn(apis, 'list');
    const respond = catalogInfoResponder(world, synced);
    const first = respond();
    expect(lists).toHaveBeenCalledTimes(1);
    expect(respond().body).toBe(first.body);
    expect(respond(first.headers.ETag).status).toBe(304);

    // A status write: a new resourceVersion, the same generation.
    const orders = apis.get('shop/orders-api')!;
    apis.upsert({ ...orders, metadata: { ...orders.metadata, resourceVersion: '99' }, status: { observedGeneration: 1, conditions: [] } });
    expect(respond(first.headers.ETag).status).toBe(304);
    expect(lists).toHaveBeenCalledTimes(1);

    // A change of spec moves the generation: rendered again, with another ETag.
    apis.upsert({ ...orders, metadata: { ...orders.metadata, resourceVersion: '100', generation: 2 }, spec: { ...orders.spec, lifecycle: 'deprecated' } });
    const changed = respond(first.headers.ETag);
    expect(changed.status).toBe(200);
    expect(changed.headers.ETag).not.toBe(first.headers.ETag);
    expect(changed.body).toContain('lifecycle: deprecated');
    expect(lists).toHaveBeenCalledTimes(2);
    expect(respond(changed.headers.ETag).status).toBe(304);
    expect(lists).toHaveBeenCalledTimes(2);
  });

  it('changes the ETag with the default namespace', () => {
    const world = servedWorld();
    expect(catalogInfoResponder(world, { ...synced, defaultNamespace: 'shop' })().headers.ETag).not.toBe(catalogInfoResponder(world, synced)().headers.ETag);
  });

  it('logs an entity served without some of its fields, once per rendering', () => {
    const { logger, lines } = recordingLogger('warn');
    const world = buildWorld({
      entities: {
        System: [
          {
            kind: 'System',
            metadata: { name: 'shop', namespace: 'a', annotations: { 'backlot.dev/backstage-fields': '{"__proto__.x": 1}' } },
            spec: { owner: 'team' },
          },
        ],
      },
    });
    const respond = catalogInfoResponder(world, { ...synced, logger });
    respond();
    respond();
    expect(lines.map((l) => [l.msg, l.entity])).toEqual([['entity served without some of its fields', 'system:a/shop']]);
  });
});

/** A client that answers GETs of API objects from `objects`, counting the requests. */
function fakeClient(objects: Record<string, KubeObject>, gate?: Promise<void>) {
  const requests: string[] = [];
  const client: DefinitionOptions['client'] = {
    request: async <T>(req: RestRequest): Promise<T> => {
      requests.push(req.path);
      await gate;
      const obj = objects[req.path];
      if (!obj) throw new KubeApiError({ status: 404, message: 'not found' });
      return obj as T;
    },
  };
  return { client, requests };
}

const API_PATH = '/apis/catalog.backlot.dev/v1alpha1/namespaces/shop/apis/orders-api';

describe('definitionResponder', () => {
  const examples = examplesWorld();
  const orders = examples.caches.entities.API.get('shop/orders-api')!;
  const definition = orders.spec!.definition as string;
  const world = servedWorld();
  const options = (client: DefinitionOptions['client'], more: Partial<DefinitionOptions> = {}): DefinitionOptions => ({
    client,
    synced: () => true,
    logger: recordingLogger('silent').logger,
    ...more,
  });

  it('keeps no definition in the cache, and reads it from the API server', async () => {
    expect(definitionOf(world, 'shop/orders-api')).toBe(DEFINITION_LEFT_OUT);
    const { client, requests } = fakeClient({ [API_PATH]: orders });
    const res = await definitionResponder(world, options(client))(definitionPath('shop', 'orders-api'));
    expect([res.status, res.headers['Content-Type'], res.body]).toEqual([200, 'text/plain; charset=utf-8', definition]);
    expect(requests).toEqual([API_PATH]);
  });

  it.each([
    ['an API the catalog does not hold', definitionPath('shop', 'nope'), 404],
    ['an API without a definition', definitionPath('platform', 'no-definition'), 404],
    ['a path of another shape', `${DEFINITIONS_PREFIX}shop/orders-api`, 404],
    ['a name that is not a Kubernetes name', definitionPath('shop', 'Orders_API'), 400],
    ['a namespace that is not one', definitionPath('..', 'orders-api'), 400],
    ['an encoded slash', definitionPath('shop', 'a%2Fb'), 400],
  ])('answers %s without asking the API server', async (_title, path, status) => {
    const withBare = buildWorld({
      entities: {
        API: [
          ...world.caches.entities.API.list(),
          { kind: 'API', metadata: { name: 'no-definition', namespace: 'platform' }, spec: { type: 'grpc', lifecycle: 'production', owner: 'team' } },
        ],
      },
    });
    const { client, requests } = fakeClient({});
    expect((await definitionResponder(withBare, options(client))(path)).status).toBe(status);
    expect(requests).toEqual([]);
  });

  it('answers 503 until the caches have synced', async () => {
    const { client, requests } = fakeClient({ [API_PATH]: orders });
    const res = await definitionResponder(world, options(client, { synced: () => false }))(definitionPath('shop', 'orders-api'));
    expect([res.status, res.headers['Retry-After']]).toEqual([503, '5']);
    expect(requests).toEqual([]);
  });

  it('answers 404 when the API went away, and 502 when the API server fails', async () => {
    expect((await definitionResponder(world, options(fakeClient({}).client))(definitionPath('shop', 'orders-api'))).status).toBe(404);
    const failing: DefinitionOptions['client'] = { request: () => Promise.reject(new KubeApiError({ status: 500, message: 'etcd is down' })) };
    const { logger, lines } = recordingLogger('warn');
    expect((await definitionResponder(world, options(failing, { logger }))(definitionPath('shop', 'orders-api'))).status).toBe(502);
    expect(lines.map((l) => l.msg)).toEqual(['reading an API definition failed']);
  });

  it('tags a definition with its API uid and generation, and answers 304 to that tag from the cache without a read', async () => {
    const at = (generation: number) => ({ ...orders, metadata: { ...orders.metadata, uid: 'u-orders', generation } }) as EntityObject;
    const cachedAt = (generation: number) =>
      buildWorld({
        entities: { API: world.caches.entities.API.list().map((a) => (a.metadata?.name === 'orders-api' ? entityTransform('API')(at(generation)) : a)) },
      });
    const { client, requests } = fakeClient({ [API_PATH]: at(3) });
    const path = definitionPath('shop', 'orders-api');

    const first = await definitionResponder(cachedAt(3), options(client))(path);
    expect([first.status, first.headers.ETag, first.body]).toEqual([200, '"u-orders.3"', definition]);
    const again = await definitionResponder(cachedAt(3), options(client))(path, 'W/"other", "u-orders.3"');
    expect([again.status, again.headers.ETag, again.body]).toEqual([304, '"u-orders.3"', '']);
    expect(requests).toHaveLength(1);

    // The spec moved (generation 4): the old tag no longer matches, and the definition is read again.
    const moved = await definitionResponder(cachedAt(4), options(client))(path, '"u-orders.3"');
    expect(moved.status).toBe(200);
    expect(requests).toHaveLength(2);
  });

  it('reads at most maxReads at once, and answers 503 with Retry-After past them', async () => {
    let open!: () => void;
    const { client, requests } = fakeClient({ [API_PATH]: orders }, new Promise<void>((resolve) => (open = resolve)));
    const respond = definitionResponder(world, options(client, { maxReads: 2 }));
    const path = definitionPath('shop', 'orders-api');
    const held = [respond(path), respond(path)];
    const refused = await respond(path);
    expect([refused.status, refused.headers['Retry-After']]).toEqual([503, '1']);
    open();
    expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
    expect((await respond(path)).status).toBe(200);
    expect(requests).toHaveLength(3);
  });
});

describe('the served catalog over HTTP', () => {
  let server: RunningServer;
  let base: string;
  let synced = false;
  const examples = examplesWorld();

  beforeAll(async () => {
    const world = servedWorld();
    const objects = Object.fromEntries(
      examples.caches.entities.API.list().map((o) => [`/apis/catalog.backlot.dev/v1alpha1/namespaces/${o.metadata!.namespace!}/apis/${o.metadata!.name!}`, o]),
    );
    const logger = recordingLogger('silent').logger;
    server = await startHttpServer({
      name: 'test',
      bind: { host: '127.0.0.1', port: 0 },
      logger,
      routes: {
        [CATALOG_INFO_PATH]: catalogInfoHandler(world, { defaultNamespace: 'default', synced: () => synced }),
        [DEFINITIONS_PREFIX]: definitionHandler(world, { client: fakeClient(objects).client, synced: () => synced, logger }),
      },
    });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves 503, then the catalog, then 304 for a known ETag, and headers only for HEAD', async () => {
    synced = false;
    const early = await fetch(`${base}${CATALOG_INFO_PATH}`);
    expect([early.status, early.headers.get('retry-after')]).toEqual([503, '5']);
    await early.text();

    synced = true;
    const full = await fetch(`${base}${CATALOG_INFO_PATH}`);
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe(YAML_CONTENT_TYPE);
    const body = await full.text();
    expect(body).toContain('name: checkout');
    const etag = full.headers.get('etag')!;

    const again = await fetch(`${base}${CATALOG_INFO_PATH}`, { headers: { 'If-None-Match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');

    const head = await fetch(`${base}${CATALOG_INFO_PATH}`, { method: 'HEAD' });
    expect([head.status, head.headers.get('etag'), await head.text()]).toEqual([200, etag, '']);
  });

  it('serves every API definition where Backstage resolves its $text placeholder, relative to the catalog', async () => {
    synced = true;
    const location = `${base}${CATALOG_INFO_PATH}`;
    const docs = parseAllDocuments(await (await fetch(location)).text()).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace: string }; spec: { definition: { $text: string } } },
    );
    const apis = docs.filter((d) => d.kind === 'API' && typeof d.spec.definition === 'object');
    expect(apis.length).toBe(examples.caches.entities.API.list().filter((o) => typeof o.spec?.definition === 'string').length);
    expect(apis.length).toBeGreaterThan(0);
    for (const api of apis) {
      const res = await fetch(new URL(api.spec.definition.$text, location));
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(examples.caches.entities.API.get(`${api.metadata.namespace}/${api.metadata.name}`)!.spec!.definition);
    }
  });

  it('answers 404 under the prefix for what is not a definition', async () => {
    const res = await fetch(`${base}${DEFINITIONS_PREFIX}shop`);
    expect(res.status).toBe(404);
    await res.text();
  });
});
