/**
 * The manager ties leadership to work: controllers run only while this process leads, stop
 * at once when leadership is lost (in-flight reconciles see their signal abort), start again
 * with a full replay when it is regained, and on shutdown drain before the lease is released.
 */
import { describe, expect, it } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { RestClient } from '../../../src/k8s/rest.ts';
import { RuntimeMetrics } from '../../../src/metrics/runtime.ts';
import { Controller, type Source } from '../../../src/runtime/controller.ts';
import { InformerFactory } from '../../../src/runtime/factory.ts';
import { BEFORE_RELEASE_MAX_MS, Manager } from '../../../src/runtime/manager.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';
import { FakeClock } from './fake-clock.ts';
import { MemoryLeaseStore } from './memory-lease-store.ts';

/** A source over a fixed set of keys that replays them on every registration, as an informer source does. */
function fixedKeys(keys: string[]): Source {
  return {
    name: 'fixed',
    synced: () => Promise.resolve(),
    register(enqueue) {
      for (const k of keys) enqueue(k);
      return () => undefined;
    },
  };
}

function setup(options: { reconcile: (key: string, signal: AbortSignal) => Promise<void>; leaderElection?: boolean }) {
  const clock = new FakeClock();
  const leases = new MemoryLeaseStore();
  const { store, state } = leases.view('me');
  const { logger, lines } = recordingLogger('info');
  const registry = new Registry();
  const metrics = new RuntimeMetrics(registry);
  // Never contacted: the manager's factory has no informers in these tests.
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const reconciled: string[] = [];
  const firstPass: boolean[] = [];
  /** What the manager told, in order: `leading` and `first pass`, each true or false. */
  const told: string[] = [];
  const controller = new Controller({
    name: 'work',
    sources: [fixedKeys(['a', 'b'])],
    logger,
    clock,
    metrics,
    reconcile: async (key, ctx) => {
      reconciled.push(key);
      await options.reconcile(key, ctx.signal);
    },
  });
  const manager = new Manager({
    informers: new InformerFactory({ client: new RestClient(kc), logger }),
    controllers: [controller],
    logger,
    metrics,
    clock,
    shutdownTimeoutMs: 30_000,
    ...(options.leaderElection === false ? {} : { leaderElection: { lease: store, identity: 'me' } }),
    onFirstPass: (running) => {
      firstPass.push(running);
      told.push(`first pass ${running}`);
    },
    onLeadership: (leading) => told.push(`leading ${leading}`),
    beforeRelease: (timeoutMs) => {
      told.push(`before release ${timeoutMs}`);
      return Promise.resolve();
    },
  });
  const stop = new AbortController();
  const running = manager.run(stop.signal);
  const leaderGauge = async () => (await metrics.leader.get()).values[0]?.value;
  return { clock, leases, state, lines, reconciled, firstPass, told, stop: () => stop.abort(), running, leaderGauge };
}

describe('Manager', () => {
  it('runs controllers only while leading; stops them at once on loss, restarts with a replay on regain', async () => {
    const aborted: string[] = [];
    const { clock, leases, state, reconciled, stop, running, leaderGauge } = setup({
      reconcile: (key, signal) =>
        key === 'b'
          ? new Promise<void>((resolve) =>
              signal.addEventListener('abort', () => {
                aborted.push(key);
                resolve();
              }),
            )
          : Promise.resolve(),
    });
    // Someone else holds the lease at first.
    leases.lease = {
      record: { holderIdentity: 'other', leaseDurationSeconds: 15, acquireTime: clock.now(), renewTime: clock.now(), leaseTransitions: 0 },
      resourceVersion: '1',
    };
    await clock.advance(10_000);
    expect(reconciled).toEqual([]);
    expect(await leaderGauge()).toBe(0);

    await clock.advance(10_000); // the other's lease expired unrenewed: this process takes over
    expect(reconciled.sort()).toEqual(['a', 'b']);
    expect(await leaderGauge()).toBe(1);

    state.down = true; // renewals fail: after the renew deadline the work stops, the stuck reconcile is aborted
    await clock.advance(12_000);
    expect(aborted).toEqual(['b']);
    expect(await leaderGauge()).toBe(0);

    state.down = false; // back: the lease still names this process, so it leads again and replays every key
    reconciled.length = 0;
    await clock.advance(5_000);
    expect(reconciled.sort()).toEqual(['a', 'b']);

    stop();
    await clock.advance(35_000);
    await running;
  });

  it('on shutdown drains in-flight work before releasing the lease', async () => {
    let finish!: () => void;
    const { clock, leases, lines, stop, running } = setup({
      reconcile: (key) => (key === 'a' ? new Promise<void>((r) => (finish = r)) : Promise.resolve()),
    });
    await clock.advance(1_000);
    stop();
    await clock.advance(20_000); // longer than the lease: still renewed meanwhile
    expect(leases.lease?.record.holderIdentity).toBe('me');
    finish();
    await clock.advance(100);
    await running;
    expect(leases.lease?.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    const order = lines.map((l) => l.msg).filter((m) => m === 'controllers stopped' || m === 'lease released');
    expect(order).toEqual(['controllers stopped', 'lease released']);
    expect(lines.find((l) => l.msg === 'controllers stopped')).toMatchObject({ reason: 'shutdown', drained: true });
  });

  it('gives beforeRelease only what the drain left of the shutdown timeout, less the reserve for the release', async () => {
    let finish!: () => void;
    const { clock, told, stop, running } = setup({
      reconcile: (key) => (key === 'a' ? new Promise<void>((r) => (finish = r)) : Promise.resolve()),
    });
    await clock.advance(1_000);
    stop();
    await clock.advance(26_000); // of the 30 s, 4 are left: 3 of them kept for the release
    finish();
    await clock.advance(100);
    await running;
    const before = told.find((t) => t.startsWith('before release'));
    expect(Number(before?.split(' ')[2])).toBeGreaterThan(850);
    expect(Number(before?.split(' ')[2])).toBeLessThanOrEqual(1_000);
  });

  it('logs once a term when its first pass is over, with the keys it took, and tells onFirstPass', async () => {
    let finish!: () => void;
    const { clock, lines, firstPass, stop, running } = setup({
      reconcile: (key) => (key === 'a' ? new Promise<void>((r) => (finish = r)) : Promise.resolve()),
    });
    await clock.advance(1_000); // leading; 'a' still running
    expect(lines.filter((l) => l.msg === 'caught up: every object reconciled')).toEqual([]);
    expect(firstPass).toEqual([true]);
    await clock.advance(2_500);
    finish();
    await clock.advance(10);
    const caughtUp = lines.filter((l) => l.msg === 'caught up: every object reconciled');
    expect(caughtUp).toHaveLength(1);
    expect(caughtUp[0]).toMatchObject({ keys: 2 });
    expect(caughtUp[0]?.seconds).toBeGreaterThanOrEqual(2.5);
    expect(firstPass).toEqual([true, false]);
    stop();
    await clock.advance(35_000);
    await running;
  });

  it('tells onLeadership before a term starts, at once when the lease is lost, and after the drain and beforeRelease on shutdown', async () => {
    let stuck = true;
    let finish!: () => void;
    const { clock, leases, state, told, stop, running } = setup({
      // 'b' ignores its abort signal the first time; the second time it waits to be finished.
      reconcile: (key) => (key !== 'b' ? Promise.resolve() : stuck ? new Promise<void>(() => undefined) : new Promise<void>((r) => (finish = r))),
    });
    await clock.advance(1_000);
    expect(told).toEqual(['leading true', 'first pass true']);

    state.down = true; // renewals fail; the reconcile of 'b' does not stop when aborted
    await clock.advance(10_500);
    // Told at once, before the first pass ends and before the controllers are stopped; a lost
    // lease gives nothing queued a last chance.
    expect(told.slice(2)).toEqual(['leading false', 'first pass false']);

    stuck = false;
    state.down = false;
    await clock.advance(5_000); // the abort grace is over; the lease still names this process
    expect(told.slice(4)).toEqual(['leading true', 'first pass true']);

    stop();
    await clock.advance(5_000);
    // Draining 'b' on shutdown: the lease is still held, and it still leads.
    expect(told.slice(6)).toEqual(['first pass false']);
    expect(leases.lease?.record.holderIdentity).toBe('me');
    finish();
    await clock.advance(100);
    await running;
    // What the term queued gets its chance (at most BEFORE_RELEASE_MAX_MS) before leadership ends.
    expect(told.slice(6)).toEqual(['first pass false', `before release ${BEFORE_RELEASE_MAX_MS}`, 'leading false']);
    expect(leases.lease?.record.holderIdentity).toBe('');
  });

  it('without leader election, leads from start to shutdown', async () => {
    const { clock, told, stop, running } = setup({ reconcile: () => Promise.resolve(), leaderElection: false });
    await clock.advance(1_000);
    expect(told).toEqual(['leading true', 'first pass true', 'first pass false']);
    stop();
    await clock.advance(100);
    await running;
    expect(told.filter((t) => t.startsWith('leading'))).toEqual(['leading true', 'leading false']);
    expect(told.slice(-2)).toEqual([`before release ${BEFORE_RELEASE_MAX_MS}`, 'leading false']);
  });
});
