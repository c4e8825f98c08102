/** A Clock that moves only when the test says so; timers fire in time order. */
import type { Clock, TimerHandle } from '../../../src/util/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 1_700_000_000_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): TimerHandle {
    const entry: Pending = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(entry);
    return { cancel: () => (entry.cancelled = true) };
  }

  /** Timers not yet fired nor cancelled. */
  get pendingTimers(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** The time the next live timer fires, if any. */
  nextTimerAt(): number | undefined {
    const live = this.pending.filter((p) => !p.cancelled).map((p) => p.at);
    return live.length ? Math.min(...live) : undefined;
  }

  /**
   * Moves time forward by `ms`, firing due timers in order and letting promise callbacks
   * run after each, so code awaiting a timer continues before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (let fired = 0; ; fired++) {
      if (fired > 100_000) throw new Error(`FakeClock: over 100000 timers fired within ${ms} ms: the code under test is re-arming timers without advancing`);
      await flush();
      const due = this.pending.filter((p) => !p.cancelled && p.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
    this.pending = this.pending.filter((p) => !p.cancelled);
    await flush();
  }
}

/** Lets queued promise callbacks run (several rounds, for chained awaits). */
export async function flush(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
