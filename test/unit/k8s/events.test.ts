import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { COMBINE_WINDOW_MS, COMBINED_ITEMS_LISTED, EventRecorder, HOLD_LIMIT_MS, itemList, type EventSpec } from '../../../src/k8s/events.ts';
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

function logCollector(level = 'warn') {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
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
    expect(lines.find((l) => l.msg === 'event not recorded')).toMatchObject({
      err: 'connection reset',
      reason: 'DependencyNotReady',
      namespace: 'shop',
      name: 'a',
    });
    expect(requests).toHaveLength(2);
    requests[1]!.release();
    await recorder.idle();
  });
  it('holds an event that combines for its window, folding in later ones of the same object, reason and group', async () => {
    const { client, requests } = heldClient();
    const clock = new FakeClock(Date.parse('2026-11-22T10:00:00Z'));
    const recorder = new EventRecorder({ client, clock, logger: logCollector().logger, instance: 'i' });
    const workload = (name: string) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'shop', uid: `uid-${name}` } });
    const claim = (entity: string, name: string, group = ''): EventSpec => ({
      ...event(entity, 'ClaimGained'),
      type: 'Normal',
      related: workload(name),
      note: `claimed Deployment ${name}`,
      combine: { group, item: `Deployment ${name}`, note: (list) => `claimed ${list}` },
    });
    recorder.record(claim('checkout', 'a'));
    await clock.advance(400);
    recorder.record(claim('cart', 'c'));
    recorder.record(claim('checkout', 'b'));
    recorder.record(claim('checkout', 'x', 'other group'));
    // An event that does not combine is sent at once.
    recorder.record(event('busy'));
    expect(requests.map((r) => (r.req.body as { regarding: { name: string } }).regarding.name)).toEqual(['busy']);
    // checkout (a, b), cart (c) and checkout's other group wait: three, not four.
    expect(recorder.pending).toBe(4);
    await clock.advance(COMBINE_WINDOW_MS - 400);
    // checkout's window is over; cart's and the other group's began 400 ms later.
    expect(requests).toHaveLength(2);
    await clock.advance(400);
    expect(requests).toHaveLength(4);
    for (const r of requests) r.release();
    await recorder.idle();
    const bodies = requests.map((r) => r.req.body as { note: string; eventTime: string; related?: { name: string }; regarding: { name: string } });
    expect(bodies.map((b) => [b.regarding.name, b.note])).toEqual([
      ['busy', 'Ready is False: busy'],
      ['checkout', 'claimed Deployment a and Deployment b'],
      ['cart', 'claimed Deployment c'],
      ['checkout', 'claimed Deployment x'],
    ]);
    // Each keeps the time it was first recorded.
    expect(bodies[1]!.eventTime).toBe('2026-11-22T10:00:00.000000Z');
    expect(bodies[2]!.eventTime).toBe('2026-11-22T10:00:00.400000Z');
    // A combined Event names no related object; a single one keeps it.
    expect(bodies[1]!.related).toBeUndefined();
    expect(bodies[2]!.related).toMatchObject({ name: 'c' });
  });

  it('asks a limit given as a function again at each event, so the queue can grow with the catalog', async () => {
    const { client, requests } = heldClient();
    const { logger, lines } = logCollector();
    let limit = 1;
    const recorder = new EventRecorder({ client, clock: new FakeClock(), logger, instance: 'i', concurrency: 1, queueLimit: () => limit });
    for (const name of ['a', 'b', 'c']) recorder.record(event(name));
    // a is being sent, b waits; c is past the limit of 1.
    expect(recorder.pending).toBe(2);
    expect(lines.find((l) => l.msg === 'event queue full, dropping events')).toMatchObject({ queueLimit: 1 });
    limit = 3;
    for (const name of ['d', 'e']) recorder.record(event(name));
    expect(recorder.pending).toBe(4);
    for (let i = 0; i < 4; i++) {
      await flush();
      requests[i]!.release();
    }
    await recorder.idle();
    expect(requests.map((r) => (r.req.body as { regarding: { name: string } }).regarding.name)).toEqual(['a', 'b', 'd', 'e']);
  });

  it('never folds an event into one already sent, and counts held events against the queue limit', async () => {
    const { client, requests } = heldClient();
    const clock = new FakeClock();
    const { logger, lines } = logCollector();
    const recorder = new EventRecorder({ client, clock, logger, instance: 'i', queueLimit: 2 });
    const claim = (entity: string, name: string): EventSpec => ({
      ...event(entity, 'ClaimGained'),
      note: `claimed ${name}`,
      combine: { group: '', item: name, note: (list) => `claimed ${list}` },
    });
    recorder.record(claim('checkout', 'a'));
    await clock.advance(COMBINE_WINDOW_MS);
    recorder.record(claim('checkout', 'b'));
    recorder.record(claim('cart', 'c'));
    recorder.record(claim('web', 'd'));
    expect(lines.filter((l) => l.msg === 'event queue full, dropping events')).toHaveLength(1);
    await clock.advance(COMBINE_WINDOW_MS);
    for (const r of requests) r.release();
    await recorder.idle();
    expect(requests.map((r) => (r.req.body as { note: string }).note)).toEqual(['claimed a', 'claimed b', 'claimed c']);
  });

  it('holds every event that combines while told to, sends them when released, and ends a hold by itself after HOLD_LIMIT_MS', async () => {
    const { client, requests } = heldClient();
    const clock = new FakeClock();
    const recorder = new EventRecorder({ client, clock, logger: logCollector().logger, instance: 'i' });
    const claim = (entity: string, name: string): EventSpec => ({
      ...event(entity, 'ClaimGained'),
      note: `claimed ${name}`,
      combine: { group: '', item: name, note: (list) => `claimed ${list}` },
    });
    const notes = () => requests.map((r) => (r.req.body as { note: string }).note);
    recorder.hold(true);
    recorder.record(claim('checkout', 'Deployment a'));
    await clock.advance(10 * COMBINE_WINDOW_MS);
    recorder.record(claim('checkout', 'Service b'));
    recorder.record(claim('cart', 'Deployment c'));
    // Events that do not combine are not held.
    recorder.record(event('busy'));
    expect(notes()).toEqual(['Ready is False: busy']);
    recorder.hold(false);
    expect(notes()).toEqual(['Ready is False: busy', 'claimed Deployment a and Service b', 'claimed Deployment c']);
    for (const r of requests) r.release();
    await recorder.idle();

    recorder.hold(true);
    recorder.record(claim('web', 'Deployment d'));
    await clock.advance(HOLD_LIMIT_MS - 1);
    expect(requests).toHaveLength(3);
    await clock.advance(1);
    expect(notes()[3]).toBe('claimed Deployment d');
    // After the limit the window applies again.
    recorder.record(claim('web', 'Deployment e'));
    await clock.advance(COMBINE_WINDOW_MS);
    expect(notes()[4]).toBe('claimed Deployment e');
    for (const r of requests) r.release();
    await recorder.idle();
  });

  it('flushes on shutdown: sends what is held or waits at once, and gives up on the rest after its timeout', async () => {
    const { client, requests } = heldClient();
    const clock = new FakeClock();
    const recorder = new EventRecorder({ client, clock, logger: logCollector().logger, instance: 'i', concurrency: 1 });
    const claim = (entity: string, name: string): EventSpec => ({
      ...event(entity, 'ClaimGained'),
      note: `claimed ${name}`,
      combine: { group: '', item: name, note: (list) => `claimed ${list}` },
    });
    recorder.record(claim('checkout', 'Deployment a')); // in its combine window
    recorder.hold(true);
    recorder.record(claim('cart', 'Deployment b')); // held for the first pass
    recorder.record(event('busy'));
    expect(requests).toHaveLength(1);

    let flushed = false;
    void recorder.flush(2_000).then(() => (flushed = true));
    requests[0]!.release();
    await flush();
    requests[1]!.release();
    await flush();
    requests[2]!.release();
    await flush();
    expect(flushed).toBe(true);
    expect(requests.map((r) => (r.req.body as { note: string }).note)).toEqual(['Ready is False: busy', 'claimed Deployment a', 'claimed Deployment b']);
    expect(clock.pendingTimers).toBe(0);

    // A send that never answers: flush resolves at its timeout, the event still in flight.
    recorder.record(event('stuck'));
    flushed = false;
    void recorder.flush(2_000).then(() => (flushed = true));
    await clock.advance(1_999);
    expect(flushed).toBe(false);
    await clock.advance(1);
    expect(flushed).toBe(true);
    expect(recorder.pending).toBe(1);
    requests[3]!.release();
    await recorder.idle();
  });

  describe('turned off, as a replica that loses the lease', () => {
    const claim = (entity: string, name: string): EventSpec => ({
      ...event(entity, 'ClaimGained'),
      note: `claimed ${name}`,
      combine: { group: '', item: name, note: (list) => `claimed ${list}` },
    });
    const names = (requests: { req: RestRequest }[]) => requests.map((r) => (r.req.body as { regarding: { name: string } }).regarding.name);

    it('drops what waits, queued and held, cancels its timers, finishes what is being sent, and logs the count once', async () => {
      const { client, requests } = heldClient();
      const clock = new FakeClock();
      const { logger, lines } = logCollector('info');
      const recorder = new EventRecorder({ client, clock, logger, instance: 'i', concurrency: 1 });
      recorder.record(event('sending'));
      recorder.record(event('queued'));
      recorder.record(claim('checkout', 'Deployment a'));
      recorder.record(claim('checkout', 'Deployment b')); // folded into the one before
      recorder.hold(true);
      recorder.record(claim('cart', 'Deployment c'));
      expect(recorder.pending).toBe(4);
      expect(clock.pendingTimers).toBe(2); // the combine window and the hold limit

      recorder.disable();
      expect(recorder.enabled).toBe(false);
      expect(clock.pendingTimers).toBe(0);
      expect(recorder.pending).toBe(1); // only the one in flight
      expect(lines.filter((l) => l.msg === 'event recording off: waiting events dropped')).toEqual([expect.objectContaining({ dropped: 3 })]);
      // The end of the first pass, told after the loss, releases nothing.
      recorder.hold(false);
      await clock.advance(HOLD_LIMIT_MS);
      requests[0]!.release();
      await recorder.idle();
      expect(names(requests)).toEqual(['sending']);
      recorder.disable();
      expect(lines.filter((l) => l.msg === 'event recording off: waiting events dropped')).toHaveLength(1);
    });

    it('takes nothing while off, and records again once turned on, counting what it refused', async () => {
      const { client, requests } = heldClient();
      const clock = new FakeClock();
      const { logger, lines } = logCollector('info');
      const recorder = new EventRecorder({ client, clock, logger, instance: 'i' });
      recorder.disable();
      recorder.record(event('late'));
      recorder.record(claim('checkout', 'Deployment a'));
      await clock.advance(COMBINE_WINDOW_MS);
      expect(recorder.pending).toBe(0);
      expect(requests).toEqual([]);
      await recorder.idle();

      recorder.enable();
      expect(recorder.enabled).toBe(true);
      expect(lines.find((l) => l.msg === 'event recording on: events refused while it was off')).toMatchObject({ refused: 2 });
      // A new term's first pass holds and combines as before.
      recorder.hold(true);
      recorder.record(claim('checkout', 'Deployment a'));
      recorder.record(claim('checkout', 'Deployment b'));
      recorder.record(event('now'));
      recorder.hold(false);
      for (const r of requests) r.release();
      await recorder.idle();
      expect(requests.map((r) => (r.req.body as { note: string }).note)).toEqual(['Ready is False: now', 'claimed Deployment a and Deployment b']);
    });

    it('wakes idle() waiters when nothing is left in flight', async () => {
      const { client, requests } = heldClient();
      const recorder = new EventRecorder({ client, clock: new FakeClock(), logger: logCollector().logger, instance: 'i' });
      recorder.hold(true);
      recorder.record(claim('checkout', 'Deployment a'));
      let idle = false;
      void recorder.idle().then(() => (idle = true));
      recorder.disable();
      await flush();
      expect(idle).toBe(true);
      expect(requests).toEqual([]);
    });
  });

  it('lists at most COMBINED_ITEMS_LISTED items and counts the rest', () => {
    expect(itemList(['a'], 1)).toBe('a');
    expect(itemList(['a', 'b'], 2)).toBe('a and b');
    expect(itemList(['a', 'b', 'c'], 3)).toBe('a, b and c');
    const many = Array.from({ length: COMBINED_ITEMS_LISTED }, (_, i) => `w${i}`);
    expect(itemList(many, COMBINED_ITEMS_LISTED + 5)).toBe(`${many.join(', ')} and 5 more`);
  });
});
