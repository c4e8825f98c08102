/**
 * The controller loop: event sources put keys on a workqueue, workers take them and call the
 * reconcile function, and its outcome decides what happens to the key next: a reconcile that
 * resolves forgets the key (result label `success`), one that throws retries it with backoff
 * (`error`). Reconciles are level-based, so that is all there is: Backlot has no time-based
 * work to requeue and no failure that retrying cannot fix (a bad spec is a condition, and
 * the reconcile that writes it succeeds).
 *
 * A controller runs for one leadership term at a time: `start()` builds a fresh queue,
 * registers the sources (which replay their caches, so the new term sees every object),
 * waits for the sources' caches to sync, then starts the workers; `stop()` drains.
 */
import type { Logger } from 'pino';
import type { ReconcileMetrics, RuntimeMetricsProvider } from './metrics.ts';
import { narrowError } from '../k8s/errors.ts';
import { splitKey } from '../k8s/object.ts';
import { sleep, systemClock, type Clock } from '../util/clock.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './ratelimit.ts';
import { Workqueue } from './workqueue.ts';

export interface ReconcileContext {
  /** Aborted when the work must stop now: leadership lost, or the shutdown drain deadline passed. */
  signal: AbortSignal;
  /** Carries controller, key, namespace and name. */
  logger: Logger;
  /** How many times this key has failed in a row before this attempt. */
  retries: number;
}

export type Reconcile = (key: string, ctx: ReconcileContext) => void | Promise<void>;

/** Where keys come from. */
export interface Source {
  /** Names the source in logs. */
  name: string;
  /** Starts feeding keys, each at a priority (0 by default, or LOW_PRIORITY); returns the function that stops it. */
  register(enqueue: (key: string, priority?: number) => void): () => void;
  /** Resolves once the source's cache is complete; workers start only after every source has synced. */
  synced(): Promise<void>;
}

export interface ControllerOptions {
  /** Names the controller in metrics (`controller` label), the queue (`name` label) and logs. */
  name: string;
  reconcile: Reconcile;
  sources: readonly Source[];
  logger: Logger;
  /**
   * The log fields that name the object of a key, beside the key itself. By default a
   * `namespace/name` key gives namespace and name; controllers with keys of another form
   * (a kind first, a reference) say how to read them.
   */
  keyFields?: (key: string) => Record<string, string | undefined>;
  /** Concurrent reconciles; one key is never reconciled by two workers at once. Default 1. */
  workers?: number;
  /**
   * How many workers LOW_PRIORITY keys may hold while a key of the default priority is being
   * reconciled (Workqueue's lowPriorityLimit). Default: all of them.
   */
  lowPriorityWorkers?: number;
  metrics?: RuntimeMetricsProvider;
  clock?: Clock;
  /** A fresh limiter for each term; client-go's default (5 ms to 1000 s per key, 10 qps burst 100 overall). */
  rateLimiter?: (clock: Clock) => RateLimiter;
}

export interface StopOptions {
  /** How long in-flight reconciles may take to finish before their signal is aborted. */
  drainTimeoutMs: number;
  /** After aborting, how long to wait for reconciles that ignore their signal. Default 5 s. */
  abortGraceMs?: number;
}

export interface RunningController {
  readonly queue: Workqueue;
  /** Resolves once workers have started (after the sources synced), or when stopped before that. */
  readonly started: Promise<void>;
  /** Stops taking keys, drains, stops the sources. Resolves true when every reconcile finished in time. */
  stop(options: StopOptions): Promise<boolean>;
  /** Aborts the signal of in-flight reconciles now (leadership lost), even while a stop is draining. */
  abort(): void;
}

export class Controller {
  readonly name: string;
  private readonly options: ControllerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: ReconcileMetrics | undefined;
  private readonly workers: number;

  constructor(options: ControllerOptions) {
    const workers = options.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`controller ${options.name}: workers must be an integer >= 1 (got ${workers})`);
    if (options.sources.length === 0) throw new Error(`controller ${options.name}: needs at least one source of keys`);
    this.name = options.name;
    this.options = options;
    this.workers = workers;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger.child({ controller: options.name });
    this.metrics = options.metrics?.reconcile(options.name);
  }

  /** Starts one term of work. */
  start(): RunningController {
    const clock = this.clock;
    const queue = new Workqueue({
      name: this.name,
      clock,
      rateLimiter: this.options.rateLimiter?.(clock) ?? defaultControllerRateLimiter({ clock }),
      metrics: this.options.metrics?.workqueue(this.name),
      ...(this.options.lowPriorityWorkers !== undefined ? { lowPriorityLimit: this.options.lowPriorityWorkers } : {}),
    });
    const hardStop = new AbortController();
    const unregister = this.options.sources.map((s) => s.register((key, priority) => queue.add(key, priority)));
    const workers: Array<Promise<void>> = [];
    const synced = Promise.all(this.options.sources.map((s) => s.synced()));
    const started = Promise.race([synced, new Promise<void>((resolve) => hardStop.signal.addEventListener('abort', () => resolve(), { once: true }))]).then(
      () => {
        if (queue.isShuttingDown) return;
        for (let i = 0; i < this.workers; i++) workers.push(this.work(queue, hardStop.signal));
        this.log.info({ workers: this.workers }, 'controller started');
      },
    );
    const stop = async ({ drainTimeoutMs, abortGraceMs = 5_000 }: StopOptions): Promise<boolean> => {
      for (const off of unregister) off();
      const drained = await queue.shutDownWithDrain(drainTimeoutMs);
      if (!drained) {
        this.log.warn({ inFlight: queue.inFlight, drainTimeoutMs }, 'reconciles still running at the drain deadline, aborting them');
        hardStop.abort(new Error('controller stopped'));
        const stopped = new AbortController();
        await Promise.race([Promise.all(workers), sleep(clock, abortGraceMs, stopped.signal)]);
        stopped.abort();
      } else {
        hardStop.abort(new Error('controller stopped'));
        await Promise.all(workers);
      }
      await started;
      this.log.info({ drained }, 'controller stopped');
      return drained;
    };
    const abort = () => {
      queue.shutDown();
      hardStop.abort(new Error('controller aborted'));
    };
    return { queue, started, stop, abort };
  }

  private async work(queue: Workqueue, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileOne(queue, key, signal);
      } finally {
        queue.done(key);
      }
    }
  }

  private async reconcileOne(queue: Workqueue, key: string, signal: AbortSignal): Promise<void> {
    // The key's logger is made when something logs: most reconciles never do.
    let keyLogger: Logger | undefined;
    const log = () => {
      if (keyLogger) return keyLogger;
      return (keyLogger = this.log.child({ key, ...(this.options.keyFields ?? splitKey)(key) }));
    };
    const retries = queue.numRequeues(key);
    const started = this.clock.now();
    let failed = false;
    let thrown: unknown;
    try {
      await this.options.reconcile(key, {
        signal,
        retries,
        get logger() {
          return log();
        },
      });
    } catch (err) {
      failed = true;
      thrown = err;
    }
    this.metrics?.duration((this.clock.now() - started) / 1000);
    if (!failed) {
      this.metrics?.result('success');
      queue.forget(key);
      return;
    }
    this.metrics?.result('error');
    this.metrics?.error();
    queue.addRateLimited(key);
    log().error({ err: describe(thrown), retry: true, retries: retries + 1 }, 'reconcile failed');
  }
}

function describe(err: unknown): { message: string; status?: number; reason?: string; stack?: string } {
  const narrowed = narrowError(err);
  return {
    message: narrowed.message,
    ...(narrowed.status !== undefined ? { status: narrowed.status } : {}),
    ...(narrowed.reason !== undefined ? { reason: narrowed.reason } : {}),
    ...(err instanceof Error && narrowed.status === undefined ? { stack: err.stack } : {}),
  };
}
