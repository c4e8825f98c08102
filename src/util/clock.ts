/**
 * Time as the program sees it. Every timer (the runtime's backoff, rate limiting and lease
 * timing, the client's retries, Events, certificate reloads) goes through a Clock, so that
 * tests move time by hand.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds unless cancelled first. */
  setTimer(ms: number, fn: () => void): TimerHandle;
}

/**
 * The wall clock. Its timers keep the process alive, like any pending work: whoever starts
 * one cancels it on shutdown.
 */
export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer(ms: number, fn: () => void): TimerHandle {
    const timer = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(timer) };
  },
});

/**
 * Resolves after `ms` on `clock`, or early (without rejecting) when `signal` aborts.
 * Resolves to true when the full time elapsed.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
