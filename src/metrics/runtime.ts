/**
 * The runtime's metric families, as API.md names them, behind the interfaces src/runtime
 * declares (runtime/metrics.ts). Code holds these typed objects and their bound children;
 * nothing is looked up by metric name, so a typo fails to compile.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { InformerMetrics, LeaderMetrics, ReconcileMetrics, ReconcileResultLabel, RuntimeMetricsProvider, WorkqueueMetrics } from '../runtime/metrics.ts';

/** controller-runtime's reconcile-time buckets, in seconds. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10,
  15, 20, 25, 30, 40, 50, 60,
];

/** 10 ns to 1000 s by powers of ten: time spent waiting in a queue spans many orders. */
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

export class RuntimeMetrics implements RuntimeMetricsProvider {
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrorsTotal: Counter<'controller'>;
  readonly reconcileDurationSeconds: Histogram<'controller'>;
  readonly workqueueDepth: Gauge<'name'>;
  private readonly depths = new Map<string, { value: number; set(value: number): void }>();
  readonly workqueueAddsTotal: Counter<'name'>;
  readonly workqueueRetriesTotal: Counter<'name'>;
  readonly workqueueQueueDurationSeconds: Histogram<'name'>;
  readonly informerSynced: Gauge<'resource'>;
  readonly watchRestartsTotal: Counter<'resource'>;
  readonly informerHandlerErrorsTotal: Counter<'resource'>;
  readonly leader: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.reconcileTotal = new Counter({
      name: 'backlot_reconcile_total',
      help: 'Reconciles by controller and result (success, error).',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrorsTotal = new Counter({
      name: 'backlot_reconcile_errors_total',
      help: 'Reconciles that failed (each is retried with backoff).',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileDurationSeconds = new Histogram({
      name: 'backlot_reconcile_duration_seconds',
      help: 'Time one reconcile took.',
      labelNames: ['controller'],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    const depths = this.depths;
    this.workqueueDepth = new Gauge({
      name: 'backlot_workqueue_depth',
      help: 'Keys waiting in the workqueue.',
      labelNames: ['name'],
      registers,
      // Read at scrape time: a queue changes its depth on every add and take, thousands of
      // times a second in a large start-up, and a labelled set() costs a label check and hash.
      collect() {
        for (const [name, depth] of depths) this.set({ name }, depth.value);
      },
    });
    this.workqueueAddsTotal = new Counter({
      name: 'backlot_workqueue_adds_total',
      help: 'Keys added to the workqueue (a key already waiting is not counted again).',
      labelNames: ['name'],
      registers,
    });
    this.workqueueRetriesTotal = new Counter({
      name: 'backlot_workqueue_retries_total',
      help: 'Keys re-added with backoff after a failed reconcile.',
      labelNames: ['name'],
      registers,
    });
    this.workqueueQueueDurationSeconds = new Histogram({
      name: 'backlot_workqueue_queue_duration_seconds',
      help: 'Time a key waited in the workqueue before a worker took it.',
      labelNames: ['name'],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.informerSynced = new Gauge({
      name: 'backlot_informer_synced',
      help: '1 once the informer has applied its first full list to the cache.',
      labelNames: ['resource'],
      registers,
    });
    this.watchRestartsTotal = new Counter({
      name: 'backlot_watch_restarts_total',
      help: 'Times a watch was started again (server timeout, dropped connection, error, or relist).',
      labelNames: ['resource'],
      registers,
    });
    this.informerHandlerErrorsTotal = new Counter({
      name: 'backlot_informer_handler_errors_total',
      help: 'Exceptions thrown by informer event handlers (logged and otherwise ignored).',
      labelNames: ['resource'],
      registers,
    });
    this.leader = new Gauge({ name: 'backlot_leader', help: '1 while this process holds the leader lease.', registers });
  }

  /** The depth a queue last reported, exported at the next scrape (see workqueueDepth). */
  private depthOf(name: string): { set(value: number): void } {
    let depth = this.depths.get(name);
    if (!depth) {
      const created = { value: 0, set: (value: number) => (created.value = value) };
      this.depths.set(name, (depth = created));
    }
    return depth;
  }

  workqueue(name: string): WorkqueueMetrics {
    return {
      depth: this.depthOf(name),
      adds: this.workqueueAddsTotal.labels({ name }),
      retries: this.workqueueRetriesTotal.labels({ name }),
      queueDuration: this.workqueueQueueDurationSeconds.labels({ name }),
    };
  }

  reconcile(controller: string): ReconcileMetrics {
    const errors = this.reconcileErrorsTotal.labels({ controller });
    const duration = this.reconcileDurationSeconds.labels({ controller });
    const results = new Map<ReconcileResultLabel, { inc(): void }>();
    // Zero-valued series from the start, so rate() and alerts see the controller before its first error.
    errors.inc(0);
    return {
      result: (result) => {
        let counter = results.get(result);
        if (!counter) results.set(result, (counter = this.reconcileTotal.labels({ controller, result })));
        counter.inc();
      },
      error: () => errors.inc(),
      duration: (seconds) => duration.observe(seconds),
    };
  }

  informer(resource: string): InformerMetrics {
    const watchRestarts = this.watchRestartsTotal.labels({ resource });
    const handlerErrors = this.informerHandlerErrorsTotal.labels({ resource });
    watchRestarts.inc(0);
    handlerErrors.inc(0);
    return { synced: this.informerSynced.labels({ resource }), watchRestarts, handlerErrors };
  }

  leaderMetrics(): LeaderMetrics {
    return { leader: this.leader };
  }
}
