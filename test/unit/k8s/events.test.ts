import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { EventRecorder, type EventSpec } from '../../../src/k8s/events.ts';
import type { RestClient, RestRequest } from '../../../src/k8s/rest.ts';
import { FakeClock } from '../runtime/fake-clock.ts';

/** A client whose requests stay open until the test releases them. */
function heldClient() {
  const requests: { req: RestRequest; release: (err?: Error) => void }[] = [];
  const client = {
    request: (req: RestRequest) =>
      new Promise<unknown>((resolve, reject) => {
        requests.push({ req, release: (err) => (err ? reject(err) : resolve({})) });
      }),
  } as unknown as RestClient;
  return { client, requests };
}

function logCollector() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const event = (name: string, reason = 'WorkloadsNotReady'): EventSpec => ({
  regarding: { apiVersion: 'catalog.backlot.dev/v1alpha1', kind: 'Component', metadata: { name, namespace: 'shop', uid: `uid-${name}` } },
  reason,
  action: 'Reconcile',
  type: 'Warning',
  note: `Ready is False: ${name}`,
});

const flush = () => new Promise((r) => setImmediate(r));

describe('EventRecorder', () => {
  it('returns before the event is sent, and sends it as an events.k8s.io/v1 Event', async () => {
    const { client, requests } = heldClient();
    const clock = new FakeClock(Date.parse('2026-11-22T10:00:00Z'));
    const recorder = new EventRecorder({ client, clock, logger: logCollector().logger, instance: 'backlot-0' });
    recorder.record(event('checkout'));
    expect(recorder.pending).toBe(1);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.req).toMatchObject({
      method: 'POST',
      path: '/apis/events.k8s.io/v1/namespaces/shop/events',
      body: {
        metadata: { generateName: 'checkout-', namespace: 'shop' },
        eventTime: '2026-11-22T10:00:00.000000Z',
        reportingController: 'backlot.dev/operator',
        reportingInstance: 'backlot-0',
        reason: 'WorkloadsNotReady',
        type: 'Warning',
        regarding: { kind: 'Component', name: 'checkout', uid: 'uid-checkout' },
      },
    });
    requests[0]!.release();
    await recorder.idle();
    expect(recorder.pending).toBe(0);
  });

  it('sends at most `concurrency` at once, the rest in order as each finishes', async () => {
    const { client, requests } = heldClient();
    const recorder = new EventRecorder({ client, clock: new FakeClock(), logger: logCollector().logger, instance: 'i', concurrency: 2 });
    for (const name of ['a', 'b', 'c', 'd']) recorder.record(event(name));
    expect(requests.map((r) => (r.req.body as { regarding: { name: string } }).regarding.name)).toEqual(['a', 'b']);
    requests[1]!.release();
    await flush();
    expect(requests.map((r) => (r.req.body as { regarding: { name: string } }).regarding.name)).toEqual(['a', 'b', 'c']);
    expect(recorder.pending).toBe(3);
  });

  it('drops what does not fit in the queue, logs it once per burst, and takes events again when there is room', async () => {
    const { client, requests } = heldClient();
    const { logger, lines } = logCollector();
    const recorder = new EventRecorder({ client, clock: new FakeClock(), logger, instance: 'i', concurrency: 1, queueLimit: 2 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) recorder.record(event(name));
    // a is being sent, b and c wait; d and e are dropped.
    expect(recorder.pending).toBe(3);
    expect(lines.filter((l) => l.msg === 'event queue full, dropping events')).toHaveLength(1);
    requests[0]!.release();
    await flush();
    recorder.record(event('f'));
    expect(lines.find((l) => l.msg === 'event queue has room again')).toMatchObject({ dropped: 2 });
    for (let i = 1; i < 4; i++) {
      await flush();
      requests[i]!.release();
    }
    await recorder.idle();
    expect(requests.map((r) => (r.req.body as { regarding: { name: string } }).regarding.name)).toEqual(['a', 'b', 'c', 'f']);
  });

  it('logs a failed send and goes on with the next event', async () => {
    const { client, requests } = heldClient();
    const { logger, lines } = logCollector();
    const recorder = new EventRecorder({ client, clock: new FakeClock(), logger, instance: 'i', concurrency: 1 });
    recorder.record(event('a', 'DependencyNotReady'));
    recorder.record(event('b'));
    requests[0]!.release(new Error('connection reset'));
    await flush();
    expect(lines.find((l) => l.msg === 'event not recorded')).toMatchObject({ err: 'connection reset', reason: 'DependencyNotReady', namespace: 'shop', name: 'a' });
    expect(requests).toHaveLength(2);
    requests[1]!.release();
    await recorder.idle();
  });
});
