/**
 * The REST client's transport behaviour against a bare local HTTP server: where requests go,
 * their deadlines and aborts (which no real API server can be made to stall for on cue), and
 * how often the kubeconfig's credentials are applied. Its API behaviour is covered against the
 * real control plane by the integration tests.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, get as httpGet, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { narrowError } from '../../../src/k8s/errors.ts';
import { MAX_RETRY_AFTER_RETRIES, RestClient, type RestClientOptions } from '../../../src/k8s/rest.ts';
import { readBody, retryAfterMs } from '../../../src/k8s/wire.ts';
import { BucketRateLimiter } from '../../../src/runtime/ratelimit.ts';
import { FakeClock } from '../runtime/fake-clock.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let port: number;
let handler: Handler;
/** Every request the server received: method, raw path, Authorization header; and the closed connections. */
const seen: { method: string; url: string; authorization: string | undefined }[] = [];
let closed = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    req.on('close', () => closed++);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  seen.length = 0;
  closed = 0;
  server.closeAllConnections();
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** A kubeconfig for the local server under `prefix`, counting how often its credentials are applied. */
function client(prefix = '', options: RestClientOptions = {}): { rest: RestClient; applied: () => number } {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${port}${prefix}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'u' }],
    currentContext: 'local',
  });
  let applied = 0;
  const apply = kc.applyToHTTPSOptions.bind(kc);
  kc.applyToHTTPSOptions = async (opts) => {
    applied++;
    return apply(opts);
  };
  return { rest: new RestClient(kc, options), applied: () => applied };
}

const waitUntil = async (what: () => boolean) => {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(what()).toBe(true);
};

describe('RestClient', () => {
  it('sends the path under the server URL, with the query encoded and the credentials attached', async () => {
    handler = (req, res) => json(res, 200, { path: req.url });
    const { rest } = client('/clusters/c-1/');
    const out = await rest.request<{ path: string }>({
      path: '/api/v1/namespaces/shop/services',
      query: { labelSelector: 'app in (a,b),tier!=db', limit: 500, continue: undefined, allowWatchBookmarks: true },
    });
    const url = new URL(out.path, 'http://x');
    expect(url.pathname).toBe('/clusters/c-1/api/v1/namespaces/shop/services');
    expect(Object.fromEntries(url.searchParams)).toEqual({ labelSelector: 'app in (a,b),tier!=db', limit: '500', allowWatchBookmarks: 'true' });
    expect(seen[0]).toMatchObject({ method: 'GET', authorization: 'Bearer secret-token' });
  });

  it('sends a body as JSON with its content type and length, and turns an error answer into the server Status', async () => {
    handler = (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () =>
        json(res, 409, {
          kind: 'Status',
          status: 'Failure',
          code: 409,
          reason: 'Conflict',
          message: `got ${req.headers['content-type']} ${req.headers['content-length']} ${body}`,
        }),
      );
    };
    const { rest } = client();
    const err = await rest.request({ method: 'PATCH', path: '/apis/x', body: { a: 1 }, contentType: 'application/apply-patch+yaml' }).catch((e: unknown) => e);
    expect(narrowError(err)).toMatchObject({ status: 409, reason: 'Conflict', message: 'got application/apply-patch+yaml 7 {"a":1}', retryable: true });
  });

  it('ends a request the server never answers at its deadline, as a retryable timeout, and closes the connection', async () => {
    handler = () => undefined;
    const { rest } = client();
    const started = performance.now();
    const err = await rest.request({ path: '/stalls', timeoutMs: 150 }).catch((e: unknown) => e);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(narrowError(err)).toMatchObject({ reason: 'TimeoutError', retryable: true });
    await waitUntil(() => closed === 1);
  });

  it('ends a request whose body stops half way at its deadline', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{"items": [');
    };
    const { rest } = client();
    const err = await rest.request({ path: '/half', timeoutMs: 150 }).catch((e: unknown) => e);
    expect(narrowError(err)).toMatchObject({ reason: 'TimeoutError', retryable: true });
  });

  it('reads a body sent in many chunks, with characters split between them', async () => {
    const sent = { items: Array.from({ length: 200 }, (_, i) => ({ name: `é-${i}`, note: 'ünïcødé ✓ 日本' })) };
    const body = Buffer.from(JSON.stringify(sent));
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      // 7-byte pieces split most multi-byte characters across two chunks.
      const send = (at: number) => {
        if (at >= body.length) return res.end();
        res.write(body.subarray(at, at + 7), () => send(at + 7));
      };
      send(0);
    };
    const { rest } = client();
    expect(await rest.request({ path: '/chunks' })).toEqual(sent);
  });

  it('fails a request whose connection drops half way through the body, as retryable', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '1000' });
      res.write('{"items": [', () => res.socket?.destroy());
    };
    const { rest } = client();
    const err = await rest.request({ path: '/dropped', timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ message: 'aborted', code: 'ECONNRESET' });
    expect(narrowError(err)).toMatchObject({ retryable: true });
    expect(narrowError(err).reason).not.toBe('TimeoutError');
  });

  it("ends a request when its caller aborts, as not worth retrying, and sends nothing once the caller's signal is aborted", async () => {
    handler = () => undefined;
    const { rest } = client();
    const controller = new AbortController();
    const pending = rest.request({ path: '/stalls', signal: controller.signal }).catch((e: unknown) => e);
    await waitUntil(() => seen.length === 1);
    controller.abort();
    const err = await pending;
    expect(narrowError(err)).toMatchObject({ retryable: false });
    expect(narrowError(err).reason).not.toBe('TimeoutError');
    await waitUntil(() => closed === 1);

    const again = await rest.request({ path: '/never', signal: controller.signal }).catch((e: unknown) => e);
    expect(narrowError(again)).toMatchObject({ retryable: false });
    expect(seen).toHaveLength(1);
  });

  it("delivers a watch's events until the caller aborts it", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n{"type":"MODIFIED",`);
      res.write(`"object":{"metadata":{"name":"a","resourceVersion":"2"}}}\n`);
    };
    const { rest } = client();
    const controller = new AbortController();
    const events: string[] = [];
    let opened = false;
    const watch = rest
      .watch({
        path: '/w',
        timeoutMs: 60_000,
        signal: controller.signal,
        onOpen: () => (opened = true),
        onEvent: (e) => events.push(`${e.type} ${e.object.metadata?.name}`),
      })
      .catch((e: unknown) => e);
    await waitUntil(() => events.length === 2);
    expect(opened).toBe(true);
    expect(events).toEqual(['ADDED a', 'MODIFIED a']);
    expect(seen[0]!.url).toBe('/w?watch=true');
    controller.abort();
    expect(narrowError(await watch)).toMatchObject({ retryable: false });
  });

  it('applies the kubeconfig credentials once for many requests, and again after the server refuses them', async () => {
    let refuse = false;
    handler = (_req, res) => (refuse ? json(res, 401, { kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' }) : json(res, 200, {}));
    const { rest, applied } = client();
    await Promise.all(Array.from({ length: 50 }, () => rest.request({ path: '/ok' })));
    await rest.request({ path: '/ok' });
    expect(applied()).toBe(1);

    refuse = true;
    expect(narrowError(await rest.request({ path: '/ok' }).catch((e: unknown) => e))).toMatchObject({ status: 401 });
    refuse = false;
    await rest.request({ path: '/ok' });
    expect(applied()).toBe(2);
    expect(seen.every((s) => s.authorization === 'Bearer secret-token')).toBe(true);
  });
});

describe('readBody', () => {
  /** A response of the local server to GET `path`, its body not read yet. */
  const response = (path: string) => new Promise<IncomingMessage>((resolve, reject) => httpGet({ host: '127.0.0.1', port, path }, resolve).on('error', reject));

  it('lets go of the response once read: a connection idling in the pool keeps no listener, chunk or text of it', async () => {
    const body = 'x'.repeat(256 * 1024);
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(body);
    };
    const res = await response('/body');
    const events = ['data', 'end', 'close', 'error'] as const;
    const before = events.map((e) => res.listenerCount(e));
    expect(await readBody(res)).toBe(body);
    // Only an error listener is left behind, which holds nothing: an error after the end is ignored, not thrown.
    expect(events.map((e) => res.listenerCount(e))).toEqual([before[0], before[1], before[2], before[3]! + 1]);
    expect(() => res.emit('error', new Error('late'))).not.toThrow();
  });
});

/** Long enough for a request that is not waiting on the fake clock to reach the server. */
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('RestClient rate limit', () => {
  it('sends a burst at once, then one request per 1/qps, every request sharing one bucket', async () => {
    handler = (_req, res) => json(res, 200, {});
    const clock = new FakeClock();
    const waits: number[] = [];
    const { rest } = client('', {
      clock,
      rateLimiter: new BucketRateLimiter({ clock, qps: 10, burst: 2 }),
      metrics: { rateLimitWait: (s) => waits.push(s), retryAfter: () => undefined },
    });
    const all = Promise.all(Array.from({ length: 5 }, (_, i) => rest.request({ path: `/r${i}` })));
    await waitUntil(() => seen.length === 2);
    await settle();
    expect(seen).toHaveLength(2);
    for (const expected of [3, 4, 5]) {
      await clock.advance(99);
      await settle();
      expect(seen).toHaveLength(expected - 1);
      await clock.advance(1);
      await waitUntil(() => seen.length === expected);
    }
    await all;
    expect(waits.map((s) => Math.round(s * 1000))).toEqual([100, 200, 300]);
  });

  it('takes one token when a watch opens and none while it streams', async () => {
    handler = (req, res) => {
      if (!req.url?.includes('watch=true')) return json(res, 200, {});
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
    };
    const clock = new FakeClock();
    const { rest } = client('', { clock, rateLimiter: new BucketRateLimiter({ clock, qps: 10, burst: 1 }) });
    const controller = new AbortController();
    let events = 0;
    const watch = rest.watch({ path: '/w', timeoutMs: 60_000, signal: controller.signal, onEvent: () => events++ }).catch((e: unknown) => e);
    await waitUntil(() => events === 1);
    // The watch is still open: after 1/qps the next request has its token all the same.
    await clock.advance(100);
    await rest.request({ path: '/after' });
    expect(seen.map((s) => s.url)).toEqual(['/w?watch=true', '/after']);
    controller.abort();
    await watch;
  });

  it('gives up waiting for a token when the caller aborts', async () => {
    handler = (_req, res) => json(res, 200, {});
    const clock = new FakeClock();
    const { rest } = client('', { clock, rateLimiter: new BucketRateLimiter({ clock, qps: 1, burst: 1 }) });
    await rest.request({ path: '/first' });
    const controller = new AbortController();
    const pending = rest.request({ path: '/second', signal: controller.signal }).catch((e: unknown) => e);
    await settle();
    controller.abort();
    expect(narrowError(await pending)).toMatchObject({ retryable: false });
    expect(clock.pendingTimers).toBe(0);
    expect(seen).toHaveLength(1);
  });
});

describe('RestClient and Retry-After', () => {
  /** The API server's max-in-flight answer; `retryAfter` null: without the header. */
  const tooMany = (res: ServerResponse, status = 429, retryAfter: string | null = '2') => {
    res.writeHead(status, { 'Content-Type': 'text/plain', ...(retryAfter === null ? {} : { 'Retry-After': retryAfter }) });
    res.end('Too many requests, please try again later.\n');
  };

  it.each([
    [429, '1', 1_000],
    [429, ' 30 ', 30_000],
    [429, '0', 0],
    [503, '5', 5_000],
    [429, undefined, undefined],
    [429, '', undefined],
    [429, '1.5', undefined],
    [429, '-1', undefined],
    [429, 'Wed, 21 Oct 2015 07:28:00 GMT', undefined],
    [500, '1', undefined],
    [504, '1', undefined],
    [200, '1', undefined],
  ])('reads status %d with Retry-After %p as %p ms', (statusCode, header, expected) => {
    expect(retryAfterMs({ statusCode, headers: header === undefined ? {} : { 'retry-after': header } })).toBe(expected);
  });

  it('sends a request again after the seconds a 429 names, not sooner, passing the rate limit again', async () => {
    let answered = 0;
    handler = (req, res) => (answered++ < 2 ? tooMany(res) : json(res, 201, { got: req.method }));
    const clock = new FakeClock();
    const retries: number[] = [];
    let tokens = 0;
    const rateLimiter = { when: () => (tokens++, 0) };
    const { rest } = client('', { clock, random: () => 1, rateLimiter, metrics: { rateLimitWait: () => undefined, retryAfter: (s) => retries.push(s) } });
    const pending = rest.request({ method: 'POST', path: '/things', body: { a: 1 } });
    await waitUntil(() => seen.length === 1 && clock.pendingTimers === 1);
    // Retry-After: 2 spread by at most a quarter: 2.5 s with random() = 1.
    await clock.advance(2_499);
    await settle();
    expect(seen).toHaveLength(1);
    await clock.advance(1);
    await waitUntil(() => seen.length === 2 && clock.pendingTimers === 1);
    await clock.advance(2_500);
    expect(await pending).toEqual({ got: 'POST' });
    expect(seen.map((s) => s.method)).toEqual(['POST', 'POST', 'POST']);
    expect(retries).toEqual([429, 429]);
    expect(tokens).toBe(3);
  });

  it('retries a 503 with Retry-After, and opens a watch after a 429', async () => {
    let answered = 0;
    handler = (req, res) => {
      if (answered++ === 0) return tooMany(res, req.url?.includes('watch') ? 429 : 503, '1');
      if (!req.url?.includes('watch=true')) return json(res, 200, { ok: true });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } })}\n`);
    };
    const clock = new FakeClock();
    const { rest } = client('', { clock, random: () => 0 });
    const get = rest.request({ path: '/unavailable' });
    await waitUntil(() => seen.length === 1 && clock.pendingTimers === 1);
    await clock.advance(1_000);
    expect(await get).toEqual({ ok: true });

    answered = 0;
    const names: string[] = [];
    const watch = rest.watch({ path: '/w', timeoutMs: 60_000, onEvent: (e) => names.push(e.object.metadata!.name!) });
    await waitUntil(() => seen.length === 3 && clock.pendingTimers === 1);
    await clock.advance(1_000);
    await watch;
    expect(names).toEqual(['a']);
    expect(seen).toHaveLength(4);
  });

  it('surfaces at once a 429 without Retry-After, a 500 with one, and a wait past the deadline or 60 s', async () => {
    const clock = new FakeClock();
    const { rest } = client('', { clock });
    for (const [answer, timeoutMs] of [
      [(res: ServerResponse) => tooMany(res, 429, null), 30_000],
      [(res: ServerResponse) => tooMany(res, 500, '1'), 30_000],
      [(res: ServerResponse) => tooMany(res, 429, '30'), 30_000],
      [(res: ServerResponse) => tooMany(res, 429, '61'), 120_000],
    ] as const) {
      seen.length = 0;
      handler = (_req, res) => answer(res);
      const err = await rest.request({ path: '/busy', timeoutMs }).catch((e: unknown) => e);
      expect(narrowError(err)).toMatchObject({ status: expect.any(Number), retryable: true, message: expect.stringContaining('Too many requests') });
      expect(seen).toHaveLength(1);
    }
  });

  it(`gives up after ${MAX_RETRY_AFTER_RETRIES} retries with the last 429, for the caller's backoff`, async () => {
    handler = (_req, res) => tooMany(res, 429, '1');
    const clock = new FakeClock();
    const { rest } = client('', { clock, random: () => 0 });
    const pending = rest.request({ path: '/always-busy', timeoutMs: 60_000 }).catch((e: unknown) => e);
    for (let sent = 1; sent <= MAX_RETRY_AFTER_RETRIES; sent++) {
      // The wait starts once the 429 is read, after the server saw the request.
      await waitUntil(() => seen.length === sent && clock.pendingTimers === 1);
      await clock.advance(1_000);
    }
    expect(narrowError(await pending)).toMatchObject({ status: 429, retryable: true });
    expect(seen).toHaveLength(MAX_RETRY_AFTER_RETRIES + 1);
    expect(clock.pendingTimers).toBe(0);
    // Eleven real round trips on loopback: on a busy machine they outlast jest's 5 s default.
  }, 30_000);

  it('stops waiting for a retry when the caller aborts', async () => {
    handler = (_req, res) => tooMany(res, 429, '5');
    const clock = new FakeClock();
    const { rest } = client('', { clock });
    const controller = new AbortController();
    const pending = rest.request({ path: '/busy', signal: controller.signal }).catch((e: unknown) => e);
    await waitUntil(() => clock.pendingTimers === 1);
    controller.abort();
    expect(narrowError(await pending)).toMatchObject({ retryable: false });
    expect(clock.pendingTimers).toBe(0);
    expect(seen).toHaveLength(1);
  });
});
