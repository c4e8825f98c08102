import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { RuntimeMetrics } from '../../../src/metrics/runtime.ts';

/** The exposition lines of the given families, without HELP/TYPE comments and histogram buckets. */
async function samples(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#') && !l.includes('_bucket{'));
}

describe('RuntimeMetrics', () => {
  it('exposes the families API.md names, with their labels', async () => {
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    const queue = metrics.workqueue('entity');
    queue.adds.inc();
    queue.adds.inc();
    queue.retries.inc();
    queue.depth.set(1);
    queue.queueDuration.observe(0.5);
    const reconcile = metrics.reconcile('entity');
    reconcile.result('success');
    reconcile.result('error');
    reconcile.error();
    reconcile.duration(0.25);
    const informer = metrics.informer('deployments.apps');
    informer.synced.set(1);
    informer.watchRestarts.inc();
    metrics.leaderMetrics().leader.set(1);

    expect(await samples(registry)).toEqual([
      'backlot_reconcile_total{controller="entity",result="success"} 1',
      'backlot_reconcile_total{controller="entity",result="error"} 1',
      'backlot_reconcile_errors_total{controller="entity"} 1',
      'backlot_reconcile_duration_seconds_sum{controller="entity"} 0.25',
      'backlot_reconcile_duration_seconds_count{controller="entity"} 1',
      'backlot_workqueue_depth{name="entity"} 1',
      'backlot_workqueue_adds_total{name="entity"} 2',
      'backlot_workqueue_retries_total{name="entity"} 1',
      'backlot_workqueue_queue_duration_seconds_sum{name="entity"} 0.5',
      'backlot_workqueue_queue_duration_seconds_count{name="entity"} 1',
      'backlot_informer_synced{resource="deployments.apps"} 1',
      'backlot_watch_restarts_total{resource="deployments.apps"} 1',
      'backlot_informer_handler_errors_total{resource="deployments.apps"} 0',
      'backlot_leader 1',
    ]);
  });

  it('shows a controller and an informer from the start, before anything happened', async () => {
    const registry = new Registry();
    const metrics = new RuntimeMetrics(registry);
    metrics.reconcile('ownership');
    metrics.informer('configmaps');
    expect(await samples(registry)).toEqual(
      expect.arrayContaining(['backlot_reconcile_errors_total{controller="ownership"} 0', 'backlot_watch_restarts_total{resource="configmaps"} 0']),
    );
  });
});
