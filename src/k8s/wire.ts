/**
 * What the REST client (rest.ts) sends and reads on the wire: query strings, response bodies,
 * errors from the API server's Status, watch event lines, Retry-After, and the deadline of
 * one exchange.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { Clock } from '../util/clock.ts';
import { KubeApiError, type Status } from './errors.ts';
import type { KubeObject } from './object.ts';

export type QueryValue = string | number | boolean | undefined;

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

const WATCH_EVENT_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/**
 * How long an answer asks to wait before the request is sent again: for 429 (Too Many
 * Requests: the API server's max-in-flight limit and priority and fairness, which processed
 * nothing) and 503 (Service Unavailable) with `Retry-After: <seconds>`, the only form the API
 * server sends; undefined for any other answer, as client-go reads it. Other 5xx answers may
 * come after the request had its effect, so they are left to the caller.
 */
export function retryAfterMs(res: Pick<IncomingMessage, 'statusCode' | 'headers'>): number | undefined {
  // The status first: Node.js builds `headers` from the raw ones when it is first read.
  if (res.statusCode !== 429 && res.statusCode !== 503) return undefined;
  const value = res.headers['retry-after']?.trim();
  if (!value || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value) * 1000;
}

export function queryString(query: Record<string, QueryValue> | undefined): string {
  let out = '';
  for (const name in query) {
    const value = query[name];
    if (value === undefined) continue;
    out += `${out ? '&' : '?'}${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`;
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

/** Whether two sets of TLS options carry the same material. */
export function sameMaterial(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (!sameValue(a[key], b[key])) return false;
  return true;
}

/**
 * One request's whole deadline and its caller's signal. When either fires, the request and
 * its response are destroyed with an AbortError whose cause is the reason: a TimeoutError
 * for the deadline (retryable, see narrowError), the caller's reason otherwise, as Node.js
 * does for a signal given to http.request. One timer and one listener, removed by disarm().
 */
export class Deadline {
  private readonly timer: NodeJS.Timeout;
  private readonly endsAt: number;
  /** Rejects the wait() in progress, if any. */
  private interruptWait: ((err: Error) => void) | undefined;
  private readonly signal: AbortSignal | undefined;
  private reason: unknown;
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;
  private readonly onAbort = () => this.fire(this.signal!.reason);

  constructor(timeoutMs: number, signal: AbortSignal | undefined) {
    this.signal = signal;
    this.endsAt = performance.now() + timeoutMs;
    this.timer = setTimeout(() => this.fire(new DOMException(`the request did not finish within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    // Like AbortSignal.timeout, the deadline alone keeps no process alive.
    this.timer.unref();
    if (signal?.aborted) this.reason = signal.reason;
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Throws if the deadline has passed or the caller has aborted. */
  check(): void {
    if (this.reason !== undefined) throw abortError(this.reason);
  }

  remainingMs(): number {
    return this.endsAt - performance.now();
  }

  /** Waits `ms` on `clock`; rejects as check() does if the deadline passes or the caller aborts first. */
  wait(clock: Clock, ms: number): Promise<void> {
    this.check();
    return new Promise((resolve, reject) => {
      const timer = clock.setTimer(ms, () => {
        this.interruptWait = undefined;
        resolve();
      });
      this.interruptWait = (err) => {
        timer.cancel();
        reject(err);
      };
    });
  }

  arm(req: ClientRequest): void {
    this.req = req;
    req.once('response', (res: IncomingMessage) => (this.res = res));
    if (this.reason !== undefined) req.destroy(abortError(this.reason));
  }

  disarm(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }

  private fire(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    this.disarm();
    const err = abortError(this.reason);
    this.interruptWait?.(err);
    this.interruptWait = undefined;
    this.req?.destroy(err);
    this.res?.destroy(err);
  }
}

function abortError(cause: unknown): Error {
  return Object.assign(new Error('The operation was aborted', { cause }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/**
 * The whole body as text. Each chunk is decoded as it comes (the decoder keeps a character
 * split between two chunks whole) and the pieces are joined once at the end, rather than
 * handed over through an async iterator one by one: a list page arrives in hundreds of
 * chunks. Rejects when the response errs (a deadline, an abort) or closes before its end.
 *
 * Not joined as bytes first: a Buffer of a whole list page, megabytes, comes from the C
 * heap, and once glibc has seen such a block freed it serves the next ones from its main
 * heap, which does not shrink again. Joining bytes left the process's C heap at 40-52 MiB
 * after a restart over 10,000 workloads; joining text, which lives in V8's heap and goes
 * back with it, at 17-24 MiB.
 *
 * Once settled it lets go of the response: the listeners that hold the chunks and the
 * promise (and with it the text) come off. A keep-alive connection that goes back to the
 * pool keeps its last response reachable for as long as it idles there, and would otherwise
 * keep that response's body with it, twice (its chunks and its text): a megabyte or two per
 * idle connection after the initial list pages. Errors after the end are ignored, as they
 * were when they rejected a settled promise.
 */
export function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let parts: string[] = [];
    const onData = (chunk: Buffer) => parts.push(decoder.write(chunk));
    const settle = () => {
      res.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose).on('error', ignoreError);
      const all = parts;
      parts = [];
      return all;
    };
    const onEnd = () => {
      const all = settle();
      all.push(decoder.end());
      resolve(all.join(''));
    };
    const onError = (err: Error) => {
      settle();
      reject(err);
    };
    const onClose = () => {
      if (res.complete) return;
      settle();
      reject(Object.assign(new Error('the response closed before its end'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    res.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
}

function ignoreError(): void {}

export function errorFromResponse(status: number, text: string, method: string, path: string): KubeApiError {
  let body: Status | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') body = parsed;
  } catch {
    // Not JSON (a proxy's error page, say): keep the text as the message.
  }
  if (body) return KubeApiError.fromStatus(body, status, { method, path });
  return new KubeApiError({ status, message: text.slice(0, 500) || `HTTP ${status}`, method, path });
}

export function parseEvent<T extends KubeObject>(line: string, beforeParse: ((text: string) => string) | undefined): WatchEvent<T> {
  const event = JSON.parse(beforeParse ? beforeParse(line) : line) as { type?: unknown; object?: unknown };
  if (typeof event.type !== 'string' || !WATCH_EVENT_TYPES.has(event.type) || !event.object || typeof event.object !== 'object') {
    throw new Error(`malformed watch event: ${line.slice(0, 200)}`);
  }
  return event as WatchEvent<T>;
}
