/**
 * A small JSON client for the Kubernetes REST API, on node:http(s) with the TLS and
 * credentials of a KubeConfig (client certificates, bearer tokens, token files that rotate).
 *
 * The runtime owns its list and watch requests instead of using the generated clients'
 * watch helpers: it needs the paging fields, an exact deadline on every request, a stream
 * of events it can abort, and the server's Status on every error.
 *
 * Every request is a few hundred microseconds of this process's CPU, and at scale thousands
 * are in flight (a first install writes once per workload), so the path is kept short: the
 * kubeconfig's credentials are applied once a while, not once a request; the request goes
 * by host and path, not through a URL object; its deadline is one timer, not an AbortSignal
 * joined to the caller's.
 *
 * Politeness, as client-go's: an optional token bucket shared by every request (a watch
 * spends one token when it opens, none while it streams; a retry spends another), and an
 * answer 429 or 503 with `Retry-After` is sent again after that many seconds, at most
 * MAX_RETRY_AFTER_RETRIES times and MAX_RETRY_AFTER_WAIT_MS in all, within the request's
 * deadline; past that the answer surfaces as a KubeApiError for the caller's own backoff.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions as HttpsRequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from '../util/clock.ts';
import type { KubeObject } from './object.ts';
import { Deadline, errorFromResponse, parseEvent, queryString, readBody, retryAfterMs, sameMaterial, type QueryValue, type WatchEvent } from './wire.ts';

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
  /** Applied to a successful answer's text before it is parsed (e.g. managedFieldsCut). */
  beforeParse?: (text: string) => string;
}

export interface WatchRequest<T extends KubeObject> {
  path: string;
  query?: Record<string, QueryValue>;
  /** Client-side deadline for the whole stream; set it past the server-side timeoutSeconds. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Called once the server has answered 200 and the stream is open. */
  onOpen?: () => void;
  /** Applied to each event's line before it is parsed. */
  beforeParse?: (text: string) => string;
  onEvent: (event: WatchEvent<T>) => void;
}

/**
 * A token bucket shared by every request: `when` reserves the next token and says how long to
 * wait for it (0: at once), as golang.org/x/time/rate does. runtime's BucketRateLimiter is one.
 */
export interface RequestRateLimiter {
  when(key: string): number;
}

/** What the client tells its metrics; each is called only when it happens. */
export interface RestClientMetrics {
  /** A request waited this long for a token of the client-side rate limit. */
  rateLimitWait(seconds: number): void;
  /** A request is sent again after an answer with `status` (429 or 503) and Retry-After. */
  retryAfter(status: number): void;
}

export interface RestClientOptions {
  /** The client-side rate limit; none by default (as a CLI command's one-off requests need none). */
  rateLimiter?: RequestRateLimiter;
  /** Timers of the rate limit's and Retry-After's waits; the wall clock by default. */
  clock?: Clock;
  metrics?: RestClientMetrics;
  /** Spreads the Retry-After waits (see RETRY_AFTER_SPREAD); Math.random by default. */
  random?: () => number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** client-go's bound on the retries of one request after answers with Retry-After. */
export const MAX_RETRY_AFTER_RETRIES = 10;
/** Nor does one request wait for Retry-After longer than this in all. */
export const MAX_RETRY_AFTER_WAIT_MS = 60_000;
/**
 * Each Retry-After wait is drawn from [after, after · (1 + spread)]: never sooner than the
 * server asked, and the many requests one overload turned away at the same moment (the API
 * server says 1 s to all of them) do not come back at the same instant and collide again.
 */
const RETRY_AFTER_SPREAD = 0.25;
/**
 * How long the kubeconfig's credentials and TLS material are reused before they are applied
 * again. Applying them reads the certificate files and makes an agent each time; token files
 * are re-read at most once a minute by the kubeconfig's own authenticator all the same. A 401
 * applies them again at once, so a rotated credential is picked up by the next request.
 */
const CREDENTIALS_TTL_MS = 10_000;

export class RestClient {
  private readonly kubeConfig: KubeConfig;
  private readonly server: URL;
  private agent: { tls: Record<string, unknown>; agent: HttpsAgent } | undefined;
  private credentials: { at: number; options: Promise<HttpsRequestOptions> } | undefined;
  /** Where every request goes, taken from the server URL once. */
  private readonly target: { send: typeof httpsRequest; hostname: string; port?: number; basePath: string };
  private readonly rateLimiter: RequestRateLimiter | undefined;
  private readonly clock: Clock;
  private readonly metrics: RestClientMetrics | undefined;
  private readonly random: () => number;

  constructor(kubeConfig: KubeConfig, options: RestClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster: set current-context to a context that names a cluster');
    this.kubeConfig = kubeConfig;
    this.server = new URL(cluster.server);
    this.target = {
      send: this.server.protocol === 'https:' ? httpsRequest : httpRequest,
      // URL keeps an IPv6 address in brackets; a request's host is the bare address.
      hostname: this.server.hostname.replace(/^\[(.*)\]$/, '$1'),
      ...(this.server.port ? { port: Number(this.server.port) } : {}),
      basePath: this.server.pathname.replace(/\/$/, ''),
    };
    this.rateLimiter = options.rateLimiter;
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics;
    this.random = options.random ?? Math.random;
  }

  /** The server URL requests go to. */
  get serverUrl(): string {
    return this.server.toString();
  }

  /** Sends one request; resolves with the parsed JSON body, rejects with KubeApiError on >= 400. */
  async request<T>(req: RestRequest): Promise<T> {
    const method = req.method ?? 'GET';
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { Accept: req.accept ?? 'application/json' };
    if (payload) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const deadline = new Deadline(req.timeoutMs ?? DEFAULT_TIMEOUT_MS, req.signal);
    try {
      const res = await this.exchange({ method, path: req.path, query: req.query, headers, payload, deadline });
      const text = await readBody(res);
      const status = res.statusCode ?? 0;
      if (status >= 400) throw errorFromResponse(status, text, method, req.path);
      if (!text) return undefined as T;
      return JSON.parse(req.beforeParse ? req.beforeParse(text) : text) as T;
    } finally {
      deadline.disarm();
    }
  }

  /**
   * Opens a watch and delivers its events until the stream ends. Resolves when the server
   * closes the stream cleanly (its timeoutSeconds elapsed); rejects on a non-200 answer
   * (KubeApiError), a broken connection, a malformed line, or when `onEvent` throws.
   * An ERROR event is delivered like any other: the caller decides what it means.
   */
  async watch<T extends KubeObject>(req: WatchRequest<T>): Promise<void> {
    const deadline = new Deadline(req.timeoutMs, req.signal);
    const query = { ...req.query, watch: 'true' };
    let res: IncomingMessage | undefined;
    try {
      res = await this.exchange({ method: 'GET', path: req.path, query, headers: { Accept: 'application/json' }, deadline });
      const status = res.statusCode ?? 0;
      if (status !== 200) throw errorFromResponse(status, await readBody(res), 'GET', req.path);
      req.onOpen?.();
      res.setEncoding('utf8');
      let buffered = '';
      for await (const chunk of res as AsyncIterable<string>) {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          const line = buffered.slice(0, newline).trim();
          buffered = buffered.slice(newline + 1);
          if (line) req.onEvent(parseEvent<T>(line, req.beforeParse));
          newline = buffered.indexOf('\n');
        }
      }
      const rest = buffered.trim();
      if (rest) req.onEvent(parseEvent<T>(rest, req.beforeParse));
    } finally {
      deadline.disarm();
      res?.destroy();
    }
  }

  /**
   * The kubeconfig's credentials, TLS material and agent, applied at most once per
   * CREDENTIALS_TTL_MS (see there); requests in flight meanwhile share one application.
   */
  private connectionOptions(): Promise<HttpsRequestOptions> {
    const now = performance.now();
    if (this.credentials && now - this.credentials.at < CREDENTIALS_TTL_MS) return this.credentials.options;
    const options = this.applyCredentials();
    const credentials = { at: now, options };
    this.credentials = credentials;
    // A failed application is not kept: the next request tries again.
    options.catch(() => {
      if (this.credentials === credentials) this.credentials = undefined;
    });
    return options;
  }

  private async applyCredentials(): Promise<HttpsRequestOptions> {
    const options: HttpsRequestOptions = { headers: {} };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const agent = this.keepAliveAgent(options);
    if (agent) options.agent = agent;
    return options;
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
    if (!this.agent || !sameMaterial(this.agent.tls, tls)) this.agent = { tls, agent: new HttpsAgent({ ...tls, keepAlive: true }) };
    return this.agent.agent;
  }

  /**
   * Sends a request once it has a token of the rate limit, and again after each answer with
   * Retry-After that the bounds allow (see the file's comment); resolves with the last answer.
   */
  private async exchange(init: Exchange): Promise<IncomingMessage> {
    let waitedMs = 0;
    for (let retries = 0; ; retries++) {
      // No promise to await unless the bucket is empty: this runs for every request.
      const throttledMs = this.rateLimiter?.when('') ?? 0;
      if (throttledMs > 0) {
        this.metrics?.rateLimitWait(throttledMs / 1000);
        await init.deadline.wait(this.clock, throttledMs);
      }
      const res = await this.send(init);
      const afterMs = retryAfterMs(res);
      if (afterMs === undefined || retries >= MAX_RETRY_AFTER_RETRIES) return res;
      const delayMs = afterMs * (1 + RETRY_AFTER_SPREAD * this.random());
      if (waitedMs + delayMs > MAX_RETRY_AFTER_WAIT_MS || delayMs >= init.deadline.remainingMs()) return res;
      // The answer is read to its end so that its connection goes back to the pool.
      await readBody(res);
      this.metrics?.retryAfter(res.statusCode!);
      waitedMs += delayMs;
      await init.deadline.wait(this.clock, delayMs);
    }
  }

  private async send(init: Exchange): Promise<IncomingMessage> {
    init.deadline.check();
    const base = await this.connectionOptions();
    init.deadline.check();
    const { send, hostname, port, basePath } = this.target;
    const options: HttpsRequestOptions = {
      ...base,
      method: init.method,
      hostname,
      ...(port !== undefined ? { port } : {}),
      path: `${basePath}${init.path}${queryString(init.query)}`,
      headers: { ...base.headers, ...init.headers },
    };
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(options, resolve);
      req.on('error', reject);
      init.deadline.arm(req);
      req.end(init.payload);
    });
    // Credentials the server refused may have been rotated since they were applied.
    if (res.statusCode === 401) this.credentials = undefined;
    return res;
  }
}

interface Exchange {
  method: string;
  path: string;
  query: Record<string, QueryValue> | undefined;
  headers: Record<string, string>;
  payload?: Buffer;
  deadline: Deadline;
}
