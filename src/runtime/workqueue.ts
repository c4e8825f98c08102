/**
 * A workqueue of string keys with client-go's guarantees:
 *
 * - a key waiting in the queue is held once, however often it is added (dirty set);
 * - a key being processed is never handed to a second worker: adding it meanwhile marks it
 *   dirty, and `done()` puts it back (processing set);
 * - delayed adds (`addAfter`) keep only the earliest pending time per key;
 * - `addRateLimited` waits the rate limiter's delay (per-key exponential backoff combined with
 *   an overall token bucket by default), `forget` clears a key's history after success.
 *
 * Shutdown stops handing out keys at once (keys still queued are left for the next owner of
 * the work, who rebuilds them from the cache); `shutDownWithDrain` additionally waits, up to a
 * deadline, for the keys workers are holding.
 */
import type { WorkqueueMetrics } from '../metrics/runtime.ts';
import { systemClock, type Clock, type TimerHandle } from './clock.ts';
import { defaultControllerRateLimiter, type RateLimiter } from './ratelimit.ts';

export interface WorkqueueOptions {
  /** Names the queue in metrics and logs. */
  name: string;
  clock?: Clock;
  rateLimiter?: RateLimiter;
  metrics?: WorkqueueMetrics;
}

/** A FIFO of keys that does not copy on every take. */
class Fifo {
  private items: string[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(key: string): void {
    this.items.push(key);
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const key = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return key;
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
  private readonly queue = new Fifo();
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
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
  }

  /** Keys waiting to be taken (not those being processed, nor those delayed). */
  get length(): number {
    return this.queue.length;
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

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addCount++;
    this.addedAt.set(key, this.clock.now());
    this.metrics?.adds.inc();
    if (this.processing.has(key)) return;
    this.enqueue(key);
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
    if (this.dirty.has(key) && !this.shuttingDown) this.enqueue(key);
    if (this.processing.size === 0) {
      for (const wake of this.idleWaiters.splice(0)) wake();
      if (this.queue.length === 0) for (const wake of this.emptyWaiters.splice(0)) wake();
    }
  }

  /**
   * Resolves once nothing waits in the queue and no key is being processed (at once if so
   * already), or when the queue shuts down. Delayed keys do not count: they are not due yet.
   */
  whenEmpty(): Promise<void> {
    if (this.shuttingDown || (this.queue.length === 0 && this.processing.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  /** Stops handing out keys and drops pending ones; workers blocked in get() get undefined. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    this.queue.clear();
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

  private enqueue(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.queue.push(key);
      getter(this.take());
      return;
    }
    this.queue.push(key);
    this.metrics?.depth.set(this.queue.length);
  }

  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    const addedAt = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (addedAt !== undefined) this.metrics?.queueDuration.observe(Math.max(0, this.clock.now() - addedAt) / 1000);
    this.metrics?.depth.set(this.queue.length);
    return key;
  }
}
