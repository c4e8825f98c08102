import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAllDocuments } from 'yaml';
import { allEntities } from '../../../src/cli/cluster.ts';
import { CATALOG_INFO_PATH, catalogInfoHandler, catalogInfoResponse, YAML_CONTENT_TYPE } from '../../../src/interop/catalog-info.ts';
import { renderCatalogInfo } from '../../../src/interop/export.ts';
import { examplesWorld } from '../cli/examples.ts';

describe('catalogInfoResponse', () => {
  const world = examplesWorld();
  const synced = { defaultNamespace: 'default', synced: () => true };

  it('answers with the export of every entity in the caches', () => {
    const res = catalogInfoResponse(world, synced);
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toBe(YAML_CONTENT_TYPE);
    expect(res.body).toBe(renderCatalogInfo(allEntities(world), { defaultNamespace: 'default' }));
    const docs = parseAllDocuments(res.body).map((d) => d.toJS() as { apiVersion: string });
    expect(docs.length).toBe(allEntities(world).length);
    expect(new Set(docs.map((d) => d.apiVersion))).toEqual(new Set(['backstage.io/v1alpha1']));
  });

  it('refuses with 503 until the caches have synced, never a partial catalog', () => {
    const res = catalogInfoResponse(world, { defaultNamespace: 'default', synced: () => false });
    expect(res.status).toBe(503);
    expect(res.body).not.toContain('backstage.io');
  });

  it.each([
    ['the same ETag', (etag: string) => etag, 304],
    ['one of several ETags', (etag: string) => `"x", ${etag}`, 304],
    ['*', () => '*', 304],
    ['another ETag', () => '"stale"', 200],
  ])('answers If-None-Match with %s', (_title, header, status) => {
    const etag = catalogInfoResponse(world, synced).headers.ETag!;
    expect(catalogInfoResponse(world, synced, header(etag)).status).toBe(status);
  });

  it('keeps the ETag while nothing changes, and changes it with the catalog', () => {
    const a = catalogInfoResponse(world, synced).headers.ETag;
    expect(catalogInfoResponse(world, synced).headers.ETag).toBe(a);
    expect(catalogInfoResponse(world, { ...synced, defaultNamespace: 'shop' }).headers.ETag).not.toBe(a);
  });
});

describe('catalogInfoHandler over HTTP', () => {
  let server: Server;
  let base: string;
  let synced = false;

  beforeAll(async () => {
    const handler = catalogInfoHandler(examplesWorld(), { defaultNamespace: 'default', synced: () => synced });
    server = createServer((req, res) => (req.url === CATALOG_INFO_PATH ? handler(req, res) : res.writeHead(404).end()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
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
});
