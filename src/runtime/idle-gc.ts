/**
 * One garbage collection when a burst of work is over. A controller's work comes in bursts (a
 * start, a relist, a mass change) between long quiet spells; V8 sizes its heap for the burst
 * and, with nothing left to allocate, has no reason to collect the burst's garbage, so the
 * process stays as large as its busiest moment. Once the queues have stayed empty for two
 * looks in a row after enough work, this asks for one full collection (node runs with
 * --expose-gc for it: the executable's first line), which lets V8 give the pages back.
 * It pauses the process once, when there is nothing else to do.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.ts';

export interface IdleCollectorOptions {
  clock: Clock;
  logger: Logger;
  /** Keys added to the work queues so far, and whether every queue is empty with nothing running. */
  activity: () => { added: number; idle: boolean };
  /** The collection itself: globalThis.gc under --expose-gc. */
  collect: () => void;
  /** Keys of work that make a burst worth a collection. Default 1,000. */
  minWork?: number;
  /** How often to look. Default 5 s. */
  intervalMs?: number;
}

/** Starts looking; returns the function that stops it. */
export function startIdleCollector(options: IdleCollectorOptions): () => void {
  const { clock, logger, activity, collect } = options;
  const minWork = options.minWork ?? 1_000;
  const intervalMs = options.intervalMs ?? 5_000;
  let collectedAt = 0;
  let quietAt: number | undefined;
  let timer: TimerHandle | undefined;

  const look = () => {
    const { added, idle } = activity();
    // A new leadership term starts its queues from zero.
    if (added < collectedAt) collectedAt = 0;
    if (!idle) quietAt = undefined;
    else if (quietAt !== added) quietAt = added;
    else if (added - collectedAt >= minWork) {
      const before = process.memoryUsage();
      const started = clock.now();
      collect();
      const after = process.memoryUsage();
      logger.debug(
        {
          work: added - collectedAt,
          ms: clock.now() - started,
          heapUsedBefore: before.heapUsed,
          heapUsedAfter: after.heapUsed,
          rssBefore: before.rss,
          rssAfter: after.rss,
        },
        'collected garbage after a burst of work',
      );
      collectedAt = added;
    }
    timer = clock.setTimer(intervalMs, look);
  };
  timer = clock.setTimer(intervalMs, look);
  return () => timer?.cancel();
}
