import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { startIdleCollector } from '../../../src/runtime/idle-gc.ts';
import { FakeClock } from './fake-clock.ts';

function setup(minWork = 100) {
  const clock = new FakeClock();
  const state = { added: 0, idle: true };
  let collections = 0;
  const stop = startIdleCollector({
    clock,
    logger: pino({ level: 'silent' }),
    activity: () => ({ ...state }),
    collect: () => collections++,
    minWork,
    intervalMs: 1_000,
  });
  return { clock, state, stop, collections: () => collections };
}

describe('startIdleCollector', () => {
  it('collects once after a burst, when the queues have stayed empty for two looks', async () => {
    const { clock, state, stop, collections } = setup();
    state.added = 500;
    state.idle = false;
    await clock.advance(1_000);
    state.idle = true;
    await clock.advance(1_000);
    // Empty at one look only: the burst may not be over.
    expect(collections()).toBe(0);
    await clock.advance(1_000);
    expect(collections()).toBe(1);
    await clock.advance(10_000);
    expect(collections()).toBe(1);
    stop();
  });

  it('does not collect for a trickle of work, nor while work keeps coming', async () => {
    const { clock, state, stop, collections } = setup();
    state.added = 50;
    await clock.advance(5_000);
    expect(collections()).toBe(0);
    for (let i = 0; i < 10; i++) {
      state.added += 100;
      await clock.advance(1_000);
    }
    expect(collections()).toBe(0);
    await clock.advance(2_000);
    expect(collections()).toBe(1);
    stop();
  });

  it('counts work afresh in a new leadership term, and stops looking when stopped', async () => {
    const { clock, state, stop, collections } = setup();
    state.added = 300;
    await clock.advance(3_000);
    expect(collections()).toBe(1);
    // A new term: its queues count from zero.
    state.added = 150;
    await clock.advance(3_000);
    expect(collections()).toBe(2);
    stop();
    state.added = 10_000;
    await clock.advance(10_000);
    expect(collections()).toBe(2);
    expect(clock.pendingTimers).toBe(0);
  });
});
