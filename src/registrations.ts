/**
 * What `backlot run` runs: each entry plugs one part of the product into the runtime (its
 * informers and controllers). This list is the extension point; add a registration here.
 * The composition root (main.ts) gives each the RuntimeContext declared here.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RunConfig } from './cli/run-config.ts';
import { CATALOG_INFO_PATH, catalogInfoHandler, definitionHandler, DEFINITIONS_PREFIX } from './interop/catalog-info.ts';
import type { RestClient } from './k8s/rest.ts';
import { createCatalog } from './reconcilers/catalog.ts';
import type { Controller } from './runtime/controller.ts';
import type { InformerFactory } from './runtime/factory.ts';
import type { RuntimeMetricsProvider } from './runtime/metrics.ts';
import type { Handler } from './server/http.ts';
import type { Clock } from './util/clock.ts';

/** What a registration gets to build its informers and controllers from. */
export interface RuntimeContext {
  /** Ask it for informers (shared per resource); the root starts them and /readyz waits for them. */
  informers: InformerFactory;
  client: RestClient;
  kubeConfig: KubeConfig;
  registry: Registry;
  metrics: RuntimeMetricsProvider;
  logger: Logger;
  clock: Clock;
  /** The namespaces to watch; empty: all. */
  namespaces: readonly string[];
  /** Default worker count per controller (--workers). */
  workers: number;
  /** This process's unique name (also its leader election identity). */
  identity: string;
  /** Backlot's own namespace, when known. */
  ownNamespace: string | undefined;
  /**
   * The Backstage export's routes (/catalog-info.yaml and what it refers to): served on the
   * metrics server, where a secure one answers only callers that may list every catalog kind,
   * and alone on --catalog-bind-address.
   */
  catalogRoutes: Record<string, Handler>;
  /** Families a registration renders itself (the state metrics), served on /metrics after the registry's. */
  metricsText: Array<() => Promise<string>>;
  /** Whether every informer of the process has synced. */
  synced: () => boolean;
  /** Whether this process leads now (always, without leader election). */
  isLeader: () => boolean;
  /**
   * Subscribes to each leader term's first pass: told true when the controllers start, false
   * once every key they replayed is reconciled (the `caught up` line) or the term ends first.
   */
  onFirstPass: (listener: (running: boolean) => void) => void;
  /**
   * Subscribes to leadership: told true before a term's controllers start, false when its
   * writes must end (at once when the lease is lost, after the drain on shutdown). A process
   * without leader election leads from start to shutdown.
   */
  onLeadership: (listener: (leading: boolean) => void) => void;
  /**
   * Subscribes to an orderly shutdown's last moment as leader: called after the drain, before
   * leadership ends, with the time it may take to send what it queued.
   */
  beforeRelease: (listener: (timeoutMs: number) => Promise<void>) => void;
}

/**
 * How a part of the product plugs into `backlot run`: given the runtime context, declare the
 * informers it needs (through `ctx.informers`) and return its controllers. Called once at
 * startup, before anything runs.
 */
export type ControllerRegistration = (ctx: RuntimeContext) => readonly Controller[] | Promise<readonly Controller[]>;

/** The catalog: entity status, ownership on workloads, the state metrics, and /catalog-info.yaml with its API definitions. */
export function catalogRegistration(catalogInfo: RunConfig['catalogInfo']): ControllerRegistration {
  return (ctx) => {
    const catalog = createCatalog({
      makeInformer: (request) => ctx.informers.informer(request),
      client: ctx.client,
      logger: ctx.logger,
      clock: ctx.clock,
      metrics: ctx.metrics,
      instance: ctx.identity,
      workers: ctx.workers,
      isLeader: ctx.isLeader,
      onFirstPass: ctx.onFirstPass,
      onLeadership: ctx.onLeadership,
      beforeRelease: ctx.beforeRelease,
      ...(ctx.ownNamespace ? { ownNamespace: ctx.ownNamespace } : {}),
    });
    ctx.metricsText.push(() => catalog.stateMetrics.text());
    if (catalogInfo.enabled) {
      ctx.catalogRoutes[CATALOG_INFO_PATH] = catalogInfoHandler(catalog.world, {
        defaultNamespace: catalogInfo.defaultNamespace,
        synced: ctx.synced,
        logger: ctx.logger,
      });
      ctx.catalogRoutes[DEFINITIONS_PREFIX] = definitionHandler(catalog.world, { client: ctx.client, synced: ctx.synced, logger: ctx.logger });
    }
    return catalog.controllers;
  };
}

export function registrations(config: RunConfig): readonly ControllerRegistration[] {
  return [catalogRegistration(config.catalogInfo)];
}
