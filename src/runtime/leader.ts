/**
 * Leader election on a Lease, with client-go's semantics and timing (15 s lease, 10 s renew
 * deadline, 2 s retry period by default):
 *
 * - candidates try to acquire every retry period (plus up to 20 % jitter); a lease held by
 *   another is taken only after it went unrenewed for its whole duration, judged by this
 *   process's clock from when it saw the lease last change;
 * - the leader renews every retry period; if no renewal succeeds within the renew deadline,
 *   or the lease turns out to name someone else, it steps down at once (its work is stopped)
 *   and becomes a candidate again; the process keeps running;
 * - on shutdown the leader first stops its work, still renewing meanwhile so that nobody
 *   takes over while its last writes drain, then releases the lease (no holder, 1 s
 *   duration) so that a candidate takes over within one retry period.
 */
import type { Logger } from 'pino';
import type { LeaderMetrics } from './metrics.ts';
import { narrowError } from '../k8s/errors.ts';
import type { LeaseStore, StoredLease } from '../k8s/leases.ts';
import { sleep, systemClock, type Clock } from '../util/clock.ts';
import { ACQUIRE_JITTER, decide, DEFAULT_LEASE_TIMING, observe, releasedRecord, validateLeaseTiming, type LeaseTiming, type Observation } from './lease.ts';

export type StopReason = 'lost' | 'shutdown';

export interface LeaderCallbacks {
  /** This process now leads: start the work. */
  onStartedLeading(): void;
  /**
   * Leadership ends. 'shutdown': drain, the lease is still renewed until this resolves.
   * 'lost': the lease may already be someone else's, stop writing at once. May be called
   * with 'lost' while a 'shutdown' stop is still in progress, if renewal fails during the drain.
   */
  onStoppedLeading(reason: StopReason): Promise<void>;
}

export interface LeaderElectorOptions extends Partial<LeaseTiming> {
  identity: string;
  lease: LeaseStore;
  callbacks: LeaderCallbacks;
  logger: Logger;
  clock?: Clock;
  random?: () => number;
  metrics?: LeaderMetrics;
  /** Hand the lease back on shutdown (default true). */
  releaseOnCancel?: boolean;
}

export class LeaderElector {
  readonly identity: string;
  private readonly options: LeaderElectorOptions;
  private readonly timing: LeaseTiming;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: Logger;
  private observation: Observation | undefined;
  private stored: StoredLease | undefined;
  private leading = false;
  private lastLeader: string | undefined;

  constructor(options: LeaderElectorOptions) {
    if (!options.identity) throw new Error('leader election needs a non-empty identity');
    this.timing = {
      leaseDurationMs: options.leaseDurationMs ?? DEFAULT_LEASE_TIMING.leaseDurationMs,
      renewDeadlineMs: options.renewDeadlineMs ?? DEFAULT_LEASE_TIMING.renewDeadlineMs,
      retryPeriodMs: options.retryPeriodMs ?? DEFAULT_LEASE_TIMING.retryPeriodMs,
    };
    validateLeaseTiming(this.timing);
    this.identity = options.identity;
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.log = options.logger.child({ lease: options.lease.description, identity: options.identity });
    options.metrics?.leader.set(0);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns and leads until `signal` aborts; then stops the work and releases. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.acquire(signal))) break;
      this.setLeading(true);
      this.log.info('became leader');
      this.options.callbacks.onStartedLeading();

      const renewing = new AbortController();
      const renewal = this.renewUntilLost(renewing.signal);
      const outcome = await Promise.race([renewal.then(() => 'lost' as const), abortPromise(signal).then(() => 'shutdown' as const)]);
      if (outcome === 'lost') {
        this.setLeading(false);
        this.log.warn('leadership lost, stopping work');
        await this.stopSafely('lost');
        continue;
      }
      // Shutdown: keep renewing while the work drains; if renewal fails meanwhile, stop at once.
      let lostDuringDrain = false;
      void renewal.then(() => {
        if (renewing.signal.aborted) return;
        lostDuringDrain = true;
        this.setLeading(false);
        this.log.warn('leadership lost while draining, stopping work at once');
        void this.stopSafely('lost');
      });
      await this.stopSafely('shutdown');
      renewing.abort();
      await renewal;
      const wasLeading = this.leading;
      this.setLeading(false);
      if (wasLeading && !lostDuringDrain && (this.options.releaseOnCancel ?? true)) await this.release();
    }
  }

  private setLeading(value: boolean): void {
    this.leading = value;
    this.options.metrics?.leader.set(value ? 1 : 0);
  }

  private async stopSafely(reason: StopReason): Promise<void> {
    try {
      await this.options.callbacks.onStoppedLeading(reason);
    } catch (err) {
      this.log.error({ err: narrowError(err).message, reason }, 'stopping work failed');
    }
  }

  /** Tries until it holds the lease (true) or `signal` aborts (false). */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    this.log.info('campaigning for leadership');
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew(signal, this.timing.renewDeadlineMs)) return true;
      const period = this.timing.retryPeriodMs * (1 + ACQUIRE_JITTER * this.random());
      await sleep(this.clock, period, signal);
    }
    return false;
  }

  /**
   * Renews every retry period; resolves when leadership is lost (no success within the renew
   * deadline, or the lease names someone else), or when `signal` aborts.
   */
  private async renewUntilLost(signal: AbortSignal): Promise<void> {
    let lastRenew = this.clock.now();
    while (!signal.aborted) {
      await sleep(this.clock, this.timing.retryPeriodMs, signal);
      if (signal.aborted) return;
      for (;;) {
        const remaining = lastRenew + this.timing.renewDeadlineMs - this.clock.now();
        if (remaining <= 0) {
          this.log.warn({ renewDeadlineMs: this.timing.renewDeadlineMs }, 'failed to renew the lease within the renew deadline');
          return;
        }
        const renewed = await this.tryAcquireOrRenew(signal, remaining);
        if (signal.aborted) return;
        if (renewed) {
          lastRenew = this.clock.now();
          break;
        }
        if (this.lastLeader !== undefined && this.lastLeader !== this.identity && this.lastLeader !== '') return;
        await sleep(this.clock, Math.min(this.timing.retryPeriodMs, Math.max(0, lastRenew + this.timing.renewDeadlineMs - this.clock.now())), signal);
      }
    }
  }

  /** One attempt, bounded by `timeoutMs`. True when this process holds the lease afterwards. */
  private async tryAcquireOrRenew(signal: AbortSignal, timeoutMs: number): Promise<boolean> {
    const deadline = timeoutSignal(this.clock, timeoutMs);
    const attempt = AbortSignal.any([signal, deadline.signal]);
    const { lease } = this.options;
    try {
      const current = (this.stored = await lease.get(attempt));
      const now = this.clock.now();
      if (current) this.observation = observe(this.observation, current.record, now);
      this.noteLeader(current?.record.holderIdentity);
      const decision = decide({
        identity: this.identity,
        now,
        leaseDurationSeconds: this.timing.leaseDurationMs / 1000,
        current: current?.record,
        observation: this.observation,
      });
      if (decision.kind === 'held') return false;
      const written =
        decision.kind === 'create' ? await lease.create(decision.record, attempt) : await lease.update(decision.record, current!.resourceVersion, attempt);
      this.stored = written;
      this.observation = observe(this.observation, written.record, this.clock.now());
      this.noteLeader(written.record.holderIdentity);
      return true;
    } catch (err) {
      if (!signal.aborted) {
        const n = narrowError(err);
        this.log.info({ status: n.status, reason: n.reason, error: n.message }, this.leading ? 'lease renewal attempt failed' : 'lease acquire attempt failed');
      }
      return false;
    } finally {
      deadline.cancel();
    }
  }

  private noteLeader(holder: string | undefined): void {
    if (holder === undefined || holder === this.lastLeader) return;
    this.lastLeader = holder;
    if (holder && holder !== this.identity) this.log.info({ leader: holder }, 'new leader observed');
  }

  /** Hands the lease back so that another candidate need not wait for it to expire. */
  private async release(): Promise<void> {
    const stored = this.stored;
    if (!stored || stored.record.holderIdentity !== this.identity) return;
    const deadline = timeoutSignal(this.clock, this.timing.renewDeadlineMs);
    try {
      await this.options.lease.update(releasedRecord(stored.record, this.clock.now()), stored.resourceVersion, deadline.signal);
      this.log.info('lease released');
    } catch (err) {
      this.log.warn({ err: narrowError(err).message }, 'could not release the lease; it expires on its own');
    } finally {
      deadline.cancel();
    }
  }
}

function abortPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** An AbortSignal that fires after `ms` on `clock` (so fake clocks drive request deadlines too); cancel it when done. */
function timeoutSignal(clock: Clock, ms: number): { signal: AbortSignal; cancel: () => void } {
  const controller = new AbortController();
  const timer = clock.setTimer(ms, () => controller.abort(new DOMException('lease request timed out', 'TimeoutError')));
  return { signal: controller.signal, cancel: () => timer.cancel() };
}
