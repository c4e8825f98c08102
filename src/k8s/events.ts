/**
 * Events (events.k8s.io/v1) about catalog entities. They are emitted on transitions only, by
 * callers that compare the state before and after a write, so a resync never repeats one.
 * Failing to record an event never fails a reconcile: the event is logged and dropped.
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
}

export class EventRecorder {
  private readonly options: EventRecorderOptions;

  constructor(options: EventRecorderOptions) {
    this.options = options;
  }

  async record(event: EventSpec): Promise<void> {
    const namespace = event.regarding.metadata?.namespace ?? 'default';
    const now = new Date(this.options.clock.now());
    const body = {
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
    try {
      await this.options.client.request({ method: 'POST', path: `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/events`, body });
    } catch (err) {
      this.options.logger.warn({ err: narrowError(err).message, reason: event.reason, namespace, name: event.regarding.metadata?.name }, 'event not recorded');
    }
  }
}
