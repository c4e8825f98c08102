/**
 * A secure server as controller-runtime's secure metrics serve: HTTPS with a certificate from
 * files or self-signed (and rotated when the files change, without a restart), every route
 * behind authentication and authorization by the API server.
 */
import type { Logger } from 'pino';
import type { BindAddress } from '../util/bind-address.ts';
import type { Clock } from '../util/clock.ts';
import { guard } from './auth.ts';
import { startHttpServer, type Handler, type KeyPair, type RunningServer } from './http.ts';
import type { Access, Reviewer } from './reviews.ts';
import { ServingCertificate, type CertificateFiles } from './serving-cert.ts';

/** `get` on the non-resource URL /metrics: what the ClusterRole backlot-metrics-reader grants. */
export const METRICS_ACCESS: Access = Object.freeze({ kind: 'nonResource', path: '/metrics', verb: 'get' });

/** A route and what a caller must be allowed, every one of it, to get it. */
export interface GuardedRoute {
  handler: Handler;
  access: readonly Access[];
}

export interface SecureServerOptions {
  name: string;
  bind: BindAddress;
  routes: Readonly<Record<string, GuardedRoute>>;
  reviewer: Reviewer;
  /** Where a mounted certificate is; undefined: self-signed. */
  certificate: CertificateFiles | undefined;
  clock: Clock;
  logger: Logger;
  /** Makes the self-signed certificate (tests); self-signed.ts by default. */
  selfSigned?: () => Promise<KeyPair>;
  checkIntervalMs?: number;
}

export async function startSecureServer(options: SecureServerOptions): Promise<RunningServer> {
  const { logger, reviewer, name } = options;
  const certificate = await ServingCertificate.start({
    files: options.certificate,
    clock: options.clock,
    logger,
    ...(options.selfSigned ? { selfSigned: options.selfSigned } : {}),
    ...(options.checkIntervalMs ? { checkIntervalMs: options.checkIntervalMs } : {}),
  });
  const routes = Object.fromEntries(
    Object.entries(options.routes).map(([path, route]) => [path, guard(route.handler, { reviewer, access: route.access, logger, server: name })]),
  );
  let server: RunningServer;
  try {
    server = await startHttpServer({ name, bind: options.bind, routes, logger, tls: certificate.current });
  } catch (err) {
    certificate.stop();
    throw err;
  }
  certificate.onChange((pair) => server.setCertificate(pair));
  return {
    address: server.address,
    port: server.port,
    setCertificate: (pair) => server.setCertificate(pair),
    close: async () => {
      certificate.stop();
      await server.close();
    },
  };
}
