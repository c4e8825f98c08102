/**
 * The small helpers every benchmark script uses: waiting, running work a few at a time, and
 * the statistics its figures are reported in.
 */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The middle value (of an even count, the upper of the two middle ones). */
export const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The nearest-rank percentile `p` (0-100); NaN of no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Calls `fn` on every item, at most `limit` at once. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
