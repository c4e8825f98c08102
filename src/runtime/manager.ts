/**
 * Runs the pieces of an operator together: informers always (a standby keeps warm caches and
 * reports ready), controllers only while this process leads, and an orderly shutdown:
 * stop taking work, drain in-flight reconciles within the deadline, release the lease, stop
 * the informers.
 */
import type { Logger } from 'pino';
import type { LeaseStore } from '../k8s/leases.ts';
import type { RuntimeMetricsProvider } from './metrics.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import type { Controller, RunningController } from './controller.ts';
import type { InformerFactory } from './factory.ts';
import { LeaderElector, type StopReason } from './leader.ts';
import type { LeaseTiming } from './lease.ts';

export interface ManagerOptions {
  informers: InformerFactory;
  controllers: readonly Controller[];
  logger: Logger;
  metrics?: RuntimeMetricsProvider;
  clock?: Clock;
  /** Absent: this process always leads (--leader-elect=false). */
  leaderElection?: Partial<LeaseTiming> & { lease: LeaseStore; identity: string };
  /** Budget from the stop signal to the end of run(): drain, release, stop informers. */
  shutdownTimeoutMs: number;
  /** Told true when a term's controllers start, false when its first pass is over or the term ends. */
  onFirstPass?: (running: boolean) => void;
  /**
   * Told true before a term's controllers start; false when the term's writes must end: at
   * once when the lease is lost (before onFirstPass hears false), after the drain on
   * shutdown. Told only of changes.
   */
  onLeadership?: (leading: boolean) => void;
  /**
   * On an orderly shutdown, once the controllers have drained and before onLeadership hears
   * false: the term's last chance to send what it queued (its Events), within `timeoutMs`.
   */
  beforeRelease?: (timeoutMs: number) => Promise<void>;
}

/** Time kept back from the drain for releasing the lease and stopping the informers. */
const RELEASE_RESERVE_MS = 3_000;
/** The most beforeRelease is given, out of what the drain left. */
export const BEFORE_RELEASE_MAX_MS = 2_000;

export class Manager {
  private readonly options: ManagerOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private running: RunningController[] = [];
  private leadingNow = false;
  /** What onLeadership was told last. */
  private toldLeading = false;
  private stopping: Promise<void> | undefined;
  private shutdownDeadline: number | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.log = options.logger;
  }

  /** Runs until `signal` aborts, then shuts down within the shutdown timeout. */
  async run(signal: AbortSignal): Promise<void> {
    const { informers, leaderElection, metrics } = this.options;
    signal.addEventListener('abort', () => (this.shutdownDeadline = this.clock.now() + this.options.shutdownTimeoutMs), { once: true });
    informers.start();
    if (leaderElection) {
      const elector = new LeaderElector({
        ...leaderElection,
        logger: this.log,
        clock: this.clock,
        ...(metrics ? { metrics: metrics.leaderMetrics() } : {}),
        callbacks: { onStartedLeading: () => this.startWork(), onStoppedLeading: (reason) => this.stopWork(reason) },
      });
      await elector.run(signal);
    } else {
      const leader = metrics?.leaderMetrics().leader;
      leader?.set(1);
      this.startWork();
      await new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener('abort', () => resolve(), { once: true })));
      await this.stopWork('shutdown');
      leader?.set(0);
    }
    await informers.stop();
  }

  /**
   * How much work this term has seen (keys added to its queues) and whether it is all done:
   * every queue empty and no reconcile running.
   */
  activity(): { added: number; idle: boolean } {
    let added = 0;
    let idle = true;
    for (const r of this.running) {
      added += r.queue.added;
      if (r.queue.length > 0 || r.queue.inFlight > 0) idle = false;
    }
    return { added, idle };
  }

  /** True between starting work as the leader and stopping it. */
  get leading(): boolean {
    return this.leadingNow;
  }

  private startWork(): void {
    this.leadingNow = true;
    this.tellLeadership(true);
    const startedAt = this.clock.now();
    const running = this.options.controllers.map((c) => c.start());
    this.running = running;
    this.log.info({ controllers: this.options.controllers.map((c) => c.name) }, 'controllers started');
    this.options.onFirstPass?.(true);
    void this.reportCaughtUp(running, startedAt);
  }

  /**
   * Logs, once a term, the moment its first pass is over: the caches synced, every key they
   * replayed reconciled (with whatever that work queued in turn), nothing left to do. On a
   * large cluster this is the line that says start-up is finished.
   */
  private async reportCaughtUp(running: readonly RunningController[], startedAt: number): Promise<void> {
    await Promise.all(running.map((r) => r.started));
    for (;;) {
      await Promise.all(running.map((r) => r.queue.whenEmpty()));
      if (this.running !== running || running.some((r) => r.queue.isShuttingDown)) return;
      const { added, idle } = this.activity();
      if (idle) {
        this.log.info({ keys: added, seconds: (this.clock.now() - startedAt) / 1000 }, 'caught up: every object reconciled');
        this.options.onFirstPass?.(false);
        return;
      }
    }
  }

  private tellLeadership(leading: boolean): void {
    if (leading === this.toldLeading) return;
    this.toldLeading = leading;
    this.options.onLeadership?.(leading);
  }

  private stopWork(reason: StopReason): Promise<void> {
    this.leadingNow = false;
    // The lease may be someone else's already: nothing this process queued may go out now.
    if (reason === 'lost') this.tellLeadership(false);
    this.options.onFirstPass?.(false);
    if (reason === 'lost') {
      // Whatever is in flight must stop writing now, including a shutdown drain in progress.
      for (const r of this.running) r.abort();
    }
    if (this.stopping) return this.stopping;
    const running = this.running;
    const drainTimeoutMs = reason === 'lost' ? 0 : Math.max(0, (this.shutdownDeadline ?? this.clock.now()) - this.clock.now() - RELEASE_RESERVE_MS);
    this.stopping = Promise.all(running.map((r) => r.stop({ drainTimeoutMs, abortGraceMs: 2_000 }))).then(async (drained) => {
      this.running = [];
      this.log.info({ reason, drained: drained.every(Boolean), drainTimeoutMs }, 'controllers stopped');
      // On shutdown the lease is still held while in-flight work drains; it ends here, once
      // what the term queued has had its chance to go out (unless the lease was lost meanwhile).
      if (reason === 'shutdown' && this.toldLeading && this.options.beforeRelease) {
        const left = (this.shutdownDeadline ?? this.clock.now()) - this.clock.now() - RELEASE_RESERVE_MS;
        try {
          await this.options.beforeRelease(Math.min(BEFORE_RELEASE_MAX_MS, Math.max(0, left)));
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'before releasing the lease');
        }
      }
      this.stopping = undefined;
      this.tellLeadership(false);
    });
    return this.stopping;
  }
}
