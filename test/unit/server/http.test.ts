import { afterEach, describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { RuntimeMetrics } from '../../../src/metrics/runtime.ts';
import { findRoute, metricsRoutes, probeRoutes, startHttpServer, type Handler, type RunningServer } from '../../../src/server/http.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';

describe('HTTP servers', () => {
  const servers: RunningServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  const start = async (routes: Parameters<typeof startHttpServer>[0]['routes']) => {
    const server = await startHttpServer({ name: 'test', bind: { host: '127.0.0.1', port: 0 }, routes, logger: recordingLogger('silent').logger });
    servers.push(server);
    return `http://${server.address}`;
  };

  it('answers /readyz 503 naming the unsynced informers, then 200 once all have synced', async () => {
    let unsynced = ['deployments.apps', 'secrets'];
    const base = await start(probeRoutes({ unsynced: () => unsynced }));
    const before = await fetch(`${base}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.text()).toBe('informers not synced: deployments.apps, secrets\n');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    unsynced = [];
    const after = await fetch(`${base}/readyz`);
    expect([after.status, await after.text()]).toEqual([200, 'ok\n']);
  });

  it('serves the registry on /metrics in the Prometheus text format', async () => {
    const registry = new Registry();
    new RuntimeMetrics(registry).leader.set(1);
    const base = await start(metricsRoutes(registry));
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('\nbacklot_leader 1\n');
  });

  it('serves families that render themselves after the registry, read at each scrape', async () => {
    const registry = new Registry();
    new RuntimeMetrics(registry).leader.set(1);
    const more: Array<() => Promise<string>> = [];
    const base = await start(metricsRoutes(registry, more));
    more.push(() => Promise.resolve('# HELP extra_family An extra family.\n# TYPE extra_family gauge\nextra_family{a="b"} 2\n'));
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('\nbacklot_leader 1\n');
    expect(text.endsWith('\n# HELP extra_family An extra family.\n# TYPE extra_family gauge\nextra_family{a="b"} 2\n')).toBe(true);
  });

  it('answers 404 for unknown paths and 405 for other methods', async () => {
    const base = await start(probeRoutes({ unsynced: () => [] }));
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('answers 500 when a handler fails, and keeps serving', async () => {
    const base = await start({
      '/boom': () => {
        throw new Error('handler bug');
      },
      '/ok': (_req, res) => void res.end('fine'),
    });
    expect((await fetch(`${base}/boom`)).status).toBe(500);
    expect(await (await fetch(`${base}/ok`)).text()).toBe('fine');
  });

  it('says which address is taken when it cannot listen', async () => {
    const base = await start(probeRoutes({ unsynced: () => [] }));
    const port = Number(new URL(base).port);
    await expect(startHttpServer({ name: 'probes', bind: { host: '127.0.0.1', port }, routes: {}, logger: recordingLogger('silent').logger })).rejects.toThrow(
      `cannot serve probes on 127.0.0.1:${port}: listen EADDRINUSE`,
    );
  });
});

describe('findRoute', () => {
  const names = new Map<Handler | undefined, string>();
  const named = (name: string): Handler => {
    const handler: Handler = () => undefined;
    names.set(handler, name);
    return handler;
  };
  const routes = { '/metrics': named('metrics'), '/a/': named('a'), '/a/b/': named('ab') };
  const found = (path: string) => names.get(findRoute(routes, path));

  it.each([
    ['/metrics', 'metrics'],
    ['/metrics/x', undefined],
    ['/a/', 'a'],
    ['/a/x/y', 'a'],
    ['/a/b/c', 'ab'],
    ['/a', undefined],
    ['/b', undefined],
  ])('finds %s: the exact route, else the longest subtree route', (path, name) => {
    expect(found(path)).toBe(name);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('finds no route named %s on a prototype', (path) => {
    expect(findRoute(routes, path)).toBeUndefined();
  });
});
