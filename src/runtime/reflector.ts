/**
 * The list-then-watch loop for one scope of one resource (all namespaces, or one).
 *
 * list (paged with limit/continue)  →  watch from the list's resourceVersion
 *   (allowWatchBookmarks, server-side timeoutSeconds drawn from a range so that many
 *   watches do not all end together)  →  when the server ends the watch, watch again from
 *   the last resourceVersion seen.
 *
 * Failure handling, so that the loop never ends before it is stopped:
 * - 410 Gone, whether as the answer or as an ERROR event inside the stream: relist at once;
 * - 401/403/404 on the watch: back to the list (permissions or the resource changed);
 * - anything else (reset connection, refused, 5xx, 429, a malformed stream): wait with
 *   jittered exponential backoff and try again; a 429's Retry-After is honoured.
 * A list that succeeds, or a watch that delivered events, resets the backoff. A watch that
 * ends cleanly within a second without a single event counts as a failure, so a server that
 * keeps closing at once cannot turn the loop into a busy loop.
 */
import type { Logger } from 'pino';
import { KubeApiError, narrowError } from '../k8s/errors.ts';
import type { KubeObject, ObjectList } from '../k8s/object.ts';
import { collectionPath, type ResourceRef } from '../k8s/resource.ts';
import type { RestClient } from '../k8s/rest.ts';
import type { WatchEvent } from '../k8s/wire.ts';
import { Backoff, type BackoffPolicy } from './backoff.ts';
import { sleep, type Clock } from '../util/clock.ts';

/** An ERROR event inside an open watch stream (as opposed to an error answer to the request). */
class WatchErrorEvent extends KubeApiError {
  constructor(error: KubeApiError) {
    super({ status: error.status, reason: error.reason, message: error.body?.message ?? error.message, body: error.body, method: 'WATCH', path: '(stream)' });
    this.name = 'WatchErrorEvent';
  }
}

/** What the loop feeds: the informer that owns the cache. */
export interface ReflectorSink {
  /**
   * What the cache keeps of an object; applied to each page of a list as it arrives, so that
   * a large list never holds every object whole at once.
   */
  keep(obj: KubeObject): KubeObject;
  /** A complete list of the scope (already through `keep`), to replace what the cache holds for it. */
  replace(objects: KubeObject[], namespace: string | undefined): void;
  /** One watch event (ADDED, MODIFIED or DELETED). */
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void;
}

export interface ReflectorStats {
  lists: number;
  relists: number;
  watches: number;
  watchRestarts: number;
  gone: number;
  failures: number;
}

export interface ReflectorOptions {
  resource: ResourceRef;
  /** One namespace, or undefined for all namespaces (and for cluster-scoped resources). */
  namespace: string | undefined;
  labelSelector?: string;
  fieldSelector?: string;
  /** The API server: a RestClient, or anything that lists and watches as one does. */
  client: Pick<RestClient, 'request' | 'watch'>;
  sink: ReflectorSink;
  clock: Clock;
  random: () => number;
  logger: Logger;
  backoff: BackoffPolicy;
  pageSize: number;
  /** The server-side watch timeout is drawn uniformly from this range, in seconds. */
  watchTimeoutSeconds: { min: number; max: number };
  listTimeoutMs: number;
  /** Called once a watch is about to be started again (the restart counter). */
  onWatchRestart: () => void;
  /** Applied to every list page's and watch event's text before it is parsed. */
  beforeParse?: (text: string) => string;
}

/** A watch that ended cleanly faster than this without an event counts as a failure. */
const SHORT_WATCH_MS = 1_000;
/** How long past its server-side timeout a watch may run before the client gives up on it. */
const WATCH_CLIENT_MARGIN_MS = 30_000;

export class Reflector {
  private readonly options: ReflectorOptions;
  private readonly backoff: Backoff;
  private readonly log: Logger;
  readonly stats: ReflectorStats = { lists: 0, relists: 0, watches: 0, watchRestarts: 0, gone: 0, failures: 0 };

  constructor(options: ReflectorOptions) {
    this.options = options;
    this.backoff = new Backoff({ policy: options.backoff, random: options.random });
    this.log = options.logger.child({ namespace: options.namespace ?? '' });
  }

  /** Runs until `signal` aborts; never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      if (resourceVersion === undefined) {
        try {
          resourceVersion = await this.list(signal);
          this.backoff.reset();
        } catch (err) {
          if (signal.aborted) return;
          await this.wait(err, 'list failed', signal);
          continue;
        }
      }
      const outcome = await this.watch(resourceVersion, signal);
      if (signal.aborted) return;
      this.stats.watchRestarts += 1;
      this.options.onWatchRestart();
      resourceVersion = outcome.resourceVersion;
      if (outcome.kind === 'relist') {
        this.stats.relists += 1;
        resourceVersion = undefined;
      }
      if (outcome.error !== undefined) await this.wait(outcome.error, 'watch failed', signal);
    }
  }

  private async list(signal: AbortSignal): Promise<string> {
    const { client, resource, namespace, pageSize, listTimeoutMs } = this.options;
    const path = collectionPath(resource, resource.namespaced ? namespace : undefined);
    const objects: KubeObject[] = [];
    let token: string | undefined;
    let resourceVersion: string;
    do {
      const page = await client.request<ObjectList>({
        path,
        query: { limit: pageSize, continue: token, labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector },
        timeoutMs: listTimeoutMs,
        signal,
        ...(this.options.beforeParse ? { beforeParse: this.options.beforeParse } : {}),
      });
      for (const item of page.items ?? []) objects.push(this.options.sink.keep(item));
      token = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? '';
    } while (token);
    this.stats.lists += 1;
    this.options.sink.replace(objects, namespace);
    this.log.debug({ objects: objects.length, resourceVersion }, 'list applied');
    return resourceVersion;
  }

  private async watch(resourceVersion: string, signal: AbortSignal): Promise<{ kind: 'resume' | 'relist'; resourceVersion: string; error?: unknown }> {
    const { client, resource, namespace, watchTimeoutSeconds: range, random, clock } = this.options;
    const timeoutSeconds = Math.round(range.min + random() * (range.max - range.min));
    const started = clock.now();
    let lastVersion = resourceVersion;
    let events = 0;
    this.stats.watches += 1;
    try {
      await client.watch({
        path: collectionPath(resource, resource.namespaced ? namespace : undefined),
        query: {
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.options.labelSelector,
          fieldSelector: this.options.fieldSelector,
        },
        timeoutMs: timeoutSeconds * 1000 + WATCH_CLIENT_MARGIN_MS,
        signal,
        ...(this.options.beforeParse ? { beforeParse: this.options.beforeParse } : {}),
        onEvent: (event: WatchEvent) => {
          events += 1;
          lastVersion = this.apply(event) ?? lastVersion;
        },
      });
    } catch (err) {
      if (signal.aborted) return { kind: 'resume', resourceVersion: lastVersion };
      const { status } = narrowError(err);
      if (status === 410) {
        this.stats.gone += 1;
        this.log.info({ resourceVersion: lastVersion, inStream: err instanceof WatchErrorEvent }, 'watch expired, relisting');
        return { kind: 'relist', resourceVersion: lastVersion };
      }
      // The stream worked before it broke: that was a success, so the retry starts from the shortest delay.
      if (events > 0) this.backoff.reset();
      const relist = status === 401 || status === 403 || status === 404;
      return { kind: relist ? 'relist' : 'resume', resourceVersion: lastVersion, error: err };
    }
    if (events === 0 && clock.now() - started < SHORT_WATCH_MS) {
      return { kind: 'resume', resourceVersion: lastVersion, error: new Error('watch closed at once without events') };
    }
    this.backoff.reset();
    return { kind: 'resume', resourceVersion: lastVersion };
  }

  /** Applies one event; returns the resourceVersion it carries. Throws on an ERROR event. */
  private apply(event: WatchEvent): string | undefined {
    if (event.type === 'ERROR')
      throw new WatchErrorEvent(KubeApiError.fromStatus(event.object, 500, { method: 'WATCH', path: collectionPath(this.options.resource) }));
    const version = event.object.metadata?.resourceVersion;
    if (event.type !== 'BOOKMARK') this.options.sink.event(event.type, event.object);
    return version;
  }

  private async wait(err: unknown, message: string, signal: AbortSignal): Promise<void> {
    this.stats.failures += 1;
    const narrowed = narrowError(err);
    let delayMs = this.backoff.next();
    const retryAfter = err instanceof KubeApiError ? err.body?.details?.retryAfterSeconds : undefined;
    if (narrowed.status === 429 && retryAfter) delayMs = Math.max(delayMs, retryAfter * 1000);
    this.log.warn(
      { status: narrowed.status, reason: narrowed.reason, error: narrowed.message, attempt: this.backoff.consecutiveFailures, delayMs: Math.round(delayMs) },
      message,
    );
    await sleep(this.options.clock, delayMs, signal);
  }
}
