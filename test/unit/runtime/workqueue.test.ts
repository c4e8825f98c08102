import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { RuntimeMetrics } from '../../../src/metrics/runtime.ts';
import { ItemExponentialRateLimiter } from '../../../src/runtime/ratelimit.ts';
import { LOW_PRIORITY, Workqueue } from '../../../src/runtime/workqueue.ts';
import { FakeClock, flush } from './fake-clock.ts';

function setup(options: { rateLimiter?: ItemExponentialRateLimiter } = {}) {
  const clock = new FakeClock();
  const registry = new Registry();
  const metrics = new RuntimeMetrics(registry);
  const queue = new Workqueue({ name: 'test', clock, metrics: metrics.workqueue('test'), ...options });
  const value = async (metric: { get(): Promise<{ values: Array<{ value: number; labels: object; metricName?: string }> }> }, metricName?: string) => {
    const { values } = await metric.get();
    return values.find((v) => (metricName ? v.metricName === metricName : true))?.value;
  };
  return { clock, queue, metrics, value };
}

describe('Workqueue', () => {
  it('holds a key once however often it is added', async () => {
    const { queue, metrics, value } = setup();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.length).toBe(2);
    expect(queue.added).toBe(2);
    expect(await value(metrics.workqueueAddsTotal)).toBe(2);
    expect(await value(metrics.workqueueDepth)).toBe(2);
    expect([await queue.get(), await queue.get()]).toEqual(['a', 'b']);
    expect(await value(metrics.workqueueDepth)).toBe(0);
  });

  it('never hands a key to a second worker while the first holds it', async () => {
    const { queue } = setup();
    queue.add('a');
    const first = await queue.get();
    expect(first).toBe('a');

    let second: { key: string | undefined } | undefined;
    void queue.get().then((key) => (second = { key }));
    queue.add('a');
    await flush();
    expect(second).toBeUndefined();
    expect(queue.length).toBe(0);

    queue.done('a');
    await flush();
    expect(second).toEqual({ key: 'a' });
  });

  it('re-queues a key added while it was processing only once, on done', async () => {
    const { queue } = setup();
    queue.add('a');
    await queue.get();
    queue.add('a');
    queue.add('a');
    queue.done('a');
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    expect(queue.length).toBe(0);
  });

  it('wakes waiting workers in order as keys arrive', async () => {
    const { queue } = setup();
    const got: Array<string | undefined> = [];
    const w1 = queue.get().then((k) => got.push(k));
    const w2 = queue.get().then((k) => got.push(k));
    queue.add('x');
    queue.add('y');
    await Promise.all([w1, w2]);
    expect(got).toEqual(['x', 'y']);
    expect(queue.inFlight).toBe(2);
  });

  it('adds a delayed key when its time comes, keeping the earliest time', async () => {
    const { queue, clock } = setup();
    queue.addAfter('a', 100);
    await clock.advance(99);
    expect(queue.length).toBe(0);
    await clock.advance(1);
    expect(queue.length).toBe(1);

    queue.addAfter('b', 500);
    queue.addAfter('b', 50); // earlier: wins
    queue.addAfter('b', 900); // later: ignored
    await clock.advance(50);
    expect(queue.length).toBe(2);
    await clock.advance(1_000);
    expect(queue.length).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('adds at once when the delay is not positive', () => {
    const { queue } = setup();
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    expect(queue.length).toBe(2);
  });

  it('backs a failing key off exponentially and counts the retries', async () => {
    const { queue, clock, metrics, value } = setup({ rateLimiter: new ItemExponentialRateLimiter({ baseMs: 5, maxMs: 1_000_000 }) });
    const readyAfter: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      queue.addRateLimited('k');
      const start = clock.now();
      const next = queue.get();
      let step = 0;
      while (queue.inFlight === 0) {
        await clock.advance(1);
        step++;
        if (step > 10_000) throw new Error('key never came back');
      }
      expect(await next).toBe('k');
      readyAfter.push(clock.now() - start);
      queue.done('k');
    }
    expect(readyAfter).toEqual([5, 10, 20, 40, 80]);
    expect(queue.numRequeues('k')).toBe(5);
    expect(await value(metrics.workqueueRetriesTotal)).toBe(5);

    queue.forget('k');
    queue.addRateLimited('k');
    await clock.advance(5);
    expect(queue.length).toBe(1);
  });

  it('records how long a key waited before a worker took it', async () => {
    const { queue, clock, metrics } = setup();
    queue.add('a');
    await clock.advance(250);
    await queue.get();
    const { values } = await metrics.workqueueQueueDurationSeconds.get();
    expect(values.find((v) => v.metricName === 'backlot_workqueue_queue_duration_seconds_sum')?.value).toBeCloseTo(0.25);
    expect(values.find((v) => v.metricName === 'backlot_workqueue_queue_duration_seconds_count')?.value).toBe(1);
  });

  it('on shutdown releases waiting workers, drops pending keys and ignores new ones', async () => {
    const { queue, clock } = setup();
    const waiting = queue.get();
    queue.shutDown();
    expect(await waiting).toBeUndefined();

    const other = setup();
    other.queue.add('a');
    other.queue.addAfter('b', 100);
    other.queue.shutDown();
    expect(other.queue.length).toBe(0);
    expect(other.clock.pendingTimers).toBe(0);
    other.queue.add('c');
    other.queue.addRateLimited('d');
    expect(other.queue.length).toBe(0);
    expect(await other.queue.get()).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('drains: waits for keys workers hold, then resolves true', async () => {
    const { queue, clock } = setup();
    queue.add('a');
    queue.add('b');
    await queue.get();
    await queue.get();
    let drained: boolean | undefined;
    void queue.shutDownWithDrain(30_000).then((d) => (drained = d));
    queue.done('a');
    await clock.advance(1_000);
    expect(drained).toBeUndefined();
    queue.done('b');
    await flush();
    expect(drained).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('drains: gives up at the deadline and resolves false', async () => {
    const { queue, clock } = setup();
    queue.add('stuck');
    await queue.get();
    let drained: boolean | undefined;
    void queue.shutDownWithDrain(30_000).then((d) => (drained = d));
    await clock.advance(29_999);
    expect(drained).toBeUndefined();
    await clock.advance(1);
    expect(drained).toBe(false);
    // A late done() after the deadline is harmless.
    queue.done('stuck');
    expect(queue.inFlight).toBe(0);
  });

  it('drains at once when nothing is in flight', async () => {
    const { queue } = setup();
    queue.add('queued-only');
    expect(await queue.shutDownWithDrain(1_000)).toBe(true);
  });

  it('tells when it is empty: nothing queued and nothing held, a re-added key included', async () => {
    const { queue } = setup();
    let empty = false;
    await queue.whenEmpty(); // empty from the start: at once
    queue.add('a');
    queue.add('b');
    void queue.whenEmpty().then(() => (empty = true));
    const a = await queue.get();
    queue.add('a'); // dirty while held: comes back on done
    queue.done(a!);
    await flush();
    expect(empty).toBe(false);
    queue.done((await queue.get())!); // b
    await flush();
    expect(empty).toBe(false); // a is queued again
    queue.done((await queue.get())!);
    await flush();
    expect(empty).toBe(true);
  });

  it('releases those waiting for it to empty when it shuts down', async () => {
    const { queue } = setup();
    queue.add('a');
    let released = false;
    void queue.whenEmpty().then(() => (released = true));
    queue.shutDown();
    await flush();
    expect(released).toBe(true);
  });

  it('takes keys of the default priority before low ones, first in first out within each', async () => {
    const { queue, metrics, value } = setup();
    queue.add('replay-1', LOW_PRIORITY);
    queue.add('replay-2', LOW_PRIORITY);
    queue.add('change-1');
    queue.add('change-2');
    expect(queue.length).toBe(4);
    expect(await value(metrics.workqueueDepth)).toBe(4);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) order.push((await queue.get())!);
    expect(order).toEqual(['change-1', 'change-2', 'replay-1', 'replay-2']);
    expect(queue.length).toBe(0);
  });

  it('moves a waiting key up when it is added again at a higher priority, and holds it once', async () => {
    const { queue } = setup();
    queue.add('a', LOW_PRIORITY);
    queue.add('b', LOW_PRIORITY);
    queue.add('b'); // moved up
    queue.add('b', LOW_PRIORITY); // never down
    expect(queue.length).toBe(2);
    expect(queue.added).toBe(2);
    expect([await queue.get(), await queue.get()]).toEqual(['b', 'a']);
    expect(queue.length).toBe(0);
    let next: string | undefined = 'none';
    void queue.get().then((k) => (next = k));
    await flush();
    expect(next).toBe('none'); // the stale entry of b is skipped, not handed out
    queue.done('a');
    queue.done('b');
    await queue.whenEmpty();
  });

  it('re-queues a key added while processing at the highest priority it was added with', async () => {
    const { queue } = setup();
    queue.add('held');
    await queue.get();
    queue.add('other', LOW_PRIORITY);
    queue.add('held', LOW_PRIORITY);
    queue.add('held');
    queue.done('held');
    expect(queue.length).toBe(2);
    expect([await queue.get(), await queue.get()]).toEqual(['held', 'other']);
  });

  it('while a default key is processed, lets LOW keys hold only lowPriorityLimit workers; with none, every worker', async () => {
    const queue = new Workqueue({ name: 'test', clock: new FakeClock(), lowPriorityLimit: 2 });
    expect(() => new Workqueue({ name: 'bad', lowPriorityLimit: 0 })).toThrow(/at least 1/);
    const taken: string[] = [];
    const worker = () => void queue.get().then((k) => k && taken.push(k));
    for (let i = 0; i < 5; i++) worker();

    // A start-up pass: no direct work, so derived keys take every worker they find.
    for (const k of ['low-1', 'low-2', 'low-3']) queue.add(k, LOW_PRIORITY);
    await flush();
    expect(taken).toEqual(['low-1', 'low-2', 'low-3']);
    for (const k of taken.splice(0)) queue.done(k);
    for (let i = 0; i < 3; i++) worker(); // five waiting again

    // Direct work in flight: two LOW keys at most, the rest wait though workers are free.
    queue.add('direct');
    for (const k of ['low-4', 'low-5', 'low-6', 'low-7']) queue.add(k, LOW_PRIORITY);
    await flush();
    expect(taken).toEqual(['direct', 'low-4', 'low-5']);
    expect({ inFlight: queue.inFlight, waiting: queue.length }).toEqual({ inFlight: 3, waiting: 2 });

    // Default keys are never held back.
    queue.add('direct-2');
    await flush();
    expect(taken).toEqual(['direct', 'low-4', 'low-5', 'direct-2']);

    // A LOW key done makes room for the next one.
    queue.done('low-4');
    await flush();
    expect(taken.slice(4)).toEqual(['low-6']);

    // With no default key in flight, the limit is off.
    worker();
    queue.add('low-8', LOW_PRIORITY);
    queue.done('direct');
    await flush();
    expect(taken.slice(5)).toEqual([]); // direct-2 is still in flight
    queue.done('direct-2');
    await flush();
    expect(taken.slice(5)).toEqual(['low-7']);
    expect(queue.length).toBe(1); // low-8: no worker free
  });
});
