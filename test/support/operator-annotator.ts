/**
 * A trivial controller for runtime tests: it marks every ConfigMap it watches with the
 * identity of the process that reconciled it (a merge patch), and logs each write. Two
 * processes running it side by side show who writes.
 */
import type { KubeObject } from '../../src/k8s/object.ts';
import { objectPath } from '../../src/k8s/resource.ts';
import { CONFIGMAPS } from './resources.ts';
import { Controller } from '../../src/runtime/controller.ts';
import { informerSource } from './informer-source.ts';
import type { ControllerRegistration } from '../../src/registrations.ts';

export const ANNOTATED_BY = 'backlot.dev/test-annotated-by';

export const annotatorRegistration: ControllerRegistration = (ctx) => {
  const configMaps = ctx.informers.informer<KubeObject>({ resource: CONFIGMAPS });
  return [
    new Controller({
      name: 'annotator',
      sources: [informerSource(configMaps)],
      workers: ctx.workers,
      logger: ctx.logger,
      metrics: ctx.metrics,
      clock: ctx.clock,
      reconcile: async (key, rctx) => {
        const cm = configMaps.cache.get(key);
        if (!cm?.metadata?.name || cm.metadata.annotations?.[ANNOTATED_BY] === ctx.identity) return;
        await ctx.client.request({
          method: 'PATCH',
          path: objectPath(CONFIGMAPS, cm.metadata.name, cm.metadata.namespace),
          contentType: 'application/merge-patch+json',
          body: { metadata: { annotations: { [ANNOTATED_BY]: ctx.identity } } },
          signal: rctx.signal,
        });
        rctx.logger.info({ identity: ctx.identity }, 'configmap annotated');
      },
    }),
  ];
};
