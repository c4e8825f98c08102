/**
 * Events (events.k8s.io/v1) about catalog entities. They are emitted on transitions only, by
 * callers that compare the state before and after a write, so a resync never repeats one.
 * Events are sent in the background; failing to send one never fails a reconcile: it is
 * logged and dropped. Events that say the same thing of several objects (claims, on a first
 * install thousands at once) are combined while they wait: one Event lists them all.
 *
 * One file above the usual size because queueing, combining, holding over a first pass and
 * sending all work on the recorder's one queue and its limit.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../util/clock.ts';
import { narrowError } from './errors.ts';
import type { KubeObject } from './object.ts';
import type { RestClient } from './rest.ts';

export const REPORTING_CONTROLLER = 'backlot.dev/operator';

export interface EventSpec {
  regarding: KubeObject;
  /** CamelCase, e.g. ClaimGained, DependencyNotReady. */
  reason: string;
  /** What Backlot did or saw, e.g. Claimed, Observed. */
  action: string;
  type: 'Normal' | 'Warning';
  note: string;
  /** A second object involved, e.g. the workload of a claim. */
  related?: KubeObject;
  /**
   * Makes the event one of a kind that combines: while it waits to be sent, a later event with
   * the same regarding object, reason, type and `group` is folded into it instead of queued.
   * `item` names what this one is about (e.g. "Deployment checkout"); the combined Event's note
   * is `note(list, count)`, with the items as one phrase ("A, B and 3 more") and how many there
   * are. A combined Event names no related object.
   */
  combine?: { group: string; item: string; note: (list: string, count: number) => string };
}

/**
 * How long an event that combines waits before it is sent, for the rest of its kind to join
 * it (the ownership writes of one entity's workloads follow each other closely).
 */
export const COMBINE_WINDOW_MS = 1000;

/** The longest hold() keeps events that combine, should the first pass never end. */
export const HOLD_LIMIT_MS = 120_000;

/** Events waiting, at most, unless told otherwise (about a kilobyte each while they wait). */
export const DEFAULT_EVENT_QUEUE_LIMIT = 4096;

/** Items named in a combined note; the rest are counted. */
export const COMBINED_ITEMS_LISTED = 10;

/** "A", "A and B", "A, B and C", "A, B, … and 3 more": at most COMBINED_ITEMS_LISTED named. */
export function itemList(items: readonly string[], count: number): string {
  const named = items.slice(0, COMBINED_ITEMS_LISTED);
  const more = count - named.length;
  if (more > 0) return `${named.join(', ')} and ${more} more`;
  if (named.length === 1) return named[0]!;
  return `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]}`;
}

function reference(obj: KubeObject) {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata?.namespace,
    name: obj.metadata?.name,
    uid: obj.metadata?.uid,
    resourceVersion: obj.metadata?.resourceVersion,
  };
}

export interface EventRecorderOptions {
  client: RestClient;
  clock: Clock;
  logger: Logger;
  /** This instance, e.g. the pod name. */
  instance: string;
  /**
   * Events waiting to be sent; past this many, new ones are dropped (and logged). Default
   * DEFAULT_EVENT_QUEUE_LIMIT. A function is asked again at each event, so the limit can grow
   * with what the events are about (see eventQueueLimit in reconcilers/catalog.ts).
   */
  queueLimit?: number | (() => number);
  /** Events sent at once. Default 4. */
  concurrency?: number;
}

type EventBody = Record<string, unknown> & { metadata: { namespace: string; generateName: string } };

/** An event waiting to be sent, with what was folded into it. */
interface Waiting {
  body: EventBody;
  /** Set for events that combine: the key they combine under, the items, how many in all. */
  combined?: { key: string; items: string[]; count: number; note: (list: string, count: number) => string };
}

function combineKey(event: EventSpec): string | undefined {
  if (!event.combine) return undefined;
  const r = event.regarding.metadata;
  return JSON.stringify([r?.uid ?? `${r?.namespace}/${r?.name}`, event.reason, event.type, event.combine.group]);
}

/**
 * Records Events in the background, as client-go's broadcaster does: `record` returns at once,
 * so a reconcile never waits on an Event (nor holds a worker while one is sent), and a burst
 * larger than the queue drops Events rather than memory or time.
 */
export class EventRecorder {
  private readonly options: EventRecorderOptions;
  private readonly limit: () => number;
  private readonly concurrency: number;
  private readonly queue: Waiting[] = [];
  /** Events that combine, in their window, oldest first; then they join the queue. */
  private readonly held: { entry: Waiting; due: number }[] = [];
  private heldTimer: TimerHandle | undefined;
  /** While set, events that combine are held until it is cleared (see hold). */
  private holding = false;
  private holdTimer: TimerHandle | undefined;
  /** The waiting events that combine, by their key. */
  private readonly combinable = new Map<string, Waiting>();
  private sending = 0;
  private droppedSinceLog = 0;
  private readonly idleWaiters: Array<() => void> = [];
  /** Off: record() takes nothing (see disable). */
  private on = true;
  /** Events refused since the recorder was turned off. */
  private refused = 0;

  constructor(options: EventRecorderOptions) {
    this.options = options;
    const limit = options.queueLimit ?? DEFAULT_EVENT_QUEUE_LIMIT;
    this.limit = typeof limit === 'number' ? () => limit : limit;
    this.concurrency = options.concurrency ?? 4;
  }

  /** Events queued or being sent. */
  get pending(): number {
    return this.queue.length + this.held.length + this.sending;
  }

  /**
   * Queues the event; its time is now, whenever it is sent. An event that combines is held for
   * COMBINE_WINDOW_MS first; one that combines with an event still waiting is folded into that
   * one (which keeps its place and its time).
   */
  record(event: EventSpec): void {
    if (!this.on) {
      this.refused++;
      return;
    }
    const key = combineKey(event);
    const waiting = key !== undefined ? this.combinable.get(key) : undefined;
    if (waiting?.combined) {
      if (waiting.combined.items.length < COMBINED_ITEMS_LISTED) waiting.combined.items.push(event.combine!.item);
      waiting.combined.count++;
      return;
    }
    const limit = this.limit();
    if (this.queue.length + this.held.length >= limit) {
      if (this.droppedSinceLog++ === 0) this.options.logger.warn({ queueLimit: limit, reason: event.reason }, 'event queue full, dropping events');
      return;
    }
    if (this.droppedSinceLog > 0) {
      this.options.logger.warn({ dropped: this.droppedSinceLog }, 'event queue has room again');
      this.droppedSinceLog = 0;
    }
    const combined = key !== undefined ? { key, items: [event.combine!.item], count: 1, note: event.combine!.note } : undefined;
    const entry: Waiting = { body: this.body(event), ...(combined ? { combined } : {}) };
    if (key === undefined) {
      this.queue.push(entry);
      this.pump();
      return;
    }
    this.combinable.set(key, entry);
    if (this.holding) {
      this.held.push({ entry, due: Infinity });
      return;
    }
    this.held.push({ entry, due: this.options.clock.now() + COMBINE_WINDOW_MS });
    this.heldTimer ??= this.options.clock.setTimer(COMBINE_WINDOW_MS, () => this.release());
  }

  /**
   * Holds every event that combines from now until `hold(false)`, then sends them, oldest
   * first. Over the operator's first pass (a first install, a restart after changes, a new
   * leader), an entity's claims then make one Event, whatever order its workloads are
   * reconciled in, and the Events wait until the state they describe is written: on a first
   * install they would otherwise take the API server's time from the writes that make it.
   * A hold ends by itself after HOLD_LIMIT_MS.
   */
  hold(on: boolean): void {
    if (on === this.holding) return;
    this.holding = on;
    this.holdTimer?.cancel();
    this.holdTimer = undefined;
    if (on) {
      this.holdTimer = this.options.clock.setTimer(HOLD_LIMIT_MS, () => this.hold(false));
      return;
    }
    this.heldTimer?.cancel();
    this.heldTimer = undefined;
    for (const { entry } of this.held.splice(0)) this.queue.push(entry);
    this.pump();
  }

  /** Whether record() takes events: true unless disable() was called last. */
  get enabled(): boolean {
    return this.on;
  }

  /**
   * Turns the recorder off, for a replica that no longer leads: the events waiting (queued
   * or held) are dropped, with one log line that counts them, the timers are cancelled, a
   * hold ends, and record() takes nothing until enable(). What they describe is the new
   * leader's to report: this replica's view may be stale, and its writes were stopped. Events
   * already being sent finish.
   */
  disable(): void {
    if (!this.on) return;
    this.on = false;
    const dropped = this.queue.length + this.held.length;
    this.queue.length = 0;
    this.held.length = 0;
    this.combinable.clear();
    this.heldTimer?.cancel();
    this.heldTimer = undefined;
    this.holdTimer?.cancel();
    this.holdTimer = undefined;
    this.holding = false;
    this.droppedSinceLog = 0;
    this.refused = 0;
    this.options.logger.info({ dropped }, 'event recording off: waiting events dropped');
    if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /**
   * Sends what waits now, a hold and the combine windows cut short, and resolves once all of
   * it has gone or `timeoutMs` has passed, for an orderly shutdown: the last claims of a term
   * still reach their entities. What is left then is the caller's to drop (disable()).
   */
  async flush(timeoutMs: number): Promise<void> {
    if (!this.on) return;
    this.hold(false);
    this.heldTimer?.cancel();
    this.heldTimer = undefined;
    for (const { entry } of this.held.splice(0)) this.queue.push(entry);
    this.pump();
    if (this.pending === 0 || timeoutMs <= 0) return;
    let timer: TimerHandle | undefined;
    await Promise.race([this.idle(), new Promise<void>((resolve) => (timer = this.options.clock.setTimer(timeoutMs, resolve)))]);
    timer?.cancel();
  }

  /** Turns the recorder on again (a replica that leads again); it starts on. */
  enable(): void {
    if (this.on) return;
    this.on = true;
    if (this.refused > 0) this.options.logger.info({ refused: this.refused }, 'event recording on: events refused while it was off');
    this.refused = 0;
  }

  /** Moves the held events whose window is over to the queue, and waits for the next. */
  private release(): void {
    this.heldTimer = undefined;
    const now = this.options.clock.now();
    while (this.held.length > 0 && this.held[0]!.due <= now) this.queue.push(this.held.shift()!.entry);
    if (this.held.length > 0) this.heldTimer = this.options.clock.setTimer(this.held[0]!.due - now, () => this.release());
    this.pump();
  }

  /** Resolves once every queued event has been sent or given up on. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.sending < this.concurrency && this.queue.length > 0) {
      const { body, combined } = this.queue.shift()!;
      if (combined) {
        this.combinable.delete(combined.key);
        if (combined.count > 1) {
          body.note = combined.note(itemList(combined.items, combined.count), combined.count).slice(0, 1024);
          delete body.related;
        }
      }
      this.sending++;
      void this.send(body).finally(() => {
        this.sending--;
        this.pump();
        if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      });
    }
  }

  private body(event: EventSpec): EventBody {
    const namespace = event.regarding.metadata?.namespace ?? 'default';
    const now = new Date(this.options.clock.now());
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { generateName: `${event.regarding.metadata?.name ?? 'backlot'}-`, namespace },
      eventTime: now.toISOString().replace('Z', '000Z'),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.options.instance,
      action: event.action,
      reason: event.reason,
      type: event.type,
      note: event.note.slice(0, 1024),
      regarding: reference(event.regarding),
      ...(event.related ? { related: reference(event.related) } : {}),
    };
  }

  private async send(body: EventBody): Promise<void> {
    const namespace = body.metadata.namespace;
    try {
      await this.options.client.request({ method: 'POST', path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`, body });
    } catch (err) {
      const regarding = body.regarding as { name?: string };
      this.options.logger.warn({ err: narrowError(err).message, reason: body.reason, namespace, name: regarding.name }, 'event not recorded');
    }
  }
}
