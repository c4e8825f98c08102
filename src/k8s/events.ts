/**
 * Events (events.k8s.io/v1) about catalog entities. They are emitted on transitions only, by
 * callers that compare the state before and after a write, so a resync never repeats one.
 * Events are sent in the background; failing to send one never fails a reconcile: it is
 * logged and dropped.
 */
import type { Logger } from 'pino';
import type { Clock } from '../runtime/clock.ts';
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
  /** Events waiting to be sent; past this many, new ones are dropped (and logged). Default 1000. */
  queueLimit?: number;
  /** Events sent at once. Default 4. */
  concurrency?: number;
}

type EventBody = Record<string, unknown> & { metadata: { namespace: string; generateName: string } };

/**
 * Records Events in the background, as client-go's broadcaster does: `record` returns at once,
 * so a reconcile never waits on an Event (nor holds a worker while one is sent), and a burst
 * larger than the queue drops Events rather than memory or time.
 */
export class EventRecorder {
  private readonly options: EventRecorderOptions;
  private readonly limit: number;
  private readonly concurrency: number;
  private readonly queue: EventBody[] = [];
  private sending = 0;
  private droppedSinceLog = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(options: EventRecorderOptions) {
    this.options = options;
    this.limit = options.queueLimit ?? 1000;
    this.concurrency = options.concurrency ?? 4;
  }

  /** Events queued or being sent. */
  get pending(): number {
    return this.queue.length + this.sending;
  }

  /** Queues the event; its time is now, whenever it is sent. */
  record(event: EventSpec): void {
    if (this.queue.length >= this.limit) {
      if (this.droppedSinceLog++ === 0) this.options.logger.warn({ queueLimit: this.limit, reason: event.reason }, 'event queue full, dropping events');
      return;
    }
    if (this.droppedSinceLog > 0) {
      this.options.logger.warn({ dropped: this.droppedSinceLog }, 'event queue has room again');
      this.droppedSinceLog = 0;
    }
    this.queue.push(this.body(event));
    this.pump();
  }

  /** Resolves once every queued event has been sent or given up on. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.sending < this.concurrency && this.queue.length > 0) {
      const body = this.queue.shift()!;
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
