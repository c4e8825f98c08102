/**
 * The list-then-watch loop against a scripted API server: every list page and every watch
 * the Reflector asks for is answered from a script, on a clock the test moves. What the
 * real API server does to it (expired versions, dropped streams, throttling) is covered again
 * by the integration tests; here each rule of the loop is pinned on its own.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { KubeApiError } from '../../../src/k8s/errors.ts';
import type { KubeObject, ObjectList } from '../../../src/k8s/object.ts';
import type { RestClient, RestRequest, WatchRequest } from '../../../src/k8s/rest.ts';
import type { WatchEvent } from '../../../src/k8s/wire.ts';
import { Reflector, type ReflectorSink } from '../../../src/runtime/reflector.ts';
import { CONFIGMAPS } from '../../support/resources.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';
import { FakeClock, flush } from './fake-clock.ts';

const cm = (name: string, resourceVersion: string): KubeObject => ({ metadata: { name, namespace: 'ns', resourceVersion } });

/** What one watch does: deliver events, then end cleanly, fail, or stay open until aborted. */
interface WatchScript {
  events?: WatchEvent[];
  /** Ends the stream with this error after the events. */
  error?: Error;
  /** Stays open (until the signal aborts) after the events. */
  hang?: boolean;
  /** How long the stream lasts before it ends, on the test's clock. */
  lastsMs?: number;
}

/** A RestClient that answers lists from `pages` and watches from `watches`, recording every request. */
class ScriptedServer {
  readonly lists: RestRequest[] = [];
  readonly watches: Array<WatchRequest<KubeObject>> = [];
  private readonly pages: Array<ObjectList | Error>;
  private readonly scripts: WatchScript[];
  private readonly clock: FakeClock;

  constructor(clock: FakeClock, pages: Array<ObjectList | Error>, scripts: WatchScript[]) {
    this.clock = clock;
    this.pages = pages;
    this.scripts = scripts;
  }

  readonly client: Pick<RestClient, 'request' | 'watch'> = {
    request: <T>(req: RestRequest): Promise<T> => {
      this.lists.push(req);
      const page = this.pages.shift();
      if (page === undefined) return new Promise<T>(() => undefined);
      return page instanceof Error ? Promise.reject(page) : Promise.resolve(page as T);
    },
    watch: async <T extends KubeObject>(req: WatchRequest<T>): Promise<void> => {
      this.watches.push(req as unknown as WatchRequest<KubeObject>);
      const script = this.scripts.shift() ?? { hang: true };
      for (const event of script.events ?? []) req.onEvent(event as WatchEvent<T>);
      if (script.lastsMs) await new Promise<void>((resolve) => this.clock.setTimer(script.lastsMs!, resolve));
      if (script.error !== undefined) throw script.error;
      if (script.hang) await new Promise<void>((resolve) => req.signal?.addEventListener('abort', () => resolve(), { once: true }));
    },
  };
}

function recordingSink(): ReflectorSink & { replaced: Array<{ names: string[]; namespace: string | undefined }>; events: string[]; kept: number } {
  const sink = {
    replaced: [] as Array<{ names: string[]; namespace: string | undefined }>,
    events: [] as string[],
    kept: 0,
    keep: (obj: KubeObject) => {
      sink.kept += 1;
      return { ...obj, kept: true };
    },
    replace: (objects: KubeObject[], namespace: string | undefined) => sink.replaced.push({ names: objects.map((o) => o.metadata?.name ?? ''), namespace }),
    event: (type: string, obj: KubeObject) => sink.events.push(`${type} ${obj.metadata?.name ?? ''}@${obj.metadata?.resourceVersion ?? ''}`),
  };
  return sink;
}

const goneAnswer = new KubeApiError({ status: 410, reason: 'Expired', message: 'too old resource version' });
/** An ERROR event's object is a Status, not the resource's kind. */
const goneEvent = { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' } } as WatchEvent;

const stops: AbortController[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop.abort();
});

function start(pages: Array<ObjectList | Error>, scripts: WatchScript[]) {
  const clock = new FakeClock();
  const server = new ScriptedServer(clock, pages, scripts);
  const sink = recordingSink();
  const restarts: number[] = [];
  const { logger, lines } = recordingLogger();
  const reflector = new Reflector({
    resource: CONFIGMAPS,
    namespace: 'ns',
    client: server.client,
    sink,
    clock,
    random: () => 0,
    logger,
    backoff: { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0 },
    pageSize: 2,
    watchTimeoutSeconds: { min: 300, max: 600 },
    listTimeoutMs: 60_000,
    onWatchRestart: () => restarts.push(clock.now()),
  });
  const stop = new AbortController();
  stops.push(stop);
  const done = reflector.run(stop.signal);
  return { clock, server, sink, reflector, restarts, lines, stop, done };
}

const page = (resourceVersion: string, names: string[], next?: string): ObjectList => ({
  items: names.map((n) => cm(n, resourceVersion)),
  metadata: { resourceVersion, ...(next ? { continue: next } : {}) },
});

describe('Reflector', () => {
  it("lists in pages through keep, replaces the cache once, then watches from the list's version with bookmarks", async () => {
    const { server, sink, reflector } = start([page('10', ['a', 'b'], 'token-1'), page('11', ['c'])], []);
    await flush();
    expect(server.lists.map((r) => r.query)).toEqual([
      { limit: 2, continue: undefined, labelSelector: undefined, fieldSelector: undefined },
      { limit: 2, continue: 'token-1', labelSelector: undefined, fieldSelector: undefined },
    ]);
    expect(server.lists[0]!.path).toBe('/api/v1/namespaces/ns/configmaps');
    expect(sink.kept).toBe(3);
    expect(sink.replaced).toEqual([{ names: ['a', 'b', 'c'], namespace: 'ns' }]);
    expect(server.watches).toHaveLength(1);
    expect(server.watches[0]!.query).toMatchObject({ resourceVersion: '11', allowWatchBookmarks: true, timeoutSeconds: 300 });
    // The client's own deadline runs past the server's timeout.
    expect(server.watches[0]!.timeoutMs).toBeGreaterThan(300_000);
    expect(reflector.stats).toMatchObject({ lists: 1, watches: 1, failures: 0 });
  });

  it("applies added, modified and deleted objects, and watches again from the last version seen, a bookmark's too", async () => {
    const events: WatchEvent[] = [
      { type: 'ADDED', object: cm('a', '12') },
      { type: 'MODIFIED', object: cm('a', '13') },
      { type: 'DELETED', object: cm('a', '14') },
      { type: 'BOOKMARK', object: cm('', '20') },
    ];
    const { clock, server, sink, restarts } = start([page('11', [])], [{ events, lastsMs: 300_000 }]);
    await clock.advance(300_000);
    expect(sink.events).toEqual(['ADDED a@12', 'MODIFIED a@13', 'DELETED a@14']);
    expect(restarts).toHaveLength(1);
    expect(server.lists).toHaveLength(1);
    expect(server.watches[1]!.query).toMatchObject({ resourceVersion: '20' });
  });

  it.each(['answer', 'event'] as const)('relists at once when the version has expired (410 as an %s)', async (where) => {
    const script: WatchScript = where === 'answer' ? { error: goneAnswer } : { events: [goneEvent] };
    const { server, sink, reflector } = start([page('11', ['a']), page('30', ['a', 'b'])], [script]);
    await flush();
    expect(server.lists).toHaveLength(2);
    expect(sink.replaced.map((r) => r.names)).toEqual([['a'], ['a', 'b']]);
    expect(server.watches[1]!.query).toMatchObject({ resourceVersion: '30' });
    expect(reflector.stats).toMatchObject({ gone: 1, relists: 1, failures: 0 });
  });

  it('goes back to the list after 403 on the watch, once the backoff has passed', async () => {
    const forbidden = new KubeApiError({ status: 403, reason: 'Forbidden', message: 'no' });
    const { clock, server, reflector } = start([page('11', []), page('12', [])], [{ error: forbidden }]);
    await flush();
    expect(server.lists).toHaveLength(1);
    await clock.advance(799);
    expect(server.lists).toHaveLength(1);
    await clock.advance(1);
    expect(server.lists).toHaveLength(2);
    expect(reflector.stats).toMatchObject({ relists: 1, failures: 1 });
  });

  it('resumes the watch after a dropped stream, from the last version, with growing backoff', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { clock, server, reflector } = start([page('11', [])], [{ error: reset }, { error: reset }]);
    await flush();
    await clock.advance(800);
    expect(server.watches).toHaveLength(2);
    await clock.advance(1_599);
    expect(server.watches).toHaveLength(2);
    await clock.advance(1);
    expect(server.watches).toHaveLength(3);
    expect(server.lists).toHaveLength(1);
    expect(server.watches.map((w) => w.query?.resourceVersion)).toEqual(['11', '11', '11']);
    expect(reflector.stats.failures).toBe(2);
  });

  it('counts a watch that ends at once without events as a failure, so a closing server cannot make a busy loop', async () => {
    const { clock, server, reflector } = start([page('11', [])], [{}, {}]);
    await flush();
    expect(server.watches).toHaveLength(1);
    await clock.advance(800);
    expect(server.watches).toHaveLength(2);
    // The second closed at once too: the wait grows.
    expect(reflector.stats.failures).toBe(2);
    await clock.advance(1_599);
    expect(server.watches).toHaveLength(2);
  });

  it("retries a failed list with backoff, and honours a 429's Retry-After when it is longer", async () => {
    const unavailable = new KubeApiError({ status: 500, message: 'etcd timeout' });
    const throttled = KubeApiError.fromStatus({ code: 429, reason: 'TooManyRequests', message: 'slow down', details: { retryAfterSeconds: 5 } }, 429);
    const { clock, server, lines } = start([unavailable, throttled, page('11', [])], []);
    await flush();
    expect(server.lists).toHaveLength(1);
    await clock.advance(800);
    expect(server.lists).toHaveLength(2);
    // The second failure's backoff would be 1.6 s; the server asked for 5.
    await clock.advance(4_999);
    expect(server.lists).toHaveLength(2);
    await clock.advance(1);
    expect(server.lists).toHaveLength(3);
    expect(server.watches).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'list failed').map((l) => l.status)).toEqual([500, 429]);
  });

  it('stops when its signal aborts, whatever it is waiting on', async () => {
    const { server, stop, done } = start([page('11', [])], [{ hang: true }]);
    await flush();
    expect(server.watches).toHaveLength(1);
    stop.abort();
    await expect(done).resolves.toBeUndefined();
  });
});
