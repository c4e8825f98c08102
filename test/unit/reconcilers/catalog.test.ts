/** The catalog's sizing (workers per controller, room for Events) and how its Events follow leadership. */
import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { DEFAULT_EVENT_QUEUE_LIMIT, type EventSpec } from '../../../src/k8s/events.ts';
import type { RestClient, RestRequest } from '../../../src/k8s/rest.ts';
import { RuntimeMetrics } from '../../../src/metrics/runtime.ts';
import { createCatalog, entityWorkers, eventQueueLimit, lowPriorityWorkers } from '../../../src/reconcilers/catalog.ts';
import { InformerFactory } from '../../../src/runtime/factory.ts';
import { recordingLogger } from '../../support/runtime-helpers.ts';
import { FakeClock } from '../runtime/fake-clock.ts';

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

describe("the catalog's Events", () => {
  it('are recorded only while this process leads: a lost lease drops those waiting, the next term records again', async () => {
    const posted: RestRequest[] = [];
    // Never answers: what was posted stays in flight, and nothing else is asked of it here.
    const client = { request: (req: RestRequest) => (posted.push(req), new Promise(() => undefined)) } as unknown as RestClient;
    const { logger } = recordingLogger('silent');
    const clock = new FakeClock();
    let leadership!: (leading: boolean) => void;
    let firstPass!: (running: boolean) => void;
    const { events } = createCatalog({
      makeInformer: (request) => new InformerFactory({ client, logger }).informer(request),
      client,
      logger,
      clock,
      metrics: new RuntimeMetrics(new Registry()),
      instance: 'backlot-0',
      onLeadership: (listener) => (leadership = listener),
      onFirstPass: (listener) => (firstPass = listener),
    });
    const claim = (name: string): EventSpec => ({
      regarding: { apiVersion: 'catalog.backlot.dev/v1alpha1', kind: 'Component', metadata: { name: 'checkout', namespace: 'shop', uid: 'uid-checkout' } },
      reason: 'ClaimGained',
      action: 'Claimed',
      type: 'Normal',
      note: `claimed ${name}`,
      combine: { group: '', item: name, note: (list) => `claimed ${list}` },
    });

    leadership(true);
    firstPass(true);
    events.record(claim('Deployment a')); // held over the first pass
    leadership(false); // the lease is lost before the pass ends
    firstPass(false);
    await clock.advance(10_000);
    expect(posted).toEqual([]);
    events.record(claim('Deployment b'));
    await clock.advance(10_000);
    expect(posted).toEqual([]);

    leadership(true);
    events.record(claim('Deployment c'));
    await clock.advance(10_000);
    expect(posted.map((r) => (r.body as { note: string }).note)).toEqual(['claimed Deployment c']);
  });
});
