/**
 * A workqueue of string keys with client-go's guarantees:
 *
 * - a key waiting in the queue is held once, however often it is added (dirty set);
 * - a key being processed is never handed to a second worker: adding it meanwhile marks it
 *   dirty, and `done()` puts it back (processing set);
 * - delayed adds (`addAfter`) keep only the earliest pending time per key;
 * - `addRateLimited` waits the rate limiter's delay (per-key exponential backoff combined with
 *   an overall token bucket by default), `forget` clears a key's history after success.
 * - two priorities, as controller-runtime's priority queue: a key added at LOW_PRIORITY (the
 *   replay of a cache at start, work derived from another key's change) is taken only when no
 *   key of the default priority waits; adding a waiting key again at a higher priority moves
 *   it up. Within a priority, first in, first out.
 * - with `lowPriorityLimit`, while any key of the default priority is being processed, at most
 *   that many LOW_PRIORITY keys are processed at once: under a steady stream of direct work,
 *   derived work holds only a share of the workers (and of the requests in flight to the API
 *   server), and what waits meanwhile coalesces in the dirty set. With no direct work, LOW
 *   keys may take every worker (a start-up pass).
 *
 * Shutdown stops handing out keys at once (keys still queued are left for the next owner of
 * the work, who rebuilds them from the cache); `shutDownWithDrain` additionally waits, up to a
 * deadline, for the keys workers are holding.
 *
 * One file above the usual size because the dirty and processing sets, the two priorities,
 * the delays and the low-priority limit are one state that every method reads and writes.
 */
import type { WorkqueueMetrics } from './metrics.ts';
import { systemClock, type Clock, type TimerHandle } from '../util/clock.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './ratelimit.ts';

export interface WorkqueueOptions {
  /** Names the queue in metrics and logs. */
  name: string;
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: WorkqueueMetrics;
  /** LOW_PRIORITY keys processed at once while a default-priority key is; unlimited by default. */
  lowPriorityLimit?: number;
}

/** Keys below the default priority: taken only when nothing of the default priority waits. */
export const LOW_PRIORITY = -1;

/** A queued key; stale once its key has been queued again (moved up) or taken. */
interface Entry {
  key: string;
  seq: number;
}

/** A FIFO that does not copy on every take. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

export class Workqueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkqueueMetrics | undefined;
  /** The default priority's lane, then LOW_PRIORITY's. */
  private readonly lanes = { normal: new Fifo<Entry>(), low: new Fifo<Entry>() };
  /** Keys waiting (or to be queued again when done), with their priority and live entry. */
  private readonly dirty = new Map<string, { priority: number; seq: number }>();
  /** Keys waiting in the lanes (a key moved up is counted once). */
  private queued = 0;
  private seq = 0;
  private readonly processing = new Set<string>();
  /** The keys of `processing` that were taken from the LOW_PRIORITY lane. */
  private readonly processingLow = new Set<string>();
  private readonly lowPriorityLimit: number;
  /** When each dirty key was added, for the queue-duration histogram. */
  private readonly addedAt = new Map<string, number>();
  private readonly waiting = new Map<string, { readyAt: number; timer: TimerHandle }>();
  private readonly getters: Array<(key: string | undefined) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly emptyWaiters: Array<() => void> = [];
  private shuttingDown = false;
  private addCount = 0;

  constructor(options: WorkqueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.clock });
    this.metrics = options.metrics;
    this.metrics?.depth.set(0);
    const limit = options.lowPriorityLimit ?? Number.POSITIVE_INFINITY;
    if (!(limit >= 1)) throw new RangeError(`lowPriorityLimit must be at least 1 (got ${limit})`);
    this.lowPriorityLimit = limit;
  }

  /** Keys waiting to be taken (not those being processed, nor those delayed). */
  get length(): number {
    return this.queued;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Keys currently held by workers. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Keys added since the queue was made (a key already waiting is not counted again). */
  get added(): number {
    return this.addCount;
  }

  /** Queues `key` at `priority` (0, the default, or LOW_PRIORITY). */
  add(key: string, priority = 0): void {
    if (this.shuttingDown) return;
    const waiting = this.dirty.get(key);
    if (waiting) {
      if (priority <= waiting.priority) return;
      waiting.priority = priority;
      // Queued below: a new entry in its lane; the old one is skipped when reached.
      if (!this.processing.has(key)) this.push(key, waiting);
      return;
    }
    const entry = { priority, seq: 0 };
    this.dirty.set(key, entry);
    this.addCount++;
    this.addedAt.set(key, this.clock.now());
    this.metrics?.adds.inc();
    if (this.processing.has(key)) return;
    this.queued++;
    this.push(key, entry);
  }

  /** Adds `key` after `delayMs`; a key already waiting keeps whichever time comes first. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAt = this.clock.now() + delayMs;
    const pending = this.waiting.get(key);
    if (pending) {
      if (pending.readyAt <= readyAt) return;
      pending.timer.cancel();
    }
    const timer = this.clock.setTimer(delayMs, () => {
      this.waiting.delete(key);
      this.add(key);
    });
    this.waiting.set(key, { readyAt, timer });
  }

  /** Adds `key` after the rate limiter's delay: the retry path of a failed reconcile. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics?.retries.inc();
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Ends the backoff of `key`: its next failure starts again from the base delay. */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /**
   * The next key, marked as processing until `done(key)`; waits while the queue is empty.
   * Resolves undefined once the queue shuts down: the worker should exit.
   */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Releases `key`; if it was added while being processed it is queued again now. */
  done(key: string): void {
    if (!this.processing.delete(key)) return;
    this.processingLow.delete(key);
    const again = this.dirty.get(key);
    if (again && !this.shuttingDown) {
      this.queued++;
      this.push(key, again);
    } else if (!this.shuttingDown) {
      // A worker freed a place a LOW_PRIORITY key may have been waiting for.
      this.dispatch();
    }
    if (this.processing.size === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      if (this.queued === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
    }
  }

  /**
   * Resolves once nothing waits in the queue and no key is being processed (at once if so
   * already), or when the queue shuts down. Delayed keys do not count: they are not due yet.
   */
  whenEmpty(): Promise<void> {
    if (this.shuttingDown || (this.queued === 0 && this.processing.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Stops handing out keys and drops pending ones; workers blocked in get() get undefined. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    this.lanes.normal.clear();
    this.lanes.low.clear();
    this.processingLow.clear();
    this.queued = 0;
    this.dirty.clear();
    this.addedAt.clear();
    this.metrics?.depth.set(0);
    for (const getter of this.getters.splice(0)) getter(undefined);
    for (const wake of this.emptyWaiters.splice(0)) wake();
  }

  /**
   * Shuts down, then waits until every key handed out has been marked done, or until
   * `deadlineMs` passes. Resolves true when drained, false on the deadline.
   */
  async shutDownWithDrain(deadlineMs: number): Promise<boolean> {
    this.shutDown();
    if (this.processing.size === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = this.clock.setTimer(deadlineMs, () => {
        const index = this.idleWaiters.indexOf(onIdle);
        if (index >= 0) this.idleWaiters.splice(index, 1);
        resolve(false);
      });
      const onIdle = () => {
        timer.cancel();
        resolve(true);
      };
      this.idleWaiters.push(onIdle);
    });
  }

  /** Puts a new entry for `key` in its priority's lane, and hands out what waiting workers may take. */
  private push(key: string, state: { priority: number; seq: number }): void {
    state.seq = ++this.seq;
    (state.priority < 0 ? this.lanes.low : this.lanes.normal).push({ key, seq: state.seq });
    this.dispatch();
    this.metrics?.depth.set(this.queued);
  }

  /** Gives waiting workers keys while there are keys they may take. */
  private dispatch(): void {
    while (this.getters.length > 0) {
      const key = this.take();
      if (key === undefined) return;
      this.getters.shift()!(key);
    }
  }

  /** Whether a LOW_PRIORITY key may be taken now. */
  private lowAllowed(): boolean {
    const lowInFlight = this.processingLow.size;
    return lowInFlight < this.lowPriorityLimit || this.processing.size === lowInFlight;
  }

  private take(): string | undefined {
    for (;;) {
      let low = false;
      let entry = this.lanes.normal.shift();
      if (entry === undefined && this.lowAllowed()) {
        entry = this.lanes.low.shift();
        low = true;
      }
      if (entry === undefined) return undefined;
      const state = this.dirty.get(entry.key);
      // Moved up, or already taken through a newer entry.
      if (state?.seq !== entry.seq || this.processing.has(entry.key)) continue;
      const key = entry.key;
      this.queued--;
      this.dirty.delete(key);
      this.processing.add(key);
      if (low) this.processingLow.add(key);
      const addedAt = this.addedAt.get(key);
      this.addedAt.delete(key);
      if (addedAt !== undefined) this.metrics?.queueDuration.observe(Math.max(0, this.clock.now() - addedAt) / 1000);
      this.metrics?.depth.set(this.queued);
      return key;
    }
  }
}
