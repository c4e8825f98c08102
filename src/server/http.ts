/**
 * The operator's small HTTP servers: metrics (/metrics, over HTTPS when secure) and probes
 * (/healthz, /readyz), on separate addresses as controller-runtime serves them, so the probe
 * port can stay plain HTTP for the kubelet while Prometheus scrapes the other; and, when asked
 * for, the Backstage export's own plain port.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BindAddress } from '../util/bind-address.ts';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface RunningServer {
  /** `host:port` actually bound (the port is real when 0 was asked for). */
  readonly address: string;
  readonly port: number;
  /**
   * HTTPS only: serve new connections with this certificate from now on (open connections
   * keep theirs). Throws, and keeps the current one, when the pair is not usable.
   */
  setCertificate(pair: KeyPair): void;
  close(): Promise<void>;
}

/** A PEM certificate (chain) and its private key. */
export interface KeyPair {
  cert: string;
  key: string;
}

/** TLS 1.2 and up, HTTP/1.1 only (no HTTP/2, as controller-runtime's metrics server by default). */
const TLS_OPTIONS = { minVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] } as const;

function message(err: unknown): string {
  const text = (err as { message?: unknown } | undefined)?.message;
  return typeof text === 'string' ? text : String(err);
}

/**
 * The handler of a request path: the route of that exact path, else the longest route that
 * ends in `/` and starts the path (it serves the whole subtree, as in Go's ServeMux). The path
 * is the caller's text: only the routes' own keys are looked up, never a prototype's.
 */
export function findRoute(routes: Readonly<Record<string, Handler>>, path: string): Handler | undefined {
  if (Object.hasOwn(routes, path)) return routes[path];
  let best: string | undefined;
  for (const route of Object.keys(routes)) if (route.endsWith('/') && path.startsWith(route) && route.length > (best?.length ?? 0)) best = route;
  return best === undefined ? undefined : routes[best];
}

export interface HttpServerOptions {
  name: string;
  bind: BindAddress;
  routes: Readonly<Record<string, Handler>>;
  logger: Logger;
  /** Serve HTTPS with this certificate; plain HTTP without. */
  tls?: KeyPair;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  const { logger, routes } = options;
  const listener: RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = findRoute(routes, path);
    if (!handler || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(handler ? 405 : 404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(handler ? 'method not allowed\n' : 'not found\n');
      return;
    }
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        logger.error({ server: options.name, path, err: message(err) }, 'http handler failed');
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('internal error\n');
      });
  };
  const server: Server | HttpsServer = options.tls ? createHttpsServer({ ...TLS_OPTIONS, ...options.tls }, listener) : createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.bind.port, options.bind.host, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: unknown) => {
    const where = `${options.bind.host ?? ''}:${options.bind.port}`;
    throw new Error(`cannot serve ${options.name} on ${where}: ${message(err)}`, { cause: err });
  });
  const info = server.address() as AddressInfo;
  const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
  const address = `${host}:${info.port}`;
  logger.info({ server: options.name, address, tls: Boolean(options.tls) }, 'http server listening');
  return {
    address,
    port: info.port,
    setCertificate: (pair) => {
      if (!('setSecureContext' in server)) throw new Error(`${options.name} serves plain HTTP: it has no certificate to change`);
      server.setSecureContext({ ...TLS_OPTIONS, ...pair });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Scrapers keep connections alive; they must not hold the shutdown up.
        server.closeAllConnections();
      }),
  };
}

/**
 * /metrics: the registry's families, then the text of each of `more` (families that render
 * themselves, in the same text format), in order. `more` is read at each scrape.
 */
export function metricsRoutes(registry: Registry, more: readonly (() => Promise<string>)[] = []): Record<string, Handler> {
  return {
    '/metrics': async (_req, res) => {
      const parts = await Promise.all([registry.metrics(), ...more.map((text) => text())]);
      res.writeHead(200, { 'Content-Type': registry.contentType }).end(parts.join(''));
    },
  };
}

export interface SyncStatus {
  /** Names of the informers that have not synced yet; ready when empty. */
  unsynced(): readonly string[];
}

export function probeRoutes(readiness: SyncStatus): Record<string, Handler> {
  return {
    '/healthz': (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok\n');
    },
    '/readyz': (_req, res) => {
      const unsynced = readiness.unsynced();
      if (unsynced.length === 0) {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('ok\n');
        return;
      }
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`informers not synced: ${unsynced.join(', ')}\n`);
    },
  };
}
