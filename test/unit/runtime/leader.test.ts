/**
 * Leader election timing with a clock the test moves. The lease lives in a small in-memory
 * store with the API server's optimistic concurrency (a stale resourceVersion gets 409);
 * the REST store itself is exercised against a real API server in the integration tests.
 */
import { describe, expect, it } from '@jest/globals';
import { LeaderElector, type StopReason } from '../../../src/runtime/leader.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';
import { FakeClock } from './fake-clock.ts';
import { MemoryLeaseStore } from './memory-lease-store.ts';

function candidate(clock: FakeClock, leases: MemoryLeaseStore, identity: string, options: { drainMs?: number } = {}) {
  const { store, state } = leases.view(identity);
  const events: Array<{ at: number; what: string }> = [];
  const { logger, lines } = recordingLogger('info');
  const elector = new LeaderElector({
    identity,
    lease: store,
    logger,
    clock,
    random: () => 0.5,
    callbacks: {
      onStartedLeading: () => events.push({ at: clock.now(), what: 'started' }),
      onStoppedLeading: async (reason: StopReason) => {
        events.push({ at: clock.now(), what: `stopping:${reason}` });
        if (reason === 'shutdown' && options.drainMs) await new Promise<void>((r) => clock.setTimer(options.drainMs!, r));
        events.push({ at: clock.now(), what: `stopped:${reason}` });
      },
    },
  });
  const controller = new AbortController();
  const running = elector.run(controller.signal);
  return { elector, state, events, lines, stop: () => controller.abort(), running };
}

/** Advances in small steps, asserting after each that at most one candidate believes it leads. */
async function advanceChecked(clock: FakeClock, ms: number, electors: LeaderElector[], step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    await clock.advance(Math.min(step, ms - t));
    expect(electors.filter((e) => e.isLeader).length).toBeLessThanOrEqual(1);
  }
}

describe('LeaderElector', () => {
  it('creates the lease, leads, and renews every retry period', async () => {
    const clock = new FakeClock();
    const leases = new MemoryLeaseStore();
    const a = candidate(clock, leases, 'a');
    await clock.advance(0);
    expect(a.elector.isLeader).toBe(true);
    expect(a.events).toEqual([{ at: clock.now(), what: 'started' }]);
    const start = clock.now();
    await clock.advance(10_000);
    const renewals = leases.writes.slice(1).map((w) => (w.record.renewTime ?? 0) - start);
    expect(renewals).toEqual([2_000, 4_000, 6_000, 8_000, 10_000]);
    expect(leases.lease?.record).toMatchObject({ holderIdentity: 'a', leaseTransitions: 0, acquireTime: start });
    a.stop();
    await clock.advance(0);
    await a.running;
  });

  it('lets exactly one of two candidates lead', async () => {
    const clock = new FakeClock();
    const leases = new MemoryLeaseStore();
    const a = candidate(clock, leases, 'a');
    const b = candidate(clock, leases, 'b');
    await advanceChecked(clock, 60_000, [a.elector, b.elector]);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);
    expect(new Set(leases.writes.map((w) => w.by))).toEqual(new Set(['a']));
    expect(b.lines.some((l) => l.msg === 'new leader observed' && l.leader === 'a')).toBe(true);
  });

  it('a leader cut off steps down within the renew deadline, before the standby takes over', async () => {
    const clock = new FakeClock();
    const leases = new MemoryLeaseStore();
    const a = candidate(clock, leases, 'a');
    const b = candidate(clock, leases, 'b');
    await advanceChecked(clock, 5_000, [a.elector, b.elector]);
    const lastRenewByA = leases.writes.filter((w) => w.by === 'a').at(-1)!.record.renewTime!;

    a.state.down = true;
    await advanceChecked(clock, 30_000, [a.elector, b.elector]);
    const lost = a.events.find((e) => e.what === 'stopping:lost')!;
    const takeover = b.events.find((e) => e.what === 'started')!;
    expect(lost.at - lastRenewByA).toBeLessThanOrEqual(10_000);
    expect(lost.at).toBeLessThan(takeover.at);
    // b saw a's last renewal within a retry period of it, and waited the full lease duration from then.
    expect(takeover.at - lastRenewByA).toBeGreaterThanOrEqual(15_000);
    expect(takeover.at - lastRenewByA).toBeLessThanOrEqual(15_000 + 2_400 + 2_400);
    expect(leases.lease?.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });

    // a comes back: it is a candidate again and does not take the lease from b.
    a.state.down = false;
    await advanceChecked(clock, 30_000, [a.elector, b.elector]);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([false, true]);
  });

  it('rides out renewal failures shorter than the renew deadline', async () => {
    const clock = new FakeClock();
    const leases = new MemoryLeaseStore();
    const a = candidate(clock, leases, 'a');
    await clock.advance(4_000);
    a.state.down = true;
    await clock.advance(7_000);
    a.state.down = false;
    await clock.advance(10_000);
    expect(a.elector.isLeader).toBe(true);
    expect(a.events.map((e) => e.what)).toEqual(['started']);
  });

  it('steps down at once when the lease names someone else', async () => {
    const clock = new FakeClock();
    const leases = new MemoryLeaseStore();
    const a = candidate(clock, leases, 'a');
    await clock.advance(1_000);
    leases.lease = { record: { ...leases.lease!.record, holderIdentity: 'intruder' }, resourceVersion: 'x' };
    await clock.advance(2_000);
    expect(a.elector.isLeader).toBe(false);
    expect(a.events.map((e) => e.what)).toEqual(['started', 'stopping:lost', 'stopped:lost']);
  });

  it('on shutdown keeps renewing while the work drains, then releases so the standby takes over at once', async () => {
    const clock = new FakeClock();
    const leases = new MemoryLeaseStore();
    const a = candidate(clock, leases, 'a', { drainMs: 20_000 });
    const b = candidate(clock, leases, 'b');
    await advanceChecked(clock, 3_000, [a.elector, b.elector]);

    const shutdownAt = clock.now();
    a.stop();
    // The drain takes longer than the lease duration: b must not take over meanwhile.
    await advanceChecked(clock, 19_900, [a.elector, b.elector]);
    expect(b.elector.isLeader).toBe(false);
    await advanceChecked(clock, 100, [a.elector, b.elector]);
    await a.running;
    const released = leases.writes.find((w) => w.by === 'a' && w.record.holderIdentity === '');
    expect(released?.record).toMatchObject({ leaseDurationSeconds: 1 });
    expect(a.lines.some((l) => l.msg === 'lease released')).toBe(true);

    await advanceChecked(clock, 3_000, [a.elector, b.elector]);
    const takeover = b.events.find((e) => e.what === 'started')!;
    expect(takeover.at - (shutdownAt + 20_000)).toBeLessThanOrEqual(2_400);
    expect(a.events.map((e) => e.what)).toEqual(['started', 'stopping:shutdown', 'stopped:shutdown']);
  });

  it('stops the work at once when renewal fails during the shutdown drain, and does not release', async () => {
    const clock = new FakeClock();
    const leases = new MemoryLeaseStore();
    const a = candidate(clock, leases, 'a', { drainMs: 30_000 });
    await clock.advance(1_000);
    a.stop();
    await clock.advance(1_000);
    a.state.down = true;
    await clock.advance(15_000);
    expect(a.events.map((e) => e.what)).toEqual(['started', 'stopping:shutdown', 'stopping:lost', 'stopped:lost']);
    expect(a.elector.isLeader).toBe(false);
    await clock.advance(20_000);
    await a.running;
    expect(leases.writes.some((w) => w.record.holderIdentity === '')).toBe(false);
  });

  it('a candidate that never led stops without writing', async () => {
    const clock = new FakeClock();
    const leases = new MemoryLeaseStore();
    const a = candidate(clock, leases, 'a');
    const b = candidate(clock, leases, 'b');
    await clock.advance(1_000);
    const writes = leases.writes.length;
    b.stop();
    await clock.advance(0);
    await b.running;
    expect(leases.writes.length).toBe(writes);
    expect(b.events).toEqual([]);
    a.stop();
    await clock.advance(0);
    await a.running;
  });
});
