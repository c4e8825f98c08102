/**
 * Who is calling, and may they: the API server decides, as for controller-runtime's secure
 * metrics (filters.WithAuthenticationAndAuthorization) and kube-rbac-proxy. A bearer token is
 * sent in a TokenReview (authentication.k8s.io/v1); the identity it names, with what the
 * caller asks for, in a SubjectAccessReview (authorization.k8s.io/v1).
 *
 * Answers are kept for a while, with the TTLs of the API server's delegating authenticator and
 * authorizer as kube-rbac-proxy sets them (token 2 min, allowed 5 min, denied 30 s), so a
 * Prometheus scraping every 15 s costs the API server one TokenReview every 2 minutes and one
 * SubjectAccessReview every 5. A review in flight is shared by every request that asks the
 * same while it runs. Entries are bounded and keyed by a SHA-256 of the token, never by the
 * token itself; the token is never logged. A review that fails (the API server unreachable,
 * a refusal) is not kept: the next request asks again.
 */
import { createHash } from 'node:crypto';
import type { RestClient } from '../k8s/rest.ts';
import type { Clock } from '../util/clock.ts';

/** The identity the API server gave a token, as TokenReview and SubjectAccessReview spell it. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** What a caller asks to do: a non-resource URL, or a resource cluster-wide. */
export type Access = { kind: 'nonResource'; path: string; verb: string } | { kind: 'resource'; group: string; resource: string; verb: string };

export type ReviewKind = 'token' | 'access';
export type ReviewResult = 'authenticated' | 'unauthenticated' | 'allowed' | 'denied' | 'error';

/** Counts each review a request needed, answered by the API server (cached false) or from the cache. */
export interface ReviewMetrics {
  review(review: ReviewKind, result: ReviewResult, cached: boolean): void;
}

export interface ReviewTtls {
  authenticatedMs: number;
  unauthenticatedMs: number;
  allowedMs: number;
  deniedMs: number;
}

export const DEFAULT_REVIEW_TTLS: Readonly<ReviewTtls> = Object.freeze({
  authenticatedMs: 120_000,
  unauthenticatedMs: 120_000,
  allowedMs: 300_000,
  deniedMs: 30_000,
});
/** Entries of each cache, at most: distinct tokens, distinct (identity, access) pairs. */
export const DEFAULT_MAX_REVIEW_ENTRIES = 1024;
const REVIEW_TIMEOUT_MS = 10_000;

export interface ReviewerOptions {
  /** Sends the reviews: the operator's identity must be allowed to create both kinds. */
  client: Pick<RestClient, 'request'>;
  clock: Clock;
  metrics?: ReviewMetrics;
  ttls?: Partial<ReviewTtls>;
  maxEntries?: number;
}

interface Entry<V> {
  /** Infinity while the review is in flight. */
  expiresAt: number;
  value: Promise<V>;
}

/** A bounded map of answers with an expiry each; past the bound, the oldest entry goes. */
class ReviewCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxEntries: number;

  constructor(maxEntries: number) {
    this.maxEntries = maxEntries;
  }

  get(key: string, now: number): Entry<V> | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  add(key: string, entry: Entry<V>, now: number): void {
    if (this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries) if (e.expiresAt <= now) this.entries.delete(k);
      // Map keeps insertion order: the first key is the oldest entry.
      while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(key, entry);
  }

  delete(key: string, entry: Entry<V>): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

export class Reviewer {
  private readonly client: Pick<RestClient, 'request'>;
  private readonly clock: Clock;
  private readonly metrics: ReviewMetrics | undefined;
  private readonly ttls: ReviewTtls;
  private readonly tokens: ReviewCache<UserInfo | undefined>;
  private readonly decisions: ReviewCache<boolean>;

  constructor(options: ReviewerOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.metrics = options.metrics;
    this.ttls = { ...DEFAULT_REVIEW_TTLS, ...options.ttls };
    this.tokens = new ReviewCache(options.maxEntries ?? DEFAULT_MAX_REVIEW_ENTRIES);
    this.decisions = new ReviewCache(options.maxEntries ?? DEFAULT_MAX_REVIEW_ENTRIES);
  }

  /** The identity of a bearer token; undefined when the API server does not authenticate it. Rejects when it cannot review it. */
  authenticate(token: string): Promise<UserInfo | undefined> {
    return this.cached({
      cache: this.tokens,
      key: sha256(token),
      review: 'token',
      ask: () => this.tokenReview(token),
      result: (user) => (user ? 'authenticated' : 'unauthenticated'),
      ttl: (user) => (user ? this.ttls.authenticatedMs : this.ttls.unauthenticatedMs),
    });
  }

  /** Whether `user` may do `access`. Rejects when the API server cannot review it. */
  authorize(user: UserInfo, access: Access): Promise<boolean> {
    const groups = [...(user.groups ?? [])].sort();
    const extra = Object.entries(user.extra ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return this.cached({
      cache: this.decisions,
      key: sha256(JSON.stringify([user.username, user.uid ?? '', groups, extra, access])),
      review: 'access',
      ask: () => this.accessReview(user, access),
      result: (allowed) => (allowed ? 'allowed' : 'denied'),
      ttl: (allowed) => (allowed ? this.ttls.allowedMs : this.ttls.deniedMs),
    });
  }

  /** Entries kept now (tokens, decisions); for tests. */
  get cacheSizes(): { tokens: number; decisions: number } {
    return { tokens: this.tokens.size, decisions: this.decisions.size };
  }

  private async cached<V>(options: {
    cache: ReviewCache<V>;
    key: string;
    review: ReviewKind;
    ask: () => Promise<V>;
    result: (value: V) => ReviewResult;
    ttl: (value: V) => number;
  }): Promise<V> {
    const { cache, key, review } = options;
    const found = cache.get(key, this.clock.now());
    if (found) {
      const value = await found.value;
      this.metrics?.review(review, options.result(value), true);
      return value;
    }
    const entry: Entry<V> = { expiresAt: Infinity, value: options.ask() };
    cache.add(key, entry, this.clock.now());
    try {
      const value = await entry.value;
      entry.expiresAt = this.clock.now() + options.ttl(value);
      this.metrics?.review(review, options.result(value), false);
      return value;
    } catch (err) {
      cache.delete(key, entry);
      this.metrics?.review(review, 'error', false);
      throw err;
    }
  }

  private async tokenReview(token: string): Promise<UserInfo | undefined> {
    const answer = await this.client.request<{ status?: { authenticated?: boolean; user?: UserInfo } }>({
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      timeoutMs: REVIEW_TIMEOUT_MS,
    });
    const user = answer.status?.user;
    return answer.status?.authenticated === true && typeof user?.username === 'string' && user.username !== '' ? user : undefined;
  }

  private async accessReview(user: UserInfo, access: Access): Promise<boolean> {
    const attributes =
      access.kind === 'nonResource'
        ? { nonResourceAttributes: { path: access.path, verb: access.verb } }
        : { resourceAttributes: { group: access.group, resource: access.resource, verb: access.verb } };
    const answer = await this.client.request<{ status?: { allowed?: boolean } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          ...(user.uid ? { uid: user.uid } : {}),
          groups: user.groups ?? [],
          ...(user.extra ? { extra: user.extra } : {}),
          ...attributes,
        },
      },
      timeoutMs: REVIEW_TIMEOUT_MS,
    });
    return answer.status?.allowed === true;
  }
}

/**
 * How the API server words a refusal: `get path "/metrics"`, `list resource "components" in API
 * group "catalog.backlot.dev" at the cluster scope`; resources refused with the same verb and
 * group are named together.
 */
export function describeAccess(refused: readonly Access[]): string {
  const parts: string[] = [];
  const resources = new Map<string, { verb: string; group: string; names: string[] }>();
  for (const access of refused) {
    if (access.kind === 'nonResource') {
      parts.push(`${access.verb} path "${access.path}"`);
      continue;
    }
    const key = `${access.verb} ${access.group}`;
    const entry = resources.get(key) ?? { verb: access.verb, group: access.group, names: [] };
    entry.names.push(`"${access.resource}"`);
    resources.set(key, entry);
  }
  for (const { verb, group, names } of resources.values()) parts.push(`${verb} resource ${names.join(', ')} in API group "${group}" at the cluster scope`);
  return parts.join(', nor ');
}
