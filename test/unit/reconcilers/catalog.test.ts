/** The catalog's sizing: workers per controller, and room for Events. */
import { describe, expect, it } from '@jest/globals';
import { DEFAULT_EVENT_QUEUE_LIMIT } from '../../../src/k8s/events.ts';
import { entityWorkers, eventQueueLimit, lowPriorityWorkers } from '../../../src/reconcilers/catalog.ts';

describe('catalog sizing', () => {
  it('gives the Event queue twice the cached entities, never less than the default', () => {
    expect(eventQueueLimit(0)).toBe(DEFAULT_EVENT_QUEUE_LIMIT);
    expect(eventQueueLimit(2_000)).toBe(DEFAULT_EVENT_QUEUE_LIMIT);
    // A first install of 10,000 Components holds one combined claim Event for each.
    expect(eventQueueLimit(10_000)).toBe(20_000);
  });

  it('runs half as many entity workers as ownership workers, and a quarter of those for derived work', () => {
    expect(entityWorkers(32)).toBe(16);
    expect(lowPriorityWorkers(entityWorkers(32))).toBe(4);
    expect(entityWorkers(1)).toBe(1);
    expect(lowPriorityWorkers(1)).toBe(1);
  });
});
