/**
 * The composition root of `backlot run`:
 *   config → client configuration → metrics registry → informers → controllers (from the
 *   registrations) → HTTP servers → leader election and the controller manager.
 * On the stop signal (SIGTERM/SIGINT) it drains in-flight reconciles within the shutdown
 * timeout, releases the lease, stops the informers and servers, flushes the logs and returns 0.
 */
import { pino, type Logger } from 'pino';
import type { CommandIo } from './cli/command.ts';
import type { RunConfig } from './cli/run-config.ts';
import { narrowError } from './k8s/errors.ts';
import { currentCluster, loadKubeConfig } from './k8s/kubeconfig.ts';
import { RestLeaseStore } from './k8s/leases.ts';
import { RestClient } from './k8s/rest.ts';
import { createRegistry } from './metrics/registry.ts';
import { restClientMetrics } from './metrics/client.ts';
import { RuntimeMetrics } from './metrics/runtime.ts';
import { systemClock, type Clock } from './util/clock.ts';
import type { Controller } from './runtime/controller.ts';
import { InformerFactory } from './runtime/factory.ts';
import { Manager } from './runtime/manager.ts';
import type { ControllerRegistration, RuntimeContext } from './registrations.ts';
import { BucketRateLimiter } from './runtime/ratelimit.ts';
import { startIdleCollector } from './runtime/idle-gc.ts';
import { CATALOG_READ_ACCESS } from './interop/catalog-info.ts';
import { authReviewMetrics } from './metrics/auth.ts';
import { metricsRoutes, probeRoutes, startHttpServer, type Handler, type RunningServer } from './server/http.ts';
import { Reviewer } from './server/reviews.ts';
import { METRICS_ACCESS, startSecureServer, type GuardedRoute } from './server/secure.ts';

export interface OperatorOptions {
  config: RunConfig;
  io: CommandIo;
  registrations: readonly ControllerRegistration[];
  clock?: Clock;
}

function createLogger(config: RunConfig, io: CommandIo): Logger {
  const destination = io.stderr === process.stderr ? pino.destination({ dest: 2, sync: false }) : io.stderr;
  return pino({ level: config.logLevel, base: { pid: process.pid } }, destination);
}

function flush(logger: Logger): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}

/** Runs the operator until `io.signal` aborts. Returns the exit code: 0 after an orderly stop, 1 when it could not run. */
export async function runOperator(options: OperatorOptions): Promise<number> {
  const { config, io } = options;
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config, io);
  const servers: RunningServer[] = [];
  let code = 0;
  logger.info(
    {
      identity: config.leaderElection.identity,
      namespaces: config.namespaces,
      leaderElection: config.leaderElection.enabled ? `${config.leaderElection.namespace}/${config.leaderElection.leaseName}` : false,
      workers: config.workers,
      kubeApi: config.kubeApi,
    },
    'operator starting',
  );
  try {
    const kubeConfig = loadKubeConfig(config.kubeconfig);
    currentCluster(kubeConfig);
    const registry = createRegistry();
    const clientMetrics = restClientMetrics(registry);
    const { qps, burst } = config.kubeApi;
    const client = new RestClient(kubeConfig, {
      clock,
      metrics: clientMetrics,
      ...(qps > 0 ? { rateLimiter: new BucketRateLimiter({ clock, qps, burst }) } : {}),
    });
    const metrics = new RuntimeMetrics(registry);
    const informers = new InformerFactory({ client, logger, metrics, clock, namespaces: config.namespaces });
    const catalogRoutes: Record<string, Handler> = {};
    const extraMetricsText: Array<() => Promise<string>> = [];
    // Filled once the controllers exist; registrations only ask whether it leads later, at scrape time.
    const handle: { manager?: Manager } = {};
    const firstPassListeners: Array<(running: boolean) => void> = [];
    const leadershipListeners: Array<(leading: boolean) => void> = [];
    const releaseListeners: Array<(timeoutMs: number) => Promise<void>> = [];
    const context: RuntimeContext = {
      informers,
      client,
      kubeConfig,
      registry,
      metrics,
      logger,
      clock,
      namespaces: config.namespaces,
      workers: config.workers,
      identity: config.leaderElection.identity,
      ownNamespace: config.ownNamespace,
      catalogRoutes,
      metricsText: extraMetricsText,
      synced: () => informers.unsynced().length === 0,
      isLeader: () => handle.manager?.leading ?? false,
      onFirstPass: (listener) => firstPassListeners.push(listener),
      onLeadership: (listener) => leadershipListeners.push(listener),
      beforeRelease: (listener) => releaseListeners.push(listener),
    };
    const controllers: Controller[] = [];
    for (const register of options.registrations) controllers.push(...(await register(context)));

    const metricsHandler = metricsRoutes(registry, extraMetricsText)['/metrics']!;
    if (config.metricsBindAddress && config.metricsSecure) {
      // Reviews go through a client of their own, so that a scrape never waits behind the
      // controllers' requests.
      const reviewer = new Reviewer({ client: new RestClient(kubeConfig), clock, metrics: authReviewMetrics(registry) });
      const routes: Record<string, GuardedRoute> = { '/metrics': { handler: metricsHandler, access: [METRICS_ACCESS] } };
      for (const [path, handler] of Object.entries(catalogRoutes)) routes[path] = { handler, access: CATALOG_READ_ACCESS };
      servers.push(
        await startSecureServer({ name: 'metrics', bind: config.metricsBindAddress, routes, reviewer, certificate: config.metricsCert, clock, logger }),
      );
    } else if (config.metricsBindAddress) {
      servers.push(
        await startHttpServer({ name: 'metrics', bind: config.metricsBindAddress, routes: { '/metrics': metricsHandler, ...catalogRoutes }, logger }),
      );
    }
    if (config.catalogBindAddress) {
      servers.push(await startHttpServer({ name: 'catalog', bind: config.catalogBindAddress, routes: catalogRoutes, logger }));
    }
    if (config.healthProbeBindAddress) {
      servers.push(await startHttpServer({ name: 'probes', bind: config.healthProbeBindAddress, routes: probeRoutes(informers), logger }));
    }

    const { leaderElection } = config;
    const manager = new Manager({
      informers,
      controllers,
      logger,
      metrics,
      clock,
      shutdownTimeoutMs: config.shutdownTimeoutMs,
      onFirstPass: (running) => firstPassListeners.forEach((listener) => listener(running)),
      onLeadership: (leading) => leadershipListeners.forEach((listener) => listener(leading)),
      beforeRelease: async (timeoutMs) => void (await Promise.all(releaseListeners.map((listener) => listener(timeoutMs)))),
      ...(leaderElection.enabled
        ? {
            leaderElection: {
              identity: leaderElection.identity,
              // A client of its own, outside the rate limit, as controller-runtime's leader
              // election has: a renewal never queues behind a burst of writes.
              lease: new RestLeaseStore({
                client: new RestClient(kubeConfig, { clock, metrics: clientMetrics }),
                namespace: leaderElection.namespace!,
                name: leaderElection.leaseName,
              }),
              leaseDurationMs: leaderElection.leaseDurationMs,
              renewDeadlineMs: leaderElection.renewDeadlineMs,
              retryPeriodMs: leaderElection.retryPeriodMs,
            },
          }
        : {}),
    });
    logger.info({ controllers: controllers.map((c) => c.name), informers: informers.informers.map((i) => i.name) }, 'operator running');
    handle.manager = manager;
    // Present when node runs with --expose-gc, as the executable's first line asks. The
    // last-resort flavour also shrinks the young generation and returns free pages to the
    // system; a regular full collection leaves V8's heap as large as it grew.
    const collectAll = globalThis.gc;
    const stopCollector = collectAll
      ? startIdleCollector({
          clock,
          logger,
          activity: () => manager.activity(),
          collect: () => collectAll({ type: 'major', execution: 'sync', flavor: 'last-resort' }),
        })
      : undefined;
    try {
      await manager.run(io.signal);
    } finally {
      stopCollector?.();
    }
    logger.info('operator stopped');
  } catch (err) {
    const n = narrowError(err);
    logger.error({ err: n.message, status: n.status, reason: n.reason }, 'operator failed');
    code = 1;
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    await flush(logger);
  }
  return code;
}
