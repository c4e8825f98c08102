/**
 * A small JSON client for the Kubernetes REST API, on node:http(s) with the TLS and
 * credentials of a KubeConfig (client certificates, bearer tokens, token files that rotate).
 *
 * The runtime owns its list and watch requests instead of using the generated clients'
 * watch helpers: it needs the paging fields, an exact deadline on every request, a stream
 * of events it can abort, and the server's Status on every error.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, type Status } from './errors.ts';
import type { KubeObject } from './object.ts';

export type QueryValue = string | number | boolean | undefined;

export interface RestRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON (which is also valid YAML, so server-side apply accepts it). */
  body?: unknown;
  /** Defaults to application/json; patches name their type here. */
  contentType?: string;
  /** Defaults to application/json; e.g. metadata only: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1. */
  accept?: string;
  /** Whole-request deadline; 30 s by default. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export interface WatchRequest<T extends KubeObject> {
  path: string;
  query?: Record<string, QueryValue>;
  /** Client-side deadline for the whole stream; set it past the server-side timeoutSeconds. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called once the server has answered 200 and the stream is open. */
  onOpen?: () => void;
  onEvent: (event: WatchEvent<T>) => void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const WATCH_EVENT_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export class RestClient {
  private readonly kubeConfig: KubeConfig;
  private readonly server: URL;
  private agent: { tls: Record<string, unknown>; agent: HttpsAgent } | undefined;

  constructor(kubeConfig: KubeConfig) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster: set current-context to a context that names a cluster');
    this.kubeConfig = kubeConfig;
    this.server = new URL(cluster.server);
  }

  /** The server URL requests go to. */
  get serverUrl(): string {
    return this.server.toString();
  }

  /** Sends one request; resolves with the parsed JSON body, rejects with KubeApiError on >= 400. */
  async request<T>(req: RestRequest): Promise<T> {
    const method = req.method ?? 'GET';
    const signal = withTimeout(req.timeoutMs ?? DEFAULT_TIMEOUT_MS, req.signal);
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { Accept: req.accept ?? 'application/json' };
    if (payload) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const res = await this.send({ method, path: req.path, query: req.query, headers, payload, signal });
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw errorFromResponse(status, text, method, req.path);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * Opens a watch and delivers its events until the stream ends. Resolves when the server
   * closes the stream cleanly (its timeoutSeconds elapsed); rejects on a non-200 answer
   * (KubeApiError), a broken connection, a malformed line, or when `onEvent` throws.
   * An ERROR event is delivered like any other: the caller decides what it means.
   */
  async watch<T extends KubeObject>(req: WatchRequest<T>): Promise<void> {
    const controller = new AbortController();
    const signal = AbortSignal.any([controller.signal, withTimeout(req.timeoutMs, req.signal)]);
    const query = { ...req.query, watch: 'true' };
    const res = await this.send({ method: 'GET', path: req.path, query, headers: { Accept: 'application/json' }, signal });
    const status = res.statusCode ?? 0;
    if (status !== 200) throw errorFromResponse(status, await readBody(res), 'GET', req.path);
    req.onOpen?.();
    res.setEncoding('utf8');
    let buffered = '';
    try {
      for await (const chunk of res as AsyncIterable<string>) {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) req.onEvent(parseEvent<T>(line));
          newline = buffered.indexOf('\n');
        }
      }
      const rest = buffered.trim();
      if (rest) req.onEvent(parseEvent<T>(rest));
    } finally {
      controller.abort();
      res.destroy();
    }
  }

  /**
   * A keep-alive agent with the kubeconfig's TLS material, so that requests reuse connections
   * instead of paying a TLS handshake each (the kubeconfig's own agent does not keep them
   * alive). A new agent is made when the material changes (rotated certificate files).
   * Proxied clusters keep the kubeconfig's proxy agent.
   */
  private keepAliveAgent(options: HttpsRequestOptions): HttpsAgent | undefined {
    if (this.server.protocol !== 'https:' || this.kubeConfig.getCurrentCluster()?.proxyUrl) return undefined;
    const tls = {
      ca: options.ca,
      cert: options.cert,
      key: options.key,
      pfx: options.pfx,
      passphrase: options.passphrase,
      servername: options.servername,
      ...(options.rejectUnauthorized !== undefined ? { rejectUnauthorized: options.rejectUnauthorized } : {}),
    };
    // Compared field by field (buffers byte for byte): cheaper than hashing them on every request.
    if (!this.agent || !sameMaterial(this.agent.tls, tls)) this.agent = { tls, agent: new HttpsAgent({ ...tls, keepAlive: true }) };
    return this.agent.agent;
  }

  private async send(init: {
    method: string;
    path: string;
    query: Record<string, QueryValue> | undefined;
    headers: Record<string, string>;
    payload?: Buffer;
    signal: AbortSignal;
  }): Promise<IncomingMessage> {
    const url = new URL(this.server.toString());
    url.pathname = `${url.pathname.replace(/\/$/, '')}${init.path}`;
    for (const [name, value] of Object.entries(init.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const options: HttpsRequestOptions = { method: init.method, headers: { ...init.headers }, signal: init.signal };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const agent = this.keepAliveAgent(options);
    if (agent) options.agent = agent;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, options, resolve);
      req.on('error', reject);
      req.end(init.payload);
    });
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

/** Whether two sets of TLS options carry the same material. */
function sameMaterial(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (!sameValue(a[key], b[key])) return false;
  return true;
}

function withTimeout(timeoutMs: number, signal: AbortSignal | undefined): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

async function readBody(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let text = '';
  for await (const chunk of res as AsyncIterable<string>) text += chunk;
  return text;
}

function errorFromResponse(status: number, text: string, method: string, path: string): KubeApiError {
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

function parseEvent<T extends KubeObject>(line: string): WatchEvent<T> {
  const event = JSON.parse(line) as { type?: unknown; object?: unknown };
  if (typeof event.type !== 'string' || !WATCH_EVENT_TYPES.has(event.type) || !event.object || typeof event.object !== 'object') {
    throw new Error(`malformed watch event: ${line.slice(0, 200)}`);
  }
  return event as WatchEvent<T>;
}
