/**
 * What the runtime reports, and nothing of how: the small interfaces its workqueues,
 * controllers, informers and leader election report through, as client-go's workqueue
 * declares its MetricsProvider. src/metrics/runtime.ts implements them on the process's
 * registry (the families of API.md); tests pass fakes, or nothing.
 */

/** How a reconcile ended; the bounded value set of the `result` label. */
export type ReconcileResultLabel = 'success' | 'error';

export interface WorkqueueMetrics {
  depth: { set(value: number): void };
  adds: { inc(): void };
  retries: { inc(): void };
  /** Seconds an item waited between being added and being handed to a worker. */
  queueDuration: { observe(seconds: number): void };
}

export interface ReconcileMetrics {
  result(result: ReconcileResultLabel): void;
  error(): void;
  /** Seconds one reconcile took. */
  duration(seconds: number): void;
}

export interface InformerMetrics {
  synced: { set(value: number): void };
  watchRestarts: { inc(): void };
  handlerErrors: { inc(): void };
}

export interface LeaderMetrics {
  leader: { set(value: number): void };
}

/** Hands out each part's metrics, bound to its name: a queue's, a controller's, an informer's resource. */
export interface RuntimeMetricsProvider {
  workqueue(name: string): WorkqueueMetrics;
  reconcile(controller: string): ReconcileMetrics;
  informer(resource: string): InformerMetrics;
  leaderMetrics(): LeaderMetrics;
}
