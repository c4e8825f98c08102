import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { RuntimeMetrics } from '../../../src/metrics/runtime.ts';
import { Controller, type Reconcile, type Source } from '../../../src/runtime/controller.ts';
import { ItemExponentialRateLimiter } from '../../../src/runtime/ratelimit.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';
import { FakeClock, flush } from './fake-clock.ts';

/** A source of keys the test pushes by hand. */
function manualSource(options: { synced?: Promise<void> } = {}) {
  let push: ((key: string) => void) | undefined;
  const source: Source = {
    name: 'manual',
    synced: () => options.synced ?? Promise.resolve(),
    register(enqueue) {
      push = enqueue;
      return () => (push = undefined);
    },
  };
  return { source, add: (key: string) => push?.(key), registered: () => push !== undefined };
}

function setup(
  reconcile: Reconcile,
  options: { workers?: number; synced?: Promise<void>; keyFields?: (key: string) => Record<string, string | undefined> } = {},
) {
  const clock = new FakeClock();
  const registry = new Registry();
  const metrics = new RuntimeMetrics(registry);
  const { logger, lines } = recordingLogger('info');
  const keys = manualSource({ synced: options.synced });
  const controller = new Controller({
    name: 'test',
    reconcile,
    sources: [keys.source],
    logger,
    metrics,
    clock,
    workers: options.workers,
    ...(options.keyFields ? { keyFields: options.keyFields } : {}),
    rateLimiter: () => new ItemExponentialRateLimiter(),
  });
  const counter = async (metric: 'reconcileTotal' | 'reconcileErrorsTotal' | 'workqueueRetriesTotal', labels: Record<string, string> = {}) => {
    const { values } = await metrics[metric].get();
    return values
      .filter((v) => Object.entries(labels).every(([k, val]) => (v.labels as Record<string, unknown>)[k] === val))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { clock, metrics, lines, keys, controller, counter };
}

describe('Controller', () => {
  it('reconciles a key once and forgets it on done', async () => {
    const seen: string[] = [];
    const { keys, controller, counter } = setup((key) => {
      seen.push(key);
    });
    const running = controller.start();
    await running.started;
    keys.add('ns/a');
    await flush();
    expect(seen).toEqual(['ns/a']);
    expect(await counter('reconcileTotal', { controller: 'test', result: 'success' })).toBe(1);
    expect(running.queue.numRequeues('ns/a')).toBe(0);
    expect(await running.stop({ drainTimeoutMs: 1_000 })).toBe(true);
  });

  it('retries a throwing reconcile with growing delays, one log line per failure', async () => {
    const attempts: number[] = [];
    const { clock, keys, controller, counter, lines } = setup((key, ctx) => {
      attempts.push(clock.now());
      if (attempts.length <= 5) throw new Error(`boom ${ctx.retries}`);
    });
    const running = controller.start();
    await running.started;
    keys.add('ns/flaky');
    for (let i = 0; i < 200 && attempts.length < 6; i++) await clock.advance(1);
    expect(attempts).toHaveLength(6);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps).toEqual([5, 10, 20, 40, 80]);
    expect(await counter('reconcileTotal', { result: 'error' })).toBe(5);
    expect(await counter('reconcileTotal', { result: 'success' })).toBe(1);
    expect(await counter('reconcileErrorsTotal')).toBe(5);
    expect(await counter('workqueueRetriesTotal')).toBe(5);
    const failures = lines.filter((l) => l.msg === 'reconcile failed');
    expect(failures).toHaveLength(5);
    expect(failures[0]).toMatchObject({
      level: 50,
      controller: 'test',
      key: 'ns/flaky',
      namespace: 'ns',
      name: 'flaky',
      retry: true,
      err: { message: 'boom 0' },
    });
    expect(failures[4]).toMatchObject({ retries: 5, err: { message: 'boom 4' } });
    // Success forgot the failures: the next failure starts from the base delay again.
    expect(running.queue.numRequeues('ns/flaky')).toBe(0);
    await running.stop({ drainTimeoutMs: 1_000 });
  });

  it('names the object of a key of another form by the fields the controller reads from it', async () => {
    const { clock, keys, controller, lines } = setup(
      () => {
        throw new Error('boom');
      },
      { keyFields: (key) => ({ kind: key.split('/')[0], namespace: key.split('/')[1], name: key.split('/')[2] }) },
    );
    const running = controller.start();
    await running.started;
    keys.add('Deployment/shop/storefront');
    for (let i = 0; i < 20 && !lines.some((l) => l.msg === 'reconcile failed'); i++) await clock.advance(1);
    expect(lines.find((l) => l.msg === 'reconcile failed')).toMatchObject({
      key: 'Deployment/shop/storefront',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'storefront',
    });
    await running.stop({ drainTimeoutMs: 1_000 });
  });

  it('runs keys in parallel across workers but never one key twice at once', async () => {
    const active = new Set<string>();
    let maxParallel = 0;
    let overlaps = 0;
    const releases: Array<() => void> = [];
    const { keys, controller } = setup(
      async (key) => {
        if (active.has(key)) overlaps++;
        active.add(key);
        maxParallel = Math.max(maxParallel, active.size);
        await new Promise<void>((resolve) => releases.push(resolve));
        active.delete(key);
      },
      { workers: 3 },
    );
    const running = controller.start();
    await running.started;
    keys.add('a');
    keys.add('b');
    await flush();
    keys.add('a'); // while a is being reconciled
    keys.add('c');
    await flush();
    expect(maxParallel).toBe(3);
    expect([...active].sort()).toEqual(['a', 'b', 'c']);
    while (releases.length > 0) {
      releases.shift()!();
      await flush();
    }
    expect(overlaps).toBe(0);
    expect(active.size).toBe(0);
    await running.stop({ drainTimeoutMs: 1_000 });
  });

  it('starts workers only after every source has synced', async () => {
    let resolveSynced!: () => void;
    const synced = new Promise<void>((r) => (resolveSynced = r));
    const seen: string[] = [];
    const { keys, controller } = setup(
      (key) => {
        seen.push(key);
      },
      { synced },
    );
    const running = controller.start();
    keys.add('early');
    await flush();
    expect(seen).toEqual([]);
    resolveSynced();
    await running.started;
    await flush();
    expect(seen).toEqual(['early']);
    await running.stop({ drainTimeoutMs: 1_000 });
  });

  it('stop drains in-flight reconciles, then stops the sources', async () => {
    let finish!: () => void;
    let sawAbort = false;
    const { keys, controller, clock } = setup(async (_key, ctx) => {
      await new Promise<void>((r) => (finish = r));
      sawAbort = ctx.signal.aborted;
    });
    const running = controller.start();
    await running.started;
    keys.add('slow');
    await flush();
    let stopped: boolean | undefined;
    void running.stop({ drainTimeoutMs: 30_000 }).then((d) => (stopped = d));
    await clock.advance(10_000);
    expect(stopped).toBeUndefined();
    finish();
    await clock.advance(1);
    expect(stopped).toBe(true);
    expect(sawAbort).toBe(false);
    expect(keys.registered()).toBe(false);
  });

  it('stop aborts reconciles still running at the drain deadline', async () => {
    const { keys, controller, clock } = setup(
      (_key, ctx) =>
        new Promise<void>((resolve) => {
          ctx.signal.addEventListener('abort', () => resolve());
        }),
    );
    const running = controller.start();
    await running.started;
    keys.add('stuck');
    await flush();
    let stopped: boolean | undefined;
    void running.stop({ drainTimeoutMs: 30_000 }).then((d) => (stopped = d));
    await clock.advance(30_000);
    expect(stopped).toBe(false);
  });

  it('rejects a worker count that is not a positive integer', () => {
    expect(() => setup(() => undefined, { workers: 0 })).toThrow('controller test: workers must be an integer >= 1 (got 0)');
  });
});
