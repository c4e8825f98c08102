/**
 * What `backlot run` runs: each entry plugs one part of the product into the runtime (its
 * informers and controllers). This list is the extension point; add a registration here.
 */
import { createCatalog } from './reconcilers/catalog.ts';
import type { ControllerRegistration } from './runtime/manager.ts';

/** The catalog: entity status, ownership on workloads, and the state metrics. */
export const catalogRegistration: ControllerRegistration = (ctx) =>
  createCatalog({
    makeInformer: (request) => ctx.informers.informer(request),
    client: ctx.client,
    logger: ctx.logger,
    clock: ctx.clock,
    registry: ctx.registry,
    metrics: ctx.metrics,
    instance: ctx.identity,
    workers: ctx.workers,
  }).controllers;

export const registrations: readonly ControllerRegistration[] = [catalogRegistration];
