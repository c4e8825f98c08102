/**
 * What `backlot run` runs: each entry plugs one part of the product into the runtime (its
 * informers and controllers). This list is the extension point; add a registration here.
 */
import type { RunConfig } from './cli/run-config.ts';
import { CATALOG_INFO_PATH, catalogInfoHandler, definitionHandler, DEFINITIONS_PREFIX } from './interop/catalog-info.ts';
import { createCatalog } from './reconcilers/catalog.ts';
import type { ControllerRegistration } from './runtime/manager.ts';

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
      ...(ctx.ownNamespace ? { ownNamespace: ctx.ownNamespace } : {}),
    });
    ctx.metricsText.push(() => catalog.stateMetrics.text());
    if (catalogInfo.enabled) {
      ctx.catalogRoutes[CATALOG_INFO_PATH] = catalogInfoHandler(catalog.world, { defaultNamespace: catalogInfo.defaultNamespace, synced: ctx.synced, logger: ctx.logger });
      ctx.catalogRoutes[DEFINITIONS_PREFIX] = definitionHandler(catalog.world, { client: ctx.client, synced: ctx.synced, logger: ctx.logger });
    }
    return catalog.controllers;
  };
}

export function registrations(config: RunConfig): readonly ControllerRegistration[] {
  return [catalogRegistration(config.catalogInfo)];
}
